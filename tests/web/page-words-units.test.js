// The page rules the phone and the dashboard apply before the hub sees a
// page, run in node against the real modules: the callback number (the same
// cases as the hub's rule, tests/fixtures/callback-numbers.json), the
// sender's words for a reply, and the toast that names it.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const { callbackNumber, replyLine, replies } = await import('../../client-web/js/page-words.js');
const { routineNotice } = await import('../../client-web/js/notices.js');

/** @type {[string, string | null][]} */
const CASES = JSON.parse(readFileSync(new URL('../fixtures/callback-numbers.json', import.meta.url), 'utf8'));

const NURSE = { id: 'nurse-1', name: 'Nurse Sam Okafor' };
const KHAN = { id: 'sho-1', name: 'Dr Omar Khan' };
const PATEL = { id: 'fy1-1', name: 'Dr Asha Patel' };

/** @param {Partial<import('../../client-web/js/types.js').PageReceipt>} over @returns {import('../../client-web/js/types.js').PageReceipt} */
const receipt = (over) => ({ staff: KHAN, delivered_at: 1, read_at: 1, acked_at: 2, ...over });

/** @param {import('../../client-web/js/types.js').PageReceipt[]} recipients @returns {import('../../client-web/js/types.js').PageView} */
const page = (recipients) => ({
  id: 'p1', version: 3, from: NURSE, target: { role: 'sho' }, priority: 'urgent', callback: 'ext 4412', callback_number: '4412',
  message: '', state: 'acknowledged', sent_at: 0, recipients, escalation_level: 0, next_escalation_at: null,
});

describe('page words', () => {
  it('finds the number to call as the hub does', () => {
    assert.ok(CASES.length >= 10);
    for (const [text, want] of CASES) assert.equal(callbackNumber(text), want, JSON.stringify(text));
  });

  it('says who replied what, and when, latest first', () => {
    const at = new Date(2026, 0, 1, 2, 14).getTime();
    assert.equal(replyLine(receipt({ reply: 'on_my_way', replied_at: at })), 'Dr Omar Khan: On my way, 02:14');
    assert.equal(replyLine(receipt({})), null, 'no reply yet');
    const p = page([receipt({ reply: 'five_min', replied_at: at }), receipt({ staff: PATEL, reply: 'call_me', replied_at: at + 60_000 })]);
    assert.deepEqual(replies(p), ['Dr Asha Patel: Call me, 02:15', 'Dr Omar Khan: 5 min, 02:14']);
  });

  it('names the reply in the sender’s toast', () => {
    const p = page([receipt({ reply: 'on_my_way', replied_at: 2 })]);
    /** @param {'acknowledged' | 'replied'} change @param {import('../../client-web/js/types.js').PageView} view */
    const frame = (change, view) => /** @type {import('../../client-web/js/types.js').EventFrame} */ ({ type: 'event', seq: 1, at: Date.now(), event: { kind: 'page', change, page: view, by: KHAN } });
    assert.equal(routineNotice(frame('acknowledged', p), NURSE.id), 'Dr Omar Khan: On my way');
    assert.equal(routineNotice(frame('replied', p), NURSE.id), 'Dr Omar Khan: On my way');
    assert.equal(routineNotice(frame('acknowledged', page([receipt({})])), NURSE.id), 'Dr Omar Khan acknowledged your page');
    assert.equal(routineNotice(frame('replied', p), KHAN.id), null, 'not to the one who replied');
  });
});
