// NEWS2 scoring (Royal College of Physicians, 2017, Charts 1 and 4) on the
// handheld, so that the nurse sees the sub-scores, the total and the response
// before sending the set, offline too. The same rules as the hub's
// server/src/domain/news2.rs, checked against the same hand-written table
// (tests/fixtures/news2-cases.json) by tests/web/news2-units.test.js.
//
// Values are first quantised exactly as the hub's wire parser does
// (proto/src/clinical/observation.rs): temperature to tenths of a degree, everything else
// to whole numbers, halves up after a 1e-7 nudge that absorbs binary error
// (35.05 is stored as 35.04999...). Scoring then compares integers with
// cascading thresholds, so every value falls in exactly one band: 35.05 is
// 35.1 and scores 1, a rate of 8.5 is 9 and scores 1. A value not recorded is
// never scored as normal: it is listed in `missing` and there is no total.

/** @typedef {import('../types/ObservationSet').ObservationSet} ObservationSet */
/** @typedef {import('../types/News2Score').News2Score} News2Score */
/** @typedef {import('../types/SubScores').SubScores} SubScores */
/** @typedef {import('../types/Band').Band} Band */
/** @typedef {import('../types/Spo2Scale').Spo2Scale} Spo2Scale */
/** @typedef {import('../types/Breathing').Breathing} Breathing */
/** @typedef {import('../types/Consciousness').Consciousness} Consciousness */

/** Far outside any vital sign; the hub clamps here before its range check. */
const CLAMP = 1.0e6;

/**
 * The hub's `round_half_up`: clamp, scale, nudge, floor.
 * @param {number} x @param {number} scale @returns {number}
 */
function roundHalfUp(x, scale) {
  const v = Math.min(Math.max(x, -CLAMP), CLAMP) * scale;
  return Math.floor(v + 0.5 + 1e-7);
}

/**
 * A quantised count (whole numbers), or null when not recorded. JSON cannot
 * carry NaN, but a form can: NaN or a non-number counts as not recorded
 * rather than as some number.
 * @param {unknown} v @param {number} scale @returns {number | null}
 */
function quantum(v, scale) {
  if (typeof v !== 'number' || Number.isNaN(v)) return null;
  return roundHalfUp(v, scale);
}

/** @param {unknown} v */
const whole = (v) => quantum(v, 1);
/** Tenths, as an integer count of tenths. @param {unknown} v */
const tenths = (v) => quantum(v, 10);

/** @type {ReadonlySet<string>} */
const LEVELS = new Set(['alert', 'new_confusion', 'voice', 'pain', 'unresponsive']);

/**
 * The set with every number quantised as the hub stores it (temperature and
 * oxygen flow to 0.1, the rest whole); what is not recorded is null or left out.
 * @param {ObservationSet} set @returns {ObservationSet}
 */
export function quantise(set) {
  const tenth = (/** @type {unknown} */ v) => {
    const t = tenths(v);
    return t === null ? null : t / 10;
  };
  /** @type {ObservationSet} */
  const out = {
    respiration_rate: whole(set.respiration_rate),
    spo2: whole(set.spo2),
    systolic: whole(set.systolic),
    diastolic: whole(set.diastolic),
    pulse: whole(set.pulse),
    temperature: tenth(set.temperature),
    taken_at: set.taken_at,
  };
  const b = set.breathing;
  if (b?.kind === 'air') out.breathing = { kind: 'air' };
  if (b?.kind === 'oxygen') {
    out.breathing = { kind: 'oxygen', device: b.device, flow_l_min: tenth(b.flow_l_min), fio2_percent: whole(b.fio2_percent) };
  }
  if (set.consciousness != null && LEVELS.has(set.consciousness)) out.consciousness = set.consciousness;
  return out;
}

/** Breaths /min: <=8:3, 9-11:1, 12-20:0, 21-24:2, >=25:3. @param {number} r */
function respiration(r) {
  if (r <= 8) return 3;
  if (r <= 11) return 1;
  if (r <= 20) return 0;
  if (r <= 24) return 2;
  return 3;
}

/** SpO2 % on Scale 1: <=91:3, 92-93:2, 94-95:1, >=96:0. @param {number} s */
function spo2Scale1(s) {
  if (s <= 91) return 3;
  if (s <= 93) return 2;
  if (s <= 95) return 1;
  return 0;
}

/**
 * SpO2 % on Scale 2: <=83:3, 84-85:2, 86-87:1, 88-92:0; from 93, 0 on air and
 * on oxygen 93-94:1, 95-96:2, >=97:3. From 93 with air or oxygen not recorded
 * the score could be 0 or 3: it is null (not scored) rather than guessed.
 * @param {number} s @param {boolean | null} onOxygen @returns {number | null}
 */
