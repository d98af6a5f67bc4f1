// The client's rules that need no browser, run in node against the real
// modules: events deduplicated by seq, views never replaced by an older
// version, state and cursor persisted together, what rings (and stops
// ringing), and the status line's words.

import { describe, it, beforeEach } from 'node:test';
import assert from 'node:assert/strict';

// The handful of browser globals these modules touch at import or use.
/** @type {Map<string, string>} */
const storage = new Map();
Object.assign(globalThis, {
  localStorage: {
    getItem: (/** @type {string} */ k) => storage.get(k) ?? null,
    setItem: (/** @type {string} */ k, /** @type {string} */ v) => storage.set(k, String(v)),
    removeItem: (/** @type {string} */ k) => storage.delete(k),
  },
  document: Object.assign(new EventTarget(), { visibilityState: 'visible' }),
});

const { Store } = await import('../../client-web/js/store.js');
const { wantedAlerts } = await import('../../client-web/js/alerts.js');
const { statusText } = await import('../../client-web/js/views/status.js');
const { targetStatus, duration } = await import('../../client-web/js/format.js');
const { siteOf, storageKey } = await import('../../client-web/js/base.js');

const ME = { id: 'me-1', name: 'Dr Asha Patel' };
const NURSE = { id: 'nurse-1', name: 'Nurse Sam Okafor' };

/** @param {Partial<import('../../client-web/js/types.js').TaskView>} over @returns {import('../../client-web/js/types.js').TaskView} */
function task(over = {}) {
  return {
    id: 't1', version: 1, ward: 'w7', bed: '12', patient: 'RX1', category: 'cannula', priority: 'urgent',
    requirement: { skill: 'cannulation' }, sbar: { situation: 'Tissued', background: '', assessment: '', recommendation: '' },
    state: 'offering', unassigned_reason: null, raised_by: NURSE, offers: [{ staff: ME, state: 'offered', reason: null }],
    assignee: null, raised_at: 1000, updated_at: 1000, accept_by: 1000 + 15 * 60000, complete_by: 1000 + 60 * 60000,
    accepted_at: null, started_at: null, closed_at: null, closing_note: null, escalation_level: 0, next_escalation_at: null, ...over,
  };
}

/** @param {number} seq @param {any} t @param {string} change */
const taskEvent = (seq, t, change) => ({ type: /** @type {const} */ ('event'), seq, at: 1000, event: { kind: 'task', change, task: t, by: NURSE } });

describe('store', () => {
  /** @type {InstanceType<typeof Store>} */ let store;
  beforeEach(() => {
    storage.clear();
    store = new Store('fy1.patel');
    store.setMe({ ...ME, login: 'fy1.patel', role: 'fy1', skills: [], shift: null });
  });

  it('ignores an event whose seq it has already processed', () => {
    assert.equal(store.applyEvent(/** @type {any} */ (taskEvent(1, task(), 'raised'))), true);
    assert.equal(store.applyEvent(/** @type {any} */ (taskEvent(1, task({ version: 9, state: 'cancelled' }), 'cancelled'))), false);
    assert.equal(store.tasks.get('t1')?.state, 'offering');
    assert.equal(store.cursor, 1);
  });

  it('never replaces a view with an older version', () => {
    store.applyResult({ kind: 'task', task: task({ version: 3, state: 'accepted', assignee: ME }) });
    store.applyEvent(/** @type {any} */ (taskEvent(5, task({ version: 2 }), 'raised')));
    assert.equal(store.tasks.get('t1')?.version, 3);
    assert.equal(store.tasks.get('t1')?.state, 'accepted');
    assert.equal(store.cursor, 5, 'the event still counts as processed');
  });

  it('persists the cursor together with the state it describes', () => {
    store.applyEvent(/** @type {any} */ (taskEvent(7, task(), 'raised')));
    store.save();
    const again = new Store('fy1.patel');
    assert.equal(again.cursor, 7);
    assert.equal(again.tasks.get('t1')?.bed, '12');
    assert.equal(new Store('someone.else').cursor, 0, 'state is per user');
  });

  it('drops everything on resync', () => {
    store.applyEvent(/** @type {any} */ (taskEvent(7, task(), 'raised')));
    store.reset(40);
    assert.equal(store.tasks.size, 0);
    assert.equal(store.cursor, 40);
  });
});

