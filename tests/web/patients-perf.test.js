// How long the patient list takes to draw a full ward on the phone profile:
// 30 patients (Ward 7's 24 beds and 6 of Ward 8, both covered by the nurse
// in charge), each with a set, from the tap on the tab to the last row.
// The figure is printed for the benchmarks; the only assertion is a
// generous sanity bound.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone } from './helpers/app.js';
import { connectAs } from './helpers/protocol.js';
import { admit, record, nhsNumber, CALM, logInAs, putOffOverdue, shot, clearWard } from './helpers/patients.js';

describe('patient list render time', () => {
  /** @type {Awaited<ReturnType<typeof startHub>>} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let nic;

  before(async () => {
    // Not about reach: an offer to nobody connected waits (its escalation would ring here).
    hub = await startHub({ config: '[escalation]\nnobody_connected = "wait"\n' });
    browser = await launchBrowser();
    nic = await connectAs(hub.url, 'nic.grant');
    await clearWard(nic, 'w7');
    await clearWard(nic, 'w8');
    for (let i = 0; i < 30; i += 1) {
      const ward = i < 24 ? 'w7' : 'w8';
      const bed = String(i < 24 ? i + 1 : i - 23);
      const p = await admit(nic, { ward, bed, name: `Patient ${String(i + 1).padStart(2, '0')} Testcase`, nhs: nhsNumber(5000 + i * 7) });
      await record(nic, p.id, { ...CALM, respiration_rate: 12 + (i % 14) });
    }
  });
  after(async () => {
    nic?.close();
    await browser?.close();
    await hub?.stop();
  });

  it('draws 30 patients', async () => {
    const phone = await openPhone(browser, hub.url);
    const { page } = phone;
    await logInAs(page, 'nic.grant');
    await page.waitForFunction(() => /** @type {any} */ (window).wardpage.store.patients.size === 30);
    await putOffOverdue(page);
    await page.locator('a.tab[data-tab="work"][aria-current="page"]').waitFor();
    // From the tap to the frame after the last row is in the DOM.
    const ms = await page.evaluate(
      () =>
        new Promise((resolve) => {
          const start = performance.now();
          const done = () => {
            if (document.querySelectorAll('li.pt-row[data-patient]').length >= 30) requestAnimationFrame(() => resolve(performance.now() - start));
            else requestAnimationFrame(done);
          };
          /** @type {HTMLElement} */ (document.querySelector('a.tab[data-tab="patients"]')).click();
          done();
        }),
    );
    console.log('patient list render ms', Math.round(Number(ms)));
    await shot(page, 'p10-list-30');
    assert.equal(await page.locator('li.pt-row[data-patient]').count(), 30);
    assert.ok(Number(ms) < 2000, `rendered in ${ms} ms`);
    assert.deepEqual(phone.errors, []);
  });
});
