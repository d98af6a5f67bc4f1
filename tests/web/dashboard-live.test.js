// The coordinator's night on the dashboard, against a real hub: a nurse's
// client raises a task and it appears without a reload; the coordinator
// reassigns it and the new owner's client receives it (assigned until he
// acknowledges it); a decline, an
// escalation, the start and the completion all show on the task's timeline;
// pages and escalations arrive in the side column; the roster changes reach
// the person concerned; the shift's tasks download as CSV.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { connectAs } from './helpers/protocol.js';
import { expectAccessible, screenshot } from './helpers/app.js';
import { openDashboard, logInDashboard, waitLive, taskCmd, TABLET, DESKTOP } from './dashboard-helpers/dashboard.js';

describe('coordinator dashboard: live board and actions', () => {
  /** @type {import('./helpers/hub.js').Hub} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openDashboard>>} */ let dash;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let nurse;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let patel;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let khan;
  /** @type {string} */ let taskId;

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    nurse = await connectAs(hub.url, 'nurse.okafor');
    patel = await connectAs(hub.url, 'fy1.patel');
    khan = await connectAs(hub.url, 'sho.khan');
    dash = await openDashboard(browser, hub.url);
    await logInDashboard(dash.page, 'coord.hale');
    await waitLive(dash.page);
  });
  after(async () => {
    for (const c of [nurse, patel, khan]) c?.close();
    await browser?.close();
    await hub?.stop();
  });

  it('shows a task the moment a nurse raises it, without a reload', async () => {
    const { page } = dash;
    await page.evaluate(() => {
      /** @type {any} */ (window).__sameDocument = true;
    });
    const raised = await nurse.command(taskCmd({ bed: '12' }));
    assert.equal(raised.type, 'ok', JSON.stringify(raised));
    taskId = raised.result.task.id;
    const row = page.locator(`.board [data-id="${taskId}"]`);
    await row.waitFor({ timeout: 5000 });
    const text = (await row.textContent()) ?? '';
    assert.match(text, /Ward 7 \(Medicine\) bed 12/, 'the ward as the hospital writes it');
    assert.doesNotMatch(text, /\bW7\b/i, 'never the ward id');
    assert.match(text, /Urgent/);
    assert.match(text, /Offering/);
    assert.match(text, /Offered to .*Dr Asha Patel/);
    assert.match(text, /Accept by \d\d:\d\d/);
    assert.equal(await page.evaluate(() => /** @type {any} */ (window).__sameDocument), true, 'no reload happened');
    assert.equal(await page.locator('.stat-open dd').textContent(), '1');
  });

  it('shows a decline and an escalation as they happen', async () => {
    const { page } = dash;
    const declined = await patel.command({ op: 'decline', task: taskId, reason: 'In resus with a peri-arrest' });
    assert.equal(declined.type, 'ok', JSON.stringify(declined));
    const row = page.locator(`.board [data-id="${taskId}"]`);
    await row.locator('[role=cell]', { hasText: '1 declined' }).waitFor();
    await row.locator('button.task-link').click();
    const dialog = page.locator('dialog.detail[open]');
    await dialog.waitFor();
    await dialog.locator('.timeline li[data-action="decline"]').waitFor();
    await dialog.locator('button', { hasText: 'Escalate now' }).click();
    await dialog.locator('.outcome.ok', { hasText: 'Escalated' }).waitFor();
    await dialog.locator('.timeline li[data-action="escalate"]').waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' }).catch(() => {});
    assert.equal(await page.locator('dialog.detail[open]').count(), 0, 'Escape closes the dialog');
    await row.locator('[role=cell]', { hasText: 'ESCALATED ×1' }).waitFor();
    assert.match((await row.getAttribute('class')) ?? '', /escalated/);
    const feedItem = page.locator('.esc-list li.item').first();
    await feedItem.waitFor();
    const feedText = (await feedItem.textContent()) ?? '';
    assert.match(feedText, /Ward 7 \(Medicine\) bed 12, level 1/, 'the ward as the hospital names it');
    // Plain words, not the ladder's internals (those stay as the tooltip).
    assert.match(feedText, /Nobody accepted it in (under )?\d+ min\. Offered to (.* and )?Dr Omar Khan \(SHO\)( and .*)?; Sister Jo Hale \(Coordinator\) told\./);
    assert.doesNotMatch(feedText, /alerted again|next grade/);
    assert.match((await feedItem.locator('p[title]').getAttribute('title')) ?? '', /alerted again/);
    assert.equal(await page.locator('.stat-escalated dd').textContent(), '1');
  });

  it('reassigns the task; the new owner’s client receives it', async () => {
    const { page } = dash;
    const khanId = khan.welcome.me.id;
    await page.locator(`.board [data-id="${taskId}"] button.task-link`).click();
    const dialog = page.locator('dialog.detail[open]');
    const select = dialog.locator('select[id^="assign-staff"]');
    const option = (await select.locator(`option[value="${khanId}"]`).textContent()) ?? '';
    assert.match(option, /Dr Omar Khan \(SHO, has Cannulation, covers this ward, connected\): 1 offered$/, 'skill, connection and workload (offers included) in view when assigning');
    const first = (await select.locator('option[data-fit]').first().textContent()) ?? '';
    assert.match(first, /has Cannulation, covers this ward, connected/, 'who could take it, on a connected phone, comes first');
    await select.selectOption(khanId);
    await dialog.locator('button', { hasText: /^Assign$/ }).click();
    await dialog.locator('.outcome.ok', { hasText: 'Assigned to Dr Omar Khan: waiting for them to acknowledge.' }).waitFor();
    await khan.until(
      (evs) => evs.some((e) => e.event.kind === 'task' && e.event.change === 'assigned' && e.event.task.id === taskId && e.event.task.assignee?.id === khanId),
      5000,
      'Dr Khan’s client receives the assignment',
    );
    await dialog.locator('dd', { hasText: 'Dr Omar Khan' }).first().waitFor();
    await expectAccessible(page, 'dashboard task dialog');
    await screenshot(page, 'dash-02-task-dialog-desktop');
    await page.setViewportSize(TABLET);
    await expectAccessible(page, 'dashboard task dialog (tablet)');
    await screenshot(page, 'dash-02-task-dialog-tablet');
    await page.setViewportSize(DESKTOP);
    await page.keyboard.press('Escape');
    const row = page.locator(`.board [data-id="${taskId}"]`);
    // Assigned is not accepted: it waits for him to say yes.
    await row.locator('[role=cell]', { hasText: 'Assigned — waiting for Dr Omar Khan to acknowledge' }).waitFor();
    const acked = await khan.command({ op: 'accept', task: taskId });
    assert.equal(acked.type, 'ok', JSON.stringify(acked));
    await row.locator('[role=cell]', { hasText: /^Accepted$/ }).waitFor();
    assert.match((await row.textContent()) ?? '', /Dr Omar Khan/);
  });

  it('shows the owner’s start and completion on the timeline, in order', async () => {
    const { page } = dash;
    await page.locator(`.board [data-id="${taskId}"] button.task-link`).click();
    const dialog = page.locator('dialog.detail[open]');
    await dialog.locator('.timeline li[data-action="assign"]').waitFor();
    const started = await khan.command({ op: 'start', task: taskId });
    assert.equal(started.type, 'ok', JSON.stringify(started));
    await dialog.locator('.timeline li[data-action="start"]').waitFor();
    const done = await khan.command({ op: 'complete', task: taskId, outcome: '22G re-sited left forearm' });
    assert.equal(done.type, 'ok', JSON.stringify(done));
    await dialog.locator('.timeline li[data-action="complete"]').waitFor();
    const steps = await dialog.locator('.timeline li').evaluateAll((lis) => lis.map((li) => /** @type {HTMLElement} */ (li).dataset.action));
    assert.deepEqual(steps, ['raise', 'decline', 'escalate', 'assign', 'acknowledge', 'start', 'complete']);
    const text = (await dialog.locator('.timeline').textContent()) ?? '';
    assert.match(text, /Raised.*by Nurse Sam Okafor.*offered to .*Dr Asha Patel/);
    assert.match(text, /Declined.*by Dr Asha Patel.*In resus with a peri-arrest/);
    assert.match(text, /Escalated.*by Sister Jo Hale/);
    assert.match(text, /Assigned.*to Dr Omar Khan/);
    assert.match(text, /Completed.*by Dr Omar Khan.*22G re-sited left forearm/);
    await dialog.locator('dd', { hasText: 'Completed: 22G re-sited left forearm' }).waitFor();
    await screenshot(page, 'dash-03-timeline-desktop');
    await page.keyboard.press('Escape');
    await page.locator(`.board [data-id="${taskId}"]`).waitFor({ state: 'detached' });
    assert.equal(await page.locator('.stat-open dd').textContent(), '0');
  });

  it('changes a task’s priority and cancels one with a reason', async () => {
    const { page } = dash;
    const raised = await nurse.command(taskCmd({ bed: '3', priority: 'routine', category: 'bloods', requirement: { skill: 'bloods' } }));
    assert.equal(raised.type, 'ok', JSON.stringify(raised));
    const id = raised.result.task.id;
    const row = page.locator(`.board [data-id="${id}"]`);
    await row.locator('button.task-link').click();
    const dialog = page.locator('dialog.detail[open]');
    await dialog.locator('select[id^="set-priority"]').selectOption('soon');
    await dialog.locator('button', { hasText: 'Change priority' }).click();
    await dialog.locator('.outcome.ok', { hasText: 'Priority is now Soon' }).waitFor();
    await row.locator('.chip', { hasText: 'Soon' }).waitFor();
    await dialog.locator('textarea[id^="cancel-reason"]').fill('Patient discharged');
    await dialog.locator('button', { hasText: 'Cancel task' }).click();
    await dialog.locator('.outcome.ok', { hasText: 'Cancelled.' }).waitFor();
    await nurse.until((evs) => evs.some((e) => e.event.kind === 'task' && e.event.change === 'cancelled' && e.event.task.id === id), 5000, 'the raiser hears of the cancel');
    await page.keyboard.press('Escape');
    await row.waitFor({ state: 'detached' });
  });

  it('pages a person found by name: nobody chosen beforehand, one kind of recipient shown, a callback with a number', async () => {
    const { page } = dash;
    await page.click('#send-page');
    const dialog = page.locator('dialog.send-page[open]');
    const person = dialog.locator('#page-person');
    assert.equal(await person.inputValue(), '', 'nobody is chosen for the coordinator');
    assert.equal(await dialog.locator('#page-role').isVisible(), false, 'the role picker hides while paging a person');
    await dialog.locator('#page-search').fill('khan');
    assert.deepEqual(await person.locator('option').allTextContents(), ['Choose a person…', 'Dr Omar Khan (SHO)']);
    assert.equal(await person.inputValue(), khan.welcome.me.id, 'the one match is chosen');
    await dialog.locator('#page-callback').fill('Site coordinator');
    await dialog.locator('#page-message').fill('Call me about bed 12');
    await dialog.locator('button[type=submit]').click();
    assert.match(await dialog.locator('#page-callback').evaluate((el) => /** @type {HTMLInputElement} */ (el).validationMessage), /number to call back on/);
    assert.equal(await dialog.locator('.outcome.ok').count(), 0, 'nothing sent without a number');
    await dialog.locator('#page-callback').fill('Site coordinator, ext 4021');
    await screenshot(page, 'dash-06-send-page-desktop');
    await dialog.locator('button[type=submit]').click();
    await dialog.locator('.outcome.ok', { hasText: 'Page sent to Dr Omar Khan.' }).waitFor();
    await khan.until(
      (evs) => evs.some((e) => e.event.kind === 'page' && e.event.change === 'sent' && e.event.page.callback === 'Site coordinator, ext 4021'),
      5000,
      'Dr Khan is paged with the number',
    );
    await page.keyboard.press('Escape');
    await dialog.locator('label', { hasText: 'Everyone on shift in a role' }).waitFor({ state: 'detached' });
  });

  it('pages a role; the page waits for acknowledgement in the side column', async () => {
    const { page } = dash;
    const evans = await connectAs(hub.url, 'reg.evans');
    try {
      await page.click('#send-page');
      const dialog = page.locator('dialog.send-page[open]');
      await dialog.locator('label', { hasText: 'Everyone on shift in a role' }).click();
      await dialog.locator('#page-role').selectOption('registrar');
      await dialog.locator('#page-priority').selectOption('emergency');
      await dialog.locator('#page-callback').fill('Ward 7 bay 2, ext 4412');
      await dialog.locator('#page-message').fill('Peri-arrest, bed 4');
      await expectAccessible(page, 'dashboard send page');
      await dialog.locator('button[type=submit]').click();
      await dialog.locator('.outcome.ok', { hasText: 'Page sent to every Registrar on shift.' }).waitFor();
      await page.keyboard.press('Escape');
      const ev = await evans.until((evs) => evs.find((e) => e.event.kind === 'page' && e.event.change === 'sent'), 5000, 'the registrar is paged');
      const item = page.locator(`.pages-list li[data-page="${ev.event.page.id}"]`);
      await item.waitFor();
      assert.match((await item.textContent()) ?? '', /Sister Jo Hale → every Registrar.*Peri-arrest, bed 4.*Call back: Ward 7 bay 2, ext 4412/);
      assert.match((await item.textContent()) ?? '', /delivered 0\/1, read 0\/1/);
      // The registrar's device has it once it acks the event; then it is read.
      evans.ws?.send(JSON.stringify({ type: 'ack', seq: ev.seq }));
      await item.locator('text=/delivered 1\\/1, read 0\\/1/').waitFor();
      const read = await evans.command({ op: 'page_read', page: ev.event.page.id });
      assert.equal(read.type, 'ok', JSON.stringify(read));
      await item.locator('text=/delivered 1\\/1, read 1\\/1/').waitFor();
      const ack = await evans.command({ op: 'page_ack', page: ev.event.page.id });
      assert.equal(ack.type, 'ok', JSON.stringify(ack));
      await item.waitFor({ state: 'detached' });
    } finally {
      evans.close();
    }
  });

  it('ends and starts a shift; the staff member’s client hears of it', async () => {
    const { page } = dash;
    const ruiz = await connectAs(hub.url, 'fy1.ruiz');
    try {
      const ruizId = ruiz.welcome.me.id;
      await page.click('a[data-view="staff"]');
      const row = page.locator(`#view-staff tr[data-staff="${ruizId}"]`);
      await row.waitFor();
      assert.match((await row.textContent()) ?? '', /Dr Ben Ruiz.*FY1.*Acute\u00a0Medical\u00a0Unit, Ward\u00a012\u00a0\(Elderly\u00a0care\).*Connected/);
      await row.locator('button').click();
      const dialog = page.locator('dialog.roster[open]');
      await dialog.locator('button', { hasText: 'End shift' }).click();
      await dialog.locator('.outcome.ok', { hasText: 'shift has ended' }).waitFor();
      await ruiz.until((evs) => evs.some((e) => e.event.kind === 'shift' && e.event.staff.id === ruizId && e.event.shift === null), 5000, 'Dr Ruiz hears his shift ended');
      await page.keyboard.press('Escape');
      await page.locator(`#view-staff table[aria-labelledby="staff-off"] tr[data-staff="${ruizId}"]`).waitFor();
      await row.locator('button', { hasText: 'Start shift…' }).click();
      await dialog.locator('select[id^="roster-role"]').selectOption('sho');
      for (const ward of ['Acute Medical Unit', 'Ward 7 (Medicine)']) await dialog.getByLabel(ward).check();
      await dialog.locator('input[type=time]').fill('08:00');
      await expectAccessible(page, 'dashboard roster dialog');
      await dialog.locator('button[type=submit]').click();
      await dialog.locator('.outcome.ok', { hasText: 'on shift as SHO until 08:00' }).waitFor();
      const ev = await ruiz.until((evs) => evs.find((e) => e.event.kind === 'shift' && e.event.staff.id === ruizId && e.event.shift !== null), 5000, 'Dr Ruiz hears his new shift');
      assert.equal(ev.event.shift.role, 'sho');
      assert.deepEqual([...ev.event.shift.wards].sort(), ['amu', 'w7']);
      await page.keyboard.press('Escape');
      await page.locator(`#view-staff table[aria-labelledby="staff-on"] tr[data-staff="${ruizId}"]`).waitFor();
      assert.match((await row.textContent()) ?? '', /SHO/);
    } finally {
      ruiz.close();
    }
    // Presence: Dr Ruiz's client went away, and the staff table says so without a reload.
    await page.locator(`#view-staff tr[data-staff] td`, { hasText: /Not connected, last seen/ }).first().waitFor();
    await expectAccessible(page, 'dashboard staff');
    await screenshot(page, 'dash-04-staff-desktop');
  });

  it('downloads the shift’s tasks as CSV built from the history', async () => {
    const { page } = dash;
    await page.click('a[data-view="insight"]');
    await page.locator('.insight .outcome.ok', { hasText: /\d+ tasks since/ }).waitFor();
    await page.locator('#chart-accept svg').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    assert.match(download.suggestedFilename(), /^wardpage-tasks-.*\.csv$/);
    const csv = await readFile(/** @type {string} */ (await download.path()), 'utf8');
    const lines = csv.trim().split('\r\n');
    assert.match(lines[0], /^task_id,ward,ward_name,bed,patient,category,priority,needs,state,raised_by,raised_at/);
    assert.equal(lines.length, 3, `header and two tasks:\n${csv}`);
    const done = lines.find((l) => l.startsWith(taskId));
    assert.ok(done, 'the completed task is in the export');
    assert.match(done, /,w7,Ward 7 \(Medicine\),12,RX1234567,Cannula,Urgent,Cannulation,Completed,Nurse Sam Okafor,/);
    assert.match(done, /,Dr Omar Khan,1,22G re-sited left forearm$/);
    assert.ok(lines.some((l) => /,Cancelled,/.test(l) && /Patient discharged/.test(l)), 'the cancelled task is in the export');
    // The report's figures beside the charts: targets met, escalations, declines, NEWS2.
    const desc = async (/** @type {string} */ id) => (await page.locator(`#${id} svg desc`).textContent()) ?? '';
    assert.match(await desc('chart-escalations'), /^Step 1: 1$/, 'the escalated task, at step 1');
    assert.match(await desc('chart-declines'), /In resus with a peri-arrest: 1/);
    assert.match(await desc('chart-met-ward'), /^Ward 7 \(Medicine\): /);
    assert.match(await desc('chart-news2'), /NEWS2 5\+: 0 episodes: none judged/);
    await page.locator('#chart-met-ward').scrollIntoViewIfNeeded();
    await screenshot(page, 'dash-05-insight-response-desktop');
    await expectAccessible(page, 'dashboard insight');
    await screenshot(page, 'dash-05-insight-desktop');
    await page.click('#theme-toggle');
    await page.locator('#chart-accept details summary').click();
    await expectAccessible(page, 'dashboard insight (dark, numbers shown)');
    await screenshot(page, 'dash-05-insight-dark-desktop');
    await page.click('#theme-toggle');
  });

  it('passes axe in both themes on desktop and tablet, and saves screenshots', async () => {
    const { page } = dash;
    // A board with something on it: a few tasks in different states.
    for (const [i, over] of /** @type {const} */ ([
      { bed: '5', priority: 'emergency' },
      { bed: '7', priority: 'soon', category: 'bloods', requirement: { skill: 'bloods' } },
      { bed: '9', priority: 'routine', category: 'ecg', requirement: { skill: 'ecg' } },
    ]).entries()) {
      const r = await nurse.command(taskCmd(over));
      assert.equal(r.type, 'ok', `task ${i}: ${JSON.stringify(r)}`);
    }
    await page.click('a[data-view="tasks"]');
    await page.locator('.board-body > [role=row]').nth(2).waitFor();
    for (const theme of ['light', 'dark']) {
      const current = await page.evaluate(() => document.documentElement.dataset.theme);
      if (current !== theme) await page.click('#theme-toggle');
      assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), theme);
      for (const [name, size] of /** @type {const} */ ([['desktop', DESKTOP], ['tablet', TABLET], ['tablet-portrait', { width: 820, height: 1180 }]])) {
        await page.setViewportSize(size);
        await expectAccessible(page, `dashboard board (${theme}, ${name})`);
        await screenshot(page, `dash-01-board-${theme}-${name}`);
      }
      await page.setViewportSize(DESKTOP);
    }
    // The theme choice survives a reload.
    await page.reload();
    await waitLive(page);
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
    await page.click('#theme-toggle');
    assert.deepEqual(dash.errors, []);
  });

  it('is usable from the keyboard: sort, filter, open a task', async () => {
    const { page } = dash;
    await page.locator('[data-sort="priority"] button').focus();
    await page.keyboard.press('Enter');
    assert.equal(await page.getAttribute('[data-sort="priority"]', 'aria-sort'), 'ascending');
    const first = await page.locator('.board-body > [role=row]').first().locator('.chip').textContent();
    assert.equal(first, 'Emergency');
    await page.keyboard.press('Enter');
    assert.equal(await page.getAttribute('[data-sort="priority"]', 'aria-sort'), 'descending');
    assert.equal(await page.locator('.board-body > [role=row]').first().locator('.chip').textContent(), 'Routine');
    await page.locator('#filter-priority').focus();
    await page.selectOption('#filter-priority', 'soon');
    assert.equal(await page.locator('.board-body > [role=row]').count(), 1);
    assert.match((await page.locator('#board-count').textContent()) ?? '', /Showing 1 of 3 open tasks/);
    await page.locator('.board-body > [role=row] button.task-link').focus();
    await page.keyboard.press('Enter');
    await page.locator('dialog.detail[open]').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.closest('dialog') !== null), true, 'focus moves into the dialog');
    await page.keyboard.press('Escape');
    await page.selectOption('#filter-priority', '');
    assert.equal(await page.locator('.board-body > [role=row]').count(), 3);
    assert.deepEqual(dash.errors, []);
  });
});
