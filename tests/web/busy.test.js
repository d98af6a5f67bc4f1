// The doctor's busy state on her phone and on the coordinator's screen: Dr
// Patel taps "I'm busy", "In resus"; an urgent cannula offered to her does
// not ring (it waits, counted on the banner, and the count opens the list);
// an emergency still takes over the screen; ending busy rings for the
// urgent offer still waiting. The dashboard's staff list shows who is busy,
// why and until when. Every screen on the way is photographed and scanned.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, logIn, inspect, screenshot, waitOnline } from './helpers/app.js';
import { connectAs } from './helpers/protocol.js';
import { openDashboard, logInDashboard, waitLive, taskCmd } from './dashboard-helpers/dashboard.js';

/** @param {import('playwright-core').Page} page */
const nowPlaying = (page) => page.evaluate(() => /** @type {any} */ (window).wardpage.sound.nowPlaying());

describe('the busy state', () => {
  /** @type {Awaited<ReturnType<typeof startHub>>} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let doctor;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let nurse;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let coordinator;
  /** @type {string} */ let patelId;

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    nurse = await connectAs(hub.url, 'nurse.okafor');
    coordinator = await connectAs(hub.url, 'coord.hale');
  });
  after(async () => {
    nurse?.close();
    coordinator?.close();
    await browser?.close();
    await hub?.stop();
  });

  it('offers a big “I’m busy” and sets it with one tap on a reason', async () => {
    doctor = await openPhone(browser, hub.url);
    await logIn(doctor.page, 'fy1.patel');
    await waitOnline(doctor.page);
    const { page } = doctor;
    patelId = await page.evaluate(() => /** @type {any} */ (window).wardpage.store.me.id);
    await page.locator('button.busy-start:visible').waitFor();
    await inspect(page, 'busy-01-work');
    await page.click('button.busy-start');
    const sheet = page.locator('dialog.busy-sheet');
    await sheet.waitFor();
    assert.equal(await sheet.locator('.busy-length[aria-pressed="true"]').textContent(), '30 min', '30 minutes is chosen');
    await sheet.locator('.busy-length', { hasText: '15 min' }).click();
    await inspect(page, 'busy-02-sheet');
    await sheet.locator('button.busy-reason', { hasText: 'In resus' }).click();
    const banner = page.locator('.busy-banner:visible');
    await banner.locator('.busy-text', { hasText: /^Busy: in resus, until \d\d:\d\d$/ }).waitFor();
    assert.equal(await page.locator('button.busy-start:visible').count(), 0, 'the start button gives way to the banner');
    // The hub has it, and the coordinator was told.
    const told = await coordinator.until(
      (evs) => evs.find((e) => e.event.kind === 'shift' && e.event.staff.id === patelId && e.event.shift?.busy),
      10000,
      'the coordinator told of the busy state',
    );
    assert.equal(told.event.shift.busy.reason, 'In resus');
    assert.equal(told.event.shift.busy.until - told.event.shift.busy.since, 15 * 60000);
    await inspect(page, 'busy-03-banner');
  });

  it('does not ring for an urgent offer, but counts it as waiting', async () => {
    const { page } = doctor;
    const raised = await nurse.command(taskCmd({ bed: '12', priority: 'urgent', sbar: { situation: 'Tissued cannula, IV antibiotics due 02:00', background: '', assessment: '', recommendation: '' } }));
    assert.equal(raised.type, 'ok', JSON.stringify(raised));
    assert.ok(raised.result.task.offers.some((/** @type {any} */ o) => o.staff.id === patelId), 'still offered to the busy doctor');
    await page.locator('.busy-waiting:visible', { hasText: '1 waiting' }).waitFor();
    // The offer is on the phone (counted above); nothing took the screen or rings.
    assert.equal(await page.locator('section.alert:not([hidden])').count(), 0, 'no full-screen alert');
    assert.equal(await nowPlaying(page), null, 'no sound');
    await inspect(page, 'busy-04-waiting');
  });

  it('still rings full-screen for an emergency', async () => {
    const { page } = doctor;
    const raised = await nurse.command(taskCmd({ bed: '3', priority: 'emergency', sbar: { situation: 'Cannula out, peri-arrest', background: '', assessment: '', recommendation: '' } }));
    assert.equal(raised.type, 'ok', JSON.stringify(raised));
    const alert = page.locator('section.alert.emergency:not([hidden])');
    await alert.waitFor({ timeout: 10000 });
    assert.match((await alert.textContent()) ?? '', /Bed 3/);
    assert.equal(await nowPlaying(page), 'emergency');
    await screenshot(page, 'busy-05-emergency');
    await page.click('section.alert button:text-is("Accept")');
    await page.locator('section.alert').waitFor({ state: 'hidden' });
    assert.equal(await nowPlaying(page), null, 'the urgent offer still waits quietly');
    await page.locator('.busy-waiting:visible', { hasText: '1 waiting' }).waitFor();
  });

  it('opens the waiting list from the count', async () => {
    const { page } = doctor;
    await page.click('.busy-waiting');
    await page.locator('a.tab[data-tab="work"][aria-current="page"]').waitFor();
    await page.locator('article.card', { hasText: 'Bed 12' }).locator('button', { hasText: 'Accept' }).waitFor();
    await screenshot(page, 'busy-06-list');
  });

  it('rings for the waiting offer when busy ends', async () => {
    const { page } = doctor;
    await page.click('.busy-banner button.busy-end');
    const alert = page.locator('section.alert.urgent:not([hidden])');
    await alert.waitFor({ timeout: 10000 });
    assert.match((await alert.textContent()) ?? '', /Bed 12/);
    assert.equal(await nowPlaying(page), 'urgent');
    assert.equal(await page.locator('.busy-banner:visible').count(), 0, 'the banner is gone');
    await coordinator.until(
      (evs) => evs.some((e) => e.event.kind === 'shift' && e.event.staff.id === patelId && e.event.shift && !e.event.shift.busy && e.event.by?.id === patelId),
      10000,
      'the coordinator told busy ended',
    );
    await inspect(page, 'busy-07-rings-after');
  });

  it('queues busy set offline, and is quiet already for what arrives on reconnect', async () => {
    const { page, context } = doctor;
    await page.click('section.alert button:text-is("Accept")');
    await page.locator('section.alert').waitFor({ state: 'hidden' });
    await context.setOffline(true);
    await page.locator('#link-status[data-state="offline"]').waitFor({ timeout: 15000 });
    await page.click('button.busy-start');
    await page.locator('dialog.busy-sheet button.busy-reason', { hasText: 'With a sick patient' }).click();
    await page.locator('.busy-banner:visible .busy-text', { hasText: /^Busy: with a sick patient, until \d\d:\d\d \(not sent yet\)$/ }).waitFor();
    await screenshot(page, 'busy-09-offline-queued');
    // Offered while the phone is away: it comes with the replay, after which
    // the queued set_busy goes to the hub.
    const raised = await nurse.command(taskCmd({ bed: '4', priority: 'soon', requirement: { role: 'fy1' }, sbar: { situation: 'Drug chart review', background: '', assessment: '', recommendation: '' } }));
    assert.equal(raised.type, 'ok', JSON.stringify(raised));
    // Whether the alert ever takes the screen from here on.
    await page.evaluate(() => {
      const w = /** @type {any} */ (window);
      w.__rang = false;
      const alert = /** @type {HTMLElement} */ (document.querySelector('section.alert'));
      new MutationObserver(() => {
        if (!alert.hidden) w.__rang = true;
      }).observe(alert, { attributes: true, attributeFilter: ['hidden', 'class'] });
    });
    await context.setOffline(false);
    await coordinator.until(
      (evs) => evs.some((e) => e.event.kind === 'shift' && e.event.staff.id === patelId && e.event.shift?.busy?.reason === 'With a sick patient'),
      15000,
      'the queued busy state reaching the hub',
    );
    await page.locator('.busy-banner:visible .busy-text', { hasText: /^Busy: with a sick patient, until \d\d:\d\d$/ }).waitFor();
    await page.locator('.busy-waiting:visible', { hasText: '1 waiting' }).waitFor();
    assert.equal(await page.locator('section.alert:not([hidden])').count(), 0, 'the replayed offer is not on screen');
    assert.equal(await page.evaluate(() => /** @type {any} */ (window).__rang), false, 'nor was it for a moment before the hub answered');
    assert.equal(await nowPlaying(page), null);
  });

  it('shows the coordinator who is busy, why and until when', async () => {
    const khan = await connectAs(hub.url, 'sho.khan');
    try {
      const set = await khan.command({ op: 'set_busy', reason: 'Breaking bad news', minutes: 30 });
      assert.equal(set.type, 'ok', JSON.stringify(set));
      const until = set.result.shift.busy.until;
      const dash = await openDashboard(browser, hub.url);
      await logInDashboard(dash.page, 'coord.hale');
      await waitLive(dash.page);
      await dash.page.click('a[data-view="staff"]');
      const row = dash.page.locator(`tr[data-staff="${khan.welcome.me.id}"]`);
      const hhmm = await dash.page.evaluate((t) => new Date(t).toTimeString().slice(0, 5), until);
      await row.locator('.busy-state', { hasText: `Breaking bad news, until ${hhmm}` }).waitFor();
      await screenshot(dash.page, 'busy-08-dashboard');
      // Ended: the row says so live.
      const ended = await khan.command({ op: 'end_busy' });
      assert.equal(ended.type, 'ok', JSON.stringify(ended));
      await row.locator('td:nth-child(5)', { hasText: '—' }).waitFor();
      assert.equal(await row.locator('.busy-state').count(), 0);
      assert.deepEqual(dash.errors, []);
      await dash.context.close();
    } finally {
      khan.close();
    }
  });
});
