// Getting a phone past whatever rings at login (offers, pages, overdue
// observations) to the screen underneath, and looking at a screen as the
// screen tests do: legible text (16 px and up) and an axe scan with no
// violation (WCAG AA colour contrast among its rules).

import { expectAccessible, screenshot } from './app.js';
import { expectLegible } from './legibility.js';

/**
 * Answer the alert on screen with its quietest button ("Later", "Seen",
 * "Acknowledge") until none is left.
 * @param {import('playwright-core').Page} page
 */
export async function quietAlerts(page) {
  const alert = page.locator('section.alert:not([hidden])');
  while (await alert.isVisible()) {
    const title = (await alert.locator('.alert-kicker').textContent()) + ((await alert.locator('#alert-title').textContent()) ?? '');
    const buttons = alert.locator('button:text-is("Later"), button:text-is("Seen"), button:text-is("Acknowledge")');
    await buttons.first().click();
    await page.waitForFunction((t) => {
      const el = document.querySelector('section.alert');
      if (!el || el.hidden) return true;
      return (el.querySelector('.alert-kicker')?.textContent ?? '') + (el.querySelector('#alert-title')?.textContent ?? '') !== t;
    }, title);
  }
}

/**
 * Log in without needing the shell to be in sight (an alert may cover it).
 * @param {import('playwright-core').Page} page @param {string} username
 */
export async function logInCovered(page, username) {
  await page.fill('#login-user', username);
  await page.fill('#login-pass', 'night-shift');
  await page.click('button[type=submit]');
  await page.locator('#link-status[data-state="online"]').waitFor({ state: 'attached', timeout: 15000 });
}

/**
 * A screen as the screen tests look at it: a picture, then every text at
 * 16 px or more and axe with nothing to say.
 * @param {import('playwright-core').Page} page @param {string} name @param {string[]} [except]
 */
export async function lookAt(page, name, except = []) {
  await screenshot(page, name);
  await expectLegible(page, name, except);
  await expectAccessible(page, name);
}
