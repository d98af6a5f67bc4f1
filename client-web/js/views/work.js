// "My work": tasks offered to me and still open to me, then the ones I hold,
// most urgent first, each with the buttons its state allows. The cards are
// keyed by task and updated in place (see `updateKeyed`), so a new offer
// arriving does not move the focus or put a new button under a finger.

import { h, updateKeyed } from '../dom.js';
import { priorityRank } from '../format.js';
import { taskCard, button } from './task-card.js';

/** @typedef {import('../types.js').TaskView} TaskView */
/** @typedef {import('./context.js').ViewContext} ViewContext */

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
    if (tasks.length === 0) {
      updateKeyed(list, [['empty', h('p', { class: 'empty', text: 'Nothing offered to you or held by you.' })]]);
      return;
    }
    updateKeyed(
      list,
      tasks.map((t) => {
        const pending = outbox.pendingFor(t.id).map((e) => e.label);
        const busy = pending.length > 0;
        /** @type {HTMLButtonElement[]} */
        let buttons;
        if (t.state === 'offering') {
          buttons = [button('Accept', () => actions.accept(t), 'primary', busy), button('Decline', () => void actions.decline(t), 'secondary', busy)];
        } else {
          buttons = [
            t.state === 'accepted' ? button('Start', () => actions.start(t), 'primary', busy) : null,
            button('Complete', () => void actions.complete(t), t.state === 'started' ? 'primary' : 'secondary', busy),
            button('Hand back', () => void actions.handBack(t), 'secondary', busy),
          ].filter((b) => b !== null);
        }
        return [`t:${t.id}`, taskCard(t, { now, wardName: ctx.wardName, actions: buttons, pending })];
      }),
    );
  }

  return { el, update };
}
