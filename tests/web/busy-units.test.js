// The busy state's rules that need no browser, against the real modules:
// what still rings while busy (emergencies only), and which busy state the
// phone acts on (the hub's, or a set_busy / end_busy still queued, and none
// once its time has passed).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

// The browser globals alerts.js touches at import.
Object.assign(globalThis, {
  localStorage: { getItem: () => null, setItem: () => {}, removeItem: () => {} },
  document: Object.assign(new EventTarget(), { visibilityState: 'visible' }),
});

const { holdBack } = await import('../../client-web/js/alerts.js');
const { currentBusy } = await import('../../client-web/js/views/busy.js');

const NOW = 1_764_385_200_000;
const MIN = 60_000;

/** @param {string} key @param {import('../../client-web/js/types.js').Priority} priority @returns {any} */
const item = (key, priority) => ({ key, kind: 'offer', priority, since: 0 });

/** @param {any} busy @param {any[]} queued */
function phone(busy, queued = []) {
  const store = /** @type {any} */ ({ now: () => NOW, me: { shift: { role: 'fy1', wards: ['w7'], starts_at: 0, ends_at: NOW + 600 * MIN, ...(busy ? { busy } : {}) } } });
  const outbox = /** @type {any} */ ({ entries: () => queued });
  return currentBusy(store, outbox);
}

describe('busy', () => {
  it('lets only emergencies ring, holding the rest in order', () => {
    const items = [item('e', 'emergency'), item('u', 'urgent'), item('s', 'soon'), item('r', 'routine')];
    assert.deepEqual(holdBack(items, false), { ring: items, held: [] });
    const { ring, held } = holdBack(items, true);
    assert.deepEqual(ring.map((i) => i.key), ['e']);
    assert.deepEqual(held.map((i) => i.key), ['u', 's', 'r']);
  });

  it('acts on the hub’s busy state until its time', () => {
    const busy = { reason: 'In resus', since: NOW - 5 * MIN, until: NOW + 10 * MIN };
    assert.deepEqual(phone(busy), { ...busy, queued: false });
    assert.equal(phone({ ...busy, until: NOW }), null, 'past its time: the hub’s end is on its way');
    assert.equal(phone(null), null);
  });

  it('counts a queued set_busy as busy, and a queued end_busy as not', () => {
    const set = { id: 'c1', cmd: { op: 'set_busy', reason: 'In theatre', minutes: 30 }, label: '', queued_at: NOW, issued_at: NOW - MIN };
    assert.deepEqual(phone(null, [set]), { reason: 'In theatre', since: NOW - MIN, until: NOW + 29 * MIN, queued: true });
    const end = { id: 'c2', cmd: { op: 'end_busy' }, label: '', queued_at: NOW };
    const busy = { reason: 'In resus', since: NOW - 5 * MIN, until: NOW + 10 * MIN };
    assert.equal(phone(busy, [end]), null);
    assert.equal(phone(null, [set, end]), null, 'the later command wins');
    assert.equal(phone(busy, [end, set])?.reason, 'In theatre');
  });
});
