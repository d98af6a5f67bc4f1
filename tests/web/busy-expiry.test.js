// Busy ends by itself at its time (issue 17: "holds back non-emergency
// alerts ... until it is ended or expires"), in a browser: Dr Patel says she
// is busy for the shortest time her phone offers; an urgent offer waits
// quietly; at the busy state's time the hub ends it, her phone rings for the
// offer still waiting, and the coordinator's Busy column clears, with nobody
// touching either screen.
//
// The hub takes 5 to 120 minutes and cuts busy at the end of the shift. So
// that the test waits well under a minute rather than 15, her shift is set
// to end shortly when she taps, then extended: a new `start_shift` keeps the
// busy state and its (cut) time, as PROTOCOL.md says, and the hub's own
// timer ends it. Every wait below is for the observable change.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, logIn, inspect, waitOnline, screenshot } from './helpers/app.js';
import { connectAs } from './helpers/protocol.js';
import { openDashboard, logInDashboard, waitLive, taskCmd } from './dashboard-helpers/dashboard.js';

/** How long her busy state lasts here: the shift's end when she taps. */
const BUSY_MS = 40000;
/** How long past its time the hub may take to end it, and her phone to ring. */
const SLACK_MS = 15000;

/** @param {import('playwright-core').Page} page */
const nowPlaying = (page) => page.evaluate(() => /** @type {any} */ (window).wardpage.sound.nowPlaying());

describe('a busy state that runs out', () => {
  /** @type {Awaited<ReturnType<typeof startHub>>} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let doctor;
  /** @type {Awaited<ReturnType<typeof openDashboard>>} */ let dash;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let nurse;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let coordinator;
  /** @type {string} */ let patelId;
  /** When the hub says her busy state ends. */ let until = 0;

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    nurse = await connectAs(hub.url, 'nurse.okafor');
    coordinator = await connectAs(hub.url, 'coord.hale');
    doctor = await openPhone(browser, hub.url);
    await logIn(doctor.page, 'fy1.patel');
    await waitOnline(doctor.page);
    patelId = await doctor.page.evaluate(() => /** @type {any} */ (window).wardpage.store.me.id);
    dash = await openDashboard(browser, hub.url);
    await logInDashboard(dash.page, 'coord.hale');
    await waitLive(dash.page);
    await dash.page.click('a[data-view="staff"]');
  });
  after(async () => {
    nurse?.close();
    coordinator?.close();
    await browser?.close();
    await hub?.stop();
  });

  /** @param {number} endsAt */
  async function shiftUntil(endsAt) {
    const answer = await coordinator.command({ op: 'start_shift', staff: patelId, role: 'fy1', wards: ['w7', 'w8'], ends_at: endsAt });
    assert.equal(answer.type, 'ok', JSON.stringify(answer));
    return answer.result.shift;
  }

  it('sets busy for the shortest time offered, cut at her shift’s end', async () => {
    const { page } = doctor;
    await shiftUntil(Date.now() + BUSY_MS);
    await page.click('button.busy-start');
    const sheet = page.locator('dialog.busy-sheet');
    await sheet.waitFor();
    const lengths = await sheet.locator('.busy-length').evaluateAll((bs) => bs.map((b) => Number(/** @type {HTMLElement} */ (b).dataset.minutes)));
    const shortest = Math.min(...lengths);
    await sheet.locator(`.busy-length[data-minutes="${shortest}"]`).click();
    await sheet.locator('button.busy-reason', { hasText: 'In resus' }).click();
    const told = await coordinator.until(
      (evs) => evs.find((e) => e.event.kind === 'shift' && e.event.staff.id === patelId && e.event.shift?.busy),
      10000,
      'the hub has her busy',
    );
    until = told.event.shift.busy.until;
    assert.equal(until, told.event.shift.ends_at, 'cut at the end of her shift');
    // Her shift goes on; the busy state keeps its time.
    const longer = await shiftUntil(Date.now() + 8 * 3600000);
    assert.equal(longer.busy?.until, until, 'a new start_shift keeps the busy state and its time');
    const hhmm = await page.evaluate((t) => new Date(t).toTimeString().slice(0, 5), until);
    await page.locator('.busy-banner:visible .busy-text', { hasText: `Busy: in resus, until ${hhmm}` }).waitFor();
    await dash.page.locator(`tr[data-staff="${patelId}"] .busy-state`, { hasText: `In resus, until ${hhmm}` }).waitFor();
  });

  it('holds an urgent offer back while busy', async () => {
    const { page } = doctor;
    const raised = await nurse.command(taskCmd({ bed: '12', priority: 'urgent', sbar: { situation: 'Tissued cannula, IV antibiotics due 02:00', background: '', assessment: '', recommendation: '' } }));
    assert.equal(raised.type, 'ok', JSON.stringify(raised));
    await page.locator('.busy-waiting:visible', { hasText: '1 waiting' }).waitFor();
    assert.equal(await page.locator('section.alert:not([hidden])').count(), 0, 'no full-screen alert');
    assert.equal(await nowPlaying(page), null, 'no sound');
    assert.ok(Date.now() < until, 'still within the busy time (else this proves nothing)');
  });

  it('rings for it when the hub ends busy at its time, and the dashboard’s Busy column clears', async () => {
    const { page } = doctor;
    const timeout = until - Date.now() + SLACK_MS;
    const alert = page.locator('section.alert.urgent:not([hidden])');
    await alert.waitFor({ timeout });
    const rangAt = Date.now();
    assert.ok(rangAt >= until - 1000, `rang at its time, not before (${until - rangAt} ms early)`);
    assert.match((await alert.textContent()) ?? '', /Bed 12/);
    assert.equal(await nowPlaying(page), 'urgent');
    assert.equal(await page.locator('.busy-banner:visible').count(), 0, 'the banner is gone');
    // The hub ended it (a shift event by nobody), not a tap.
    await coordinator.until(
      (evs) => evs.some((e) => e.event.kind === 'shift' && e.event.staff.id === patelId && e.event.shift && !e.event.shift.busy && e.event.by === null),
      SLACK_MS,
      'the hub ending her busy state',
    );
    const row = dash.page.locator(`tr[data-staff="${patelId}"]`);
    await row.locator('td:nth-child(5)', { hasText: /^—$/ }).waitFor({ timeout: SLACK_MS });
    assert.equal(await row.locator('.busy-state').count(), 0);
    await inspect(page, 'busy-10-expired-rings');
    await screenshot(dash.page, 'busy-11-expired-dashboard');
  });

  it('had no script errors', () => {
    assert.deepEqual(doctor.errors, []);
    assert.deepEqual(dash.errors, []);
  });
});
