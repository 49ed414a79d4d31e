// Administration → Users (list, add, edit, CSV import with the per-row report) and
// Allocations (multi-desk allocations against the seat pool, HD-LOGIN-4/5).
import { api, ApiError, seg } from './api.js';
import { el, showError, empty, toast, field, choice, table } from './shell.js';

const SEATS = [['standard', 'Standard'], ['advanced', 'Advanced'], ['basic', 'Basic']];
const ROLES = [['user', 'User'], ['office_manager', 'Office manager'], ['domain_admin', 'Domain admin']];
const ALLOCATIONS = ['1', '2', '3', '4', '5'].map((n) => [n, n]);

/** Form values as trimmed strings; empty ones left out. */
function values(form) {
  const out = {};
  for (const [key, value] of new FormData(form).entries()) {
    const text = String(value).trim();
    if (text) out[key] = text;
  }
  return out;
}

function userFields(user) {
  const u = user || {};
  return [
    el('div', { class: 'row' },
      user ? null : field('Extension', el('input', { name: 'extension', inputmode: 'numeric', required: true })),
      field('First name', el('input', { name: 'first_name', value: u.first_name || '', required: true })),
      field('Last name', el('input', { name: 'last_name', value: u.last_name || '', required: true }))),
    el('div', { class: 'row' },
      field('DID', el('input', { name: 'did', value: u.did || '' }), 'External number, optional'),
      field(user ? 'New PIN' : 'PIN', el('input', { name: 'pin', type: 'password', inputmode: 'numeric', autocomplete: 'new-password' }),
        user ? 'Leave empty to keep the PIN' : 'Digits; unique in the domain (980 + PIN)')),
    el('div', { class: 'row' },
      field('Seat', choice('seat', SEATS, u.seat || 'standard')),
      field('Multi-desk allocation', choice('max_devices', ALLOCATIONS, String(u.max_devices || 1)), 'Phones at once, 1–5'),
      field('Role', choice('scope', ROLES, u.scope || 'user'))),
  ];
}

function body(form, editing) {
  const v = values(form);
  const out = { ...v };
  if (v.max_devices) out.max_devices = Number(v.max_devices);
  if (editing && !v.did) out.did = null;
  return out;
}

function editDialog(ctx, user, reload) {
  const error = el('div', { 'aria-live': 'assertive' });
  const form = el('form', { novalidate: true }, userFields(user), error,
    el('div', { class: 'actions' },
      el('button', { type: 'button', class: 'secondary', value: 'cancel' }, 'Cancel'),
      el('button', { type: 'submit' }, 'Save')));
  const dialog = el('dialog', { 'aria-labelledby': 'edit-title' },
    el('h2', { id: 'edit-title' }, `Edit ${user.extension} ${user.first_name} ${user.last_name}`), form);
  form.querySelector('button.secondary').addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api('PATCH', `${ctx.d}/users/${seg(user.extension)}`, body(form, true));
      dialog.close();
      toast(`Saved ${user.extension}.`);
      await reload();
    } catch (err) {
      showError(error, err, 'Not saved');
    }
  });
  document.body.append(dialog);
  dialog.showModal();
}

function importReport(box, err) {
  const rows = err instanceof ApiError && err.body && err.body.error && err.body.error.rows;
  const alert = showError(box, err, 'Import refused');
  if (Array.isArray(rows) && rows.length) {
    alert.after(table(['Line', 'Extension', 'Field', 'Problem'],
      rows.map((r) => [String(r.line), r.extension || '—', r.field, r.message]), 'Rows to correct'));
  }
}

