// What every signed-in page shares: the session, the header (navigation by role, domain
// picker for super admins, sign-out), DOM helpers that never parse data as HTML, error
// and empty-state rendering, a confirmation dialog and the live event stream.
import { api, ApiError, setCsrf, seg } from './api.js';

const RANK = { user: 0, office_manager: 1, domain_admin: 2, super_admin: 3 };
const DOMAIN_KEY = 'hotdesk.domain';

/** Whether the session's role is at least `scope`. */
export const atLeast = (session, scope) => RANK[session.scope] >= RANK[scope];

/** Builds an element: el('td', {class: 'x', 'data-label': 'Desk'}, 'text', child…). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, '');
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A local date-time for an RFC 3339 instant, or a dash. */
export function when(ts) {
  if (!ts) return '—';
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? ts : d.toLocaleString();
}

/** Replaces `container`'s content with the API error, code and message as sent. */
export function showError(container, err, prefix) {
  const message = err instanceof ApiError ? err.message : String(err && err.message ? err.message : err);
  const code = err instanceof ApiError ? err.code : 'error';
  const box = el('div', { class: 'alert', role: 'alert' },
    prefix ? `${prefix}: ` : '', message, ' ', el('span', { class: 'code' }, `(${code})`));
  container.replaceChildren(box);
  return box;
}

/** An empty state. */
export const empty = (text) => el('p', { class: 'empty' }, text);

/** A short message in the page's polite live region. */
export function toast(text) {
  const region = document.getElementById('toast');
  if (!region) return;
  const item = el('div', {}, text);
  region.append(item);
  setTimeout(() => item.remove(), 6000);
}

/** Asks for confirmation in a modal dialog; resolves true on Confirm. */
export function confirmDialog(title, text, confirmLabel) {
  return new Promise((resolve) => {
    const ok = el('button', { type: 'button', class: 'danger' }, confirmLabel);
    const cancel = el('button', { type: 'button', class: 'secondary' }, 'Cancel');
    const heading = el('h2', { id: 'dialog-title' }, title);
    const dialog = el('dialog', { 'aria-labelledby': 'dialog-title', 'aria-describedby': 'dialog-text' },
      heading, el('p', { id: 'dialog-text' }, text), el('div', { class: 'actions' }, cancel, ok));
    const done = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    ok.addEventListener('click', () => done(true));
    cancel.addEventListener('click', () => done(false));
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      done(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/**
 * Listens to /api/v1/events (SSE, same cookie session). `onEvent(type, data)` runs for
 * each event; `status` (an element) shows whether the stream is live. EventSource
 * reconnects by itself; the caller should reload its data on reconnect.
 */
export function liveEvents(onEvent, status, onOpen) {
  const source = new EventSource('/api/v1/events');
  const types = ['logged_in', 'logged_out', 'registered', 'unregistered', 'call', 'mailbox_changed', 'locked_out', 'lagged', 'activation'];
  for (const type of types) {
    source.addEventListener(type, (e) => {
      let data = null;
      try {
        data = JSON.parse(e.data);
      } catch {
        data = e.data;
      }
      onEvent(type, data);
    });
  }
  source.addEventListener('open', () => {
    if (status) {
      status.dataset.state = 'live';
      status.textContent = 'Live';
    }
    if (onOpen) onOpen();
  });
  source.addEventListener('error', () => {
    if (status) {
      status.dataset.state = 'down';
      status.textContent = 'Reconnecting…';
    }
  });
  return source;
}

function navigation(session, page) {
  const links = [['phones', '/portal/', 'My phones']];
  if (atLeast(session, 'office_manager')) {
    links.push(['board', '/portal/board', 'Desk board'], ['admin', '/portal/admin', 'Administration']);
  }
  return el('nav', { 'aria-label': 'Main' }, el('ul', {}, links.map(([id, href, text]) =>
    el('li', {}, el('a', { href, 'aria-current': id === page ? 'page' : null }, text)))));
}

async function domainPicker(session) {
  if (session.domain) return { domain: session.domain, picker: null };
  const domains = await api('GET', 'domains');
  const names = domains.map((d) => d.name);
  let chosen = sessionStorage.getItem(DOMAIN_KEY);
  if (!names.includes(chosen)) chosen = names[0] || null;
  const select = el('select', { id: 'domain-picker' },
    names.map((n) => el('option', { value: n, selected: n === chosen }, n)));
  select.addEventListener('change', () => {
    sessionStorage.setItem(DOMAIN_KEY, select.value);
    location.reload();
  });
  const picker = el('span', {}, el('label', { for: 'domain-picker', class: 'visually-hidden' }, 'Domain'), select);
  return { domain: chosen, picker };
}

async function signOut() {
  try {
    await api('DELETE', '/portal/session');
  } finally {
    location.assign('/portal/signin');
  }
}

/**
 * Loads the session (or goes to sign-in), draws the header and returns
 * { session, domain, d } where `d` is the API path prefix `domains/<domain>`.
 */
export async function init(page) {
  let session;
  try {
    session = await api('GET', '/portal/session');
  } catch {
    location.assign('/portal/signin');
    throw new Error('not signed in');
  }
  setCsrf(session.csrf);
  const { domain, picker } = await domainPicker(session);
  const header = document.querySelector('header.top');
  const who = el('div', { class: 'who' },
    picker,
    el('span', {}, session.name, session.user ? ` (${session.user})` : '', ' · ',
      el('span', { class: 'muted-on-dark' }, session.scope.replace('_', ' '))),
    el('button', { type: 'button', id: 'sign-out', onclick: signOut }, 'Sign out'));
  header.replaceChildren(el('a', { class: 'brand', href: '/portal/' }, 'hotdesk'), navigation(session, page), who);
  const d = domain ? `domains/${seg(domain)}` : null;
  return { session, domain, d };
}

let fieldCount = 0;

/** A labelled form field around `control`, with an optional hint tied by aria-describedby. */
export function field(label, control, hint) {
  if (!control.id) {
    fieldCount += 1;
    control.id = `field-${fieldCount}`;
  }
  const id = control.id;
  if (hint) control.setAttribute('aria-describedby', `${id}-hint`);
  return el('div', { class: 'field' }, el('label', { for: id }, label), control,
    hint ? el('span', { class: 'hint', id: `${id}-hint` }, hint) : null);
}

/** A <select> of [value, text] pairs with `current` selected. */
export function choice(name, options, current) {
  return el('select', { name }, options.map(([value, text]) =>
    el('option', { value, selected: value === current }, text)));
}

/** A table with a header row; `rows` are arrays of cells (text or nodes). */
export function table(headers, rows, caption) {
  return el('div', { class: 'table-wrap' }, el('table', { class: 'stack' },
    caption ? el('caption', {}, caption) : null,
    el('thead', {}, el('tr', {}, headers.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, rows.map((cells) => el('tr', {}, cells.map((c, i) => el('td', { 'data-label': headers[i] }, c)))))));
}
