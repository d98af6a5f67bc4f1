// Three inline SVG charts, enough for the shift metrics (a chart library would
// weigh more than the whole dashboard): stacked bars per hour, per
// priority bars of median and 90th percentile against a target line, and
// shares (of targets met, of counts) as horizontal bars. Each
// chart carries a text alternative and its numbers as a table, so nothing is
// conveyed by colour or shape alone.

import { h } from '../js/dom.js';
import { clock, duration, PRIORITY_LABEL } from '../js/format.js';

/** @typedef {import('./metrics.js').TimeStat} TimeStat */

const NS = 'http://www.w3.org/2000/svg';
/** Series colours are CSS classes (`s0`..`s7`) so both themes can pick them. */
const PALETTE = 8;

/**
 * @param {string} tag
 * @param {Record<string, string | number>} attrs
 * @param {...(SVGElement | string)} children
 */
function svg(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

/** @param {string[]} head @param {(string | number)[][]} body @param {string} caption */
function dataTable(head, body, caption) {
  return h(
    'details',
    { class: 'chart-data' },
    h('summary', { text: 'Show the numbers' }),
    h(
      'table',
      null,
      h('caption', { text: caption }),
      h('thead', null, h('tr', null, head.map((c) => h('th', { scope: 'col', text: c })))),
      h('tbody', null, body.map((r) => h('tr', null, r.map((c, i) => (i === 0 ? h('th', { scope: 'row', text: String(c) }) : h('td', { text: String(c) })))))),
    ),
  );
}

/**
 * Tasks per hour, stacked by series.
 * @param {{id: string, title: string, hours: number[], series: {key: string, label: string, counts: number[]}[]}} opts
 */
export function stackedBars({ id, title, hours, series }) {
  const W = 560;
  const H = 220;
  const pad = { l: 36, r: 8, t: 10, b: 28 };
  const totals = hours.map((_, i) => series.reduce((n, s) => n + s.counts[i], 0));
  const max = Math.max(1, ...totals);
  const step = niceStep(max);
  const top = Math.ceil(max / step) * step;
  // Narrow bars for a short period, so one hour is not one wall of colour.
  const bw = Math.min(44, (W - pad.l - pad.r) / hours.length);
  const y = (/** @type {number} */ v) => pad.t + (H - pad.t - pad.b) * (1 - v / top);
  /** @type {SVGElement[]} */
  const grid = [];
  for (let v = 0; v <= top; v += step) {
    grid.push(svg('line', { x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v), class: 'grid' }), svg('text', { x: pad.l - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, String(v)));
  }
  /** @type {SVGElement[]} */
  const bars = [];
  hours.forEach((hr, i) => {
    let base = 0;
    series.forEach((s, k) => {
      const v = s.counts[i];
      if (!v) return;
      bars.push(svg('rect', { x: pad.l + i * bw + 2, width: Math.max(1, bw - 4), y: y(base + v), height: y(base) - y(base + v), class: `s${k % PALETTE}` }, svg('title', {}, `${clock(hr)}: ${s.label} ${v}`)));
      base += v;
    });
    const every = Math.ceil(hours.length / 12);
    if (i % every === 0) bars.push(svg('text', { x: pad.l + i * bw + bw / 2, y: H - 10, class: 'axis', 'text-anchor': 'middle' }, clock(hr)));
  });
  const total = totals.reduce((a, b) => a + b, 0);
  const busiest = totals.indexOf(Math.max(...totals));
  const desc = total ? `${total} tasks raised from ${clock(hours[0])} over ${hours.length} hours; busiest hour ${clock(hours[busiest])} with ${totals[busiest]}.` : 'No tasks raised in this period.';
  const chart = svg(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': `${id}-title ${id}-desc`, class: 'chart' },
    svg('desc', { id: `${id}-desc` }, desc),
    ...grid,
    ...bars,
  );
  return h(
    'figure',
    { class: 'chart-fig', id },
    h('figcaption', { id: `${id}-title`, text: title }),
    chart,
    h('ul', { class: 'legend' }, series.map((s, k) => h('li', null, h('span', { class: `swatch s${k % PALETTE}`, 'aria-hidden': 'true' }), s.label))),
    dataTable(['Hour', ...series.map((s) => s.label), 'Total'], hours.map((hr, i) => [clock(hr), ...series.map((s) => s.counts[i]), totals[i]]), title),
  );
}

/** @param {number | null} ms */
function mins(ms) {
  return ms === null ? '—' : duration(ms).replace('under 1 min', '<1 min');
}

/**
 * Median and 90th percentile per priority against the target. Each priority
 * has its own scale (an emergency's 2 minutes and a routine task's 4 hours do
 * not fit one axis); the numbers are written beside the bars.
 * @param {{id: string, title: string, stats: TimeStat[]}} opts
 */
export function targetBars({ id, title, stats }) {
  const W = 560;
  const rowH = 50;
  const pad = { l: 86, r: 8, t: 6, b: 6 };
  const barW = 200;
  const H = pad.t + pad.b + rowH * stats.length;
  /** @type {SVGElement[]} */
  const parts = [];
  stats.forEach((s, i) => {
    const y0 = pad.t + i * rowH;
    const max = Math.max(60000, s.p90 ?? 0, s.target ?? 0) * 1.1;
    const x = (/** @type {number} */ v) => pad.l + barW * (v / max);
    parts.push(svg('text', { x: pad.l - 8, y: y0 + rowH / 2 + 4, class: 'axis label', 'text-anchor': 'end' }, PRIORITY_LABEL[s.priority]));
    parts.push(svg('rect', { x: pad.l, y: y0 + 6, width: barW, height: rowH - 14, class: 'track' }));
    if (s.p90 !== null) parts.push(svg('rect', { x: pad.l, y: y0 + 8, width: Math.max(2, x(s.p90) - pad.l), height: 15, class: 'p90' }, svg('title', {}, `90th percentile ${mins(s.p90)}`)));
    if (s.median !== null) parts.push(svg('rect', { x: pad.l, y: y0 + 25, width: Math.max(2, x(s.median) - pad.l), height: 15, class: 'median' }, svg('title', {}, `median ${mins(s.median)}`)));
    if (s.target !== null) parts.push(svg('line', { x1: x(s.target), x2: x(s.target), y1: y0 + 3, y2: y0 + rowH - 5, class: 'target-line' }, svg('title', {}, `target ${mins(s.target)}`)));
    const tx = pad.l + barW + 12;
    if (s.n === 0) {
      parts.push(svg('text', { x: tx, y: y0 + rowH / 2 + 4, class: 'axis' }, s.target === null ? 'no tasks yet' : `none done yet; target ${mins(s.target)}`));
    } else {
      const late = s.p90 !== null && s.target !== null && s.p90 > s.target;
      parts.push(svg('text', { x: tx, y: y0 + 20, class: late ? 'axis late' : 'axis' }, `p90 ${mins(s.p90)}${late ? ' (over target)' : ''}`));
      parts.push(svg('text', { x: tx, y: y0 + 37, class: 'axis' }, `median ${mins(s.median)} · target ${mins(s.target)} · n=${s.n}`));
    }
  });
  const desc = stats.map((s) => `${PRIORITY_LABEL[s.priority]}: ${s.n ? `median ${mins(s.median)}, 90th percentile ${mins(s.p90)}, target ${mins(s.target)}` : 'no tasks'}`).join('; ');
  return h(
    'figure',
    { class: 'chart-fig', id },
    h('figcaption', { id: `${id}-title`, text: title }),
    svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': `${id}-title ${id}-desc`, class: 'chart' }, svg('desc', { id: `${id}-desc` }, desc), ...parts),
    h(
      'ul',
      { class: 'legend' },
      h('li', null, h('span', { class: 'swatch median', 'aria-hidden': 'true' }), 'Median'),
      h('li', null, h('span', { class: 'swatch p90', 'aria-hidden': 'true' }), '90th percentile'),
      h('li', null, h('span', { class: 'swatch target-line', 'aria-hidden': 'true' }), 'Target (dashed line)'),
    ),
    dataTable(
      ['Priority', 'Tasks', 'Median', '90th percentile', 'Target', 'Within target'],
      stats.map((s) => [PRIORITY_LABEL[s.priority], s.n, mins(s.median), mins(s.p90), mins(s.target), s.within === null ? '—' : `${Math.round(s.within * 100)}%`]),
      title,
    ),
  );
}

/**
 * One horizontal bar per row: a share of 100% (`of` given: "3 of 4, 75%")
 * or a count against the largest row.
 * @param {{id: string, title: string, rows: {label: string, value: number, of?: number}[], empty: string}} opts
 */
export function shareBars({ id, title, rows, empty }) {
  const W = 560;
  const rowH = 26;
  const pad = { l: 200, r: 120, t: 4, b: 4 };
  const barW = W - pad.l - pad.r;
  const H = pad.t + pad.b + rowH * Math.max(1, rows.length);
  const most = Math.max(1, ...rows.map((r) => r.value));
  const words = (/** @type {{value: number, of?: number}} */ r) =>
    r.of === undefined ? String(r.value) : r.of === 0 ? 'none judged' : `${r.value} of ${r.of}, ${Math.round((100 * r.value) / r.of)}%`;
  /** @type {SVGElement[]} */
  const parts = [];
  rows.forEach((r, i) => {
    const y0 = pad.t + i * rowH;
    const share = r.of === undefined ? r.value / most : r.of ? r.value / r.of : 0;
    const label = r.label.length > 28 ? `${r.label.slice(0, 27)}…` : r.label;
    parts.push(svg('text', { x: pad.l - 8, y: y0 + rowH / 2 + 4, class: 'axis label', 'text-anchor': 'end' }, label, svg('title', {}, r.label)));
    parts.push(svg('rect', { x: pad.l, y: y0 + 4, width: barW, height: rowH - 8, class: 'track' }));
    parts.push(svg('rect', { x: pad.l, y: y0 + 4, width: Math.max(r.value ? 2 : 0, barW * share), height: rowH - 8, class: 'median' }));
    parts.push(svg('text', { x: pad.l + barW + 8, y: y0 + rowH / 2 + 4, class: 'axis' }, words(r)));
  });
  if (!rows.length) parts.push(svg('text', { x: 8, y: pad.t + rowH / 2 + 4, class: 'axis' }, empty));
  const desc = rows.length ? rows.map((r) => `${r.label}: ${words(r)}`).join('; ') : empty;
  return h(
    'figure',
    { class: 'chart-fig', id },
    h('figcaption', { id: `${id}-title`, text: title }),
    svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': `${id}-title ${id}-desc`, class: 'chart' }, svg('desc', { id: `${id}-desc` }, desc), ...parts),
    dataTable(['', 'Figure'], rows.map((r) => [r.label, words(r)]), title),
  );
}

/** A round grid step for a scale up to `max`. @param {number} max */
function niceStep(max) {
  for (const s of [1, 2, 5, 10, 20, 50, 100, 200, 500]) if (max / s <= 6) return s;
  return 1000;
}
