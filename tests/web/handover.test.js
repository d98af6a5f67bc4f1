// Shift handover on the screens, against a real hub: the outgoing doctor sees
// what she holds near the end of her shift (tasks and unacknowledged pages)
// and hands a task to a named colleague from the list of those who could
// take it; the colleague's phone shows the handover until answered; a
// refusal comes back to the giver with its reason; an acceptance moves the
// task; what is still held when the shift ends is offered again, and the
// coordinator's "Needs you now" says so (and lists handovers waiting).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, logIn, inspect, goTab, screenshot } from './helpers/app.js';
import { connectAs } from './helpers/protocol.js';
import { logInAs } from './helpers/patients.js';
import { openDashboard, logInDashboard, waitLive, taskCmd } from './dashboard-helpers/dashboard.js';

/** @param {any} frame */
function ok(frame) {
  assert.equal(frame.type, 'ok', JSON.stringify(frame));
  return frame.result;
}

describe('shift handover on the handheld and the dashboard', () => {
  /** @type {import('./helpers/hub.js').Hub} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let patel;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let khan;
  /** @type {Awaited<ReturnType<typeof openDashboard>>} */ let desk;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let nurse;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let fy1;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let coord;
  /** @type {string} */ let patelId;
  /** @type {string} */ let cannula;
  /** @type {string} */ let bloods;

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    nurse = await connectAs(hub.url, 'nurse.okafor');
    fy1 = await connectAs(hub.url, 'fy1.patel');
    coord = await connectAs(hub.url, 'coord.hale');
    patelId = fy1.welcome.me.id;
    // Dr Patel's shift ends in 40 minutes: the panel must open by itself.
    ok(await coord.command({ op: 'start_shift', staff: patelId, role: 'fy1', wards: ['w7', 'w8'], ends_at: Date.now() + 40 * 60 * 1000 }));
    cannula = ok(await nurse.command(taskCmd({ bed: '12' }))).task.id;
    bloods = ok(await nurse.command(taskCmd({ bed: '4', category: 'bloods', priority: 'soon', requirement: { skill: 'bloods' }, sbar: { situation: 'Repeat potassium, was 6.1', background: '', assessment: '', recommendation: '' } }))).task.id;
    ok(await fy1.command({ op: 'accept', task: cannula }));
    ok(await fy1.command({ op: 'accept', task: bloods }));
    ok(await nurse.command({ op: 'send_page', target: { staff: patelId }, priority: 'soon', callback: '4471', message: 'Family asking for an update on bed 9' }));
    patel = await openPhone(browser, hub.url);
    // The page to her rings at once, over the shell.
    await logInAs(patel.page, 'fy1.patel');
    khan = await openPhone(browser, hub.url);
    await logIn(khan.page, 'sho.khan');
    desk = await openDashboard(browser, hub.url);
    await logInDashboard(desk.page, 'coord.hale');
    await waitLive(desk.page);
  });
  after(async () => {
    for (const c of [nurse, fy1, coord]) c?.close();
    await browser?.close();
    await hub?.stop();
  });

  it('shows the outgoing doctor what she holds, open near the shift’s end, with who could take each task', async () => {
    const { page } = patel;
    // The page would ring over everything: put it off (it stays unacknowledged).
    const ringing = page.locator('section.alert:not([hidden])', { hasText: 'Family asking for an update on bed 9' });
    await ringing.waitFor();
    await ringing.locator('button:text-is("Later")').click();
    await page.locator('section.alert').waitFor({ state: 'hidden' });
    const panel = page.locator('details.handover-panel[open]');
    await panel.waitFor();
    assert.match((await panel.locator('summary.handover-summary').textContent()) ?? '', /you hold 2 tasks and 1 unacknowledged page · shift ends \d\d:\d\d \(in (39|40) min\)/);
    const card = panel.locator(`.handover-item[data-task="${cannula}"]`);
    const options = await card.locator('select.handover-to option').allTextContents();
    // Cannulation on Ward 7: the SHO and the nurse practitioner, not her, not the registrar.
    assert.deepEqual(options, ['Choose who takes it…', 'Dr Omar Khan (SHO)', 'Niamh Murphy (Nurse practitioner)']);
    await panel.locator('.handover-page', { hasText: 'Family asking for an update on bed 9' }).waitFor();
    await inspect(page, '90-handover-held');
  });

  it('hands a task to a named colleague, whose phone shows it until answered', async () => {
    const card = patel.page.locator(`details.handover-panel .handover-item[data-task="${cannula}"]`);
    await card.locator('select.handover-to').selectOption({ label: 'Dr Omar Khan (SHO)' });
    await card.locator('button', { hasText: /^Hand over$/ }).click();
    await card.locator('.handover-pending', { hasText: 'Handing over to Dr Omar Khan' }).waitFor();
    const banner = khan.page.locator('section.handover-incoming:not([hidden])');
    await banner.locator(`article[data-task="${cannula}"] .handover-from`, { hasText: 'Dr Asha Patel is handing this over to you' }).waitFor();
    // On every screen, not only "My work".
    await goTab(khan.page, 'raised');
    await banner.waitFor();
    await inspect(khan.page, '91-handover-incoming');
    // The coordinator sees it waiting, without a ring.
    const line = desk.page.locator('#attention li[data-kind="handover"]', { hasText: 'Dr Asha Patel to Dr Omar Khan' });
    await line.waitFor();
  });

  it('brings a refusal back to the giver, with the reason', async () => {
    const banner = khan.page.locator('section.handover-incoming');
    await banner.locator('button', { hasText: 'Decline' }).click();
    await khan.page.fill('dialog[open] textarea', 'In resus on AMU for the next hour');
    await khan.page.click('dialog[open] button:text-is("Decline")');
    await banner.waitFor({ state: 'hidden' });
    const card = patel.page.locator(`details.handover-panel .handover-item[data-task="${cannula}"]`);
    await card.locator('.handover-declined', { hasText: /Dr Omar Khan declined the handover at \d\d:\d\d: “In resus on AMU for the next hour”\. You still hold it\./ }).waitFor();
    await inspect(patel.page, '92-handover-declined');
    const held = ok(await fy1.command({ op: 'handover' }));
    assert.deepEqual(held.tasks.map((/** @type {any} */ t) => t.id).sort(), [cannula, bloods].sort(), 'she still holds both');
  });

  it('moves the task when the colleague accepts', async () => {
    const card = patel.page.locator(`details.handover-panel .handover-item[data-task="${cannula}"]`);
    await card.locator('select.handover-to').selectOption({ label: 'Dr Omar Khan (SHO)' });
    await card.locator('button', { hasText: /^Hand over$/ }).click();
    const banner = khan.page.locator('section.handover-incoming:not([hidden])');
    await banner.locator('button', { hasText: 'Accept handover' }).click();
    await khan.page.locator('section.handover-incoming[hidden]').waitFor({ state: 'attached' });
    await goTab(khan.page, 'work');
    await khan.page.locator(`section.view article[data-task="${cannula}"]`).waitFor();
    await patel.page.locator('.handover-outcome.accepted', { hasText: /^Ward 7 \(Medicine\) bed 12: accepted by Dr Omar Khan at \d\d:\d\d$/ }).waitFor();
    await card.waitFor({ state: 'detached' });
    const held = ok(await fy1.command({ op: 'handover' }));
    assert.deepEqual(held.tasks.map((/** @type {any} */ t) => t.id), [bloods]);
    await inspect(patel.page, '93-handover-accepted');
  });

  it('offers again what is still held when the shift ends, and the coordinator is told', async () => {
    ok(await coord.command({ op: 'end_shift', staff: patelId }));
    await patel.page.locator('.handover-outcome.returned', { hasText: /^Ward 7 \(Medicine\) bed 4: still held when your shift ended/ }).waitFor();
    const line = desk.page.locator('#attention li[data-kind="shift_end"]', { hasText: 'Shift ended holding work: Dr Asha Patel' });
    await line.waitFor();
    assert.match((await line.textContent()) ?? '', /1 task\(s\), now offered again, and 1 page\(s\) unacknowledged/);
    await line.scrollIntoViewIfNeeded();
    await screenshot(desk.page, '95-dashboard-handover');
    await inspect(patel.page, '94-handover-shift-ended');
    const seen = await coord.command({ op: 'snapshot' });
    const t = ok(seen).tasks.find((/** @type {any} */ x) => x.id === bloods);
    assert.equal(t.state, 'offering', 'the bloods are offered again, not left with her');
    assert.equal(t.assignee, null);
  });

  it('had no script errors', () => {
    assert.deepEqual(patel.errors, []);
    assert.deepEqual(khan.errors, []);
    assert.deepEqual(desk.errors, []);
  });
});
