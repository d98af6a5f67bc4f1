// Nobody answers: an urgent cannula on Ward 7 sits unaccepted, so the hub
// escalates it to the registrar, whose phone shows the escalation (with the
// hub's reason) on the same full-screen alert as an offer; the nurse sees
// that it escalated. An unacknowledged page escalates to the coordinator.
// The hub runs with a fast escalation policy so this takes seconds.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, logIn, inspect, goTab } from './helpers/app.js';
import { connectAs } from './helpers/protocol.js';

const FAST_ESCALATION = `
[[escalation.task]]
name = "fast"
accept = { steps = [ { action = "widen", roles = ["registrar"], after_secs = 2 }, { action = "coordinator", after_mins = 30 } ] }
complete = { steps = [ { action = "coordinator", after_mins = 60 } ] }

[escalation.page]
steps = [ { action = "coordinator", after_secs = 2 } ]
repeat_every_mins = 30
`;

describe('escalation', () => {
  /** @type {import('./helpers/hub.js').Hub} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let registrar;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let nurse;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let coordinator;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let charge;

  before(async () => {
    hub = await startHub({ config: FAST_ESCALATION });
    browser = await launchBrowser();
    charge = await connectAs(hub.url, 'nic.grant');
  });
  after(async () => {
    charge?.close();
    await browser?.close();
    await hub?.stop();
  });

  it('escalates an unaccepted task to the registrar’s phone, with the reason', async () => {
    registrar = await openPhone(browser, hub.url);
    await logIn(registrar.page, 'reg.evans');
    nurse = await openPhone(browser, hub.url);
    await logIn(nurse.page, 'nurse.okafor');
    const raised = await charge.command({
      op: 'raise_task', ward: 'w7', bed: '8', patient: 'RX8080808', category: 'cannula', priority: 'urgent',
      requirement: { skill: 'cannulation' }, sbar: { situation: 'No IV access, sepsis six due', background: '', assessment: '', recommendation: '' },
    });
    assert.equal(raised.type, 'ok', JSON.stringify(raised));
    const { page } = registrar;
    const alert = page.locator('section.alert.urgent:not([hidden])');
    await alert.waitFor({ timeout: 15000 });
    const text = (await alert.textContent()) ?? '';
    assert.match(text, /Escalated to you/);
    assert.match(text, /Bed 8/);
    assert.ok((await alert.locator('.alert-reason').textContent())?.length, 'the hub’s reason is shown');
    assert.equal(await page.evaluate(() => /** @type {any} */ (window).wardpage.sound.nowPlaying()), 'urgent');
    await inspect(page, '50-alert-escalated');
    await page.click('section.alert button:text-is("Accept")');
    await page.locator('section.alert').waitFor({ state: 'hidden' });
    await page.locator('article.card .state', { hasText: 'Accepted' }).waitFor();
  });

  it('shows the raiser’s ward nurse that it escalated and who took it', async () => {
    // Raised by the charge nurse: Nurse Okafor covers Ward 7 and so sees it,
    // but it is not hers; the charge nurse's view is checked over the protocol.
    const escalated = await charge.until((evs) => evs.find((e) => e.event.kind === 'task_escalated'), 5000, 'task_escalated');
    assert.equal(escalated.event.level >= 1, true);
    assert.ok(escalated.event.alerted.some((/** @type {any} */ s) => s.name === 'Dr Claire Evans'), JSON.stringify(escalated.event.alerted));
    await charge.until((evs) => evs.some((e) => e.event.kind === 'task' && e.event.change === 'accepted' && e.event.task.assignee?.name === 'Dr Claire Evans'), 5000, 'accepted by the registrar');
  });

  it('escalates an unacknowledged page to the coordinator', async () => {
    coordinator = await openPhone(browser, hub.url);
    await logIn(coordinator.page, 'coord.hale');
    const patel = await nurse.page.evaluate(() => /** @type {any} */ (window).wardpage.store.directory.staff.find((/** @type {any} */ s) => s.login === 'fy1.patel').id);
    await goTab(nurse.page, 'pages');
    await nurse.page.click('details.compose > summary');
    await nurse.page.selectOption('#page-person', patel);
    await nurse.page.selectOption('#page-priority', 'soon');
    await nurse.page.fill('#page-callback', 'ext 4471');
    await nurse.page.fill('#page-message', 'Drug chart needs rewriting, bed 2');
    await nurse.page.click('form.page-form button[type=submit]');
    await nurse.page.locator('.form-outcome .notice.ok').waitFor();
    const { page } = coordinator;
    const alert = page.locator('section.alert.soon:not([hidden])', { hasText: 'Escalated page' });
    await alert.waitFor({ timeout: 15000 });
    assert.match((await alert.textContent()) ?? '', /Drug chart needs rewriting/);
    await inspect(page, '51-alert-page-escalated');
    await page.click('section.alert button:text-is("Acknowledge")');
    await page.locator('section.alert').waitFor({ state: 'hidden' });
    await nurse.page.locator('#pages-out .who.escalated').waitFor();
    await inspect(nurse.page, '52-pages-sender-escalated');
  });

  it('had no script errors', () => {
    assert.deepEqual(registrar.errors, []);
    assert.deepEqual(nurse.errors, []);
    assert.deepEqual(coordinator.errors, []);
  });
});
