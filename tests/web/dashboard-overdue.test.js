// Overdue on screen: with a one-minute accept target (hub config) a task
// turns overdue on the dashboard when its accept-by passes, in words and not
// only in colour; once accepted it is measured against its complete-by
// target instead. The page's clock is moved on rather than waiting.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { connectAs } from './helpers/protocol.js';
import { expectAccessible, screenshot } from './helpers/app.js';
import { openDashboard, logInDashboard, waitLive, taskCmd } from './dashboard-helpers/dashboard.js';

// Every priority must be given; only urgent differs from the defaults.
const SHORT_TARGETS = `
[priorities.emergency]
accept_within_mins = 2
complete_within_mins = 30

[priorities.urgent]
accept_within_mins = 1
complete_within_mins = 3

[priorities.soon]
accept_within_mins = 60
complete_within_mins = 240

[priorities.routine]
accept_within_mins = 240
complete_within_mins = 720
`;

describe('coordinator dashboard: overdue tasks stand out', () => {
  /** @type {import('./helpers/hub.js').Hub} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openDashboard>>} */ let dash;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let nurse;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let patel;

  before(async () => {
    hub = await startHub({ config: SHORT_TARGETS });
    browser = await launchBrowser();
    nurse = await connectAs(hub.url, 'nurse.okafor');
    patel = await connectAs(hub.url, 'fy1.patel');
    dash = await openDashboard(browser, hub.url, { fakeClock: true, colorScheme: 'dark' });
    await logInDashboard(dash.page, 'coord.hale');
    await waitLive(dash.page);
  });
  after(async () => {
    nurse?.close();
    patel?.close();
    await browser?.close();
    await hub?.stop();
  });

  it('turns a task with a one-minute target overdue, in words and colour', async () => {
    const { page } = dash;
    const raised = await nurse.command(taskCmd({ bed: '4' }));
    assert.equal(raised.type, 'ok', JSON.stringify(raised));
    const task = raised.result.task;
    assert.equal(task.accept_by - task.raised_at, 60000, 'the hub took the one-minute target');
    const row = page.locator(`.board [data-id="${task.id}"]`);
    await row.waitFor();
    assert.match((await row.locator('.target').textContent()) ?? '', /^Accept by \d\d:\d\d \((under 1 min|1 min) left\)$/);
    assert.doesNotMatch((await row.getAttribute('class')) ?? '', /overdue/);
    assert.equal(await page.locator('.stat-overdue dd').textContent(), '0');

    await page.clock.fastForward(75000);
    await row.locator('.target', { hasText: /^OVERDUE: accept by \d\d:\d\d/ }).waitFor({ timeout: 5000 });
    assert.match((await row.getAttribute('class')) ?? '', /overdue/);
    assert.equal(await page.locator('.stat-overdue dd').textContent(), '1');
    assert.match((await page.locator('.stat-overdue').getAttribute('class')) ?? '', /alarm/);
    // Not colour alone: the overdue row's colours differ from a normal row's, and the text says so.
    const look = await row.evaluate((el) => getComputedStyle(el).backgroundColor);
    assert.notEqual(look, 'rgba(0, 0, 0, 0)', 'the overdue row is tinted');
    await page.selectOption('#filter-status', 'overdue');
    assert.equal(await page.locator('.board-body > [role=row]').count(), 1);
    await expectAccessible(page, 'dashboard with an overdue task (dark)');
    await screenshot(page, 'dash-07-overdue-dark-desktop');
    await page.selectOption('#filter-status', '');
  });

  it('measures an accepted task against its complete-by target', async () => {
    const { page } = dash;
    const id = await page.locator('.board-body > [role=row]').first().getAttribute('data-id');
    const accepted = await patel.command({ op: 'accept', task: id });
    assert.equal(accepted.type, 'ok', JSON.stringify(accepted));
    const row = page.locator(`.board [data-id="${id}"]`);
    // Accepted at real time (about a minute before the page's clock): the
    // complete-by target is three minutes after the raise.
    await row.locator('.target', { hasText: /^(Complete by \d\d:\d\d|OVERDUE: complete by)/ }).waitFor();
    await page.clock.fastForward(3 * 60000);
    await row.locator('.target', { hasText: /^OVERDUE: complete by \d\d:\d\d, \d+ min late$/ }).waitFor({ timeout: 5000 });
    assert.match((await row.textContent()) ?? '', /Dr Asha Patel/);
    assert.deepEqual(dash.errors, []);
  });
});
