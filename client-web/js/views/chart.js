// A patient's observation chart over the last 72 hours, drawn as the RCP
// NEWS2 chart is laid out: one column per set, one panel per parameter,
// each panel's rows shaded by the points a value there scores (on the
// patient's scale), and the NEWS2 total in its band's colour at the foot.
// The bands are not written out here: they are found by asking the scorer
// (news2.js) what each value scores, so the chart cannot disagree with the
// score. The labels stay put while the columns scroll sideways on a phone.

import { score } from '../news2.js';
import { clock } from '../format.js';
import { ACVPU_LETTER, BAND_SHORT, scaleLabel } from '../clinical.js';
import { h } from '../dom.js';

/** @typedef {import('../types.js').ObservationView} ObservationView */
/** @typedef {import('../types.js').ObservationSet} ObservationSet */
/** @typedef {import('../types.js').Spo2Scale} Spo2Scale */
/** @typedef {import('../types.js').SubScores} SubScores */

const NS = 'http://www.w3.org/2000/svg';
const COL = 50;
const LABEL_W = 84;
const HEAD = 34;
const TEXT_ROW = 30;
const MIN_COLS = 5;

/**
 * @typedef {{key: 'respiration_rate' | 'spo2' | 'systolic' | 'pulse' | 'temperature', label: string, lo: number, hi: number,
 *   step: number, height: number, sub: keyof SubScores}} Panel
 */

/** @param {Spo2Scale} scale @returns {Panel[]} */
function panels(scale) {
  return [
    { key: 'respiration_rate', label: 'Resp. /min', lo: 4, hi: 36, step: 1, height: 128, sub: 'respiration_rate' },
    { key: 'spo2', label: `SpO2 % (${scaleLabel(scale)})`, lo: scale === 'scale_2' ? 78 : 84, hi: 100, step: 1, height: 128, sub: 'spo2' },
    { key: 'systolic', label: 'BP mmHg', lo: 60, hi: 230, step: 1, height: 150, sub: 'systolic' },
    { key: 'pulse', label: 'Pulse /min', lo: 30, hi: 150, step: 1, height: 140, sub: 'pulse' },
    { key: 'temperature', label: 'Temp °C', lo: 34.5, hi: 40, step: 0.1, height: 120, sub: 'temperature' },
  ];
}

/**
 * The panel's rows: runs of values that score the same, found by scoring
 * each value alone. On Scale 2 the values above 92% are scored on oxygen
 * (on air they score 0), as the paper chart's upper rows are.
 * @param {Panel} panel @param {Spo2Scale} scale
 * @returns {{from: number, to: number, points: number}[]}
 */
export function bandRows(panel, scale) {
  /** @type {{from: number, to: number, points: number}[]} */
  const rows = [];
  const n = Math.round((panel.hi - panel.lo) / panel.step);
  for (let i = 0; i <= n; i += 1) {
    const v = Math.round((panel.lo + i * panel.step) * 10) / 10;
    /** @type {ObservationSet} */
    const set = { taken_at: 0, [panel.key]: v };
    if (panel.key === 'spo2') set.breathing = { kind: 'oxygen', device: 'nasal_cannula' };
    const points = score(set, scale).sub_scores[panel.sub] ?? 0;
    const last = rows[rows.length - 1];
    if (last && last.points === points) last.to = v;
    else rows.push({ from: v, to: v, points });
  }
  return rows;
}

/** @param {string} tag @param {Record<string, string | number>} attrs @param {(Node | string)[]} [children] */
function s(tag, attrs, children = []) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

/** @param {number} v @param {number} step */
const fmt = (v, step) => (step < 1 ? v.toFixed(1) : String(v));

/**
 * @param {{observations: ObservationView[], scale: Spo2Scale, name: string}} opts
 * @returns {HTMLElement}
 */
