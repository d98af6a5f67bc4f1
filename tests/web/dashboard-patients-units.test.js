// The dashboard's patient wording and ordering without a browser: NHS
// numbers in 3-3-4, bands in words, who is deteriorating (5 or more, or a
// red flag, an incomplete set included), the deteriorating order, overdue
// from the due time or the hub's flag, the per-ward columns, the review
// task's state in words, the labels for the newer roles and requirements,
// and splitting the hub's field refusals.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  nhsFormat,
  patientNumber,
  scoreText,
  isDeteriorating,
  compareDeteriorating,
  overdueBy,
  wardCounts,
  reviewState,
  reviewShort,
  bandClass,
} from '../../client-web/dashboard/patient-text.js';
import { needsLabel, roleLabel, categoryLabel } from '../../client-web/dashboard/task-text.js';
import { fieldOf } from '../../client-web/dashboard/admit.js';

const MIN = 60000;
const T0 = Date.UTC(2026, 10, 28, 3, 0);

/**
 * @param {string} id
 * @param {{total?: number | null, band?: any, red?: boolean, ago?: number, due?: number | null, overdue?: boolean, ward?: string, bed?: string, none?: boolean}} o
 * @returns {import('../../client-web/types/PatientView').PatientView}
 */
function patient(id, o = {}) {
  return /** @type {any} */ ({
    id, version: 1, ward: o.ward ?? 'w7', bed: o.bed ?? '1',
    details: { nhs_number: '9990000018', local_number: null, name: id, born: '1950-01-01', sex: 'female', consultant: '', alerts: '' },
    admitted_at: T0 - 600 * MIN, discharged_at: null, scale: 'scale_1', scale2: null,
    latest: o.none ? null : { observation: `o-${id}`, taken_at: T0 - (o.ago ?? 0) * MIN, trend: 'first', score: { scale: 'scale_1', sub_scores: {}, missing: [], total: o.total === undefined ? 0 : o.total, red_flag: o.red ?? false, band: o.band === undefined ? 'zero' : o.band } },
    obs_due_at: o.due === undefined ? T0 + 60 * MIN : o.due, obs_overdue: o.overdue ?? false, review: null, updated_at: T0,
  });
}

