// One task as a card: priority, where, what, who raised it, how long it has
// waited against its target, the SBAR, and (by the caller) the buttons that
// fit the viewer. Shared by "My work" and "Raised".

import { h } from '../dom.js';
import { CATEGORY_LABEL, PRIORITY_LABEL, STATE_LABEL, clock, duration, requirementLabel, targetStatus } from '../format.js';
import { BAND_LABEL, bandClass, patientNumber, scaleLabel } from '../clinical.js';

/** @typedef {import('../types.js').TaskView} TaskView */
/** @typedef {import('../dom.js').Child} Child */

/**
 * @param {TaskView} task
 * @param {{now: number, wardName: (id: string) => string, extra?: Child[], actions?: Child[],
 *          pending?: string[], sbarOpen?: boolean}} opts
 */
export function taskCard(task, { now, wardName, extra = [], actions = [], pending = [], sbarOpen = false }) {
  const target = targetStatus(task, now);
  const s = task.sbar;
  const sbarRow = (/** @type {string} */ label, /** @type {string} */ text) =>
    text ? [h('dt', { text: label }), h('dd', { text })] : null;
  return h(
    'article',
    { class: `card prio-${task.priority}`, 'data-task': task.id, 'aria-label': `${PRIORITY_LABEL[task.priority]} task, ${wardName(task.ward)} bed ${task.bed}` },
    h(
      'header',
      { class: 'card-head' },
      h('span', { class: `prio-chip ${task.priority}`, text: PRIORITY_LABEL[task.priority] }),
      h('span', { class: 'state', text: STATE_LABEL[task.state] }),
    ),
    h('h3', { class: 'where', text: `${wardName(task.ward)} · Bed ${task.bed}` }),
    // Who has it matters most to the raiser, so it comes before the detail.
    extra,
    patientLine(task, 'task-patient'),
    reviewLine(task),
    h('p', { class: 'what' }, `${CATEGORY_LABEL[task.category]} · needs ${requirementLabel(task.requirement)}`, task.patient_ref ? null : [' · ', h('span', { class: 'patient', text: task.patient })]),
    // A hub-raised review's situation repeats its summary, shown just above.
    task.review && s.situation.endsWith(task.review.summary) ? null : h('p', { class: 'situation', text: s.situation }),
    s.background || s.assessment || s.recommendation
      ? h(
          'details',
          { class: 'sbar', open: sbarOpen },
          h('summary', { text: 'SBAR' }),
          h('dl', null, sbarRow('Background', s.background), sbarRow('Assessment', s.assessment), sbarRow('Recommendation', s.recommendation)),
        )
      : null,
    h(
      'p',
      { class: 'meta' },
      `Raised ${clock(task.raised_at)} by ${task.raised_by.name} · ${duration(now - task.raised_at)} ago`,
    ),
    target ? h('p', { class: `target${target.overdue ? ' overdue' : ''}`, text: target.text }) : null,
    pending.map((label) => h('p', { class: 'pending', text: `Queued: ${label} (waiting for the hub)` })),
    actions.length ? h('div', { class: 'actions' }, actions) : null,
  );
}

/**
 * Who the task is for, when it names a patient: name, NHS number and bed on
 * every view of it, so nobody treats the patient in the wrong bed.
 * @param {TaskView} task @param {string} cls
 */
export function patientLine(task, cls) {
  const p = task.patient_ref;
  if (!p) return null;
  return h('p', { class: cls }, h('strong', { class: 'pr-name', text: p.name }), ' · ', h('span', { class: 'pr-number', text: patientNumber(p) }), ' · ', h('span', { class: 'pr-bed', text: `Bed ${task.bed}` }));
}

/**
 * Why the hub raised (or last rescored) a review: its summary and band.
 * @param {TaskView} task
 */
export function reviewLine(task) {
  const r = task.review;
  if (!r) return null;
  const band = r.band === null ? 'incomplete' : BAND_LABEL[r.band];
  return h('p', { class: `review-line ${bandClass(r.band)}` }, h('span', { class: 'review-band', text: `${r.total === null ? 'NEWS2 incomplete' : `NEWS2 ${r.total}`} ${r.total === null ? '' : band} · ${scaleLabel(r.scale)}`.replace(/\s+·/, ' ·') }), h('span', { class: 'review-summary', text: r.summary }));
}

/**
 * @param {string} label
 * @param {() => void} onclick
 * @param {'primary' | 'secondary' | 'danger'} [style]
 * @param {boolean} [disabled]
 */
export function button(label, onclick, style = 'secondary', disabled = false) {
  return h('button', { type: 'button', class: `btn ${style}`, text: label, onclick, disabled });
}