/** Users: list with edit, add form, CSV import. */
export async function usersTab(panel, ctx) {
  const list = el('div', { id: 'user-list' }, el('p', { class: 'muted' }, 'Loading…'));
  const addError = el('div', { 'aria-live': 'assertive' });
  const addForm = el('form', { id: 'add-user', novalidate: true }, userFields(null), addError, el('button', { type: 'submit' }, 'Add user'));
  const csv = el('textarea', { name: 'csv', id: 'import-csv', spellcheck: 'false' });
  const file = el('input', { type: 'file', id: 'import-file', accept: '.csv,text/csv' });
  const importOut = el('div', { id: 'import-result', 'aria-live': 'polite' });
  const importForm = el('form', { id: 'import-form', novalidate: true },
    field('CSV rows', csv, 'Columns: extension,first_name,last_name,did,pin,sip_password (header row optional). All or nothing.'),
    field('…or choose a file', file), importOut, el('button', { type: 'submit' }, 'Import'));

  async function reload() {
    try {
      const users = await api('GET', `${ctx.d}/users`);
      if (users.length === 0) {
        list.replaceChildren(empty('No users yet. Add one below or import a CSV file.'));
        return;
      }
      list.replaceChildren(table(['Extension', 'Name', 'DID', 'Seat', 'Allocation', 'Role', 'Queue', 'On desks', ''],
        users.map((u) => {
          const edit = el('button', { type: 'button', class: 'secondary', 'aria-label': `Edit ${u.extension}` }, 'Edit');
          edit.addEventListener('click', () => editDialog(ctx, u, reload));
          return [u.extension, `${u.first_name} ${u.last_name}`, u.did || '—', u.seat, String(u.max_devices),
            u.scope.replace('_', ' '), u.queue_status.replace('_', ' '), u.devices.join(', ') || '—', edit];
        }), 'Users'));
    } catch (err) {
      showError(list, err, 'Could not list users');
    }
  }

  addForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const user = await api('POST', `${ctx.d}/users`, body(addForm, false));
      addForm.reset();
      addError.replaceChildren(el('p', { class: 'success' }, `Added ${user.extension}.`));
      await reload();
    } catch (err) {
      showError(addError, err, 'Not added');
    }
  });
  file.addEventListener('change', async () => {
    if (file.files[0]) csv.value = await file.files[0].text();
  });
  importForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!csv.value.trim()) {
      showError(importOut, new Error('Paste CSV rows or choose a file first.'));
      return;
    }
    try {
      const report = await api('POST', `${ctx.d}/users:import`, csv.value);
      importOut.replaceChildren(el('p', { class: 'success' }, `Imported ${report.imported} of ${report.rows} rows.`));
      await reload();
    } catch (err) {
      importReport(importOut, err);
    }
  });

  panel.replaceChildren(el('h2', {}, 'Users'), list,
    el('h3', {}, 'Add a user'), addForm,
    el('h3', {}, 'Import users from CSV'), importForm);
  await reload();
}

/** Allocations: pool figures and each user's multi-desk allocation, saved one by one. */
export async function allocationsTab(panel, ctx) {
  const figures = el('div', { id: 'pool', 'aria-live': 'polite' });
  const list = el('div', {}, el('p', { class: 'muted' }, 'Loading…'));
  const out = el('div', { id: 'allocation-result', 'aria-live': 'assertive' });

  async function reload() {
    try {
      const [domain, users] = await Promise.all([api('GET', ctx.d), api('GET', `${ctx.d}/users`)]);
      const seats = domain.settings.seats;
      const c = domain.counts;
      figures.replaceChildren(el('p', { class: 'notice' },
        el('strong', {}, `${c.allocations} of ${c.pool}`), ' allocations in use. ',
        `Pool: ${seats.standard} Standard + ${seats.advanced} Advanced seats × 5, ${seats.basic} Basic × 1.`));
      if (users.length === 0) {
        list.replaceChildren(empty('No users yet.'));
        return;
      }
      list.replaceChildren(table(['Extension', 'Name', 'Seat', 'Allocation', ''], users.map((u) => {
        const input = el('input', {
          type: 'number', min: '1', max: '5', value: String(u.max_devices), name: 'max_devices',
          'aria-label': `Allocation for ${u.extension}`, 'data-user': u.extension, style: 'width:5rem',
        });
        const save = el('button', { type: 'button', class: 'secondary', 'aria-label': `Save allocation for ${u.extension}` }, 'Save');
        save.addEventListener('click', async () => {
          try {
            await api('PATCH', `${ctx.d}/users/${seg(u.extension)}`, { max_devices: Number(input.value) });
            out.replaceChildren(el('p', { class: 'success' }, `${u.extension} may now use ${input.value} phone(s) at once.`));
            await reload();
          } catch (err) {
            const box = showError(out, err, `Allocation for ${u.extension} refused`);
            if (err.code === 'pool_exceeded') {
              box.append(el('p', {}, 'The sum of all allocations may not exceed the pool (5 per Standard or Advanced seat, '
                + '1 per Basic seat). Lower someone else\'s allocation or add seats under Domain settings.'));
            }
          }
        });
        return [u.extension, `${u.first_name} ${u.last_name}`, u.seat, input, save];
      }), 'Multi-desk allocations'));
    } catch (err) {
      showError(list, err, 'Could not load allocations');
    }
  }
  panel.replaceChildren(el('h2', {}, 'Allocations'), figures, out, list);
  await reload();
}
