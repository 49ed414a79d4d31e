// "My phones": the user's personal phones and hot desks (since/until), release, the "+"
// with the exact code to dial at a desk (HD-LOGIN-2), check host status (HD-LOGIN-8),
// Activate Phone (HD-LOGIN-9) with its live status, my keys per model (HD-PROV-4, in
// my-keys.js) and recent calls (HD-CDR-1).
import { api, seg } from './api.js';
import { init, el, when, showError, empty, toast, liveEvents } from './shell.js';
import { myKeys } from './my-keys.js';

const ctx = await init('phones');
const { session, d } = ctx;
const me = session.user;

/** States after which an activation stops changing (polling ends). */
const FINAL = new Set(['activated', 'failed', 'refused', 'no_answer', 'busy', 'cancelled', 'timeout', 'error']);

function place(device) {
  const loc = device.location || {};
  return [loc.room, loc.floor ? `floor ${loc.floor}` : null, device.site].filter(Boolean).join(', ');
}

function registered(device) {
  return device.registration
    ? el('span', { class: 'badge ok' }, 'Registered')
    : el('span', { class: 'badge off' }, 'Not registered');
}

async function release(device, button) {
  button.disabled = true;
  try {
    await api('POST', `${d}/devices/${seg(device.extension)}/logout`);
    toast(`Released ${device.extension}.`);
    await loadPhones();
    document.getElementById('phones-heading').focus();
  } catch (err) {
    showError(document.getElementById('page-error'), err, `Could not release ${device.extension}`);
    button.disabled = false;
  }
}

