// Driving the coordinator dashboard in a desktop or tablet browser: open it,
// log in through its form, wait for the live link, and seed a night of tasks
// over the protocol so the screens have something to show.

import { openPhone } from '../helpers/app.js';

/** Desktop and tablet viewports the dashboard is made for. */
export const DESKTOP = { width: 1366, height: 900 };
export const TABLET = { width: 1024, height: 768 };
export const TABLET_PORTRAIT = { width: 820, height: 1180 };

/**
 * A desktop browser with the dashboard open on its login form.
 * @param {import('playwright-core').Browser} browser
 * @param {string} baseURL
 * @param {{viewport?: {width: number, height: number}, colorScheme?: 'light' | 'dark', fakeClock?: boolean, url?: string}} [opts]
 *   `fakeClock` installs the page clock before the app loads, so a test can move time on;
 *   `url`: the dashboard's address (default `/dashboard/`; a site's is under its prefix)
 */
export async function openDashboard(browser, baseURL, opts = {}) {
  const context = await browser.newContext({
    baseURL,
    viewport: opts.viewport ?? DESKTOP,
    colorScheme: opts.colorScheme ?? 'light',
    reducedMotion: 'reduce',
    acceptDownloads: true,
  });
  const page = await context.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/Failed to load resource|WebSocket connection/.test(msg.text())) errors.push(msg.text());
  });
  if (opts.fakeClock) await page.clock.install();
  await page.goto(opts.url ?? '/dashboard/');
  await page.locator('#login-user').waitFor();
  return { context, page, errors };
}

/**
 * @param {import('playwright-core').Page} page
 * @param {string} username
 */
export async function logInDashboard(page, username) {
  await page.fill('#login-user', username);
  await page.fill('#login-pass', 'night-shift');
  await page.click('form.login button[type=submit]');
}

/** @param {import('playwright-core').Page} page */
export async function waitLive(page) {
  await page.locator('#link-status[data-state="online"]').waitFor({ timeout: 15000 });
}

/** A task for raise_task. @param {Partial<Record<string, any>>} over */
export function taskCmd(over = {}) {
  return {
    op: 'raise_task',
    ward: 'w7',
    bed: '12',
    patient: 'RX1234567',
    category: 'cannula',
    priority: 'urgent',
    requirement: { skill: 'cannulation' },
    sbar: { situation: 'Tissued cannula, IV antibiotics due 02:00', background: 'Day 2 of IV co-amoxiclav', assessment: 'Obs stable', recommendation: 'Re-site before 02:00' },
    ...over,
  };
}

export { openPhone };
