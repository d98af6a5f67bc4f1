// No ghost alerts: Dr Patel accepts a task and acknowledges a page on one
// device; when she logs in afresh on another, the hub replays her stream
// from the start, and the overlay must not ring for the offer and the page
// on the way (they are history: taken and answered), not even for a moment.
// A task still on offer to her does ring once the replay is in.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, logIn, inspect, phoneBarrier } from './helpers/app.js';
import { connectAs } from './helpers/protocol.js';

/** Records every overlay that was ever shown, by its text (installed before the app loads). */
function recordOverlays() {
  const w = /** @type {any} */ (window);
  w.__overlays = [];
  new MutationObserver(() => {
    const shown = document.querySelector('section.alert:not([hidden])');
    if (shown && w.__overlays.at(-1) !== shown.textContent) w.__overlays.push(shown.textContent);
  }).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
}

describe('a fresh login does not ring for what was already answered', () => {
  /** @type {Awaited<ReturnType<typeof startHub>>} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let nurse;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let patel;

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    nurse = await connectAs(hub.url, 'nurse.okafor');
    patel = await connectAs(hub.url, 'fy1.patel');
  });
  after(async () => {
    nurse?.close();
    patel?.close();
    await browser?.close();
    await hub?.stop();
  });

  it('shows no overlay for an offer accepted and a page acknowledged on another device', async () => {
    const raised = await nurse.command({
      op: 'raise_task', ward: 'w7', bed: '9', patient: 'RX9990001', category: 'cannula', priority: 'urgent',
      requirement: { role: 'fy1' }, sbar: { situation: 'Tissued cannula, IV antibiotics due', background: '', assessment: '', recommendation: '' },
    });
    assert.equal(raised.type, 'ok', JSON.stringify(raised));
    assert.equal((await patel.command({ op: 'accept', task: raised.result.task.id })).type, 'ok');
    const page = await nurse.command({ op: 'send_page', target: { staff: patel.welcome.me.id }, priority: 'urgent', callback: 'ext 4471', message: 'Bed 9 family asking for you' });
    assert.equal(page.type, 'ok', JSON.stringify(page));
    assert.equal((await patel.command({ op: 'page_ack', page: page.result.page.id })).type, 'ok');

    const phone = await openPhone(browser, hub.url);
    await phone.page.addInitScript(recordOverlays);
    await phone.page.reload();
    await phone.page.locator('#login-user').waitFor();
    await logIn(phone.page, 'fy1.patel');
    await phone.page.locator(`article[data-task="${raised.result.task.id}"] .state`, { hasText: 'Accepted' }).waitFor();
    await phoneBarrier(phone.page);
    const seen = await phone.page.evaluate(() => /** @type {any} */ (window).__overlays);
    assert.deepEqual(seen, [], `no overlay on the way: ${JSON.stringify(seen)}`);
    assert.equal(await phone.page.evaluate(() => /** @type {any} */ (window).wardpage.sound.nowPlaying()), null);
    await inspect(phone.page, '75-fresh-login-no-ghosts');

    // Still outstanding is still rung for: a new offer rings at once.
    const second = await nurse.command({
      op: 'raise_task', ward: 'w7', bed: '10', patient: 'RX9990002', category: 'bloods', priority: 'soon',
      requirement: { role: 'fy1' }, sbar: { situation: 'Repeat potassium due', background: '', assessment: '', recommendation: '' },
    });
    assert.equal(second.type, 'ok', JSON.stringify(second));
    await phone.page.locator('section.alert:not([hidden])', { hasText: 'Repeat potassium due' }).waitFor();
    assert.deepEqual(phone.errors, []);
  });
});
