// The wall board: the same night on a 1920x1080 screen read from across the
// room (`?wall` in the address, or the "Wall board" button). Big type, no
// controls: first the tasks with an open escalation or an emergency nobody
// has accepted, then the other open tasks by priority and target. Words,
// not colour alone, say what is late.

import { h } from '../js/dom.js';
import { PRIORITY_LABEL } from '../js/format.js';
import { categoryLabel, dueAt, statusText, targetText, whoText } from './task-text.js';

/** @typedef {import('../js/types.js').TaskView} TaskView */
/** @typedef {import('./state.js').DashState} DashState */

const RANK = { emergency: 0, urgent: 1, soon: 2, routine: 3 };
/** Rows past this many would be off the screen anyway; the count says how many more. */
const MAX_ROWS = 18;

/** @param {TaskView} a @param {TaskView} b */
const byUrgency = (a, b) => RANK[a.priority] - RANK[b.priority] || dueAt(a) - dueAt(b);

/**
 * @param {{state: DashState, now: () => number, urgent: () => Set<string>}} ctx
 *   `urgent`: the ids of tasks with an open escalation or an unaccepted emergency
 */
export function createWall({ state, now, urgent }) {
  const first = h('ol', { class: 'wall-list wall-first', 'aria-labelledby': 'wall-first-title' });
  const rest = h('ol', { class: 'wall-list', 'aria-labelledby': 'wall-rest-title' });
  const more = h('p', { class: 'wall-more' });
  const el = h(
    'div',
    { class: 'view wall-view', id: 'view-wall' },
    h('section', { class: 'panel wall-panel alarm-panel', 'aria-labelledby': 'wall-first-title' }, h('h2', { id: 'wall-first-title', text: 'Needs someone now: escalated, or emergency not accepted' }), first),
    h('section', { class: 'panel wall-panel', 'aria-labelledby': 'wall-rest-title' }, h('h2', { id: 'wall-rest-title', text: 'Other open tasks' }), rest, more),
  );

  /** @param {TaskView} t @param {number} at */
  function row(t, at) {
    const target = targetText(t, at);
    return h(
      'li',
      { class: `wall-row prio-edge-${t.priority}${target.overdue ? ' overdue' : ''}`, 'data-id': t.id },
      h('span', { class: `chip prio-${t.priority}`, text: PRIORITY_LABEL[t.priority] }),
      h('span', { class: 'wall-where', text: `${state.wardName(t.ward)} bed\u00a0${t.bed}` }),
      h('span', { class: 'wall-what', text: categoryLabel(t.category) }),
      h('span', { class: 'wall-state', text: `${statusText(t, at)}${t.escalation_level > 0 ? `, escalated ×${t.escalation_level}` : ''}` }),
      h('span', { class: 'wall-who', text: whoText(t) }),
      h('span', { class: `wall-target${target.overdue ? ' alarm-text' : ''}`, text: target.text }),
    );
  }

  function render() {
    if (el.hidden) return;
    const at = now();
    const ids = urgent();
    const tasks = [...state.tasks.values()].sort(byUrgency);
    const top = tasks.filter((t) => ids.has(t.id));
    const others = tasks.filter((t) => !ids.has(t.id));
    first.replaceChildren(...(top.length ? top.map((t) => row(t, at)) : [h('li', { class: 'empty', text: 'Nothing escalated, no emergency waiting.' })]));
    const room = Math.max(4, MAX_ROWS - top.length);
    rest.replaceChildren(...(others.length ? others.slice(0, room).map((t) => row(t, at)) : [h('li', { class: 'empty', text: 'No other open tasks.' })]));
    more.textContent = others.length > room ? `and ${others.length - room} more` : '';
  }

  return { el, render };
}
