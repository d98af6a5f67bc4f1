// Every handheld screen read at arm's length (issue 17): login, My work with
// offers, the busy sheet and banner, Raised, the Raise form, Pages,
// Patients, a patient's observation entry and chart, each with no visible text under 16 px and nothing axe objects
// to (WCAG AA contrast among it); and the phone on its side (640x360), where
// the header and tab bar used to take 43% of the height: the list keeps at
// least 60% of it. The ward in the header is the hospital's name for it.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, goTab, screenshot } from './helpers/app.js';
import { connectAs } from './helpers/protocol.js';
import { taskCmd } from './dashboard-helpers/dashboard.js';
import { heightShare, fullyInSight } from './helpers/legibility.js';
import { quietAlerts, logInCovered, lookAt } from './helpers/screens.js';

/** @param {string} bed @param {string} priority */
const forFy1 = (bed, priority) =>
  taskCmd({ bed, priority, category: 'medical_review', requirement: { role: 'fy1' }, sbar: { situation: `Review bed ${bed}, new chest pain`, background: 'Day 3 of pneumonia', assessment: 'NEWS2 5, pain 6/10', recommendation: 'Review within the hour' } });

describe('handheld screens at arm’s length', () => {
  /** @type {Awaited<ReturnType<typeof startHub>>} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let nurse;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let doctor;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let ward;

  before(async () => {
    hub = await startHub({ patients: true });
    browser = await launchBrowser();
    nurse = await connectAs(hub.url, 'nurse.okafor');
    for (const [bed, prio] of [['3', 'soon'], ['5', 'routine']]) {
      const r = await nurse.command(forFy1(bed, prio));
      assert.equal(r.type, 'ok', JSON.stringify(r));
    }
    const khan = await connectAs(hub.url, 'sho.khan');
    const sent = await nurse.command({ op: 'send_page', target: { staff: khan.welcome.me.id }, priority: 'soon', callback: 'ext 4412', message: 'Family asking for an update, bed 9' });
    assert.equal(sent.type, 'ok', JSON.stringify(sent));
    khan.close();
  });
  after(async () => {
    nurse?.close();
    await browser?.close();
    await hub?.stop();
  });

  it('login', async () => {
    doctor = await openPhone(browser, hub.url);
    await lookAt(doctor.page, 'scr-login');
  });

  it('My work with offers, and the ward by its name in the header', async () => {
    const { page } = doctor;
    await logInCovered(page, 'fy1.patel');
    await page.locator('section.alert:not([hidden]) button', { hasText: 'See the list' }).click();
    await page.locator('section.alert').waitFor({ state: 'hidden' });
    await page.locator('article.card button', { hasText: 'Accept' }).nth(1).waitFor();
    await lookAt(page, 'scr-work');
    const shift = (await page.locator('.me-shift').textContent()) ?? '';
    assert.doesNotMatch(shift, /\bW7\b/, `the header names wards as the hospital does: ${shift}`);
  });

  it('the busy sheet and banner', async () => {
    const { page } = doctor;
    await page.click('button.busy-start');
    const sheet = page.locator('dialog.busy-sheet');
    await sheet.waitFor();
    await lookAt(page, 'scr-busy-sheet');
    await sheet.locator('button.busy-reason', { hasText: 'In resus' }).click();
    await page.locator('.busy-banner:visible').waitFor();
    await lookAt(page, 'scr-busy-banner');
    await page.click('.busy-banner button.busy-end');
    await page.locator('.busy-banner').waitFor({ state: 'hidden' });
    await quietAlerts(page);
  });

  it('Raised, Raise, Pages and Patients', async () => {
    ward = await openPhone(browser, hub.url);
    const { page } = ward;
    await logInCovered(page, 'nurse.okafor');
    await quietAlerts(page);
    await goTab(page, 'raised');
    await page.locator('article.card').nth(1).waitFor();
    await lookAt(page, 'scr-raised');
    await goTab(page, 'raise');
    await lookAt(page, 'scr-raise');
    await goTab(page, 'pages');
    await page.locator('.content', { hasText: 'Family asking for an update' }).waitFor();
    await lookAt(page, 'scr-pages');
    await page.click('a.tab[data-tab="patients"]');
    await page.locator('.pt-row').first().waitFor();
    await lookAt(page, 'scr-patients');
  });

  it('a patient’s observation entry and chart', async () => {
    const { page } = ward;
    const href = (await page.locator('.pt-row a.pt-open').first().getAttribute('href')) ?? '';
    await page.evaluate((h) => {
      location.hash = `${h}/obs`;
    }, href.replace(/^#/, ''));
    await page.locator('form.obs-form').waitFor();
    await lookAt(page, 'scr-obs-entry');
    await page.evaluate((h) => {
      location.hash = `${h}/chart`;
    }, href.replace(/^#/, ''));
    await page.locator('.chart svg').first().waitFor();
    // The chart's own labels (hours, ranges, values in the cells) are drawn
    // to its grid of hourly columns; they are the one exception.
    await lookAt(page, 'scr-chart', ['.chart svg']);
  });

  it('on its side (640x360) keeps most of the height for the list', async () => {
    const { page } = doctor;
    await page.setViewportSize({ width: 640, height: 360 });
    await goTab(page, 'work');
    await page.locator('article.card').first().waitFor();
    await screenshot(page, 'scr-landscape-work');
    const share = await heightShare(page, 'main.content');
    assert.ok(share >= 0.6, `the list has ${Math.round(share * 100)}% of the height (at least 60% wanted)`);
    assert.ok(await fullyInSight(page.locator('a.tab[data-tab="pages"]')), 'the tabs stay in reach');
    await lookAt(page, 'scr-landscape-work');
  });
});
