// Administration → Domain settings (codes, policies, expiry, end of day, time zone,
// emergency numbers, seats), Call records (search + CSV export, HD-CDR-2) and Audit log.
import { api } from './api.js';
import { el, showError, empty, field, choice, table, when } from './shell.js';

const list = (text) => text.split(',').map((s) => s.trim()).filter(Boolean);
const optionalNumber = (text) => (text.trim() ? Number(text) : null);

function input(name, value, attrs = {}) {
  return el('input', { name, value: value ?? '', ...attrs });
}

/** Domain settings: one form, sent as a merge PATCH; the API validates the whole. */
export async function settingsTab(panel, ctx) {
  let domain;
  try {
    domain = await api('GET', ctx.d);
  } catch (err) {
    showError(panel, err, 'Could not load the settings');
    return;
  }
  const s = domain.settings;
  const out = el('div', { id: 'settings-result', 'aria-live': 'assertive' });
  const confirm = el('input', { type: 'checkbox', name: 'confirm_owner', id: 'confirm-owner', checked: s.confirm_owner });
  const form = el('form', { id: 'settings-form', novalidate: true },
    el('fieldset', {}, el('legend', {}, 'Feature codes'),
      el('div', { class: 'row' },
        field('Log-in codes', input('login', s.codes.login.join(', ')), 'Comma-separated, e.g. *44, *88'),
        field('Log-out codes', input('logout', s.codes.logout.join(', '))),
        field('Quick toggle code', input('toggle', s.codes.toggle), 'Dialled before the PIN (HD-LOGIN-2)'),
        field('Voice portal code', input('voice_portal', s.codes.voice_portal)),
        field('Voice portal access number', input('voice_portal_number', s.voice_portal_number, { inputmode: 'tel' }),
          'Reached from outside through the trunk (HD-LOGIN-8); empty = none'),
        field('Prompt language', input('prompt_language', s.prompt_language),
          'A folder of the server\'s prompts, e.g. fr; empty = the server\'s language'))),
    el('fieldset', {}, el('legend', {}, 'Policies'),
      el('div', { class: 'row' },
        field('Personal phone while away', choice('primary_while_away',
          [['unreachable', 'Does not ring'], ['ring_both', 'Rings too']], s.primary_while_away)),
        el('div', { class: 'field' }, el('label', { for: 'confirm-owner' }, confirm, ' Ask to confirm the device owner at log-in'))),
      el('div', { class: 'row' },
        field('Lock after wrong PINs', input('max_failures', s.lockout.max_failures, { type: 'number', min: '1' })),
        field('…within (s)', input('window_secs', s.lockout.window_secs, { type: 'number', min: '1' })),
        field('Lock for (s)', input('lock_secs', s.lockout.lock_secs, { type: 'number', min: '1' })))),
    el('fieldset', {}, el('legend', {}, 'Expiry'),
      el('div', { class: 'row' },
        field('Longest session (s)', input('max_association_secs', s.max_association_secs, { type: 'number', min: '60' }), 'Empty = no ceiling'),
        field('End of day (HH:MM)', input('end_of_day', s.end_of_day, { placeholder: '18:00' }), 'Empty = none'),
        field('Idle log-out (s)', input('idle_logout_secs', s.idle_logout_secs, { type: 'number', min: '60' }), 'Empty = none'),
        field('Warn before log-out (s)', input('logout_warning_secs', s.logout_warning_secs, { type: 'number', min: '0' })),
        field('Time zone', input('time_zone', s.time_zone), 'IANA name, e.g. Europe/Paris'))),
    el('fieldset', {}, el('legend', {}, 'Emergency and seats'),
      el('div', { class: 'row' },
        field('Emergency numbers', input('emergency_numbers', s.emergency_numbers.join(', '))),
        field('Standard seats', input('standard', s.seats.standard, { type: 'number', min: '0' })),
        field('Advanced seats', input('advanced', s.seats.advanced, { type: 'number', min: '0' })),
        field('Basic seats', input('basic', s.seats.basic, { type: 'number', min: '0' })))),
    out, el('button', { type: 'submit' }, 'Save settings'));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = Object.fromEntries([...new FormData(form).entries()].map(([k, x]) => [k, String(x)]));
    const settings = {
      codes: { login: list(v.login), logout: list(v.logout), toggle: v.toggle.trim(), voice_portal: v.voice_portal.trim() },
      voice_portal_number: v.voice_portal_number.trim() || null,
      prompt_language: v.prompt_language.trim() || null,
      primary_while_away: v.primary_while_away,
      confirm_owner: confirm.checked,
      lockout: { max_failures: Number(v.max_failures), window_secs: Number(v.window_secs), lock_secs: Number(v.lock_secs) },
      max_association_secs: optionalNumber(v.max_association_secs),
      end_of_day: v.end_of_day.trim() || null,
      idle_logout_secs: optionalNumber(v.idle_logout_secs),
      logout_warning_secs: Number(v.logout_warning_secs),
      time_zone: v.time_zone.trim(),
      emergency_numbers: list(v.emergency_numbers),
      seats: { standard: Number(v.standard), advanced: Number(v.advanced), basic: Number(v.basic) },
    };
    try {
      await api('PATCH', ctx.d, { settings });
      out.replaceChildren(el('p', { class: 'success' }, 'Settings saved.'));
    } catch (err) {
      showError(out, err, 'Settings not saved');
    }
  });
  panel.replaceChildren(el('h2', {}, `Settings of ${domain.name}`), form);
}

