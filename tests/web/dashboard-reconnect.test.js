// The dashboard keeps up across a dropped socket and a hub restart: it
// resumes from its cursor (events raised while it was away are replayed, not
// re-fetched as a snapshot), a command given while offline is sent on
// reconnect with its id, and the board is neither duplicated nor lost.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { connectAs } from './helpers/protocol.js';
import { openDashboard, logInDashboard, waitLive, taskCmd } from './dashboard-helpers/dashboard.js';

describe('coordinator dashboard: reconnect and resume', () => {
  /** @type {import('./helpers/hub.js').Hub} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openDashboard>>} */ let dash;

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    dash = await openDashboard(browser, hub.url);
    await logInDashboard(dash.page, 'coord.hale');
    await waitLive(dash.page);
    // Record the dashboard's own requests, to tell a resume from a fresh start.
    await dash.page.evaluate(() => {
      const link = /** @type {any} */ (window).wardpageDashboard.link;
      const original = link.command.bind(link);
      /** @type {string[]} */ const ops = [];
      link.command = (/** @type {any} */ cmd) => {
        ops.push(cmd.op);
        return original(cmd);
      };
      /** @type {any} */ (window).__ops = ops;
    });
  });
  after(async () => {
    await browser?.close();
    await hub?.stop();
  });

  it('replays what it missed while its socket was down', async () => {
    const { page } = dash;
    const nurse = await connectAs(hub.url, 'nurse.okafor');
    try {
      const first = await nurse.command(taskCmd({ bed: '1' }));
      await page.locator(`.board [data-id="${first.result.task.id}"]`).waitFor();
      // Cut the socket; the retry comes after a jittered 0.5–1 s.
      await page.evaluate(() => /** @type {any} */ (window).wardpageDashboard.link.drop('test cut'));
      await page.locator('#link-status[data-state="offline"]').waitFor();
      const missed = await nurse.command(taskCmd({ bed: '2' }));
      assert.equal(missed.type, 'ok', JSON.stringify(missed));
      // A command given while offline waits, and goes with its id on reconnect.
      const answer = page.evaluate((id) => /** @type {any} */ (window).wardpageDashboard.link.command({ op: 'set_priority', task: id, priority: 'emergency' }), first.result.task.id);
      await waitLive(page);
      assert.equal((await answer).ok, true);
      const row = page.locator(`.board [data-id="${missed.result.task.id}"]`);
      await row.waitFor();
      await page.locator(`.board [data-id="${first.result.task.id}"] .chip`, { hasText: 'Emergency' }).waitFor();
      assert.equal(await page.locator('.board-body > [role=row]').count(), 2, 'no duplicates');
      const ops = await page.evaluate(() => /** @type {any} */ (window).__ops);
      assert.ok(ops.includes('directory'), 'presence is refreshed from the directory');
      assert.ok(!ops.includes('snapshot'), `resumed from the cursor, no snapshot: ${ops}`);
    } finally {
      nurse.close();
    }
  });

  it('comes back after the hub restarts, with the board intact', async () => {
    const { page } = dash;
    const listen = new URL(hub.url).host;
    await hub.stop({ keepData: true });
    await page.locator('#link-status[data-state="offline"]').waitFor();
    hub = await startHub({ dir: hub.dir, listen });
    await waitLive(page);
    const nurse = await connectAs(hub.url, 'nurse.okafor');
    try {
      const after = await nurse.command(taskCmd({ bed: '3' }));
      assert.equal(after.type, 'ok', JSON.stringify(after));
      await page.locator(`.board [data-id="${after.result.task.id}"]`).waitFor();
      assert.equal(await page.locator('.board-body > [role=row]').count(), 3);
      assert.equal(await page.locator('.stat-open dd').textContent(), '3');
      assert.deepEqual(dash.errors, []);
    } finally {
      nurse.close();
    }
  });
});
