// The ward's patients, one row per bed, for the nurse walking the ward at
// night: bed, name, NHS number, the latest NEWS2 in its band's colour and
// words, Scale 2, the trend, and when the next set is due. Rows are keyed by
// patient (empty beds by bed) and updated in place when an event changes one
// patient: nothing else is rebuilt, so focus stays where it was and a tap
// never lands on a button that appeared under the finger.

import { h } from '../dom.js';
import { bedOrder } from '../store.js';
import { TREND, bandClass, dueStatus, mayManage, nhsFormat, scoreText } from '../clinical.js';

/** @typedef {import('../types.js').PatientView} PatientView */
/** @typedef {import('./context.js').ViewContext} ViewContext */

/** @param {Element} el @param {string} text */
function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

/** @param {Element} el @param {string} name */
function setClass(el, name) {
  if (el.className !== name) el.className = name;
}

/** One patient's row: its parts are kept so an update only rewrites text. */
function patientRow() {
  const bed = h('span', { class: 'pt-bed' });
  const name = h('span', { class: 'pt-name' });
  const number = h('span', { class: 'pt-nhs' });
  const score = h('span', { class: 'pt-score' });
  // The row is read out as one sentence from what it shows: the commas and
  // "Bed" are for the screen reader only, so the link's name is its text.
  const sep = () => h('span', { class: 'sr-only', text: ', ' });
  const scale = h('span', { class: 'pt-scale2' }, sep(), 'Scale 2');
  const arrow = h('span', { class: 'pt-arrow', 'aria-hidden': 'true' });
  const trendText = h('span', { class: 'sr-only' });
  const trend = h('span', { class: 'pt-trend' }, arrow, trendText);
  const due = h('span', { class: 'pt-due' });
  const numberSep = sep();
  const dueSep = sep();
  const link = h(
    'a',
    { class: 'pt-open' },
    h('span', { class: 'sr-only', text: 'Bed ' }),
    bed,
    sep(),
    h('span', { class: 'pt-who' }, name, numberSep, number),
    sep(),
    h('span', { class: 'pt-news' }, score, scale, trend),
    dueSep,
    due,
  );
  const el = h('li', { class: 'pt-row' }, link);
  return {
    el,
    /** @param {PatientView} p @param {number} now */
    update(p, now) {
      el.dataset.patient = p.id;
      link.setAttribute('href', `#patients/${p.id}`);
      setText(bed, p.bed);
      setText(name, p.details.name);
      setText(number, p.details.nhs_number ? `NHS ${nhsFormat(p.details.nhs_number)}` : p.details.local_number ? `Hosp no ${p.details.local_number}` : '');
      const s = p.latest?.score ?? null;
      const band = s?.band ?? null;
      setText(score, s === null ? 'No NEWS2 yet' : s.total === null ? `incomplete${s.red_flag ? ' · red flag' : ''}` : scoreText(s));
      setClass(score, `pt-score ${s === null ? 'band-none' : bandClass(band)}`);
      scale.hidden = p.scale !== 'scale_2';
      const t = p.latest ? TREND[p.latest.trend] : null;
      trend.hidden = !t || !t.arrow;
      setText(arrow, t?.arrow ?? '');
      setText(trendText, t ? `, ${t.text}` : '');
      const d = dueStatus(p, now);
      setText(due, d?.text ?? '');
      numberSep.hidden = number.textContent === '';
      dueSep.hidden = due.textContent === '';
      setClass(due, `pt-due${d?.overdue ? ' overdue' : ''}`);
      setClass(el, `pt-row${d?.overdue ? ' is-overdue' : ''}`);
    },
  };
}

/** An empty bed, with "Admit" for those who may. */
function emptyRow() {
  const bed = h('span', { class: 'pt-bed' });
  const label = h('span', { class: 'pt-empty', text: 'Empty bed' });
  const admit = h('a', { class: 'btn secondary small', text: 'Admit' });
  const el = h('li', { class: 'pt-row bed-empty' }, h('div', { class: 'pt-open' }, bed, label, admit));
  return {
    el,
    /** @param {{ward: string, bed: string, manage: boolean}} b */
    update(b) {
      setText(bed, b.bed);
      el.dataset.bed = b.bed;
      admit.hidden = !b.manage;
      admit.setAttribute('href', `#patients/admit/${encodeURIComponent(b.ward)}/${encodeURIComponent(b.bed)}`);
      admit.setAttribute('aria-label', `Admit a patient to bed ${b.bed}`);
    },
  };
}