describe('dashboard patient wording', () => {
  it('writes NHS numbers in 3-3-4 and falls back to the local number', () => {
    assert.equal(nhsFormat('9990000018'), '999 000 0018');
    assert.equal(nhsFormat('999 000 0018'), '999 000 0018');
    assert.equal(nhsFormat('12345'), '12345', 'not ten digits: left as given');
    assert.equal(patientNumber({ nhs_number: '9990000018', local_number: 'RX1' }), 'NHS\u00a0999\u00a0000\u00a00018', 'one unbroken unit in a narrow cell');
    assert.equal(patientNumber({ nhs_number: null, local_number: 'RX1' }), 'Local RX1');
  });

  it('says the band in words, the red flag and Scale 2', () => {
    assert.equal(scoreText({ total: 7, band: 'high', red_flag: true, scale: 'scale_1' }), 'NEWS2 7 High: emergency response · red flag');
    assert.equal(scoreText({ total: 5, band: 'medium', red_flag: false, scale: 'scale_2' }), 'NEWS2 5 Medium: urgent response · Scale 2');
    assert.equal(scoreText({ total: 3, band: 'low_medium', red_flag: true, scale: 'scale_1' }), 'NEWS2 3 Low-medium (red flag)');
    assert.equal(scoreText({ total: 0, band: 'zero', red_flag: false, scale: 'scale_1' }), 'NEWS2 0 Low');
    assert.equal(scoreText({ total: null, band: null, red_flag: true, scale: 'scale_1' }), 'NEWS2 incomplete · red flag');
    assert.equal(bandClass('zero', false), 'band-low');
    assert.equal(bandClass(null, true), 'band-low_medium', 'an incomplete set with a red flag looks low-medium');
    assert.equal(bandClass(null, false), 'band-none');
    const review = { observation: 'o', total: 6, band: /** @type {const} */ ('medium'), red_flag: false, trend: /** @type {const} */ ('rising'), scale: /** @type {const} */ ('scale_2'), summary: 'NEWS2 6 (was 2)' };
    assert.equal(reviewShort(review), 'NEWS2 6 Medium · Scale 2');
    assert.equal(reviewShort({ ...review, observation: null, total: null, band: null }), 'Clinical concern · Scale 2');
  });

  it('counts 5 or more, or a red flag, as deteriorating; an incomplete set only with a red flag', () => {
    assert.equal(isDeteriorating(patient('a', { total: 5, band: 'medium' })), true);
    assert.equal(isDeteriorating(patient('b', { total: 4, band: 'low' })), false);
    assert.equal(isDeteriorating(patient('c', { total: 3, band: 'low_medium', red: true })), true);
    assert.equal(isDeteriorating(patient('d', { total: null, band: null, red: true })), true);
    assert.equal(isDeteriorating(patient('e', { total: null, band: null })), false);
    assert.equal(isDeteriorating(patient('f', { none: true })), false);
  });

  it('orders by band, then score, then the oldest set, then bed', () => {
    const list = [
      patient('medium-5-new', { total: 5, band: 'medium', ago: 2 }),
      patient('lowmed', { total: 3, band: 'low_medium', red: true, ago: 50 }),
      patient('high-7', { total: 7, band: 'high', ago: 1 }),
      patient('medium-6', { total: 6, band: 'medium', ago: 1 }),
      patient('high-9', { total: 9, band: 'high', ago: 1 }),
      patient('medium-5-old', { total: 5, band: 'medium', ago: 40 }),
      patient('incomplete-red', { total: null, band: null, red: true, ago: 5 }),
    ];
    assert.deepEqual(list.sort(compareDeteriorating).map((p) => p.id), ['high-9', 'high-7', 'medium-6', 'medium-5-old', 'medium-5-new', 'lowmed', 'incomplete-red']);
  });

  it('is overdue once the due time passes, or when the hub says so', () => {
    assert.equal(overdueBy(patient('a', { due: T0 + MIN }), T0), null);
    assert.equal(overdueBy(patient('b', { due: T0 - 25 * MIN }), T0), 25 * MIN);
    assert.equal(overdueBy(patient('c', { due: T0 + MIN, overdue: true }), T0), 0, 'the hub’s word counts even if our clock is behind');
    assert.equal(overdueBy(patient('d', { due: null }), T0), null);
  });

  it('counts per ward by band, incomplete and none', () => {
    const counts = wardCounts([
      patient('a', { total: 0, band: 'zero' }),
      patient('b', { total: 2, band: 'low' }),
      patient('c', { total: 3, band: 'low_medium', red: true }),
      patient('d', { total: 6, band: 'medium' }),
      patient('e', { total: 8, band: 'high' }),
      patient('f', { total: null, band: null }),
      patient('g', { none: true }),
      patient('h', { total: 1, band: 'low', ward: 'w8' }),
    ]);
    assert.deepEqual(counts.get('w7'), { low: 2, low_medium: 1, medium: 1, high: 1, incomplete: 1, none: 1, total: 7 });
    assert.deepEqual(counts.get('w8'), { low: 1, low_medium: 0, medium: 0, high: 0, incomplete: 0, none: 0, total: 1 });
  });

  it('says where the review task stands', () => {
    /** @param {any} over */
    const t = (over) => /** @type {any} */ ({ state: 'offering', offers: [], assignee: null, ...over });
    const offer = (/** @type {string} */ name, state = 'offered') => ({ staff: { id: name, name }, state, reason: null });
    assert.deepEqual(reviewState(undefined), { text: 'No review task', alarm: false });
    assert.equal(reviewState(t({ offers: [offer('Dr A'), offer('Dr B'), offer('Dr C', 'declined')] })).text, 'Offered to 2 (Dr A, Dr B)');
    assert.equal(reviewState(t({ offers: [offer('Dr A'), offer('Dr B'), offer('Dr C')] })).text, 'Offered to 3 (Dr A, Dr B +1)');
    assert.deepEqual(reviewState(t({ state: 'no_one_accepted' })), { text: 'No one accepted', alarm: true });
    assert.equal(reviewState(t({ state: 'accepted', assignee: { id: 'x', name: 'Dr Asha Patel' } })).text, 'Accepted by Dr Asha Patel');
  });

  it('labels the newer roles, categories and an any-role requirement', () => {
    assert.equal(roleLabel('critical_care_outreach'), 'Critical care outreach');
    assert.equal(categoryLabel('observations'), 'Observations');
    assert.equal(needsLabel({ any_role: ['registrar', 'critical_care_outreach'] }), 'Registrar or Critical care outreach');
    assert.equal(needsLabel({ role: 'fy1' }), 'FY1');
  });

  it('splits a field refusal into the field and the problem', () => {
    assert.deepEqual(fieldOf('patient.nhs_number: is not a valid NHS number: its check digit should be 9, not 8'), ['patient.nhs_number', 'is not a valid NHS number: its check digit should be 9, not 8']);
    assert.deepEqual(fieldOf('bed: is taken'), ['bed', 'is taken']);
    assert.deepEqual(fieldOf('that bed is not empty'), [null, 'that bed is not empty']);
  });
});
