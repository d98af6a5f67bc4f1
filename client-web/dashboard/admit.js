// Admit, transfer and discharge from the dashboard: a coordinator (or the
// nurse in charge, on her wards) may do each, through the same command path
// as every other action (a promise answered by the hub). Beds are offered
// from the directory's wards, and only the empty ones. The hub checks
// everything again; a refusal is shown in words, and one naming a field
// (`invalid_field`, e.g. "patient.nhs_number: ... check digit ...") marks
// that field as well.

import { h } from '../js/dom.js';
import { field, outcomeLine, uid } from './ui.js';
import { compareBed, patientNumber } from './patient-text.js';

/** @typedef {import('./state.js').DashState} DashState */
/** @typedef {import('./link.js').DashLink} DashLink */
/** @typedef {import('./link.js').Answer} Answer */
/** @typedef {import('../types/PatientView').PatientView} PatientView */
/** @typedef {import('../types/PatientDetails').PatientDetails} PatientDetails */
/** @typedef {import('../types/Sex').Sex} Sex */
/** @typedef {'admit' | 'transfer' | 'discharge'} Mode */

/** @type {[Sex, string][]} */
const SEXES = [
  ['female', 'Female'],
  ['male', 'Male'],
  ['other', 'Other'],
  ['unknown', 'Not known'],
];

/** Field names in the hub's refusals, in words. @type {Record<string, string>} */
const FIELD_WORDS = {
  'patient.nhs_number': 'NHS number',
  'patient.local_number': 'Local hospital number',
  'patient.name': 'Name',
  'patient.born': 'Date of birth',
  'patient.consultant': 'Consultant',
  'patient.alerts': 'Alerts',
  ward: 'Ward',
  bed: 'Bed',
};

const TITLE = { admit: 'Admit a patient', transfer: 'Transfer a patient', discharge: 'Discharge a patient' };

/**
 * Split a refusal into the field it names and the problem ("patient.born:
 * must be a date" -> ["patient.born", "must be a date"]).
 * @param {string} message
 * @returns {[string | null, string]}
 */
export function fieldOf(message) {
  const m = /^([a-z_]+(?:\.[a-z_]+)*): (.*)$/s.exec(message);
  return m ? [m[1], m[2]] : [null, message];
}

/**
 * @param {{state: DashState, link: DashLink, wards: () => string[] | null}} ctx
 *   `wards`: the wards this person may admit to (null: every ward)
 */
