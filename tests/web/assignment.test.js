// A coordinator's assignment is not an accept (issue 17): she gives a task
// to Dr Khan from the dashboard; the board and his workload say "Assigned —
// waiting for Dr Omar Khan to acknowledge" with the wait, and the
// time-to-accept chart does not count it; his phone rings as for an offer,
// it waits in his list if he puts it off, and his tap on Acknowledge makes
// it accepted (audited as an acknowledgement), which the chart then counts.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { connectAs } from './helpers/protocol.js';
import { openPhone, logIn, goTab, expectAccessible, screenshot } from './helpers/app.js';
import { openDashboard, logInDashboard, waitLive, taskCmd } from './dashboard-helpers/dashboard.js';

describe('an assignment waits for the assignee to acknowledge it', () => {
  /** @type {import('./helpers/hub.js').Hub} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openDashboard>>} */ let dash;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let phone;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let nurse;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let patel;
  /** @type {string} */ let taskId;

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    nurse = await connectAs(hub.url, 'nurse.okafor');
    // The FY1 it is offered to is connected: the offer rings, nothing escalates.
    patel = await connectAs(hub.url, 'fy1.patel');
    phone = await openPhone(browser, hub.url);
    await logIn(phone.page, 'sho.khan');
    dash = await openDashboard(browser, hub.url);
    await logInDashboard(dash.page, 'coord.hale');
    await waitLive(dash.page);
  });
  after(async () => {
    nurse?.close();
    patel?.close();
    await browser?.close();
    await hub?.stop();
  });

  /** The time-to-accept chart's line for urgent tasks. */
  async function urgentAccepts() {
    const { page } = dash;
    await page.click('a[data-view="insight"]');
    await page.locator('.insight .outcome.ok', { hasText: /\d+ tasks since/ }).waitFor();
    const desc = (await page.locator('#chart-accept svg desc').textContent()) ?? '';
    await page.click('a[data-view="tasks"]');
    return desc.split('; ').find((part) => part.startsWith('Urgent')) ?? '';
  }

  it('shows the assignment as waiting on the board and in his workload, not as an accept', async () => {
    const { page } = dash;
    const raised = await nurse.command(taskCmd({ bed: '14', requirement: { role: 'fy1' } }));
    assert.equal(raised.type, 'ok', JSON.stringify(raised));
    taskId = raised.result.task.id;
    const row = page.locator(`.board [data-id="${taskId}"]`);
    await row.locator('button.task-link').click();
    const dialog = page.locator('dialog.detail[open]');
    const select = dialog.locator('select[id^="assign-staff"]');
    // Who has what the task needs, and whose phone is connected, before choosing.
    const option = (await select.locator('option', { hasText: 'Dr Omar Khan' }).textContent()) ?? '';
    assert.match(option, /Dr Omar Khan \(SHO, not FY1, covers this ward, connected\)/);
    await select.selectOption({ label: option });
    await dialog.locator('button', { hasText: /^Assign$/ }).click();
    await dialog.locator('.outcome.ok', { hasText: 'Assigned to Dr Omar Khan: waiting for them to acknowledge.' }).waitFor();
    await dialog.locator('dd', { hasText: /by Sister Jo Hale, not acknowledged yet/ }).waitFor();
    await page.keyboard.press('Escape');

    const status = row.locator('[role=cell]', { hasText: 'Assigned — waiting for Dr Omar Khan to acknowledge' });
    await status.waitFor();
    assert.match((await status.textContent()) ?? '', /\((under 1 min|\d+ min)\)$/, 'with the wait');
    assert.doesNotMatch((await row.textContent()) ?? '', /Accepted/);
    await expectAccessible(page, 'dashboard board with an assignment waiting');
    await screenshot(page, 'assign-01-board-waiting');

    await page.click('a[data-view="staff"]');
    const khanRow = page.locator('#view-staff tr[data-staff]', { hasText: 'Dr Omar Khan' });
    await khanRow.locator('td', { hasText: /1 assigned \(not acknowledged\)\s*Assigned — waiting for Dr Omar Khan to acknowledge/ }).waitFor();
    await screenshot(page, 'assign-02-workload-waiting');
    await page.click('a[data-view="tasks"]');

    assert.match(await urgentAccepts(), /^Urgent: no tasks$/, 'an assignment is not counted as an accept');
  });

  it('rings on his phone until he acknowledges it; then it is accepted', async () => {
    const overlay = phone.page.locator('section.alert:not([hidden])');
    await overlay.locator('text=Assigned to you by Sister Jo Hale: acknowledge it').waitFor();
    assert.match((await overlay.textContent()) ?? '', /Bed 14/);
    await expectAccessible(phone.page, 'phone: assignment alert');
    await screenshot(phone.page, 'assign-03-phone-alert');
    // Put off, it waits in My work, to be acknowledged there (the overlay's
    // own Acknowledge is the reconnect suite's).
    await overlay.locator('button', { hasText: /^Later$/ }).click();
    await phone.page.locator('section.alert').waitFor({ state: 'hidden' });
    await goTab(phone.page, 'work');
    const card = phone.page.locator(`article[data-task="${taskId}"]`);
    await card.locator('.state', { hasText: 'Assigned, not acknowledged' }).waitFor();
    await expectAccessible(phone.page, 'phone: my work with an assignment');
    await screenshot(phone.page, 'assign-03b-phone-my-work');
    await card.locator('button', { hasText: /^Acknowledge$/ }).click();
    await card.locator('.state', { hasText: 'Accepted' }).waitFor();
    await card.locator('button', { hasText: /^Start$/ }).waitFor();

    const { page } = dash;
    const row = page.locator(`.board [data-id="${taskId}"]`);
    await row.locator('[role=cell]', { hasText: /^Accepted$/ }).waitFor();
    await row.locator('button.task-link').click();
    const dialog = page.locator('dialog.detail[open]');
    await dialog.locator('.timeline li[data-action="acknowledge"]').waitFor();
    const steps = await dialog.locator('.timeline li').evaluateAll((lis) => lis.map((li) => /** @type {HTMLElement} */ (li).dataset.action));
    assert.deepEqual(steps, ['raise', 'assign', 'acknowledge']);
    await screenshot(page, 'assign-04-acknowledged-timeline');
    await page.keyboard.press('Escape');
    assert.match(await urgentAccepts(), /^Urgent: median /, 'the acknowledgement is the accept');
    assert.deepEqual(phone.errors, []);
    assert.deepEqual(dash.errors, []);
  });
});
