// Entering a set of observations at the bedside, with gloves on, on a small
// phone: big steppers (and typing, for those who prefer it) for each vital
// sign, five big ACVPU buttons, air or oxygen, the patient's previous value
// beside each field, and the NEWS2 sub-scores, total and the response the
// hub will start, worked out live on the patient's scale before anything is
// sent. A set with anything missing says "incomplete: no score", never a
// number. Sending goes through the outbox, with `taken_at` fixed when the
// nurse opened the set, so a set queued in a Wi-Fi not-spot keeps its time.
// The draft is kept on the device until it is sent.

import { h, replaceChildren } from '../dom.js';
import { clock } from '../format.js';
import { score, quantise, RESPONSE } from '../news2.js';
import { ACVPU_LABEL, ACVPU_LETTER, BAND_LABEL, DEVICE_LABEL, bandClass, parameterLabel, scaleLabel } from '../clinical.js';
import { storageKey } from '../base.js';

/** @typedef {import('../types.js').PatientView} PatientView */
/** @typedef {import('../types.js').ObservationSet} ObservationSet */
/** @typedef {import('../types.js').ObservationView} ObservationView */
/** @typedef {import('../types.js').Consciousness} Consciousness */
/** @typedef {import('../types.js').OxygenDevice} OxygenDevice */
/** @typedef {import('./context.js').ViewContext} ViewContext */

/**
 * A stepped field: its key in the set, its unit, the steps of its small and
 * big buttons, the value a first tap starts from, the hub's accepted range,
 * and which sub-score it feeds (diastolic and the oxygen dose feed none).
 * @typedef {{key: 'respiration_rate' | 'spo2' | 'systolic' | 'diastolic' | 'pulse' | 'temperature' | 'flow_l_min' | 'fio2_percent',
 *   label: string, unit: string, small: number, big: number, start: number, min: number, max: number, tenths: boolean,
 *   scored: keyof import('../types.js').SubScores | null}} Spec
 */

/** @type {Spec[]} */
const VITALS = [
  { key: 'respiration_rate', label: 'Respiration rate', unit: '/min', small: 1, big: 4, start: 16, min: 0, max: 80, tenths: false, scored: 'respiration_rate' },
  { key: 'spo2', label: 'SpO2', unit: '%', small: 1, big: 5, start: 96, min: 40, max: 100, tenths: false, scored: 'spo2' },
  { key: 'systolic', label: 'Systolic BP', unit: 'mmHg', small: 1, big: 10, start: 120, min: 30, max: 300, tenths: false, scored: 'systolic' },
  { key: 'diastolic', label: 'Diastolic BP', unit: 'mmHg', small: 1, big: 10, start: 75, min: 10, max: 200, tenths: false, scored: null },
  { key: 'pulse', label: 'Pulse', unit: '/min', small: 1, big: 10, start: 80, min: 15, max: 300, tenths: false, scored: 'pulse' },
  { key: 'temperature', label: 'Temperature', unit: '°C', small: 0.1, big: 0.5, start: 37.0, min: 25, max: 45, tenths: true, scored: 'temperature' },
];
/** @type {Spec[]} */
const OXYGEN = [
  { key: 'flow_l_min', label: 'Oxygen flow', unit: 'L/min', small: 0.5, big: 2, start: 2, min: 0.1, max: 70, tenths: true, scored: null },
  { key: 'fio2_percent', label: 'FiO2', unit: '%', small: 1, big: 5, start: 28, min: 21, max: 100, tenths: false, scored: null },
];

/** @type {Consciousness[]} */
const ACVPU = ['alert', 'new_confusion', 'voice', 'pain', 'unresponsive'];

/**
 * What the nurse has entered so far (null: not recorded).
 * @typedef {{values: Record<Spec['key'], number | null>, oxygen: boolean | null, device: OxygenDevice, consciousness: Consciousness | null, taken_at: number}} Draft
 */

/** @param {string} patient */
const draftKey = (patient) => storageKey(`wardpage.obsdraft.${patient}`);

