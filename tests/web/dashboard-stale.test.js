// With the hub gone the dashboard must not pass for live: the board greys
// out and says when it was last brought up to date, and comes back to
// colour (and drops the note) once the link is live again.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { connectAs } from './helpers/protocol.js';
import { expectAccessible, screenshot } from './helpers/app.js';
import { openDashboard, logInDashboard, waitLive, taskCmd } from './dashboard-helpers/dashboard.js';

describe('coordinator dashboard: stale when offline', () => {
  /** @type {import('./helpers/hub.js').Hub} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openDashboard>>} */ let dash;

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    dash = await openDashboard(browser, hub.url);
    await logInDashboard(dash.page, 'coord.hale');
    await waitLive(dash.page);
  });
  after(async () => {
    await browser?.close();
    await hub?.stop();
  });

  it('greys out and says the time of its last update while the hub is down', async () => {
    const { page } = dash;
    const nurse = await connectAs(hub.url, 'nurse.okafor');
    const raised = await nurse.command(taskCmd({ bed: '4', priority: 'emergency' }));
    nurse.close();
    assert.equal(raised.type, 'ok', JSON.stringify(raised));
    await page.locator(`.board [data-id="${raised.result.task.id}"]`).waitFor();
    assert.equal(await page.locator('#stale-note').isHidden(), true, 'no stale note while live');
    assert.equal(await page.locator('.summary').evaluate((el) => getComputedStyle(el).filter), 'none');

    const listen = new URL(hub.url).host;
    const downAt = await page.evaluate(() => Date.now());
    await hub.stop({ keepData: true });
    await page.locator('#link-status[data-state="offline"]').waitFor();
    const note = page.locator('#stale-note');
    await note.waitFor();
    const text = (await note.textContent()) ?? '';
    const m = text.match(/last updated at (\d\d):(\d\d):(\d\d)/);
    assert.ok(m, `says when: ${text}`);
    // The time said is the moment the live link dropped, to the minute.
    const said = new Date(downAt);
    said.setHours(Number(m[1]), Number(m[2]), Number(m[3]), 0);
    assert.ok(Math.abs(said.getTime() - downAt) < 60000, `${text} vs ${new Date(downAt).toTimeString()}`);
    assert.match(await page.locator('main').getAttribute('class') ?? '', /\bstale\b/);
    for (const sel of ['.summary', '.tasks-view']) {
      assert.match(await page.locator(sel).evaluate((el) => getComputedStyle(el).filter), /grayscale\(1\)/, `${sel} greyed`);
    }
    await expectAccessible(page, 'dashboard, stale while offline');
    await screenshot(page, 'dash-stale-offline');

    hub = await startHub({ dir: hub.dir, listen });
    await waitLive(page);
    await note.waitFor({ state: 'hidden' });
    assert.equal(await page.locator('.summary').evaluate((el) => getComputedStyle(el).filter), 'none', 'back in colour');
    assert.deepEqual(dash.errors, []);
  });
});
