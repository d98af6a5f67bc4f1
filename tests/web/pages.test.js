// Paging, the bleep's replacement: Nurse Okafor pages Dr Patel from her phone
// with a callback and a message; the doctor's phone takes over the screen;
// the nurse watches the three receipts arrive (delivered when the phone has
// the page, read when it was on screen, acknowledged when the doctor tapped).
// An emergency page cannot be put off: its alert has no "Later".

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, logIn, inspect, goTab, phoneBarrier } from './helpers/app.js';
import { connectAs, barrier } from './helpers/protocol.js';
import { until } from './helpers/faults.js';

describe('pages with receipts', () => {
  /** @type {Awaited<ReturnType<typeof startHub>>} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let nurse;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let doctor;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let charge;

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    charge = await connectAs(hub.url, 'nic.grant');
  });
  after(async () => {
    charge?.close();
    await browser?.close();
    await hub?.stop();
  });

  it('sends a page to a person from the Pages screen', async () => {
    nurse = await openPhone(browser, hub.url);
    await logIn(nurse.page, 'nurse.okafor');
    doctor = await openPhone(browser, hub.url);
    await logIn(doctor.page, 'fy1.patel');
    const { page } = nurse;
    await goTab(page, 'pages');
    await inspect(page, '20-pages-empty');
    await page.click('details.compose > summary');
    await page.locator('#page-person option', { hasText: 'Dr Asha Patel' }).waitFor({ state: 'attached' });
    const patel = await page.locator('#page-person option', { hasText: 'Dr Asha Patel' }).getAttribute('value');
    await page.selectOption('#page-person', patel);
    await page.selectOption('#page-priority', 'urgent');
    // Where she is comes from her shift; the callback is a number she types.
    assert.equal(await page.inputValue('#page-ward'), 'w7', 'ward pre-chosen from the shift');
    assert.equal(await page.inputValue('#page-callback'), '', 'no callback without a number is pre-filled');
    await page.fill('#page-callback', 'ext 4471, Ward 7 desk');
    await page.locator('#page-dial', { hasText: 'They will see: Call 4471' }).waitFor();
    await page.fill('#page-message', 'Bed 12 NEWS 7, please come');
    await inspect(page, '21-page-compose');
    await page.click('form.page-form button[type=submit]');
    await page.locator('.form-outcome .notice.ok', { hasText: 'Page sent to Dr Asha Patel' }).waitFor();
  });

  it('takes over the doctor’s screen', async () => {
    const { page } = doctor;
    const alert = page.locator('section.alert.urgent:not([hidden])');
    await alert.waitFor();
    const text = (await alert.textContent()) ?? '';
    assert.match(text, /From Nurse Sam Okafor/);
    assert.match(text, /ext 4471, Ward 7 desk/);
    assert.match(text, /Ward 7 \(Medicine\)/, 'the sender\u2019s ward, by its name');
    assert.match(text, /Bed 12 NEWS 7, please come/);
    assert.equal(await page.evaluate(() => /** @type {any} */ (window).wardpage.sound.nowPlaying()), 'urgent');
    await inspect(page, '22-alert-page');
  });

  it('shows the sender delivered and read before any acknowledgement', async () => {
    const card = nurse.page.locator('#pages-out article.card').first();
    await card.locator('.receipt.yes', { hasText: 'Delivered' }).waitFor();
    await card.locator('.receipt.yes', { hasText: 'Read' }).waitFor();
    assert.equal(await card.locator('.receipt.no', { hasText: 'not acknowledged' }).count(), 1);
    await inspect(nurse.page, '23-pages-sender-read');
  });

  it('acknowledges, silences the alert and shows the sender', async () => {
    await doctor.page.click('section.alert button:text-is("Acknowledge")');
    await doctor.page.locator('section.alert').waitFor({ state: 'hidden' });
    assert.equal(await doctor.page.evaluate(() => /** @type {any} */ (window).wardpage.sound.nowPlaying()), null);
    const card = nurse.page.locator('#pages-out article.card').first();
    await card.locator('.receipt.yes', { hasText: 'Acknowledged' }).waitFor();
    await card.locator('.state', { hasText: 'Acknowledged' }).waitFor();
    await inspect(nurse.page, '24-pages-sender-acked');
    await goTab(doctor.page, 'pages');
    await doctor.page.locator('#pages-in .who.done', { hasText: 'You acknowledged at' }).waitFor();
    await inspect(doctor.page, '25-pages-recipient');
  });

  it('rings an emergency page that cannot be put off', async () => {
    const me = await doctor.page.evaluate(() => /** @type {any} */ (window).wardpage.store.me.id);
    const sent = await charge.command({ op: 'send_page', target: { staff: me }, priority: 'emergency', callback: 'Ward 7 bay 2, ext 4412', message: 'Peri-arrest, bed 4' });
    assert.equal(sent.type, 'ok', JSON.stringify(sent));
    const { page } = doctor;
    const alert = page.locator('section.alert.emergency:not([hidden])');
    await alert.waitFor();
    assert.equal(await page.evaluate(() => /** @type {any} */ (window).wardpage.sound.nowPlaying()), 'emergency');
    assert.equal(await alert.locator('button', { hasText: 'Later' }).count(), 0, 'no way to put an emergency off');
    await page.keyboard.press('Escape');
    assert.equal(await alert.isVisible(), true, 'Escape does not dismiss it');
    await inspect(page, '26-alert-emergency');
    await page.click('section.alert button:text-is("Acknowledge")');
    await page.locator('section.alert').waitFor({ state: 'hidden' });
    await charge.until(
      (evs) => evs.some((e) => e.event.kind === 'page' && e.event.page.id === sent.result.page.id && e.event.change === 'acknowledged'),
      5000,
      'the charge nurse sees the acknowledgement',
    );
  });

  it('uses a system notification while the app is in the background, and only then marks read', async () => {
    const { page, context } = doctor;
    await context.grantPermissions(['notifications'], { origin: hub.url });
    // A headless tab cannot be sent to the background, so the page is told it
    // is hidden; the notification path (service worker) is the real one.
    await page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    const me = await page.evaluate(() => /** @type {any} */ (window).wardpage.store.me.id);
    const sent = await charge.command({ op: 'send_page', target: { staff: me }, priority: 'soon', callback: 'ext 2210', message: 'Family asking for an update, bed 9' });
    assert.equal(sent.type, 'ok', JSON.stringify(sent));
    const pageId = sent.result.page.id;
    // The notification is shown by the service worker: ask it until it is there.
    /** @type {{title: string, body: string}} */
    const note = await until(
      () =>
        page.evaluate(async (tag) => {
          const reg = await navigator.serviceWorker.ready;
          const list = await reg.getNotifications({ tag });
          return list.length ? { title: list[0].title, body: list[0].body } : null;
        }, `page:${pageId}`),
      'the system notification',
      10000,
    );
    assert.equal(note?.title, 'Page from Charge Nurse Ian Grant');
    assert.match(note?.body ?? '', /Family asking for an update, bed 9/);
    await charge.until((evs) => evs.some((e) => e.event.kind === 'page' && e.event.page.id === pageId && e.event.change === 'delivered'), 5000, 'delivered');
    // A `page_read` sent by mistake would be in by now: the hub has handled
    // all the phone sent, and the charge nurse has seen every event since.
    await phoneBarrier(page);
    await barrier(charge);
    const read = () => charge.events.filter((e) => e.event.kind === 'page' && e.event.page.id === pageId && e.event.change === 'read');
    assert.equal(read().length, 0, 'not read while nobody could see it');
    await page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await charge.until(() => read().length === 1, 5000, 'read once it is on screen');
    await page.click('section.alert button:text-is("Acknowledge")');
    await page.locator('section.alert').waitFor({ state: 'hidden' });
  });

  it('had no script errors', () => {
    assert.deepEqual(nurse.errors, []);
    assert.deepEqual(doctor.errors, []);
  });
});
