// How a patient reads on the coordinator's screen: the NHS number in its
// 3-3-4 groups, the NEWS2 band in words (colour is never the only signal),
// the trend, whether the patient is deteriorating or their observations are
// overdue, the order of the deteriorating list and the per-ward counts. Pure
// functions (no DOM), shared by the panels, the board, the task dialog and
// the tests.

import { duration } from '../js/format.js';

/** @typedef {import('../types/PatientView').PatientView} PatientView */
/** @typedef {import('../types/PatientRef').PatientRef} PatientRef */
/** @typedef {import('../types/Band').Band} Band */
/** @typedef {import('../types/Trend').Trend} Trend */
/** @typedef {import('../types/Spo2Scale').Spo2Scale} Spo2Scale */
/** @typedef {import('../types/ReviewTrigger').ReviewTrigger} ReviewTrigger */
/** @typedef {import('../js/types.js').TaskView} TaskView */

/** NEWS2 at or above this total needs an urgent response (RCP). */
export const DETERIORATING_TOTAL = 5;

/**
 * The RCP chart's words for each band; zero and low are both "Low".
 * @type {Record<Band, string>}
 */
export const BAND_LABEL = {
  zero: 'Low',
  low: 'Low',
  low_medium: 'Low-medium (red flag)',
  medium: 'Medium: urgent response',
  high: 'High: emergency response',
};

/** The band in a word, where space is short (the board); the dialog has the full words. @type {Record<Band, string>} */
export const BAND_SHORT = { zero: 'Low', low: 'Low', low_medium: 'Low-medium', medium: 'Medium', high: 'High' };

/** Highest risk first, for sorting. @type {Record<Band, number>} */
const BAND_RANK = { high: 4, medium: 3, low_medium: 2, low: 1, zero: 0 };

/**
 * The colour class of a band (`band-low` covers zero too); an incomplete
 * set with a red flag is shown as low-medium.
 * @param {Band | null} band
 * @param {boolean} redFlag
 */
export function bandClass(band, redFlag) {
  if (band === null) return redFlag ? 'band-low_medium' : 'band-none';
  return band === 'zero' ? 'band-low' : `band-${band}`;
}

/** @type {Record<Trend, {arrow: string, text: string}>} */
export const TREND = {
  rising: { arrow: '↑', text: 'Rising' },
  falling: { arrow: '↓', text: 'Falling' },
  same: { arrow: '→', text: 'Same' },
  first: { arrow: '•', text: 'First set' },
};

/** "999 000 0018": the NHS number in the groups read aloud on the phone. @param {string} digits */
export function nhsFormat(digits) {
  const d = digits.replace(/\s+/g, '');
  return /^\d{10}$/.test(d) ? `${d.slice(0, 3)} ${d.slice(3, 6)} ${d.slice(6)}` : digits;
}

/** The same, never broken across lines (no-break spaces), for narrow cells. @param {string} digits */
export function nhsUnbroken(digits) {
  return nhsFormat(digits).replace(/ /g, '\u00a0');
}

/**
 * The patient's number as a wristband shows it: the NHS number, or the
 * local hospital number when there is none.
 * @param {{nhs_number?: string | null, local_number?: string | null}} who
 */
export function patientNumber(who) {
  if (who.nhs_number) return `NHS\u00a0${nhsUnbroken(who.nhs_number)}`;
  if (who.local_number) return `Local ${who.local_number}`;
  return 'no number';
}

/** "Jane Doe\nNHS 999 000 0018": the wrong-patient check on every task. @param {PatientRef} ref */
export function patientLine(ref) {
  return `${ref.name}\n${patientNumber(ref)}`;
}

/**
 * A score in words: "NEWS2 7 High: emergency response · Scale 2".
 * @param {{total: number | null, band: Band | null, red_flag: boolean, scale: Spo2Scale}} s
 */
export function scoreText(s) {
  const scale = s.scale === 'scale_2' ? ' · Scale 2' : '';
  if (s.total === null || s.band === null) return `NEWS2 incomplete${s.red_flag ? ' · red flag' : ''}${scale}`;
  const flag = s.red_flag && s.band !== 'low_medium' ? ' · red flag' : '';
  return `NEWS2 ${s.total} ${BAND_LABEL[s.band]}${flag}${scale}`;
}

/** The latest score as one flat record, or null. @param {PatientView} p */
export function latestScore(p) {
  const l = p.latest;
  if (!l) return null;
  return { total: l.score.total, band: l.score.band, red_flag: l.score.red_flag, scale: l.score.scale, trend: l.trend, taken_at: l.taken_at };
}

/** Latest NEWS2 of 5 or more, or a red flag (3 in one parameter). @param {PatientView} p */
export function isDeteriorating(p) {
  const s = latestScore(p);
  if (!s) return false;
  return s.red_flag || (s.total !== null && s.total >= DETERIORATING_TOTAL);
}

/**
 * How long the next set is overdue (ms), or null if it is not: the hub
 * says so, or the due time has passed by our clock.
 * @param {PatientView} p
 * @param {number} now
 */
export function overdueBy(p, now) {
  if (p.obs_due_at !== null && now > p.obs_due_at) return now - p.obs_due_at;
  if (p.obs_overdue) return p.obs_due_at === null ? 0 : Math.max(0, now - p.obs_due_at);
  return null;
}

