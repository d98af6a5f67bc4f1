// A page is chased at the pace of its priority (issue 17: a "soon" page was
// escalated after a minute, as if it were urgent). The sender's phone says
// when the hub will escalate each page she sent unless someone acknowledges
// it (by default after 1 minute for an urgent page, 5 for a soon one); and
// on a hub whose soon pages are chased after 2 seconds and urgent ones after
// half an hour, the soon page escalates while the urgent one still waits.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, logIn, inspect, goTab, phoneBarrier } from './helpers/app.js';
import { connectAs, barrier } from './helpers/protocol.js';

/**
 * Send a page to Dr Patel from the nurse's Pages screen; its id, from the card.
 * @param {import('playwright-core').Page} page @param {string} priority @param {string} message
 */
async function sendPage(page, priority, message) {
  await goTab(page, 'pages');
  const compose = page.locator('details.compose');
  if (!(await compose.getAttribute('open'))) await page.click('details.compose > summary');
  await page.fill('#page-find', 'Patel');
  await page.selectOption('#page-priority', priority);
  await page.fill('#page-callback', 'ext 4471');
  await page.fill('#page-message', message);
  await page.click('form.page-form button[type=submit]');
  await page.locator('.form-outcome .notice.ok', { hasText: 'Page sent to Dr Asha Patel' }).waitFor();
  const card = page.locator('#pages-out article.card', { hasText: message });
  await card.waitFor();
  return /** @type {string} */ (await card.getAttribute('data-page'));
}

/** @param {import('playwright-core').Page} page @param {number} at */
const hhmm = (page, at) => page.evaluate((t) => new Date(t).toTimeString().slice(0, 5), at);

describe('pages escalate at the pace of their priority', () => {
  /** @type {import('./helpers/hub.js').Hub} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let nurse;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let patel;

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
    patel = await connectAs(hub.url, 'fy1.patel');
    nurse = await openPhone(browser, hub.url);
    await logIn(nurse.page, 'nurse.okafor');
  });
  after(async () => {
    patel?.close();
    await browser?.close();
    await hub?.stop();
  });

  it('tells the sender when each page escalates: an urgent one after a minute, a soon one after five', async () => {
    const { page } = nurse;
    const soon = await sendPage(page, 'soon', 'Drug chart needs rewriting, bed 2');
    const urgent = await sendPage(page, 'urgent', 'Bed 12 NEWS 7, please come');
    const sentAt = async (/** @type {string} */ id) => {
      const ev = await patel.until((evs) => evs.find((e) => e.event.kind === 'page' && e.event.page.id === id), 5000, `page ${id}`);
      return /** @type {number} */ (ev.event.page.sent_at);
    };
    const soonCard = page.locator(`#pages-out article.card[data-page="${soon}"] .next-escalation`);
    const urgentCard = page.locator(`#pages-out article.card[data-page="${urgent}"] .next-escalation`);
    assert.equal(await soonCard.textContent(), `Escalates at ${await hhmm(page, (await sentAt(soon)) + 5 * 60000)} unless acknowledged`);
    assert.equal(await urgentCard.textContent(), `Escalates at ${await hhmm(page, (await sentAt(urgent)) + 60000)} unless acknowledged`);
    await inspect(page, 'page-escalates-at');
    // Acknowledged: nothing more will be chased, and the card stops saying so.
    assert.equal((await patel.command({ op: 'page_ack', page: urgent })).type, 'ok');
    await page.locator(`#pages-out article.card[data-page="${urgent}"] .state`, { hasText: 'Acknowledged' }).waitFor();
    assert.equal(await urgentCard.count(), 0);
  });

  it('had no script errors', () => {
    assert.deepEqual(nurse.errors, []);
  });
});

const BY_PRIORITY = `
[escalation.page_by_priority.soon]
steps = [ { action = "coordinator", after_secs = 2 } ]

[escalation.page_by_priority.urgent]
steps = [ { action = "coordinator", after_mins = 30 } ]
`;

describe('a page escalates on its own priority’s ladder', () => {
  /** @type {import('./helpers/hub.js').Hub} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let nurse;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let patel;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let coordinator;

  before(async () => {
    hub = await startHub({ config: BY_PRIORITY });
    browser = await launchBrowser();
    patel = await connectAs(hub.url, 'fy1.patel');
    coordinator = await connectAs(hub.url, 'coord.hale');
    nurse = await openPhone(browser, hub.url);
    await logIn(nurse.page, 'nurse.okafor');
  });
  after(async () => {
    patel?.close();
    coordinator?.close();
    await browser?.close();
    await hub?.stop();
  });

  it('escalates the soon page to the coordinator while the urgent one still waits', async () => {
    const { page } = nurse;
    const urgent = await sendPage(page, 'urgent', 'Bed 12 NEWS 7, please come');
    const soon = await sendPage(page, 'soon', 'Drug chart needs rewriting, bed 2');
    const escalated = await coordinator.until(
      (evs) => evs.find((e) => e.event.kind === 'page_escalated' && e.event.page.id === soon),
      15000,
      'the soon page escalated',
    );
    assert.ok(escalated.event.alerted.some((/** @type {any} */ s) => s.name === 'Sister Jo Hale'), JSON.stringify(escalated.event.alerted));
    await page.locator(`#pages-out article.card[data-page="${soon}"] .who.escalated`).waitFor();
    // The hub has sent everything up to now: the urgent page was not chased.
    await phoneBarrier(page);
    await barrier(coordinator);
    assert.equal(coordinator.events.filter((e) => e.event.kind === 'page_escalated' && e.event.page.id === urgent).length, 0, 'the urgent page waits its 30 minutes');
    assert.equal(await page.locator(`#pages-out article.card[data-page="${urgent}"] .who.escalated`).count(), 0);
    await inspect(page, 'page-soon-escalated');
  });

  it('had no script errors', () => {
    assert.deepEqual(nurse.errors, []);
  });
});