function spo2Scale2(s, onOxygen) {
  if (s <= 83) return 3;
  if (s <= 85) return 2;
  if (s <= 87) return 1;
  if (s <= 92) return 0;
  if (onOxygen === null) return null;
  if (!onOxygen) return 0;
  if (s <= 94) return 1;
  if (s <= 96) return 2;
  return 3;
}

/** Systolic mmHg: <=90:3, 91-100:2, 101-110:1, 111-219:0, >=220:3. @param {number} s */
function systolic(s) {
  if (s <= 90) return 3;
  if (s <= 100) return 2;
  if (s <= 110) return 1;
  if (s <= 219) return 0;
  return 3;
}

/** Pulse /min: <=40:3, 41-50:1, 51-90:0, 91-110:1, 111-130:2, >=131:3. @param {number} p */
function pulse(p) {
  if (p <= 40) return 3;
  if (p <= 50) return 1;
  if (p <= 90) return 0;
  if (p <= 110) return 1;
  if (p <= 130) return 2;
  return 3;
}

/** Tenths of °C: <=35.0:3, 35.1-36.0:1, 36.1-38.0:0, 38.1-39.0:1, >=39.1:2. @param {number} t */
function temperature(t) {
  if (t <= 350) return 3;
  if (t <= 360) return 1;
  if (t <= 380) return 0;
  if (t <= 390) return 1;
  return 2;
}

/**
 * @template T
 * @param {T | null} v @param {(v: T) => number} f @returns {number | null}
 */
const scored = (v, f) => (v === null ? null : f(v));

/** The parameters in the chart's order, as `missing` names them. */
const PARAMETERS = /** @type {const} */ ([
  'respiration_rate', 'spo2', 'air_or_oxygen', 'systolic', 'pulse', 'consciousness', 'temperature',
]);

/**
 * Scores a set (its numbers possibly unquantised) on the patient's scale:
 * the same shape as the hub's News2Score.
 * @param {ObservationSet} set @param {Spo2Scale} scale @returns {News2Score}
 */
export function score(set, scale) {
  const kind = set.breathing?.kind;
  // An unknown kind is not guessed to be air: it is not recorded.
  const onOxygen = kind === 'oxygen' ? true : kind === 'air' ? false : null;
  const level = set.consciousness;
  const spo2 = whole(set.spo2);
  /** @type {SubScores} */
  const sub_scores = {
    respiration_rate: scored(whole(set.respiration_rate), respiration),
    spo2: spo2 === null ? null : scale === 'scale_2' ? spo2Scale2(spo2, onOxygen) : spo2Scale1(spo2),
    air_or_oxygen: onOxygen === null ? null : onOxygen ? 2 : 0,
    systolic: scored(whole(set.systolic), systolic),
    pulse: scored(whole(set.pulse), pulse),
    // Only the five ACVPU words count; any other spelling is not recorded
    // (public calculators scored every spelling but "Alert" as 3).
    consciousness: level != null && LEVELS.has(level) ? (level === 'alert' ? 0 : 3) : null,
    temperature: scored(tenths(set.temperature), temperature),
  };
  const missing = PARAMETERS.filter((p) => sub_scores[p] === null);
  const points = PARAMETERS.map((p) => sub_scores[p]);
  const red_flag = points.includes(3);
  const total = missing.length === 0 ? points.reduce((/** @type {number} */ a, p) => a + (p ?? 0), 0) : null;
  return {
    scale,
    sub_scores,
    missing: [...missing],
    total,
    red_flag,
    band: total === null ? null : band(total, red_flag),
  };
}

/**
 * The clinical risk band (RCP Chart 4): 0 zero; 1-4 low, or low-medium with a
 * red flag; 5-6 medium; 7 or more high (the total decides there). A red flag
 * with a total of 0 cannot be scored; if passed, the flag is not dropped.
 * @param {number} total @param {boolean} redFlag @returns {Band}
 */
export function band(total, redFlag) {
  if (total >= 7) return 'high';
  if (total >= 5) return 'medium';
  if (redFlag) return 'low_medium';
  if (total >= 1) return 'low';
  return 'zero';
}

/**
 * The default clinical response per band, for display before sending.
 * @type {Readonly<Record<Band, string>>}
 */
export const RESPONSE = Object.freeze({
  zero: 'Next observations in 12 h',
  low: "Next observations in 4 h; the ward's nurses are told",
  low_medium: "Hourly observations; urgent ward review by the ward's doctors",
  medium: 'Hourly observations; urgent medical review; nurse in charge alerted',
  high: 'Observations every 15 min; emergency review by registrar and critical care outreach, both paged',
});
