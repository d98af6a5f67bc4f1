// The handheld's NEWS2 scorer (client-web/js/news2.js), run in node against
// the same hand-written table as the hub's scorer: every case of
// tests/fixtures/news2-cases.json, then the wire's quantisation, the bands and
// the response texts. No browser: the module touches no browser global.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { score, band, quantise, RESPONSE } from '../../client-web/js/news2.js';

/** @typedef {import('../../client-web/types/ObservationSet').ObservationSet} ObservationSet */
/** @typedef {import('../../client-web/types/News2Score').News2Score} News2Score */
/** @typedef {import('../../client-web/types/Spo2Scale').Spo2Scale} Spo2Scale */

/**
 * @typedef {{name: string, scale: Spo2Scale, set: ObservationSet,
 *   expect: Omit<News2Score, 'scale'>}} Case
 */

/** @type {Case[]} */
const CASES = JSON.parse(readFileSync(new URL('../fixtures/news2-cases.json', import.meta.url), 'utf8'));

const NORMAL = Object.freeze({
  respiration_rate: 16, spo2: 97, breathing: /** @type {const} */ ({ kind: 'air' }), systolic: 120,
  pulse: 70, consciousness: /** @type {const} */ ('alert'), temperature: 37.0, taken_at: 0,
});

describe('the hand-written NEWS2 table', () => {
  it('holds enough cases to pin every band edge', () => {
    assert.ok(CASES.length >= 80, `only ${CASES.length} cases`);
  });

  for (const c of CASES) {
    it(c.name, () => {
      const got = score(c.set, c.scale);
      assert.deepEqual(got, { scale: c.scale, ...c.expect });
      // The same score from the set as the hub stores it.
      assert.deepEqual(score(quantise(c.set), c.scale), got);
    });
  }
});

describe('quantise', () => {
  it('rounds halves up as the hub does, despite binary fractions', () => {
    const q = quantise({ ...NORMAL, respiration_rate: 8.5, spo2: 95.49, systolic: 90.5, pulse: 110.5, temperature: 35.05 });
    assert.equal(q.respiration_rate, 9);
    assert.equal(q.spo2, 95);
    assert.equal(q.systolic, 91);
    assert.equal(q.pulse, 111);
    assert.equal(q.temperature, 35.1);
    for (const [sent, stored] of [[38.05, 38.1], [36.05, 36.1], [39.05, 39.1], [35.04, 35.0], [34.95, 35.0]]) {
      assert.equal(quantise({ temperature: sent, taken_at: 0 }).temperature, stored, `temperature ${sent}`);
    }
  });

  it('quantises the oxygen flow to tenths and FiO2 to whole percent', () => {
    const q = quantise({ breathing: { kind: 'oxygen', device: 'venturi', flow_l_min: 2.45, fio2_percent: 27.5 }, taken_at: 5 });
    assert.deepEqual(q.breathing, { kind: 'oxygen', device: 'venturi', flow_l_min: 2.5, fio2_percent: 28 });
    assert.equal(q.taken_at, 5);
  });

  it('clamps huge numbers as the hub does, before its range check refuses them', () => {
    assert.equal(quantise({ pulse: 1e300, taken_at: 0 }).pulse, 1_000_000);
  });

  it('leaves what was not recorded unrecorded', () => {
    const q = quantise({ taken_at: 0 });
    assert.equal(q.pulse, null);
    assert.equal(q.breathing, undefined);
    assert.equal(q.consciousness, undefined);
  });
});

describe('score', () => {
  it('never scores an unreadable value as normal', () => {
    const s = score({ ...NORMAL, pulse: Number.NaN, consciousness: /** @type {any} */ ('Alert'), breathing: /** @type {any} */ ({ kind: 'room' }) }, 'scale_1');
    assert.deepEqual(s.missing, ['air_or_oxygen', 'pulse', 'consciousness']);
    assert.equal(s.total, null);
    assert.equal(s.band, null);
  });

  it('scores every temperature sent to 0.01 between 25 and 45 degrees (no gaps)', () => {
    for (let hundredths = 2500; hundredths <= 4500; hundredths += 1) {
      const s = score({ ...NORMAL, temperature: hundredths / 100 }, 'scale_1');
      assert.notEqual(s.sub_scores.temperature, null, `${hundredths / 100}`);
      assert.equal(typeof s.total, 'number');
    }
  });
});

describe('band and response', () => {
  it('follows Chart 4', () => {
    /** @type {[number, boolean, string][]} */
    const want = [
      [0, false, 'zero'], [1, false, 'low'], [4, false, 'low'], [3, true, 'low_medium'], [4, true, 'low_medium'],
      [5, false, 'medium'], [6, true, 'medium'], [7, false, 'high'], [7, true, 'high'], [20, true, 'high'],
      [0, true, 'low_medium'],
    ];
    for (const [total, flag, b] of want) assert.equal(band(total, flag), b, `total ${total}, red flag ${flag}`);
  });

  it('has a response for every band', () => {
    assert.deepEqual(Object.keys(RESPONSE).sort(), ['high', 'low', 'low_medium', 'medium', 'zero']);
    assert.equal(RESPONSE.zero, 'Next observations in 12 h');
    assert.match(RESPONSE.high, /every 15 min/);
  });
});
