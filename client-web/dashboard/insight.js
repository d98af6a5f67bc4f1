// The Insight view: the shift's tasks from `history` (open and closed), kept
// current by the same pushed events as the board, turned into charts, and
// exported as CSV built in the browser and downloaded through a Blob link.

import { h } from '../js/dom.js';
import { clock } from '../js/format.js';
import { categoryLabel } from './task-text.js';
import { perHour, timeTo, totals, toCsv } from './metrics.js';
import { shareBars, stackedBars, targetBars } from './charts.js';
import { declinesByReason, escalationsByStep, news2Compliance, sharesBy } from './response.js';
import { field } from './ui.js';

/** @typedef {import('../js/types.js').TaskView} TaskView */
/** @typedef {import('../js/types.js').Category} Category */
/** @typedef {import('./state.js').DashState} DashState */
/** @typedef {import('./link.js').DashLink} DashLink */

const HOUR = 3600 * 1000;
/** Charts are redrawn at most this often while events arrive. */
const REDRAW_MS = 5000;

/**
 * @param {{state: DashState, link: DashLink, shift: () => {starts_at: number, ends_at: number} | null}} ctx
 */
export function createInsight({ state, link, shift }) {
  /** @type {Map<string, TaskView>} */
  let tasks = new Map();
  let since = 0;
  let loaded = false;
  let visible = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let redrawTimer;

  const range = h(
    'select',
    { id: 'insight-since' },
    h('option', { value: 'shift', text: 'Since the start of my shift' }),
    h('option', { value: '4', text: 'Last 4 hours' }),
    h('option', { value: '12', text: 'Last 12 hours' }),
    h('option', { value: '24', text: 'Last 24 hours' }),
  );
  range.addEventListener('change', () => void load());
  const status = h('p', { class: 'outcome', role: 'status', 'aria-live': 'polite' });
  const exportBtn = h('button', { type: 'button', class: 'btn primary', id: 'export-csv', text: 'Export tasks as CSV', onclick: () => exportCsv() });
  const summary = h('dl', { class: 'totals' });
  const charts = h('div', { class: 'charts' });
  const el = h(
    'section',
    { class: 'panel insight', 'aria-labelledby': 'insight-title' },
    h('h2', { id: 'insight-title', text: 'Shift metrics' }),
    h(
      'div',
      { class: 'filters' },
      field('Period', range),
      h('button', { type: 'button', class: 'btn secondary', text: 'Reload', onclick: () => void load() }),
      exportBtn,
    ),
    status,
    summary,
    charts,
  );

  function sinceFor() {
    const now = link.now();
    if (range.value === 'shift') return shift()?.starts_at ?? now - 12 * HOUR;
    return now - Number(range.value) * HOUR;
  }

  async function load() {
    since = sinceFor();
    status.className = 'outcome busy';
    status.textContent = 'Loading the shift’s tasks…';
    const answer = await link.command({ op: 'history', since });
    if (!answer.ok) {
      status.className = 'outcome bad';
      status.textContent = `Could not load the history: ${answer.message} (${answer.code})`;
      return;
    }
    if (answer.result.kind !== 'history') return;
    tasks = new Map(answer.result.tasks.map((t) => [t.id, t]));
    loaded = true;
    status.className = 'outcome ok';
    status.textContent = `${tasks.size} tasks since ${clock(since)}.`;
    draw();
  }

  function draw() {
    clearTimeout(redrawTimer);
    redrawTimer = undefined;
    const list = [...tasks.values()];
    const now = link.now();
    const t = totals(list);
    summary.replaceChildren(
      ...[['Raised', t.raised], ['Still open', t.open], ['Completed', t.completed], ['Cancelled', t.cancelled], ['Escalated', t.escalated]].flatMap(([k, v]) => [
        h('div', { class: 'total' }, h('dt', { text: String(k) }), h('dd', { text: String(v) })),
      ]),
    );
    // For the shift, the hour axis spans the whole shift, so the chart shows
    // how far into the night we are; otherwise it ends now.
    const end = shift()?.ends_at;
    const until = range.value === 'shift' && end ? Math.min(Math.max(now, end), since + 24 * HOUR) : now;
    const byWard = perHour(list, 'ward', since, until);
    const byCat = perHour(list, 'category', since, until);
    charts.replaceChildren(
      stackedBars({ id: 'chart-ward', title: 'Tasks raised per hour, by ward', hours: byWard.hours, series: byWard.series.map((s) => ({ ...s, label: state.wardName(s.key) })) }),
      stackedBars({ id: 'chart-category', title: 'Tasks raised per hour, by category', hours: byCat.hours, series: byCat.series.map((s) => ({ ...s, label: categoryLabel(/** @type {Category} */ (s.key)) })) }),
      targetBars({ id: 'chart-accept', title: 'Time to accept, by priority', stats: timeTo(list, 'accept') }),
      targetBars({ id: 'chart-complete', title: 'Time to complete, by priority', stats: timeTo(list, 'complete') }),
      ...responseCharts(list, now),
    );
  }

  /** The report's figures: targets met by ward and category, escalations, declines, NEWS2. @param {TaskView[]} list @param {number} now */
  function responseCharts(list, now) {
    const share = (/** @type {import('./response.js').Share} */ s, /** @type {string} */ label) => ({ label, value: s.met, of: s.judged });
    return [
      shareBars({ id: 'chart-met-ward', title: 'Accepted within target, by ward', rows: sharesBy(list, (t) => t.ward, now).map((s) => share(s, state.wardName(s.key))), empty: 'No tasks yet.' }),
      shareBars({ id: 'chart-met-category', title: 'Accepted within target, by category', rows: sharesBy(list, (t) => t.category, now).map((s) => share(s, categoryLabel(/** @type {Category} */ (s.key)))), empty: 'No tasks yet.' }),
      shareBars({
        id: 'chart-news2',
        title: 'NEWS2 reviews accepted within target',
        rows: news2Compliance(list, now).map((c) => ({ label: `NEWS2 ${c.threshold}+: ${c.episodes} episode${c.episodes === 1 ? '' : 's'}`, value: c.met, of: c.judged })),
        empty: 'No NEWS2 reviews yet.',
      }),
      shareBars({ id: 'chart-escalations', title: 'Tasks escalated, by step', rows: escalationsByStep(list).map(([step, n]) => ({ label: `Step ${step}`, value: n })), empty: 'No escalations.' }),
      shareBars({ id: 'chart-declines', title: 'Declines, by reason', rows: declinesByReason(list).map(([reason, n]) => ({ label: reason, value: n })), empty: 'No declines.' }),
    ];
  }

  function exportCsv() {
    if (!loaded) return;
    const csv = toCsv([...tasks.values()], (w) => state.wardName(w));
    const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
    const stamp = new Date(link.now()).toISOString().slice(0, 16).replace(/[T:]/g, '-');
    const a = h('a', { href: url, download: `wardpage-tasks-${stamp}.csv`, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    status.className = 'outcome ok';
    status.textContent = `Exported ${tasks.size} tasks.`;
  }

  return {
    el,
    /** @param {boolean} on */
    show(on) {
      visible = on;
      if (on && !loaded) void load();
      else if (on) draw();
    },
    /** Keep the loaded history current with pushed task events. @param {Set<string>} ids */
    update(ids) {
      if (!loaded || !ids.size) return;
      for (const id of ids) {
        const view = state.tasks.get(id) ?? state.closedViews.get(id);
        const held = view && tasks.get(id);
        if (view && (!held || held.version < view.version)) tasks.set(id, view);
      }
      if (visible && redrawTimer === undefined) redrawTimer = setTimeout(draw, REDRAW_MS);
    },
    load,
  };
}
