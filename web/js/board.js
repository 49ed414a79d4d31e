// Desk board (office manager and up): every hot desk, who is on it since/until, whether
// it is registered; live over /api/v1/events; filters by site and floor; remote log-out
// with confirmation (HD-LOGOUT-4).
import { api, seg } from './api.js';
import { init, el, when, showError, empty, toast, confirmDialog, liveEvents } from './shell.js';

const { d } = await init('board');
let desks = [];

const siteOf = (dev) => dev.site || (dev.location && (dev.location.description || dev.location.city)) || '';
const floorOf = (dev) => (dev.location && dev.location.floor) || '';

function fillSelect(select, values, label) {
  const current = select.value;
  select.replaceChildren(el('option', { value: '' }, label),
    ...values.map((v) => el('option', { value: v, selected: v === current }, v)));
}

async function logOut(dev, button) {
  const s = dev.session;
  const yes = await confirmDialog(`Log out desk ${dev.extension}?`,
    `${s.user_name || s.user} (${s.user}) will be logged out of ${dev.extension} now. `
    + 'Calls in progress continue; new calls go to their other phones.', 'Log out');
  if (!yes) {
    button.focus();
    return;
  }
  try {
    await api('POST', `${d}/devices/${seg(dev.extension)}/logout`);
    toast(`${s.user_name || s.user} logged out of ${dev.extension}.`);
    await load();
    // The button is gone with the re-drawn row: keep keyboard users in the table.
    document.getElementById('desks-heading').focus();
  } catch (err) {
    showError(document.getElementById('page-error'), err, `Could not log out ${dev.extension}`);
  }
}

function row(dev) {
  const s = dev.session;
  const action = s
    ? el('button', { type: 'button', class: 'danger', 'aria-label': `Log out ${s.user_name || s.user} from ${dev.extension}` }, 'Log out')
    : el('span', { class: 'muted' }, '—');
  if (s) action.addEventListener('click', () => logOut(dev, action));
  const loc = dev.location || {};
  return el('tr', { 'data-desk': dev.extension, 'data-user': s ? s.user : '' },
    el('td', { 'data-label': 'Desk' }, el('strong', {}, dev.extension), loc.room ? ` ${loc.room}` : ''),
    el('td', { 'data-label': 'Site' }, siteOf(dev) || '—'),
    el('td', { 'data-label': 'Floor' }, floorOf(dev) || '—'),
    el('td', { 'data-label': 'Who', class: 'who-cell' }, s ? `${s.user_name || ''} (${s.user})` : el('span', { class: 'badge off' }, 'Free')),
    el('td', { 'data-label': 'Since' }, s ? when(s.since) : '—'),
    el('td', { 'data-label': 'Until' }, s ? (s.expires_at ? when(s.expires_at) : 'no expiry') : '—'),
    el('td', { 'data-label': 'Phone' }, dev.registration
      ? el('span', { class: 'badge ok' }, 'Registered') : el('span', { class: 'badge off' }, 'Not registered')),
    el('td', { 'data-label': 'Action' }, action));
}

function render() {
  const site = document.getElementById('filter-site').value;
  const floor = document.getElementById('filter-floor').value;
  const text = document.getElementById('filter-text').value.trim().toLowerCase();
  const shown = desks.filter((dev) => (!site || siteOf(dev) === site) && (!floor || floorOf(dev) === floor)
    && (!text || [dev.extension, (dev.location || {}).room, dev.session && dev.session.user_name, dev.session && dev.session.user]
      .some((v) => v && String(v).toLowerCase().includes(text))));
  const busy = shown.filter((dev) => dev.session).length;
  document.getElementById('summary').textContent = `${shown.length} desks shown, ${busy} in use, ${shown.length - busy} free.`;
  const box = document.getElementById('desks');
  if (desks.length === 0) {
    box.replaceChildren(empty('No hot desks yet. Add hot-desk devices under Administration → Devices.'));
    return;
  }
  if (shown.length === 0) {
    box.replaceChildren(empty('No desk matches these filters.'));
    return;
  }
  box.replaceChildren(el('table', { class: 'stack', id: 'desk-table' },
    el('caption', { class: 'visually-hidden' }, 'Hot desks and who is on them'),
    el('thead', {}, el('tr', {}, ['Desk', 'Site', 'Floor', 'Who', 'Since', 'Until', 'Phone', 'Action']
      .map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, shown.map(row))));
}

async function load() {
  try {
    const devices = await api('GET', `${d}/devices`);
    desks = devices.filter((dev) => dev.kind === 'hotdesk');
    desks.sort((a, b) => a.extension.localeCompare(b.extension, undefined, { numeric: true }));
    fillSelect(document.getElementById('filter-site'), [...new Set(desks.map(siteOf).filter(Boolean))].sort(), 'All sites');
    fillSelect(document.getElementById('filter-floor'), [...new Set(desks.map(floorOf).filter(Boolean))].sort(), 'All floors');
    document.getElementById('page-error').replaceChildren();
    render();
  } catch (err) {
    showError(document.getElementById('desks'), err, 'Could not load the desks');
  }
}

let pending = null;
function reloadSoon() {
  clearTimeout(pending);
  pending = setTimeout(load, 100);
}

for (const id of ['filter-site', 'filter-floor', 'filter-text']) {
  document.getElementById(id).addEventListener('input', render);
}
document.getElementById('filters').addEventListener('submit', (e) => e.preventDefault());
if (!d) {
  document.getElementById('desks').replaceChildren(empty('No domain exists yet.'));
} else {
  await load();
  liveEvents((type) => {
    if (['logged_in', 'logged_out', 'registered', 'unregistered', 'lagged'].includes(type)) reloadSoon();
  }, document.getElementById('live'), reloadSoon);
}
document.body.dataset.ready = 'true';
