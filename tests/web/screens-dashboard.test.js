// The coordinator's dashboard read at 3 a.m. (issue 17): the login, the
// board with its escalations queue (and a page to the coordinator in it),
// the board in the dark theme, the patients view at 1280x720, and the wall
// board at 1920x1080: no visible text under 16 px, nothing axe objects to
// (WCAG AA contrast among it), and still no word broken at 1280x720.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { connectAs } from './helpers/protocol.js';
import { openDashboard, logInDashboard, waitLive, taskCmd } from './dashboard-helpers/dashboard.js';
import { brokenWords } from './dashboard-helpers/words.js';
import { lookAt } from './helpers/screens.js';

const SMALL_DESK = { width: 1280, height: 720 };
const WALL = { width: 1920, height: 1080 };

describe('the dashboard at arm’s length', () => {
  /** @type {import('./helpers/hub.js').Hub} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openDashboard>>} */ let dash;

  before(async () => {
    hub = await startHub({ patients: true });
    browser = await launchBrowser();
    const nurse = await connectAs(hub.url, 'nurse.okafor');
    const coord = await connectAs(hub.url, 'coord.hale');
    const khan = await connectAs(hub.url, 'sho.khan');
    try {
      const prios = ['emergency', 'urgent', 'soon', 'routine', 'urgent'];
      for (let i = 0; i < prios.length; i++) {
        const r = await nurse.command(taskCmd({ ward: i % 2 ? 'amu' : 'w7', bed: String(2 + i), priority: prios[i] }));
        assert.equal(r.type, 'ok', JSON.stringify(r));
        if (i === 1) assert.equal((await coord.command({ op: 'escalate_now', task: r.result.task.id })).type, 'ok');
        if (i === 3) assert.equal((await coord.command({ op: 'assign', task: r.result.task.id, staff: khan.welcome.me.id })).type, 'ok');
        if (i === 4) assert.equal((await khan.command({ op: 'accept', task: r.result.task.id })).type, 'ok');
      }
      const page = await nurse.command({ op: 'send_page', target: { staff: coord.welcome.me.id }, priority: 'urgent', callback: 'ext 4471', message: 'Relatives asking for the registrar about bed 2' });
      assert.equal(page.type, 'ok', JSON.stringify(page));
    } finally {
      for (const c of [nurse, coord, khan]) c.close();
    }
    dash = await openDashboard(browser, hub.url, { viewport: SMALL_DESK });
  });
  after(async () => {
    await browser?.close();
    await hub?.stop();
  });

  it('login', async () => {
    await lookAt(dash.page, 'scr-dash-login');
  });

  it('the board and its escalations queue', async () => {
    const { page } = dash;
    await logInDashboard(page, 'coord.hale');
    await waitLive(page);
    await page.locator('.board-body > [role=row]').nth(4).waitFor();
    await page.locator('.attention-list .item').nth(1).waitFor();
    await lookAt(page, 'scr-dash-board');
    assert.deepEqual(await brokenWords(page), [], 'no word split at 1280x720');
    // Opened after the tasks were raised (they come in the snapshot): every
    // row names its ward as the hospital does, never `W7` or `AMU`.
    const places = await page.locator('.board-body [role=rowheader] button.task-link').allTextContents();
    assert.ok(places.length >= 5, `${places.length} rows`);
    for (const place of places) {
      assert.match(place, /^(Ward \d+ \([A-Z][a-z ]+\)|Acute Medical Unit) bed \d/, place);
      assert.doesNotMatch(place, /\b(W\d+|AMU)\b/i, place);
    }
  });

  it('the board in the dark theme', async () => {
    const { page } = dash;
    await page.click('#theme-toggle');
    await page.locator('html[data-theme="dark"]').waitFor();
    await lookAt(page, 'scr-dash-board-dark');
    await page.click('#theme-toggle');
    await page.locator('html[data-theme="light"]').waitFor();
  });

  it('patients', async () => {
    const { page } = dash;
    await page.evaluate(() => {
      location.hash = 'patients';
    });
    await page.locator('#view-patients:not([hidden]) table').first().waitFor();
    await lookAt(page, 'scr-dash-patients');
    assert.deepEqual(await brokenWords(page), [], 'no word split at 1280x720');
  });

  it('the wall board', async () => {
    const { page } = dash;
    await page.setViewportSize(WALL);
    await page.goto('/dashboard/?wall');
    await waitLive(page);
    await page.locator('#view-wall:not([hidden]) .wall-row').nth(3).waitFor();
    await lookAt(page, 'scr-dash-wall');
    assert.deepEqual(dash.errors, []);
  });
});
