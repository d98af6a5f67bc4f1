// Completions as the phone tells them: her own confirmed ("Completed: ...
// under Done tonight"), and work done offline that the hub refused because
// the task moved meanwhile (issue 17, hazard 5). A doctor completes a task with her phone offline;
// the coordinator gives it to Dr Khan; on reconnect her queued completion is
// refused. It used to be an 8-second toast, and Dr Khan went to do a job
// already done. Now the phone says plainly what happened, with the time she
// did it, and offers to tell the hub (`complete_offline`, with the time the
// action was queued); the new holder's phone says the job is done already.

import { confirmDialog } from './dialog.js';
import { toast } from './toast.js';
import { clock, taskPlace } from '../format.js';
import { issuedAt } from '../outbox.js';

/** @typedef {import('../store.js').Store} Store */
/** @typedef {import('../connection.js').Link} Link */
/** @typedef {import('../outbox.js').OutboxEntry} OutboxEntry */
/** @typedef {import('../types.js').TaskView} TaskView */

/** Older events (a replay) are history, not news. */
const FRESH_MS = 2 * 60 * 1000;

/** Refusals that mean "you no longer hold it" for a queued complete. */
const MOVED = new Set(['forbidden', 'invalid_state', 'not_found']);

/**
 * What happened, in words: "You completed this at 02:14 while offline; the
 * coordinator had given it to Dr Omar Khan."
 * @param {OutboxEntry} entry @param {TaskView | undefined} t @param {string | undefined} me
 */
export function conflictText(entry, t, me) {
  const at = clock(issuedAt(entry));
  const offline = entry.offline ? ' while offline' : '';
  const who = t?.assignee && t.assignee.id !== me ? `the coordinator had given it to ${t.assignee.name}` : t?.state === 'offering' ? 'it had been offered to others again' : 'it was no longer yours at the hub';
  return `You completed this at ${at}${offline}; ${who}.`;
}

/**
 * Watches the link for a refused queued completion and the store's events
 * for a task of mine completed by someone else.
 * @param {{link: Link, store: Store, wardName: (id: string) => string}} ctx
 */
export function watchOfflineConflicts({ link, store, wardName }) {
  /** Tasks I hold, so that I hear when someone else finished one. @type {Set<string>} */
  const held = new Set();
  const me = () => store.me?.id;
  const seed = () => {
    for (const t of store.tasks.values()) if (t.assignee?.id === me() && !['completed', 'cancelled'].includes(t.state)) held.add(t.id);
  };

  link.addEventListener('cmd-error', (e) => {
    const detail = /** @type {CustomEvent} */ (e).detail;
    const entry = /** @type {OutboxEntry} */ (detail.entry);
    const cmd = /** @type {any} */ (entry.cmd);
    if (cmd.op !== 'complete' || !MOVED.has(detail.code)) return;
    const t = store.tasks.get(cmd.task);
    if (t && (t.state === 'completed' || t.state === 'cancelled')) return;
    detail.shown = true; // this dialog says it, not a toast
    void ask(entry, t);
  });

  /** @param {OutboxEntry} entry @param {TaskView | undefined} t */
  async function ask(entry, t) {
    const cmd = /** @type {any} */ (entry.cmd);
    const where = t ? taskPlace(t, wardName) : 'A task';
    const holder = t?.assignee && t.assignee.id !== me() ? t.assignee.name : null;
    const tell = await confirmDialog({
      title: `${where}: your completion was not recorded`,
      text: `${conflictText(entry, t, me())} Tell the hub it was done${holder ? `, so ${holder} does not do it again` : ''}?`,
      yes: 'Tell the hub it was done',
      no: 'Leave it',
    });
    if (!tell) {
      toast(`${where}: not recorded as done${holder ? `; ${holder} has it` : ''}.`, 'error');
      return;
    }
    link.send({ op: 'complete_offline', task: cmd.task, outcome: cmd.outcome ?? '', done_at: issuedAt(entry) }, `Report done offline ${t ? `${wardName(t.ward)} bed ${t.bed}` : ''}`.trim());
  }

  link.addEventListener('frame', (e) => {
    const ev = /** @type {CustomEvent} */ (e).detail.event;
    if (held.size === 0) seed();
    if (ev.kind !== 'task') return;
    const t = ev.task;
    // Her own completion: say so, and where it went.
    if (ev.change === 'completed' && ev.by?.id === me() && Date.now() - /** @type {CustomEvent} */ (e).detail.at < FRESH_MS) {
      toast(`Completed: ${taskPlace(t, wardName)}. It is under "Done tonight" in My work.`, 'ok');
    }
    if (ev.change === 'completed' && held.has(t.id) && ev.by && ev.by.id !== me()) {
      toast(`${taskPlace(t, wardName)} is done already: ${ev.by.name} completed it${/while offline/.test(t.closing_note ?? '') ? ' while offline' : ''}. Nothing for you to do.`, 'ok');
    }
    if (t.assignee?.id === me() && !['completed', 'cancelled'].includes(t.state)) held.add(t.id);
    else held.delete(t.id);
  });
}
