// Sign-in page: users with domain + extension + PIN, administrators with an API token.
// POST /portal/session sets the HttpOnly session cookie; then on to the portal.
import { api, ApiError } from './api.js';

function show(box, err) {
  const message = err instanceof ApiError ? err.message : String(err.message || err);
  const code = err instanceof ApiError ? ` (${err.code})` : '';
  const alert = document.createElement('div');
  alert.className = 'alert';
  alert.setAttribute('role', 'alert');
  alert.textContent = message + code;
  box.replaceChildren(alert);
}

async function submit(form, body, box) {
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  box.replaceChildren();
  try {
    await api('POST', '/portal/session', body);
    location.assign('/portal/');
  } catch (err) {
    show(box, err);
    button.disabled = false;
  }
}

const userForm = document.getElementById('user-form');
userForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const data = new FormData(userForm);
  const missing = ['domain', 'extension', 'pin'].find((f) => !String(data.get(f) || '').trim());
  const box = document.getElementById('user-error');
  if (missing) {
    show(box, new Error(`Please enter your ${missing === 'pin' ? 'PIN' : missing}.`));
    document.getElementById(missing).focus();
    return;
  }
  submit(userForm, {
    domain: String(data.get('domain')).trim(),
    extension: String(data.get('extension')).trim(),
    pin: String(data.get('pin')),
  }, box);
});

const adminForm = document.getElementById('admin-form');
adminForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const token = String(new FormData(adminForm).get('token') || '').trim();
  const box = document.getElementById('admin-error');
  if (!token) {
    show(box, new Error('Please paste the administrator token.'));
    return;
  }
  submit(adminForm, { token }, box);
});

// Already signed in? Straight to the portal. Otherwise offer the server's domain.
api('GET', '/portal/session').then(() => location.assign('/portal/'), async () => {
  try {
    const config = await api('GET', '/portal/config');
    const domain = document.getElementById('domain');
    if (config.default_domain && !domain.value) domain.value = config.default_domain;
  } catch {
    // No hint; the user types the domain.
  }
  const first = document.getElementById('domain').value ? 'extension' : 'domain';
  document.getElementById(first).focus();
});
