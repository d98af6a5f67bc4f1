// The Patients view, what a coordinator needs at 3 a.m. at a glance: who is
// deteriorating (latest NEWS2 of 5 or more, or a red flag) and whether
// anyone has taken their review, whose observations are overdue, and each
// ward's patients by NEWS2 band. Rows are keyed by patient id and kept
// between updates (only changed cells are rewritten); the lists are short,
// so their order is simply recomputed on each change. Every score says its
// band in words beside the colour, and "Scale 2" when so.

import { h } from '../js/dom.js';
import { clock } from '../js/format.js';
import { ago } from './task-text.js';
import {
  isDeteriorating,
  overdueBy,
  compareDeteriorating,
  compareBed,
  latestScore,
  scoreText,
  bandClass,
  nhsFormat,
  reviewState,
  lateText,
  wardCounts,
  TREND,
  WARD_COLUMNS,
  WARD_COLUMN_LABEL,
} from './patient-text.js';

/** @typedef {import('../types/PatientView').PatientView} PatientView */
/** @typedef {import('./state.js').DashState} DashState */
/** @typedef {import('./state.js').Changes} Changes */

/**
 * A keyed table row and what its cells last showed.
 * @typedef {{tr: HTMLTableRowElement, cells: HTMLElement[], shown: string[], classes: string[], open: HTMLButtonElement | null}} Row
 */

const DET_COLUMNS = ['Ward', 'Bed', 'Patient', 'NHS number', 'NEWS2', 'Trend', 'Set taken', 'Review'];
const OVERDUE_COLUMNS = ['Ward', 'Bed', 'Patient', 'NHS number', 'Next set was due', 'Overdue by', 'Latest NEWS2'];
/** Which cell is the row header (the patient's name). */
const NAME_CELL = 2;

/**
 * How many patients are deteriorating and how many are overdue, for the summary.
 * @param {DashState} state
 * @param {number} now
 * @param {string[] | null} wards null: every ward
 */
export function patientCounts(state, now, wards) {
  let deteriorating = 0;
  let overdue = 0;
  for (const p of state.patients.values()) {
    if (wards !== null && !wards.includes(p.ward)) continue;
    if (isDeteriorating(p)) deteriorating += 1;
    if (overdueBy(p, now) !== null) overdue += 1;
  }
  return { deteriorating, overdue };
}

/** The patient's number for a table cell. @param {PatientView} p */
function numberText(p) {
  if (p.details.nhs_number) return nhsFormat(p.details.nhs_number);
  return p.details.local_number ? `Local ${p.details.local_number}` : '—';
}

/**
 * @param {{state: DashState, now: () => number, onOpenTask: (id: string) => void, actions: HTMLElement, wards: () => string[] | null}} ctx
 *   `actions`: the admit / transfer / discharge buttons, shown above the panels;
 *   `wards`: the wards this person sees (null: every ward), for the by-ward table
 */
