// Staff on shift (and off it): role, wards covered, connected or last seen,
// whether they said they are busy (why, until when), current workload, time
// since their last action; and the night's roster:
// start, change or end someone's shift. Rows are keyed by staff id and only
// changed cells are rewritten, so a workload change does not move focus.

import { h } from '../js/dom.js';
import { clock } from '../js/format.js';
import { ago, awaitingWords, roleLabel, roleOptions, workloadWords } from './task-text.js';
import { field, outcomeLine, uid } from './ui.js';

/** @typedef {import('../js/types.js').StaffView} StaffView */
/** @typedef {import('../js/types.js').Role} Role */
/** @typedef {import('./state.js').DashState} DashState */
/** @typedef {import('./link.js').DashLink} DashLink */

/** @typedef {{tr: HTMLTableRowElement, cells: HTMLElement[], shown: string[], button: HTMLButtonElement}} StaffRow */

const SHIFT_HOURS = 12;

/**
 * @param {{state: DashState, link: DashLink, canCommand: boolean}} ctx
 */
export function createStaff({ state, link, canCommand }) {
  /** @type {Map<string, StaffRow>} */
  const rows = new Map();
  const onBody = h('tbody');
  const offBody = h('tbody');
  const roster = rosterDialog({ state, link });

  /** @param {string} id @param {string} label @param {HTMLTableSectionElement} body */
  const table = (id, label, body) =>
    h(
      'table',
      { class: 'staff', 'aria-labelledby': id },
      h('caption', { id, text: label }),
      h('thead', null, h('tr', null, ['Name', 'Role', 'Wards', 'Connection', 'Busy', 'Workload', 'Last action', 'Shift ends', 'Roster'].map((c) => h('th', { scope: 'col', text: c })))),
      body,
    );

  const el = h(
    'section',
    { class: 'panel staff-panel', 'aria-labelledby': 'staff-title' },
    h('h2', { id: 'staff-title', text: 'Staff' }),
    h('div', { class: 'table-wrap' }, table('staff-on', 'On shift', onBody)),
    h('div', { class: 'table-wrap' }, table('staff-off', 'Not on shift', offBody)),
    roster.el,
  );

  /** @param {StaffView} s */
  function makeRow(s) {
    const button = h('button', {
      type: 'button',
      class: 'btn small secondary',
      text: 'Shift…',
      disabled: !canCommand,
      onclick: () => roster.open(s.id),
      // Every row's button says "Shift…": the name tells them apart.
      'aria-describedby': `staff-name-${s.id}`,
    });
    const cells = Array.from({ length: 8 }, (_, i) => h('span', { id: i === 0 ? `staff-name-${s.id}` : null }));
    const tr = h(
      'tr',
      { 'data-staff': s.id },
      cells.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, c) : h('td', i === 2 ? { class: 'wards' } : null, c))),
      h('td', null, button),
    );
    return { tr, cells, shown: cells.map(() => ''), button };
  }

  /**
   * The wards a shift covers as the hospital names them; "All wards" when
   * it covers every one. Each name keeps its spaces unbroken, so a line
   * breaks between names, never inside "Ward 7 (Medicine)".
   * @param {string[]} wards
   */
  function wardsWords(wards) {
    if (state.wards.length > 1 && state.wards.every((w) => wards.includes(w.id))) return 'All wards';
    return wards.map((w) => state.wardName(w).replaceAll(' ', '\u00a0')).join(', ');
  }

  function render() {
    const now = link.now();
    const load = state.workload();
    const people = [...state.staff.values()].sort((a, b) => a.name.localeCompare(b.name));
    /** @type {HTMLTableRowElement[]} */
    const on = [];
    /** @type {HTMLTableRowElement[]} */
    const off = [];
    for (const s of people) {
      let row = rows.get(s.id);
      if (!row) {
        row = makeRow(s);
        rows.set(s.id, row);
      }
      const l = load.get(s.id) ?? { offered: 0, assigned: 0, accepted: 0, started: 0, waiting: [] };
      const last = state.lastAction.get(s.id);
      // The oldest assignment they have not acknowledged, with its wait.
      const waiting = l.waiting.length ? `\n${awaitingWords(l.waiting[0], now)}${l.waiting.length > 1 ? ` (+${l.waiting.length - 1})` : ''}` : '';
      const texts = [
        s.name,
        s.shift ? roleLabel(s.shift.role) : roleLabel(s.role),
        s.shift ? wardsWords(s.shift.wards) : '—',
        s.connected ? 'Connected' : s.last_seen_at ? `Not connected, last seen ${clock(s.last_seen_at)}` : 'Never connected',
        busyWords(s, now),
        `${workloadWords(l)}${waiting}`,
        last ? ago(last, now) : '—',
        s.shift ? clock(s.shift.ends_at) : '—',
      ];
      texts.forEach((text, i) => {
        if (row.shown[i] !== text) {
          row.shown[i] = text;
          row.cells[i].textContent = text;
        }
      });
      row.cells[3].className = s.connected ? 'conn on' : 'conn off';
      row.cells[4].className = busyWords(s, now) === '—' ? '' : 'busy-state';
      row.cells[5].className = l.waiting.length ? 'awaiting-ack' : '';
      row.button.textContent = s.shift ? 'Shift…' : 'Start shift…';
      (s.shift ? on : off).push(row.tr);
    }
    syncChildren(onBody, on);
    syncChildren(offBody, off);
  }

  return { el, render };
}

