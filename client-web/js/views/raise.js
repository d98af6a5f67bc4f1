// "Raise a task": the nurse's form. The ward starts from their shift and the
// bed list from the ward; the category suggests who is needed; SBAR fields
// carry the hub's limits; and the only confirmation shown is the hub's `ok`
// (a queued command is "not raised yet", never "done"). Priority has no
// default and is cleared after every raise: a pick carried over from the
// last task is how an ECG goes out as an emergency (or an emergency as
// routine). An emergency is sent only after a second, explicit tap.

import { h, replaceChildren } from '../dom.js';
import { CATEGORY_LABEL, PRIORITIES, PRIORITY_LABEL, ROLE_LABEL, SKILL_LABEL } from '../format.js';
import { fitsInFrame } from '../link-core.js';
import { offeredWords } from '../reach.js';

/** @typedef {import('../types.js').Category} Category */
/** @typedef {import('../types.js').Priority} Priority */
/** @typedef {import('../types.js').Requirement} Requirement */
/** @typedef {import('../types.js').Role} Role */
/** @typedef {import('../types.js').Skill} Skill */
/** @typedef {import('./context.js').ViewContext} ViewContext */

/** Who a category usually needs; the nurse can change it. @type {Record<Category, string>} */
const NEEDS = {
  cannula: 'skill:cannulation',
  bloods: 'skill:bloods',
  blood_cultures: 'skill:blood_cultures',
  ecg: 'skill:ecg',
  iv_drugs: 'skill:iv_drugs',
  catheter: 'skill:catheterisation',
  drug_chart: 'skill:prescribing',
  fluids: 'skill:prescribing',
  medical_review: 'role:fy1',
  observations: 'role:nurse',
  other: 'role:fy1',
};

/** Roles a task can sensibly ask for (not the coordinating ones). @type {Role[]} */
const TASK_ROLES = ['fy1', 'sho', 'registrar', 'consultant', 'nurse_practitioner', 'phlebotomist', 'healthcare_assistant', 'nurse'];

/** @type {Record<Priority, string>} */
const PRIORITY_HINT = {
  emergency: 'NEWS2 7+ or peri-arrest',
  urgent: 'NEWS2 5–6, or 3 in one parameter',
  soon: 'within the hour or two',
  routine: 'before the morning',
};

/** @param {string} value @returns {Requirement} */
function parseNeed(value) {
  const [kind, name] = value.split(':');
  return kind === 'role' ? { role: /** @type {Role} */ (name) } : { skill: /** @type {Skill} */ (name) };
}

