// The Raise form never carries a priority over: the nurse chooses one for
// every task (the raise button refuses, and says why, until she has), and an
// emergency goes out only after a second, explicit tap. An ECG once went out
// as an EMERGENCY because the task before it was one.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, logIn, inspect, goTab, phoneBarrier } from './helpers/app.js';
import { connectAs, barrier } from './helpers/protocol.js';

describe('raise form: priority chosen afresh, emergency confirmed', () => {
  /** @type {import('./helpers/hub.js').Hub} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let nurse;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let coordinator;
  /** Ward 7's ECG candidates, connected: the raise confirmation says their phones rang. @type {import('./helpers/protocol.js').ProtocolClient[]} */
  let candidates = [];

  const raisedAtHub = () => coordinator.events.filter((e) => e.event.kind === 'task' && e.event.change === 'raised').map((e) => e.event.task);

  /** @param {string} bed @param {string} situation */
  async function fill(bed, situation) {
    const { page } = nurse;
    await page.fill('#raise-bed', bed);
    await page.fill('#raise-patient', `RX${bed}00000`);
    await page.selectOption('#raise-category', 'ecg');
    await page.fill('#raise-situation', situation);
  }

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    coordinator = await connectAs(hub.url, 'coord.hale');
    candidates = await Promise.all(['hca.brown', 'fy1.patel'].map((u) => connectAs(hub.url, u)));
    nurse = await openPhone(browser, hub.url);
    await logIn(nurse.page, 'nurse.okafor');
    await goTab(nurse.page, 'raise');
  });
  after(async () => {
    coordinator?.close();
    for (const c of candidates) c.close();
    await browser?.close();
    await hub?.stop();
  });

  it('starts with no priority chosen and refuses to raise until one is', async () => {
    const { page } = nurse;
    assert.equal(await page.locator('input[name=priority]:checked').count(), 0, 'no priority is pre-selected');
    await fill('4', 'Chest pain, ECG please');
    await page.click('form.raise button[type=submit]');
    const msg = page.locator('#raise-priority-msg:not([hidden])');
    await msg.waitFor();
    assert.match((await msg.textContent()) ?? '', /Choose a priority/);
    await phoneBarrier(page);
    await barrier(coordinator);
    assert.equal(raisedAtHub().length, 0, 'nothing was sent');
    await inspect(page, '60-raise-no-priority');
  });

  it('raises once a priority is chosen, then clears it for the next task', async () => {
    const { page } = nurse;
    await page.click('label.prio-option.soon');
    assert.equal(await page.locator('#raise-priority-msg').isHidden(), true, 'the refusal goes once a priority is chosen');
    await page.click('form.raise button[type=submit]');
    await page.locator('.form-outcome .notice.ok').waitFor();
    await coordinator.until(() => raisedAtHub().length === 1, 5000, 'the raise');
    assert.equal(raisedAtHub()[0].priority, 'soon');
    assert.equal(await page.locator('input[name=priority]:checked').count(), 0, 'the priority is not kept for the next task');
  });

  it('asks for a second tap before raising an emergency', async () => {
    const { page } = nurse;
    await fill('5', 'Peri-arrest, NEWS2 9');
    await page.click('label.prio-option.emergency');
    const submit = page.locator('form.raise button[type=submit]');
    await submit.click();
    await page.locator('form.raise button.confirm-emergency', { hasText: 'Tap again to raise as EMERGENCY' }).waitFor();
    await page.locator('.form-outcome .notice.pending', { hasText: 'EMERGENCY' }).waitFor();
    await phoneBarrier(page);
    await barrier(coordinator);
    assert.equal(raisedAtHub().length, 1, 'one tap did not raise the emergency');
    await inspect(page, '61-raise-emergency-confirm');

    // Changing the priority disarms it: a tap after that is a fresh first tap.
    await page.click('label.prio-option.urgent');
    await page.click('label.prio-option.emergency');
    assert.equal(await submit.textContent(), 'Raise task');
    await submit.click();
    await page.locator('form.raise button.confirm-emergency').waitFor();
    await submit.click();
    await page.locator('.form-outcome .notice.ok').waitFor();
    await coordinator.until(() => raisedAtHub().length === 2, 5000, 'the emergency');
    assert.equal(raisedAtHub()[1].priority, 'emergency');
    assert.equal(await submit.textContent(), 'Raise task');
    assert.equal(await page.locator('input[name=priority]:checked').count(), 0, 'cleared after the emergency too');
    await inspect(page, '62-raise-emergency-sent');
  });

  it('had no script errors', () => {
    assert.deepEqual(nurse.errors, []);
  });
});
