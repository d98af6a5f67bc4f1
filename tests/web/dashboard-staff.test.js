// The Staff view's Workload and Last action columns (issue 17: "workload
// counts open offers as well as accepted and started tasks; 'last action' is
// right"), read after a known night: a task offered to Dr Patel, which she
// accepts, starts and completes; one the coordinator gives to Dr Khan, who
// has not acknowledged it; and one Dr Patel declines. An offer or an
// assignment is work waiting on someone, not something they did: Dr Khan
// has done nothing, whatever he holds. And the screen says the same after a
// reload, when only the hub remembers who did what (its directory's
// `last_action_at`), not the events this screen saw.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { connectAs } from './helpers/protocol.js';
import { expectAccessible, screenshot } from './helpers/app.js';
import { openDashboard, logInDashboard, waitLive, taskCmd } from './dashboard-helpers/dashboard.js';

/** The Staff view's columns, as `td:nth-child` (the name is the row's `th`). */
const WORKLOAD = 6;
const LAST_ACTION = 7;

/**
 * The text of a person's cell in the Staff view (in the page).
 * @param {{name: string, column: number}} arg
 */
function cellText({ name, column }) {
  const row = [...document.querySelectorAll('#view-staff tr[data-staff]')].find((tr) => tr.querySelector('th')?.textContent?.trim() === name);
  return row?.querySelector(`:scope > td:nth-child(${column})`)?.textContent?.trim() ?? null;
}

/**
 * Whether it reads `exact`, or matches `source` (in the page; self-contained).
 * @param {{name: string, column: number, exact: string | null, source: string}} arg
 */
function cellReads({ name, column, exact, source }) {
  const row = [...document.querySelectorAll('#view-staff tr[data-staff]')].find((tr) => tr.querySelector('th')?.textContent?.trim() === name);
  const text = row?.querySelector(`:scope > td:nth-child(${column})`)?.textContent?.trim() ?? '';
  return exact !== null ? text === exact : new RegExp(source).test(text);
}

describe('the Staff view says what each person holds and when they last acted', () => {
  /** @type {import('./helpers/hub.js').Hub} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openDashboard>>} */ let dash;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let nurse;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let patel;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let khan;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let coord;

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    nurse = await connectAs(hub.url, 'nurse.okafor');
    patel = await connectAs(hub.url, 'fy1.patel');
    khan = await connectAs(hub.url, 'sho.khan');
    coord = await connectAs(hub.url, 'coord.hale');
    dash = await openDashboard(browser, hub.url);
    await logInDashboard(dash.page, 'coord.hale');
    await waitLive(dash.page);
    await dash.page.click('a[data-view="staff"]');
  });
  after(async () => {
    for (const c of [nurse, patel, khan, coord]) c?.close();
    await browser?.close();
    await hub?.stop();
  });

  /**
   * Waits until the person's cell reads `want` exactly (or matches it).
   * @param {string} name @param {number} column @param {string | RegExp} want
   */
  async function expectCell(name, column, want) {
    const arg = { name, column, exact: typeof want === 'string' ? want : null, source: typeof want === 'string' ? '' : want.source };
    const seen = await dash.page.waitForFunction(cellReads, arg, { timeout: 10000 }).then(
      () => true,
      () => false,
    );
    if (seen) return;
    const text = await dash.page.evaluate(cellText, arg);
    assert.fail(`${name}'s ${column === WORKLOAD ? 'Workload' : 'Last action'} reads ${JSON.stringify(text)}, not ${want}`);
  }

  /** @param {Record<string, unknown>} over */
  async function raise(over) {
    const raised = await nurse.command(taskCmd({ requirement: { role: 'fy1' }, ...over }));
    assert.equal(raised.type, 'ok', JSON.stringify(raised));
    return /** @type {string} */ (raised.result.task.id);
  }

  /** @param {import('./helpers/protocol.js').ProtocolClient} who @param {Record<string, unknown>} cmd */
  async function ok(who, cmd) {
    const answer = await who.command(cmd);
    assert.equal(answer.type, 'ok', JSON.stringify(answer));
  }

  it('starts with nobody holding or having done anything', async () => {
    await expectCell('Dr Asha Patel', WORKLOAD, 'none');
    await expectCell('Dr Asha Patel', LAST_ACTION, '—');
    await expectCell('Dr Omar Khan', LAST_ACTION, '—');
  });

  it('counts an offer as her workload, not as her action', async () => {
    const a = await raise({ bed: '14' });
    await expectCell('Dr Asha Patel', WORKLOAD, '1 offered');
    await expectCell('Dr Asha Patel', LAST_ACTION, '—');
    await expectCell('Nurse Sam Okafor', LAST_ACTION, 'just now');

    await ok(patel, { op: 'accept', task: a });
    await expectCell('Dr Asha Patel', WORKLOAD, '1 accepted');
    await expectCell('Dr Asha Patel', LAST_ACTION, 'just now');
    await ok(patel, { op: 'start', task: a });
    await expectCell('Dr Asha Patel', WORKLOAD, '1 started');
    await ok(patel, { op: 'complete', task: a, outcome: 'Re-sited' });
    await expectCell('Dr Asha Patel', WORKLOAD, 'none');
    await expectCell('Dr Asha Patel', LAST_ACTION, 'just now');
  });

  it("counts an assignment he has not acknowledged as his workload, and not as his action", async () => {
    const b = await raise({ bed: '15' });
    await expectCell('Dr Asha Patel', WORKLOAD, '1 offered');
    const dir = await coord.command({ op: 'directory' });
    const khanId = dir.result.staff.find((/** @type {any} */ s) => s.login === 'sho.khan')?.id;
    assert.ok(khanId, 'Dr Khan in the directory');
    await ok(coord, { op: 'assign', task: b, staff: khanId });
    await expectCell('Dr Omar Khan', WORKLOAD, /^1 assigned \(not acknowledged\)\s*Assigned — waiting for Dr Omar Khan to acknowledge/);
    await expectCell('Dr Omar Khan', LAST_ACTION, '—');
    await expectCell('Dr Asha Patel', WORKLOAD, 'none');
    await expectCell('Sister Jo Hale', LAST_ACTION, 'just now');
  });

  it('counts a decline as her action, and the offer leaves her workload', async () => {
    const c = await raise({ bed: '16' });
    await expectCell('Dr Asha Patel', WORKLOAD, '1 offered');
    await ok(patel, { op: 'decline', task: c, reason: 'In resus' });
    await expectCell('Dr Asha Patel', WORKLOAD, 'none');
    await expectCell('Dr Asha Patel', LAST_ACTION, 'just now');
    await expectAccessible(dash.page, 'dashboard staff view after a night of work');
    await screenshot(dash.page, 'staff-01-workload-last-action');
  });

  it('says the same after a reload, from what the hub remembers', async () => {
    const { page } = dash;
    await page.reload();
    // Still logged in after the reload: no login form, only a fresh directory and snapshot.
    await waitLive(page);
    await page.click('a[data-view="staff"]');
    await expectCell('Dr Omar Khan', WORKLOAD, /1 assigned \(not acknowledged\)/);
    await expectCell('Dr Omar Khan', LAST_ACTION, '—');
    await expectCell('Dr Asha Patel', WORKLOAD, 'none');
    // She completed one task and declined another: she did not do nothing.
    await expectCell('Dr Asha Patel', LAST_ACTION, 'just now');
    await expectCell('Sister Jo Hale', LAST_ACTION, 'just now');
  });

  it('had no script errors', () => {
    assert.deepEqual(dash.errors, []);
  });
});
