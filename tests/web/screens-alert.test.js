// The full-screen offer alert a doctor judges without opening the card
// (issue 17): the SBAR's background, assessment and recommendation under
// their labels, a long part cut with the whole text a tap away, nothing for
// a task without them; the ward as the hospital writes it ("Ward 7
// (Medicine)", never `w7`) on the first alert after a fresh login and in
// the toasts that login replays, and in a system notification that rings
// before the wards' names have come; text of 16 px and up, nothing for axe; and
// on a phone on its side (640x360) the text keeps most of the height while
// Accept stays in sight, as it does in portrait under a long SBAR.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, screenshot } from './helpers/app.js';
import { connectAs } from './helpers/protocol.js';
import { taskCmd } from './dashboard-helpers/dashboard.js';
import { heightShare, fullyInSight } from './helpers/legibility.js';
import { logInCovered, lookAt } from './helpers/screens.js';
import { routeLink, until } from './helpers/faults.js';

const BACKGROUND =
  'Admitted three days ago with community-acquired pneumonia. COPD on home oxygen 2 L, type 2 diabetes on insulin, CKD stage 3. ' +
  'Lives alone; DNACPR in place, discussed with his daughter on Monday. Allergic to penicillin (rash). Last seen by the day team at 17:00.';
const ASSESSMENT = 'RR 24, SpO2 88% on 2 L, NEWS2 7. New confusion since 22:00. I am worried he is tiring.';
const RECOMMENDATION = 'Please review within 30 minutes; consider an ABG.';