async function loadPhones() {
  const box = document.getElementById('phones');
  if (!me) {
    box.replaceChildren(empty('You are signed in with an administrator token: no phones of your own. Use the desk board.'));
    return;
  }
  let devices;
  try {
    devices = await api('GET', `${d}/devices`);
  } catch (err) {
    showError(box, err, 'Could not load your phones');
    return;
  }
  const mine = devices.filter((dev) =>
    (dev.kind === 'personal' && dev.owner === me) || (dev.session && dev.session.user === me));
  if (mine.length === 0) {
    box.replaceChildren(empty('You are not logged in to any phone. Use "+ Log in at a desk" or Activate Phone.'));
    return;
  }
  const rows = mine.map((dev) => {
    const desk = dev.session && dev.session.user === me;
    const action = desk
      ? el('button', { type: 'button', class: 'secondary', 'data-release': dev.extension },
        `Release ${dev.extension}`)
      : el('span', { class: 'muted' }, 'Your own phone');
    if (desk) action.addEventListener('click', () => release(dev, action));
    return el('tr', {},
      el('td', { 'data-label': 'Phone' }, el('strong', {}, dev.extension), ' ', el('span', { class: 'muted' }, place(dev))),
      el('td', { 'data-label': 'Kind' }, dev.kind === 'personal' ? 'Personal' : 'Hot desk'),
      el('td', { 'data-label': 'Model' }, dev.model),
      el('td', { 'data-label': 'Since' }, desk ? when(dev.session.since) : '—'),
      el('td', { 'data-label': 'Until' }, desk ? (dev.session.expires_at ? when(dev.session.expires_at) : 'until you log out') : '—'),
      el('td', { 'data-label': 'Status' }, registered(dev)),
      el('td', { 'data-label': 'Action' }, action));
  });
  box.replaceChildren(el('div', { class: 'table-wrap' }, el('table', { class: 'stack' },
    el('caption', { class: 'visually-hidden' }, 'Phones you are on'),
    el('thead', {}, el('tr', {}, ['Phone', 'Kind', 'Model', 'Since', 'Until', 'Status', 'Action'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, rows))));
}

async function showPlus() {
  const button = document.getElementById('plus');
  const panel = document.getElementById('plus-panel');
  const open = button.getAttribute('aria-expanded') !== 'true';
  button.setAttribute('aria-expanded', String(open));
  panel.hidden = !open;
  if (!open) return;
  try {
    const domain = await api('GET', d);
    const codes = domain.settings.codes;
    const login = (codes.login || [])[0];
    panel.replaceChildren(el('div', { class: 'notice', id: 'dial-code' },
      el('p', {}, 'At any hot desk phone, dial'),
      el('p', {}, el('span', { class: 'dial' }, codes.toggle), ' followed by ', el('strong', {}, 'your PIN')),
      el('p', { class: 'hint' }, `Example: ${codes.toggle} then your PIN digits, then hang up. `
        + 'Dialling it again at the same desk logs you out.'),
      login ? el('p', { class: 'hint' }, `Or dial ${login} and follow the prompts.`) : null));
  } catch (err) {
    showError(panel, err, 'Could not read the dialling codes');
  }
}

async function hostStatus(e) {
  e.preventDefault();
  const out = document.getElementById('host-status');
  const ext = document.getElementById('host-device').value.trim();
  if (!ext) {
    showError(out, new Error('Enter a desk phone extension.'));
    return;
  }
  try {
    const dev = await api('GET', `${d}/devices/${seg(ext)}`);
    const s = dev.session;
    out.replaceChildren(el('div', { class: s ? 'notice' : 'success' },
      el('p', {}, el('strong', {}, `${dev.extension}`), place(dev) ? ` (${place(dev)})` : '', ': ',
        s ? `${s.user_name || s.user} (${s.user}) is logged in since ${when(s.since)}`
          + (s.expires_at ? `, until ${when(s.expires_at)}` : ', until they log out')
          : 'free — nobody is logged in.'),
      el('p', {}, registered(dev))));
  } catch (err) {
    showError(out, err, `Desk ${ext}`);
  }
}

/** What each activation state means to the person waiting at the page. */
const STATE_TEXT = {
  calling: (dev) => `Calling ${dev}…`,
  ringing: (dev) => `${dev} is ringing: pick it up.`,
  answered: (dev) => `${dev} answered: enter your extension, then your PIN, then confirm, on the phone's keypad.`,
  activated: (dev) => `Activated: you are logged in to ${dev}.`,
  failed: (dev, reason) => `Activation failed (${reason || 'unknown'}): ${FAILURES[reason] || `${dev} was not activated.`}`,
};

/** Why an activation failed, in words (the code is shown too). */
const FAILURES = {
  not_registered: 'the phone is not registered, so the server cannot call it. Check that it is plugged in.',
  no_answer: 'nobody answered the phone.',
  not_completed: 'the call ended before the log-in was confirmed.',
  sip_486: 'the phone is busy.',
};

/** The activation being watched: its id, device and the last state shown. */
let watching = null;

/** Shows one activation state; returns true when it is final. */
function showActivation(record) {
  if (!watching || record.id !== watching.id) return false;
  const state = record.state || 'unknown';
  if (watching.final) return true;
  const out = document.getElementById('activate-status');
  const final = FINAL.has(state);
  const text = (STATE_TEXT[state] || ((dev) => `${dev}: ${state}`))(watching.device, record.reason);
  out.dataset.state = state;
  out.replaceChildren(el('p', {
    class: final ? (state === 'activated' ? 'success' : 'alert') : 'notice',
    role: final && state !== 'activated' ? 'alert' : null,
  }, text));
  if (final) {
    watching.final = true;
    if (state === 'activated') loadPhones();
  }
  return final;
}

/** Polls the activation record (the event stream pushes the same states sooner). */
async function poll(url, out) {
  for (let i = 0; i < 120; i += 1) {
    let record;
    try {
      record = await api('GET', url);
    } catch (err) {
      showError(out, err, 'Activation status');
      return;
    }
    if (showActivation(record)) return;
    await new Promise((resolve) => { setTimeout(resolve, 1000); });
  }
}

async function activate(e) {
  e.preventDefault();
  const out = document.getElementById('activate-status');
  const device = document.getElementById('activate-device').value.trim();
  if (!me) {
    showError(out, new Error('Only a signed-in user can activate a phone.'));
    return;
  }
  if (!device) {
    showError(out, new Error('Enter the desk phone extension to call.'));
    return;
  }
  watching = null;
  out.dataset.state = 'starting';
  out.replaceChildren(el('p', { class: 'notice' }, `Calling ${device}…`));
  try {
    const started = await api('POST', `${d}/users/${seg(me)}/activate`, { device });
    watching = { id: started.id, device, final: false };
    showActivation(started);
    await poll(`${d}/users/${seg(me)}/activations/${seg(started.id)}`, out);
  } catch (err) {
    delete out.dataset.state;
    showError(out, err, 'Activate Phone');
  }
}

async function loadCalls() {
  const box = document.getElementById('calls');
  try {
    const calls = await api('GET', `${d}/cdrs?limit=20`);
    if (calls.length === 0) {
      box.replaceChildren(empty('No calls yet.'));
      return;
    }
    box.replaceChildren(el('div', { class: 'table-wrap' }, el('table', { class: 'stack' },
      el('thead', {}, el('tr', {}, ['When', 'Direction', 'From', 'To', 'Phone', 'Result'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, calls.map((c) => el('tr', {},
        el('td', { 'data-label': 'When' }, when(c.start)),
        el('td', { 'data-label': 'Direction' }, c.direction),
        el('td', { 'data-label': 'From' }, c.from),
        el('td', { 'data-label': 'To' }, c.to),
        el('td', { 'data-label': 'Phone' }, c.anchor || '—'),
        el('td', { 'data-label': 'Result' }, c.disposition)))))));
  } catch (err) {
    showError(box, err, 'Could not load your calls');
  }
}

document.getElementById('plus').addEventListener('click', showPlus);
document.getElementById('host-form').addEventListener('submit', hostStatus);
document.getElementById('activate-form').addEventListener('submit', activate);
await Promise.all([loadPhones(), loadCalls(), myKeys(d, me)]);
liveEvents((type, data) => {
  if (type === 'activation') showActivation(data || {});
  else if (type === 'call') loadCalls();
  else if (type !== 'mailbox_changed') loadPhones();
}, null, null);
document.body.dataset.ready = 'true';