/**
 * "In resus, until 03:40", or "—": what they said they are busy with. A
 * busy state past its time is shown as ended before the hub's word of it.
 * @param {StaffView} s @param {number} now
 */
export function busyWords(s, now) {
  const b = s.shift?.busy;
  return b && b.until > now ? `${b.reason}, until ${clock(b.until)}` : '—';
}

/** Put exactly `wanted` into `parent`, in order, moving only what is out of place. @param {Element} parent @param {Element[]} wanted */
function syncChildren(parent, wanted) {
  wanted.forEach((node, i) => {
    if (parent.children[i] !== node) parent.insertBefore(node, parent.children[i] ?? null);
  });
  while (parent.children.length > wanted.length) parent.lastElementChild?.remove();
}

/** The time `hhmm` next comes round after `now` (a night shift ends tomorrow morning). @param {string} hhmm @param {number} now */
export function nextTime(hhmm, now) {
  const [hh, mm] = hhmm.split(':').map(Number);
  const d = new Date(now);
  d.setHours(hh, mm, 0, 0);
  if (d.getTime() <= now) d.setDate(d.getDate() + 1);
  return d.getTime();
}

/**
 * Start, change or end one person's shift.
 * @param {{state: DashState, link: DashLink}} ctx
 */
function rosterDialog({ state, link }) {
  const dialog = h('dialog', { class: 'roster', 'aria-labelledby': 'roster-title' });
  /** @type {string | null} */
  let staffId = null;

  /** @param {string} id */
  function open(id) {
    const s = state.staff.get(id);
    if (!s) return;
    staffId = id;
    const outcome = outcomeLine();
    const roleSel = h('select', { id: uid('roster-role') }, roleOptions().map(([value, text]) => h('option', { value, text, selected: value === (s.shift?.role ?? s.role) })));
    const wards = h(
      'fieldset',
      { class: 'wards' },
      h('legend', { text: 'Wards covered' }),
      state.wards.map((w) => {
        const id = uid('roster-ward');
        return h('div', { class: 'check' }, h('input', { type: 'checkbox', id, value: w.id, checked: s.shift?.wards.includes(w.id) ?? false }), h('label', { for: id, text: w.name }));
      }),
    );
    const endDefault = s.shift ? s.shift.ends_at : link.now() + SHIFT_HOURS * 3600 * 1000;
    const ends = h('input', { type: 'time', id: uid('roster-ends'), required: true, value: clock(endDefault) });
    const form = h(
      'form',
      {
        onsubmit: async (/** @type {SubmitEvent} */ e) => {
          e.preventDefault();
          const chosen = [...wards.querySelectorAll('input:checked')].map((i) => /** @type {HTMLInputElement} */ (i).value);
          if (!chosen.length) {
            outcome.show({ ok: false, code: 'invalid_field', message: 'choose at least one ward' }, '');
            return;
          }
          const role = /** @type {Role} */ (roleSel.value);
          outcome.busy('Saving the shift…');
          const answer = await link.command({ op: 'start_shift', staff: s.id, role, wards: chosen, ends_at: nextTime(ends.value, link.now()) });
          if (answer.ok) state.applyResult(answer.result);
          outcome.show(answer, `${s.name} is on shift as ${roleLabel(role)} until ${ends.value}.`);
        },
      },
      field('Role on this shift', roleSel),
      wards,
      field('Shift ends at', ends),
      h(
        'div',
        { class: 'row' },
        h('button', { type: 'submit', class: 'btn primary', text: s.shift ? 'Update shift' : 'Start shift' }),
        s.shift
          ? h('button', {
              type: 'button',
              class: 'btn danger',
              text: 'End shift',
              onclick: async () => {
                outcome.busy('Ending the shift…');
                const answer = await link.command({ op: 'end_shift', staff: s.id });
                if (answer.ok) state.applyResult(answer.result);
                outcome.show(answer, `${s.name}’s shift has ended.`);
              },
            })
          : null,
        h('button', { type: 'button', class: 'btn secondary', text: 'Close', onclick: () => dialog.close() }),
      ),
      outcome.el,
    );
    dialog.replaceChildren(h('h2', { id: 'roster-title', text: `Shift: ${s.name}` }), form);
    dialog.showModal();
  }

  dialog.addEventListener('close', () => {
    staffId = null;
  });
  return {
    el: dialog,
    open,
    get staffId() {
      return staffId;
    },
  };
}
