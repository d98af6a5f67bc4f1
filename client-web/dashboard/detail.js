// One task in full, in a modal dialog: the facts, SBAR, every offer and its
// answer, the audit timeline from the hub, and the coordinator's actions on
// it (assign with each person's workload in view, change priority, escalate
// now, cancel with a reason). It follows the task live while open: an event
// repaints the facts and reloads the timeline, but never touches a form the
// coordinator is filling in. The patient is named in full (name, NHS number,
// date of birth, bed) and a hub-raised review says why, with its band.

import { h } from '../js/dom.js';
import { PRIORITIES, PRIORITY_LABEL, clock } from '../js/format.js';
import { targetText, statusText, needsText, roleLabel, categoryLabel, meetsRequirement, needsLabel, workloadWords } from './task-text.js';
import { field, outcomeLine, uid } from './ui.js';
import { timelineList } from './timeline.js';
import { nhsFormat, reviewText, bandClass, TREND } from './patient-text.js';

/** @typedef {import('../js/types.js').TaskView} TaskView */
/** @typedef {import('../js/types.js').StaffView} StaffView */
/** @typedef {import('./state.js').DashState} DashState */
/** @typedef {import('./link.js').DashLink} DashLink */

/**
 * @param {{state: DashState, link: DashLink, canCommand: boolean}} ctx
 */
