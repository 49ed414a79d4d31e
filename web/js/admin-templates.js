// Administration → Templates (HD-PROV-1, -2, -5): the domain's phone-file templates, an
// editor (format, model, line label, body), a preview of the file a chosen device
// would get with the template as edited — before saving (POST …/devices/{ext}/preview) —
// and "Apply" / "Apply and resync" of a saved template to selected phones (POST
// …/templates/{name}/apply; resync sends each a check-sync NOTIFY at once).
// Template errors come back with line and column; "Go to" puts the caret there.
import { api, seg } from './api.js';
import { el, showError, empty, toast, field, choice, table } from './shell.js';

const NEW = '';
const FORMATS = [['cfg', 'cfg (Yealink)'], ['xml', 'xml (Polycom)']];

/** Caret at line/column (1-based) of a text control. */
function caretTo(control, line, column) {
  const lines = control.value.split('\n');
  let offset = 0;
  for (let i = 0; i < Math.min(line - 1, lines.length); i += 1) offset += lines[i].length + 1;
  offset += Math.max(0, column - 1);
  control.focus();
  control.setSelectionRange(offset, offset);
}

/** An API error; for `invalid_template`, where it is and a button to go there. */
function templateError(out, err, prefix, controls) {
  const box = showError(out, err, prefix);
  const detail = err.body && err.body.error;
  if (!detail || detail.line === undefined || detail.line === null) return;
  const control = controls[detail.field];
  const where = `Line ${detail.line}, column ${detail.column}`
    + (detail.token ? `: unknown token ${detail.token}` : '');
  box.append(el('p', { class: 'where' }, el('code', {}, where), ' ', control
    ? el('button', { type: 'button', class: 'secondary', onclick: () => caretTo(control, detail.line, detail.column) },
      `Go to line ${detail.line}`)
    : null));
}

