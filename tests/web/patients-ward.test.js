// The night nurse's patient screens on a 360x640 phone against a real hub:
// the ward list (one row per bed, NEWS2 in band colour and words, Scale 2,
// trend, overdue), entering a set with gloves on (steppers, ACVPU buttons)
// and seeing the score and the response before sending, the hub's stored
// result, a refusal that names the field, the 72-hour chart in its bands,
// and the patient on every task card. Every screen is scanned with axe.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, expectAccessible, expectTouchTargets, goTab } from './helpers/app.js';
import { connectAs } from './helpers/protocol.js';
import { admit, record, nhsNumber, nhsSpaced, shot, CALM, logInAs, putOffOverdue, clearWard } from './helpers/patients.js';

/** A set that scores NEWS2 10, High: RR 26 (3), SpO2 91 (3), systolic 105 (1), pulse 115 (2), temperature 38.5 (1). */
const SICK = { respiration_rate: 26, spo2: 91, breathing: { kind: 'air' }, systolic: 105, diastolic: 70, pulse: 115, consciousness: 'alert', temperature: 38.5 };

describe('patients on a phone', () => {
  /** @type {Awaited<ReturnType<typeof startHub>>} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let nic;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let nurse;
  /** @type {any} */ let calm;
  /** @type {any} */ let sick;
  /** @type {any} */ let partial;
  const NHS = [nhsNumber(1001), nhsNumber(2002), nhsNumber(3003)];

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    nic = await connectAs(hub.url, 'nic.grant');
    await clearWard(nic, 'w7');
    calm = await admit(nic, { ward: 'w7', bed: '1', name: 'Ada Fairweather', nhs: NHS[0] });
    sick = await admit(nic, { ward: 'w7', bed: '2', name: 'Bram Stormont', nhs: NHS[1] });
    partial = await admit(nic, { ward: 'w7', bed: '3', name: 'Cora Halfpenny', nhs: NHS[2] });
    await record(nic, calm.id, CALM);
    await record(nic, sick.id, { ...CALM, taken_at: Date.now() - 3600000 });
    await record(nic, sick.id, SICK);
    // Bed 3's last complete set scored 0 (next set due 12 h after it) and
    // was taken 12 h 1 min ago, so it fell due a minute ago; the pulse taken
    // since is incomplete and, as the hub's rules say, does not move that.
    await record(nic, partial.id, { ...CALM, taken_at: Date.now() - (12 * 60 + 1) * 60000 });
    await record(nic, partial.id, { pulse: 88 });
  });
  after(async () => {
    nic?.close();
    await browser?.close();
    await hub?.stop();
  });

  it('alerts the ward’s nurse to overdue observations', async () => {
    nurse = await openPhone(browser, hub.url);
    await nurse.page.setViewportSize({ width: 360, height: 640 });
    await logInAs(nurse.page, 'nurse.okafor');
    const alert = nurse.page.locator('section.alert:not([hidden])');
    await alert.waitFor();
    await shot(nurse.page, 'p00-overdue-alert');
    assert.match((await alert.textContent()) ?? '', /Observations overdue/);
    assert.notEqual(await nurse.page.evaluate(() => /** @type {any} */ (window).wardpage.sound.nowPlaying()), null, 'it rings');
    await expectAccessible(nurse.page, 'overdue alert');
    const beds = await putOffOverdue(nurse.page);
    assert.ok(beds.some((b) => b.includes('Bed 3: Cora Halfpenny')), `bed 3 (only a pulse recorded) is overdue: ${beds}`);
  });

  it('lists the ward’s patients by bed with band words, trend and “incomplete”', async () => {
    await goTab(nurse.page, 'patients');
    const page = nurse.page;
    const rows = page.locator('li.pt-row[data-patient]');
    await rows.nth(2).waitFor();
    await shot(page, 'p01-list');
    assert.deepEqual(await page.locator('li.pt-row[data-patient] .pt-bed').allTextContents(), ['1', '2', '3']);
    const bed2 = page.locator(`li[data-patient="${sick.id}"]`);
    assert.equal(await bed2.locator('.pt-name').textContent(), 'Bram Stormont');
    assert.equal(await bed2.locator('.pt-nhs').textContent(), `NHS ${nhsSpaced(NHS[1])}`);
    assert.equal(await bed2.locator('.pt-score').textContent(), 'NEWS2 10 High', 'the hub scored the set 10');
    assert.match((await bed2.locator('.pt-score').getAttribute('class')) ?? '', /band-high/);
    assert.equal(await bed2.locator('.pt-trend .sr-only').textContent(), ', rising');
    assert.equal(await page.locator(`li[data-patient="${calm.id}"] .pt-score`).textContent(), 'NEWS2 0 Low');
    assert.equal(await page.locator(`li[data-patient="${partial.id}"] .pt-score`).textContent(), 'incomplete', 'an incomplete set shows no number');
    assert.equal(await page.locator('li.bed-empty').count(), 21, 'the other beds of Ward 7 are empty');
    assert.equal(await page.locator(`li[data-patient="${partial.id}"] .pt-due.overdue`).count(), 1, 'bed 3 shows OVERDUE');
    await expectAccessible(page, 'patient list');
    await expectTouchTargets(page, 'patient list');
  });

  it('updates one row in place from a patient event, keeping focus', async () => {
    const page = nurse.page;
    const row = page.locator(`li[data-patient="${calm.id}"] a.pt-open`);
    await row.focus();
    await page.evaluate(() => {
      /** @type {any} */ (window).__rows = [...document.querySelectorAll('li.pt-row')];
    });
    await record(nic, calm.id, { ...CALM, respiration_rate: 22 });
    await page.locator(`li[data-patient="${calm.id}"] .pt-score`, { hasText: 'NEWS2 2 Low' }).waitFor();
    const same = await page.evaluate(() => {
      const before = /** @type {any} */ (window).__rows;
      const now = [...document.querySelectorAll('li.pt-row')];
      return before.length === now.length && before.every((/** @type {Element} */ el, /** @type {number} */ i) => el === now[i]);
    });
    assert.ok(same, 'no row was rebuilt');
    assert.equal(await page.evaluate(() => document.activeElement?.closest('li')?.getAttribute('data-patient')), calm.id, 'focus stayed on the row');
  });

  it('enters a set with steppers and ACVPU buttons, showing the score before sending', async () => {
    const page = nurse.page;
    await page.click(`li[data-patient="${partial.id}"] a.pt-open`);
    await page.locator('#pt-title', { hasText: 'Bed 3 · Cora Halfpenny' }).waitFor();
    await page.click('a.btn:text-is("Enter observations")');
    await page.locator('.obs-form').waitFor();
    await page.locator('[data-field="pulse"] .obs-prev', { hasText: 'previous 88' }).waitFor();
    assert.match((await page.locator('#obs-total').textContent()) ?? '', /Incomplete: no score/);
    // Respiration: first tap starts at 16, then +4 +4 -1 = 23 (2 points).
    const rr = page.locator('[data-field="respiration_rate"]');
    await rr.locator('button[aria-label="Respiration rate plus 1"]').click();
    await rr.locator('button[aria-label="Respiration rate plus 4"]').click();
    await rr.locator('button[aria-label="Respiration rate plus 4"]').click();
    await rr.locator('button[aria-label="Respiration rate minus 1"]').click();
    assert.equal(await page.inputValue('#obs-respiration_rate'), '23');
    assert.equal(await rr.locator('.obs-pts').textContent(), '2 pts');
    await page.fill('#obs-spo2', '95');
    await page.click('.obs-air_or_oxygen label:has(input[value="air"])');
    await page.fill('#obs-systolic', '118');
    await page.fill('#obs-diastolic', '72');
    // Pulse starts from the previous value, 88, then +10 = 98 (1 point).
    const pulse = page.locator('[data-field="pulse"]');
    await pulse.locator('button[aria-label="Pulse plus 1"]').click();
    await pulse.locator('button[aria-label="Pulse plus 10"]').click();
    assert.equal(await page.inputValue('#obs-pulse'), '98');
    assert.match((await page.locator('#obs-total').textContent()) ?? '', /Incomplete: no score/);
    assert.match((await page.locator('#obs-response').textContent()) ?? '', /Missing: Consciousness, Temperature/);
    await shot(page, 'p02-entry-incomplete');
    await page.click('.obs-consciousness label:has(input[value="alert"])');
    const temp = page.locator('[data-field="temperature"]');
    await temp.locator('button[aria-label="Temperature plus 0.1"]').click();
    await temp.locator('button[aria-label="Temperature plus 0.5"]').click();
    await temp.locator('button[aria-label="Temperature plus 0.5"]').click();
    assert.equal(await page.inputValue('#obs-temperature'), '38.0');
    // RR 23 (2) + SpO2 95 (1) + air (0) + 118 (0) + 98 (1) + A (0) + 38.0 (0) = 4, Low.
    await shot(page, 'p03-entry-scored');
    await page.locator('#obs-total', { hasText: 'NEWS2 4 Low · Scale 1' }).waitFor();
    assert.notEqual(((await page.locator('#obs-response').textContent()) ?? '').trim(), '', 'the response the hub will start is shown');
    await expectAccessible(page, 'observation entry');
    await expectTouchTargets(page, 'observation entry');
    await page.click('.obs-form button[type=submit]');
    const ok = page.locator('.obs-form .notice.ok');
    await ok.waitFor();
    await shot(page, 'p04-entry-recorded');
    assert.match((await ok.textContent()) ?? '', /Recorded by the hub: NEWS2 4 Low/);
    const chart = await nic.command({ op: 'chart', patient: partial.id });
    const stored = chart.result.observations.at(-1);
    assert.equal(stored.set.respiration_rate, 23);
    assert.equal(stored.set.temperature, 38);
    assert.equal(stored.score.total, 4, 'the hub stored the same score');
    assert.ok(Math.abs(stored.set.taken_at - Date.now()) < 5 * 60000, 'taken_at is the time the set was opened');
  });

  it('shows the hub’s refusal naming the field', async () => {
    const page = nurse.page;
    // From the recorded set, as the nurse goes: Done, then a new set.
    await page.click('.obs-form a.btn:text-is("Done")');
    await page.locator('#pt-title', { hasText: 'Bed 3 · Cora Halfpenny' }).waitFor();
    await putOffOverdue(page);
    await page.click('a.btn:text-is("Enter observations")');
    await page.locator('.obs-form button[type=submit]').waitFor();
    await page.fill('#obs-systolic', '80');
    await page.fill('#obs-diastolic', '95');
    await page.click('.obs-form button[type=submit]');
    const refused = page.locator('.obs-form .notice.error');
    await refused.waitFor();
    assert.match((await refused.textContent()) ?? '', /Not recorded: .*diastolic/);
    await page.locator('[data-field="diastolic"].refused').waitFor();
  });

  it('draws the 72-hour chart in the RCP bands', async () => {
    const page = nurse.page;
    await page.goto(`${hub.url}/#patients/${sick.id}/chart`);
    await putOffOverdue(page);
    const svg = page.locator('svg.chart-data');
    await svg.waitFor();
    await shot(page, 'p05-chart');
    assert.equal(await svg.locator('.ch-band.pts-3').count() > 0, true, 'rows scoring 3 are shaded');
    assert.equal(await svg.locator('.ch-cell-text', { hasText: '10' }).count(), 1, 'the total row shows 10');
    assert.match((await svg.getAttribute('aria-label')) ?? '', /2 sets .* Scale 1; latest complete NEWS2 10 High/);
    await expectAccessible(page, 'chart');
  });

  it('names the patient on the review task card', async () => {
    const reg = await openPhone(browser, hub.url);
    await reg.page.setViewportSize({ width: 360, height: 640 });
    await logInAs(reg.page, 'reg.evans');
    const page = reg.page;
    const alert = page.locator('section.alert:not([hidden])');
    // NEWS2 10 is an emergency: besides offering the review, the hub pages
    // the registrar (naming the bed). Answer each alert in the order shown:
    // the review (check it names the patient, accept it), the page(s)
    // (acknowledge), until the screen is clear.
    const who = new RegExp(`^Bram Stormont · NHS ${nhsSpaced(NHS[1])} · Bed 2$`);
    let accepted = false;
    while (!accepted || (await alert.isVisible())) {
      await alert.waitFor();
      await page.evaluate(() => document.querySelector('#alert-title')?.setAttribute('data-seen', ''));
      if (await page.locator('section.alert.accepted:not([hidden])').count()) {
        // The review she just accepted stays on screen until she moves on.
        await alert.locator('button', { hasText: /^(Next alert|Close)/ }).click();
      } else if ((await alert.locator('.alert-patient').count()) > 0) {
        assert.match((await alert.locator('.alert-patient').textContent()) ?? '', who);
        assert.match((await alert.locator('.review-line').textContent()) ?? '', /NEWS2 10 High/);
        await shot(page, 'p06-review-alert');
        await alert.locator('button', { hasText: 'Accept' }).click();
        accepted = true;
      } else {
        assert.match((await alert.locator('.alert-callback').textContent()) ?? '', /Call back: Ward 7 \(Medicine\) bed 2/, 'the only other alert is the hub’s page for bed 2, the ward as the hospital names it');
        await alert.locator('button', { hasText: 'Acknowledge' }).click();
      }
      await page.waitForFunction(() => {
        const el = document.querySelector('section.alert');
        return !el || el.hidden || !el.querySelector('#alert-title[data-seen]');
      });
    }
    const card = page.locator('article.card', { hasText: 'Bram Stormont' });
    await card.waitFor();
    assert.match((await card.locator('.task-patient').textContent()) ?? '', who);
    await shot(page, 'p07-review-card');
    await reg.context.close();
    assert.deepEqual(reg.errors, []);
  });

  it('had no script errors', () => {
    assert.deepEqual(nurse.errors, []);
  });
});
