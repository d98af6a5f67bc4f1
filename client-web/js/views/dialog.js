// A modal question for a short text (decline reason, completion outcome,
// hand-back reason). Uses the native <dialog>, which sits in the top layer
// above the alert overlay and traps focus for free. Quick-pick chips save
// typing with one thumb.

import { h } from '../dom.js';

/**
 * @param {{title: string, label: string, submit: string, required: boolean, max: number,
 *          suggestions?: string[], initial?: string}} opts
 * @returns {Promise<string | null>} the text, or null when cancelled
 */
export function askText({ title, label, submit, required, max, suggestions = [], initial = '' }) {
  return new Promise((resolve) => {
    const id = `dlg-${Math.random().toString(36).slice(2)}`;
    const input = h('textarea', {
      id: `${id}-text`,
      name: 'text',
      rows: 3,
      maxLength: max,
      required,
      value: initial,
    });
    const count = h('span', { class: 'count', 'aria-live': 'off' });
    const updateCount = () => {
      count.textContent = `${input.value.length}/${max}`;
    };
    input.addEventListener('input', updateCount);
    updateCount();
    const chips = suggestions.map((s) =>
      h('button', {
        type: 'button',
        class: 'chip',
        text: s,
        onclick: () => {
          input.value = s;
          updateCount();
          input.focus();
        },
      }),
    );
    const form = h(
      'form',
      { method: 'dialog' },
      h('h2', { id: `${id}-title`, text: title }),
      h('label', { for: input.id, text: label }),
      input,
      count,
      chips.length ? h('div', { class: 'chips' }, chips) : null,
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'button', class: 'btn secondary', value: 'cancel', text: 'Cancel', onclick: () => finish(null) }),
        h('button', { type: 'submit', class: 'btn primary', value: 'ok', text: submit }),
      ),
    );
    const dialog = h('dialog', { class: 'ask', 'aria-labelledby': `${id}-title` }, form);
    /** @param {string | null} value */
    const finish = (value) => {
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const value = input.value.trim();
      if (required && value.length === 0) {
        input.focus();
        return;
      }
      finish(value);
    });
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      finish(null);
    });
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
}

/**
 * A yes/no question in the same style.
 * @param {{title: string, text: string, yes: string, no: string}} opts
 * @returns {Promise<boolean>}
 */
export function confirmDialog({ title, text, yes, no }) {
  return new Promise((resolve) => {
    const id = `dlg-${Math.random().toString(36).slice(2)}`;
    /** @param {boolean} answer */
    const finish = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    const dialog = h(
      'dialog',
      { class: 'ask', 'aria-labelledby': `${id}-title`, 'aria-describedby': `${id}-text` },
      h('h2', { id: `${id}-title`, text: title }),
      h('p', { id: `${id}-text`, text }),
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'button', class: 'btn secondary', text: no, onclick: () => finish(false) }),
        h('button', { type: 'button', class: 'btn danger', text: yes, onclick: () => finish(true) }),
      ),
    );
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      finish(false);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}
