// Pages a tired doctor can answer (issue 17). Nurse Okafor pages Dr Patel
// from her phone: the doctor's alert says which ward the nurse is on, by the
// name the hospital gives it, and offers the number as a big tel: link; one
// tap on "On my way" acknowledges it, and the nurse's phone says so (a
// toast that names the reply, and the reply on her pages list). A second
// reply from the Pages list replaces the first; the coordinator's dashboard
// shows the replies where it shows pages, and answers a page to her in one
// tap too. With the nurse's phone in the background, a reply comes as a
// system notification (a toast there is never seen). A callback without a number is refused by the form before it is
// sent.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, logIn, inspect, goTab, screenshot } from './helpers/app.js';
import { openDashboard, logInDashboard, waitLive } from './dashboard-helpers/dashboard.js';
import { connectAs } from './helpers/protocol.js';
import { until } from './helpers/faults.js';

describe('pages: the ward, a number to call, one-tap replies', () => {
  /** @type {Awaited<ReturnType<typeof startHub>>} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let nurse;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let doctor;
  /** @type {Awaited<ReturnType<typeof openDashboard>>} */ let dash;
  /** @type {string} */ let pageId;

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    nurse = await openPhone(browser, hub.url);
    await logIn(nurse.page, 'nurse.okafor');
    doctor = await openPhone(browser, hub.url);
    await logIn(doctor.page, 'fy1.patel');
    dash = await openDashboard(browser, hub.url);
    await logInDashboard(dash.page, 'coord.hale');
    await waitLive(dash.page);
  });
  after(async () => {
    await browser?.close();
    await hub?.stop();
  });

  it('refuses a callback without a number before sending it', async () => {
    const { page } = nurse;
    await goTab(page, 'pages');
    await page.click('details.compose > summary');
    const patel = await page.locator('#page-person option', { hasText: 'Dr Asha Patel' }).getAttribute('value');
    await page.selectOption('#page-person', patel);
    await page.fill('#page-callback', 'Ward 7 bay 2');
    await page.click('form.page-form button[type=submit]');
    const why = await page.locator('#page-callback').evaluate((el) => /** @type {HTMLInputElement} */ (el).validationMessage);
    assert.match(why, /number to call back on/);
    assert.equal(await page.locator('.form-outcome .notice').count(), 0, 'nothing was sent');
  });

  it('shows the doctor the nurse’s ward and a big tel: link', async () => {
    const { page } = nurse;
    await page.fill('#page-callback', 'Ward 7 bay 2, ext 4412');
    await page.locator('#page-dial', { hasText: 'They will see: Call 4412' }).waitFor();
    assert.equal(await page.inputValue('#page-ward'), 'w7', 'her ward, from her shift');
    await page.fill('#page-message', 'Bed 12 NEWS 7, please come');
    await page.click('form.page-form button[type=submit]');
    await page.locator('.form-outcome .notice.ok', { hasText: 'Page sent to Dr Asha Patel' }).waitFor();

    const alert = doctor.page.locator('section.alert.urgent:not([hidden])');
    await alert.waitFor();
    assert.equal(await alert.locator('.alert-from-ward').textContent(), 'Ward 7 (Medicine)');
    assert.doesNotMatch((await alert.textContent()) ?? '', /\bw7\b/, 'never the ward code');
    const call = alert.locator('a.call-link');
    assert.equal(await call.getAttribute('href'), 'tel:4412');
    assert.equal(await call.textContent(), 'Call 4412');
    assert.match((await alert.locator('.call-note').textContent()) ?? '', /Ward 7 bay 2, ext 4412/);
    const box = await call.boundingBox();
    assert.ok(box && box.height >= 64, `the call link is big (${box?.height} px)`);
    for (const label of ['5 min', 'Call me', 'On my way']) {
      assert.equal(await alert.locator('.alert-replies button', { hasText: label }).count(), 1, label);
    }
    await inspect(doctor.page, '60-alert-page-ward-call');
  });

  it('answers in one tap, and the nurse’s phone says so', async () => {
    const toast = nurse.page.locator('.toast', { hasText: 'Dr Asha Patel: On my way' });
    await doctor.page.click('section.alert .alert-replies button:text-is("On my way")');
    await doctor.page.locator('section.alert').waitFor({ state: 'hidden' });
    await toast.waitFor();
    const card = nurse.page.locator('#pages-out article.card').first();
    pageId = (await card.getAttribute('data-page')) ?? '';
    await card.locator('.page-reply', { hasText: /^Dr Asha Patel: On my way, \d\d:\d\d$/ }).waitFor();
    await card.locator('.state', { hasText: 'Acknowledged' }).waitFor();
    await card.locator('.receipt.yes', { hasText: 'Acknowledged' }).waitFor();
    await inspect(nurse.page, '61-pages-sender-reply');
  });

  it('lets the doctor send another reply from the Pages list', async () => {
    const { page } = doctor;
    await goTab(page, 'pages');
    const card = page.locator(`#pages-in article.card[data-page="${pageId}"]`);
    await card.locator('.who.done', { hasText: 'you replied “On my way”' }).waitFor();
    assert.match((await card.textContent()) ?? '', /From Nurse Sam Okafor · Ward 7 \(Medicine\)/);
    assert.equal(await card.locator('a.call-link').getAttribute('href'), 'tel:4412');
    await inspect(page, '62-pages-recipient-replied');
    await card.locator('.page-reply-buttons button', { hasText: '5 min' }).click();
    await card.locator('.who.done', { hasText: 'you replied “5 min”' }).waitFor();
    const sent = nurse.page.locator(`#pages-out article.card[data-page="${pageId}"]`);
    await sent.locator('.page-reply', { hasText: /^Dr Asha Patel: 5 min, \d\d:\d\d$/ }).waitFor();
    await nurse.page.locator('.toast', { hasText: 'Dr Asha Patel: 5 min' }).waitFor();
  });

  it('shows the coordinator the replies where it shows pages', async () => {
    const item = dash.page.locator(`.answered-list li[data-page="${pageId}"]`);
    await item.waitFor();
    const text = (await item.textContent()) ?? '';
    assert.match(text, /Nurse Sam Okafor · Ward 7 \(Medicine\) → Dr Asha Patel/);
    assert.match(text, /Dr Asha Patel: 5 min, \d\d:\d\d/);
    await screenshot(dash.page, '63-dashboard-answered-pages');
  });

  it('tells the nurse of a reply by a system notification while her phone is in the background', async () => {
    const { page, context } = nurse;
    await context.grantPermissions(['notifications'], { origin: hub.url });
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    // A headless tab cannot be sent to the background, so the page is told it is hidden.
    await page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    const card = doctor.page.locator(`#pages-in article.card[data-page="${pageId}"]`);
    await card.locator('.page-reply-buttons button', { hasText: 'Call me' }).click();
    /** @type {{title: string, body: string}[]} */
    const notes = await until(
      () =>
        page.evaluate(async () => {
          const reg = await navigator.serviceWorker.ready;
          const list = (await reg.getNotifications()).map((n) => ({ title: n.title, body: n.body }));
          return list.some((n) => n.title.includes('Call me')) ? list : null;
        }),
      'the reply notification',
      10000,
    );
    const note = notes.find((n) => n.title.includes('Call me'));
    assert.equal(note?.title, 'Dr Asha Patel: Call me');
    assert.equal(note?.body, 'Bed 12 NEWS 7, please come');
    await page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
      document.dispatchEvent(new Event('visibilitychange'));
    });
  });

  it('lets the coordinator answer a page to her in one tap', async () => {
    const charge = await connectAs(hub.url, 'nic.grant');
    try {
      const dir = await charge.command({ op: 'directory' });
      const to = dir.result.staff.find((/** @type {any} */ s) => s.login === 'coord.hale').id;
      const sent = await charge.command({ op: 'send_page', target: { staff: to }, priority: 'urgent', callback: 'bleep 2231', message: 'Need a second nurse for bed 3' });
      assert.equal(sent.type, 'ok', JSON.stringify(sent));
      const item = dash.page.locator(`#attention [data-attention="m:${sent.result.page.id}"]`);
      await item.waitFor();
      await screenshot(dash.page, '64-dashboard-page-to-coordinator');
      await item.locator('button[data-reply="call_me"]').click();
      await item.waitFor({ state: 'detached' });
      const ev = await charge.until(
        (evs) => evs.find((e) => e.event.kind === 'page' && e.event.page.id === sent.result.page.id && e.event.change === 'acknowledged'),
        5000,
        'the charge nurse hears the reply',
      );
      assert.equal(ev.event.page.recipients[0].reply, 'call_me');
    } finally {
      charge.close();
    }
  });

  it('had no script errors', () => {
    assert.deepEqual([...nurse.errors, ...doctor.errors], []);
  });
});
