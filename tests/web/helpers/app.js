// Driving the web client as a member of staff would: open it on a phone,
// log in, look at a screen (axe-core accessibility scan, screenshot into
// artifacts/screenshots/ at the repo root), and collect page errors so a
// broken module fails the test instead of going unnoticed.

import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { phoneContext } from './browser.js';
import { REPO } from './hub.js';
import { PASSWORD } from './protocol.js';

const require = createRequire(import.meta.url);
const AXE_SOURCE = require('axe-core').source;
export const SCREENSHOTS = path.join(REPO, 'artifacts', 'screenshots');

/**
 * A phone with the app open on the login screen.
 * @param {import('playwright-core').Browser} browser
 * @param {string} baseURL
 */
export async function openPhone(browser, baseURL) {
  const context = await phoneContext(browser, baseURL);
  const page = await context.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/Failed to load resource|ERR_INTERNET_DISCONNECTED|WebSocket connection/.test(msg.text())) errors.push(msg.text());
  });
  await page.goto('/');
  await page.locator('#login-user').waitFor();
  return { context, page, errors };
}

/**
 * Log in through the form and wait until the link is up.
 * @param {import('playwright-core').Page} page
 * @param {string} username
 */
export async function logIn(page, username) {
  await page.fill('#login-user', username);
  await page.fill('#login-pass', PASSWORD);
  await page.click('button[type=submit]');
  await waitOnline(page);
}

/** @param {import('playwright-core').Page} page */
export async function waitOnline(page) {
  await page.locator('#link-status[data-state="online"]').waitFor({ timeout: 15000 });
}

/**
 * Scan the page with axe-core (WCAG 2.x A/AA and best practices) and fail on
 * any violation, listing what and where.
 * @param {import('playwright-core').Page} page
 * @param {string} screen
 */
export async function expectAccessible(page, screen) {
  const injected = await page.evaluate(() => 'axe' in window);
  // Evaluated through the debugging protocol, not a <script> tag, so the
  // hub's Content-Security-Policy stays in force for the app itself.
  if (!injected) await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    // @ts-ignore injected above
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((/** @type {any} */ v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 3).map((/** @type {any} */ n) => `${n.target.join(' ')}: ${n.failureSummary}`),
    }));
  });
  assert.deepEqual(result, [], `axe violations on the ${screen} screen:\n${JSON.stringify(result, null, 2)}`);
}

/**
 * @param {import('playwright-core').Page} page
 * @param {string} name file name without extension
 */
export async function screenshot(page, name) {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

/**
 * Every visible control must be a comfortable thumb target (48x48 CSS px).
 * Radio buttons count through the label that wraps them.
 * @param {import('playwright-core').Page} page
 * @param {string} screen
 */
export async function expectTouchTargets(page, screen) {
  const small = await page.evaluate(() => {
    const selector = 'button, a[href], select, textarea, summary, input:not([type=radio]):not([type=checkbox]):not([type=hidden]), label:has(> input[type=radio])';
    return [...document.querySelectorAll(selector)]
      .filter((el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden')
      .map((el) => ({ el, box: el.getBoundingClientRect() }))
      .filter(({ box }) => box.width < 47.5 || box.height < 47.5)
      .map(({ el, box }) => `${el.tagName.toLowerCase()} "${(el.textContent ?? '').trim().slice(0, 30)}" ${Math.round(box.width)}x${Math.round(box.height)}`);
  });
  assert.deepEqual(small, [], `touch targets under 48 px on the ${screen} screen`);
}

/**
 * Look at a screen every way a test can: a picture, an accessibility scan,
 * and the size of its touch targets.
 * @param {import('playwright-core').Page} page
 * @param {string} name
 */
export async function inspect(page, name) {
  await screenshot(page, name);
  await expectAccessible(page, name);
  await expectTouchTargets(page, name);
}

/**
 * Start counting layout shifts (Layout Instability API); read the total with
 * `layoutShift(page)`.
 * @param {import('playwright-core').Page} page
 */
export async function watchLayoutShift(page) {
  await page.evaluate(() => {
    const w = /** @type {any} */ (window);
    w.__shift = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__shift += /** @type {any} */ (e).value;
    }).observe({ type: 'layout-shift', buffered: false });
  });
}

/** @param {import('playwright-core').Page} page @returns {Promise<number>} */
export function layoutShift(page) {
  return page.evaluate(() => /** @type {any} */ (window).__shift);
}

/** @param {import('playwright-core').Page} page @param {'work' | 'raise' | 'raised' | 'pages'} tab */
export async function goTab(page, tab) {
  await page.click(`a.tab[data-tab="${tab}"]`);
  await page.locator(`a.tab[data-tab="${tab}"][aria-current="page"]`).waitFor();
}

/**
 * Wait until the hub has handled every frame the phone sent before this call:
 * a read on the phone's own socket is answered after them (the hub handles a
 * socket's frames in order). With `barrier` (protocol.js) on the client that
 * counts, this replaces "give any duplicate a moment".
 * @param {import('playwright-core').Page} page
 */
export async function phoneBarrier(page) {
  await page.evaluate(() => /** @type {any} */ (window).wardpage.link.read({ op: 'directory' }));
}
