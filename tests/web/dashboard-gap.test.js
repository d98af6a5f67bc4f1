// A hole in the dashboard's live stream: the coordinator's board must not
// move on past it (nor acknowledge past it: the hub may prune what is acked),
// or the one task nobody has taken is missing from the board all night. The
// dashboard drops the socket and says hello with its cursor, and the hub
// replays the hole from its store.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { connectAs } from './helpers/protocol.js';
import { routeLink, until } from './helpers/faults.js';
import { screenshot } from './helpers/app.js';
import { openDashboard, logInDashboard, waitLive, taskCmd } from './dashboard-helpers/dashboard.js';

describe('coordinator dashboard: a hole in the event stream', () => {
  /** @type {import('./helpers/hub.js').Hub} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await hub?.stop();
  });

  it('replays the task it missed instead of acking past it', async () => {
    const dash = await openDashboard(browser, hub.url);
    const { page } = dash;
    const link = await routeLink(page, {
      filter: (frame, wire, index) => (index === 0 && frame.type === 'event' && frame.event.task?.bed === '13' && wire.dropped.length === 0 ? 'drop' : undefined),
    });
    await logInDashboard(page, 'coord.hale');
    await waitLive(page);
    // The opening snapshot is read before the tasks exist, so only events can bring them.
    await until(() => link.wires[0].received.some((f) => f.type === 'ok' && f.result.kind === 'snapshot'), 'the opening snapshot');
    const nurse = await connectAs(hub.url, 'nurse.okafor');
    try {
      const missed = await nurse.command(taskCmd({ bed: '13', sbar: { situation: 'Missed: its event is lost on the way', background: '', assessment: '', recommendation: '' } }));
      assert.equal(missed.type, 'ok', JSON.stringify(missed));
      const next = await nurse.command(taskCmd({ bed: '14' }));
      assert.equal(next.type, 'ok', JSON.stringify(next));
      const [missedId, nextId] = [missed.result.task.id, next.result.task.id];

      const has = (/** @type {string} */ id) => page.evaluate((t) => /** @type {any} */ (window).wardpageDashboard.state.tasks.has(t), id);
      await until(() => has(nextId), 'the task after the hole');
      await until(() => link.wires[0].dropped.length === 1, 'the dropped frame');
      const hole = link.wires[0].dropped[0].seq;
      assert.ok(await has(missedId), 'the missed task was replayed from the hub and is on the board');
      await page.locator(`.board [data-id="${missedId}"]`).waitFor();
      await page.locator(`.board [data-id="${nextId}"]`).waitFor();

      const acks = link.wires[0].sent.filter((f) => f.type === 'ack').map((f) => f.seq);
      assert.ok(acks.every((s) => s < hole), `acks on the first socket: ${acks}, hole at ${hole}`);
      assert.ok(link.wires.length >= 2, 'the dashboard reconnected');
      const hello = link.wires[1].sent.find((f) => f.type === 'hello');
      assert.equal(hello?.cursor, hole - 1, 'the second hello resumes from before the hole');
      assert.equal(hello?.fresh, undefined, 'a resume, not a fresh start');
      await until(() => link.wires[1].sent.some((f) => f.type === 'ack' && f.seq >= hole + 1), 'the ack after the replay');
      assert.equal(await page.locator('.board-body > [role=row]').count(), 2, 'both tasks, once each');
      await screenshot(page, '61-dashboard-gap-replayed');
      assert.deepEqual(dash.errors, []);
    } finally {
      nurse.close();
    }
  });
});
