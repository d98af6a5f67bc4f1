// The board: every open task in one table, filtered and sorted. Rows are
// keyed by task id and kept between updates: an event rewrites only the cells
// of the rows it changed and moves a row only when its place in the order
// changed (binary search in the sorted order), so a steady stream of events
// on 2,000 open tasks costs little. The clock tick rewrites only the time
// cells whose text changed.
//
// It is an ARIA table of CSS grid rows rather than a <table>: a change in one
// row of a 2,000-row <table> made the browser lay out the whole table again
// (about 17 ms per event, measured), while grid rows with
// `content-visibility: auto` are laid out on their own and off-screen rows
// not at all.
//
// Every row names its ward as the hospital writes it ("Ward 7 (Medicine)
// bed 12", never `W7`) and its patient (name and NHS number under the bed)
// when the task carries one, so nobody acts on the wrong patient; a
// hub-raised review shows its NEWS2 band in words and colour.

import { h } from '../js/dom.js';
import { PRIORITIES, PRIORITY_LABEL, clock } from '../js/format.js';
import { comparator, targetText, statusText, whoText, ago, isOverdue, isWaiting, categoryLabel, needsLabel, roleOptions } from './task-text.js';
import { patientLine, reviewText, reviewShort, bandClass } from './patient-text.js';

/** @typedef {import('../js/types.js').TaskView} TaskView */
/** @typedef {import('../js/types.js').Role} Role */
/** @typedef {import('./state.js').DashState} DashState */
/** @typedef {import('./state.js').Changes} Changes */
/** @typedef {import('./task-text.js').SortKey} SortKey */

/** @typedef {{ward: string, role: string, priority: string, status: string}} Filters */

/**
 * A row and what its cells last showed, so unchanged cells are not touched.
 * @typedef {{tr: HTMLElement, cells: HTMLElement[], shown: string[], version: number, cls: string}} Row
 */

/** Above this many changed tasks in one batch, rebuilding the order is cheaper than moving rows. */
const REBUILD_ABOVE = 400;

const STATUS_FILTERS = [
  ['', 'All open'],
  ['waiting', 'Waiting for someone'],
  ['held', 'Held (accepted or started)'],
  ['no_one_accepted', 'No one accepted'],
  ['assigned', 'Assigned, not acknowledged'],
  ['overdue', 'Overdue'],
  ['escalated', 'Escalated'],
];

/** @type {[SortKey | '', string][]} the columns; those with a key sort */
const COLUMNS = [
  ['priority', 'Priority'],
  ['ward', 'Where / patient'],
  ['', 'Task / needs'],
  ['status', 'Status'],
  ['', 'Offered to / held by'],
  ['raised', 'Raised'],
  ['due', 'Target'],
  ['', 'Escalation'],
];

/**
 * @param {{state: DashState, now: () => number, onOpen: (id: string) => void}} ctx
 */
