// With the hub out of reach a doctor tapped Accept and the overlay moved on
// to the next offer as if it had worked. The overlay now says whether the
// hub can be reached, and an answer given while it cannot stays on screen
// marked queued (not done), with Accept held, until the hub has it.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, logIn, inspect, phoneBarrier } from './helpers/app.js';
import { connectAs, barrier } from './helpers/protocol.js';

/** @param {string} bed @param {string} priority @param {string} situation */
const cannula = (bed, priority, situation) => ({
  op: 'raise_task', ward: 'w7', bed, patient: `RX${bed}22222`, category: 'cannula', priority,
  requirement: { skill: 'cannulation' }, sbar: { situation, background: '', assessment: '', recommendation: '' },
});

describe('the alert overlay is honest about the link', () => {
  /** @type {import('./helpers/hub.js').Hub} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let doctor;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let nurse;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let coordinator;
  /** @type {string} */ let first;

  const acceptedAtHub = () => coordinator.events.filter((e) => e.event.kind === 'task' && e.event.change === 'accepted' && e.event.task.id === first);

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    nurse = await connectAs(hub.url, 'nurse.okafor');
    coordinator = await connectAs(hub.url, 'coord.hale');
    doctor = await openPhone(browser, hub.url);
    await logIn(doctor.page, 'fy1.patel');
  });
  after(async () => {
    nurse?.close();
    coordinator?.close();
    await browser?.close();
    await hub?.stop();
  });

  it('shows the link as online on the alert', async () => {
    const a = await nurse.command(cannula('9', 'urgent', 'Tissued cannula, IV antibiotics due'));
    assert.equal(a.type, 'ok', JSON.stringify(a));
    first = a.result.task.id;
    const b = await nurse.command(cannula('10', 'routine', 'Cannula for the morning CT'));
    assert.equal(b.type, 'ok', JSON.stringify(b));
    const { page } = doctor;
    const alert = page.locator('section.alert.urgent:not([hidden])', { hasText: 'Bed 9' });
    await alert.waitFor();
    await alert.locator('.alert-link[data-state="online"]', { hasText: 'Online' }).waitFor();
    await inspect(page, '67-alert-online');
  });

  it('shows offline on the alert, and an Accept tapped offline as queued, not done', async () => {
    const { page } = doctor;
    await doctor.context.setOffline(true);
    const alert = page.locator('section.alert:not([hidden])');
    await alert.locator('.alert-link:not([data-state="online"])', { hasText: /Offline|Reconnecting/ }).waitFor();
    await page.click('section.alert button:text-is("Accept")');
    await alert.locator('.alert-queued', { hasText: 'Queued, NOT sent: Accept Ward 7 (Medicine) bed 9' }).waitFor();
    // Still the same offer: it did not move on to bed 10 as if accepted.
    assert.match((await alert.textContent()) ?? '', /Bed 9/);
    assert.doesNotMatch((await alert.textContent()) ?? '', /Bed 10/);
    assert.equal(await alert.locator('button:text-is("Accept")').isDisabled(), true, 'Accept is not offered twice');
    assert.equal(await page.evaluate(() => /** @type {any} */ (window).wardpage.sound.nowPlaying()), null, 'answered: no longer ringing');
    await barrier(coordinator);
    assert.equal(acceptedAtHub().length, 0, 'the hub has not been told');
    await inspect(page, '68-alert-offline-queued');
  });

  it('sends it on reconnect, and only then moves on to the next offer', async () => {
    const { page } = doctor;
    await doctor.context.setOffline(false);
    // The shell's status line is hidden under the alert: the alert's own says it.
    await page.locator('section.alert .alert-link[data-state="online"]').waitFor({ timeout: 15000 });
    await coordinator.until(() => acceptedAtHub().length === 1, 10000, 'the queued accept');
    // Confirmed: the task she accepted stays on screen, marked accepted,
    // and she moves on to the next offer herself.
    const accepted = page.locator('section.alert.accepted:not([hidden])', { hasText: 'Bed 9' });
    await accepted.locator('.alert-kicker', { hasText: 'Accepted: it is in My work' }).waitFor();
    await accepted.locator('button', { hasText: 'Next alert (1 waiting)' }).click();
    await page.locator('section.alert.routine:not([hidden])', { hasText: 'Bed 10' }).waitFor();
    await page.locator(`article[data-task="${first}"] .state`, { hasText: 'Accepted' }).waitFor({ state: 'attached' }); // under the next alert
    await phoneBarrier(page);
    assert.equal(await page.evaluate(() => /** @type {any} */ (window).wardpage.outbox.size), 0);
    await inspect(page, '69-alert-after-reconnect');
  });

  it('had no script errors', () => {
    assert.deepEqual(doctor.errors, []);
  });
});