describe('alerts', () => {
  /** @type {InstanceType<typeof Store>} */ let store;
  beforeEach(() => {
    storage.clear();
    store = new Store('fy1.patel');
    store.setMe({ ...ME, login: 'fy1.patel', role: 'fy1', skills: [], shift: null });
  });

  it('rings for an open offer until someone takes the task', () => {
    store.applyEvent(/** @type {any} */ (taskEvent(1, task(), 'raised')));
    assert.deepEqual(wantedAlerts(store).map((a) => a.key), ['offer:t1']);
    const taken = task({ version: 2, state: 'accepted', assignee: { id: 'x', name: 'Dr Ben Ruiz' }, offers: [{ staff: ME, state: 'withdrawn', reason: null }] });
    store.applyEvent(/** @type {any} */ (taskEvent(2, taken, 'accepted')));
    assert.deepEqual(wantedAlerts(store), []);
  });

  it('puts emergencies first and stops ringing for a silenced offer', () => {
    store.applyEvent(/** @type {any} */ (taskEvent(1, task(), 'raised')));
    store.applyEvent(/** @type {any} */ (taskEvent(2, task({ id: 't2', priority: 'emergency', raised_at: 2000, updated_at: 2000 }), 'raised')));
    assert.deepEqual(wantedAlerts(store).map((a) => a.key), ['offer:t2', 'offer:t1']);
    store.silence('offer:t1');
    assert.deepEqual(wantedAlerts(store).map((a) => a.key), ['offer:t2']);
  });

  it('rings again when a silenced task is handed back and re-offered', () => {
    store.applyEvent(/** @type {any} */ (taskEvent(1, task(), 'raised')));
    store.silence('offer:t1');
    store.applyEvent(/** @type {any} */ (taskEvent(2, task({ version: 4 }), 'handed_back')));
    assert.deepEqual(wantedAlerts(store).map((a) => a.key), ['offer:t1']);
  });

  it('rings for an unacknowledged page to me, not for one I sent', () => {
    const page = {
      id: 'p1', version: 1, from: NURSE, target: { staff: ME.id }, priority: 'soon', callback: 'ext 1', message: '',
      state: 'open', sent_at: 1, recipients: [{ staff: ME, delivered_at: null, read_at: null, acked_at: null }],
    };
    store.applyResult({ kind: 'page', page: /** @type {any} */ (page) });
    assert.deepEqual(wantedAlerts(store).map((a) => a.key), ['page:p1']);
    store.applyResult({ kind: 'page', page: /** @type {any} */ ({ ...page, id: 'p2', from: ME, recipients: [{ staff: NURSE, delivered_at: null, read_at: null, acked_at: null }] }) });
    assert.deepEqual(wantedAlerts(store).map((a) => a.key), ['page:p1']);
  });
});

describe('words on screen', () => {
  it('says how long the link has been down and what is queued', () => {
    const when = new Date(2026, 0, 1, 2, 14).getTime();
    const link = /** @type {any} */ ({ status: 'offline', offlineSince: when, queued: 2 });
    assert.equal(statusText(link), 'Offline since 02:14, 2 actions queued');
    assert.equal(statusText(/** @type {any} */ ({ status: 'online', offlineSince: null, queued: 0 })), 'Online');
    assert.equal(statusText(/** @type {any} */ ({ status: 'online', offlineSince: null, queued: 1 })), 'Online · sending 1 action');
  });

  it('measures a task against accept-by, then complete-by', () => {
    const t = task();
    assert.match(targetStatus(t, t.raised_at + 5 * 60000)?.text ?? '', /^accept by \d\d:\d\d \(10 min left\)$/);
    assert.equal(targetStatus(t, t.accept_by + 3 * 60000)?.overdue, true);
    assert.match(targetStatus(task({ state: 'started' }), t.raised_at)?.text ?? '', /^complete by/);
    assert.equal(targetStatus(task({ state: 'completed' }), 0), null);
    assert.equal(duration(65 * 60000), '1 h 05 min');
  });
});

describe('the site a copy of the client belongs to', () => {
  it('is named by the folder under /site/, and the plain URLs have none', () => {
    assert.equal(siteOf(new URL('https://hub.example/site/north/')), 'north');
    assert.equal(siteOf(new URL('http://10.0.0.5:8080/site/st-marys/')), 'st-marys');
    // Behind a proxy that mounts the hub under a path of its own.
    assert.equal(siteOf(new URL('https://intranet.example/wardpage/site/south/')), 'south');
    assert.equal(siteOf(new URL('https://hub.example/')), null);
    assert.equal(siteOf(new URL('https://hub.example/site/')), null);
    assert.equal(siteOf(new URL('https://hub.example/site/north/js/')), null);
    // A checkout on disk (these tests) is never a site.
    assert.equal(siteOf(new URL('file:///srv/site/client-web/')), null);
  });

  it('keeps the plain URLs\' localStorage keys as they were', () => {
    // Loaded from disk here: the plain URLs' copy.
    assert.equal(storageKey('wardpage.session'), 'wardpage.session');
    assert.equal(new Store('fy1.patel').key, 'wardpage.state.fy1.patel');
  });
});