export function createBoard({ state, now, onOpen }) {
  /** @type {Map<string, Row>} */
  const rows = new Map();
  /** Ids of the visible tasks, in display order. @type {string[]} */
  let order = [];
  /** @type {Filters} */
  const filters = { ward: '', role: '', priority: '', status: '' };
  /** @type {SortKey} */
  let sortKey = 'due';
  let descending = false;
  let cmp = comparator(sortKey, descending);

  const tbody = h('div', { role: 'rowgroup', class: 'board-body' });
  const count = h('p', { class: 'count', id: 'board-count', 'aria-live': 'polite' });
  const empty = h('p', { class: 'empty', id: 'board-empty', hidden: true, text: 'No open tasks match these filters.' });

  /** @param {string} id @param {string} label @param {[string, string][]} options @param {keyof Filters} key */
  const select = (id, label, options, key) =>
    h(
      'div',
      { class: 'field' },
      h('label', { for: id, text: label }),
      h(
        'select',
        {
          id,
          onchange: (/** @type {Event} */ e) => {
            filters[key] = /** @type {HTMLSelectElement} */ (e.target).value;
            rebuild();
          },
        },
        options.map(([value, text]) => h('option', { value, text })),
      ),
    );

  const wardSelect = select('filter-ward', 'Ward', [['', 'All wards']], 'ward');
  const filterBar = h(
    'div',
    { class: 'filters', role: 'group', 'aria-label': 'Filter tasks' },
    wardSelect,
    select('filter-role', 'Role', [['', 'All roles'], ...roleOptions()], 'role'),
    select('filter-priority', 'Priority', [['', 'All priorities'], ...PRIORITIES.map((p) => /** @type {[string, string]} */ ([p, PRIORITY_LABEL[p]]))], 'priority'),
    select('filter-status', 'Status', /** @type {[string, string][]} */ (STATUS_FILTERS), 'status'),
    count,
  );

  /** @type {HTMLElement[]} */
  const headers = COLUMNS.map(([key, label]) => {
    if (!key) return h('div', { role: 'columnheader', text: label });
    const th = h('div', { role: 'columnheader', 'data-sort': key });
    th.append(
      h('button', {
        type: 'button',
        class: 'sort',
        text: label,
        onclick: () => {
          if (sortKey === key) descending = !descending;
          else {
            sortKey = key;
            descending = false;
          }
          cmp = comparator(sortKey, descending);
          rebuild();
        },
      }),
    );
    return th;
  });

  const table = h(
    'div',
    { role: 'table', class: 'board', 'aria-labelledby': 'board-title', 'aria-describedby': 'board-count' },
    h('div', { role: 'rowgroup', class: 'board-head' }, h('div', { role: 'row', class: 'board-row' }, headers)),
    tbody,
  );

  const el = h(
    'section',
    { class: 'panel board-panel', 'aria-labelledby': 'board-title' },
    h('h2', { id: 'board-title', text: 'Open tasks' }),
    filterBar,
    h('div', { class: 'table-wrap' }, table),
    empty,
  );

  /** @param {TaskView} t */
  function matches(t) {
    if (filters.ward && t.ward !== filters.ward) return false;
    if (filters.priority && t.priority !== filters.priority) return false;
    if (filters.role && !involvesRole(t, /** @type {Role} */ (filters.role))) return false;
    switch (filters.status) {
      case '':
        return true;
      case 'waiting':
        return isWaiting(t);
      case 'held':
        return !isWaiting(t);
      case 'overdue':
        return isOverdue(t, now());
      case 'escalated':
        return t.escalation_level > 0;
      default:
        return t.state === filters.status;
    }
  }

  /** The task is for that role, or someone in that role holds it or is offered it. @param {TaskView} t @param {Role} role */
  function involvesRole(t, role) {
    if ('role' in t.requirement && t.requirement.role === role) return true;
    if ('any_role' in t.requirement && t.requirement.any_role.includes(role)) return true;
    /** @param {string} id */
    const roleOf = (id) => {
      const s = state.staff.get(id);
      return s?.shift?.role ?? s?.role;
    };
    if (t.assignee) return roleOf(t.assignee.id) === role;
    return t.offers.some((o) => o.state === 'offered' && roleOf(o.staff.id) === role);
  }

  /** @param {TaskView} t @returns {Row} */
  function makeRow(t) {
    const open = h('button', {
      type: 'button',
      class: 'task-link',
      onclick: () => onOpen(t.id),
    });
    const cells = [
      h('span', { class: 'chip' }),
      open,
      h('span'),
      h('span'),
      h('span'),
      h('span'),
      h('span', { class: 'target' }),
      h('span'),
    ];
    const tr = h('div', { role: 'row', class: 'board-row', 'data-id': t.id }, cells.map((c, i) => h('div', { role: i === 1 ? 'rowheader' : 'cell' }, c)));
    return { tr, cells, shown: cells.map(() => ''), version: -1, cls: 'board-row' };
  }

  /** @param {Row} row @param {number} i @param {string} text */
  function put(row, i, text) {
    if (row.shown[i] === text) return;
    row.shown[i] = text;
    row.cells[i].textContent = text;
  }

  /**
   * Bring a row's cells up to date; `timeOnly` skips what only changes with
   * the task (the clock tick).
   * @param {Row} row
   * @param {TaskView} t
   * @param {number} at
   * @param {boolean} timeOnly
   */
  function paint(row, t, at, timeOnly) {
    if (!timeOnly && row.version !== t.version) {
      row.version = t.version;
      put(row, 0, PRIORITY_LABEL[t.priority]);
      row.cells[0].className = `chip prio-${t.priority}`;
      put(row, 1, `${state.wardName(t.ward)} bed ${t.bed}${t.patient_ref ? `\n${patientLine(t.patient_ref)}` : t.patient ? `\n${t.patient}` : ''}`);
      // A hub-raised review leads with its score: that is what decides who goes first.
      put(row, 2, `${t.review ? reviewShort(t.review) : categoryLabel(t.category)}\n${needsLabel(t.requirement)}`);
      row.cells[2].className = t.review ? `review-band ${bandClass(t.review.band, t.review.red_flag)}` : '';
      put(row, 4, whoText(t));
      // The cells are cut to one line; the whole text shows on hover.
      row.cells[1].title = row.shown[1];
      row.cells[2].title = t.review ? `${categoryLabel(t.category)}: ${reviewText(t.review)}\n${needsLabel(t.requirement)}` : row.shown[2];
      row.cells[4].title = row.shown[4];
      const next = t.next_escalation_at !== null ? `next ${clock(t.next_escalation_at)}` : '';
      put(row, 7, t.escalation_level > 0 ? `ESCALATED ×${t.escalation_level}${next ? `\n${next}` : ''}` : next || '—');
    }
    // With the clock: an assignment shows how long it has waited.
    put(row, 3, statusText(t, at));
    if (row.cells[3].title !== row.shown[3]) row.cells[3].title = row.shown[3];
    put(row, 5, `${clock(t.raised_at)}\n${ago(t.raised_at, at)}`);
    const target = targetText(t, at);
    put(row, 6, target.text);
    const cls = `board-row${target.overdue ? ' overdue' : ''}${t.escalation_level > 0 ? ' escalated' : ''}${t.state === 'no_one_accepted' ? ' unassigned' : ''}${t.state === 'assigned' ? ' awaiting-ack' : ''}`;
    if (cls !== row.cls) {
      row.cls = cls;
      row.tr.className = cls;
    }
  }

  /** @param {string} id */
  function rowFor(id) {
    let row = rows.get(id);
    if (!row) {
      const t = /** @type {TaskView} */ (state.tasks.get(id));
      row = makeRow(t);
      rows.set(id, row);
    }
    return row;
  }

  /** Filter and sort everything again and put the rows in order (reusing them). */
  function rebuild() {
    const at = now();
    const visible = [...state.tasks.values()].filter(matches).sort(cmp);
    order = visible.map((t) => t.id);
    const frag = document.createDocumentFragment();
    for (const t of visible) {
      const row = rowFor(t.id);
      paint(row, t, at, false);
      frag.appendChild(row.tr);
    }
    tbody.replaceChildren(frag);
    for (const id of rows.keys()) if (!state.tasks.has(id)) rows.delete(id);
    updateHeaders();
    updateCount();
  }

  /** Where `t` belongs in `order` (binary search). @param {TaskView} t */
  function placeOf(t) {
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const other = /** @type {TaskView} */ (state.tasks.get(order[mid]));
      if (cmp(other, t) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Apply a batch of changed task ids to the rows. @param {Set<string>} ids */
  function patch(ids) {
    const at = now();
    // Take every changed task out of the order first: the binary search below
    // needs the rest of the order to be sorted by current views.
    order = order.filter((id) => !ids.has(id));
    for (const id of ids) {
      const t = state.tasks.get(id);
      const row = rows.get(id);
      if (!t || !matches(t)) {
        row?.tr.remove();
        if (!t) rows.delete(id);
        continue;
      }
      const r = row ?? rowFor(id);
      paint(r, t, at, false);
      const place = placeOf(t);
      order.splice(place, 0, id);
      const next = place + 1 < order.length ? /** @type {Row} */ (rows.get(order[place + 1])).tr : null;
      const prev = place > 0 ? /** @type {Row} */ (rows.get(order[place - 1])).tr : null;
      // Only move the row if it is not already between its neighbours.
      const inPlace = r.tr.parentNode === tbody && r.tr.previousSibling === prev && (next === null ? r.tr.nextSibling === null : r.tr.nextSibling === next);
      if (!inPlace) tbody.insertBefore(r.tr, next);
    }
    updateCount();
  }

  function updateHeaders() {
    for (const th of headers) {
      const key = th.dataset.sort;
      if (!key) continue;
      th.setAttribute('aria-sort', key === sortKey ? (descending ? 'descending' : 'ascending') : 'none');
    }
  }

  function updateCount() {
    const total = state.tasks.size;
    const tasks = total === 1 ? 'open task' : 'open tasks';
    count.textContent = order.length === total ? `${total} ${tasks}` : `Showing ${order.length} of ${total} ${tasks}`;
    empty.hidden = order.length > 0;
  }

  /** @returns {boolean} whether the wards changed (the rows name them) */
  function updateWards() {
    const sel = /** @type {HTMLSelectElement} */ (wardSelect.querySelector('select'));
    if (sel.options.length - 1 === state.wards.length) return false;
    sel.replaceChildren(h('option', { value: '', text: 'All wards' }), ...state.wards.map((w) => h('option', { value: w.id, text: w.name })));
    sel.value = filters.ward;
    return true;
  }

  /** The wards arrived after the tasks (or changed): write every row's place again by name. */
  function renameWards() {
    for (const row of rows.values()) row.version = -1;
    rebuild();
  }

  return {
    el,
    /** @param {Changes} changes */
    update(changes) {
      if (changes.staff && updateWards()) renameWards();
      // A role filter depends on who holds which shift.
      else if (changes.reset || changes.tasks.size > REBUILD_ABOVE || (changes.staff && filters.role)) rebuild();
      else if (changes.tasks.size) patch(changes.tasks);
    },
    /** The clock moved: rewrite ages and targets (and re-filter "overdue"). */
    tick() {
      if (filters.status === 'overdue') {
        rebuild();
        return;
      }
      const at = now();
      for (const id of order) {
        const t = state.tasks.get(id);
        const row = rows.get(id);
        if (t && row) paint(row, t, at, true);
      }
    },
    rebuild,
    /** For tests and measurements: the row element of a task. @param {string} id */
    rowElement(id) {
      return rows.get(id)?.tr ?? null;
    },
  };
}
