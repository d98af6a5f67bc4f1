// A night on Ward 7: Nurse Okafor raises a cannula task from her phone; it is
// offered to everyone with the skill who covers the ward; Dr Khan declines
// (from his own client); Dr Patel's phone takes over the screen, rings, she
// accepts; the nurse sees who accepted. Every screen on the way is scanned for
// accessibility and photographed.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, logIn, inspect, goTab, watchLayoutShift, layoutShift } from './helpers/app.js';
import { connectAs } from './helpers/protocol.js';

describe('raise a task, get it accepted', () => {
  /** @type {Awaited<ReturnType<typeof startHub>>} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let nurse;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let doctor;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let khan;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let coordinator;

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    coordinator = await connectAs(hub.url, 'coord.hale');
    khan = await connectAs(hub.url, 'sho.khan');
  });
  after(async () => {
    khan?.close();
    coordinator?.close();
    await browser?.close();
    await hub?.stop();
  });

  it('shows an accessible login screen', async () => {
    nurse = await openPhone(browser, hub.url);
    await inspect(nurse.page, '01-login');
  });

  it('logs both phones in', async () => {
    await logIn(nurse.page, 'nurse.okafor');
    doctor = await openPhone(browser, hub.url);
    await logIn(doctor.page, 'fy1.patel');
    await assert.doesNotReject(doctor.page.locator('.me-name', { hasText: 'Dr Asha Patel' }).waitFor());
    await inspect(doctor.page, '02-work-empty');
    await watchLayoutShift(doctor.page);
  });

  it('raises a task with the ward pre-filled from the nurse’s shift', async () => {
    const { page } = nurse;
    await goTab(page, 'raise');
    assert.equal(await page.inputValue('#raise-ward'), 'w7', 'ward comes from the shift');
    await inspect(page, '03-raise-form');
    await page.fill('#raise-bed', '12');
    await page.fill('#raise-patient', 'RX1234567');
    await page.selectOption('#raise-category', 'cannula');
    assert.equal(await page.inputValue('#raise-need'), 'skill:cannulation', 'category suggests the skill');
    await page.click('label.prio-option.urgent');
    await page.fill('#raise-situation', 'Tissued cannula, IV antibiotics due 02:00');
    await page.fill('#raise-background', 'Day 2 of IV co-amoxiclav for CAP');
    await page.fill('#raise-assessment', 'Obs stable, NEWS2 2');
    await page.fill('#raise-recommendation', 'Re-site cannula before 02:00');
    assert.equal(await page.getAttribute('#raise-situation', 'maxlength'), '1000');
    await page.click('form.raise button[type=submit]');
    const confirmation = page.locator('.form-outcome .notice.ok');
    await confirmation.waitFor();
    const text = await confirmation.textContent();
    assert.match(text ?? '', /Raised Ward 7 \(Medicine\) bed 12\. Offered to .*Dr Asha Patel/);
    assert.match(text ?? '', /Dr Omar Khan/);
    assert.match(text ?? '', /Niamh Murphy/);
    await inspect(page, '04-raise-confirmed');
  });

  it('rings the doctor’s phone with a full-screen urgent alert', async () => {
    const { page } = doctor;
    const alert = page.locator('section.alert.urgent:not([hidden])');
    await alert.waitFor({ timeout: 10000 });
    assert.match((await alert.textContent()) ?? '', /Bed 12/);
    assert.match((await alert.textContent()) ?? '', /Tissued cannula/);
    assert.equal(await page.evaluate(() => /** @type {any} */ (window).wardpage.sound.nowPlaying()), 'urgent', 'the urgent sound loops');
    assert.equal(await page.locator('section.alert button', { hasText: 'Later' }).count(), 1, 'a non-emergency offer can be silenced');
    assert.equal(await layoutShift(page), 0, 'the alert arrives without moving anything');
    await inspect(page, '05-alert-offer');
  });

  it('shows the nurse who declined, with the reason', async () => {
    const raised = coordinator.events.find((e) => e.event.kind === 'task' && e.event.change === 'raised');
    assert.ok(raised, 'the coordinator saw the task raised');
    const answer = await khan.command({ op: 'decline', task: raised.event.task.id, reason: 'In resus on AMU' });
    assert.equal(answer.type, 'ok', JSON.stringify(answer));
    await goTab(nurse.page, 'raised');
    await nurse.page.locator('.who.declined', { hasText: 'Declined by Dr Omar Khan: “In resus on AMU”' }).waitFor();
    await nurse.page.locator('.who', { hasText: /Offered to .*Dr Asha Patel/ }).waitFor();
  });

  it('lets the doctor accept from the alert, which then stops ringing', async () => {
    const { page } = doctor;
    await page.click('section.alert button:text-is("Accept")');
    await page.locator('section.alert').waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => /** @type {any} */ (window).wardpage.sound.nowPlaying()), null);
    const card = page.locator('article.card', { hasText: 'Bed 12' });
    await card.locator('.state', { hasText: 'Accepted' }).waitFor();
    await card.locator('button', { hasText: 'Start' }).waitFor();
    await card.locator('button', { hasText: 'Hand back' }).waitFor();
    await card.locator('summary', { hasText: 'SBAR' }).click();
    await inspect(page, '06-work-accepted');
  });

  it('tells the nurse who accepted', async () => {
    const { page } = nurse;
    await page.locator('.who.accepted', { hasText: 'Accepted by Dr Asha Patel' }).waitFor();
    await inspect(page, '07-raised-accepted');
  });

  it('recorded exactly one acceptance at the hub', async () => {
    await coordinator.until((evs) => evs.some((e) => e.event.kind === 'task' && e.event.change === 'accepted'), 5000, 'accepted event');
    const accepted = coordinator.events.filter((e) => e.event.kind === 'task' && e.event.change === 'accepted');
    assert.equal(accepted.length, 1);
    assert.equal(accepted[0].event.task.assignee.name, 'Dr Asha Patel');
  });

  it('lets the doctor hand the task back with a reason', async () => {
    const { page } = doctor;
    const card = page.locator('article.card', { hasText: 'Bed 12' });
    await card.locator('button', { hasText: 'Hand back' }).click();
    await page.fill('dialog.ask textarea', 'Called to a peri-arrest on Ward 8');
    await page.click('dialog.ask button[type=submit]');
    await coordinator.until((evs) => evs.some((e) => e.event.kind === 'task' && e.event.change === 'handed_back'), 5000, 'handed back');
    const back = coordinator.events.find((e) => e.event.kind === 'task' && e.event.change === 'handed_back').event.task;
    assert.ok(['offering', 'no_one_accepted'].includes(back.state), back.state);
    // Her urgent task handed back rings the nurse's phone, with the reason.
    const alert = nurse.page.locator('section.alert.urgent:not([hidden])', { hasText: 'handed back by Dr Asha Patel' });
    await alert.locator('.alert-reason', { hasText: 'Called to a peri-arrest on Ward 8' }).waitFor();
    await nurse.page.click('section.alert button:text-is("Seen")');
    await nurse.page.locator('section.alert').waitFor({ state: 'hidden' });
    await nurse.page.locator('article.card .state', { hasText: back.state === 'offering' ? 'Offering' : 'No one accepted' }).waitFor();
  });

  it('lets the nurse cancel what she raised', async () => {
    const { page } = nurse;
    await page.locator('article.card button', { hasText: 'Cancel task' }).click();
    await page.click('dialog.ask button.chip:text-is("No longer needed")');
    await page.click('dialog.ask button[type=submit]');
    await page.locator('.who', { hasText: 'Cancelled: No longer needed' }).waitFor();
    await page.locator('.subhead', { hasText: 'Closed' }).waitFor();
    // Nothing rings for a cancelled task.
    await doctor.page.waitForFunction(() => /** @type {any} */ (window).wardpage.sound.nowPlaying() === null);
    await inspect(page, '08-raised-cancelled');
  });

  it('had no script errors on either phone', () => {
    assert.deepEqual(nurse.errors, []);
    assert.deepEqual(doctor.errors, []);
  });
});
