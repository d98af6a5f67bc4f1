// The dashboard's commands carry the time they were first issued, on every
// send, and one that waited longer than a night (a desk computer offline
// until the morning) is not sent at the next welcome: it is answered
// `id_expired` on the page, shown as not sent (in the dialog and at the top
// of the screen until dismissed), and the hub never sees it.
// The dashboard keeps nothing across reloads, so the old command is put
// into its link directly, as a night's wait would leave it.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { connectAs } from './helpers/protocol.js';
import { routeLink, until } from './helpers/faults.js';
import { screenshot, expectAccessible } from './helpers/app.js';
import { openDashboard, logInDashboard, waitLive, taskCmd } from './dashboard-helpers/dashboard.js';

describe('coordinator dashboard: command age', () => {
  /** @type {import('./helpers/hub.js').Hub} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await hub?.stop();
  });

  it('sends each command with its first issue time, the same on a re-send', async () => {
    const dash = await openDashboard(browser, hub.url);
    const { page } = dash;
    const link = await routeLink(page);
    await logInDashboard(page, 'coord.hale');
    await waitLive(page);
    // Offline: the command waits, then goes on reconnect with the same stamp.
    await page.evaluate(() => /** @type {any} */ (window).wardpageDashboard.link.drop('test cut'));
    const answer = page.evaluate(() => /** @type {any} */ (window).wardpageDashboard.link.command({ op: 'directory' }));
    const before = Date.now();
    assert.equal((await answer).ok, true);
    const sent = link.wires.flatMap((w) => w.sent).filter((f) => f.type === 'cmd');
    assert.ok(sent.length > 0 && sent.every((f) => typeof f.issued_at === 'number'), 'every command carries issued_at');
    const last = sent[sent.length - 1];
    assert.ok(Math.abs(last.issued_at - before) < 60 * 1000, `stamped with the hub's time now (${last.issued_at} vs ${before})`);
    assert.deepEqual(dash.errors, []);
  });

  it('does not send a command that waited more than 12 hours, and says so', async () => {
    const nurse = await connectAs(hub.url, 'nurse.okafor');
    const raised = await nurse.command(taskCmd({ bed: '9', priority: 'routine' }));
    nurse.close();
    assert.equal(raised.type, 'ok', JSON.stringify(raised));
    const taskId = raised.result.task.id;
    const dash = await openDashboard(browser, hub.url);
    const { page } = dash;
    const link = await routeLink(page);
    await logInDashboard(page, 'coord.hale');
    await waitLive(page);
    await page.locator(`.board [data-id="${taskId}"] button.task-link`).click();
    const dialog = page.locator('dialog.detail[open]');
    await dialog.waitFor();

    // The priority change is given while the link is down and then waits a
    // night: its issue time is set 13 hours back, as the wait would leave it.
    await page.evaluate(() => /** @type {any} */ (window).wardpageDashboard.link.drop('test cut'));
    await page.evaluate(() => {
      const link = /** @type {any} */ (window).wardpageDashboard.link;
      link.status = 'offline';
      clearTimeout(link.retryTimer); // hold the reconnect until the command is old
    });
    await dialog.locator('select[id^="set-priority"]').selectOption('emergency');
    await dialog.locator('button', { hasText: 'Change priority' }).click();
    await page.evaluate(() => {
      const link = /** @type {any} */ (window).wardpageDashboard.link;
      for (const p of link.pending.values()) if (p.cmd.op === 'set_priority') p.issued_at -= 13 * 3600 * 1000;
      link.reconnectNow();
    });
    await waitLive(page);
    const outcome = dialog.locator('.outcome.bad');
    await outcome.waitFor();
    assert.match(await outcome.innerText(), /^Not sent: /);
    const sent = link.wires.flatMap((w) => w.sent).filter((f) => f.type === 'cmd' && f.cmd.op === 'set_priority');
    assert.deepEqual(sent, [], 'the old command never went to the hub');
    const coordinator = await connectAs(hub.url, 'coord.hale');
    try {
      const snap = /** @type {any} */ (await coordinator.command({ op: 'snapshot' }));
      assert.equal(snap.result.tasks.find((/** @type {any} */ t) => t.id === taskId).priority, 'routine', 'the hub did not change it');
    } finally {
      coordinator.close();
    }
    await screenshot(page, '66-dashboard-not-sent');
    // Closing the dialog does not hide it: the screen says so until dismissed.
    await dialog.locator('button', { hasText: 'Close' }).click();
    const card = page.locator('.unsent-item');
    await card.waitFor();
    assert.match(await card.innerText(), /Not sent: make Ward 7 \(Medicine\) bed 9 Emergency/);
    await screenshot(page, '67-dashboard-not-sent-banner');
    await expectAccessible(page, 'dashboard not sent');
    await card.locator('button', { hasText: 'Dismiss' }).click();
    await card.waitFor({ state: 'detached' });
    assert.deepEqual(dash.errors, []);
  });
});
