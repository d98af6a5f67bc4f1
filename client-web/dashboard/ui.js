// Small pieces the dashboard's views share: a labelled field, a polite status
// line for a command's outcome, and turning the hub's answer into words.

import { h } from '../js/dom.js';

/** @typedef {import('./link.js').Answer} Answer */

/**
 * A label above a control.
 * @param {string} label
 * @param {HTMLElement} control must have an id
 */
export function field(label, control) {
  return h('div', { class: 'field' }, h('label', { for: control.id, text: label }), control);
}

/** A live region for the outcome of the last command in a form. */
export function outcomeLine() {
  const el = h('p', { class: 'outcome', role: 'status', 'aria-live': 'polite' });
  return {
    el,
    /** @param {string} text */
    busy(text) {
      el.className = 'outcome busy';
      el.textContent = text;
    },
    /** @param {Answer} answer @param {string} success */
    show(answer, success) {
      if (answer.ok) {
        el.className = 'outcome ok';
        el.textContent = success;
      } else if (answer.code === 'id_expired') {
        el.className = 'outcome bad';
        el.textContent = `Not sent: ${answer.message}.`;
      } else {
        el.className = 'outcome bad';
        el.textContent = `Not done: ${answer.message} (${answer.code})`;
      }
    },
  };
}

/** Stable ids for form controls created many times (dialogs). */
let serial = 0;
/** @param {string} prefix */
export function uid(prefix) {
  serial += 1;
  return `${prefix}-${serial}`;
}
