// "Raised": what I asked for and where it stands: offered to whom, declined by
// whom and why, accepted/started by whom, escalated (why, to whom, and when
// next), handed back by whom and why, done, or no one accepted (the
// coordinator is told). Open tasks first, the most urgent and most overdue
// at the top (see `Store.raisedByMe`); the raiser may cancel. The list is keyed by task and updated in
// place (see `updateKeyed`), so focus and tap targets stay put.

import { h, updateKeyed } from '../dom.js';
import { clock } from '../format.js';
import { taskCard, button } from './task-card.js';
import { offeredWords } from '../reach.js';

/** @typedef {import('../types.js').TaskView} TaskView */
/** @typedef {import('./context.js').ViewContext} ViewContext */

const OPEN = new Set(['offering', 'no_one_accepted', 'assigned', 'accepted', 'started']);

/**
 * @param {TaskView} t
 * @param {import('../store.js').Escalation | undefined} esc the latest escalation seen
 * @param {import('../store.js').HandBack | undefined} back the latest hand-back seen
 */
function progress(t, esc, back) {
  const lines = [];
  if (back && (t.state === 'offering' || t.state === 'no_one_accepted')) {
    lines.push(h('p', { class: 'who handed-back', text: `Handed back by ${back.by} at ${clock(back.at)}${back.reason ? `: “${back.reason}”` : ''}` }));
  }
  if (t.state === 'offering') {
    const reach = offeredWords(t);
    lines.push(h('p', { class: `who${reach.nobody ? ' escalated' : ''}`, 'data-reach': reach.nobody ? 'nobody' : 'some', text: reach.text }));
  }
  for (const o of t.offers.filter((x) => x.state === 'declined')) {
    lines.push(h('p', { class: 'who declined', text: `Declined by ${o.staff.name}${o.reason ? `: “${o.reason}”` : ''}` }));
  }
  if (t.assignee && t.state === 'assigned') {
    lines.push(h('p', { class: 'who', text: `Assigned to ${t.assignee.name}${t.assigned_by ? ` by ${t.assigned_by.name}` : ''}: not acknowledged yet` }));
  }
  if (t.assignee && (t.state === 'accepted' || t.state === 'started' || t.state === 'completed')) {
    const at = t.accepted_at !== null ? ` at ${clock(t.accepted_at)}` : '';
    lines.push(h('p', { class: 'who accepted', text: `Accepted by ${t.assignee.name}${at}` }));
  }
  if (t.started_at !== null && t.state !== 'offering') lines.push(h('p', { class: 'who', text: `Started ${clock(t.started_at)}` }));
  if (t.state === 'no_one_accepted') {
    const why = t.unassigned_reason === 'no_candidates' ? 'No one on shift can take it' : 'Everyone declined';
    lines.push(h('p', { class: 'who escalated', text: `${why}: the coordinator has been told.` }));
  }
  if (t.escalation_level > 0) {
    // Never "alerted" someone whose phone was not connected.
    const silent = new Set(t.offers.filter((o) => o.unconnected).map((o) => o.staff.name));
    const rang = esc ? esc.alerted.filter((n) => !silent.has(n)) : [];
    const notRung = esc ? esc.alerted.filter((n) => silent.has(n)) : [];
    const who = [rang.length ? `alerted ${rang.join(', ')}` : '', notRung.length ? `not connected: ${notRung.join(', ')}` : ''].filter(Boolean).join('; ');
    const why = esc ? `: ${esc.reason}${who ? ` (${who})` : ''}` : '';
    lines.push(h('p', { class: 'who escalated', text: `Escalated${t.escalation_level > 1 ? ` ${t.escalation_level} times` : ''}${why}` }));
  }
  if (t.next_escalation_at !== null && OPEN.has(t.state)) {
    lines.push(h('p', { class: 'who', text: `Escalates at ${clock(t.next_escalation_at)} if nobody acts` }));
  }
  if (t.state === 'completed') lines.push(h('p', { class: 'who done', text: `Completed ${t.closed_at !== null ? clock(t.closed_at) : ''}${t.closing_note ? `: ${t.closing_note}` : ''}` }));
  if (t.state === 'cancelled') lines.push(h('p', { class: 'who', text: `Cancelled${t.closing_note ? `: ${t.closing_note}` : ''}` }));
  return lines;
}

/** @param {ViewContext} ctx */
export function raisedView(ctx) {
  const list = h('div', { class: 'list' });
  const el = h('section', { class: 'view', 'aria-labelledby': 'raised-title' }, h('h2', { id: 'raised-title', class: 'view-title', text: 'Tasks I raised' }), list);

  function update() {
    const { store, actions, outbox } = ctx;
    const now = store.now();
    const all = store.raisedByMe();
    const open = all.filter((t) => OPEN.has(t.state));
    const closed = all.filter((t) => !OPEN.has(t.state));
    /** @param {TaskView} t @returns {[string, Element]} */
    const card = (t) => {
      const pending = outbox.pendingFor(t.id).map((e) => e.label);
      return [`t:${t.id}`, taskCard(t, {
        now,
        wardName: ctx.wardName,
        extra: progress(t, store.escalations.get(t.id), store.handBacks.get(t.id)),
        pending,
        actions: OPEN.has(t.state) ? [button('Cancel task', () => void actions.cancel(t), 'secondary', pending.length > 0)] : [],
      })];
    };
    const queued = outbox.entries().filter((e) => e.cmd.op === 'raise_task');
    /** @type {[string, Element][]} */
    const items = queued.map((e) => [`q:${e.id}`, h('p', { class: 'pending', text: `Queued, not raised yet: ${e.label}` })]);
    if (all.length === 0 && queued.length === 0) items.push(['empty', h('p', { class: 'empty', text: 'You have not raised a task this shift.' })]);
    items.push(...open.map(card));
    if (closed.length) items.push(['closed', h('h3', { class: 'subhead', text: 'Closed' })]);
    items.push(...closed.map(card));
    updateKeyed(list, items);
  }

  return { el, update };
}
