// Administration → Queues: ring groups and call queues (HD-ROUTE-7). Lists each queue with
// its members in hunting order and, for user members, their agent status (HD-LOGIN-10:
// offline until their first portal sign-in of the day, then logged in or out); adds and
// deletes queues and members. The API validates (extension taken, unknown member, ring
// time range) and its refusals are shown as they come.
import { api, seg } from './api.js';
import { el, showError, empty, toast, field, choice, table, confirmDialog } from './shell.js';

const STRATEGIES = [['ring_all', 'Ring all'], ['round_robin', 'Round robin']];
const KINDS = [['user', 'User (rings wherever they are)'], ['phone', 'Phone (that device only)']];
const STATUS = { offline: 'offline', logged_in: 'logged in', logged_out: 'logged out' };

/** One member as text: "User 1004 (agent, logged in)" or "Phone 94001". */
function memberText(m) {
  if (m.kind === 'phone') return `Phone ${m.extension}`;
  const notes = [m.agent ? 'agent' : null, STATUS[m.queue_status] || m.queue_status].filter(Boolean);
  return `User ${m.extension}${notes.length ? ` (${notes.join(', ')})` : ''}`;
}

function memberList(ctx, q, reload, result) {
  if (q.members.length === 0) return el('span', { class: 'muted' }, 'No members');
  return el('ol', { class: 'members' }, q.members.map((m) => {
    const remove = el('button', {
      type: 'button', class: 'secondary', 'aria-label': `Remove ${m.kind} ${m.extension} from queue ${q.extension}`,
    }, 'Remove');
    remove.addEventListener('click', async () => {
      try {
        await api('DELETE', `${ctx.d}/queues/${seg(q.extension)}/members/${seg(m.kind)}/${seg(m.extension)}`);
        toast(`Removed ${m.extension} from ${q.extension}.`);
        await reload();
      } catch (err) {
        showError(result, err, 'Not removed');
      }
    });
    return el('li', { 'data-member': `${q.extension}:${m.kind}:${m.extension}` }, memberText(m), ' ', remove);
  }));
}

function addMemberForm(ctx, q, reload, result) {
  const form = el('form', { class: 'inline', 'data-queue': q.extension, novalidate: true },
    field('Kind', choice('kind', KINDS, 'user')),
    field('Extension', el('input', { name: 'extension', inputmode: 'numeric', required: true })),
    el('button', { type: 'submit', 'aria-label': `Add member to queue ${q.extension}` }, 'Add member'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const extension = String(data.get('extension') || '').trim();
    try {
      await api('POST', `${ctx.d}/queues/${seg(q.extension)}/members`, { [data.get('kind')]: extension });
      toast(`Added ${extension} to ${q.extension}.`);
      await reload();
    } catch (err) {
      showError(result, err, 'Member not added');
    }
  });
  return form;
}

/** The body of a new queue from the form; empty optional fields are left out. */
function queueBody(form) {
  const data = new FormData(form);
  const text = (key) => String(data.get(key) || '').trim();
  const body = { extension: text('extension'), name: text('name'), strategy: text('strategy') };
  if (text('ring_secs')) body.ring_secs = Number(text('ring_secs'));
  if (text('overflow')) body.overflow = text('overflow');
  return body;
}

/** Queues: list with members and status, add/remove members, add/delete queues. */
export async function queuesTab(panel, ctx) {
  const list = el('div', { id: 'queue-list' }, el('p', { class: 'muted' }, 'Loading…'));
  const result = el('div', { id: 'queue-result', 'aria-live': 'assertive' });
  const addError = el('div', { id: 'queue-error', 'aria-live': 'assertive' });
  const addForm = el('form', { id: 'add-queue', novalidate: true },
    el('div', { class: 'row' },
      field('Extension', el('input', { name: 'extension', inputmode: 'numeric', required: true }), 'The number callers dial'),
      field('Name', el('input', { name: 'name', required: true })),
      field('Strategy', choice('strategy', STRATEGIES, 'ring_all')),
      field('Ring time (s)', el('input', { name: 'ring_secs', type: 'number', min: '5', max: '300' }), '5–300, default 15'),
      field('Overflow number', el('input', { name: 'overflow' }), 'Optional: where unanswered calls go')),
    addError, el('button', { type: 'submit' }, 'Add queue'));

  async function reload() {
    try {
      const queues = await api('GET', `${ctx.d}/queues`);
      if (queues.length === 0) {
        list.replaceChildren(empty('No queues yet. Add one below, then its members.'));
        return;
      }
      list.replaceChildren(table(['Extension', 'Name', 'Strategy', 'Ring (s)', 'Members in order', 'Overflow', ''],
        queues.map((q) => {
          const del = el('button', { type: 'button', class: 'danger', 'aria-label': `Delete queue ${q.extension}` }, 'Delete');
          del.addEventListener('click', async () => {
            if (!await confirmDialog(`Delete queue ${q.extension}?`, `Calls to ${q.extension} will no longer reach its members.`, 'Delete')) return;
            try {
              await api('DELETE', `${ctx.d}/queues/${seg(q.extension)}`);
              toast(`Deleted queue ${q.extension}.`);
              await reload();
            } catch (err) {
              showError(result, err, 'Not deleted');
            }
          });
          const strategy = (STRATEGIES.find(([v]) => v === q.strategy) || [q.strategy, q.strategy])[1];
          return [q.extension, q.name, strategy, String(q.ring_secs),
            el('div', {}, memberList(ctx, q, reload, result), addMemberForm(ctx, q, reload, result)),
            q.overflow || '—', del];
        }), 'Queues'));
    } catch (err) {
      showError(list, err, 'Could not list queues');
    }
  }

  addForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const q = await api('POST', `${ctx.d}/queues`, queueBody(addForm));
      addForm.reset();
      addError.replaceChildren(el('p', { class: 'success' }, `Added queue ${q.extension}.`));
      await reload();
    } catch (err) {
      showError(addError, err, 'Not added');
    }
  });
  panel.replaceChildren(el('h2', {}, 'Queues and ring groups'), result, list, el('h3', {}, 'Add a queue'), addForm);
  await reload();
}
