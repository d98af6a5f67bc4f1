// A snapshot comes in parts: the answer's `next` names the following part
// and the client asks for it (`after`) until `next` is null. Both clients
// must fetch every part, or the tasks in the later parts (any of them an
// offer nobody has taken) never reach the phone or the board. The hub pages
// at 200 tasks; to see many parts with a handful of tasks, the test splits
// the real hub's answer on the way into three parts (and takes its made-up
// part tokens off the requests before they reach the hub).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, screenshot } from './helpers/app.js';
import { connectAs, login } from './helpers/protocol.js';
import { routeLink, pagedSnapshots, until } from './helpers/faults.js';
import { openDashboard, logInDashboard, waitLive, taskCmd } from './dashboard-helpers/dashboard.js';

const PARTS = 3;

/** The snapshot requests a page sent, as the `after` of each. @param {import('./helpers/faults.js').Wire[]} wires */
const snapshotAsks = (wires) => wires.flatMap((w) => w.sent).filter((f) => f.type === 'cmd' && f.cmd.op === 'snapshot').map((f) => f.cmd.after ?? null);

describe('snapshot in parts', () => {
  /** @type {import('./helpers/hub.js').Hub} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {string[]} */ const ids = [];

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    // Five open cannula tasks, offered to the nurse practitioner among others.
    const nurse = await connectAs(hub.url, 'nurse.okafor');
    try {
      for (const bed of ['1', '2', '3', '4', '5']) {
        const answer = await nurse.command(taskCmd({ bed, priority: 'routine' }));
        assert.equal(answer.type, 'ok', JSON.stringify(answer));
        ids.push(answer.result.task.id);
      }
    } finally {
      nurse.close();
    }
  });
  after(async () => {
    await browser?.close();
    await hub?.stop();
  });

  it('the handheld fetches every part after a resync', async () => {
    const phone = await openPhone(browser, hub.url);
    const { page } = phone;
    const session = await login(hub.url, 'np.murphy');
    // A saved cursor ahead of the hub's stream: the hub answers resync, and
    // the phone starts again from a snapshot.
    await page.evaluate((session) => {
      localStorage.setItem('wardpage.session', JSON.stringify(session));
      localStorage.setItem(`wardpage.state.${session.staff.login}`, JSON.stringify({ cursor: 999999, tasks: [], pages: [], me: null, directory: null, quiet: [], notices: [], escalations: [] }));
    }, session);
    const link = await routeLink(page, { filter: pagedSnapshots(PARTS) });
    await page.reload();
    // Attached, not visible: the offers' alert may already cover the screen.
    await page.locator('#link-status[data-state="online"]').waitFor({ state: 'attached', timeout: 15000 });
    const held = () => page.evaluate((all) => all.filter((id) => /** @type {any} */ (window).wardpage.store.tasks.has(id)).length, ids);
    await until(async () => (await held()) === ids.length, 'every task from every part', 10000).catch(() => {});
    assert.equal(await held(), ids.length, `tasks held from the snapshot; asked for parts ${JSON.stringify(snapshotAsks(link.wires))}`);
    assert.deepEqual(snapshotAsks(link.wires), [null, 'part-1', 'part-2']);
    assert.equal(await page.evaluate(() => /** @type {any} */ (window).wardpage.store.needsSnapshot), false, 'the snapshot is whole');
    await screenshot(page, '63-snapshot-parts-phone');
    assert.deepEqual(phone.errors, []);
  });

  it('the handheld starts the snapshot over when its socket is lost between parts', async () => {
    const phone = await openPhone(browser, hub.url);
    const { page } = phone;
    const session = await login(hub.url, 'np.murphy');
    await page.evaluate((session) => {
      localStorage.setItem('wardpage.session', JSON.stringify(session));
      localStorage.setItem(`wardpage.state.${session.staff.login}`, JSON.stringify({ cursor: 999999, tasks: [], pages: [], me: null, directory: null, quiet: [], notices: [], escalations: [] }));
    }, session);
    // The second part's answer is lost with the first socket.
    const paged = pagedSnapshots(PARTS);
    const link = await routeLink(page, {
      filter: (frame, wire, index) => {
        const asked = frame.type === 'ok' && wire.sent.find((f) => f.id === frame.id);
        if (index === 0 && asked && asked.cmd.after === 'part-1') return 'drop';
        return paged(frame, wire, index);
      },
      rewriteSent: paged.rewriteSent,
    });
    await page.reload();
    await until(() => link.wires[0]?.dropped.length === 1, 'the lost part');
    await page.evaluate(() => /** @type {any} */ (window).wardpage.link.drop('test cut'));
    const held = () => page.evaluate((all) => all.filter((id) => /** @type {any} */ (window).wardpage.store.tasks.has(id)).length, ids);
    await until(async () => (await held()) === ids.length, 'every task from every part', 10000).catch(() => {});
    assert.equal(await held(), ids.length, `tasks held; asked on the second socket for ${JSON.stringify(snapshotAsks(link.wires.slice(1)))}`);
    const hello = link.wires[1].sent.find((f) => f.type === 'hello');
    assert.ok(hello.cursor < 999999, 'the second hello resumes from the resync cursor (no second resync)');
    assert.deepEqual(snapshotAsks(link.wires.slice(1)), [null, 'part-1', 'part-2'], 'the snapshot started over');
    assert.equal(await page.evaluate(() => /** @type {any} */ (window).wardpage.store.needsSnapshot), false);
    assert.deepEqual(phone.errors, []);
  });

  it('the dashboard fetches every part when it opens', async () => {
    const dash = await openDashboard(browser, hub.url);
    const { page } = dash;
    const link = await routeLink(page, { filter: pagedSnapshots(PARTS) });
    await logInDashboard(page, 'coord.hale');
    await waitLive(page);
    const rows = () => page.evaluate((all) => all.filter((id) => document.querySelector(`.board [data-id="${id}"]`)).length, ids);
    await until(async () => (await rows()) === ids.length, 'every task on the board', 10000).catch(() => {});
    assert.equal(await rows(), ids.length, `rows on the board; asked for parts ${JSON.stringify(snapshotAsks(link.wires))}`);
    assert.deepEqual(snapshotAsks(link.wires), [null, 'part-1', 'part-2']);
    await screenshot(page, '64-snapshot-parts-dashboard');
    assert.deepEqual(dash.errors, []);
  });
});
