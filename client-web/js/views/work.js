// "My work": tasks offered to me and still open to me, then the ones I hold,
// most urgent first, each with the buttons its state allows; then "Done
// tonight", what I completed this shift (the hub's last 12 hours), newest
// first, so a finished task is seen to be finished, not just gone. The cards are
// keyed by task and updated in place (see `updateKeyed`), so a new offer
// arriving does not move the focus or put a new button under a finger.

import { h, updateKeyed } from '../dom.js';
import { clock, priorityRank } from '../format.js';
import { taskCard, button } from './task-card.js';

/** @typedef {import('../types.js').TaskView} TaskView */
/** @typedef {import('./context.js').ViewContext} ViewContext */

/**
 * What I completed in the last 12 hours, newest first.
 * @param {import('../store.js').Store} store
 */
export function doneTonight(store) {
  const me = store.me?.id;
  const since = store.now() - 12 * 3600 * 1000;
  return [...store.tasks.values()]
    .filter((t) => t.state === 'completed' && t.assignee?.id === me && (t.closed_at ?? 0) >= since)
    .sort((a, b) => (b.closed_at ?? 0) - (a.closed_at ?? 0));
}

/**
 * A task I completed: what was done and when, no buttons. Marked
 * `data-done`, not `data-task`: the open task has left My work.
 * @param {TaskView} t @param {number} now @param {(id: string) => string} wardName
 */
function doneCard(t, now, wardName) {
  const when = t.closed_at !== null ? clock(t.closed_at) : '';
  const card = taskCard(t, { now, wardName, extra: [h('p', { class: 'who done', text: `Completed ${when}${t.closing_note ? `: ${t.closing_note}` : ''}` })] });
  card.removeAttribute('data-task');
  card.dataset.done = t.id;
  return card;
}

/** @param {ViewContext} ctx */
export function workView(ctx) {
  const list = h('div', { class: 'list' });
  const el = h('section', { class: 'view', 'aria-labelledby': 'work-title' }, h('h2', { id: 'work-title', class: 'view-title', text: 'My work' }), list);

  function update() {
    const { store, actions, outbox } = ctx;
    const now = store.now();
    const tasks = store.myWork().sort(
      (a, b) => Number(b.state === 'offering') - Number(a.state === 'offering') || priorityRank(a.priority) - priorityRank(b.priority) || a.raised_at - b.raised_at,
    );
    const done = doneTonight(store);
    /** @type {[string, HTMLElement][]} */
    const tail = done.length
      ? [
          ['done-title', h('h3', { class: 'subhead', id: 'done-tonight', text: `Done tonight (${done.length})` })],
          ...done.map((t) => /** @type {[string, HTMLElement]} */ ([`d:${t.id}:${t.version}`, doneCard(t, now, ctx.wardName)])),
        ]
      : [];
    if (tasks.length === 0) {
      updateKeyed(list, [['empty', h('p', { class: 'empty', text: 'Nothing offered to you or held by you.' })], ...tail]);
      return;
    }
    updateKeyed(list, [
      ...tasks.map((t) => {
        const pending = outbox.pendingFor(t.id).map((e) => e.label);
        const busy = pending.length > 0;
        /** @type {HTMLButtonElement[]} */
        let buttons;
        if (t.state === 'offering') {
          buttons = [button('Accept', () => actions.accept(t), 'primary', busy), button('Decline', () => void actions.decline(t), 'secondary', busy)];
        } else if (t.state === 'assigned') {
          // Her accept acknowledges the coordinator's assignment.
          buttons = [button('Acknowledge', () => actions.accept(t), 'primary', busy), button('Decline', () => void actions.decline(t), 'secondary', busy)];
        } else {
          buttons = [
            t.state === 'accepted' ? button('Start', () => actions.start(t), 'primary', busy) : null,
            button('Complete', () => void actions.complete(t), t.state === 'started' ? 'primary' : 'secondary', busy),
            button('Hand back', () => void actions.handBack(t), 'secondary', busy),
          ].filter((b) => b !== null);
        }
        return /** @type {[string, HTMLElement]} */ ([`t:${t.id}`, taskCard(t, { now, wardName: ctx.wardName, actions: buttons, pending })]);
      }),
      ...tail,
    ]);
  }

  return { el, update };
}
