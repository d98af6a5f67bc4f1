// The hub restarts in the night (an upgrade, a crash): every phone loses its
// socket, says so, retries with backoff, and resumes from its cursor when the
// hub is back, picking up what happened meanwhile without losing or
// repeating anything. Later the coordinator assigns a task straight to the
// same phone, which alerts for it too.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, logIn, waitOnline, inspect } from './helpers/app.js';
import { connectAs } from './helpers/protocol.js';

/** @param {string} situation */
const cannula = (situation) => ({
  op: 'raise_task', ward: 'w7', bed: '5', patient: 'RX5550001', category: 'cannula', priority: 'routine',
  requirement: { skill: 'cannulation' }, sbar: { situation, background: '', assessment: '', recommendation: '' },
});

describe('the hub restarts', () => {
  /** @type {import('./helpers/hub.js').Hub} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let doctor;

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await hub?.stop();
  });

  it('shows the link as lost while the hub is down', async () => {
    doctor = await openPhone(browser, hub.url);
    await logIn(doctor.page, 'np.murphy');
    const nurse = await connectAs(hub.url, 'nurse.okafor');
    assert.equal((await nurse.command(cannula('First cannula, before the restart'))).type, 'ok');
    nurse.close();
    await doctor.page.locator('section.alert.routine:not([hidden])', { hasText: 'First cannula' }).waitFor();
    await doctor.page.click('section.alert button:text-is("Accept")');
    await doctor.page.locator('article.card .state', { hasText: 'Accepted' }).waitFor();
    await hub.stop({ keepData: true });
    await doctor.page.locator('#link-status[data-state="offline"], #link-status[data-state="connecting"]').waitFor({ timeout: 10000 });
    await inspect(doctor.page, '40-hub-down');
  });

  it('reconnects by itself and resumes from its cursor', async () => {
    const address = new URL(hub.url).host;
    hub = await startHub({ dir: hub.dir, listen: address });
    // Backoff starts at about a second and doubles; well within this.
    await waitOnline(doctor.page);
    const nurse = await connectAs(hub.url, 'nurse.okafor');
    assert.equal((await nurse.command(cannula('Second cannula, after the restart'))).type, 'ok');
    nurse.close();
    await doctor.page.locator('section.alert.routine:not([hidden])', { hasText: 'Second cannula' }).waitFor({ timeout: 10000 });
    // The task accepted before the restart is still held, once.
    await doctor.page.click('section.alert button:text-is("Accept")');
    await doctor.page.locator('article.card .state', { hasText: 'Accepted' }).nth(1).waitFor();
    assert.equal(await doctor.page.locator('article.card').count(), 2);
    const cursor = await doctor.page.evaluate(() => /** @type {any} */ (window).wardpage.store.cursor);
    assert.ok(cursor >= 4, `cursor moved on after the restart (${cursor})`);
  });

  it('alerts when the coordinator assigns a task directly', async () => {
    const nurse = await connectAs(hub.url, 'nurse.okafor');
    const coordinator = await connectAs(hub.url, 'coord.hale');
    const raised = await nurse.command({ ...cannula('Third cannula, for the coordinator to place'), requirement: { role: 'registrar' } });
    assert.equal(raised.type, 'ok', JSON.stringify(raised));
    const me = await doctor.page.evaluate(() => /** @type {any} */ (window).wardpage.store.me.id);
    const assigned = await coordinator.command({ op: 'assign', task: raised.result.task.id, staff: me });
    nurse.close();
    coordinator.close();
    assert.equal(assigned.type, 'ok', JSON.stringify(assigned));
    const { page } = doctor;
    await page.locator('section.alert:not([hidden])', { hasText: 'Assigned to you by Sister Jo Hale' }).waitFor();
    await inspect(page, '41-alert-assigned');
    // An assignment is hers once she acknowledges it.
    await page.click('section.alert button:text-is("Acknowledge")');
    await page.locator('section.alert').waitFor({ state: 'hidden' });
    await page.locator(`article[data-task="${raised.result.task.id}"] .state`, { hasText: 'Accepted' }).waitFor();
  });

  it('had no script errors', () => {
    assert.deepEqual(doctor.errors, []);
  });
});
