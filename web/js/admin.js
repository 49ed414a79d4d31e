// Administration: a keyboard-operable tab list (arrow keys, Home/End) over the sections;
// each section draws itself on first view from its own module. The API decides what a
// role may do; its refusals are shown as they come.
import { init, el, empty } from './shell.js';
import { usersTab, allocationsTab } from './admin-users.js';
import { devicesTab } from './admin-devices.js';
import { settingsTab, cdrTab, auditTab } from './admin-records.js';
import { templatesTab } from './admin-templates.js';
import { queuesTab } from './admin-queues.js';

const ctx = await init('admin');

const SECTIONS = [
  ['users', 'Users', usersTab],
  ['devices', 'Devices', devicesTab],
  ['queues', 'Queues', queuesTab],
  ['allocations', 'Allocations', allocationsTab],
  ['settings', 'Domain settings', settingsTab],
  ['cdrs', 'Call records', cdrTab],
  ['audit', 'Audit log', auditTab],
  ['templates', 'Templates', templatesTab],
];

const tablist = document.getElementById('tabs');
const panels = document.getElementById('panels');
const drawn = new Set();
const tabs = [];

function select(id, focus) {
  for (const [sid, , draw] of SECTIONS) {
    const tab = document.getElementById(`tab-${sid}`);
    const panel = document.getElementById(`panel-${sid}`);
    const on = sid === id;
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1;
    panel.hidden = !on;
    if (on) {
      if (focus) tab.focus();
      if (!drawn.has(sid)) {
        drawn.add(sid);
        if (ctx.d) draw(panel, ctx);
        else panel.replaceChildren(empty('No domain exists yet.'));
      }
    }
  }
  history.replaceState(null, '', `#${id}`);
}

for (const [id, label] of SECTIONS) {
  const tab = el('button', {
    type: 'button', role: 'tab', id: `tab-${id}`, 'aria-controls': `panel-${id}`, 'aria-selected': 'false', tabindex: '-1',
  }, label);
  tab.addEventListener('click', () => select(id, false));
  tab.addEventListener('keydown', (e) => {
    const i = SECTIONS.findIndex(([sid]) => sid === id);
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: SECTIONS.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    select(SECTIONS[(next + SECTIONS.length) % SECTIONS.length][0], true);
  });
  tabs.push(tab);
  tablist.append(tab);
  panels.append(el('section', {
    role: 'tabpanel', id: `panel-${id}`, 'aria-labelledby': `tab-${id}`, tabindex: '0', hidden: true, class: 'card',
  }));
}

const wanted = location.hash.slice(1);
select(SECTIONS.some(([id]) => id === wanted) ? wanted : 'users', false);
document.body.dataset.ready = 'true';