describe('the offer alert a doctor can judge', () => {
  /** @type {Awaited<ReturnType<typeof startHub>>} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let nurse;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let doctor;
  const alert = () => doctor.page.locator('section.alert:not([hidden])');

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    nurse = await connectAs(hub.url, 'nurse.okafor');
    const sbar = { situation: 'Bed 9: more breathless, new confusion', background: BACKGROUND, assessment: ASSESSMENT, recommendation: RECOMMENDATION };
    const r = await nurse.command(taskCmd({ bed: '9', priority: 'urgent', category: 'medical_review', requirement: { role: 'fy1' }, sbar }));
    assert.equal(r.type, 'ok', JSON.stringify(r));
  });
  after(async () => {
    nurse?.close();
    await browser?.close();
    await hub?.stop();
  });

  it('names the ward as the hospital does on the first alert after login', async () => {
    doctor = await openPhone(browser, hub.url);
    await logInCovered(doctor.page, 'fy1.patel');
    await alert().locator('#alert-title', { hasText: 'Ward 7 (Medicine) · Bed 9' }).waitFor();
    await doctor.page.locator('#link-status[data-state="online"]').waitFor({ state: 'attached' });
    assert.doesNotMatch((await alert().textContent()) ?? '', /\bW7\b/i, 'no ward id on the alert');
  });

  it('shows background, assessment and recommendation, labelled, the long one cut', async () => {
    const parts = alert().locator('dl.alert-sbar');
    assert.deepEqual(await parts.locator('dt').allTextContents(), ['Background', 'Assessment', 'Recommendation']);
    assert.equal(await parts.locator('.sbar-assessment dd').textContent(), ASSESSMENT);
    assert.equal(await parts.locator('.sbar-recommendation dd').textContent(), RECOMMENDATION);
    const background = parts.locator('.sbar-background dd');
    const cut = (await background.textContent()) ?? '';
    assert.ok(cut.length < BACKGROUND.length, 'the long background is cut');
    assert.match(cut, /^Admitted three days ago .*…Read all$/, cut);
    await lookAt(doctor.page, 'scr-alert-sbar');
    assert.ok(await fullyInSight(alert().locator('button:text-is("Accept")')), 'Accept in sight under a long SBAR (portrait)');
    await background.locator('button', { hasText: 'Read all' }).click();
    await background.filter({ hasText: 'Last seen by the day team at 17:00.' }).waitFor();
    assert.equal(await background.textContent(), BACKGROUND);
    assert.ok(await fullyInSight(alert().locator('button:text-is("Accept")')), 'Accept still in sight with the whole background');
    await lookAt(doctor.page, 'scr-alert-sbar-all');
  });

  it('on its side (640x360): the text keeps most of the height, Accept in sight', async () => {
    const { page } = doctor;
    await page.setViewportSize({ width: 640, height: 360 });
    await screenshot(page, 'scr-landscape-alert');
    const share = await heightShare(page, 'section.alert .alert-info');
    assert.ok(share >= 0.6, `the alert's text has ${Math.round(share * 100)}% of the height (at least 60% wanted)`);
    assert.ok(await fullyInSight(alert().locator('button:text-is("Accept")')), 'Accept wholly in sight without scrolling');
    await lookAt(page, 'scr-landscape-alert');
    await page.setViewportSize({ width: 360, height: 740 });
  });

  it('shows no SBAR block for a task without one', async () => {
    const r = await nurse.command(
      taskCmd({ bed: '4', priority: 'emergency', category: 'medical_review', requirement: { role: 'fy1' }, sbar: { situation: 'Bed 4: peri-arrest', background: '', assessment: '', recommendation: '' } }),
    );
    assert.equal(r.type, 'ok', JSON.stringify(r));
    await alert().locator('.alert-situation', { hasText: 'Bed 4: peri-arrest' }).waitFor();
    assert.equal(await alert().locator('.alert-sbar').count(), 0);
    await lookAt(doctor.page, 'scr-alert-emergency');
    await alert().locator('button:text-is("Accept")').click();
    await alert().locator('.alert-kicker', { hasText: 'Accepted' }).waitFor();
  });

  it('names the ward in the toasts a fresh login replays', async () => {
    const coord = await connectAs(hub.url, 'coord.hale');
    const r = await nurse.command(taskCmd({ bed: '6', priority: 'soon' }));
    assert.equal(r.type, 'ok', JSON.stringify(r));
    assert.equal((await coord.command({ op: 'escalate_now', task: r.result.task.id })).type, 'ok');
    coord.close();
    const phone = await openPhone(browser, hub.url);
    await logInCovered(phone.page, 'nurse.okafor');
    const toast = phone.page.locator('.toast', { hasText: 'bed 6 escalated' });
    await toast.waitFor();
    assert.match((await toast.textContent()) ?? '', /^Ward 7 \(Medicine\) bed 6 escalated/);
    await phone.context.close();
  });

  it('names the ward in a system notification that rings before the wards are known', async () => {
    const phone = await openPhone(browser, hub.url);
    await phone.context.grantPermissions(['notifications'], { origin: hub.url });
    // The hub's answer to the first `directory` is held back, so the open
    // offer for bed 9 rings on a phone that does not know the wards' names yet.
    /** @type {() => void} */ let release = () => undefined;
    const held = new Promise((resolve) => (release = () => resolve(undefined)));
    let holding = false;
    await routeLink(phone.page, {
      filter: (frame) => {
        if (holding || frame.type !== 'ok' || frame.result?.kind !== 'directory') return undefined;
        holding = true;
        return held;
      },
    });
    await phone.page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    // In the background (a headless tab cannot be sent there, so it is told).
    await phone.page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await logInCovered(phone.page, 'fy1.patel');
    await phone.page.locator('section.alert:not([hidden])', { hasText: 'Bed 9' }).waitFor();
    assert.ok(holding, 'the directory was held back while the offer rang');
    release();
    const shown = () =>
      phone.page.evaluate(async () => {
        const reg = await navigator.serviceWorker.ready;
        return (await reg.getNotifications()).map((n) => n.title);
      });
    const titles = await until(async () => ((await shown()).some((t) => /bed 9$/.test(t)) ? shown() : null), 'the notification for bed 9', 10000);
    const bed9 = titles.filter((t) => /bed 9$/.test(t));
    // (By now the hub may have escalated it: "Escalated: …" is as good.)
    assert.equal(bed9.length, 1, JSON.stringify(titles));
    assert.match(bed9[0], /^(New task|Escalated): Ward 7 \(Medicine\) bed 9$/);
    await phone.context.close();
  });
});
