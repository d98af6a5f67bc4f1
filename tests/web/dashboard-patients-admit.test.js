// Admitting, transferring and discharging from the coordinator dashboard,
// against a real hub: the admit form's patient reaches the hub (read back
// over the protocol) and the ward's counts; a wrong NHS check digit is the
// hub's refusal, shown in words on the form with the field marked, and
// admits nobody; a transfer picks an empty bed and the patient's open review
// task moves with them on the board; a discharge takes the patient off the
// lists.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { connectAs } from './helpers/protocol.js';
import { expectAccessible } from './helpers/app.js';
import { openDashboard, logInDashboard, waitLive } from './dashboard-helpers/dashboard.js';
import { admit, record, obsSet, readPatients, emptyBeds, nhsNumber, wrongCheckDigit, spaced, shot } from './dashboard-helpers/patients.js';

describe('coordinator dashboard: admit, transfer and discharge', () => {
  /** @type {import('./helpers/hub.js').Hub} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openDashboard>>} */ let dash;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let coord;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let nurse;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let nic;
  const nhs = nhsNumber(424242);

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    coord = await connectAs(hub.url, 'coord.hale');
    nurse = await connectAs(hub.url, 'nurse.okafor');
    nic = await connectAs(hub.url, 'nic.grant');
    dash = await openDashboard(browser, hub.url);
    await logInDashboard(dash.page, 'coord.hale');
    await waitLive(dash.page);
    await dash.page.evaluate(() => {
      location.hash = '#patients';
    });
    await dash.page.locator('#news2-by-ward tr[data-ward="w8"]').waitFor();
  });
  after(async () => {
    for (const c of [coord, nurse, nic]) c?.close();
    await browser?.close();
    await hub?.stop();
  });

  /** @param {import('playwright-core').Page} page @param {{nhs: string, name: string, ward: string}} p */
  async function fillAdmit(page, p) {
    const dialog = page.locator('dialog.beds[open]');
    await dialog.locator('#admit-nhs').fill(p.nhs);
    await dialog.locator('#admit-name').fill(p.name);
    await dialog.locator('#admit-born').fill('1939-11-02');
    await dialog.locator('#admit-sex').selectOption('male');
    await dialog.locator('#admit-consultant').fill('Dr L. Moreau');
    await dialog.locator('#admit-alerts').fill('DNACPR in place; latex allergy');
    await dialog.locator('#admit-ward').selectOption(p.ward);
    return dialog;
  }

  it('refuses a wrong NHS check digit in words, marks the field, and admits nobody', async () => {
    const { page } = dash;
    await page.click('#admit-open');
    const dialog = await fillAdmit(page, { nhs: spaced(wrongCheckDigit(nhs)), name: 'Wrongly Numbered', ward: 'w8' });
    await dialog.locator('button[type=submit]', { hasText: 'Admit' }).click();
    const outcome = dialog.locator('.outcome.bad');
    await outcome.waitFor({ timeout: 5000 });
    const text = (await outcome.textContent()) ?? '';
    assert.match(text, /NHS number/, text);
    assert.match(text, /check digit/, text);
    assert.match(text, /invalid_field/, text);
    assert.equal(await dialog.locator('#admit-nhs').getAttribute('aria-invalid'), 'true', 'the NHS number field is marked');
    await expectAccessible(page, 'admit form with a refusal');
    await shot(page, 'patients-admit-refused');
    const w8 = await readPatients(coord, 'w8');
    assert.equal(w8.filter((p) => p.details.name === 'Wrongly Numbered').length, 0, 'nobody admitted');
  });

  it('admits through the form into an empty bed; the hub has the patient and the ward counts them', async () => {
    const { page } = dash;
    const dialog = page.locator('dialog.beds[open]');
    const countBefore = Number(await page.locator('#news2-by-ward tr[data-ward="w8"] td[data-col="none"]').textContent());
    const free = await emptyBeds(coord, 'w8');
    const offered = await dialog.locator('#admit-bed option').evaluateAll((os) => os.map((o) => /** @type {HTMLOptionElement} */ (o).value));
    assert.deepEqual(offered, free, 'only the empty beds are offered');
    await fillAdmit(page, { nhs: spaced(nhs), name: 'Albert Formfield', ward: 'w8' });
    const bed = await dialog.locator('#admit-bed').inputValue();
    await dialog.locator('button[type=submit]', { hasText: 'Admit' }).click();
    await dialog.locator('.outcome.ok', { hasText: `Admitted Albert Formfield to Ward 8 (Surgery) bed ${bed}.` }).waitFor({ timeout: 5000 });
    assert.equal(await dialog.locator('#admit-nhs').getAttribute('aria-invalid'), null, 'the mark is cleared');
    const held = (await readPatients(coord, 'w8')).find((p) => p.details.nhs_number === nhs);
    assert.ok(held, 'the hub has the patient');
    assert.equal(held.bed, bed);
    assert.equal(held.details.name, 'Albert Formfield');
    assert.equal(held.details.born, '1939-11-02');
    assert.equal(held.details.sex, 'male');
    assert.equal(held.details.consultant, 'Dr L. Moreau');
    assert.equal(held.details.alerts, 'DNACPR in place; latex allergy');
    assert.equal(await dialog.locator(`#admit-bed option[value="${bed}"]`).count(), 0, 'the bed is no longer offered');
    await page.keyboard.press('Escape');
    await page.locator('#news2-by-ward tr[data-ward="w8"] td[data-col="none"]', { hasText: new RegExp(`^${countBefore + 1}$`) }).waitFor();
  });

  it('transfers a patient to an empty bed; their review task moves with them on the board', async () => {
    const { page } = dash;
    const patient = await admit(nic, 'w7', 'Tobias Transfer');
    const result = await record(nurse, patient.id, obsSet('medium'));
    assert.ok(result.review, JSON.stringify(result));
    const reviewId = result.review.id;
    await page.locator(`#deteriorating tr[data-patient="${patient.id}"]`).waitFor({ timeout: 5000 });

    await page.click('#transfer-open');
    const dialog = page.locator('dialog.beds[open]');
    await dialog.locator('#transfer-patient').selectOption(patient.id);
    await dialog.locator('#transfer-ward').selectOption('w8');
    const free = await emptyBeds(coord, 'w8');
    const offered = await dialog.locator('#transfer-bed option').evaluateAll((os) => os.map((o) => /** @type {HTMLOptionElement} */ (o).value));
    assert.deepEqual(offered, free, 'only the empty beds are offered');
    const bed = free[free.length - 1];
    await dialog.locator('#transfer-bed').selectOption(bed);
    await dialog.locator('button[type=submit]', { hasText: 'Transfer' }).click();
    await dialog.locator('.outcome.ok', { hasText: `Tobias Transfer is now in Ward 8 (Surgery) bed ${bed}.` }).waitFor({ timeout: 5000 });
    await page.keyboard.press('Escape');
    const row = page.locator(`#deteriorating tr[data-patient="${patient.id}"]`);
    await row.locator('td', { hasText: 'Ward 8 (Surgery)' }).waitFor();
    const held = (await readPatients(coord, 'w8')).find((p) => p.id === patient.id);
    assert.equal(held?.bed, bed, 'the hub has the patient in the new bed');

    await page.evaluate(() => {
      location.hash = '#tasks';
    });
    await page.locator(`.board [data-id="${reviewId}"] button.task-link`, { hasText: `Ward 8 (Surgery) bed ${bed}` }).waitFor({ timeout: 5000 });
    await page.evaluate(() => {
      location.hash = '#patients';
    });
  });

  it('discharges a patient; they leave the lists', async () => {
    const { page } = dash;
    const held = (await readPatients(coord, 'w8')).find((p) => p.details.nhs_number === nhs);
    assert.ok(held);
    const totalBefore = Number(await page.locator('#news2-by-ward tr[data-ward="w8"] td[data-col="total"]').textContent());
    await page.click('#discharge-open');
    const dialog = page.locator('dialog.beds[open]');
    await dialog.locator('#discharge-patient').selectOption(held.id);
    await dialog.locator('button[type=submit]', { hasText: 'Discharge' }).click();
    await dialog.locator('.outcome.ok', { hasText: 'Albert Formfield is discharged' }).waitFor({ timeout: 5000 });
    await page.keyboard.press('Escape');
    await page.locator('#news2-by-ward tr[data-ward="w8"] td[data-col="total"]', { hasText: new RegExp(`^${totalBefore - 1}$`) }).waitFor();
    assert.equal((await readPatients(coord, 'w8')).filter((p) => p.id === held.id).length, 0, 'the hub no longer lists them');
  });
});
