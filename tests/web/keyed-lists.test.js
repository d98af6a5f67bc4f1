// The handheld's lists are updated by key: when the hub changes one task, or
// adds another, the card and the button a nurse has focused (or is about to
// tap) stay the same elements, still focused, instead of being swapped for
// new ones under her finger. "Raised" (Nurse Okafor's own tasks, changed by
// the hub and by Dr Khan) and "My work" (Dr Patel's tasks, one started from
// her other device) are both checked.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, logIn, goTab } from './helpers/app.js';
import { connectAs } from './helpers/protocol.js';

/** @param {string} bed @param {string} situation */
const cannula = (bed, situation) => ({
  op: 'raise_task', ward: 'w7', bed, patient: 'RX5550021', category: 'cannula', priority: 'urgent',
  requirement: { skill: 'cannulation' }, sbar: { situation, background: '', assessment: '', recommendation: '' },
});

/**
 * Whether the element is still in the document and has the focus.
 * @param {import('playwright-core').ElementHandle} handle
 */
function stillFocused(handle) {
  return handle.evaluate((el) => el.isConnected && document.activeElement === el);
}

/** @param {import('./helpers/protocol.js').ProtocolClient} client @param {any} cmd */
async function ok(client, cmd) {
  const answer = await client.command(cmd);
  assert.equal(answer.type, 'ok', JSON.stringify(answer));
  return answer.result;
}

describe('handheld lists keep their elements', () => {
  /** @type {Awaited<ReturnType<typeof startHub>>} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let nurse;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let doctor;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let okafor;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let khan;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let patel;

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    okafor = await connectAs(hub.url, 'nurse.okafor');
    khan = await connectAs(hub.url, 'sho.khan');
    patel = await connectAs(hub.url, 'fy1.patel');
  });
  after(async () => {
    okafor?.close();
    khan?.close();
    patel?.close();
    await browser?.close();
    await hub?.stop();
  });

  it('keeps the focused "Cancel task" button when another task is raised and when its own task changes', async () => {
    nurse = await openPhone(browser, hub.url);
    await logIn(nurse.page, 'nurse.okafor');
    const { page } = nurse;
    await goTab(page, 'raised');
    const first = (await ok(okafor, cannula('12', 'Tissued cannula, IV antibiotics due 02:00'))).task.id;
    /** @type {string | null} */
    let second = null;
    try {
      const cancel = page.locator(`article[data-task="${first}"] button`, { hasText: 'Cancel task' });
      await cancel.waitFor();
      const card = await page.locator(`article[data-task="${first}"]`).elementHandle();
      const button = await cancel.elementHandle();
      assert.ok(card && button);
      await button.focus();
      assert.equal(await stillFocused(button), true, 'focused to begin with');

      // Another task of hers: a new card, an emergency, so above the focused one
      // (Raised puts the most urgent first).
      second = (await ok(okafor, { ...cannula('14', 'Cannula fell out, fluids running'), priority: 'emergency' })).task.id;
      await page.locator(`article[data-task="${second}"]`).waitFor();
      assert.deepEqual(
        await page.locator('article.card[data-task]').evaluateAll((els) => els.map((e) => /** @type {HTMLElement} */ (e).dataset.task)),
        [second, first],
        'the emergency first',
      );
      assert.equal(await stillFocused(button), true, 'the same button, still focused, after another task was raised');
      assert.equal(await card.evaluate((el) => el.isConnected), true, 'the same card');

      // Its own task changes (Dr Khan declines): the card is updated in place.
      await ok(khan, { op: 'decline', task: first, reason: 'In resus on AMU' });
      await page.locator(`article[data-task="${first}"] .who.declined`, { hasText: 'Declined by Dr Omar Khan' }).waitFor();
      assert.equal(await stillFocused(button), true, 'the same button, still focused, after its task changed');
      assert.equal(await card.evaluate((el) => el.isConnected), true, 'the same card');

      // Cancelling the second one moves it under "Closed": the first stays put.
      await ok(okafor, { op: 'cancel', task: second, reason: 'Re-sited by the nurse' });
      await page.locator(`article[data-task="${second}"] .state`, { hasText: 'Cancelled' }).waitFor();
      assert.equal(await stillFocused(button), true, 'still focused after the other task closed');
    } finally {
      // Nothing left offered to Dr Patel, whose phone opens next (cancelling
      // a closed task is refused, which is fine here).
      await okafor.command({ op: 'cancel', task: first, reason: 'Re-sited by the nurse' });
      if (second) await okafor.command({ op: 'cancel', task: second, reason: 'Re-sited by the nurse' });
    }
  });

  it('keeps the focused "Start" button in My work when another held task changes', async () => {
    // Two tasks Dr Patel accepts from another device before her phone opens,
    // so nothing rings on the phone.
    const a = (await ok(okafor, cannula('3', 'Cannula for IV furosemide'))).task.id;
    const b = (await ok(okafor, cannula('4', 'Cannula for transfusion'))).task.id;
    await ok(patel, { op: 'accept', task: a });
    await ok(patel, { op: 'accept', task: b });
    doctor = await openPhone(browser, hub.url);
    await logIn(doctor.page, 'fy1.patel');
    const { page } = doctor;
    const start = page.locator(`article[data-task="${a}"] button`, { hasText: 'Start' });
    await start.waitFor();
    await page.locator(`article[data-task="${b}"] button`, { hasText: 'Start' }).waitFor();
    const button = await start.elementHandle();
    assert.ok(button);
    await button.focus();

    await ok(patel, { op: 'start', task: b });
    await page.locator(`article[data-task="${b}"] .state`, { hasText: 'Started' }).waitFor();
    assert.equal(await page.locator(`article[data-task="${b}"] button`, { hasText: 'Start' }).count(), 0, 'the other card changed');
    assert.equal(await stillFocused(button), true, 'the same Start button, still focused');

    // The handler is the current one: tapping the kept button starts task a.
    await page.keyboard.press('Enter');
    await page.locator(`article[data-task="${a}"] .state`, { hasText: 'Started' }).waitFor();
    await patel.until((evs) => evs.some((e) => e.event.kind === 'task' && e.event.task.id === a && e.event.change === 'started'), 10000, 'task a started');
  });

  it('had no script errors', () => {
    assert.deepEqual(nurse.errors, []);
    assert.deepEqual(doctor.errors, []);
  });
});