/** The shared search form of call records and the audit log. */
function searchForm(id, onSearch) {
  const form = el('form', { id, class: 'row', novalidate: true },
    field('User', el('input', { name: 'user', inputmode: 'numeric' })),
    field('Device', el('input', { name: 'device', inputmode: 'numeric' })),
    field('From', el('input', { name: 'from', type: 'datetime-local' })),
    field('Until', el('input', { name: 'until', type: 'datetime-local' })),
    field('At most', el('input', { name: 'limit', type: 'number', min: '1', max: '10000', value: '100' })),
    el('div', { class: 'field end' }, el('button', { type: 'submit' }, 'Search')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const query = new URLSearchParams();
    for (const [key, value] of new FormData(form).entries()) {
      const text = String(value).trim();
      if (!text) continue;
      query.set(key, key === 'from' || key === 'until' ? new Date(text).toISOString() : text);
    }
    onSearch(query);
  });
  return form;
}

/** Call records: search, results and the CSV export of the same search. */
export async function cdrTab(panel, ctx) {
  const results = el('div', { id: 'cdr-results', 'aria-live': 'polite' });
  const exportLink = el('a', { class: 'button secondary', id: 'cdr-csv', href: `/api/v1/${ctx.d}/cdrs?format=csv` }, 'Export CSV');
  async function search(query) {
    const csv = new URLSearchParams(query);
    csv.set('format', 'csv');
    exportLink.href = `/api/v1/${ctx.d}/cdrs?${csv}`;
    try {
      const cdrs = await api('GET', `${ctx.d}/cdrs?${query}`);
      results.replaceChildren(cdrs.length === 0 ? empty('No call records match.') : table(
        ['Start', 'Direction', 'Phone', 'User', 'From', 'To', 'Answered', 'End', 'Result'],
        cdrs.map((c) => [when(c.start), c.direction, c.anchor || '—',
          c.user_extension ? `${c.user_name || ''} (${c.user_extension})` : '—', c.from, c.to,
          c.answer ? when(c.answer) : '—', when(c.end), c.disposition]), `${cdrs.length} call records`));
    } catch (err) {
      showError(results, err, 'Search failed');
    }
  }
  panel.replaceChildren(el('h2', {}, 'Call records'), searchForm('cdr-search', search), el('p', {}, exportLink), results);
  await search(new URLSearchParams({ limit: '100' }));
}

function actorText(actor) {
  if (!actor) return '—';
  return actor.id ? `${actor.kind} ${actor.id}` : actor.kind;
}

/** Audit log: who did what, when, from where. */
export async function auditTab(panel, ctx) {
  const results = el('div', { id: 'audit-results', 'aria-live': 'polite' });
  async function search(query) {
    try {
      const rows = await api('GET', `${ctx.d}/audit?${query}`);
      results.replaceChildren(rows.length === 0 ? empty('No audit records match.') : table(
        ['When', 'What', 'By', 'User', 'Device', 'From', 'Detail'],
        rows.map((r) => [when(r.at), r.kind.replaceAll('_', ' '), actorText(r.actor), r.user || '—', r.device || '—',
          r.source || '—', r.detail && Object.keys(r.detail).length ? JSON.stringify(r.detail) : '']),
        `${rows.length} audit records`));
    } catch (err) {
      showError(results, err, 'Search failed');
    }
  }
  panel.replaceChildren(el('h2', {}, 'Audit log'), searchForm('audit-search', search), results);
  await search(new URLSearchParams({ limit: '100' }));
}