export function createPatients({ state, now, onOpenTask, actions, wards: seen }) {
  /**
   * One table: caption-less (the panel's heading labels it), keyed rows.
   * @param {string} id
   * @param {string[]} columns
   * @param {string} emptyText
   */
  function keyedTable(id, columns, emptyText) {
    const tbody = h('tbody');
    const empty = h('p', { class: 'empty', id: `${id}-empty`, text: 'Reading the patients…' });
    const table = h('table', { class: 'patients', id, 'aria-labelledby': `${id}-title` }, h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col', text: c })))), tbody);
    /** @type {Map<string, Row>} */
    const rows = new Map();
    return { tbody, empty, table, rows, emptyText };
  }

  const det = keyedTable('deteriorating', DET_COLUMNS, 'No patient has a NEWS2 of 5 or more or a red flag.');
  const late = keyedTable('obs-overdue', OVERDUE_COLUMNS, 'No observations are overdue.');
  const detCount = h('span', { class: 'badge', id: 'deteriorating-count' });
  const lateCount = h('span', { class: 'badge', id: 'obs-overdue-count' });
  const wardBody = h('tbody');
  const wardTable = h(
    'table',
    { class: 'patients by-ward', id: 'news2-by-ward', 'aria-labelledby': 'news2-by-ward-title' },
    h('thead', null, h('tr', null, h('th', { scope: 'col', text: 'Ward' }), WARD_COLUMNS.map((c) => h('th', { scope: 'col', class: `col-${c}`, text: WARD_COLUMN_LABEL[c] })), h('th', { scope: 'col', text: 'Patients' }))),
    wardBody,
  );

  const el = h(
    'div',
    { class: 'patients-panels' },
    actions,
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'deteriorating-title' },
      h('h2', { id: 'deteriorating-title' }, 'Deteriorating patients ', detCount),
      h('p', { class: 'muted hint', text: 'Latest NEWS2 of 5 or more, or 3 in one parameter (red flag). Highest band first, then score, then the set taken longest ago.' }),
      h('div', { class: 'table-wrap patients-wrap', tabindex: 0, role: 'region', 'aria-label': 'Deteriorating patients table, scrolls' }, det.table),
      det.empty,
    ),
    h(
      'div',
      { class: 'patients-pair' },
      h(
        'section',
        { class: 'panel', 'aria-labelledby': 'obs-overdue-title' },
        h('h2', { id: 'obs-overdue-title' }, 'Observations overdue ', lateCount),
        h('div', { class: 'table-wrap patients-wrap', tabindex: 0, role: 'region', 'aria-label': 'Observations overdue table, scrolls' }, late.table),
        late.empty,
      ),
      h(
        'section',
        { class: 'panel', 'aria-labelledby': 'news2-by-ward-title' },
        h('h2', { id: 'news2-by-ward-title', text: 'NEWS2 by ward' }),
        h('div', { class: 'table-wrap patients-wrap', tabindex: 0, role: 'region', 'aria-label': 'NEWS2 by ward table, scrolls' }, wardTable),
      ),
    ),
  );

  /** @param {number} n @param {boolean} withReview */
  function makeRow(n, withReview) {
    const cells = Array.from({ length: n }, () => h('span'));
    const open = withReview ? h('button', { type: 'button', class: 'task-link open-review', text: 'Open review' }) : null;
    const tr = h(
      'tr',
      null,
      cells.map((c, i) => (i === NAME_CELL ? h('th', { scope: 'row' }, c) : h('td', null, c, i === n - 1 && open ? open : null))),
    );
    return /** @type {Row} */ ({ tr, cells, shown: cells.map(() => ''), classes: cells.map(() => ''), open });
  }

  /** @param {Row} row @param {number} i @param {string} text @param {string} [cls] */
  function put(row, i, text, cls = '') {
    if (row.shown[i] !== text) {
      row.shown[i] = text;
      row.cells[i].textContent = text;
    }
    if (row.classes[i] !== cls) {
      row.classes[i] = cls;
      row.cells[i].className = cls;
    }
  }

  /**
   * Put exactly these patients' rows in the table, in order, creating the
   * missing ones and dropping the rest.
   * @param {ReturnType<typeof keyedTable>} t
   * @param {PatientView[]} list
   * @param {number} n cells per row
   * @param {boolean} withReview
   * @param {(row: Row, p: PatientView) => void} paint
   */
  function sync(t, list, n, withReview, paint) {
    const wanted = list.map((p) => {
      let row = t.rows.get(p.id);
      if (!row) {
        row = makeRow(n, withReview);
        row.tr.dataset.patient = p.id;
        t.rows.set(p.id, row);
      }
      paint(row, p);
      return row.tr;
    });
    const keep = new Set(list.map((p) => p.id));
    for (const id of t.rows.keys()) if (!keep.has(id)) t.rows.delete(id);
    wanted.forEach((node, i) => {
      if (t.tbody.children[i] !== node) t.tbody.insertBefore(node, t.tbody.children[i] ?? null);
    });
    while (t.tbody.children.length > wanted.length) t.tbody.lastElementChild?.remove();
    t.empty.textContent = state.patientsLoaded ? t.emptyText : 'Reading the patients…';
    t.empty.hidden = list.length > 0;
    t.table.hidden = list.length === 0;
  }

  /** Tasks that are some listed patient's review: a change to one repaints. @type {Set<string>} */
  let reviews = new Set();

  function render() {
    const at = now();
    const mine = seen();
    // A transfer's event reaches both wards: a patient moved off this
    // person's wards is no longer theirs to watch.
    const patients = [...state.patients.values()].filter((p) => mine === null || mine.includes(p.ward));
    const deteriorating = patients.filter(isDeteriorating).sort(compareDeteriorating);
    reviews = new Set(deteriorating.map((p) => p.review).filter((r) => r !== null));
    sync(det, deteriorating, DET_COLUMNS.length, true, (row, p) => {
      const s = /** @type {NonNullable<ReturnType<typeof latestScore>>} */ (latestScore(p));
      put(row, 0, state.wardName(p.ward));
      put(row, 1, p.bed);
      put(row, 2, p.details.name);
      put(row, 3, numberText(p), 'nhs');
      put(row, 4, scoreText(s), `chip band ${bandClass(s.band, s.red_flag)}`);
      const trend = TREND[s.trend];
      put(row, 5, `${trend.arrow} ${trend.text}`, `trend trend-${s.trend}`);
      put(row, 6, `${clock(s.taken_at)} (${ago(s.taken_at, at)})`);
      const task = p.review ? state.tasks.get(p.review) ?? state.closedViews.get(p.review) : undefined;
      const review = reviewState(task);
      put(row, 7, review.text, review.alarm ? 'alarm-text' : '');
      const open = /** @type {HTMLButtonElement} */ (row.open);
      open.hidden = !task;
      if (task) {
        open.onclick = () => onOpenTask(task.id);
        // Every row's button says "Open review": the name tells them apart.
        open.setAttribute('aria-label', `Open review for ${p.details.name}`);
      }
    });
    detCount.textContent = String(deteriorating.length);

    const overdue = patients
      .map((p) => ({ p, by: overdueBy(p, at) }))
      .filter((x) => x.by !== null)
      .sort((a, b) => /** @type {number} */ (b.by) - /** @type {number} */ (a.by) || compareBed(a.p, b.p));
    const lateBy = new Map(overdue.map((x) => [x.p.id, /** @type {number} */ (x.by)]));
    sync(late, overdue.map((x) => x.p), OVERDUE_COLUMNS.length, false, (row, p) => {
      const s = latestScore(p);
      put(row, 0, state.wardName(p.ward));
      put(row, 1, p.bed);
      put(row, 2, p.details.name);
      put(row, 3, numberText(p), 'nhs');
      put(row, 4, p.obs_due_at === null ? 'not known' : clock(p.obs_due_at));
      put(row, 5, `OVERDUE ${lateText(/** @type {number} */ (lateBy.get(p.id)))}`, 'alarm-text');
      put(row, 6, s ? scoreText(s) : 'No observations yet', s ? `chip band ${bandClass(s.band, s.red_flag)}` : '');
    });
    lateCount.textContent = String(overdue.length);

    renderWards(patients);
  }

  /** @param {PatientView[]} patients */
  function renderWards(patients) {
    const counts = wardCounts(patients);
    const mine = seen();
    // A nurse in charge reads only her wards: others would show as empty.
    const wards = (state.wards.length ? state.wards.map((w) => w.id) : [...counts.keys()].sort()).filter((id) => mine === null || mine.includes(id));
    if (mine === null) for (const id of counts.keys()) if (!wards.includes(id)) wards.push(id);
    const total = { low: 0, low_medium: 0, medium: 0, high: 0, incomplete: 0, none: 0, total: 0 };
    /** @param {string} label @param {Record<string, number>} c @param {string} key */
    const line = (label, c, key) =>
      h(
        'tr',
        { 'data-ward': key },
        h('th', { scope: 'row', text: label }),
        WARD_COLUMNS.map((col) => h('td', { class: `col-${col}${c[col] && (col === 'medium' || col === 'high') ? ' alarm-text' : ''}`, 'data-col': col, text: String(c[col]) })),
        h('td', { 'data-col': 'total', text: String(c.total) }),
      );
    const body = wards.map((id) => {
      const c = counts.get(id) ?? { low: 0, low_medium: 0, medium: 0, high: 0, incomplete: 0, none: 0, total: 0 };
      for (const k of /** @type {(keyof typeof total)[]} */ (Object.keys(total))) total[k] += c[k];
      return line(state.wardName(id), c, id);
    });
    // A handful of rows: rebuilt whole, cheaper to read than keyed cells.
    wardBody.replaceChildren(...body, line('All wards', total, ''));
    const last = /** @type {HTMLElement} */ (wardBody.lastElementChild);
    last.classList.add('total-row');
  }

  return {
    el,
    /** @param {Changes} changes */
    update(changes) {
      const reviewChanged = [...changes.tasks].some((id) => reviews.has(id));
      if (changes.reset || changes.patients.size || changes.patientsRead || changes.staff || reviewChanged) render();
    },
    /** The clock moved: ages, and who has fallen overdue. */
    tick: render,
    render,
  };
}
