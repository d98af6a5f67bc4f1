// The dashboard at 1280x720, a common desk screen: no word is broken across
// lines ("ESCALAT ED", "Offerin g") on any view, with a night's worth of
// tasks in every state on the board. Each word of every visible text node is
// measured: a word whose characters sit on more than one line was split.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { connectAs } from './helpers/protocol.js';
import { expectAccessible, screenshot } from './helpers/app.js';
import { openDashboard, logInDashboard, waitLive, taskCmd } from './dashboard-helpers/dashboard.js';
import { brokenWords } from './dashboard-helpers/words.js';

const SMALL_DESK = { width: 1280, height: 720 };

describe('coordinator dashboard at 1280x720', () => {
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
      const wards = ['w7', 'amu', 'w7', 'amu', 'w7', 'amu'];
      const prios = ['emergency', 'urgent', 'soon', 'routine', 'urgent', 'soon'];
      for (let i = 0; i < wards.length; i++) {
        const r = await nurse.command(taskCmd({ ward: wards[i], bed: String(2 + i), priority: prios[i] }));
        assert.equal(r.type, 'ok', JSON.stringify(r));
        if (i % 2 === 0) assert.equal((await coord.command({ op: 'escalate_now', task: r.result.task.id })).type, 'ok');
        if (i === 3) assert.equal((await coord.command({ op: 'assign', task: r.result.task.id, staff: khan.welcome.me.id })).type, 'ok');
      }
      await nurse.command({ op: 'send_page', target: { staff: coord.welcome.me.id }, priority: 'urgent', callback: 'ext 4471, Ward 7 desk', message: 'Relatives asking for the registrar about bed 2' });
    } finally {
      for (const c of [nurse, coord, khan]) c.close();
    }
    dash = await openDashboard(browser, hub.url, { viewport: SMALL_DESK });
    await logInDashboard(dash.page, 'coord.hale');
    await waitLive(dash.page);
    await dash.page.locator('.board-body > [role=row]').nth(5).waitFor();
  });
  after(async () => {
    await browser?.close();
    await hub?.stop();
  });

  for (const view of ['tasks', 'patients', 'staff', 'insight']) {
    it(`breaks no word on the ${view} view`, async () => {
      const { page } = dash;
      await page.evaluate((v) => {
        location.hash = v;
      }, view);
      await page.locator(`#view-${view}:not([hidden])`).waitFor();
      if (view === 'patients') await page.locator('#view-patients table').first().waitFor();
      await screenshot(page, `dash-1280-${view}`);
      assert.deepEqual(await brokenWords(page), [], `words split at 1280x720 on ${view}`);
      if (view === 'tasks') {
        // Every column heading of the board fits its cell.
        const tight = await page.locator('.board-head [role=columnheader]').evaluateAll((cells) => cells.filter((c) => c.scrollWidth > c.clientWidth + 1).map((c) => c.textContent));
        assert.deepEqual(tight, [], 'board headings fit');
        await expectAccessible(page, 'dashboard at 1280x720');
      }
    });
  }
});
