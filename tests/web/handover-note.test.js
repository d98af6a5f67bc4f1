// The handover note per patient, against a real hub: on the handheld's
// patient screen, with the patient's open tasks and NEWS2 trend, written
// through the form and shown once the hub has it (to another phone too);
// and the coordinator's printable handover sheet, which carries the note
// with the patients to watch, the open tasks and the unanswered pages.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, inspect, screenshot, phoneBarrier } from './helpers/app.js';
import { connectAs } from './helpers/protocol.js';
import { admit, record, nhsNumber, logInAs } from './helpers/patients.js';
import { openDashboard, logInDashboard, waitLive } from './dashboard-helpers/dashboard.js';

/** NEWS2 5: respiration 22 (2), SpO2 94 (1), pulse 105 (1), 38.3 (1). */
const FIVE = { respiration_rate: 22, spo2: 94, breathing: { kind: 'air' }, systolic: 124, diastolic: 70, pulse: 105, consciousness: 'alert', temperature: 38.3 };
const PLAN = 'If NEWS2 reaches 7, call outreach and the registrar';

/**
 * The review the 5 raised may ring on these phones: put it off ("Later"),
 * once the phone has heard everything the hub had for it.
 * @param {import('playwright-core').Page} page
 */
async function putOffAlerts(page) {
  await phoneBarrier(page);
  const later = page.locator('section.alert:not([hidden]) button:text-is("Later")');
  while (await later.count()) {
    await later.first().click();
    await phoneBarrier(page);
  }
}

describe('the handover note per patient', () => {
  /** @type {import('./helpers/hub.js').Hub} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let khan;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let nurse;
  /** @type {Awaited<ReturnType<typeof openDashboard>>} */ let desk;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let nic;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let okafor;
  /** @type {any} */ let patient;

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    nic = await connectAs(hub.url, 'nic.grant');
    okafor = await connectAs(hub.url, 'nurse.okafor');
    patient = await admit(nic, { ward: 'w7', bed: '5', name: 'Ada Handover', nhs: nhsNumber(4242) });
    await record(okafor, patient.id, { ...FIVE, taken_at: Date.now() - 60 * 1000 });
    khan = await openPhone(browser, hub.url);
    await logInAs(khan.page, 'sho.khan');
    await putOffAlerts(khan.page);
    nurse = await openPhone(browser, hub.url);
    await logInAs(nurse.page, 'hca.brown');
    await putOffAlerts(nurse.page);
    desk = await openDashboard(browser, hub.url);
    await logInDashboard(desk.page, 'coord.hale');
    await waitLive(desk.page);
  });
  after(async () => {
    nic?.close();
    okafor?.close();
    await browser?.close();
    await hub?.stop();
  });

  it('shows the patient’s open tasks and NEWS2 trend with the handover, and writes a note', async () => {
    const { page } = khan;
    await page.goto(`/#patients/${patient.id}`);
    const section = page.locator('section.hn');
    await section.locator('.empty', { hasText: 'No handover note yet.' }).waitFor();
    await section.locator('.hn-trend', { hasText: /NEWS2 5 /u }).waitFor();
    // The hub raised a review for the 5: it is the patient's open task.
    await section.locator('.hn-task', { hasText: /Urgent · .* offered, nobody yet · raised/ }).waitFor();
    await section.locator('button', { hasText: 'Write handover note' }).click();
    await page.fill('#hn-situation', 'Community-acquired pneumonia, day 1');
    await page.fill('#hn-assessment', 'NEWS2 5, new; febrile');
    await page.fill('#hn-recommendation', 'Review antibiotics at 08:00; repeat obs hourly');
    await page.fill('#hn-what_if', PLAN);
    await page.click('form.hn-form button[type=submit]');
    await section.locator('.hn-by', { hasText: /Written by Dr Omar Khan at \d\d:\d\d/ }).waitFor();
    await section.locator('.hn-note dd', { hasText: PLAN }).waitFor();
    assert.equal(await page.locator('form.hn-form').isHidden(), true, 'the form closes once the hub has the note');
    await section.scrollIntoViewIfNeeded();
    await inspect(page, '96-handover-note');
  });

  it('carries the note to the rest of the ward', async () => {
    const { page } = nurse;
    await page.goto(`/#patients/${patient.id}`);
    await page.locator('section.hn .hn-note dd', { hasText: PLAN }).waitFor();
  });

  it('prints a handover sheet from the dashboard with the note, tasks and patients to watch', async () => {
    const { page } = desk;
    await page.evaluate(() => {
      /** @type {any} */ (window).print = () => undefined;
    });
    await page.click('#print-handover');
    await page.emulateMedia({ media: 'print' });
    const sheet = page.locator('#handover-print');
    await sheet.waitFor();
    const text = (await sheet.textContent()) ?? '';
    assert.match(text, /Patients with NEWS2 5 or more, or a red flag \(1\)/);
    assert.ok(text.includes('Ada Handover') && text.includes(PLAN), text);
    assert.match(text, /Open tasks \(1\)/);
    assert.equal(await page.locator('header.top').isVisible(), false, 'only the sheet is printed');
    await screenshot(page, '97-dashboard-handover-sheet');
    await page.emulateMedia({ media: 'screen' });
  });

  it('had no script errors', () => {
    assert.deepEqual(khan.errors, []);
    assert.deepEqual(nurse.errors, []);
    assert.deepEqual(desk.errors, []);
  });
});
