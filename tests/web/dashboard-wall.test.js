// The wall board (`?wall`, or the "Wall board" button) on a 1920x1080 screen
// read from across a room: big type, and the tasks that need someone now
// (an open escalation, an emergency nobody accepted) above everything else.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { connectAs } from './helpers/protocol.js';
import { expectAccessible, screenshot } from './helpers/app.js';
import { openDashboard, logInDashboard, waitLive, taskCmd } from './dashboard-helpers/dashboard.js';
import { brokenWords } from './dashboard-helpers/words.js';

const WALL = { width: 1920, height: 1080 };

describe('coordinator dashboard: wall board', () => {
  /** @type {import('./helpers/hub.js').Hub} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openDashboard>>} */ let dash;
  /** @type {Record<string, string>} */ const ids = {};

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    const nurse = await connectAs(hub.url, 'nurse.okafor');
    const coord = await connectAs(hub.url, 'coord.hale');
    const khan = await connectAs(hub.url, 'sho.khan');
    try {
      /** @param {string} name @param {Record<string, any>} over */
      const raise = async (name, over) => {
        const r = await nurse.command(taskCmd(over));
        assert.equal(r.type, 'ok', JSON.stringify(r));
        ids[name] = r.result.task.id;
      };
      // Raised in the order a plain sort would get wrong: the routine ones first.
      await raise('routine', { bed: '4', priority: 'routine' });
      await raise('accepted', { bed: '5', priority: 'emergency' });
      await raise('escalated', { bed: '3', priority: 'soon' });
      await raise('emergency', { bed: '2', priority: 'emergency' });
      assert.equal((await coord.command({ op: 'assign', task: ids.accepted, staff: khan.welcome.me.id })).type, 'ok');
      // Accepted: assigned, and acknowledged by him.
      assert.equal((await khan.command({ op: 'accept', task: ids.accepted })).type, 'ok');
      assert.equal((await coord.command({ op: 'escalate_now', task: ids.escalated })).type, 'ok');
    } finally {
      for (const c of [nurse, coord, khan]) c.close();
    }
    dash = await openDashboard(browser, hub.url, { viewport: WALL });
    await logInDashboard(dash.page, 'coord.hale');
    await waitLive(dash.page);
  });
  after(async () => {
    await browser?.close();
    await hub?.stop();
  });

  it('puts open escalations and unaccepted emergencies first, in big type', async () => {
    const { page } = dash;
    await page.locator('.board-body > [role=row]').nth(3).waitFor();
    await page.click('#wall-toggle');
    await page.locator('#view-wall:not([hidden])').waitFor();
    assert.match(page.url(), /\?wall$/, 'the address keeps the mode, for a screen set up once');
    assert.equal(await page.locator('#view-tasks').isHidden(), true);
    const first = await page.locator('.wall-first .wall-row').evaluateAll((rows) => rows.map((r) => /** @type {HTMLElement} */ (r).dataset.id));
    assert.deepEqual(first, [ids.emergency, ids.escalated], 'emergency first, then the escalation');
    const rest = await page.locator('#view-wall .wall-list:not(.wall-first) .wall-row').evaluateAll((rows) => rows.map((r) => /** @type {HTMLElement} */ (r).dataset.id));
    assert.deepEqual(rest, [ids.accepted, ids.routine], 'the rest by priority');
    const size = await page.locator('.wall-row .wall-where').first().evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
    assert.ok(size >= 24, `big type (${size}px)`);
    assert.match((await page.locator('.wall-first .wall-row').nth(1).textContent()) ?? '', /Ward 7 \(Medicine\) bed\u00a03.*escalated ×1/);
    assert.deepEqual(await brokenWords(page), []);
    await expectAccessible(page, 'dashboard wall board');
    await screenshot(page, 'dash-wall-1920');
  });

  it('opens straight into the wall board from the address', async () => {
    const { page } = dash;
    await page.goto('/dashboard/?wall');
    await waitLive(page);
    await page.locator(`.wall-first [data-id="${ids.emergency}"]`).waitFor();
    await page.click('#wall-toggle');
    await page.locator('#view-tasks:not([hidden])').waitFor();
    assert.doesNotMatch(page.url(), /wall/);
    assert.deepEqual(dash.errors, []);
  });
});
