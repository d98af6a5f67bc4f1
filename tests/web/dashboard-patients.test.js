// The coordinator's clinical panels against a real hub: a NEWS2 of 5 or
// more recorded by a ward nurse over the protocol puts the patient on the
// deteriorating list (band in words and colour, NHS number in 3-3-4, trend,
// review offered), higher bands sort first, the FY1's accept shows as
// "Accepted by"; a set whose next one is due in the past lists the patient
// as overdue; the per-ward counts agree with the hub's own patient list and
// follow a new score live; the review task's card and dialog name the
// patient; after a reconnect the list is read again; a nurse in charge sees
// her own wards; the Patients view passes axe.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { connectAs } from './helpers/protocol.js';
import { expectAccessible } from './helpers/app.js';
import { openDashboard, logInDashboard, waitLive, TABLET, DESKTOP } from './dashboard-helpers/dashboard.js';
import { admit, record, obsSet, readPatients, expectedWardCounts, shownWardCounts, spaced, shot } from './dashboard-helpers/patients.js';

const HOUR = 3600 * 1000;

describe('coordinator dashboard: deteriorating patients, overdue observations, NEWS2 by ward', () => {
  /** @type {import('./helpers/hub.js').Hub} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openDashboard>>} */ let dash;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let nurse;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let fy1;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let nic;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let coord;
  /** @type {any} */ let medium;
  /** @type {any} */ let high;
  /** @type {string} */ let reviewId;

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    nurse = await connectAs(hub.url, 'nurse.okafor');
    fy1 = await connectAs(hub.url, 'fy1.patel');
    nic = await connectAs(hub.url, 'nic.grant');
    coord = await connectAs(hub.url, 'coord.hale');
    medium = await admit(nic, 'w7', 'Winifred Testcase');
    high = await admit(nic, 'w7', 'Herbert Testcase');
    dash = await openDashboard(browser, hub.url);
    await logInDashboard(dash.page, 'coord.hale');
    await waitLive(dash.page);
    await dash.page.evaluate(() => {
      location.hash = '#patients';
    });
    await dash.page.locator('#view-patients:not([hidden])').waitFor();
  });
  after(async () => {
    for (const c of [nurse, fy1, nic, coord]) c?.close();
    await browser?.close();
    await hub?.stop();
  });

  it('lists a patient as deteriorating once a nurse records a NEWS2 of 5, with the review offered', async () => {
    const { page } = dash;
    // Read at start: the admitted patients are counted before any set.
    await page.locator('#news2-by-ward tr[data-ward="w7"]').waitFor();
    assert.equal(await page.locator(`#deteriorating tr[data-patient="${medium.id}"]`).count(), 0, 'not deteriorating before any observations');

    const result = await record(nurse, medium.id, obsSet('medium'));
    assert.equal(result.observation.score.total, 5, JSON.stringify(result.observation.score));
    assert.equal(result.observation.score.band, 'medium');
    assert.ok(result.review, `a NEWS2 of 5 raises a review: ${JSON.stringify(result)}`);
    reviewId = result.review.id;

    const row = page.locator(`#deteriorating tr[data-patient="${medium.id}"]`);
    await row.waitFor({ timeout: 5000 });
    const text = (await row.textContent()) ?? '';
    assert.match(text, /Ward 7 \(Medicine\)/);
    assert.equal(((await row.locator('td:nth-child(2)').textContent()) ?? '').trim(), medium.bed, 'the bed in its own cell');
    assert.match(text, /Winifred Testcase/);
    assert.match(text, new RegExp(spaced(medium.details.nhs_number)), 'NHS number in 3-3-4 groups');
    assert.match(text, /NEWS2 5 Medium: urgent response/, 'the band in words');
    assert.doesNotMatch(text, /Scale 2/, 'Scale 1 is not labelled');
    assert.match(text, /First set/, 'the trend in words');
    assert.match(text, /just now|min ago/, 'time since the set');
    assert.match(text, /Offered to [1-9]/, 'the review task is offered');
    const chip = row.locator('td:nth-child(5) span');
    assert.match((await chip.getAttribute('class')) ?? '', /band-medium/, 'the band in colour too');
    const color = await chip.evaluate((el) => getComputedStyle(el).backgroundColor);
    assert.notEqual(color, 'rgba(0, 0, 0, 0)', 'the band chip is coloured');
    await page.locator('.stat-deteriorating dd', { hasText: /^[1-9]/ }).waitFor();
  });

  it('sorts a higher band first, and shows the FY1 accepting the review', async () => {
    const { page } = dash;
    const result = await record(nurse, high.id, obsSet('high'));
    assert.equal(result.observation.score.total, 7, JSON.stringify(result.observation.score));
    const highRow = page.locator(`#deteriorating tr[data-patient="${high.id}"]`);
    await highRow.waitFor({ timeout: 5000 });
    assert.match((await highRow.textContent()) ?? '', /NEWS2 7 High: emergency response/);
    const order = await page.locator('#deteriorating tbody tr').evaluateAll((trs) => trs.map((tr) => /** @type {HTMLElement} */ (tr).dataset.patient));
    assert.ok(order.indexOf(high.id) < order.indexOf(medium.id), `high before medium: ${JSON.stringify(order)}`);

    const accepted = /** @type {any} */ (await fy1.command({ op: 'accept', task: reviewId }));
    assert.equal(accepted.type, 'ok', `the FY1 accepts the review: ${JSON.stringify(accepted)}`);
    const mediumRow = page.locator(`#deteriorating tr[data-patient="${medium.id}"]`);
    await mediumRow.locator('td', { hasText: 'Accepted by Dr Asha Patel' }).waitFor({ timeout: 5000 });

    // The link opens the review task's detail, naming the patient.
    await mediumRow.locator('button.open-review').click();
    const dialog = page.locator('dialog.detail[open]');
    await dialog.waitFor();
    const facts = (await dialog.locator('.facts').textContent()) ?? '';
    assert.match(facts, /Winifred Testcase/);
    assert.match(facts, new RegExp(spaced(medium.details.nhs_number)));
    assert.match(facts, new RegExp(`Ward 7 \\(Medicine\\) bed ${medium.bed}`));
    assert.match(facts, /Medium: urgent response/, 'the review band in words');
    assert.match(facts, /Dr Asha Patel/);
    await shot(page, 'patients-review-dialog');
    await page.keyboard.press('Escape');
  });

  it('names the patient on the review task’s card on the board', async () => {
    const { page } = dash;
    await page.evaluate(() => {
      location.hash = '#tasks';
    });
    const card = page.locator(`.board [data-id="${reviewId}"]`);
    await card.waitFor();
    // The number is kept on one line with no-break spaces.
    const text = ((await card.textContent()) ?? '').replace(/\u00a0/g, ' ');
    assert.match(text, new RegExp(`Ward 7 \\(Medicine\\) bed ${medium.bed}`));
    assert.match(text, /Winifred Testcase/);
    assert.match(text, new RegExp(spaced(medium.details.nhs_number)));
    assert.match(text, /NEWS2 5 Medium/);
    await shot(page, 'patients-board');
    await page.evaluate(() => {
      location.hash = '#patients';
    });
  });

  it('lists overdue observations with how long overdue', async () => {
    const { page } = dash;
    const late = await admit(nic, 'w7', 'Olive Overdue');
    // A normal set 13 hours ago: at NEWS2 0 the next is due 12 hours later,
    // so it fell due about an hour ago.
    const result = await record(nurse, late.id, obsSet('low', Date.now() - 13 * HOUR));
    assert.equal(result.observation.score.total, 0);
    assert.ok(result.patient.obs_due_at !== null && result.patient.obs_due_at < Date.now(), `next set due in the past: ${JSON.stringify(result.patient)}`);
    const row = page.locator(`#obs-overdue tr[data-patient="${late.id}"]`);
    await row.waitFor({ timeout: 5000 });
    const text = (await row.textContent()) ?? '';
    assert.match(text, /Olive Overdue/);
    assert.match(text, /OVERDUE (\d+ min|1 h \d\d min)/, text);
    assert.match(text, /NEWS2 0 Low/);
    assert.equal(await page.locator(`#deteriorating tr[data-patient="${late.id}"]`).count(), 0, 'a score of 0 is not deteriorating');
    await page.locator('.stat-obs-overdue dd', { hasText: /^[1-9]/ }).waitFor();
  });

  it('counts each ward’s patients by band as the hub has them, live', async () => {
    const { page } = dash;
    const hubs = expectedWardCounts(await readPatients(coord, null));
    await page.waitForFunction(
      (want) => {
        const tr = document.querySelector('#news2-by-ward tr[data-ward="w7"]');
        return tr?.querySelector('td[data-col="total"]')?.textContent === String(want);
      },
      hubs.w7.total,
    );
    const shown = await shownWardCounts(page);
    for (const [ward, want] of Object.entries(hubs)) assert.deepEqual(shown[ward], want, `ward ${ward}`);
    // A new high score for the medium patient moves one count from medium to high.
    await record(nurse, medium.id, obsSet('high'));
    await page.waitForFunction(
      (want) => document.querySelector('#news2-by-ward tr[data-ward="w7"] td[data-col="high"]')?.textContent === String(want),
      hubs.w7.high + 1,
    );
    const after = await shownWardCounts(page);
    assert.equal(after.w7.medium, hubs.w7.medium - 1);
    assert.equal(after.w7.total, hubs.w7.total);
    const row = page.locator(`#deteriorating tr[data-patient="${medium.id}"]`);
    await row.locator('td', { hasText: '↑ Rising' }).waitFor();
  });

  it('reads the patients again after a reconnect, with what changed while away', async () => {
    const { page } = dash;
    const leaving = await admit(nic, 'w7', 'Leonard Leaving');
    await page.locator(`#news2-by-ward tr[data-ward="w7"]`).waitFor();
    await page.waitForFunction((id) => /** @type {any} */ (window).wardpageDashboard.state.patients.has(id), leaving.id);
    // Hold the link down (no automatic retry) while the ward carries on.
    await page.evaluate(() => {
      const link = /** @type {any} */ (window).wardpageDashboard.link;
      /** @type {string[]} */ const ops = [];
      const command = link.command.bind(link);
      link.command = (/** @type {any} */ cmd) => {
        ops.push(cmd.op);
        return command(cmd);
      };
      /** @type {any} */ (window).__ops = ops;
      link.heldRetry = link.scheduleRetry;
      link.scheduleRetry = () => {};
      link.drop('test cut');
    });
    await page.locator('#link-status[data-state="offline"]').waitFor();
    const away = await admit(nic, 'w7', 'Ada Whileaway');
    await record(nurse, away.id, obsSet('high'));
    const gone = /** @type {any} */ (await nic.command({ op: 'discharge_patient', patient: leaving.id }));
    assert.equal(gone.type, 'ok', JSON.stringify(gone));
    assert.equal(await page.locator(`#deteriorating tr[data-patient="${away.id}"]`).count(), 0, 'nothing arrives while the link is down');
    await page.evaluate(() => {
      const link = /** @type {any} */ (window).wardpageDashboard.link;
      link.scheduleRetry = link.heldRetry;
      link.reconnectNow();
    });
    await waitLive(page);
    await page.locator(`#deteriorating tr[data-patient="${away.id}"]`).waitFor({ timeout: 5000 });
    await page.waitForFunction((id) => !(/** @type {any} */ (window).wardpageDashboard.state.patients.has(id)), leaving.id);
    await page.waitForFunction(() => /** @type {any} */ (window).__ops.includes('patients'));
  });

  it('shows a nurse in charge her own wards only', async () => {
    const other = await openDashboard(browser, hub.url);
    try {
      await logInDashboard(other.page, 'nic.grant');
      await waitLive(other.page);
      await other.page.evaluate(() => {
        location.hash = '#patients';
      });
      await other.page.locator(`#deteriorating tr[data-patient="${high.id}"]`).waitFor({ timeout: 5000 });
      const wards = await other.page.locator('#news2-by-ward tbody tr[data-ward]').evaluateAll((trs) => trs.map((tr) => /** @type {HTMLElement} */ (tr).dataset.ward));
      assert.deepEqual(wards.filter(Boolean).sort(), ['w7', 'w8'], 'only the wards on her shift');
      assert.equal(await other.page.locator('#patients-note.bad').count(), 0, 'her wards are read without a refusal');
      await other.page.click('#admit-open');
      const options = await other.page.locator('#admit-ward option').evaluateAll((os) => os.map((o) => /** @type {HTMLOptionElement} */ (o).value));
      assert.deepEqual(options.sort(), ['w7', 'w8']);
      assert.deepEqual(other.errors, []);
    } finally {
      await other.context.close();
    }
  });

  it('is accessible and legible on desktop and tablet, light and dark', async () => {
    const { page } = dash;
    await expectAccessible(page, 'dashboard patients');
    await shot(page, 'patients-desktop-light');
    await page.setViewportSize(TABLET);
    await expectAccessible(page, 'dashboard patients (tablet)');
    await shot(page, 'patients-tablet-light');
    await page.setViewportSize(DESKTOP);
    await page.locator('button', { hasText: 'Dark theme' }).click();
    await expectAccessible(page, 'dashboard patients (dark)');
    await shot(page, 'patients-desktop-dark');
    await page.locator('button', { hasText: 'Light theme' }).click();
  });
});
