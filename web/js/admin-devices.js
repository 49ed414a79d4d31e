// Administration → Devices: list, add and edit phones (kind, model, site, location, soft
// keys, the template applied). The API checks hot-desk anchors against the domain's device
// range (HD-LOGIN-11) and models against the catalogue (HD-PROV-5); its refusals are shown
// as they come. Soft keys stay with the phone whoever sits there (HD-PROV-3).
import { api, seg } from './api.js';
import { el, showError, empty, toast, field, choice, table } from './shell.js';
import { keyRow, readRows } from './my-keys.js';

const KINDS = [['hotdesk', 'Hot desk'], ['personal', 'Personal'], ['location', 'Location (common area)']];
const PLACE = ['country', 'city', 'floor', 'room'];

/** The form's named controls, trimmed, skipping the soft-key rows (sent on their own). */
function values(form) {
  const out = {};
  for (const control of form.elements) {
    if (!control.name || control.closest('[data-keys]')) continue;
    const text = String(control.value).trim();
    if (text) out[control.name] = text;
  }
  return out;
}

/** The soft-key editor of the device dialog: rows, "Add soft key", and what was there. */
function softKeys(initial) {
  let keys = (initial || []).map((k) => ({ ...k }));
  const box = el('div', { 'data-keys': 'soft' });
  const add = el('button', { type: 'button', class: 'secondary', id: 'soft-keys-add' }, 'Add soft key');
  function draw(focusLast) {
    const rows = keys.map((key, i) => keyRow(key, i, () => {
      keys = readRows(box);
      keys.splice(i, 1);
      draw(false);
      add.focus();
    }, 'Soft key'));
    box.replaceChildren(rows.length === 0
      ? empty('No soft keys: the phone shows its model\'s defaults.')
      : el('div', { class: 'table-wrap' }, el('table', { class: 'stack' },
        el('caption', {}, 'Soft keys of this phone'),
        el('thead', {}, el('tr', {}, ['Position', 'Kind', 'Number', 'Label', 'Remove'].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, rows))));
    if (focusLast && rows.length) rows[rows.length - 1].querySelector('[name=kind]').focus();
  }
  add.addEventListener('click', () => {
    keys = readRows(box);
    keys.push({ position: keys.reduce((max, k) => Math.max(max, k.position || 0), 0) + 1, kind: 'speed_dial', value: '', label: '' });
    draw(true);
  });
  draw(false);
  const before = JSON.stringify(initial || []);
  return {
    node: el('fieldset', { 'data-keys': 'soft' }, el('legend', {}, 'Soft keys (stay with this phone)'), box, add),
    changed: () => JSON.stringify(readRows(box)) !== before,
    read: () => readRows(box),
  };
}

/** The device body from form values: location fields folded into `location`. */
function deviceBody(v, previous) {
  const out = {};
  const location = { ...(previous || {}) };
  let placed = false;
  for (const [key, value] of Object.entries(v)) {
    if (PLACE.includes(key)) {
      location[key] = value;
      placed = true;
    } else if (key === 'association_secs') {
      out[key] = Number(value);
    } else {
      out[key] = value;
    }
  }
  if (placed) out.location = location;
  return out;
}

function placeFields(loc) {
  const l = loc || {};
  return el('fieldset', {}, el('legend', {}, 'Location (emergency address)'),
    el('div', { class: 'row' },
      field('Country', el('input', { name: 'country', value: l.country || '', maxlength: '2' }), 'Two letters, e.g. US'),
      field('City', el('input', { name: 'city', value: l.city || '' })),
      field('Floor', el('input', { name: 'floor', value: l.floor || '' })),
      field('Room', el('input', { name: 'room', value: l.room || '' }))));
}

function modelChoice(models, current) {
  return choice('model', models.map((m) => [m.id, `${m.id}${m.name ? ` (${m.name})` : ''}`]), current);
}

function editDialog(ctx, dev, models, reload) {
  const error = el('div', { 'aria-live': 'assertive' });
  const keys = softKeys(dev.soft_keys);
  const cancel = el('button', { type: 'button', class: 'secondary' }, 'Cancel');
  const form = el('form', { novalidate: true },
    el('div', { class: 'row' },
      field('Model', modelChoice(models, dev.model)),
      field('Site', el('input', { name: 'site', value: dev.site || '' }))),
    el('p', { class: 'hint', 'data-template': dev.template || '' }, dev.template
      ? `Template applied: ${dev.template} (Templates → Apply to phones changes it).`
      : 'Template: its model\'s or the domain\'s default (Templates → Apply to phones sets one).'),
    placeFields(dev.location), keys.node, error,
    el('div', { class: 'actions' }, cancel, el('button', { type: 'submit' }, 'Save')));
  const dialog = el('dialog', { 'aria-labelledby': 'device-title' },
    el('h2', { id: 'device-title' }, `Edit device ${dev.extension}`), form);
  cancel.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api('PATCH', `${ctx.d}/devices/${seg(dev.extension)}`, deviceBody(values(form), dev.location));
      if (keys.changed()) {
        await api('PUT', `${ctx.d}/devices/${seg(dev.extension)}/soft_keys`, { keys: keys.read() });
      }
      dialog.close();
      toast(`Saved ${dev.extension}.`);
      await reload();
    } catch (err) {
      showError(error, err, 'Not saved');
    }
  });
  document.body.append(dialog);
  dialog.showModal();
}

