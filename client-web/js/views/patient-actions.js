// What the nurse in charge (or a coordinator) does to a bed: admit a patient
// to an empty bed, transfer them (ward and bed), discharge them; and what
// anyone on the ward may do: raise a clinical concern whatever the score.
// Each goes through the outbox like every other command; the only "done"
// shown is the hub's answer.

import { h, replaceChildren } from '../dom.js';
import { askText, confirmDialog } from './dialog.js';
import { SEX_LABEL } from '../clinical.js';

/** @typedef {import('../types.js').PatientView} PatientView */
/** @typedef {import('../types.js').Sex} Sex */
/** @typedef {import('./context.js').ViewContext} ViewContext */

/**
 * The admit form for one empty bed.
 * @param {ViewContext} ctx
 * @param {{ward: string, bed: string}} where
 */
export function admitForm(ctx, { ward, bed }) {
  const { link } = ctx;
  /** @param {string} id @param {string} label @param {HTMLElement} control @param {string} [hint] */
  const field = (id, label, control, hint) =>
    h('div', { class: 'field' }, h('label', { for: id, text: label }), control, hint ? h('p', { class: 'hint', id: `${id}-hint`, text: hint }) : null);
  const nhs = h('input', { id: 'admit-nhs', name: 'nhs', inputMode: 'numeric', autocomplete: 'off', maxLength: 12, 'aria-describedby': 'admit-nhs-hint' });
  const local = h('input', { id: 'admit-local', name: 'local', autocomplete: 'off', maxLength: 32 });
  const name = h('input', { id: 'admit-name', name: 'name', required: true, autocomplete: 'off', maxLength: 100 });
  const born = h('input', { id: 'admit-born', name: 'born', type: 'date', required: true, min: '1900-01-01' });
  const sex = h('select', { id: 'admit-sex', name: 'sex', required: true }, Object.entries(SEX_LABEL).map(([value, label]) => h('option', { value, text: label })));
  const consultant = h('input', { id: 'admit-consultant', name: 'consultant', autocomplete: 'off', maxLength: 100 });
  const alerts = h('textarea', { id: 'admit-alerts', name: 'alerts', rows: 2, maxLength: 500, placeholder: 'Allergies, resuscitation status' });
  const outcome = h('div', { class: 'form-outcome', role: 'status', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'btn primary wide', text: `Admit to bed ${bed}` });
  /** @type {string | null} */
  let waiting = null;
  const form = h(
    'form',
    { class: 'admit', 'aria-labelledby': 'admit-title' },
    field('admit-nhs', 'NHS number', nhs, '10 digits, as on the wristband; or give a hospital number below'),
    field('admit-local', 'Hospital number (if no NHS number)', local),
    field('admit-name', 'Name', name),
    h('div', { class: 'row' }, field('admit-born', 'Date of birth', born), field('admit-sex', 'Sex', sex)),
    field('admit-consultant', 'Consultant', consultant),
    field('admit-alerts', 'Alerts', alerts),
    outcome,
    submit,
  );
  /** @param {string} text @param {'pending' | 'ok' | 'error'} tone */
  const say = (text, tone) => {
    replaceChildren(outcome, h('p', { class: `notice ${tone}`, text }));
    outcome.scrollIntoView({ block: 'nearest' });
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    const n = nhs.value.replace(/\s/g, '');
    if (!n && !local.value.trim()) {
      say('Give an NHS number or a hospital number.', 'error');
      nhs.focus();
      return;
    }
    const entry = link.send(
      {
        op: 'admit_patient',
        ward,
        bed,
        patient: {
          nhs_number: n || null,
          local_number: local.value.trim() || null,
          name: name.value.trim(),
          born: born.value,
          sex: /** @type {Sex} */ (sex.value),
          consultant: consultant.value.trim(),
          alerts: alerts.value.trim(),
        },
      },
      `Admit ${name.value.trim()} to ${ctx.wardName(ward)} bed ${bed}`,
    );
    waiting = entry.id;
    submit.disabled = true;
    say(link.status === 'online' ? 'Sending to the hub…' : 'No connection: queued, NOT admitted yet.', 'pending');
  });
  /** @param {Event} e */
  const onResult = (e) => {
    const { entry, result } = /** @type {CustomEvent} */ (e).detail;
    if (entry.id !== waiting || result.kind !== 'patient') return;
    waiting = null;
    say(`Admitted ${result.patient.details.name} to bed ${result.patient.bed}.`, 'ok');
    replaceChildren(form, outcome, h('a', { class: 'btn primary wide', href: `#patients/${result.patient.id}`, text: 'Open patient' }));
  };
  /** @param {Event} e */
  const onError = (e) => {
    const { entry, message } = /** @type {CustomEvent} */ (e).detail;
    if (entry.id !== waiting) return;
    waiting = null;
    submit.disabled = false;
    say(`Not admitted: ${message}`, 'error');
  };
  link.addEventListener('result', onResult);
  link.addEventListener('cmd-error', onError);
  const el = h('div', { class: 'admit-screen' }, h('h2', { class: 'view-title', id: 'admit-title', text: `Admit to ${ctx.wardName(ward)} · Bed ${bed}` }), form);
  return {
    el,
    update() {},
    close() {
      link.removeEventListener('result', onResult);
      link.removeEventListener('cmd-error', onError);
    },
  };
}

