// What needs the coordinator now, against a real hub: an emergency nobody
// has accepted, a page to the coordinator and an escalation each ring (a
// chime, a system notification, a count in the title bar) until they are
// acknowledged on the dashboard; escalations are a work queue (acknowledge,
// snooze, open the task) and the "Escalated" box counts the open ones only.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { connectAs } from './helpers/protocol.js';
import { expectAccessible, screenshot } from './helpers/app.js';
import { openDashboard, logInDashboard, waitLive, taskCmd } from './dashboard-helpers/dashboard.js';

/** Records every notification and every chime tone the page makes (the real ones still run). */
function recordNoise() {
  const w = /** @type {any} */ (window);
  w.__notes = [];
  w.__tones = 0;
  const Real = w.Notification;
  class Recorded extends Real {
    /** @param {string} title @param {NotificationOptions} [opts] */
    constructor(title, opts) {
      super(title, opts);
      w.__notes.push(title);
    }
  }
  Object.defineProperty(Recorded, 'permission', { get: () => Real.permission });
  w.Notification = Recorded;
  const create = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () {
    w.__tones += 1;
    return create.call(this);
  };
}

describe('coordinator dashboard: what needs the coordinator now', () => {
  /** @type {import('./helpers/hub.js').Hub} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openDashboard>>} */ let dash;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let nurse;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let coord;
  /** The cannulation candidates on Ward 7, connected: their offers ring. @type {import('./helpers/protocol.js').ProtocolClient[]} */
  let candidates = [];

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    nurse = await connectAs(hub.url, 'nurse.okafor');
    coord = await connectAs(hub.url, 'coord.hale');
    candidates = await Promise.all(['fy1.patel', 'sho.khan', 'np.murphy'].map((u) => connectAs(hub.url, u)));
    dash = await openDashboard(browser, hub.url);
    await dash.context.grantPermissions(['notifications'], { origin: hub.url });
    await dash.page.addInitScript(recordNoise);
    await dash.page.reload();
    await logInDashboard(dash.page, 'coord.hale');
    await waitLive(dash.page);
  });
  after(async () => {
    for (const c of [nurse, coord, ...candidates]) c?.close();
    await browser?.close();
    await hub?.stop();
  });

  /** @param {import('playwright-core').Page} page */
  const noise = (page) => page.evaluate(() => ({ notes: /** @type {string[]} */ (/** @type {any} */ (window).__notes), tones: /** @type {number} */ (/** @type {any} */ (window).__tones), title: document.title }));

  it('rings for an emergency nobody has accepted and for a page to the coordinator', async () => {
    const { page } = dash;
    assert.doesNotMatch(await page.title(), /^\(/, 'nothing counted before anything happens');
    const before = await noise(page);
    const raised = await nurse.command(taskCmd({ bed: '3', priority: 'emergency' }));
    assert.equal(raised.type, 'ok', JSON.stringify(raised));
    const emergency = page.locator(`#attention [data-attention="e:${raised.result.task.id}"]`);
    await emergency.waitFor({ timeout: 5000 }).catch(() => assert.fail(`no emergency line; errors: ${dash.errors}`));
    await page.waitForFunction(() => document.title.startsWith('(1) wardpage'));
    let heard = await noise(page);
    assert.ok(heard.tones > before.tones, 'a chime played');
    assert.ok(heard.notes.some((n) => /Emergency not accepted: Ward 7.* bed 3/.test(n)), `notified: ${heard.notes}`);

    const coordId = coord.welcome.me.id;
    const sent = await nurse.command({ op: 'send_page', target: { staff: coordId }, priority: 'urgent', callback: 'ext 4471', message: 'Need a second nurse for bed 3' });
    assert.equal(sent.type, 'ok', JSON.stringify(sent));
    const pageItem = page.locator(`#attention [data-attention="m:${sent.result.page.id}"]`);
    await pageItem.waitFor();
    await page.waitForFunction(() => document.title.startsWith('(2) wardpage'));
    heard = await noise(page);
    assert.ok(heard.notes.some((n) => /Page to you from/.test(n)), `notified: ${heard.notes}`);
    await expectAccessible(page, 'dashboard with the needs-you-now queue');
    await screenshot(page, 'dash-attention-01-ringing');

    // Acknowledging the page is a real page_ack: the sender hears of it.
    await pageItem.locator('button', { hasText: 'Acknowledge' }).click();
    await pageItem.waitFor({ state: 'detached' });
    await nurse.until((evs) => evs.some((e) => e.event.kind === 'page' && e.event.change === 'acknowledged' && e.event.page.id === sent.result.page.id), 5000, 'the sender sees the acknowledgement');
    await page.waitForFunction(() => document.title.startsWith('(1) wardpage'));
    await emergency.locator('button', { hasText: 'Seen' }).click();
    await emergency.waitFor({ state: 'detached' });
    await page.waitForFunction(() => !document.title.startsWith('('));
    assert.equal(await page.locator('#attention').isHidden(), true, 'the queue hides when empty');
  });

  it('keeps escalations as a work queue: acknowledge, snooze, open; counts the open ones', async () => {
    const { page } = dash;
    const a = await nurse.command(taskCmd({ bed: '5' }));
    const b = await nurse.command(taskCmd({ bed: '6' }));
    for (const t of [a, b]) {
      assert.equal(t.type, 'ok', JSON.stringify(t));
      const esc = await coord.command({ op: 'escalate_now', task: t.result.task.id });
      assert.equal(esc.type, 'ok', JSON.stringify(esc));
    }
    const itemA = page.locator(`#attention [data-attention="t:${a.result.task.id}:1"]`);
    const itemB = page.locator(`#attention [data-attention="t:${b.result.task.id}:1"]`);
    await itemA.waitFor();
    await itemB.waitFor();
    await page.locator('.stat-escalated dd', { hasText: /^2$/ }).waitFor();
    await page.waitForFunction(() => document.title.startsWith('(2) wardpage'));
    assert.ok((await noise(page)).notes.some((n) => /Escalated \(level 1\): Ward 7.* bed 5/.test(n)));
    await screenshot(page, 'dash-attention-02-escalations');

    // Snoozed: still open (counted), no longer ringing (not in the title).
    await itemB.locator('button', { hasText: 'Snooze 5 min' }).click();
    await itemB.locator('text=/Snoozed until \\d\\d:\\d\\d/').waitFor();
    await page.waitForFunction(() => document.title.startsWith('(1) wardpage'));
    assert.equal(await page.locator('.stat-escalated dd').textContent(), '2');

    // Acknowledged: no longer open, though the task is still escalated on the board.
    await itemA.locator('button', { hasText: 'Acknowledge' }).click();
    await itemA.waitFor({ state: 'detached' });
    await page.locator('.stat-escalated dd', { hasText: /^1$/ }).waitFor();
    await page.locator(`.board [data-id="${a.result.task.id}"] [role=cell]`, { hasText: 'ESCALATED ×1' }).waitFor();

    // A task taken is no longer an open escalation: assigned, it still
    // waits for its assignee; once he acknowledges it, it is taken.
    const khan = await connectAs(hub.url, 'sho.khan');
    try {
      const assigned = await coord.command({ op: 'assign', task: b.result.task.id, staff: khan.welcome.me.id });
      assert.equal(assigned.type, 'ok', JSON.stringify(assigned));
      await page.locator(`.board [data-id="${b.result.task.id}"] [role=cell]`, { hasText: 'Assigned — waiting for Dr Omar Khan' }).waitFor();
      assert.equal(await page.locator('.stat-escalated dd').textContent(), '1', 'not taken until acknowledged');
      const acked = await khan.command({ op: 'accept', task: b.result.task.id });
      assert.equal(acked.type, 'ok', JSON.stringify(acked));
      await page.locator('.stat-escalated dd', { hasText: /^0$/ }).waitFor();
      await itemB.waitFor({ state: 'detached' });
    } finally {
      khan.close();
    }

    // A second escalation of the acknowledged task is new: it rings again, and opens the task.
    const again = await coord.command({ op: 'escalate_now', task: a.result.task.id });
    assert.equal(again.type, 'ok', JSON.stringify(again));
    const second = page.locator(`#attention [data-attention="t:${a.result.task.id}:2"]`);
    await second.waitFor();
    await page.locator('.stat-escalated dd', { hasText: /^1$/ }).waitFor();
    await second.locator('button', { hasText: 'Open task' }).click();
    await page.locator('dialog.detail[open]').waitFor();
    await page.keyboard.press('Escape');
    assert.deepEqual(dash.errors, []);
  });
});
