// Routine updates worth a silent toast: what the people I asked are doing
// with my tasks and pages. These never ring; sound is kept for alerts. What
// rings for the raiser instead (her urgent or emergency task not accepted in
// time, escalated or handed back: see the `raiser` notice in store.js) gets
// no toast on top. The answer to a page of mine is also a system
// notification while the app is in the background.

import { REPLY_LABEL } from './page-words.js';
import { escalationWords } from './escalation-words.js';
import { taskPlace } from './format.js';

/** @typedef {import('./types.js').EventFrame} EventFrame */

/** Older events (a replay after a long gap or a fresh login) are history, not news. */
const FRESH_MS = 2 * 60 * 1000;

/** Priorities for which the raiser is alerted, not toasted. */
const LOUD = new Set(['emergency', 'urgent']);

/**
 * @param {EventFrame} frame
 * @param {string | undefined} me
 * @param {(id: string) => string} [wardName] the ward as the hospital writes it
 * @param {(staff: string) => import('./types.js').Role | undefined} [roleOf] each person's role tonight, if known
 * @returns {string | null}
 */
export function routineNotice(frame, me, wardName = (id) => id, roleOf = () => undefined) {
  const ev = frame.event;
  if (!me || Date.now() - frame.at > FRESH_MS) return null;
  if ((ev.kind === 'task' || ev.kind === 'task_escalated') && ev.task.raised_by.id === me && LOUD.has(ev.task.priority)) {
    if (ev.kind === 'task_escalated' || ev.change === 'no_one_accepted' || ev.change === 'handed_back') return null;
  }
  if (ev.kind === 'task_escalated' && ev.task.raised_by.id === me && !ev.alerted.some((s) => s.id === me)) {
    return `${taskPlace(ev.task, wardName)} escalated. ${escalationWords(ev, frame.at, roleOf)}`;
  }
  if (ev.kind === 'page_escalated' && ev.page.from.id === me && !ev.alerted.some((s) => s.id === me)) {
    return `Your page was escalated. ${escalationWords(ev, frame.at, roleOf)}`;
  }
  if (ev.kind !== 'task' && ev.kind !== 'page') return null;
  if (ev.by?.id === me) return null;
  if (ev.kind === 'task' && ev.task.raised_by.id === me) {
    const where = taskPlace(ev.task, wardName);
    switch (ev.change) {
      case 'accepted':
      case 'acknowledged':
        return `${where}: accepted by ${ev.task.assignee?.name ?? 'someone'}`;
      case 'assigned':
        return `${where}: assigned to ${ev.task.assignee?.name ?? 'someone'}, not acknowledged yet`;
      case 'declined':
        return `${where}: declined by ${ev.by?.name ?? 'someone'}`;
      case 'no_one_accepted':
        return `${where}: no one accepted; the coordinator is told`;
      case 'completed':
        return `${where}: completed by ${ev.by?.name ?? 'someone'}`;
      case 'handed_back':
        return `${where}: handed back by ${ev.by?.name ?? 'someone'}`;
      default:
        return null;
    }
  }
  if (ev.kind === 'page' && ev.page.from.id === me && (ev.change === 'acknowledged' || ev.change === 'replied')) {
    // A one-tap reply names itself: "Dr Omar Khan: On my way".
    const reply = ev.page.recipients.find((r) => r.staff.id === ev.by?.id)?.reply;
    if (reply) return `${ev.by?.name ?? 'Someone'}: ${REPLY_LABEL[reply]}`;
    return `${ev.by?.name ?? 'Someone'} acknowledged your page`;
  }
  return null;
}

/**
 * The answer to my page, for a system notification while the app is in the
 * background (a toast there is never seen): "Dr Omar Khan: On my way" over
 * the page's message. The tag carries the reply, so a second reply ("5 min"
 * after "On my way") is shown again.
 * @param {EventFrame} frame
 * @param {string | undefined} me
 * @returns {{key: string, title: string, body: string, priority: import('./types.js').Priority} | null}
 */
export function replyNotification(frame, me) {
  const ev = frame.event;
  if (!me || Date.now() - frame.at > FRESH_MS) return null;
  if (ev.kind !== 'page' || ev.page.from.id !== me || ev.by?.id === me) return null;
  if (ev.change !== 'acknowledged' && ev.change !== 'replied') return null;
  const title = routineNotice(frame, me);
  if (!title) return null;
  const reply = ev.page.recipients.find((r) => r.staff.id === ev.by?.id)?.reply ?? 'ack';
  return { key: `reply:${ev.page.id}:${ev.by?.id ?? ''}:${reply}`, title, body: ev.page.message, priority: 'routine' };
}