/**
 * Ask for the ward and the empty bed to move a patient to.
 * @param {ViewContext} ctx
 * @param {PatientView} p
 * @returns {Promise<{ward: string, bed: string} | null>}
 */
function askWhere(ctx, p) {
  const { store } = ctx;
  return new Promise((resolve) => {
    const wards = store.directory?.wards ?? [];
    const mine = store.me?.shift?.wards ?? [];
    const choices = wards.filter((w) => !mine.length || mine.includes(w.id) || ['coordinator', 'admin'].includes(store.me?.shift?.role ?? ''));
    const ward = h('select', { id: 'move-ward', name: 'ward' }, choices.map((w) => h('option', { value: w.id, text: w.name })));
    const bed = h('select', { id: 'move-bed', name: 'bed', required: true });
    const fill = () => {
      const w = wards.find((x) => x.id === ward.value);
      const taken = new Set(store.patientsOn(ward.value).map((x) => x.bed));
      replaceChildren(bed, (w?.beds ?? []).filter((b) => !taken.has(b)).map((b) => h('option', { value: b, text: `Bed ${b}` })));
    };
    ward.value = p.ward;
    ward.addEventListener('change', fill);
    fill();
    /** @param {{ward: string, bed: string} | null} v */
    const finish = (v) => {
      dialog.close();
      dialog.remove();
      resolve(v);
    };
    const form = h(
      'form',
      { method: 'dialog' },
      h('h2', { id: 'move-title', text: `Transfer ${p.details.name}` }),
      h('label', { for: 'move-ward', text: 'Ward' }),
      ward,
      h('label', { for: 'move-bed', text: 'Empty bed' }),
      bed,
      h('div', { class: 'row' }, h('button', { type: 'button', class: 'btn secondary', text: 'Cancel', onclick: () => finish(null) }), h('button', { type: 'submit', class: 'btn primary', text: 'Transfer' })),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!bed.value) return;
      finish({ ward: ward.value, bed: bed.value });
    });
    const dialog = h('dialog', { class: 'ask', 'aria-labelledby': 'move-title' }, form);
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      finish(null);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** @param {ViewContext} ctx */
export function patientActions(ctx) {
  const { link } = ctx;
  /** @param {PatientView} p */
  const who = (p) => `${p.details.name}, bed ${p.bed}`;
  return {
    /** @param {PatientView} p */
    async transfer(p) {
      const to = await askWhere(ctx, p);
      if (!to) return;
      link.send({ op: 'transfer_patient', patient: p.id, ward: to.ward, bed: to.bed }, `Transfer ${who(p)} to ${ctx.wardName(to.ward)} bed ${to.bed}`);
    },
    /** @param {PatientView} p */
    async discharge(p) {
      const go = await confirmDialog({ title: `Discharge ${p.details.name}?`, text: `Bed ${p.bed} on ${ctx.wardName(p.ward)} becomes free. Their open tasks stay open.`, yes: 'Discharge', no: 'Keep' });
      if (go) link.send({ op: 'discharge_patient', patient: p.id }, `Discharge ${who(p)}`);
    },
    /** @param {PatientView} p */
    async concern(p) {
      const concern = await askText({
        title: `Clinical concern: ${who(p)}`,
        label: 'What worries you (the doctor sees it)',
        submit: 'Raise concern',
        required: true,
        max: 1000,
        suggestions: ['Looks unwell, not themselves', 'New confusion', 'Pain not controlled', 'Family worried'],
      });
      if (concern === null) return;
      link.send({ op: 'raise_concern', patient: p.id, concern }, `Concern for ${who(p)}`);
    },
  };
}