export function bedDialog({ state, link, wards }) {
  const dialog = h('dialog', { class: 'beds', 'aria-labelledby': 'beds-title' });

  function allowedWards() {
    const mine = wards();
    return state.wards.filter((w) => mine === null || mine.includes(w.id));
  }

  /** The beds of a ward with nobody in them (a patient's own bed is not empty). @param {string} ward */
  function emptyBeds(ward) {
    const w = state.wards.find((x) => x.id === ward);
    if (!w) return [];
    const taken = new Set([...state.patients.values()].filter((p) => p.ward === ward).map((p) => p.bed));
    return w.beds.filter((b) => !taken.has(b));
  }

  /** A ward select and a bed select that follows it. */
  function wardAndBed() {
    const ward = h('select', { id: uid('beds-ward'), required: true }, allowedWards().map((w) => h('option', { value: w.id, text: w.name })));
    const bed = h('select', { id: uid('beds-bed'), required: true });
    const fill = () => {
      const free = emptyBeds(ward.value);
      bed.replaceChildren(...(free.length ? free.map((b) => h('option', { value: b, text: `Bed ${b}` })) : [h('option', { value: '', text: 'No empty bed' })]));
    };
    ward.addEventListener('change', fill);
    fill();
    return { ward, bed, fill };
  }

  /** Patients for a select, by ward and bed. */
  function patientSelect() {
    const list = [...state.patients.values()].sort(compareBed);
    return h(
      'select',
      { id: uid('beds-patient'), required: true },
      h('option', { value: '', text: list.length ? 'Choose a patient…' : 'No patients admitted' }),
      list.map((p) => h('option', { value: p.id, text: `${state.wardName(p.ward)} bed ${p.bed}: ${p.details.name} (${patientNumber(p.details)})` })),
    );
  }

  /**
   * Show the hub's answer; a refusal naming a field marks that control.
   * @param {ReturnType<typeof outcomeLine>} outcome
   * @param {Answer} answer
   * @param {string} success
   * @param {Record<string, HTMLElement>} controls by the hub's field name
   */
  function showAnswer(outcome, answer, success, controls) {
    for (const c of Object.values(controls)) {
      c.removeAttribute('aria-invalid');
      c.removeAttribute('aria-describedby');
    }
    if (answer.ok || answer.code !== 'invalid_field') {
      outcome.show(answer, success);
      return;
    }
    const [name, problem] = fieldOf(answer.message);
    const words = name ? FIELD_WORDS[name] ?? name : null;
    outcome.show({ ...answer, message: words ? `${words}: ${problem}` : problem }, success);
    const control = name ? controls[name] : undefined;
    if (control) {
      control.setAttribute('aria-invalid', 'true');
      control.setAttribute('aria-describedby', outcome.el.id);
      control.focus();
    }
  }

  function admitForm() {
    const outcome = outcomeLine();
    outcome.el.id = uid('beds-outcome');
    const nhs = h('input', { id: 'admit-nhs', inputMode: 'numeric', autocomplete: 'off', maxLength: 14, 'aria-describedby': 'admit-nhs-hint' });
    const local = h('input', { id: 'admit-local', autocomplete: 'off', maxLength: 32 });
    const name = h('input', { id: 'admit-name', autocomplete: 'off', required: true, maxLength: 100 });
    const born = h('input', { id: 'admit-born', type: 'date', required: true, min: '1900-01-01' });
    const sex = h('select', { id: 'admit-sex' }, SEXES.map(([value, text]) => h('option', { value, text })));
    const consultant = h('input', { id: 'admit-consultant', autocomplete: 'off', maxLength: 100 });
    const alerts = h('textarea', { id: 'admit-alerts', rows: 2, maxLength: 500 });
    const place = wardAndBed();
    place.ward.id = 'admit-ward';
    place.bed.id = 'admit-bed';
    const form = h(
      'form',
      {
        class: 'admit',
        onsubmit: async (/** @type {SubmitEvent} */ e) => {
          e.preventDefault();
          const nhsNumber = nhs.value.trim();
          const localNumber = local.value.trim();
          if (!nhsNumber && !localNumber) {
            showAnswer(outcome, { ok: false, code: 'invalid_field', message: 'patient.nhs_number: an NHS number or a local hospital number is required' }, '', controls);
            return;
          }
          if (!place.bed.value) {
            showAnswer(outcome, { ok: false, code: 'invalid_field', message: 'bed: this ward has no empty bed' }, '', controls);
            return;
          }
          /** @type {PatientDetails} */
          const patient = {
            nhs_number: nhsNumber || null,
            local_number: localNumber || null,
            name: name.value.trim(),
            born: born.value,
            sex: /** @type {Sex} */ (sex.value),
            consultant: consultant.value.trim(),
            alerts: alerts.value.trim(),
          };
          const where = `${state.wardName(place.ward.value)} bed ${place.bed.value}`;
          outcome.busy(`Admitting ${patient.name} to ${where}…`);
          const answer = await link.command({ op: 'admit_patient', ward: place.ward.value, bed: place.bed.value, patient });
          if (answer.ok) state.applyResult(answer.result);
          showAnswer(outcome, answer, `Admitted ${patient.name} to ${where}.`, controls);
          if (answer.ok) {
            for (const c of [nhs, local, name, born, consultant, alerts]) c.value = '';
            place.fill();
          }
        },
      },
      h('div', { class: 'field' }, h('label', { for: nhs.id, text: 'NHS number' }), nhs, h('p', { class: 'muted hint', id: 'admit-nhs-hint', text: '10 digits, spaces allowed (999 000 0018). Or a local hospital number.' })),
      field('Local hospital number', local),
      field('Name', name),
      h('div', { class: 'row two' }, field('Date of birth', born), field('Sex', sex)),
      field('Consultant', consultant),
      field('Alerts (allergies, resuscitation status)', alerts),
      h('div', { class: 'row two' }, field('Ward', place.ward), field('Bed (empty beds only)', place.bed)),
      buttons('Admit'),
      outcome.el,
    );
    /** @type {Record<string, HTMLElement>} */
    const controls = {
      'patient.nhs_number': nhs,
      'patient.local_number': local,
      'patient.name': name,
      'patient.born': born,
      'patient.consultant': consultant,
      'patient.alerts': alerts,
      ward: place.ward,
      bed: place.bed,
    };
    return { form, focus: nhs };
  }

  /** @param {string | null} chosen */
  function transferForm(chosen) {
    const outcome = outcomeLine();
    outcome.el.id = uid('beds-outcome');
    const who = patientSelect();
    who.id = 'transfer-patient';
    if (chosen) who.value = chosen;
    const place = wardAndBed();
    place.ward.id = 'transfer-ward';
    place.bed.id = 'transfer-bed';
    const form = h(
      'form',
      {
        class: 'transfer',
        onsubmit: async (/** @type {SubmitEvent} */ e) => {
          e.preventDefault();
          const p = state.patients.get(who.value);
          if (!p || !place.bed.value) return;
          const where = `${state.wardName(place.ward.value)} bed ${place.bed.value}`;
          outcome.busy(`Moving ${p.details.name} to ${where}…`);
          const answer = await link.command({ op: 'transfer_patient', patient: p.id, ward: place.ward.value, bed: place.bed.value });
          if (answer.ok) state.applyResult(answer.result);
          showAnswer(outcome, answer, `${p.details.name} is now in ${where}.`, { ward: place.ward, bed: place.bed, patient: who });
          if (answer.ok) place.fill();
        },
      },
      field('Patient', who),
      h('div', { class: 'row two' }, field('To ward', place.ward), field('Empty bed', place.bed)),
      buttons('Transfer'),
      outcome.el,
    );
    return { form, focus: who };
  }

  /** @param {string | null} chosen */
  function dischargeForm(chosen) {
    const outcome = outcomeLine();
    const who = patientSelect();
    who.id = 'discharge-patient';
    if (chosen) who.value = chosen;
    const form = h(
      'form',
      {
        class: 'discharge',
        onsubmit: async (/** @type {SubmitEvent} */ e) => {
          e.preventDefault();
          const p = state.patients.get(who.value);
          if (!p) return;
          outcome.busy(`Discharging ${p.details.name}…`);
          const answer = await link.command({ op: 'discharge_patient', patient: p.id });
          if (answer.ok) state.applyResult(answer.result);
          outcome.show(answer, `${p.details.name} is discharged from ${state.wardName(p.ward)} bed ${p.bed}.`);
          if (answer.ok) who.querySelector(`option[value="${p.id}"]`)?.remove();
        },
      },
      field('Patient', who),
      h('p', { class: 'muted', text: 'Check the name and number against the wristband: discharge removes the patient from the ward’s list.' }),
      buttons('Discharge', 'btn danger'),
      outcome.el,
    );
    return { form, focus: who };
  }

  /** @param {string} label @param {string} [cls] */
  function buttons(label, cls = 'btn primary') {
    return h(
      'div',
      { class: 'row' },
      h('button', { type: 'submit', class: cls, text: label }),
      h('button', { type: 'button', class: 'btn secondary', text: 'Close', onclick: () => dialog.close() }),
    );
  }

  return {
    el: dialog,
    /** @param {Mode} mode @param {string | null} [patient] preselected for transfer and discharge */
    open(mode, patient = null) {
      const built = mode === 'admit' ? admitForm() : mode === 'transfer' ? transferForm(patient) : dischargeForm(patient);
      dialog.replaceChildren(h('h2', { id: 'beds-title', text: TITLE[mode] }), built.form);
      dialog.dataset.mode = mode;
      if (!dialog.open) dialog.showModal();
      built.focus.focus();
    },
  };
}