/** @param {number} v @param {boolean} tenths */
const show = (v, tenths) => (tenths ? v.toFixed(1) : String(Math.round(v)));

/** @param {Draft} d @returns {ObservationSet} */
export function draftToSet(d) {
  const v = d.values;
  /** @type {ObservationSet} */
  const set = { taken_at: d.taken_at };
  if (v.respiration_rate !== null) set.respiration_rate = v.respiration_rate;
  if (v.spo2 !== null) set.spo2 = v.spo2;
  if (d.oxygen === false) set.breathing = { kind: 'air' };
  if (d.oxygen === true) {
    set.breathing = { kind: 'oxygen', device: d.device };
    if (v.flow_l_min !== null) set.breathing.flow_l_min = v.flow_l_min;
    if (v.fio2_percent !== null) set.breathing.fio2_percent = v.fio2_percent;
  }
  if (v.systolic !== null) set.systolic = v.systolic;
  if (v.diastolic !== null) set.diastolic = v.diastolic;
  if (v.pulse !== null) set.pulse = v.pulse;
  if (d.consciousness !== null) set.consciousness = d.consciousness;
  if (v.temperature !== null) set.temperature = v.temperature;
  return set;
}

/** The value of `key` in a stored set, for "previous". @param {ObservationSet} set @param {Spec['key']} key */
function previousValue(set, key) {
  if (key === 'flow_l_min' || key === 'fio2_percent') return set.breathing?.kind === 'oxygen' ? set.breathing[key] ?? null : null;
  return set[key] ?? null;
}

/**
 * @param {ViewContext} ctx
 * @param {{patient: PatientView, previous: () => ObservationView | null}} opts
 */
