// "Not sent": commands the dashboard never carried out because they waited
// longer than a night for the hub (or the hub no longer knew them), at the
// top of the screen until the coordinator dismisses each one. The dialog
// that gave the command says so too, but it may have been closed long ago,
// and an action the coordinator believes was taken must not vanish.

import { h } from '../js/dom.js';
import { PRIORITY_LABEL } from '../js/format.js';

/** @typedef {import('../js/types.js').Command} Command */
/** @typedef {import('./state.js').DashState} DashState */

/**
 * What a command was, in the coordinator's words.
 * @param {Command} cmd
 * @param {DashState} state
 */
export function describeCommand(cmd, state) {
  /** @param {string} id */
  const task = (id) => {
    const t = state.tasks.get(id) ?? state.closedViews.get(id);
    return t ? `${state.wardName(t.ward)} bed ${t.bed}` : 'a task';
  };
  /** @param {string} id */
  const person = (id) => state.staff.get(id)?.name ?? 'a member of staff';
  switch (cmd.op) {
    case 'assign':
      return `assign ${task(cmd.task)} to ${person(cmd.staff)}`;
    case 'set_priority':
      return `make ${task(cmd.task)} ${PRIORITY_LABEL[cmd.priority]}`;
    case 'cancel':
      return `cancel ${task(cmd.task)}`;
    case 'escalate_now':
      return `escalate ${task(cmd.task)}`;
    case 'send_page':
      return `page "${cmd.message.slice(0, 60)}"`;
    case 'start_shift':
      return `start the shift of ${person(cmd.staff)}`;
    case 'end_shift':
      return `end the shift of ${person(cmd.staff)}`;
    default:
      return cmd.op.replace(/_/g, ' ');
  }
}

/** @param {{state: DashState}} deps */
export function createUnsent({ state }) {
  const el = h('section', { class: 'unsent', 'aria-label': 'Not sent', 'aria-live': 'polite', hidden: true });

  /** @param {Command} cmd @param {string} message */
  function add(cmd, message) {
    const item = h(
      'article',
      { class: 'unsent-item' },
      h('p', { class: 'unsent-what', text: `Not sent: ${describeCommand(cmd, state)}` }),
      h('p', { class: 'unsent-why', text: `${message[0].toUpperCase()}${message.slice(1)}.` }),
      h('button', {
        type: 'button',
        class: 'btn secondary small',
        text: 'Dismiss',
        onclick: () => {
          item.remove();
          el.hidden = el.childElementCount === 0;
        },
      }),
    );
    el.append(item);
    el.hidden = false;
  }

  return { el, add };
}
