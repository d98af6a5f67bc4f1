// Who may use the dashboard, checked where it counts: at the hub. A nurse's
// session sending the dashboard's commands gets `forbidden` for each (hiding
// them in the UI would protect nothing), and the nurse's browser gets a
// polite refusal instead of the board. A nurse in charge may read the history
// of her own wards and watch, but not assign, re-prioritise or escalate.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { connectAs } from './helpers/protocol.js';
import { expectAccessible, screenshot } from './helpers/app.js';
import { openDashboard, logInDashboard, waitLive, taskCmd } from './dashboard-helpers/dashboard.js';

describe('coordinator dashboard: access', () => {
  /** @type {import('./helpers/hub.js').Hub} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let coord;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let nurse;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let charge;
  /** @type {any} */ let w7Task;
  /** @type {any} */ let amuTask;

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    coord = await connectAs(hub.url, 'coord.hale');
    nurse = await connectAs(hub.url, 'nurse.okafor');
    charge = await connectAs(hub.url, 'nic.grant');
    const a = await coord.command(taskCmd({ ward: 'w7', bed: '2' }));
    const b = await coord.command(taskCmd({ ward: 'amu', bed: '6', requirement: { skill: 'bloods' }, category: 'bloods' }));
    assert.equal(a.type, 'ok', JSON.stringify(a));
    assert.equal(b.type, 'ok', JSON.stringify(b));
    w7Task = a.result.task;
    amuTask = b.result.task;
  });
  after(async () => {
    for (const c of [coord, nurse, charge]) c?.close();
    await browser?.close();
    await hub?.stop();
  });

  it('refuses every coordinator command from a nurse’s session at the hub', async () => {
    const khan = (await coord.command({ op: 'directory' })).result.staff.find((/** @type {any} */ s) => s.login === 'sho.khan');
    const commands = [
      { op: 'history', since: 0 },
      { op: 'assign', task: w7Task.id, staff: khan.id },
      { op: 'set_priority', task: w7Task.id, priority: 'emergency' },
      { op: 'escalate_now', task: w7Task.id },
      { op: 'cancel', task: w7Task.id, reason: 'not mine to cancel' },
      { op: 'start_shift', staff: khan.id, role: 'sho', wards: ['w7'], ends_at: Date.now() + 3600000 },
      { op: 'end_shift', staff: khan.id },
    ];
    for (const cmd of commands) {
      const answer = await nurse.command(cmd);
      assert.equal(answer.type, 'error', `${cmd.op} from a nurse: ${JSON.stringify(answer)}`);
      assert.equal(answer.code, 'forbidden', `${cmd.op} from a nurse: ${JSON.stringify(answer)}`);
    }
    // Nothing changed: the task is still as raised.
    const history = await coord.command({ op: 'history', since: 0 });
    const still = history.result.tasks.find((/** @type {any} */ t) => t.id === w7Task.id);
    assert.equal(still.version, w7Task.version);
    assert.equal(still.state, 'offering');
  });

  it('lets a nurse in charge read her wards’ history, but not command', async () => {
    const history = await charge.command({ op: 'history', since: 0 });
    assert.equal(history.type, 'ok', JSON.stringify(history));
    const ids = history.result.tasks.map((/** @type {any} */ t) => t.id);
    assert.ok(ids.includes(w7Task.id), 'Ward 7 is hers');
    assert.ok(!ids.includes(amuTask.id), 'AMU is not');
    const khan = (await charge.command({ op: 'directory' })).result.staff.find((/** @type {any} */ s) => s.login === 'sho.khan');
    for (const cmd of [
      { op: 'assign', task: w7Task.id, staff: khan.id },
      { op: 'set_priority', task: w7Task.id, priority: 'emergency' },
      { op: 'escalate_now', task: w7Task.id },
    ]) {
      const answer = await charge.command(cmd);
      assert.equal(answer.code, 'forbidden', `${cmd.op} from a nurse in charge: ${JSON.stringify(answer)}`);
    }
  });

  it('shows a nurse a refusal, not the board', async () => {
    const { page, errors } = await openDashboard(browser, hub.url);
    await logInDashboard(page, 'nurse.okafor');
    await page.locator('h1', { hasText: 'This screen is for the night coordinator' }).waitFor();
    assert.match((await page.locator('main').textContent()) ?? '', /Nurse Sam Okafor \(Nurse\)/);
    assert.equal(await page.locator('.board').count(), 0, 'no board');
    assert.equal(await page.locator('#link-status').count(), 0, 'no live link opened');
    await expectAccessible(page, 'dashboard refusal');
    await screenshot(page, 'dash-08-refused-nurse');
    // The way out works: back to the login form.
    await page.click('button:text-is("Log out")');
    await page.locator('#login-user').waitFor();
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  it('gives a nurse in charge the board to watch, without the coordinator’s actions', async () => {
    const { page, errors } = await openDashboard(browser, hub.url, { colorScheme: 'dark' });
    await logInDashboard(page, 'nic.grant');
    await waitLive(page);
    assert.match((await page.locator('.me').textContent()) ?? '', /view and page only/);
    await page.locator(`.board [data-id="${w7Task.id}"]`).waitFor();
    assert.equal(await page.locator(`.board [data-id="${amuTask.id}"]`).count(), 0, 'only her wards');
    await page.click(`.board [data-id="${w7Task.id}"] button.task-link`);
    const dialog = page.locator('dialog.detail[open]');
    await dialog.locator('text=are for the coordinator').waitFor();
    assert.equal(await dialog.locator('button', { hasText: 'Assign' }).count(), 0);
    await dialog.locator('.timeline li[data-action="raise"]').waitFor();
    await expectAccessible(page, 'dashboard for a nurse in charge');
    await page.keyboard.press('Escape');
    assert.deepEqual(errors, []);
    await page.context().close();
  });
});