export function obsEntry(ctx, { patient, previous }) {
  const { store, link } = ctx;
  const id = patient.id;
  /** @type {Draft} */
  let draft = loadDraft() ?? {
    values: { respiration_rate: null, spo2: null, systolic: null, diastolic: null, pulse: null, temperature: null, flow_l_min: null, fio2_percent: null },
    oxygen: null,
    device: 'nasal_cannula',
    consciousness: null,
    taken_at: store.now(),
  };
  /** Id of the record command waiting for the hub's answer. @type {string | null} */
  let waiting = null;

  function loadDraft() {
    try {
      const raw = localStorage.getItem(draftKey(id));
      return raw ? /** @type {Draft} */ (JSON.parse(raw)) : null;
    } catch {
      return null;
    }
  }
  function saveDraft() {
    localStorage.setItem(draftKey(id), JSON.stringify(draft));
  }

  /** @type {Map<string, {pts: HTMLElement, prev: HTMLElement, input: HTMLInputElement, wrap: HTMLElement, warn: HTMLElement}>} */
  const fields = new Map();

  /** @param {Spec} spec */
  function stepper(spec) {
    const inputId = `obs-${spec.key}`;
    const input = h('input', { id: inputId, name: spec.key, class: 'obs-value', inputMode: 'decimal', autocomplete: 'off', 'aria-describedby': `${inputId}-prev ${inputId}-warn` });
    const prev = h('span', { class: 'obs-prev', id: `${inputId}-prev` });
    const pts = h('span', { class: 'obs-pts' });
    const warn = h('p', { class: 'obs-warn', id: `${inputId}-warn`, 'aria-live': 'polite' });
    const render = () => {
      const v = draft.values[spec.key];
      input.value = v === null ? '' : show(v, spec.tenths);
    };
    /** @param {number} delta */
    const step = (delta) => {
      const held = draft.values[spec.key];
      const prevSet = previous()?.set;
      const before = prevSet ? previousValue(prevSet, spec.key) : null;
      // The first tap starts from the last value (or a typical one), not from 0.
      let next = held === null ? before ?? spec.start : held + delta;
      next = Math.min(spec.max, Math.max(spec.min, next));
      draft.values[spec.key] = spec.tenths ? Math.round(next * 10) / 10 : Math.round(next);
      render();
      changed();
    };
    input.addEventListener('input', () => {
      const text = input.value.trim().replace(',', '.');
      const n = text === '' ? null : Number(text);
      draft.values[spec.key] = n === null || Number.isNaN(n) ? null : n;
      changed();
    });
    input.addEventListener('change', render);
    /** @param {string} sign @param {number} by */
    const btn = (sign, by) =>
      h('button', {
        type: 'button',
        class: 'btn secondary step',
        text: `${sign}${show(by, spec.tenths && by < 1)}`,
        'aria-label': `${spec.label} ${sign === '−' ? 'minus' : 'plus'} ${show(by, spec.tenths && by < 1)}`,
        onclick: () => step(sign === '−' ? -by : by),
      });
    render();
    const wrap = h(
      'div',
      { class: 'obs-field', 'data-field': spec.key },
      h('div', { class: 'obs-head' }, h('label', { for: inputId, text: `${spec.label} (${spec.unit})` }), prev, pts),
      h('div', { class: 'stepper' }, btn('−', spec.big), btn('−', spec.small), input, btn('+', spec.small), btn('+', spec.big)),
      warn,
    );
    fields.set(spec.key, { pts, prev, input, wrap, warn });
    return wrap;
  }

  /** A group of big radio buttons. @param {string} name @param {string} legend @param {{value: string, big: string, small?: string}[]} options @param {(v: string) => void} onPick */
  function radios(name, legend, options, onPick) {
    const pts = h('span', { class: 'obs-pts' });
    const prev = h('span', { class: 'obs-prev', id: `obs-${name}-prev` });
    const set = h(
      'fieldset',
      { class: `obs-radios obs-${name}`, 'data-field': name, 'aria-describedby': `obs-${name}-prev` },
      h('legend', null, h('span', { text: legend }), prev, pts),
      options.map((o) =>
        h(
          'label',
          { class: 'obs-option' },
          h('input', { type: 'radio', name: `obs-${name}`, value: o.value, onchange: () => onPick(o.value) }),
          h('span', { class: 'obs-big', text: o.big }),
          o.small ? h('span', { class: 'obs-small', text: o.small }) : null,
        ),
      ),
    );
    fields.set(name, { pts, prev, input: /** @type {any} */ (null), wrap: set, warn: h('p') });
    return set;
  }

  const breathing = radios('air_or_oxygen', 'Air or oxygen', [{ value: 'air', big: 'Air' }, { value: 'oxygen', big: 'Oxygen' }], (v) => {
    draft.oxygen = v === 'oxygen';
    changed();
  });
  const device = h(
    'select',
    { id: 'obs-device', name: 'device', onchange: () => ((draft.device = /** @type {OxygenDevice} */ (device.value)), changed()) },
    Object.entries(DEVICE_LABEL).map(([value, label]) => h('option', { value, text: label })),
  );
  device.value = draft.device;
  const oxygenBox = h('div', { class: 'obs-oxygen' }, h('div', { class: 'field' }, h('label', { for: 'obs-device', text: 'Oxygen device' }), device), OXYGEN.map(stepper));
  const acvpu = radios(
    'consciousness',
    'Consciousness (ACVPU)',
    ACVPU.map((c) => ({ value: c, big: ACVPU_LETTER[c], small: ACVPU_LABEL[c] })),
    (v) => {
      draft.consciousness = /** @type {Consciousness} */ (v);
      changed();
    },
  );
  for (const [name, value] of /** @type {[string, string | null][]} */ ([
    ['air_or_oxygen', draft.oxygen === null ? null : draft.oxygen ? 'oxygen' : 'air'],
    ['consciousness', draft.consciousness],
  ])) {
    const input = /** @type {HTMLInputElement | null} */ (fields.get(name)?.wrap.querySelector(`input[value="${value}"]`) ?? null);
    if (input) input.checked = true;
  }

  const takenText = h('span', { class: 'obs-taken-text' });
  const takenNow = h('button', { type: 'button', class: 'btn ghost small', text: 'Taken now', onclick: () => ((draft.taken_at = store.now()), changed()) });
  const taken = h('p', { class: 'obs-taken' }, takenText, takenNow);

  const totalEl = h('p', { class: 'obs-total', id: 'obs-total' });
  const responseEl = h('p', { class: 'obs-response', id: 'obs-response' });
  const outcome = h('div', { class: 'form-outcome', role: 'status', 'aria-live': 'polite' });
  const send = h('button', { type: 'submit', class: 'btn primary wide', text: 'Send observations' });
  const summary = h('div', { class: 'obs-summary', 'aria-live': 'polite', 'aria-atomic': 'true' }, totalEl, responseEl);

  const byKey = (/** @type {string} */ k) => /** @type {Spec} */ (VITALS.find((s) => s.key === k));
  const form = h(
    'form',
    { class: 'obs-form', novalidate: true, 'aria-label': `Observations for ${patient.details.name}` },
    taken,
    stepper(byKey('respiration_rate')),
    stepper(byKey('spo2')),
    breathing,
    oxygenBox,
    stepper(byKey('systolic')),
    stepper(byKey('diastolic')),
    stepper(byKey('pulse')),
    acvpu,
    stepper(byKey('temperature')),
    outcome,
    h('div', { class: 'obs-dock' }, summary, send),
  );

  /** Recompute the score and every field's points; save the draft. */
  function changed() {
    saveDraft();
    render();
  }

  function render() {
    const set = draftToSet(draft);
    const s = score(quantise(set), patient.scale);
    takenText.textContent = `Taken at ${clock(draft.taken_at)} `;
    oxygenBox.hidden = draft.oxygen !== true;
    const prevSet = previous()?.set ?? null;
    for (const spec of [...VITALS, ...OXYGEN]) {
      const f = fields.get(spec.key);
      if (!f) continue;
      const before = prevSet ? previousValue(prevSet, spec.key) : null;
      f.prev.textContent = before === null ? 'previous —' : `previous ${show(before, spec.tenths)}`;
      const p = spec.scored ? s.sub_scores[spec.scored] : null;
      f.pts.textContent = p === null ? '' : `${p} pt${p === 1 ? '' : 's'}`;
      f.pts.className = `obs-pts${p === null ? '' : ` pts-${p}`}`;
      const v = draft.values[spec.key];
      const bad = v !== null && (v < spec.min || v > spec.max);
      f.warn.textContent = bad ? `Check: ${v} is outside ${spec.min}–${spec.max} ${spec.unit}` : '';
      f.input.setAttribute('aria-invalid', String(bad));
    }
    for (const name of /** @type {const} */ (['air_or_oxygen', 'consciousness'])) {
      const f = fields.get(name);
      if (!f) continue;
      const p = s.sub_scores[name];
      f.pts.textContent = p === null ? '' : `${p} pt${p === 1 ? '' : 's'}`;
      f.pts.className = `obs-pts${p === null ? '' : ` pts-${p}`}`;
      const before = prevSet ? (name === 'consciousness' ? (prevSet.consciousness ? ACVPU_LETTER[prevSet.consciousness] : null) : prevSet.breathing ? (prevSet.breathing.kind === 'air' ? 'air' : 'oxygen') : null) : null;
      f.prev.textContent = before === null ? ' previous —' : ` previous ${before}`;
    }
    const scale = scaleLabel(patient.scale);
    if (s.total === null || s.band === null) {
      totalEl.className = 'obs-total band-incomplete';
      totalEl.textContent = `Incomplete: no score · ${scale}`;
      responseEl.textContent = `Missing: ${s.missing.map(parameterLabel).join(', ')}${s.red_flag ? '. Red flag: 3 in one parameter' : ''}`;
    } else {
      totalEl.className = `obs-total ${bandClass(s.band)}`;
      totalEl.textContent = `NEWS2 ${s.total} ${BAND_LABEL[s.band]} · ${scale}`;
      responseEl.textContent = RESPONSE[s.band] ?? '';
    }
  }

  /** @param {string} text @param {'pending' | 'ok' | 'error'} tone */
  function say(text, tone) {
    replaceChildren(outcome, h('p', { class: `notice ${tone}`, text }));
    outcome.scrollIntoView({ block: 'nearest' });
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (waiting) return;
    const set = draftToSet(draft);
    if (Object.keys(set).length === 1) {
      say('Nothing entered yet.', 'error');
      return;
    }
    for (const f of fields.values()) f.wrap.classList.remove('refused');
    const entry = link.send({ op: 'record_observations', patient: id, set }, `Observations ${ctx.wardName(patient.ward)} bed ${patient.bed}`);
    waiting = entry.id;
    send.disabled = true;
    // Queued or not, the set is safe in the outbox: the draft is done with.
    localStorage.removeItem(draftKey(id));
    say(link.status === 'online' ? 'Sending to the hub…' : `No connection: queued, NOT recorded yet. It will be sent with its time (${clock(draft.taken_at)}) when the hub is reachable.`, 'pending');
  });

  /** @param {Event} e */
  const onResult = (e) => {
    const { entry, result } = /** @type {CustomEvent} */ (e).detail;
    if (entry.id !== waiting || result.kind !== 'observation') return;
    waiting = null;
    /** @type {import('../types.js').News2Score} */
    const s = result.observation.score;
    const words = s.total === null || s.band === null ? 'incomplete, no score' : `NEWS2 ${s.total} ${BAND_LABEL[s.band]}`;
    const review = result.review ? ` A ${result.review.priority} review is raised${result.review.offers.length ? `, offered to ${result.review.offers.map((/** @type {{staff: {name: string}}} */ o) => o.staff.name).join(', ')}` : ''}.` : '';
    say(`Recorded by the hub: ${words} (${scaleLabel(s.scale)}).${review}`, 'ok');
    replaceChildren(form.querySelector('.obs-dock') ?? form, summary, h('a', { class: 'btn primary wide', href: `#patients/${id}`, text: 'Done' }));
  };
  /** @param {Event} e */
  const onError = (e) => {
    const detail = /** @type {CustomEvent} */ (e).detail;
    const { entry, message } = detail;
    if (entry.id !== waiting) return;
    detail.shown = true; // said here, by the fields: no toast over the form
    waiting = null;
    send.disabled = false;
    saveDraft(); // nothing was recorded: the values are still wanted
    say(`Not recorded: ${message}`, 'error');
    const m = /set\.(?:breathing\.)?([a-z_0-9]+)/.exec(message);
    const f = m ? fields.get(m[1]) : undefined;
    if (f) {
      f.wrap.classList.add('refused');
      f.input?.focus();
    }
  };
  /** @param {Event} e */
  const onNotSent = (e) => {
    const { entry } = /** @type {CustomEvent} */ (e).detail;
    if (entry.id !== waiting) return;
    waiting = null;
    send.disabled = false;
    saveDraft();
    say('Not recorded: it could not be sent in time. Check the values and send again.', 'error');
  };
  link.addEventListener('result', onResult);
  link.addEventListener('cmd-error', onError);
  link.addEventListener('not-sent', onNotSent);

  render();
  const el = h(
    'div',
    { class: 'obs-screen' },
    h('h2', { class: 'view-title', id: 'obs-title', text: `Observations · Bed ${patient.bed}` }),
    h('p', { class: 'obs-who', text: `${patient.details.name} · ${patient.details.nhs_number ? `NHS ${patient.details.nhs_number.replace(/^(\d{3})(\d{3})(\d{4})$/, '$1 $2 $3')}` : patient.details.local_number ?? ''}` }),
    form,
  );
  return {
    el,
    /** The previous set arrived (chart read): show it beside the fields. */
    update: render,
    close() {
      link.removeEventListener('result', onResult);
      link.removeEventListener('cmd-error', onError);
      link.removeEventListener('not-sent', onNotSent);
    },
  };
}
