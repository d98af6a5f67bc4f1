// The nurse who raised an urgent or emergency task must hear it when nobody
// takes it: "no one accepted", an escalation and a hand-back ring her phone
// with the same full-screen alert and sound as an offer (it used to be a
// silent 4-second toast), with the decline and hand-back reasons; her Raised
// list puts the most urgent and most overdue first.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, logIn, inspect, goTab } from './helpers/app.js';
import { connectAs } from './helpers/protocol.js';

/** @param {string} bed @param {string} priority @param {any} requirement @param {string} situation */
const task = (bed, priority, requirement, situation) => ({
  op: 'raise_task', ward: 'w7', bed, patient: `RX${bed}11111`, category: 'medical_review', priority,
  requirement, sbar: { situation, background: '', assessment: '', recommendation: '' },
});

/** @param {import('playwright-core').Page} page */
const nowPlaying = (page) => page.evaluate(() => /** @type {any} */ (window).wardpage.sound.nowPlaying());

describe('the raiser is alerted when her urgent task is not taken', () => {
  /** @type {import('./helpers/hub.js').Hub} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let nurse;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let okafor;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let evans;

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    nurse = await openPhone(browser, hub.url);
    await logIn(nurse.page, 'nurse.okafor');
    // The same nurse at the ward's desktop: what she raises there is hers too.
    okafor = await connectAs(hub.url, 'nurse.okafor');
    evans = await connectAs(hub.url, 'reg.evans');
  });
  after(async () => {
    okafor?.close();
    evans?.close();
    await browser?.close();
    await hub?.stop();
  });

  it('rings loudly when the only candidate declines (no one accepted), with the reason', async () => {
    const raised = await okafor.command(task('21', 'urgent', { role: 'registrar' }, 'Hypotensive, needs senior review'));
    assert.equal(raised.type, 'ok', JSON.stringify(raised));
    const declined = await evans.command({ op: 'decline', task: raised.result.task.id, reason: 'In resus on AMU' });
    assert.equal(declined.type, 'ok', JSON.stringify(declined));
    const { page } = nurse;
    const alert = page.locator('section.alert.urgent:not([hidden])', { hasText: 'No one accepted your task' });
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /Declined by Dr Claire Evans: “In resus on AMU”/);
    assert.equal(await nowPlaying(page), 'urgent', 'the urgent sound loops, as for an offer');
    await inspect(page, '63-raiser-no-one-accepted');
    await page.click('section.alert button:text-is("Seen")');
    await page.locator('section.alert').waitFor({ state: 'hidden' });
    assert.equal(await nowPlaying(page), null);
  });

  it('rings for an emergency handed back, with who and why, and shows the reason on her card', async () => {
    const raised = await okafor.command(task('22', 'emergency', { role: 'registrar' }, 'Peri-arrest, NEWS2 9'));
    assert.equal(raised.type, 'ok', JSON.stringify(raised));
    const id = raised.result.task.id;
    assert.equal((await evans.command({ op: 'accept', task: id })).type, 'ok');
    assert.equal((await evans.command({ op: 'hand_back', task: id, reason: 'Called to an arrest on Ward 8' })).type, 'ok');
    const { page } = nurse;
    const alert = page.locator('section.alert.emergency:not([hidden])', { hasText: 'handed back by Dr Claire Evans' });
    await alert.waitFor();
    await alert.locator('.alert-reason', { hasText: '“Called to an arrest on Ward 8”' }).waitFor();
    assert.equal(await nowPlaying(page), 'emergency');
    assert.equal(await alert.locator('button', { hasText: 'Later' }).count(), 0, 'an emergency is not put off');
    await inspect(page, '64-raiser-handed-back');
    await page.click('section.alert button:text-is("Seen")');
    await page.locator('section.alert').waitFor({ state: 'hidden' });
    await goTab(page, 'raised');
    const card = page.locator(`article[data-task="${id}"]`);
    await card.locator('.who.handed-back', { hasText: /Handed back by Dr Claire Evans at \d\d:\d\d: “Called to an arrest on Ward 8”/ }).waitFor();
    await page.locator(`article[data-task="${raised.result.task.id}"]`).waitFor();
  });

  it('sorts Raised by urgency, then the most overdue first', async () => {
    const ids = [];
    // Raised in this order, so "newest first" would put them the wrong way up.
    for (const [bed, prio] of [['13', 'emergency'], ['14', 'urgent'], ['15', 'urgent'], ['16', 'routine']]) {
      const r = await okafor.command(task(bed, prio, { skill: 'prescribing' }, `Sort check bed ${bed}`));
      assert.equal(r.type, 'ok', JSON.stringify(r));
      ids.push(r.result.task.id);
    }
    const { page } = nurse;
    await goTab(page, 'raised');
    await page.locator(`article[data-task="${ids[3]}"]`).waitFor();
    const order = await page.$$eval('section.view article.card[data-task]', (cards) => cards.map((c) => c.getAttribute('data-task')));
    const mine = order.filter((id) => ids.includes(id ?? ''));
    assert.deepEqual(mine, ids, 'emergency first, then the urgent task due first, then routine');
    // And every emergency above every urgent one, whenever it was raised.
    const prios = await page.$$eval('section.view article.card[data-task]', (cards) => cards.map((c) => c.className));
    const firstUrgent = prios.findIndex((c) => /\burgent\b/.test(c));
    const lastEmergency = prios.map((c) => /\bemergency\b/.test(c)).lastIndexOf(true);
    assert.ok(firstUrgent === -1 || lastEmergency < firstUrgent, `emergencies above urgent tasks: ${prios.join(' | ')}`);
    await inspect(page, '65-raised-sorted');
  });

  it('had no script errors', () => {
    assert.deepEqual(nurse.errors, []);
  });
});

const FAST_ESCALATION = `
[[escalation.task]]
name = "fast"
accept = { steps = [ { action = "widen", roles = ["registrar"], after_secs = 2 }, { action = "coordinator", after_mins = 30 } ] }
complete = { steps = [ { action = "coordinator", after_mins = 60 } ] }
`;

describe('the raiser is alerted when her urgent task escalates', () => {
  /** @type {import('./helpers/hub.js').Hub} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let nurse;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let okafor;

  before(async () => {
    hub = await startHub({ config: FAST_ESCALATION });
    browser = await launchBrowser();
    nurse = await openPhone(browser, hub.url);
    await logIn(nurse.page, 'nurse.okafor');
    okafor = await connectAs(hub.url, 'nurse.okafor');
  });
  after(async () => {
    okafor?.close();
    await browser?.close();
    await hub?.stop();
  });

  it('rings, saying in plain words why, when nobody accepts in time', async () => {
    const raised = await okafor.command(task('8', 'urgent', { skill: 'ecg' }, 'Chest pain, ECG needed now'));
    assert.equal(raised.type, 'ok', JSON.stringify(raised));
    await okafor.until((evs) => evs.some((e) => e.event.kind === 'task_escalated'), 15000, 'the escalation');
    const { page } = nurse;
    const alert = page.locator('section.alert.urgent:not([hidden])', { hasText: 'Your task was not accepted in time' });
    await alert.waitFor();
    const reason = (await alert.locator('.alert-reason').textContent()) ?? '';
    // What did not happen, for how long, and who was asked: not the
    // ladder's account of its steps ("widen", "last resort", role codes).
    assert.match(reason, /^Nobody accepted it in [^.]+\. Offered to Dr Claire Evans \(Registrar\)/, reason);
    assert.doesNotMatch(reason, /registrar on|last resort|widen|nobody connected for/i, reason);
    assert.equal(await nowPlaying(page), 'urgent');
    await inspect(page, '66-raiser-escalated');
    await page.click('section.alert button:text-is("Seen")');
    await page.locator('section.alert').waitFor({ state: 'hidden' });
  });

  it('had no script errors', () => {
    assert.deepEqual(nurse.errors, []);
  });
});
