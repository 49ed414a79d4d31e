// "My keys" (HD-PROV-4): a user's line keys and speed dials per phone model, through
// GET/PUT …/users/{ext}/keys. A phone of that model shows them whenever the user is
// logged in to it; an empty list goes back to the model's defaults.
import { api, seg } from './api.js';
import { el, showError, empty, toast } from './shell.js';

const KINDS = [['speed_dial', 'Speed dial'], ['blf', 'Busy lamp (BLF)'], ['line', 'Line']];

/** One editable key row; inputs are labelled per row for screen readers ("Key 1 kind",
 * or with `noun` "Soft key 1 kind" in the device dialog). */
export function keyRow(key, index, onRemove, noun = 'Key') {
  const n = index + 1;
  const cell = (label, control) => el('td', { 'data-label': label }, control);
  const kind = el('select', { name: 'kind', 'aria-label': `${noun} ${n} kind` },
    KINDS.map(([value, text]) => el('option', { value, selected: value === key.kind }, text)));
  const remove = el('button', { type: 'button', class: 'secondary', 'aria-label': `Remove ${noun.toLowerCase()} ${n}` }, 'Remove');
  remove.addEventListener('click', onRemove);
  return el('tr', { 'data-key': String(n) },
    cell('Position', el('input', {
      name: 'position', type: 'number', min: '1', max: '99', value: key.position, 'aria-label': `${noun} ${n} position`,
    })),
    cell('Kind', kind),
    cell('Number', el('input', { name: 'value', value: key.value, inputmode: 'tel', 'aria-label': `${noun} ${n} number` })),
    cell('Label', el('input', { name: 'label', value: key.label, 'aria-label': `${noun} ${n} label` })),
    cell('Remove', remove));
}

/** The keys as typed in the editor's rows. */
export function readRows(box) {
  return [...box.querySelectorAll('tr[data-key]')].map((row) => ({
    position: Number(row.querySelector('[name=position]').value),
    kind: row.querySelector('[name=kind]').value,
    value: row.querySelector('[name=value]').value.trim(),
    label: row.querySelector('[name=label]').value.trim(),
  }));
}

/** Draws the "My keys" section into #keys for the signed-in user. */
export async function myKeys(d, me) {
  const section = document.getElementById('keys');
  if (!me) {
    section.replaceChildren(empty('Signed in with an administrator token: no keys of your own.'));
    return;
  }
  let models;
  let mine;
  let devices;
  try {
    [models, mine, devices] = await Promise.all([
      api('GET', 'models'), api('GET', `${d}/users/${seg(me)}/keys`), api('GET', `${d}/devices`)]);
  } catch (err) {
    showError(section, err, 'Could not load your keys');
    return;
  }
  const saved = mine.models || {};
  const withFiles = models.filter((m) => m.format !== 'none');
  const picker = el('select', { id: 'keys-model' });
  const status = el('div', { id: 'keys-status', 'aria-live': 'polite' });
  const editor = el('div', { id: 'keys-editor' });
  let keys = [];

  // The office's models first: those are the phones the user can sit at.
  const here = new Set(devices.map((dev) => dev.model));
  function fillPicker() {
    const current = picker.value;
    const option = (m) => {
      const count = (saved[m.id] || []).length;
      return el('option', { value: m.id, selected: m.id === current },
        `${m.vendor} ${m.name} (${m.id})${count ? ` — ${count} key${count > 1 ? 's' : ''} of yours` : ''}`);
    };
    picker.replaceChildren(
      el('optgroup', { label: 'Phones in this office' }, withFiles.filter((m) => here.has(m.id)).map(option)),
      el('optgroup', { label: 'Other models' }, withFiles.filter((m) => !here.has(m.id)).map(option)));
  }

  function draw(focusLast) {
    const model = picker.value;
    const rows = keys.map((key, i) => keyRow(key, i, () => {
      keys = readRows(editor);
      keys.splice(i, 1);
      draw(false);
      add.focus();
    }));
    const list = keys.length === 0
      ? empty(`No keys of your own for ${model}: its phones show their default keys.`)
      : el('div', { class: 'table-wrap' }, el('table', { class: 'stack', id: 'keys-table' },
        el('caption', {}, `Your keys on ${model} phones`),
        el('thead', {}, el('tr', {}, ['Position', 'Kind', 'Number', 'Label', 'Remove'].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, rows)));
    editor.replaceChildren(list);
    if (focusLast && rows.length) rows[rows.length - 1].querySelector('[name=kind]').focus();
  }

  function choose() {
    keys = (saved[picker.value] || []).map((k) => ({ ...k }));
    status.replaceChildren();
    draw(false);
  }

  const add = el('button', { type: 'button', class: 'secondary', id: 'keys-add' }, 'Add key');
  add.addEventListener('click', () => {
    keys = readRows(editor);
    const next = keys.reduce((max, k) => Math.max(max, k.position || 0), 1) + 1;
    keys.push({ position: next, kind: 'speed_dial', value: '', label: '' });
    draw(true);
  });
  const save = el('button', { type: 'submit', id: 'keys-save' }, 'Save keys');
  const form = el('form', { id: 'keys-form', novalidate: true },
    el('div', { class: 'field' }, el('label', { for: 'keys-model' }, 'Phone model'), picker),
    editor, el('p', { class: 'row' }, add, save), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const model = picker.value;
    const list = readRows(editor);
    try {
      const stored = await api('PUT', `${d}/users/${seg(me)}/keys/${seg(model)}`, { keys: list });
      saved[model] = stored.keys;
      keys = stored.keys.map((k) => ({ ...k }));
      fillPicker();
      draw(false);
      status.replaceChildren(el('p', { class: 'success' }, list.length
        ? `Saved ${list.length} key${list.length > 1 ? 's' : ''} for ${model}. Phones of this model you are on update now.`
        : `Back to the default keys for ${model}.`));
      toast(`Keys saved for ${model}.`);
    } catch (err) {
      showError(status, err, `Keys for ${model} not saved`);
    }
  });
  picker.addEventListener('change', choose);
  // Start on the model of a desk the user is on, else one with their keys, else the office's.
  const onNow = devices.find((dev) => dev.session && dev.session.user === me && withFiles.some((m) => m.id === dev.model));
  const first = (onNow && { id: onNow.model }) || withFiles.find((m) => (saved[m.id] || []).length)
    || withFiles.find((m) => here.has(m.id)) || withFiles[0];
  fillPicker();
  if (first) picker.value = first.id;
  section.replaceChildren(form);
  choose();
}
