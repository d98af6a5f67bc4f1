// A patient's shift handover note on the handheld's patient screen: the
// note as the last shift left it (SBAR and "what if", who wrote it, when),
// the patient's open tasks with their owner and age, and the NEWS2 trend,
// which is what a handover carries per patient (RCP acute care toolkit 1).
// Anyone on the ward writes a new note with the form under it; it goes
// through the outbox like every command, and the form says "saved" only
// when the hub has answered, or shows the hub's refusal beside the fields.

import { h, replaceChildren, updateKeyed } from '../dom.js';
import { PRIORITY_LABEL, STATE_LABEL, clock, duration } from '../format.js';
import { BAND_LABEL, TREND } from '../clinical.js';

/** @typedef {import('../types.js').PatientView} PatientView */
/** @typedef {import('../types.js').TaskView} TaskView */
/** @typedef {import('../types.js').HandoverNoteText} HandoverNoteText */
/** @typedef {import('./context.js').ViewContext} ViewContext */

/** Each part's label, in SBAR order, with "what if" last. @type {[keyof HandoverNoteText, string][]} */
export const NOTE_PARTS = [
  ['situation', 'Situation'],
  ['background', 'Background'],
  ['assessment', 'Assessment'],
  ['recommendation', 'Plan'],
  ['what_if', 'What if'],
];
const MAX = 1000;
const OPEN = new Set(['offering', 'no_one_accepted', 'assigned', 'accepted', 'started']);

/** The open tasks about this patient, most urgent first. @param {Iterable<TaskView>} tasks @param {string} id */
export function openTasksFor(tasks, id) {
  const rank = { emergency: 0, urgent: 1, soon: 2, routine: 3 };
  return [...tasks].filter((t) => t.patient_ref?.id === id && OPEN.has(t.state)).sort((a, b) => rank[a.priority] - rank[b.priority] || a.raised_at - b.raised_at);
}

/** One line per open task: priority, what, who has it, how old. @param {TaskView} t @param {number} now */
export function taskLine(t, now) {
  const who = t.assignee ? t.assignee.name : t.state === 'offering' ? 'offered, nobody yet' : 'nobody (coordinator told)';
  return `${PRIORITY_LABEL[t.priority]} · ${t.sbar.situation} · ${STATE_LABEL[t.state]}, ${who} · raised ${duration(now - t.raised_at)} ago`;
}

/**
 * @param {ViewContext} ctx
 * @param {string} id the patient
 */
export function handoverNoteSection(ctx, id) {
  const { store, link } = ctx;
  const shown = h('div', { class: 'hn-shown' });
  const tasks = h('ul', { class: 'hn-tasks' });
  const trend = h('p', { class: 'hn-trend' });
  const outcome = h('div', { class: 'form-outcome', role: 'status', 'aria-live': 'polite' });
  /** @type {Map<keyof HandoverNoteText, HTMLTextAreaElement>} */
  const fields = new Map();
  const form = h(
    'form',
    { class: 'hn-form', hidden: true, 'aria-label': 'New handover note' },
    NOTE_PARTS.map(([key, label]) => {
      const input = h('textarea', { id: `hn-${key}`, name: key, rows: key === 'situation' ? 2 : 3, maxLength: MAX, required: key === 'situation' });
      fields.set(key, input);
      return h('div', { class: 'field' }, h('label', { for: input.id, text: label }), input);
    }),
    outcome,
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'btn primary', text: 'Save note' }), h('button', { type: 'button', class: 'btn secondary', text: 'Cancel', onclick: () => close() })),
  );
  const edit = h('button', { type: 'button', class: 'btn secondary wide hn-edit', text: 'Write handover note', onclick: () => open() });
  const el = h(
    'section',
    { class: 'hn', 'aria-labelledby': `hn-title-${id}` },
    h('h3', { class: 'subhead', id: `hn-title-${id}`, text: 'Handover' }),
    shown,
    trend,
    h('h4', { class: 'hn-sub', text: 'Open tasks' }),
    tasks,
    edit,
    form,
  );
  /** The command waiting for the hub's answer. @type {string | null} */
  let waiting = null;

  /** @param {string} text @param {'pending' | 'ok' | 'error'} tone */
  const say = (text, tone) => replaceChildren(outcome, text ? h('p', { class: `notice ${tone}`, text }) : null);

  function open() {
    const note = store.patients.get(id)?.handover_note;
    // Start from the last note: most of a night's handover is the day's.
    for (const [key, input] of fields) input.value = note ? note[key] : '';
    say('', 'ok');
    form.hidden = false;
    edit.hidden = true;
    fields.get('situation')?.focus();
  }

  function close() {
    form.hidden = true;
    edit.hidden = false;
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    /** @type {HandoverNoteText} */
    const note = { situation: '', background: '', assessment: '', recommendation: '', what_if: '' };
    for (const [key, input] of fields) note[key] = input.value.trim();
    const entry = link.send({ op: 'set_handover_note', patient: id, note }, `Handover note, bed ${store.patients.get(id)?.bed ?? ''}`);
    waiting = entry.id;
    say(link.status === 'online' ? 'Saving…' : 'Queued: saved when the hub is reached.', 'pending');
  });
  link.addEventListener('result', (e) => {
    const { entry } = /** @type {CustomEvent} */ (e).detail;
    if (entry.id !== waiting) return;
    waiting = null;
    close();
    update();
  });
  link.addEventListener('cmd-error', (e) => {
    const detail = /** @type {CustomEvent} */ (e).detail;
    if (detail.entry.id !== waiting) return;
    waiting = null;
    detail.shown = true;
    say(`Not saved: ${detail.message}`, 'error');
  });

  function update() {
    const p = store.patients.get(id);
    if (!p) return;
    const now = store.now();
    const note = p.handover_note;
    replaceChildren(
      shown,
      note
        ? [
            h('dl', { class: 'hn-note' }, NOTE_PARTS.flatMap(([key, label]) => (note[key] ? [h('dt', { text: label }), h('dd', { text: note[key] })] : []))),
            h('p', { class: 'meta hn-by', text: `Written by ${note.by.name} at ${clock(note.at)} (${duration(now - note.at)} ago)` }),
          ]
        : h('p', { class: 'empty', text: 'No handover note yet.' }),
    );
    const l = p.latest;
    const s = l?.score;
    trend.textContent = s && s.total !== null && s.band !== null ? `NEWS2 ${s.total} ${BAND_LABEL[s.band]}${TREND[l.trend].arrow ? `, ${TREND[l.trend].arrow} ${TREND[l.trend].text}` : ''} (taken ${clock(l.taken_at)})` : 'NEWS2: no complete set yet';
    const open = openTasksFor(store.tasks.values(), id);
    updateKeyed(tasks, open.length ? open.map((t) => [t.id, h('li', { class: `hn-task prio-edge-${t.priority}`, text: taskLine(t, now) })]) : [['none', h('li', { class: 'empty', text: 'No open tasks.' })]]);
    edit.textContent = note ? 'Write a new handover note' : 'Write handover note';
  }

  return { el, update };
}
