// An escalation in the words a coordinator uses at 3 a.m.: what did not
// happen, for how long, and who the hub turned to ("Nobody accepted it in
// 2 min. Offered to Dr Omar Khan (SHO) and Dr Claire Evans (Registrar)."),
// rather than the ladder's own account of its steps, which stays available
// as the dashboard line's tooltip. The raiser's phone says it the same way
// (her alert and the Raised card). Pure (no DOM), so the unit tests read it
// directly.

import { ROLE_LABEL, duration } from './format.js';

/** @typedef {import('./types.js').Role} Role */
/** @typedef {import('./reduce.js').Escalated} Escalated */

/** @param {Role} r */
const roleLabel = (r) => /** @type {Record<string, string | undefined>} */ (ROLE_LABEL)[r] ?? r;

/** "A", "A and B", "A, B and C". @param {string[]} names */
export function listWords(names) {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/**
 * @param {Escalated} ev a `task_escalated` or `page_escalated` event
 * @param {number} at when the hub fired it (the frame's time)
 * @param {(staff: string) => Role | undefined} roleOf each person's role tonight, if known
 */
export function escalationWords(ev, at, roleOf) {
  const named = (/** @type {{id: string, name: string}} */ s) => {
    const role = roleOf(s.id);
    return role ? `${s.name} (${roleLabel(role)})` : s.name;
  };
  // Coordinators and nurses in charge are told; anyone else was offered the
  // task (or paged) and can take it.
  const tellsOnly = (/** @type {{id: string}} */ s) => {
    const role = roleOf(s.id);
    return role === 'coordinator' || role === 'nurse_in_charge';
  };
  const offered = ev.alerted.filter((s) => !tellsOnly(s)).map(named).sort();
  const told = ev.alerted.filter(tellsOnly).map(named).sort();
  /** @type {string[]} */
  const then = [];
  if (ev.kind === 'task_escalated') {
    const t = ev.task;
    const holder = t.assignee && (t.state === 'accepted' || t.state === 'started') ? t.assignee : null;
    const assignee = t.assignee && t.state === 'assigned' ? t.assignee : null;
    const first = holder
      ? `Not completed ${duration(at - (t.accepted_at ?? t.raised_at))} after ${holder.name} accepted it.`
      : assignee
        ? `${assignee.name} has not acknowledged it ${duration(at - (t.assigned_at ?? t.raised_at))} after ${t.assigned_by?.name ?? 'a coordinator'} assigned it.`
        : `Nobody accepted it in ${duration(at - t.raised_at)}.`;
    if (offered.length) then.push(`${holder || assignee ? 'Alerted' : 'Offered to'} ${listWords(offered)}`);
    if (told.length) then.push(`${listWords(told)} told`);
    if (!then.length) return `${first} Nobody else is on shift to alert.`;
    return `${first} ${then.join('; ')}.`;
  }
  const first = `Nobody acknowledged it in ${duration(at - ev.page.sent_at)}.`;
  if (offered.length) then.push(`Also paged ${listWords(offered)}`);
  if (told.length) then.push(`${listWords(told)} told`);
  if (!then.length) return `${first} Nobody else is on shift to page.`;
  return `${first} ${then.join('; ')}.`;
}