/** Devices: list with edit, add form. */
export async function devicesTab(panel, ctx) {
  const list = el('div', { id: 'device-list' }, el('p', { class: 'muted' }, 'Loading…'));
  let models = [];
  try {
    models = await api('GET', 'models');
  } catch (err) {
    showError(list, err, 'Could not load phone models');
  }
  let ranges = '';
  try {
    const domain = await api('GET', ctx.d);
    ranges = domain.settings.device_ranges.map((r) => `${r.first}–${r.last}`).join(', ');
  } catch {
    ranges = '';
  }
  const addError = el('div', { id: 'device-error', 'aria-live': 'assertive' });
  const addForm = el('form', { id: 'add-device', novalidate: true },
    el('div', { class: 'row' },
      field('Anchor extension', el('input', { name: 'extension', inputmode: 'numeric', required: true }),
        ranges ? `Hot desks must lie in ${ranges}` : null),
      field('MAC address', el('input', { name: 'mac', required: true, autocomplete: 'off' }), '12 hex digits'),
      field('Model', modelChoice(models, models[0] && models[0].id)),
      field('Kind', choice('kind', KINDS, 'hotdesk'))),
    el('div', { class: 'row' },
      field('Site', el('input', { name: 'site' })),
      field('Association lifetime (s)', el('input', { name: 'association_secs', type: 'number', min: '60' }), 'Optional')),
    placeFields(null), addError, el('button', { type: 'submit' }, 'Add device'));

  async function reload() {
    try {
      const devices = await api('GET', `${ctx.d}/devices`);
      if (devices.length === 0) {
        list.replaceChildren(empty('No devices yet. Add one below.'));
        return;
      }
      list.replaceChildren(table(['Extension', 'Kind', 'Model', 'MAC', 'Site', 'Floor / room', 'Logged in', 'Registered', ''],
        devices.map((dev) => {
          const loc = dev.location || {};
          const edit = el('button', { type: 'button', class: 'secondary', 'aria-label': `Edit device ${dev.extension}` }, 'Edit');
          edit.addEventListener('click', () => editDialog(ctx, dev, models, reload));
          return [dev.extension, dev.kind, dev.model, dev.mac, dev.site || '—',
            [loc.floor, loc.room].filter(Boolean).join(' / ') || '—',
            dev.session ? `${dev.session.user_name || ''} (${dev.session.user})` : '—',
            dev.registration ? 'yes' : 'no', edit];
        }), 'Devices'));
    } catch (err) {
      showError(list, err, 'Could not list devices');
    }
  }

  addForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const dev = await api('POST', `${ctx.d}/devices`, deviceBody(values(addForm), null));
      addForm.reset();
      addError.replaceChildren(el('p', { class: 'success' }, `Added ${dev.extension}.`));
      await reload();
    } catch (err) {
      showError(addError, err, 'Not added');
    }
  });
  panel.replaceChildren(el('h2', {}, 'Devices'), list, el('h3', {}, 'Add a device'), addForm);
  await reload();
}