export function createDetail({ state, link, canCommand }) {
  const dialog = h('dialog', { class: 'detail', 'aria-labelledby': 'detail-title' });
  /** @type {string | null} */
  let openId = null;
  /** @type {TaskView | null} the last view painted (kept once the task closes) */
  let last = null;
  const title = h('h2', { id: 'detail-title' });
  const facts = h('dl', { class: 'facts' });
  const offers = h('ul', { class: 'offers' });
  const sbar = h('dl', { class: 'sbar' });
  const timeline = h('div', { class: 'timeline-wrap' });
  const actions = h('div', { class: 'actions' });
  const close = h('button', { type: 'button', class: 'btn secondary', text: 'Close', onclick: () => dialog.close() });
  dialog.append(
    h('div', { class: 'detail-head' }, title, close),
    h('div', { class: 'detail-body' },
      h('section', { 'aria-labelledby': 'detail-facts' }, h('h3', { id: 'detail-facts', text: 'Task' }), facts, h('h4', { text: 'Offers' }), offers, h('h4', { text: 'SBAR' }), sbar),
      h('section', { 'aria-labelledby': 'detail-actions' }, h('h3', { id: 'detail-actions', text: 'Actions' }), actions),
      h('section', { 'aria-labelledby': 'detail-timeline', class: 'timeline-section' }, h('h3', { id: 'detail-timeline', text: 'Timeline' }), timeline),
    ),
  );
  dialog.addEventListener('close', () => {
    openId = null;
    last = null;
  });

  /** @param {TaskView} t */
  function paint(t) {
    last = t;
    const closed = !state.tasks.has(t.id);
    title.textContent = `${PRIORITY_LABEL[t.priority]} · ${categoryLabel(t.category)} · ${state.wardName(t.ward)} bed ${t.bed}${t.patient_ref ? ` · ${t.patient_ref.name}` : ''}`;
    const now = link.now();
    const target = closed ? null : targetText(t, now);
    const ref = t.patient_ref;
    /** @type {[string, string][]} */
    const rows = [
      ['Patient', ref ? ref.name : t.patient || 'not named'],
      ...(ref
        ? /** @type {[string, string][]} */ ([
            [ref.nhs_number ? 'NHS number' : 'Local number', ref.nhs_number ? nhsFormat(ref.nhs_number) : ref.local_number ?? '—'],
            ['Born', ref.born],
          ])
        : []),
      ['Bed', `${state.wardName(t.ward)} bed ${t.bed}`],
      ...(t.review ? /** @type {[string, string][]} */ ([['Review', reviewText(t.review)], ['Trend', TREND[t.review.trend].text]]) : []),
      ['Status', closed ? `${statusText(t)}${t.closing_note ? `: ${t.closing_note}` : ''}` : statusText(t, now)],
      ['Needs', needsText(t).replace(/^needs /, '')],
      ['Held by', `${t.assignee?.name ?? 'nobody'}${t.handover ? `, handing over to ${t.handover.to.name} (not accepted yet)` : ''}`],
      ...(t.assigned_at !== undefined
        ? /** @type {[string, string][]} */ ([['Assigned', `${clock(t.assigned_at)} by ${t.assigned_by?.name ?? 'a coordinator'}${t.state === 'assigned' ? ', not acknowledged yet' : t.accepted_at ? `, acknowledged ${clock(t.accepted_at)}` : ''}`]])
        : []),
      // The patient's handover note from the last shift: the plan and "what if".
      ...handoverNoteRows(ref ? state.patients.get(ref.id)?.handover_note : undefined),
      ['Raised', `${clock(t.raised_at)} by ${t.raised_by.name}`],
      ['Accept by', `${clock(t.accept_by)}${t.accepted_at ? `, accepted ${clock(t.accepted_at)}` : ''}`],
      ['Complete by', clock(t.complete_by)],
      ['Target now', target ? target.text : 'closed'],
      ['Escalation', t.escalation_level > 0 ? `escalated ${t.escalation_level}×${t.next_escalation_at ? `, next ${clock(t.next_escalation_at)}` : ''}` : t.next_escalation_at ? `none yet, next ${clock(t.next_escalation_at)}` : 'none'],
    ];
    facts.replaceChildren(
      ...rows.flatMap(([k, v]) => [
        h('dt', { text: k }),
        h('dd', { text: v, class: k === 'Target now' && target?.overdue ? 'overdue-text' : k === 'Review' && t.review ? `review-band ${bandClass(t.review.band, t.review.red_flag)}` : null }),
      ]),
    );
    offers.replaceChildren(
      ...(t.offers.length
        ? t.offers.map((o) => h('li', { text: `${o.staff.name}: ${o.state}${o.reason ? ` (“${o.reason}”)` : ''}` }))
        : [h('li', { text: 'Not offered to anyone' })]),
    );
    sbar.replaceChildren(
      ...[['Situation', t.sbar.situation], ['Background', t.sbar.background], ['Assessment', t.sbar.assessment], ['Recommendation', t.sbar.recommendation]]
        .filter(([, v]) => v)
        .flatMap(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })]),
    );
  }

  async function loadTimeline() {
    const id = openId;
    if (!id) return;
    const answer = await link.command({ op: 'timeline', task: id });
    if (id !== openId) return;
    if (!answer.ok) {
      timeline.replaceChildren(h('p', { class: 'outcome bad', text: `Could not load the timeline: ${answer.message}` }));
      return;
    }
    if (answer.result.kind !== 'timeline') return;
    timeline.replaceChildren(timelineList(answer.result.entries, last));
  }

  /** The actions; built once per opening so that typing is never interrupted. @param {TaskView} t */
  function buildActions(t) {
    if (!state.tasks.has(t.id)) {
      closedActions();
      return;
    }
    if (!canCommand) {
      actions.replaceChildren(h('p', { class: 'muted', text: 'Assigning, cancelling, re-prioritising and escalating are for the coordinator.' }));
      return;
    }
    const outcome = outcomeLine();
    const load = state.workload();
    const staffSel = h('select', { id: uid('assign-staff'), required: true });
    const onShift = [...state.staff.values()].filter((s) => s.shift !== null);
    // Who could take it first (the needed role or skill, on this ward),
    // then those whose phone is connected: an assignment to a phone that
    // is off reaches nobody.
    const rank = (/** @type {import('../js/types.js').StaffView} */ s) =>
      (meetsRequirement(s, t.requirement) ? 0 : 4) + (s.shift?.wards.includes(t.ward) ? 0 : 2) + (s.connected ? 0 : 1);
    onShift.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
    const needs = needsLabel(t.requirement);
    staffSel.append(
      h('option', { value: '', text: 'Choose a person…' }),
      ...onShift.map((s) => {
        const l = load.get(s.id) ?? { offered: 0, assigned: 0, accepted: 0, started: 0, waiting: [] };
        const covers = s.shift?.wards.includes(t.ward) ? 'covers this ward' : 'other wards';
        const role = s.shift ? roleLabel(s.shift.role) : roleLabel(s.role);
        const fit = meetsRequirement(s, t.requirement) ? `has ${needs}` : `not ${needs}`;
        return h('option', {
          value: s.id,
          'data-fit': meetsRequirement(s, t.requirement) ? 'yes' : 'no',
          text: `${s.name} (${role}, ${fit}, ${covers}, ${s.connected ? 'connected' : 'NOT CONNECTED'}): ${workloadWords(l)}`,
        });
      }),
    );
    const assignForm = h(
      'form',
      {
        class: 'act',
        onsubmit: async (/** @type {SubmitEvent} */ e) => {
          e.preventDefault();
          const staff = staffSel.value;
          if (!staff) return;
          const name = state.staff.get(staff)?.name ?? 'them';
          outcome.busy(`Assigning to ${name}…`);
          const answer = await link.command({ op: 'assign', task: t.id, staff });
          if (answer.ok) state.applyResult(answer.result);
          outcome.show(answer, `Assigned to ${name}: waiting for them to acknowledge.`);
        },
      },
      field('Assign or reassign to', staffSel),
      h('button', { type: 'submit', class: 'btn primary', text: 'Assign' }),
    );
    const prioSel = h('select', { id: uid('set-priority') }, PRIORITIES.map((p) => h('option', { value: p, text: PRIORITY_LABEL[p], selected: p === t.priority })));
    const prioForm = h(
      'form',
      {
        class: 'act',
        onsubmit: async (/** @type {SubmitEvent} */ e) => {
          e.preventDefault();
          const priority = /** @type {import('../js/types.js').Priority} */ (prioSel.value);
          outcome.busy('Changing priority…');
          const answer = await link.command({ op: 'set_priority', task: t.id, priority });
          if (answer.ok) state.applyResult(answer.result);
          outcome.show(answer, `Priority is now ${PRIORITY_LABEL[priority]}; targets recalculated.`);
        },
      },
      field('Priority', prioSel),
      h('button', { type: 'submit', class: 'btn secondary', text: 'Change priority' }),
    );
    const escalate = h('button', {
      type: 'button',
      class: 'btn secondary',
      text: 'Escalate now',
      onclick: async () => {
        outcome.busy('Escalating…');
        const answer = await link.command({ op: 'escalate_now', task: t.id });
        if (answer.ok) state.applyResult(answer.result);
        outcome.show(answer, 'Escalated: the next step of the policy fired.');
      },
    });
    const reason = h('textarea', { id: uid('cancel-reason'), rows: 2, maxLength: 500, required: true });
    const cancelForm = h(
      'form',
      {
        class: 'act',
        onsubmit: async (/** @type {SubmitEvent} */ e) => {
          e.preventDefault();
          const text = reason.value.trim();
          if (!text) return;
          outcome.busy('Cancelling…');
          const answer = await link.command({ op: 'cancel', task: t.id, reason: text });
          if (answer.ok) state.applyResult(answer.result);
          outcome.show(answer, 'Cancelled.');
        },
      },
      field('Reason for cancelling', reason),
      h('button', { type: 'submit', class: 'btn danger', text: 'Cancel task' }),
    );
    actions.replaceChildren(h('div', { class: 'forms' }, assignForm, prioForm, h('div', { class: 'act' }, escalate), cancelForm), outcome.el);
  }

  /** A closed task takes no more actions; the outcome of the last one stays in view. */
  function closedActions() {
    const note = h('p', { class: 'muted', text: 'This task is closed: nothing more can be done to it.' });
    const forms = actions.querySelector('.forms');
    if (forms) forms.replaceWith(note);
    else if (!actions.querySelector('.outcome')) actions.replaceChildren(note);
  }

  return {
    el: dialog,
    /** @param {string} id */
    open(id) {
      const t = state.tasks.get(id) ?? state.closedViews.get(id);
      if (!t) return;
      openId = id;
      paint(t);
      buildActions(t);
      timeline.replaceChildren(h('p', { class: 'muted', text: 'Loading the timeline…' }));
      if (!dialog.open) dialog.showModal();
      void loadTimeline();
    },
    /** @param {Set<string>} ids tasks that changed */
    update(ids) {
      if (!openId || !ids.has(openId)) return;
      const t = state.tasks.get(openId);
      // A closed task has left the board; show its final view.
      const view = t ?? state.closedViews.get(openId);
      if (view) paint(view);
      if (!t) closedActions();
      void loadTimeline();
    },
    /** Repaint ages. */
    tick() {
      if (!openId) return;
      const t = state.tasks.get(openId);
      if (t) paint(t);
    },
    get openId() {
      return openId;
    },
  };
}

/**
 * The patient's handover note as fact rows (none when there is no note).
 * @param {import('../js/types.js').HandoverNote | undefined} n
 * @returns {[string, string][]}
 */
function handoverNoteRows(n) {
  if (!n) return [];
  /** @type {[string, string][]} */
  const rows = [['Handover note', `${n.situation} (${n.by.name}, ${clock(n.at)})`]];
  if (n.recommendation) rows.push(['Plan', n.recommendation]);
  if (n.what_if) rows.push(['What if', n.what_if]);
  return rows;
}
