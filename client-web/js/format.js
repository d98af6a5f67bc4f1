// Words and times as night staff read them: labels for the protocol's enums,
// 24-hour clock times, ages ("12 min") and where a task stands against its
// accept-by / complete-by target.

/** @typedef {import('./types.js').Priority} Priority */
/** @typedef {import('./types.js').Category} Category */
/** @typedef {import('./types.js').Role} Role */
/** @typedef {import('./types.js').Skill} Skill */
/** @typedef {import('./types.js').TaskState} TaskState */
/** @typedef {import('./types.js').TaskView} TaskView */
/** @typedef {import('./types.js').Requirement} Requirement */

/** Highest first; the order alerts are shown in. @type {Priority[]} */
export const PRIORITIES = ['emergency', 'urgent', 'soon', 'routine'];

/** @type {Record<Priority, string>} */
export const PRIORITY_LABEL = {
  emergency: 'Emergency',
  urgent: 'Urgent',
  soon: 'Soon',
  routine: 'Routine',
};

/** @param {Priority} p */
export function priorityRank(p) {
  return PRIORITIES.indexOf(p);
}

/** @type {Record<Category, string>} */
export const CATEGORY_LABEL = {
  cannula: 'Cannula',
  bloods: 'Bloods',
  blood_cultures: 'Blood cultures',
  medical_review: 'Medical review',
  drug_chart: 'Drug chart',
  fluids: 'Fluids',
  ecg: 'ECG',
  catheter: 'Catheter',
  iv_drugs: 'IV drugs',
  observations: 'Observations',
  other: 'Other',
};

/** @type {Record<Role, string>} */
export const ROLE_LABEL = {
  nurse: 'Nurse',
  healthcare_assistant: 'Healthcare assistant',
  nurse_in_charge: 'Nurse in charge',
  phlebotomist: 'Phlebotomist',
  nurse_practitioner: 'Nurse practitioner',
  fy1: 'FY1',
  sho: 'SHO',
  registrar: 'Registrar',
  consultant: 'Consultant',
  critical_care_outreach: 'Critical care outreach',
  coordinator: 'Coordinator',
  admin: 'Admin',
};

/** @type {Record<Skill, string>} */
export const SKILL_LABEL = {
  cannulation: 'Cannulation',
  bloods: 'Bloods',
  blood_cultures: 'Blood cultures',
  ecg: 'ECG',
  iv_drugs: 'IV drugs',
  catheterisation: 'Catheterisation',
  prescribing: 'Prescribing',
};

/** @type {Record<TaskState, string>} */
export const STATE_LABEL = {
  offering: 'Offering',
  no_one_accepted: 'No one accepted',
  assigned: 'Assigned, not acknowledged',
  accepted: 'Accepted',
  started: 'Started',
  completed: 'Completed',
  cancelled: 'Cancelled',
};

/** @param {Requirement} req */
export function requirementLabel(req) {
  if ('role' in req) return ROLE_LABEL[req.role];
  if ('skill' in req) return SKILL_LABEL[req.skill];
  return /** @type {Role[]} */ (req.any_role).map((r) => ROLE_LABEL[r]).join(' or ');
}

/** @param {number} ms epoch milliseconds */
export function clock(ms) {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** A duration, rounded down to minutes: "now", "4 min", "1 h 05 min". @param {number} ms */
export function duration(ms) {
  const minutes = Math.floor(Math.max(0, ms) / 60000);
  if (minutes < 1) return 'under 1 min';
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/**
 * Where an open task stands against its current target: before acceptance the
 * accept-by time counts, afterwards the complete-by time.
 * @param {TaskView} task
 * @param {number} now hub time, ms
 * @returns {{text: string, overdue: boolean} | null}
 */
export function targetStatus(task, now) {
  // An assignment nobody has acknowledged is not accepted yet.
  const waiting = task.state === 'offering' || task.state === 'no_one_accepted' || task.state === 'assigned';
  const working = task.state === 'accepted' || task.state === 'started';
  if (!waiting && !working) return null;
  const due = waiting ? task.accept_by : task.complete_by;
  const what = waiting ? 'accept' : 'complete';
  if (now > due) return { text: `${what} overdue by ${duration(now - due)}`, overdue: true };
  return { text: `${what} by ${clock(due)} (${duration(due - now)} left)`, overdue: false };
}

/**
 * Where a task is and who it is for, as the hospital writes them: "Ward 7
 * (Medicine) bed 12, Dana Pretendle" (the name when the hub knows the
 * patient in that bed), never the ward's id.
 * @param {TaskView} t @param {(id: string) => string} wardName
 */
export function taskPlace(t, wardName) {
  return `${wardName(t.ward)} bed ${t.bed}${t.patient_ref ? `, ${t.patient_ref.name}` : ''}`;
}
