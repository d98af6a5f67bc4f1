// A command that waited in the phone's outbox all night must not be sent:
// the hub remembers command ids for a day only, so a late re-send could be
// taken as new (a task raised twice, a page sent again hours later). The
// handheld drops an entry older than 12 hours without sending it and tells
// the user plainly what was not sent, until they dismiss it. Fresh entries
// go as before, each with the time it was first issued. A command the hub
// refuses as `id_expired` is shown the same way.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, waitOnline, inspect } from './helpers/app.js';
import { connectAs, login } from './helpers/protocol.js';
import { routeLink, until } from './helpers/faults.js';

const HOUR = 3600 * 1000;

/** @param {string} bed @param {string} patient */
const raise = (bed, patient) => ({
  op: 'raise_task', ward: 'w7', bed, patient, category: 'cannula', priority: 'routine',
  requirement: { skill: 'cannulation' }, sbar: { situation: `Cannula for ${patient}`, background: '', assessment: '', recommendation: '' },
});

/** An outbox entry as the app stores it, first issued `age` ago. @param {any} cmd @param {string} label @param {number} age */
const entry = (cmd, label, age) => ({ id: randomUUID(), cmd, label, queued_at: Date.now() - age, issued_at: Date.now() - age });

/**
 * Open the app as `username` with `outbox` already on the phone (as a phone
 * that was offline all night would reload it), its socket routed through the test.
 * @param {import('playwright-core').Browser} browser @param {string} base @param {string} username @param {any[]} outbox
 */
async function phoneWithOutbox(browser, base, username, outbox) {
  const phone = await openPhone(browser, base);
  const session = await login(base, username);
  await phone.page.evaluate(
    ({ session, outbox }) => {
      localStorage.setItem('wardpage.session', JSON.stringify(session));
      localStorage.setItem(`wardpage.outbox.${session.staff.login}`, JSON.stringify(outbox));
    },
    { session, outbox },
  );
  const link = await routeLink(phone.page);
  await phone.page.reload();
  await waitOnline(phone.page);
  return { ...phone, link };
}

/** Open tasks the hub holds, as a coordinator's snapshot shows them. @param {string} base */
async function hubTasks(base) {
  const coordinator = await connectAs(base, 'coord.hale');
  try {
    const answer = /** @type {any} */ (await coordinator.command({ op: 'snapshot' }));
    assert.equal(answer.type, 'ok', JSON.stringify(answer));
    return /** @type {any[]} */ (answer.result.tasks);
  } finally {
    coordinator.close();
  }
}

describe('handheld: the outbox expires after a night', () => {
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

  it('does not send a command queued 13 hours ago, and says so until dismissed', async () => {
    const stale = entry(raise('12', 'RX0000013'), 'Raise task w7 bed 12', 13 * HOUR);
    const fresh = entry(raise('11', 'RX0000001'), 'Raise task w7 bed 11', 60 * 1000);
    const nurse = await phoneWithOutbox(browser, hub.url, 'nurse.okafor', [stale, fresh]);
    const { page, link } = nurse;

    const card = page.locator(`.unsent-item[data-id="${stale.id}"]`);
    await card.waitFor();
    assert.match(await card.innerText(), /Not sent: Raise task w7 bed 12/);
    assert.match(await card.innerText(), /too old to send safely/);
    // The fresh one went, with the time it was first issued, and was carried out.
    await until(() => page.evaluate(() => /** @type {any} */ (window).wardpage.outbox.size === 0), 'the fresh command answered');
    const sent = link.wires.flatMap((w) => w.sent).filter((f) => f.type === 'cmd');
    assert.ok(!sent.some((f) => f.id === stale.id), 'the stale command never went to the hub');
    const freshFrame = sent.find((f) => f.id === fresh.id);
    assert.equal(freshFrame?.issued_at, fresh.issued_at, 'sent with its first issue time');
    const tasks = await hubTasks(hub.url);
    assert.ok(tasks.some((t) => t.patient === 'RX0000001'), 'the fresh task was raised');
    assert.ok(!tasks.some((t) => t.patient === 'RX0000013'), 'the stale task was not raised');
    await inspect(page, '62-outbox-not-sent');

    // Still there after a reload; gone once dismissed.
    await page.reload();
    await card.waitFor();
    await card.locator('button', { hasText: 'Dismiss' }).click();
    await card.waitFor({ state: 'detached' });
    await page.reload();
    await waitOnline(page);
    assert.equal(await page.locator('.unsent-item').count(), 0);
    assert.deepEqual(nurse.errors, []);
  });

  it('stamps a new command with the hub\'s time when it is first queued', async () => {
    const phone = await phoneWithOutbox(browser, hub.url, 'nurse.okafor', []);
    const { page, link } = phone;
    const before = Date.now();
    await page.evaluate(() => /** @type {any} */ (window).wardpage.link.send({ op: 'directory' }, 'Look up the directory'));
    await until(() => link.wires.some((w) => w.sent.some((f) => f.type === 'cmd' && f.cmd.op === 'directory' && f.issued_at)), 'the command');
    const frame = link.wires.flatMap((w) => w.sent).find((f) => f.type === 'cmd' && f.issued_at);
    // Page and hub share this machine's clock: the stamp is "now", give or take the round trip.
    assert.ok(Math.abs(frame.issued_at - before) < 60 * 1000, `issued_at ${frame.issued_at} vs ${before}`);
  });
});

describe('handheld: the hub refuses a command it no longer knows', () => {
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

  it('shows an id_expired command as not sent', async () => {
    // Two hours old by the phone's reckoning, so it sends it; the frame
    // reaches the hub stamped a day earlier, as from a phone whose idea of
    // the hub's time was a day out. The hub, which no longer knows the id,
    // refuses it rather than raise the task again.
    const old = entry(raise('10', 'RX0000002'), 'Raise task w7 bed 10', 2 * HOUR);
    const phone = await openPhone(browser, hub.url);
    const session = await login(hub.url, 'nurse.okafor');
    await phone.page.evaluate(
      ({ session, outbox }) => {
        localStorage.setItem('wardpage.session', JSON.stringify(session));
        localStorage.setItem(`wardpage.outbox.${session.staff.login}`, JSON.stringify(outbox));
      },
      { session, outbox: [old] },
    );
    await routeLink(phone.page, {
      rewriteSent: (f) => (f.type === 'cmd' && f.id === old.id ? { ...f, issued_at: f.issued_at - 24 * HOUR } : undefined),
    });
    await phone.page.reload();
    await waitOnline(phone.page);
    const card = phone.page.locator(`.unsent-item[data-id="${old.id}"]`);
    await card.waitFor({ timeout: 10000 });
    assert.match(await card.innerText(), /the hub no longer knew it/);
    const tasks = await hubTasks(hub.url);
    assert.ok(!tasks.some((t) => t.patient === 'RX0000002'), 'nothing was raised');
  });
});
