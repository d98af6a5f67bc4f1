// The coordinator's "send a page" dialog: to a person (found by typing part
// of a name or role; nobody is chosen for her, since a page sent to whoever
// happened to be first in the list is a page to the wrong person) or to
// everyone on shift in a role. Only the chosen kind of recipient shows. A
// callback must carry a number (the protocol's rule: 3 to 15 digits, see
// `js/page-words.js`): "Site coordinator" alone cannot be rung, and the
// number the recipient's phone will dial is shown as she types. She may say
// which ward she is on; a coordinator covers them all, so none is guessed.

import { h } from '../js/dom.js';
import { PRIORITIES, PRIORITY_LABEL } from '../js/format.js';
import { roleLabel, roleOptions } from './task-text.js';
import { field, outcomeLine, uid } from './ui.js';
import { CALLBACK_HINT, callbackNumber } from '../js/page-words.js';

/** @typedef {import('../js/types.js').Priority} Priority */
/** @typedef {import('../js/types.js').Role} Role */
/** @typedef {import('../js/types.js').StaffView} StaffView */
/** @typedef {import('./state.js').DashState} DashState */
/** @typedef {import('./link.js').DashLink} DashLink */

/** Whether a callback can be rung or bleeped: it holds a number. @param {string} text */
export function callbackHasNumber(text) {
  return callbackNumber(text) !== null;
}

/** Whether `s` matches what was typed: any part of the name or role. @param {StaffView} s @param {string} typed */
export function staffMatches(s, typed) {
  const q = typed.trim().toLowerCase();
  if (!q) return true;
  return `${s.name} ${roleLabel(s.shift?.role ?? s.role)}`.toLowerCase().includes(q);
}

/**
 * @param {{state: DashState, link: DashLink}} ctx
 */
export function pageDialog({ state, link }) {
  const dialog = h('dialog', { class: 'send-page', 'aria-labelledby': 'send-page-title' });

  /** The person picker: a filter box over a list with nobody chosen. */
  function personPicker() {
    const search = h('input', { id: 'page-search', type: 'search', autocomplete: 'off', placeholder: 'Part of a name or role' });
    const person = h('select', { id: 'page-person', required: true });
    const onShift = [...state.staff.values()].filter((s) => s.shift !== null).sort((a, b) => a.name.localeCompare(b.name));
    const fill = () => {
      const chosen = person.value;
      const shown = onShift.filter((s) => s.id === chosen || staffMatches(s, search.value));
      person.replaceChildren(
        h('option', { value: '', text: shown.length ? 'Choose a person…' : 'Nobody on shift matches' }),
        ...shown.map((s) => h('option', { value: s.id, text: `${s.name} (${roleLabel(s.shift?.role ?? s.role)})`, selected: s.id === chosen })),
      );
      // One match is the one meant: choose it, as a search box would.
      if (!chosen && shown.length === 1) person.value = shown[0].id;
    };
    search.addEventListener('input', fill);
    fill();
    const fields = h('div', { class: 'person-fields' }, field('Find a person', search), field('Person', person));
    return { fields, person };
  }

  function open() {
    const outcome = outcomeLine();
    const toPerson = h('input', { type: 'radio', name: 'page-to', id: uid('page-to-person'), value: 'staff', checked: true });
    const toRole = h('input', { type: 'radio', name: 'page-to', id: uid('page-to-role'), value: 'role' });
    const { fields: personFields, person } = personPicker();
    const role = h('select', { id: 'page-role' }, roleOptions().map(([value, text]) => h('option', { value, text })));
    const roleField = field('Role', role);
    const showTarget = () => {
      personFields.hidden = toRole.checked;
      roleField.hidden = !toRole.checked;
      person.required = !toRole.checked;
    };
    toPerson.addEventListener('change', showTarget);
    toRole.addEventListener('change', showTarget);
    showTarget();
    const prio = h('select', { id: 'page-priority' }, PRIORITIES.map((p) => h('option', { value: p, text: PRIORITY_LABEL[p], selected: p === 'urgent' })));
    const callback = h('input', { id: 'page-callback', required: true, maxLength: 64, placeholder: 'A number: ext 4021, bleep 1234' });
    const dial = h('p', { class: 'dial-preview', id: 'page-dial', 'aria-live': 'polite' });
    callback.addEventListener('input', () => {
      callback.setCustomValidity('');
      const n = callbackNumber(callback.value);
      dial.textContent = n ? `They will see: Call ${n}` : '';
    });
    const ward = h('select', { id: 'page-ward' }, h('option', { value: '', text: 'Not on a ward' }), state.wards.map((w) => h('option', { value: w.id, text: w.name })));
    const message = h('textarea', { id: 'page-message', rows: 3, maxLength: 500 });
    const form = h(
      'form',
      {
        onsubmit: async (/** @type {SubmitEvent} */ e) => {
          e.preventDefault();
          if (!callbackHasNumber(callback.value)) {
            callback.setCustomValidity(CALLBACK_HINT);
            callback.reportValidity();
            return;
          }
          const target = toRole.checked ? { role: /** @type {Role} */ (role.value) } : { staff: person.value };
          const who = toRole.checked ? `every ${roleLabel(/** @type {Role} */ (role.value))} on shift` : state.staff.get(person.value)?.name ?? 'them';
          outcome.busy('Sending…');
          const answer = await link.command({ op: 'send_page', target, priority: /** @type {Priority} */ (prio.value), callback: callback.value.trim(), message: message.value.trim(), ...(ward.value ? { ward: ward.value } : {}) });
          if (answer.ok) state.applyResult(answer.result);
          const undeliverable = answer.ok && answer.result.kind === 'page' && answer.result.page.state === 'undeliverable';
          outcome.show(answer, undeliverable ? `Nobody to page: no one is on shift as that role.` : `Page sent to ${who}.`);
        },
      },
      h('fieldset', { class: 'to' }, h('legend', { text: 'Send to' }), h('div', { class: 'check' }, toPerson, h('label', { for: toPerson.id, text: 'A person' })), h('div', { class: 'check' }, toRole, h('label', { for: toRole.id, text: 'Everyone on shift in a role' }))),
      personFields,
      roleField,
      field('Priority', prio),
      field('Call back on', callback),
      dial,
      field('You are on', ward),
      field('Message', message),
      h('div', { class: 'row' }, h('button', { type: 'submit', class: 'btn primary', text: 'Send page' }), h('button', { type: 'button', class: 'btn secondary', text: 'Close', onclick: () => dialog.close() })),
      outcome.el,
    );
    dialog.replaceChildren(h('h2', { id: 'send-page-title', text: 'Send a page' }), form);
    dialog.showModal();
  }

  return { el: dialog, open };
}