/** @param {ViewContext} ctx */
export function raiseView(ctx) {
  const { store, link } = ctx;
  /** @param {string} id @param {string} label @param {HTMLElement} control @param {string} [hint] */
  const field = (id, label, control, hint) =>
    h('div', { class: 'field' }, h('label', { for: id, text: label }), control, hint ? h('p', { class: 'hint', id: `${id}-hint`, text: hint }) : null);

  const ward = h('select', { id: 'raise-ward', name: 'ward', required: true });
  const bed = h('input', { id: 'raise-bed', name: 'bed', required: true, maxLength: 16, inputMode: 'numeric', autocomplete: 'off', list: 'raise-beds' });
  const beds = h('datalist', { id: 'raise-beds' });
  const patient = h('input', { id: 'raise-patient', name: 'patient', required: true, maxLength: 32, autocomplete: 'off', 'aria-describedby': 'raise-patient-hint' });
  const category = h(
    'select',
    { id: 'raise-category', name: 'category', required: true },
    Object.entries(CATEGORY_LABEL).map(([value, label]) => h('option', { value, text: label })),
  );
  const need = h(
    'select',
    { id: 'raise-need', name: 'need', required: true },
    h('optgroup', { label: 'Skill' }, Object.entries(SKILL_LABEL).map(([v, l]) => h('option', { value: `skill:${v}`, text: l }))),
    h('optgroup', { label: 'Role' }, TASK_ROLES.map((r) => h('option', { value: `role:${r}`, text: ROLE_LABEL[r] }))),
  );
  category.addEventListener('change', () => {
    need.value = NEEDS[/** @type {Category} */ (category.value)];
  });
  need.value = NEEDS.cannula;

  const priority = h(
    'fieldset',
    { class: 'priority-pick' },
    h('legend', { text: 'Priority (choose one for every task)' }),
    PRIORITIES.map((p) =>
      h(
        'label',
        { class: `prio-option ${p}` },
        h('input', { type: 'radio', name: 'priority', value: p, 'aria-describedby': 'raise-priority-msg' }),
        h('span', { class: 'prio-name', text: PRIORITY_LABEL[p] }),
        h('span', { class: 'prio-hint', text: PRIORITY_HINT[p] }),
      ),
    ),
  );

  /** @param {string} key @param {string} label @param {boolean} required @param {string} placeholder */
  const sbarField = (key, label, required, placeholder) => {
    const area = h('textarea', { id: `raise-${key}`, name: key, rows: 2, maxLength: 1000, required, placeholder });
    const count = h('span', { class: 'count', text: '0/1000' });
    area.addEventListener('input', () => {
      count.textContent = `${area.value.length}/1000`;
    });
    return { area, el: h('div', { class: 'field' }, h('label', { for: area.id, text: label }), area, count) };
  };
  const situation = sbarField('situation', 'Situation (required)', true, 'e.g. Tissued cannula, IV antibiotics due 02:00');
  const background = sbarField('background', 'Background', false, 'Relevant history, admission reason');
  const assessment = sbarField('assessment', 'Assessment', false, 'Obs, NEWS2, your concern');
  const recommendation = sbarField('recommendation', 'Recommendation', false, 'What you are asking for, by when');

  // Why the raise button refused, beside the choice it is about.
  const priorityMsg = h('p', { class: 'field-error', id: 'raise-priority-msg', role: 'alert', hidden: true });
  priority.append(priorityMsg);
  const outcome = h('div', { class: 'form-outcome', role: 'status', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'btn primary wide', text: 'Raise task' });
  /** Id of the raise command waiting for the hub's answer. @type {string | null} */
  let waiting = null;
  /** The first tap on "Raise EMERGENCY" only arms it; the second sends. */
  let emergencyArmed = false;

  function disarm() {
    emergencyArmed = false;
    submit.textContent = 'Raise task';
    submit.classList.remove('confirm-emergency');
  }
  priority.addEventListener('change', () => {
    priorityMsg.hidden = true;
    disarm();
  });

  const form = h(
    'form',
    { class: 'raise', novalidate: false },
    h('div', { class: 'row2' }, field('raise-ward', 'Ward', ward), field('raise-bed', 'Bed', bed)),
    beds,
    field('raise-patient', 'Patient (hospital number)', patient, 'As on the wristband'),
    field('raise-category', 'What is needed', category),
    field('raise-need', 'Who can do it', need),
    priority,
    situation.el,
    background.el,
    assessment.el,
    recommendation.el,
    outcome,
    submit,
  );

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const picked = new FormData(form).get('priority');
    if (!picked) {
      priorityMsg.textContent = 'Choose a priority: it is not kept from the last task.';
      priorityMsg.hidden = false;
      priority.scrollIntoView({ block: 'center' });
      /** @type {HTMLInputElement | null} */ (priority.querySelector('input'))?.focus();
      return;
    }
    if (!form.reportValidity()) return;
    const p = /** @type {Priority} */ (picked);
    if (p === 'emergency' && !emergencyArmed) {
      emergencyArmed = true;
      submit.textContent = 'Tap again to raise as EMERGENCY';
      submit.classList.add('confirm-emergency');
      say('This will be raised as an EMERGENCY (NEWS2 7+ or peri-arrest). Tap the button again to confirm, or choose another priority.', 'pending');
      return;
    }
    disarm();
    /** @type {import('../types.js').Command} */
    const cmd = {
      op: 'raise_task',
      ward: ward.value,
      bed: bed.value.trim(),
      patient: patient.value.trim(),
      category: /** @type {Category} */ (category.value),
      priority: p,
      requirement: parseNeed(need.value),
      sbar: {
        situation: situation.area.value.trim(),
        background: background.area.value.trim(),
        assessment: assessment.area.value.trim(),
        recommendation: recommendation.area.value.trim(),
      },
    };
    // 4 x 1,000 characters fit, unless they are mostly multi-byte: check the
    // bytes here rather than let the hub refuse the whole frame.
    if (!fitsInFrame(cmd)) {
      say('Too long to send: please shorten the SBAR.', 'error');
      return;
    }
    const entry = link.send(cmd, `Raise task ${ctx.wardName(ward.value)} bed ${bed.value.trim()}`);
    waiting = entry.id;
    submit.disabled = true;
    say(
      link.status === 'online'
        ? 'Sending to the hub…'
        : 'No connection: queued, NOT raised yet. It will be sent when the hub is reachable.',
      'pending',
    );
  });

  /** @param {string} text @param {'pending' | 'ok' | 'error'} tone */
  function say(text, tone) {
    replaceChildren(outcome, h('p', { class: `notice ${tone}`, text }));
    outcome.scrollIntoView({ block: 'nearest' });
  }

  link.addEventListener('result', (e) => {
    const { entry, result } = /** @type {CustomEvent} */ (e).detail;
    if (entry.id !== waiting || result.kind !== 'task') return;
    waiting = null;
    submit.disabled = false;
    const t = result.task;
    const reach = offeredWords(t);
    say(
      t.state !== 'offering'
        ? `Raised ${ctx.wardName(t.ward)} bed ${t.bed}, but no one on shift can take it: the coordinator has been told.`
        : reach.nobody
          ? `Raised ${ctx.wardName(t.ward)} bed ${t.bed}. ${reach.text} The coordinator has been told.`
          : `Raised ${ctx.wardName(t.ward)} bed ${t.bed}. ${reach.text}`,
      t.state === 'offering' && !reach.nobody ? 'ok' : 'error',
    );
    for (const f of [bed, patient, situation.area, background.area, assessment.area, recommendation.area]) {
      f.value = '';
      f.dispatchEvent(new Event('input')); // resets the character counters
    }
    // The next task gets its own priority, chosen afresh.
    for (const r of priority.querySelectorAll('input')) /** @type {HTMLInputElement} */ (r).checked = false;
    disarm();
  });
  link.addEventListener('cmd-error', (e) => {
    const { entry, message } = /** @type {CustomEvent} */ (e).detail;
    if (entry.id !== waiting) return;
    waiting = null;
    submit.disabled = false;
    say(`Not raised: ${message}`, 'error');
  });

  const el = h('section', { class: 'view', 'aria-labelledby': 'raise-title' }, h('h2', { id: 'raise-title', class: 'view-title', text: 'Raise a task' }), form);

  function update() {
    const me = store.me;
    const allWards = store.directory?.wards ?? [];
    const mine = me?.shift?.wards ?? [];
    // Coordinators and admins may raise for any ward; others for their shift's.
    const choices = mine.length && !['coordinator', 'admin'].includes(me?.shift?.role ?? '') ? mine : allWards.map((w) => w.id);
    const current = ward.value;
    // Rebuild only when the choices change, so the nurse's pick survives updates.
    const key = choices.map((id) => `${id}=${ctx.wardName(id)}`).join('|');
    if (ward.dataset.key !== key) {
      ward.dataset.key = key;
      replaceChildren(ward, choices.map((id) => h('option', { value: id, text: ctx.wardName(id) })));
      ward.value = choices.includes(current) ? current : choices[0] ?? '';
    }
    const w = allWards.find((x) => x.id === ward.value);
    if (w && beds.childElementCount !== w.beds.length) replaceChildren(beds, w.beds.map((b) => h('option', { value: b })));
  }
  ward.addEventListener('change', () => {
    replaceChildren(beds);
    update();
  });

  return { el, update };
}
