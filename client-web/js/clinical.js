// Words for the bedside: NHS numbers as people read them (3-3-4), NEWS2
// bands in the words and colours of the RCP chart, trends, when the next set
// is due, and who may do what to a patient. Colour is never the only signal:
// every band has its words, every arrow its text.

import { clock, duration } from './format.js';

/** @typedef {import('./types.js').Band} Band */
/** @typedef {import('./types.js').Trend} Trend */
/** @typedef {import('./types.js').PatientView} PatientView */
/** @typedef {import('./types.js').PatientRef} PatientRef */
/** @typedef {import('./types.js').News2Score} News2Score */
/** @typedef {import('./types.js').StaffView} StaffView */
/** @typedef {import('./types.js').Consciousness} Consciousness */
/** @typedef {import('./types.js').OxygenDevice} OxygenDevice */
/** @typedef {import('./types.js').Sex} Sex */

/** The short words in a list row: "NEWS2 7 High". @type {Record<Band, string>} */
export const BAND_SHORT = {
  zero: 'Low',
  low: 'Low',
  low_medium: 'Low-medium',
  medium: 'Medium',
  high: 'High',
};

/** The full words (RCP chart 4). @type {Record<Band, string>} */
export const BAND_LABEL = {
  zero: 'Low',
  low: 'Low',
  low_medium: 'Low-medium (red flag)',
  medium: 'Medium: urgent response',
  high: 'High: emergency response',
};

/** @type {Record<Trend, {arrow: string, text: string}>} */
export const TREND = {
  first: { arrow: '', text: 'first score' },
  rising: { arrow: '↑', text: 'rising' },
  same: { arrow: '→', text: 'same' },
  falling: { arrow: '↓', text: 'falling' },
};

/** @type {Record<Consciousness, string>} */
export const ACVPU_LABEL = {
  alert: 'Alert',
  new_confusion: 'New confusion',
  voice: 'Voice',
  pain: 'Pain',
  unresponsive: 'Unresponsive',
};

/** @type {Record<Consciousness, string>} */
export const ACVPU_LETTER = { alert: 'A', new_confusion: 'C', voice: 'V', pain: 'P', unresponsive: 'U' };

/** @type {Record<OxygenDevice, string>} */
export const DEVICE_LABEL = {
  nasal_cannula: 'Nasal cannula',
  simple_mask: 'Simple mask',
  venturi: 'Venturi',
  non_rebreather: 'Non-rebreather',
  humidified: 'Humidified',
  high_flow: 'High flow',
  cpap: 'CPAP',
  niv: 'NIV',
  other: 'Other',
};

/** @type {Record<Sex, string>} */
export const SEX_LABEL = { female: 'Female', male: 'Male', other: 'Other', unknown: 'Unknown' };

/** The parameters as the score names them, with their labels. */
export const PARAMETERS = /** @type {const} */ ([
  ['respiration_rate', 'Respiration rate'],
  ['spo2', 'SpO2'],
  ['air_or_oxygen', 'Air or oxygen'],
  ['systolic', 'Systolic BP'],
  ['pulse', 'Pulse'],
  ['consciousness', 'Consciousness'],
  ['temperature', 'Temperature'],
]);

/** @param {string} name a parameter name from `missing` */
export function parameterLabel(name) {
  return PARAMETERS.find(([k]) => k === name)?.[1] ?? name;
}

/** "9990000018" as "999 000 0018"; anything else as given. @param {string | null | undefined} n */
export function nhsFormat(n) {
  if (!n) return '';
  const d = n.replace(/\s/g, '');
  return /^\d{10}$/.test(d) ? `${d.slice(0, 3)} ${d.slice(3, 6)} ${d.slice(6)}` : n;
}

/** The number on the wristband: NHS number, else the local one. @param {{nhs_number?: string | null, local_number?: string | null}} p */
export function patientNumber(p) {
  if (p.nhs_number) return `NHS ${nhsFormat(p.nhs_number)}`;
  if (p.local_number) return `Hosp no ${p.local_number}`;
  return 'no number';
}

/** The scale's words ("Scale 2" is shown wherever a score is). @param {import('./types.js').Spo2Scale} s */
export function scaleLabel(s) {
  return s === 'scale_2' ? 'Scale 2' : 'Scale 1';
}

/**
 * What a score says in one line: "NEWS2 7 High", or "NEWS2 incomplete".
 * @param {News2Score} score
 */
export function scoreText(score) {
  if (score.total === null || score.band === null) return 'NEWS2 incomplete';
  return `NEWS2 ${score.total} ${BAND_SHORT[score.band]}`;
}

/** The CSS class of a band (colour); `incomplete` when there is none. @param {Band | null} band */
export function bandClass(band) {
  return band === null ? 'band-incomplete' : `band-${band}`;
}

/**
 * When the next set is due, as the list shows it.
 * @param {PatientView} p
 * @param {number} now hub time
 * @returns {{text: string, overdue: boolean} | null}
 */
export function dueStatus(p, now) {
  if (p.obs_due_at === null) return p.latest === null ? { text: 'No observations yet', overdue: false } : null;
  if (p.obs_overdue || now > p.obs_due_at) return { text: `OVERDUE ${duration(now - p.obs_due_at)}`, overdue: true };
  return { text: `Obs due in ${duration(p.obs_due_at - now)} (${clock(p.obs_due_at)})`, overdue: false };
}

/** Age in years on the day. @param {string} born YYYY-MM-DD @param {number} now */
export function age(born, now) {
  const [y, m, d] = born.split('-').map(Number);
  const t = new Date(now);
  let a = t.getFullYear() - y;
  if (t.getMonth() + 1 < m || (t.getMonth() + 1 === m && t.getDate() < d)) a -= 1;
  return a;
}

/** The role my shift gives me (or my grade off shift). @param {StaffView | null} me */
function role(me) {
  return me?.shift?.role ?? me?.role ?? null;
}

/** Admit, transfer, discharge: the nurse in charge, a coordinator, an admin. @param {StaffView | null} me */
export function mayManage(me) {
  const r = role(me);
  return r === 'nurse_in_charge' || r === 'coordinator' || r === 'admin';
}

/** Whose phone rings when a patient's observations fall overdue: the ward's nurses. @param {StaffView | null} me */
export function takesObservations(me) {
  const r = me?.shift?.role;
  return r === 'nurse' || r === 'nurse_in_charge' || r === 'healthcare_assistant';
}
