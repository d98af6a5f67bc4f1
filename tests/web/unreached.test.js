// Offers that ring nowhere (issue 17, hazard 4): seven of eleven staff had
// never connected, yet the raise confirmation read "alerted HCA Tom Brown".
// Against a real hub: the raiser's confirmation and Raised card say whose
// phone did not ring, and the coordinator's "Needs you now" queue lists a
// task offered only to people with no connected device.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, logIn, inspect, goTab, screenshot } from './helpers/app.js';
import { connectAs } from './helpers/protocol.js';
import { openDashboard, logInDashboard, waitLive } from './dashboard-helpers/dashboard.js';

/** The ECG's candidates on Ward 7 and the next grade up, in any order. */
const EVERYONE = ['Dr Asha Patel', 'Dr Omar Khan', 'HCA Tom Brown'];
/** @param {string} list */
const names = (list) => list.split(', ').sort();

describe('offers that reached no connected device', () => {
  /** @type {import('./helpers/hub.js').Hub} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let nurse;
  /** @type {Awaited<ReturnType<typeof openDashboard>>} */ let dash;

  /** Raises an ECG for `bed` from the nurse's Raise form. @param {string} bed */
  async function raiseEcg(bed) {
    const { page } = nurse;
    await goTab(page, 'raise');
    await page.fill('#raise-bed', bed);
    await page.fill('#raise-patient', `RX${bed}00000`);
    await page.selectOption('#raise-category', 'ecg');
    await page.fill('#raise-situation', 'Chest pain, ECG please');
    await page.click('label.prio-option.soon');
    await page.click('form.raise button[type=submit]');
    const outcome = page.locator('.form-outcome .notice:not(.pending)');
    await outcome.waitFor();
    return (await outcome.textContent()) ?? '';
  }

  before(async () => {
    // The hub's default policy (`nobody_connected = "as_nobody_on_shift"`):
    // an offer that rings nowhere escalates at once, here to the next grade
    // (Dr Khan, not connected either) and on to the coordinator.
    hub = await startHub();
    browser = await launchBrowser();
    dash = await openDashboard(browser, hub.url);
    await logInDashboard(dash.page, 'coord.hale');
    await waitLive(dash.page);
    nurse = await openPhone(browser, hub.url);
    await logIn(nurse.page, 'nurse.okafor');
  });
  after(async () => {
    await browser?.close();
    await hub?.stop();
  });

  it('tells the raiser that nobody connected got it, never "offered to HCA Tom Brown"', async () => {
    const said = await raiseEcg('4');
    const said3 = said.match(/Offered to 3 people, none of them connected \(([^)]*)\): no phone has rung\. The coordinator has been told\./);
    assert.ok(said3, said);
    assert.deepEqual(names(said3[1]), EVERYONE);
    assert.doesNotMatch(said, /Offered to HCA Tom Brown/);
    assert.equal(await nurse.page.locator('.form-outcome .notice.error').count(), 1, 'said as a problem, not as done');
    await inspect(nurse.page, '70-raise-nobody-connected');
    await goTab(nurse.page, 'raised');
    await nurse.page.locator('article .who[data-reach="nobody"]', { hasText: 'none of them connected' }).waitFor();
  });

  it('puts it on the coordinator\'s "Needs you now" queue', async () => {
    const line = dash.page.locator('#attention [data-kind="unreached"]', { hasText: 'Offer reached no connected device: Ward 7 (Medicine) bed 4' });
    await line.waitFor({ timeout: 5000 }).catch(() => assert.fail(`no line; errors: ${dash.errors}`));
    const queued = ((await line.textContent()) ?? '').match(/Offered to 3 people, none of them connected: ([^.]*)\. Call them or assign someone\./);
    assert.ok(queued, await line.textContent());
    assert.deepEqual(names(queued[1]), EVERYONE);
    // It fell through to the coordinator at once, as with nobody on shift.
    await dash.page.locator('#attention [data-kind="escalation"]', { hasText: 'Ward 7 (Medicine) bed 4' }).waitFor();
    await screenshot(dash.page, '71-dashboard-nobody-connected');
  });

  it('names who was not alerted when some were', async () => {
    const patel = await connectAs(hub.url, 'fy1.patel');
    try {
      const said = await raiseEcg('5');
      assert.match(said, /Offered to Dr Asha Patel\. Not connected, so not alerted: HCA Tom Brown\./);
      assert.equal(await nurse.page.locator('.form-outcome .notice.ok').count(), 1);
      await inspect(nurse.page, '72-raise-some-connected');
    } finally {
      patel.close();
    }
  });

  it('had no script errors', () => {
    assert.deepEqual(nurse.errors, []);
    assert.deepEqual(dash.errors, []);
  });
});
