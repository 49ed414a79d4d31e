// Administration → Devices: list, add and edit phones (kind, model, site, location). The
// API checks hot-desk anchors against the domain's device range (HD-LOGIN-11) and models
// against the catalogue (HD-PROV-5); its refusals are shown as they come.
import { api, seg } from './api.js';
import { el, showError, empty, toast, field, choice, table } from './shell.js';

const KINDS = [['hotdesk', 'Hot desk'], ['personal', 'Personal'], ['location', 'Location (common area)']];
const PLACE = ['country', 'city', 'floor', 'room'];

function values(form) {
  const out = {};
  for (const [key, value] of new FormData(form).entries()) {
    const text = String(value).trim();
    if (text) out[key] = text;
  }
  return out;
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
  const form = el('form', { novalidate: true },
    el('div', { class: 'row' },
      field('Model', modelChoice(models, dev.model)),
      field('Site', el('input', { name: 'site', value: dev.site || '' }))),
    placeFields(dev.location), error,
    el('div', { class: 'actions' },
      el('button', { type: 'button', class: 'secondary' }, 'Cancel'),
      el('button', { type: 'submit' }, 'Save')));
  const dialog = el('dialog', { 'aria-labelledby': 'device-title' },
    el('h2', { id: 'device-title' }, `Edit device ${dev.extension}`), form);
  form.querySelector('button.secondary').addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api('PATCH', `${ctx.d}/devices/${seg(dev.extension)}`, deviceBody(values(form), dev.location));
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
