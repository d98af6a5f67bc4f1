// Shift metrics from the `history` result, as plain data (no DOM, so the
// tests can check the arithmetic directly): tasks per hour by ward or
// category, time to accept and time to complete by priority (median and 90th
// percentile) against the priority's target, and the CSV export.

import { PRIORITIES, PRIORITY_LABEL, STATE_LABEL } from '../js/format.js';
import { categoryLabel, needsLabel } from './task-text.js';

/** @typedef {import('../js/types.js').TaskView} TaskView */
/** @typedef {import('../js/types.js').Priority} Priority */

const HOUR = 3600 * 1000;

/**
 * Nearest-rank percentile (p in 0..100) of unsorted values; null when empty.
 * @param {number[]} values
 * @param {number} p
 */
export function percentile(values, p) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/**
 * Tasks raised per clock hour, split by ward or category.
 * @param {TaskView[]} tasks
 * @param {'ward' | 'category'} by
 * @param {number} since
 * @param {number} until
 * @returns {{hours: number[], series: {key: string, counts: number[]}[]}}
 */
export function perHour(tasks, by, since, until) {
  const first = Math.floor(since / HOUR) * HOUR;
  const n = Math.max(1, Math.ceil((until - first) / HOUR));
  const hours = Array.from({ length: n }, (_, i) => first + i * HOUR);
  /** @type {Map<string, number[]>} */
  const series = new Map();
  for (const t of tasks) {
    const i = Math.floor((t.raised_at - first) / HOUR);
    if (i < 0 || i >= n) continue;
    const key = by === 'ward' ? t.ward : t.category;
    let counts = series.get(key);
    if (!counts) {
      counts = new Array(n).fill(0);
      series.set(key, counts);
    }
    counts[i] += 1;
  }
  return { hours, series: [...series].sort(([a], [b]) => a.localeCompare(b)).map(([key, counts]) => ({ key, counts })) };
}

/**
 * @typedef {{priority: Priority, n: number, median: number | null, p90: number | null, target: number | null, within: number | null}} TimeStat
 */

/**
 * Time from raise to accept (or to completion), per priority, in ms, with the
 * target (the priority's configured window, read off the tasks) and the
 * share of tasks that made it.
 * @param {TaskView[]} tasks
 * @param {'accept' | 'complete'} what
 * @returns {TimeStat[]}
 */
export function timeTo(tasks, what) {
  return PRIORITIES.map((priority) => {
    const mine = tasks.filter((t) => t.priority === priority);
    const done = mine.filter((t) => (what === 'accept' ? t.accepted_at !== null : t.state === 'completed' && t.closed_at !== null));
    const times = done.map((t) => /** @type {number} */ (what === 'accept' ? t.accepted_at : t.closed_at) - t.raised_at);
    const windows = mine.map((t) => (what === 'accept' ? t.accept_by : t.complete_by) - t.raised_at);
    const target = percentile(windows, 50);
    const met = done.filter((t) => /** @type {number} */ (what === 'accept' ? t.accepted_at : t.closed_at) <= (what === 'accept' ? t.accept_by : t.complete_by)).length;
    return {
      priority,
      n: done.length,
      median: percentile(times, 50),
      p90: percentile(times, 90),
      target,
      within: done.length ? met / done.length : null,
    };
  });
}

/** @param {TaskView[]} tasks */
export function totals(tasks) {
  let open = 0;
  let completed = 0;
  let cancelled = 0;
  let escalated = 0;
  for (const t of tasks) {
    if (t.state === 'completed') completed += 1;
    else if (t.state === 'cancelled') cancelled += 1;
    else open += 1;
    if (t.escalation_level > 0) escalated += 1;
  }
  return { raised: tasks.length, open, completed, cancelled, escalated };
}

/** @param {number | null} ms */
function iso(ms) {
  return ms === null ? '' : new Date(ms).toISOString();
}

/** @param {number | null} ms */
function minutes(ms) {
  return ms === null ? '' : (ms / 60000).toFixed(1);
}

/**
 * One CSV cell: quoted when needed, and a leading = + - @ neutralised so a
 * spreadsheet does not run a free-text field as a formula.
 * @param {string | number} value
 */
export function csvCell(value) {
  let s = String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const CSV_COLUMNS = [
  'task_id', 'ward', 'ward_name', 'bed', 'patient', 'category', 'priority', 'needs', 'state', 'raised_by', 'raised_at',
  'accept_by', 'accepted_at', 'minutes_to_accept', 'started_at', 'complete_by', 'closed_at', 'minutes_to_close',
  'assignee', 'escalation_level', 'closing_note',
];

/**
 * The shift's tasks as CSV (RFC 4180, CRLF line ends), oldest first.
 * @param {TaskView[]} tasks
 * @param {(ward: string) => string} wardName
 */
export function toCsv(tasks, wardName) {
  const lines = [CSV_COLUMNS.join(',')];
  for (const t of [...tasks].sort((a, b) => a.raised_at - b.raised_at)) {
    lines.push(
      [
        t.id, t.ward, wardName(t.ward), t.bed, t.patient, categoryLabel(t.category), PRIORITY_LABEL[t.priority], needsLabel(t.requirement),
        STATE_LABEL[t.state], t.raised_by.name, iso(t.raised_at), iso(t.accept_by), iso(t.accepted_at),
        minutes(t.accepted_at === null ? null : t.accepted_at - t.raised_at), iso(t.started_at), iso(t.complete_by), iso(t.closed_at),
        minutes(t.closed_at === null ? null : t.closed_at - t.raised_at), t.assignee?.name ?? '', t.escalation_level, t.closing_note ?? '',
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