/** Templates: list, editor, preview per device. */
export async function templatesTab(panel, ctx) {
  let templates = [];
  let devices = [];
  let models = [];
  try {
    [templates, devices, models] = await Promise.all([
      api('GET', `${ctx.d}/templates`), api('GET', `${ctx.d}/devices`), api('GET', 'models')]);
  } catch (err) {
    showError(panel, err, 'Could not load templates');
    return;
  }
  const withFiles = models.filter((m) => m.format !== 'none');
  const formatOf = (modelId) => (models.find((m) => m.id === modelId) || {}).format;
  const withFile = (dev) => formatOf(dev.model) && formatOf(dev.model) !== 'none';

  const list = el('div', { id: 'template-list' });
  const pick = el('select', { id: 'template-pick' });
  const name = el('input', { name: 'name', id: 'template-name', autocomplete: 'off', pattern: '[a-z0-9._-]{1,64}' });
  const format = choice('format', FORMATS, 'cfg');
  format.id = 'template-format';
  const model = choice('model', [['', 'None (apply by hand, or the default)'],
    ...withFiles.map((m) => [m.id, `${m.id} (${m.name})`])], '');
  model.id = 'template-model';
  const label = el('input', { name: 'line_label', id: 'template-label', autocomplete: 'off' });
  const body = el('textarea', { name: 'body', id: 'template-body', rows: '12', spellcheck: 'false' });
  const device = el('select', { id: 'preview-device' }, devices
    .filter(withFile)
    .map((dev) => el('option', { value: dev.extension },
      `${dev.extension} — ${dev.model}${dev.session ? ` — ${dev.session.user_name || dev.session.user} logged in` : ''}`)));
  const targets = el('div', { id: 'apply-devices', role: 'group', 'aria-label': 'Phones to apply the template to' },
    devices.filter(withFile).map((dev) => el('label', { class: 'check' },
      el('input', { type: 'checkbox', name: 'apply-device', value: dev.extension, 'data-format': formatOf(dev.model) }),
      ` ${dev.extension} — ${dev.model}${dev.template ? ` (now ${dev.template})` : ''}`)));
  const applyOut = el('div', { id: 'apply-result', 'aria-live': 'polite' });
  const saveOut = el('div', { id: 'template-result', 'aria-live': 'assertive' });
  const previewOut = el('div', { id: 'preview-result', 'aria-live': 'polite' });
  const controls = { body, line_label: label };

  function input() {
    const out = { format: format.value };
    if (model.value) out.model = model.value;
    if (label.value.trim()) out.line_label = label.value;
    if (body.value.trim()) out.body = body.value;
    return out;
  }

  function load(templateName) {
    const t = templates.find((x) => x.name === templateName);
    name.value = t ? t.name : '';
    name.readOnly = Boolean(t);
    format.value = t ? t.format : 'cfg';
    model.value = (t && t.model) || '';
    label.value = (t && t.line_label) || '';
    body.value = (t && t.body) || '';
    saveOut.replaceChildren();
    previewOut.replaceChildren();
    applyOut.replaceChildren();
    matchFormat();
  }

  /** Only phones whose files have the template's format can take it. */
  function matchFormat() {
    for (const box of targets.querySelectorAll('input')) {
      box.disabled = box.dataset.format !== format.value;
      if (box.disabled) box.checked = false;
    }
  }

  function drawList() {
    const current = pick.value;
    pick.replaceChildren(el('option', { value: NEW }, 'New template…'),
      ...templates.map((t) => el('option', { value: t.name, selected: t.name === current }, t.name)));
    list.replaceChildren(templates.length === 0
      ? empty('No templates yet: every phone gets the built-in file for its format, labelled with its user\'s name.')
      : table(['Name', 'Format', 'Model', 'Line label', 'File'], templates.map((t) => [
        t.name, t.format, t.model || '—', t.line_label || '—', t.body ? 'own file' : 'built-in file']), 'Templates of this domain'));
  }

  async function preview(e) {
    e.preventDefault();
    if (!device.value) {
      showError(previewOut, new Error('No device with a provisioning file to preview.'));
      return;
    }
    const request = { template: input() };
    if (name.value.trim()) request.name = name.value.trim();
    try {
      const result = await api('POST', `${ctx.d}/devices/${seg(device.value)}/preview`, request);
      previewOut.replaceChildren(
        el('p', { class: 'hint' }, `The file ${result.device} (${result.model}) would fetch, password masked. Not saved.`),
        el('pre', { id: 'preview-file', tabindex: '0', 'aria-label': `Rendered file for ${result.device}` }, result.file));
    } catch (err) {
      templateError(previewOut, err, 'Preview failed', controls);
    }
  }

  async function save(e) {
    e.preventDefault();
    const templateName = name.value.trim();
    if (!templateName) {
      showError(saveOut, new Error('Give the template a name (a-z, 0-9, ".", "-", "_").'));
      name.focus();
      return;
    }
    try {
      const saved = await api('PUT', `${ctx.d}/templates/${seg(templateName)}`, input());
      templates = [...templates.filter((t) => t.name !== saved.name), saved].sort((a, b) => a.name.localeCompare(b.name));
      pick.value = saved.name;
      drawList();
      name.readOnly = true;
      saveOut.replaceChildren(el('p', { class: 'success' }, `Saved ${saved.name}. Phones fetch it at their next check; use Apply and resync to push it now.`));
      toast(`Template ${saved.name} saved.`);
    } catch (err) {
      templateError(saveOut, err, 'Not saved', controls);
    }
  }

  async function apply(resync) {
    const templateName = name.value.trim();
    if (!templates.some((t) => t.name === templateName)) {
      showError(applyOut, new Error('Save the template first: only saved templates can be applied.'));
      return;
    }
    const chosen = [...targets.querySelectorAll('input:checked')].map((box) => box.value);
    if (chosen.length === 0) {
      showError(applyOut, new Error('Choose at least one phone.'));
      return;
    }
    try {
      const result = await api('POST', `${ctx.d}/templates/${seg(templateName)}/apply`, { devices: chosen, resync });
      applyOut.replaceChildren(el('p', { class: 'success' }, `Applied ${result.template} to ${result.applied.join(', ')}. `
        + (resync ? `${result.resynced} phone${result.resynced === 1 ? '' : 's'} told to fetch it now (check-sync).`
          : 'The phones fetch it at their next check.')));
      for (const box of targets.querySelectorAll('input:checked')) {
        box.parentElement.lastChild.textContent = box.parentElement.lastChild.textContent.replace(/ \(now [^)]*\)$/, '')
          + ` (now ${result.template})`;
      }
      toast(`Template ${result.template} applied.`);
    } catch (err) {
      showError(applyOut, err, 'Not applied');
    }
  }

  pick.addEventListener('change', () => load(pick.value));
  format.addEventListener('change', matchFormat);
  const form = el('form', { id: 'template-form', novalidate: true },
    el('div', { class: 'field' }, el('label', { for: 'template-pick' }, 'Template to edit'), pick),
    el('div', { class: 'row' },
      field('Name', name, 'default = the domain\'s fallback'),
      field('Format', format),
      field('Default for model', model)),
    field('Line label', label, 'e.g. hot desk [[first_name]] [[last_name]] [[extension]]'),
    field('File template', body, 'Empty: the built-in file. Values [[ first_name ]], logic [% if logged_in %]…[% endif %].'),
    saveOut,
    el('fieldset', {}, el('legend', {}, 'Preview'),
      el('div', { class: 'row' },
        field('Device', device, 'Rendered as this phone would fetch it, with the template as edited'),
        el('div', { class: 'field end' }, el('button', { type: 'button', id: 'preview-button', class: 'secondary', onclick: preview }, 'Preview'))),
      previewOut),
    el('button', { type: 'submit' }, 'Save template'),
    el('fieldset', { id: 'apply' }, el('legend', {}, 'Apply to phones'),
      el('p', { class: 'hint' }, 'The chosen phones get this saved template from now on. '
        + '"Apply and resync" also tells each to fetch its file now.'),
      devices.some(withFile) ? targets : empty('No phone with a provisioning file yet.'),
      el('div', { class: 'row' },
        el('button', { type: 'button', id: 'apply-button', class: 'secondary', onclick: () => apply(false) }, 'Apply'),
        el('button', { type: 'button', id: 'apply-resync-button', onclick: () => apply(true) }, 'Apply and resync')),
      applyOut));
  form.addEventListener('submit', save);
  drawList();
  panel.replaceChildren(el('h2', {}, 'Templates'),
    el('p', { class: 'hint' }, 'A phone gets the template applied to it, else the domain\'s template for its model, '
      + 'else "default", else the built-in file; the line label comes from the first that sets one.'),
    list, el('h3', {}, 'Edit'), form);
  const first = templates[0];
  if (first) pick.value = first.name;
  load(pick.value);
}
