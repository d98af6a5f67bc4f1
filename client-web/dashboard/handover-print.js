// The handover sheet, printed from the dashboard: what the coordinator hands
// to the next shift, from what this screen holds now (the hub's report,
// `wardpage report --handover`, gives the same lists as CSV for the
// night's record). Open tasks with owner, age and priority; the patients
// with NEWS2 5 or more or a red flag, with their trend and handover note;
// the observations overdue; the escalations this screen has seen; the pages
// nobody has answered. Built when asked for, shown only on paper (a print
// stylesheet hides the rest of the dashboard), and as a section a screen
// reader can read before printing.

import { h, replaceChildren } from '../js/dom.js';
import { PRIORITY_LABEL, STATE_LABEL, clock, duration } from '../js/format.js';
import { TREND, scoreText, latestScore, overdueBy, lateText, compareDeteriorating, isDeteriorating } from './patient-text.js';

/** @typedef {import('./state.js').DashState} DashState */
/** @typedef {import('../js/types.js').TaskView} TaskView */

const RANK = { emergency: 0, urgent: 1, soon: 2, routine: 3 };

/** @param {string} title @param {string[]} heads @param {string[][]} rows @param {string} none */
function table(title, heads, rows, none) {
  return [
    h('h2', { text: `${title} (${rows.length})` }),
    rows.length
      ? h('table', null, h('thead', null, h('tr', null, heads.map((x) => h('th', { scope: 'col', text: x })))), h('tbody', null, rows.map((r) => h('tr', null, r.map((c) => h('td', { text: c }))))))
      : h('p', { class: 'muted', text: none }),
  ];
}

/** @param {TaskView} t */
function owner(t) {
  if (t.assignee && t.state === 'assigned') return `${t.assignee.name} (assigned, not acknowledged)`;
  if (t.assignee) return t.handover ? `${t.assignee.name} (handing over to ${t.handover.to.name})` : t.assignee.name;
  const offered = t.offers.filter((o) => o.state === 'offered').length;
  return t.state === 'offering' && offered ? `offered to ${offered}` : 'nobody (coordinator told)';
}

/**
 * @param {{state: DashState, now: () => number, wards: () => string[] | null}} ctx
 *   `wards`: the wards this person watches (`null`: every ward)
 */
export function createHandoverPrint({ state, now, wards }) {
  const el = h('section', { class: 'handover-print', id: 'handover-print', 'aria-labelledby': 'handover-print-title', hidden: true });
  const button = h('button', { type: 'button', class: 'btn secondary', id: 'print-handover', text: 'Print handover', onclick: () => print() });

  /** @param {string} ward */
  const seen = (ward) => {
    const w = wards();
    return w === null || w.includes(ward);
  };

  /** Build the sheet from the state as it stands. */
  function build() {
    const at = now();
    const tasks = [...state.tasks.values()].filter((t) => seen(t.ward)).sort((a, b) => RANK[a.priority] - RANK[b.priority] || a.raised_at - b.raised_at);
    const patients = [...state.patients.values()].filter((p) => p.discharged_at === null && seen(p.ward));
    const watch = patients.filter(isDeteriorating).sort(compareDeteriorating);
    const late = patients.map((p) => ({ p, by: overdueBy(p, at) })).filter((x) => x.by !== null);
    const pages = [...state.pages.values()].filter((p) => p.state === 'open');
    replaceChildren(
      el,
      h('h1', { id: 'handover-print-title', text: `Handover: ${wards() === null ? 'the whole site' : (wards() ?? []).map((w) => state.wardName(w)).join(', ')}` }),
      h('p', { text: `As at ${clock(at)}, from what this dashboard holds. Every open task needs a named owner who has accepted it.` }),
      table(
        'Open tasks',
        ['Priority', 'Where', 'Patient', 'Situation', 'State', 'Owner', 'Age'],
        tasks.map((t) => [PRIORITY_LABEL[t.priority], `${state.wardName(t.ward)} bed ${t.bed}`, t.patient_ref?.name ?? t.patient, t.sbar.situation, STATE_LABEL[t.state], owner(t), duration(at - t.raised_at)]),
        'No open tasks.',
      ),
      table(
        'Patients with NEWS2 5 or more, or a red flag',
        ['Where', 'Patient', 'NEWS2', 'Trend', 'Situation', 'Plan', 'What if'],
        watch.map((p) => {
          const s = /** @type {NonNullable<ReturnType<typeof latestScore>>} */ (latestScore(p));
          const n = p.handover_note;
          return [`${state.wardName(p.ward)} bed ${p.bed}`, p.details.name, scoreText(s), TREND[s.trend].text, n?.situation ?? '', n?.recommendation ?? '', n?.what_if ?? ''];
        }),
        'No patient scores 5 or more or has a red flag.',
      ),
      table('Observations overdue', ['Where', 'Patient', 'Late by'], late.map((x) => [`${state.wardName(x.p.ward)} bed ${x.p.bed}`, x.p.details.name, lateText(/** @type {number} */ (x.by))]), 'No observations overdue.'),
      table('Escalations seen tonight', ['At', 'About', 'Why'], state.feed.map((f) => [clock(f.at), f.about, f.reason]), 'No escalations seen.'),
      table('Shifts ended holding work', ['At', 'Who', 'What'], state.shiftEnds.map((s) => [clock(s.at), s.staff.name, s.reason]), 'None.'),
      table('Unanswered pages', ['Sent', 'From', 'Waiting on', 'Message'], pages.map((p) => [clock(p.sent_at), p.from.name, p.recipients.filter((r) => r.acked_at === null).map((r) => r.staff.name).join(', '), `${p.message} (call ${p.callback})`]), 'No unanswered pages.'),
    );
  }

  function print() {
    build();
    el.hidden = false;
    document.body.classList.add('printing-handover');
    const done = () => {
      document.body.classList.remove('printing-handover');
      removeEventListener('afterprint', done);
    };
    addEventListener('afterprint', done);
    window.print();
  }

  return { el, button, build };
}