/** "12 min", "1 h 05 min", "less than a minute". @param {number} ms */
export function lateText(ms) {
  return ms < 60000 ? 'less than a minute' : duration(ms);
}

/** The band's rank (an incomplete set with a red flag counts as low-medium). @param {PatientView} p */
function rank(p) {
  const s = latestScore(p);
  if (!s) return -1;
  if (s.band === null) return s.red_flag ? BAND_RANK.low_medium : -1;
  return BAND_RANK[s.band];
}

/**
 * The deteriorating list's order: highest band first, then highest score,
 * then the set taken longest ago (the one waiting longest), then ward and
 * bed so that the order is total.
 * @param {PatientView} a
 * @param {PatientView} b
 */
export function compareDeteriorating(a, b) {
  const sa = latestScore(a);
  const sb = latestScore(b);
  return (
    rank(b) - rank(a) ||
    (sb?.total ?? -1) - (sa?.total ?? -1) ||
    (sa?.taken_at ?? 0) - (sb?.taken_at ?? 0) ||
    compareBed(a, b)
  );
}

/** Ward, then bed in numeric order, then id. @param {{ward: string, bed: string, id: string}} a @param {{ward: string, bed: string, id: string}} b */
export function compareBed(a, b) {
  return (a.ward < b.ward ? -1 : a.ward > b.ward ? 1 : 0) || a.bed.localeCompare(b.bed, 'en', { numeric: true }) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** The columns of the by-ward table, in order. */
export const WARD_COLUMNS = /** @type {const} */ (['low', 'low_medium', 'medium', 'high', 'incomplete', 'none']);
/** @typedef {typeof WARD_COLUMNS[number]} WardColumn */

/** @type {Record<WardColumn, string>} */
export const WARD_COLUMN_LABEL = {
  low: 'Low 0-4',
  low_medium: 'Low-medium',
  medium: 'Medium 5-6',
  high: 'High 7+',
  incomplete: 'Incomplete',
  none: 'No obs',
};

/** Which by-ward column a patient counts in. @param {PatientView} p @returns {WardColumn} */
export function wardColumn(p) {
  const s = latestScore(p);
  if (!s) return 'none';
  if (s.band === null) return 'incomplete';
  return s.band === 'zero' ? 'low' : s.band;
}

/**
 * Patients per ward by band.
 * @param {Iterable<PatientView>} patients
 * @returns {Map<string, Record<WardColumn | 'total', number>>}
 */
export function wardCounts(patients) {
  /** @type {Map<string, Record<WardColumn | 'total', number>>} */
  const out = new Map();
  for (const p of patients) {
    let c = out.get(p.ward);
    if (!c) {
      c = { low: 0, low_medium: 0, medium: 0, high: 0, incomplete: 0, none: 0, total: 0 };
      out.set(p.ward, c);
    }
    c[wardColumn(p)] += 1;
    c.total += 1;
  }
  return out;
}

/**
 * Where the patient's review task stands, in words: who it is offered to,
 * who holds it, or that no one accepted.
 * @param {TaskView | undefined} t
 * @returns {{text: string, alarm: boolean}}
 */
export function reviewState(t) {
  if (!t) return { text: 'No review task', alarm: false };
  switch (t.state) {
    case 'offering': {
      const open = t.offers.filter((o) => o.state === 'offered');
      const names = open.map((o) => o.staff.name);
      const who = names.length > 2 ? `${names.slice(0, 2).join(', ')} +${names.length - 2}` : names.join(', ');
      return { text: `Offered to ${open.length}${who ? ` (${who})` : ''}`, alarm: false };
    }
    case 'no_one_accepted':
      return { text: 'No one accepted', alarm: true };
    case 'assigned':
      return { text: `Assigned to ${t.assignee?.name ?? 'someone'}, not acknowledged`, alarm: false };
    case 'accepted':
      return { text: `Accepted by ${t.assignee?.name ?? 'someone'}`, alarm: false };
    case 'started':
      return { text: `Started by ${t.assignee?.name ?? 'someone'}`, alarm: false };
    case 'completed':
      return { text: `Completed by ${t.assignee?.name ?? 'someone'}`, alarm: false };
    case 'cancelled':
      return { text: 'Cancelled', alarm: false };
  }
}

/** "NEWS2 7 High · Scale 2": a review's score in short, for the board. @param {ReviewTrigger} r */
export function reviewShort(r) {
  const scale = r.scale === 'scale_2' ? ' · Scale 2' : '';
  if (r.total === null || r.band === null) return `${r.observation === null ? 'Clinical concern' : 'NEWS2 incomplete'}${r.red_flag ? ' · red flag' : ''}${scale}`;
  // At medium and high the band already calls for the response; a red flag
  // only adds news below them (and low-medium says it in its name).
  const flag = r.red_flag && (r.band === 'zero' || r.band === 'low') ? ' · red flag' : '';
  return `NEWS2 ${r.total} ${BAND_SHORT[r.band]}${flag}${scale}`;
}

/**
 * A review task's reason in words, for the board and the dialog: the band
 * (the summary has the score and what scored), the scale, the summary.
 * @param {ReviewTrigger} r
 */
export function reviewText(r) {
  const band = r.band ? BAND_LABEL[r.band] : r.red_flag ? 'Red flag' : r.observation === null ? 'Clinical concern' : 'Incomplete set';
  return `${band}${r.scale === 'scale_2' ? ' · Scale 2' : ''}: ${r.summary}`;
}
