// The patient by name in what a phone says away from the card (issue 17:
// "the patient's name and bed as the hospital writes them in every toast and
// alert"): a task raised for a bed with an admitted patient names her in
// the doctor's system notification and in the raiser's toast, after the
// ward's name ("Ward 7 (Medicine) bed 14, Ada Fairweather").

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, logIn, inspect } from './helpers/app.js';
import { connectAs } from './helpers/protocol.js';
import { until } from './helpers/faults.js';
import { admit, nhsNumber, clearWard } from './helpers/patients.js';
import { taskCmd } from './dashboard-helpers/dashboard.js';

describe('the patient by name in notifications and toasts', () => {
  /** @type {Awaited<ReturnType<typeof startHub>>} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let okafor;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let nurse;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let doctor;
  /** @type {string} */ let taskId;

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    const nic = await connectAs(hub.url, 'nic.grant');
    try {
      await clearWard(nic, 'w7');
      await admit(nic, { ward: 'w7', bed: '14', name: 'Ada Fairweather', nhs: nhsNumber(4004) });
    } finally {
      nic.close();
    }
    okafor = await connectAs(hub.url, 'nurse.okafor');
    nurse = await openPhone(browser, hub.url);
    await logIn(nurse.page, 'nurse.okafor');
    doctor = await openPhone(browser, hub.url);
    await doctor.context.grantPermissions(['notifications'], { origin: hub.url });
    await logIn(doctor.page, 'fy1.patel');
    await doctor.page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  });
  after(async () => {
    okafor?.close();
    await browser?.close();
    await hub?.stop();
  });

  it('names the patient in the doctor’s system notification', async () => {
    // In the background (a headless tab cannot be sent there, so it is told).
    await doctor.page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    const raised = await okafor.command(taskCmd({ bed: '14', priority: 'soon', requirement: { role: 'fy1' }, category: 'bloods' }));
    assert.equal(raised.type, 'ok', JSON.stringify(raised));
    taskId = raised.result.task.id;
    assert.equal(raised.result.task.patient_ref?.name, 'Ada Fairweather', 'the hub knows who is in bed 14');
    // The offer reached the phone first (its alert is drawn, hidden tab or
    // not): on a busy machine that alone can take seconds, and the
    // notification's own wait below is for what the phone does with it.
    await doctor.page.locator('section.alert:not([hidden])', { hasText: 'Bed 14' }).waitFor({ timeout: 20000 });
    const titles = await until(
      () =>
        doctor.page.evaluate(async () => {
          const reg = await navigator.serviceWorker.ready;
          const list = (await reg.getNotifications()).map((n) => n.title);
          return list.some((t) => t.includes('bed 14')) ? list : null;
        }),
      'the notification for bed 14',
      10000,
    );
    assert.deepEqual(titles.filter((t) => t.includes('bed 14')), ['New task: Ward 7 (Medicine) bed 14, Ada Fairweather']);
    await doctor.page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
      document.dispatchEvent(new Event('visibilitychange'));
    });
  });

  it('names the patient in the raiser’s toast when the task is accepted', async () => {
    const alert = doctor.page.locator('section.alert:not([hidden])', { hasText: 'Bed 14' });
    await alert.locator('button:text-is("Accept")').click();
    await okafor.until((evs) => evs.some((e) => e.event.kind === 'task' && e.event.task.id === taskId && e.event.change === 'accepted'), 10000, 'the acceptance');
    const toast = nurse.page.locator('.toast', { hasText: 'accepted by Dr Asha Patel' });
    await toast.waitFor();
    assert.equal(await toast.textContent(), 'Ward 7 (Medicine) bed 14, Ada Fairweather: accepted by Dr Asha Patel');
    await inspect(nurse.page, 'patient-named-toast');
    assert.ok(taskId);
  });

  it('had no script errors', () => {
    assert.deepEqual([...nurse.errors, ...doctor.errors], []);
  });
});
