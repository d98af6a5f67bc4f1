// Offline work dropped on conflict (issue 17, hazard 5): Dr Patel completes a
// task in a Wi-Fi not-spot while the coordinator gives it to Dr Khan. On
// reconnect her queued completion is refused; it used to be an 8-second
// toast, and Dr Khan had a task that was already done. Now her phone says
// plainly what happened with the time she did it, and offers to tell the
// hub; the hub records it (`complete_offline`) and Dr Khan's phone says the
// job is done already. The coordinator's dashboard says so plainly in its
// "Needs you now" queue (not only as a timeline row), until she acknowledges it.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, logIn, inspect, waitOnline, expectAccessible, screenshot } from './helpers/app.js';
import { connectAs } from './helpers/protocol.js';
import { openDashboard, logInDashboard, waitLive } from './dashboard-helpers/dashboard.js';

describe('a completion done offline on a task given to someone else meanwhile', () => {
  /** @type {Awaited<ReturnType<typeof startHub>>} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let doctor;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let khan;
  /** @type {Awaited<ReturnType<typeof openDashboard>>} */ let dash;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let nurse;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let coordinator;
  /** @type {string} */ let taskId;
  /** The browser's clock (HH:MM) when she tapped Complete offline. */ let doneClock = '';

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    coordinator = await connectAs(hub.url, 'coord.hale');
    nurse = await connectAs(hub.url, 'nurse.lee');
    doctor = await openPhone(browser, hub.url);
    await logIn(doctor.page, 'fy1.patel');
    khan = await openPhone(browser, hub.url);
    await logIn(khan.page, 'sho.khan');
    dash = await openDashboard(browser, hub.url);
    await logInDashboard(dash.page, 'coord.hale');
    await waitLive(dash.page);
    await waitOnline(doctor.page);
    await waitOnline(khan.page);
  });
  after(async () => {
    nurse?.close();
    coordinator?.close();
    await browser?.close();
    await hub?.stop();
  });

  it('gives Dr Patel the task', async () => {
    const raised = await nurse.command({
      op: 'raise_task', ward: 'w8', bed: '3', patient: 'RX7654321', category: 'bloods', priority: 'soon',
      requirement: { role: 'fy1' }, sbar: { situation: 'Repeat potassium due, last 6.1', background: '', assessment: '', recommendation: '' },
    });
    assert.equal(raised.type, 'ok', JSON.stringify(raised));
    taskId = raised.result.task.id;
    await doctor.page.locator('section.alert.soon:not([hidden])').waitFor();
    await doctor.page.click('section.alert button:text-is("Accept")');
    await doctor.page.locator(`article[data-task="${taskId}"] .state`, { hasText: 'Accepted' }).waitFor();
  });

  it('she completes it offline while the coordinator gives it to Dr Khan', async () => {
    const { page, context } = doctor;
    await context.setOffline(true);
    await page.locator('#link-status[data-state="offline"]').waitFor({ timeout: 5000 });
    const card = page.locator(`article[data-task="${taskId}"]`);
    doneClock = await page.evaluate(() => new Date().toTimeString().slice(0, 5));
    await card.locator('button', { hasText: 'Complete' }).click();
    await page.fill('dialog.ask textarea', 'K+ sent');
    await page.click('dialog.ask button[type=submit]');
    await card.locator('.pending', { hasText: 'Queued: Complete' }).waitFor();
    const assigned = await coordinator.command({ op: 'assign', task: taskId, staff: await staffId('sho.khan') });
    assert.equal(assigned.type, 'ok', JSON.stringify(assigned));
  });

  it('on reconnect her phone says plainly what happened, and offers to tell the hub', async () => {
    const { page, context } = doctor;
    await context.setOffline(false);
    await waitOnline(page);
    const dialog = page.locator('dialog.ask[open]', { hasText: 'your completion was not recorded' });
    await dialog.waitFor({ timeout: 10000 });
    const text = (await dialog.textContent()) ?? '';
    assert.match(text, /Ward 8 \(Surgery\) bed 3/);
    assert.match(text, /You completed this at \d\d:\d\d while offline; the coordinator had given it to Dr Omar Khan\./);
    assert.match(text, /Tell the hub it was done, so Dr Omar Khan does not do it again\?/);
    await inspect(page, '73-offline-conflict');
    await dialog.locator('button', { hasText: 'Tell the hub it was done' }).click();
    const done = await coordinator.until(
      (evs) => evs.find((e) => e.event.kind === 'task' && e.event.task.id === taskId && e.event.change === 'completed'),
      10000,
      'the completion at the hub',
    );
    assert.equal(done.event.task.assignee.name, 'Dr Asha Patel');
    assert.match(done.event.task.closing_note, /^K\+ sent \(done by Dr Asha Patel while offline, .* before the hub heard; it had been given to Dr Omar Khan\)$/);
  });

  it("tells Dr Khan that the job is done already", async () => {
    const { page } = khan;
    await page.locator('.toast', { hasText: 'Ward 8 (Surgery) bed 3 is done already: Dr Asha Patel completed it while offline. Nothing for you to do.' }).waitFor({ timeout: 10000 });
    await inspect(page, '74-new-holder-told');
    await page.locator(`article[data-task="${taskId}"]`).waitFor({ state: 'detached', timeout: 5000 });
  });

  it('tells the coordinator plainly, in "Needs you now", until she acknowledges it', async () => {
    const { page } = dash;
    const item = page.locator('#attention li[data-kind="done_offline"]');
    await item.waitFor({ timeout: 10000 });
    const text = (await item.textContent()) ?? '';
    assert.match(text, /Completed offline after it was given to someone else: Ward 8 \(Surgery\) bed 3/);
    assert.match(text, /Ward 8 \(Surgery\) bed 3: Dr Asha Patel completed it at \d\d:\d\d while offline; it had been given to Dr Omar Khan, who has been told\. Outcome: K\+ sent/);
    // The time she did it, as her phone told the hub (within the minute).
    const at = /completed it at (\d\d:\d\d)/.exec(text)?.[1];
    assert.ok(at && [doneClock, nextMinute(doneClock)].includes(at), `${at} is when she completed it (${doneClock})`);
    assert.match(await page.title(), /^\(1\) /, 'counted in the title bar');
    await expectAccessible(page, 'dashboard told of work done offline');
    await screenshot(page, '75-coordinator-told-done-offline');
    await item.locator('button', { hasText: 'Acknowledge' }).click();
    await item.waitFor({ state: 'detached' });
    assert.doesNotMatch(await page.title(), /^\(\d+\) /);
  });

  it('had no script errors', () => {
    assert.deepEqual(doctor.errors, []);
    assert.deepEqual(khan.errors, []);
    assert.deepEqual(dash.errors, []);
  });

  /** "03:12" → "03:13". @param {string} hhmm */
  function nextMinute(hhmm) {
    const [h, m] = hhmm.split(':').map(Number);
    const t = (h * 60 + m + 1) % (24 * 60);
    return `${String(Math.floor(t / 60)).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;
  }

  /** @param {string} login */
  async function staffId(login) {
    const dir = await coordinator.command({ op: 'directory' });
    const s = dir.result.staff.find((/** @type {any} */ x) => x.login === login);
    assert.ok(s, `${login} in the directory`);
    return s.id;
  }
});