export function chartView({ observations, scale, name }) {
  const list = panels(scale);
  const cols = Math.max(observations.length, 1);
  // At least a phone's width of columns, so the bands run across the box
  // while there are only a few sets, not stop short in the middle of it.
  const dataW = Math.max(cols, MIN_COLS) * COL + 8;
  const heights = [HEAD, ...list.slice(0, 2).map((p) => p.height), TEXT_ROW, ...list.slice(2).map((p) => p.height), TEXT_ROW, TEXT_ROW];
  const totalH = heights.reduce((a, b) => a + b, 0) + heights.length * 6;
  const labels = s('svg', { width: LABEL_W, height: totalH, viewBox: `0 0 ${LABEL_W} ${totalH}`, 'aria-hidden': 'true', class: 'chart-labels' });
  const data = s('svg', { width: dataW, height: totalH, viewBox: `0 0 ${dataW} ${totalH}`, class: 'chart-data', role: 'img' });
  const x = (/** @type {number} */ i) => i * COL + COL / 2 + 4;
  let y = 0;

  // Times across the top, with the date where a new day starts.
  labels.append(s('text', { x: 4, y: 22, class: 'ch-label' }, ['Time']));
  let day = '';
  observations.forEach((o, i) => {
    const d = new Date(o.set.taken_at);
    const today = `${d.getDate()}/${d.getMonth() + 1}`;
    if (today !== day) {
      day = today;
      data.append(s('text', { x: x(i), y: 12, class: 'ch-date', 'text-anchor': 'middle' }, [today]));
    }
    data.append(s('text', { x: x(i), y: 28, class: 'ch-time', 'text-anchor': 'middle' }, [clock(o.set.taken_at)]));
  });
  y += HEAD + 6;

  /** @param {Panel} panel */
  const drawPanel = (panel) => {
    const top = y;
    // One row per quantised value; a value is drawn at its row's middle.
    const n = Math.round((panel.hi - panel.lo) / panel.step);
    const rowH = panel.height / (n + 1);
    const k = (/** @type {number} */ v) => Math.round((Math.min(panel.hi, Math.max(panel.lo, v)) - panel.lo) / panel.step);
    const scaleY = (/** @type {number} */ v) => top + (n - k(v) + 0.5) * rowH;
    for (const r of bandRows(panel, scale)) {
      const y0 = top + (n - k(r.to)) * rowH;
      const hgt = (k(r.to) - k(r.from) + 1) * rowH;
      data.append(s('rect', { x: 0, y: y0, width: dataW, height: hgt, class: `ch-band pts-${r.points}`, 'data-points': r.points }));
      labels.append(s('rect', { x: 0, y: y0, width: LABEL_W, height: hgt, class: `ch-band pts-${r.points}` }));
      if (hgt >= 11) {
        const text = r.from === panel.lo ? `≤${fmt(r.to, panel.step)}` : r.to === panel.hi ? `≥${fmt(r.from, panel.step)}` : r.from === r.to ? fmt(r.from, panel.step) : `${fmt(r.from, panel.step)}–${fmt(r.to, panel.step)}`;
        labels.append(s('text', { x: LABEL_W - 4, y: y0 + hgt / 2 + 4, class: 'ch-range', 'text-anchor': 'end' }, [text]));
      }
    }
    // Written up the side, so the value ranges have the width.
    labels.append(s('text', { x: 0, y: 0, transform: `translate(15 ${top + panel.height / 2}) rotate(-90)`, 'text-anchor': 'middle', class: 'ch-label' }, [panel.label]));
    /** @type {string[]} */
    const path = [];
    /** Drawn after the line, so the line runs under the dots. @type {SVGElement[]} */
    const marks = [];
    observations.forEach((o, i) => {
      const v = o.set[panel.key];
      if (v === null || v === undefined) return;
      if (panel.key === 'systolic' && typeof o.set.diastolic === 'number') {
        marks.push(s('line', { x1: x(i), x2: x(i), y1: scaleY(v), y2: scaleY(o.set.diastolic), class: 'ch-bp' }));
        marks.push(s('circle', { cx: x(i), cy: scaleY(o.set.diastolic), r: 3, class: 'ch-dot dia' }));
      }
      path.push(`${path.length ? 'L' : 'M'}${x(i)},${scaleY(v)}`);
      const pts = o.score.sub_scores[panel.sub];
      marks.push(s('circle', { cx: x(i), cy: scaleY(v), r: 5, class: `ch-dot pts-${pts ?? 0}` }));
      marks.push(s('text', { x: x(i), y: scaleY(v) - 8, class: 'ch-value', 'text-anchor': 'middle' }, [fmt(v, panel.step)]));
    });
    if (path.length > 1) data.append(s('path', { d: path.join(' '), class: 'ch-line' }));
    data.append(...marks);
    y += panel.height + 6;
  };

  /** A row of words (air/oxygen, ACVPU, the total), each cell shaded. @param {string} label @param {(o: ObservationView) => {text: string, cls: string}} cell */
  const textRow = (label, cell) => {
    labels.append(s('rect', { x: 0, y, width: LABEL_W, height: TEXT_ROW, class: 'ch-band pts-0' }));
    labels.append(s('text', { x: 4, y: y + 20, class: 'ch-label' }, [label]));
    observations.forEach((o, i) => {
      const c = cell(o);
      data.append(s('rect', { x: i * COL + 6, y: y + 2, width: COL - 4, height: TEXT_ROW - 4, rx: 4, class: `ch-cell ${c.cls}` }));
      data.append(s('text', { x: x(i), y: y + 20, class: `ch-cell-text ${c.cls}`, 'text-anchor': 'middle' }, [c.text]));
    });
    y += TEXT_ROW + 6;
  };

  drawPanel(list[0]);
  drawPanel(list[1]);
  textRow('Air or O2', (o) => {
    const b = o.set.breathing;
    const pts = o.score.sub_scores.air_or_oxygen;
    if (!b) return { text: '—', cls: 'cell-none' };
    if (b.kind === 'air') return { text: 'Air', cls: `pts-${pts ?? 0}` };
    const dose = b.fio2_percent ? `${b.fio2_percent}%` : b.flow_l_min ? `${b.flow_l_min}L` : 'O2';
    return { text: dose, cls: `pts-${pts ?? 2}` };
  });
  drawPanel(list[2]);
  drawPanel(list[3]);
  textRow('ACVPU', (o) => (o.set.consciousness ? { text: ACVPU_LETTER[o.set.consciousness], cls: `pts-${o.score.sub_scores.consciousness ?? 0}` } : { text: '—', cls: 'cell-none' }));
  drawPanel(list[4]);
  textRow('NEWS2', (o) => (o.score.total === null || o.score.band === null ? { text: 'inc.', cls: 'band-incomplete' } : { text: String(o.score.total), cls: `band-${o.score.band}` }));

  const last = [...observations].reverse().find((o) => o.score.total !== null);
  data.setAttribute(
    'aria-label',
    observations.length
      ? `Observation chart for ${name}, ${observations.length} set${observations.length === 1 ? '' : 's'} in the last 72 hours, ${scaleLabel(scale)}${last && last.score.band ? `; latest complete NEWS2 ${last.score.total} ${BAND_SHORT[last.score.band]}` : ''}`
      : `Observation chart for ${name}: no observations in the last 72 hours`,
  );
  const scroller = h('div', { class: 'chart-scroll', tabIndex: 0, role: 'region', 'aria-label': 'Chart columns, scroll sideways for earlier sets' });
  scroller.append(data);
  const el = h('div', { class: 'chart' }, h('div', { class: 'chart-fixed' }), scroller);
  /** @type {HTMLElement} */ (el.firstElementChild).append(labels);
  // The newest set is what the nurse wants first: start scrolled to the right.
  requestAnimationFrame(() => {
    scroller.scrollLeft = scroller.scrollWidth;
  });
  return el;
}
