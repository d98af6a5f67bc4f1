// A doctor with several offers waiting: the overlay says "1 of N" from the
// first alert on (the count used to stay as it was when the overlay opened)
// and gives a way to the list; the task she just accepted stays on screen,
// marked accepted, until she moves on (it was replaced at once by the next
// ringing offer); a completed task says so and goes to "Done tonight".

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, logIn, inspect } from './helpers/app.js';
import { connectAs } from './helpers/protocol.js';

/** @param {string} bed @param {string} situation */
const task = (bed, situation) => ({
  op: 'raise_task', ward: 'w7', bed, patient: `RX${bed}22222`, category: 'bloods', priority: 'soon',
  requirement: { role: 'fy1' }, sbar: { situation, background: '', assessment: '', recommendation: '' },
});

describe('several offers waiting on the doctor’s phone', () => {
  /** @type {Awaited<ReturnType<typeof startHub>>} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let doctor;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let nurse;
  /** @type {string[]} */ const ids = [];
  const overlay = () => doctor.page.locator('section.alert:not([hidden])');
  const nowPlaying = () => doctor.page.evaluate(() => /** @type {any} */ (window).wardpage.sound.nowPlaying());

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    nurse = await connectAs(hub.url, 'nurse.okafor');
    doctor = await openPhone(browser, hub.url);
    await logIn(doctor.page, 'fy1.patel');
  });
  after(async () => {
    nurse?.close();
    await browser?.close();
    await hub?.stop();
  });

  it('counts "1 of N" as offers arrive while the first is on screen', async () => {
    for (const [bed, what] of [['1', 'Bloods for bed 1'], ['2', 'Bloods for bed 2'], ['3', 'Bloods for bed 3']]) {
      const r = await nurse.command(task(bed, what));
      assert.equal(r.type, 'ok', JSON.stringify(r));
      ids.push(r.result.task.id);
      if (bed === '1') await overlay().locator('.alert-situation', { hasText: 'Bloods for bed 1' }).waitFor();
    }
    await overlay().locator('.alert-count', { hasText: '1 of 3 waiting' }).waitFor();
    assert.equal(await overlay().locator('.alert-situation').textContent(), 'Bloods for bed 1', 'the first stays first');
    await inspect(doctor.page, '76-one-of-three');
  });

  it('keeps the task just accepted on screen, with the way on to the next', async () => {
    await overlay().locator('button:text-is("Accept")').click();
    await overlay().locator('.alert-kicker', { hasText: 'Accepted: it is in My work' }).waitFor();
    assert.equal(await overlay().locator('.alert-situation').textContent(), 'Bloods for bed 1', 'not replaced by the next offer');
    await inspect(doctor.page, '77-accepted-stays');
    await overlay().locator('button', { hasText: 'Next alert (2 waiting)' }).click();
    await overlay().locator('.alert-situation', { hasText: 'Bloods for bed 2' }).waitFor();
    await overlay().locator('.alert-count', { hasText: '1 of 2 waiting' }).waitFor();
  });

  it('goes to the list on request, quiet until something new rings', async () => {
    await overlay().locator('button', { hasText: 'See the list' }).click();
    await doctor.page.locator('section.alert').waitFor({ state: 'hidden' });
    assert.equal(await nowPlaying(), null, 'quiet while she looks');
    await doctor.page.locator(`article[data-task="${ids[1]}"] button`, { hasText: 'Accept' }).waitFor();
    await doctor.page.locator(`article[data-task="${ids[2]}"] button`, { hasText: 'Accept' }).waitFor();
    await inspect(doctor.page, '78-the-list');
    const r = await nurse.command(task('4', 'Bloods for bed 4'));
    assert.equal(r.type, 'ok', JSON.stringify(r));
    await overlay().waitFor();
    await overlay().locator('.alert-count', { hasText: '1 of 3 waiting' }).waitFor();
    await overlay().locator('button', { hasText: 'See the list' }).click();
    await doctor.page.locator('section.alert').waitFor({ state: 'hidden' });
  });

  it('confirms a completion and lists it under "Done tonight"', async () => {
    const { page } = doctor;
    const card = page.locator(`article[data-task="${ids[0]}"]`);
    await card.locator('button', { hasText: 'Start' }).click();
    await card.locator('.state', { hasText: 'Started' }).waitFor();
    await card.locator('button', { hasText: 'Complete' }).click();
    await page.fill('dialog.ask textarea', 'U&E and FBC sent');
    await page.click('dialog.ask button[type=submit]');
    await page.locator('.toast', { hasText: 'Completed: Ward 7 (Medicine) bed 1. It is under "Done tonight" in My work.' }).waitFor();
    await page.locator('#done-tonight', { hasText: 'Done tonight (1)' }).waitFor();
    await card.waitFor({ state: 'detached' });
    const done = page.locator(`article[data-done="${ids[0]}"]`);
    await done.locator('.who.done', { hasText: 'U&E and FBC sent' }).waitFor();
    assert.equal(await done.locator('button').count(), 0, 'nothing left to do on it');
    await done.scrollIntoViewIfNeeded();
    await inspect(page, '79-done-tonight');
  });

  it('had no script errors', () => {
    assert.deepEqual(doctor.errors, []);
  });
});
