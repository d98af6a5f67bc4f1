// Whom an offer reached: the hub marks an open offer `unconnected` when no
// device of that person was connected, and the task `unreached_at` when
// none of the people it is offered to was (issue 17, hazard 4). The raiser
// is never told "offered to X" as if X's phone had rung when it had not.

/** @typedef {import('./types.js').TaskView} TaskView */

/**
 * The words for whom a task on offer reached.
 * @param {TaskView} t
 * @returns {{text: string, nobody: boolean}} `nobody`: no connected device got it
 */
export function offeredWords(t) {
  const open = t.offers.filter((o) => o.state === 'offered');
  const rang = open.filter((o) => !o.unconnected).map((o) => o.staff.name);
  const silent = open.filter((o) => o.unconnected).map((o) => o.staff.name);
  if (open.length === 0) return { text: 'Offered to no one yet.', nobody: true };
  if (rang.length === 0) {
    const n = open.length === 1 ? '1 person, not connected' : `${open.length} people, none of them connected`;
    return { text: `Offered to ${n} (${silent.join(', ')}): no phone has rung.`, nobody: true };
  }
  const also = silent.length ? ` Not connected, so not alerted: ${silent.join(', ')}.` : '';
  return { text: `Offered to ${rang.join(', ')}.${also}`, nobody: false };
}
