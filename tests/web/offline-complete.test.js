// Dr Patel walks into a Wi-Fi not-spot with a task in hand: she completes it
// while the phone is offline (the command is queued and persisted), even
// reloads the app there (the service worker opens it from its cache, with the
// queued action still waiting), then comes back into coverage. The hub must
// record the completion exactly once, as the coordinator's view shows. And
// when the hub's answer is lost on the way (socket cut after the hub applied
// the command), the phone re-sends the same command id and the hub applies
// it once.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, logIn, inspect, goTab, waitOnline, phoneBarrier } from './helpers/app.js';
import { connectAs, barrier } from './helpers/protocol.js';
import { until } from './helpers/faults.js';

describe('completing a task while offline', () => {
  /** @type {Awaited<ReturnType<typeof startHub>>} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let doctor;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let nurse;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let coordinator;
  /** @type {string} */ let taskId;

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    coordinator = await connectAs(hub.url, 'coord.hale');
    nurse = await connectAs(hub.url, 'nurse.okafor');
  });
  after(async () => {
    nurse?.close();
    coordinator?.close();
    await browser?.close();
    await hub?.stop();
  });

  it('gives the doctor a task (raised by the nurse, accepted on the phone)', async () => {
    doctor = await openPhone(browser, hub.url);
    await logIn(doctor.page, 'fy1.patel');
    const raised = await nurse.command({
      op: 'raise_task', ward: 'w8', bed: '3', patient: 'RX7654321', category: 'bloods', priority: 'soon',
      requirement: { skill: 'bloods' }, sbar: { situation: 'Repeat potassium due, last 6.1', background: '', assessment: '', recommendation: '' },
    });
    assert.equal(raised.type, 'ok', JSON.stringify(raised));
    taskId = raised.result.task.id;
    await doctor.page.locator('section.alert.soon:not([hidden])').waitFor();
    await doctor.page.click('section.alert button:text-is("Accept")');
    await doctor.page.locator(`article[data-task="${taskId}"] .state`, { hasText: 'Accepted' }).waitFor();
  });

  it('declines another offer from the alert with a quick reason', async () => {
    const { page } = doctor;
    const raised = await nurse.command({
      op: 'raise_task', ward: 'w7', bed: '20', patient: 'RX1112223', category: 'ecg', priority: 'urgent',
      requirement: { skill: 'ecg' }, sbar: { situation: 'Chest pain, ECG needed', background: '', assessment: '', recommendation: '' },
    });
    assert.equal(raised.type, 'ok', JSON.stringify(raised));
    const other = raised.result.task.id;
    await page.locator('section.alert.urgent:not([hidden])', { hasText: 'Chest pain' }).waitFor();
    await page.click('section.alert button:text-is("Decline…")');
    await page.click('dialog.ask button.chip:text-is("With a sick patient")');
    await inspect(page, '09-decline-dialog');
    await page.click('dialog.ask button[type=submit]');
    await page.locator('section.alert').waitFor({ state: 'hidden' });
    const declined = await coordinator.until(
      (evs) => evs.find((e) => e.event.kind === 'task' && e.event.task.id === other && e.event.change === 'declined'),
      5000,
      'the decline',
    );
    const offer = declined.event.task.offers.find((/** @type {any} */ o) => o.staff.name === 'Dr Asha Patel');
    assert.equal(offer.state, 'declined');
    assert.equal(offer.reason, 'With a sick patient');
    // The phone drops the card when its own copy of the decline arrives, which
    // may be a moment after the coordinator's.
    await page.locator(`article[data-task="${other}"]`).waitFor({ state: 'detached', timeout: 5000 });
    assert.equal(await page.locator(`article[data-task="${other}"]`).count(), 0, 'a declined task leaves My work');
  });

  it('starts the task', async () => {
    const card = doctor.page.locator(`article[data-task="${taskId}"]`);
    await card.locator('button', { hasText: 'Start' }).click();
    await card.locator('.state', { hasText: 'Started' }).waitFor();
    assert.equal(await card.locator('button.primary').textContent(), 'Complete', 'completing is now the next step');
  });

  it('queues the completion while offline and says so', async () => {
    const { page, context } = doctor;
    // Make sure the service worker controls the page before the network goes.
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null || navigator.serviceWorker.ready.then(() => true));
    await context.setOffline(true);
    await page.locator('#link-status[data-state="offline"]').waitFor({ timeout: 5000 });
    const card = page.locator(`article[data-task="${taskId}"]`);
    await card.locator('button', { hasText: 'Complete' }).click();
    await page.fill('dialog.ask textarea', 'Sent U&E and FBC, K+ result to follow');
    await inspect(page, '10-complete-dialog');
    await page.click('dialog.ask button[type=submit]');
    await card.locator('.pending', { hasText: 'Queued: Complete' }).waitFor();
    const status = await page.textContent('#link-status');
    assert.match(status ?? '', /^Offline since \d\d:\d\d, 1 action queued/);
    await inspect(page, '11-offline-queued');
  });

  it('reopens from the service worker cache while offline, action still queued', async () => {
    const { page } = doctor;
    // A ready service worker must be controlling the page for an offline reload.
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.reload();
    await page.locator('.me-name', { hasText: 'Dr Asha Patel' }).waitFor();
    await page.locator('#link-status[data-state="offline"]').waitFor();
    assert.match((await page.textContent('#link-status')) ?? '', /1 action queued/);
    await page.locator(`article[data-task="${taskId}"] .pending`, { hasText: 'Queued: Complete' }).waitFor();
    await inspect(page, '12-offline-reloaded');
  });

  it('sends the queued completion on reconnect, exactly once at the hub', async () => {
    const { page, context } = doctor;
    await context.setOffline(false);
    await waitOnline(page);
    await page.locator(`article[data-task="${taskId}"]`).waitFor({ state: 'detached', timeout: 10000 });
    assert.equal((await page.textContent('#link-status'))?.startsWith('Online'), true);
    await coordinator.until(
      (evs) => evs.some((e) => e.event.kind === 'task' && e.event.task.id === taskId && e.event.change === 'completed'),
      10000,
      'completion seen by the coordinator',
    );
    // Before counting: the phone has its answer (nothing left to send), the
    // hub has handled all the phone sent, and the coordinator has seen every
    // event the hub numbered meanwhile, so a duplicate would be there.
    await page.waitForFunction(() => /** @type {any} */ (window).wardpage.outbox.size === 0);
    await phoneBarrier(page);
    await barrier(coordinator);
    const completions = coordinator.events.filter((e) => e.event.kind === 'task' && e.event.task.id === taskId && e.event.change === 'completed');
    assert.equal(completions.length, 1, 'one completion event');
    const done = completions[0].event.task;
    assert.equal(done.state, 'completed');
    assert.equal(done.closing_note, 'Sent U&E and FBC, K+ result to follow');
    assert.equal(done.assignee.name, 'Dr Asha Patel');
    const snapshot = await coordinator.command({ op: 'snapshot' });
    assert.equal(snapshot.type, 'ok');
    assert.equal(snapshot.result.tasks.some((/** @type {any} */ t) => t.id === taskId), false, 'no longer an open task');
    await goTab(page, 'work');
    await inspect(page, '13-back-online');
  });

  it('re-sends a command whose answer was lost, and the hub applies it once', async () => {
    const { page } = doctor;
    const raised = await nurse.command({
      op: 'raise_task', ward: 'w7', bed: '14', patient: 'RX3334445', category: 'bloods', priority: 'routine',
      requirement: { skill: 'bloods' }, sbar: { situation: 'Morning bloods, missed on the day round', background: '', assessment: '', recommendation: '' },
    });
    assert.equal(raised.type, 'ok', JSON.stringify(raised));
    const second = raised.result.task.id;
    await page.locator('section.alert:not([hidden])', { hasText: 'Morning bloods' }).waitFor();
    await page.click('section.alert button:text-is("Accept")');
    const card = page.locator(`article[data-task="${second}"]`);
    await card.locator('.state', { hasText: 'Accepted' }).waitFor();

    // From the next socket on, sit between phone and hub: the first `ok` to a
    // `complete` is swallowed and the socket cut, as a Wi-Fi drop would.
    /** @type {string[]} */
    const completeIds = [];
    let swallowed = false;
    await page.routeWebSocket(/\/ws$/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((m) => {
        const frame = JSON.parse(String(m));
        if (frame.type === 'cmd' && frame.cmd.op === 'complete') completeIds.push(frame.id);
        server.send(m);
      });
      server.onMessage((m) => {
        const frame = JSON.parse(String(m));
        if (!swallowed && frame.type === 'ok' && completeIds.includes(frame.id)) {
          swallowed = true;
          void ws.close({ code: 4000, reason: 'dropped' });
          void server.close();
          return;
        }
        ws.send(m);
      });
    });
    // Reconnect so the new socket goes through the route.
    await doctor.context.setOffline(true);
    await page.locator('#link-status[data-state="offline"]').waitFor();
    await doctor.context.setOffline(false);
    await waitOnline(page);

    await card.locator('button', { hasText: 'Complete' }).click();
    await page.click('dialog.ask button[type=submit]');
    await card.waitFor({ state: 'detached', timeout: 15000 });
    // The card can go as soon as the "completed" event arrives, which the hub
    // may send just before the answer; wait for the answer to be swallowed
    // and the command re-sent on the next socket.
    await until(() => swallowed && completeIds.length >= 2, 'the lost answer and the command sent again');
    assert.equal(swallowed, true, 'the first answer was lost on the way');
    assert.equal(completeIds.length, 2, `sent twice: ${completeIds}`);
    assert.equal(completeIds[0], completeIds[1], 'with the same command id');
    await coordinator.until((evs) => evs.some((e) => e.event.kind === 'task' && e.event.task.id === second && e.event.change === 'completed'), 5000, 'completed');
    await page.waitForFunction(() => /** @type {any} */ (window).wardpage.outbox.size === 0);
    await phoneBarrier(page);
    await barrier(coordinator);
    const completions = coordinator.events.filter((e) => e.event.kind === 'task' && e.event.task.id === second && e.event.change === 'completed');
    assert.equal(completions.length, 1, 'applied once');
    assert.equal(await page.evaluate(() => /** @type {any} */ (window).wardpage.outbox.size), 0, 'nothing left queued');
  });

  it('had no script errors', () => {
    assert.deepEqual(doctor.errors, []);
  });
});