/**
 * Put `items` in `list` in order, reusing the row of each key; rows whose
 * key is gone are removed. Untouched rows are not moved or rebuilt.
 * @template T
 * @param {HTMLElement} list
 * @param {Map<string, {el: HTMLElement, update: (x: T, now: number) => void}>} rows
 * @param {{key: string, data: T, make: () => {el: HTMLElement, update: (x: T, now: number) => void}}[]} items
 * @param {number} now
 */
function reconcile(list, rows, items, now) {
  const keep = new Set(items.map((i) => i.key));
  for (const [key, row] of rows) {
    if (!keep.has(key)) {
      row.el.remove();
      rows.delete(key);
    }
  }
  let at = list.firstElementChild;
  for (const item of items) {
    let row = rows.get(item.key);
    if (!row) {
      row = item.make();
      rows.set(item.key, row);
    }
    row.update(item.data, now);
    if (row.el !== at) list.insertBefore(row.el, at);
    else at = at.nextElementSibling;
  }
}

/** @param {ViewContext} ctx */
export function patientList(ctx) {
  const { store } = ctx;
  const wardsEl = h('div', { class: 'pt-wards' });
  const empty = h('p', { class: 'empty' });
  const el = h('div', { class: 'pt-list-screen' }, h('h2', { id: 'patients-title', class: 'view-title', text: 'Patients' }), empty, wardsEl);
  /** @type {Map<string, {el: HTMLElement, list: HTMLElement, title: HTMLElement, rows: Map<string, any>}>} */
  const wards = new Map();

  /** The wards to list: my shift's, or every ward I hold patients of (a coordinator). */
  function wardIds() {
    const shift = store.me?.shift;
    if (!shift) return [];
    if (shift.wards.length) return shift.wards;
    const held = new Set([...store.patients.values()].filter((p) => p.discharged_at === null).map((p) => p.ward));
    return [...held].sort();
  }

  function update() {
    const now = store.now();
    const ids = wardIds();
    const manage = mayManage(store.me);
    setText(empty, store.me?.shift ? (ids.length ? '' : 'No patients on your wards yet.') : 'You are not on shift: patients are shown to staff covering the ward.');
    empty.hidden = empty.textContent === '';
    for (const [id, w] of wards) {
      if (!ids.includes(id)) {
        w.el.remove();
        wards.delete(id);
      }
    }
    let at = wardsEl.firstElementChild;
    for (const id of ids) {
      let w = wards.get(id);
      if (!w) {
        const title = h('h3', { class: 'subhead', id: `ward-${id}` });
        const list = h('ul', { class: 'pt-list', 'aria-labelledby': `ward-${id}` });
        w = { el: h('section', { class: 'pt-ward', 'data-ward': id }, title, list), list, title, rows: new Map() };
        wards.set(id, w);
      }
      if (w.el !== at) wardsEl.insertBefore(w.el, at);
      else at = at.nextElementSibling;
      const patients = store.patientsOn(id);
      const occupied = new Set(patients.map((p) => p.bed));
      const beds = store.directory?.wards.find((x) => x.id === id)?.beds ?? [];
      setText(w.title, `${ctx.wardName(id)} · ${patients.length} patient${patients.length === 1 ? '' : 's'}`);
      /** @type {{key: string, data: any, make: () => any}[]} */
      const items = [
        ...patients.map((p) => ({ key: `p:${p.id}`, bed: p.bed, data: p, make: patientRow })),
        ...beds.filter((b) => !occupied.has(b)).map((b) => ({ key: `b:${b}`, bed: b, data: { ward: id, bed: b, manage }, make: emptyRow })),
      ].sort((a, b) => bedOrder(a.bed, b.bed));
      reconcile(w.list, w.rows, items, now);
    }
  }

  return { el, update };
}
