// A hole in a live connection's stream (a commit that failed after it may
// have landed, a frame lost on the way): the handheld must not apply or
// acknowledge anything past the hole, since the hub may prune what is acked
// and the missed event may be an offer. It drops the socket and says hello
// with its cursor, and the hub replays the missed offer from its store.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, logIn, screenshot } from './helpers/app.js';
import { connectAs } from './helpers/protocol.js';
import { routeLink, until } from './helpers/faults.js';

/** @param {string} bed @param {string} situation */
const cannula = (bed, situation) => ({
  op: 'raise_task', ward: 'w7', bed, patient: 'RX5550021', category: 'cannula', priority: 'urgent',
  requirement: { skill: 'cannulation' }, sbar: { situation, background: '', assessment: '', recommendation: '' },
});

describe('handheld: a hole in the event stream', () => {
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

  it('resumes from its cursor and shows the offer it missed, never acking past the hole', async () => {
    const doctor = await openPhone(browser, hub.url);
    const { page } = doctor;
    // The first event about bed 21 never reaches the page on its first socket.
    const link = await routeLink(page, {
      filter: (frame, wire, index) => (index === 0 && frame.type === 'event' && frame.event.task?.bed === '21' && wire.dropped.length === 0 ? 'drop' : undefined),
    });
    await logIn(page, 'np.murphy');
    const nurse = await connectAs(hub.url, 'nurse.okafor');
    try {
      const missed = await nurse.command(cannula('21', 'Missed cannula: its offer is lost on the way'));
      assert.equal(missed.type, 'ok', JSON.stringify(missed));
      const next = await nurse.command(cannula('22', 'Next cannula, right behind the lost one'));
      assert.equal(next.type, 'ok', JSON.stringify(next));
      const [missedId, nextId] = [missed.result.task.id, next.result.task.id];

      const has = (/** @type {string} */ id) => page.evaluate((t) => /** @type {any} */ (window).wardpage.store.tasks.has(t), id);
      await until(() => has(nextId), 'the offer after the hole');
      await until(() => link.wires[0].dropped.length === 1, 'the dropped frame');
      const hole = link.wires[0].dropped[0].seq;
      assert.ok(await has(missedId), 'the missed offer was replayed from the hub and is held');
      // On "My work" (behind the alert that rings for it).
      await page.locator(`article[data-task="${missedId}"]`).waitFor({ state: 'attached' });
      await page.locator(`article[data-task="${nextId}"]`).waitFor({ state: 'attached' });

      // Nothing at or past the hole was acknowledged on the socket that had it.
      const acks = link.wires[0].sent.filter((f) => f.type === 'ack').map((f) => f.seq);
      assert.ok(acks.every((s) => s < hole), `acks on the first socket: ${acks}, hole at ${hole}`);
      // The page said hello again from just before the hole.
      assert.ok(link.wires.length >= 2, 'the page reconnected');
      const hello = link.wires[1].sent.find((f) => f.type === 'hello');
      assert.equal(hello?.cursor, hole - 1, 'the second hello resumes from before the hole');
      await until(() => link.wires[1].sent.some((f) => f.type === 'ack' && f.seq >= hole + 1), 'the ack after the replay');
      await screenshot(page, '60-gap-replayed');
      assert.deepEqual(doctor.errors, []);
    } finally {
      nurse.close();
    }
  });
});
