// The page form shows one recipient picker at a time: "Person on shift" or
// "Everyone on shift as". The hidden one used to show anyway, because the
// form's `.field { display: flex }` overrode the `hidden` attribute.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, logIn, goTab } from './helpers/app.js';

describe('page form: one recipient picker at a time', () => {
  /** @type {Awaited<ReturnType<typeof startHub>>} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await hub?.stop();
  });

  it('shows only the picker chosen', async () => {
    const { page, errors } = await openPhone(browser, hub.url);
    await logIn(page, 'nurse.okafor');
    await goTab(page, 'pages');
    await page.click('details.compose > summary');
    await page.locator('#page-person').waitFor();
    assert.equal(await page.locator('#page-role').isVisible(), false, '"Everyone on shift as" is hidden while a person is chosen');
    await page.click('label[for=page-kind-role]');
    await page.locator('#page-role').waitFor();
    assert.equal(await page.locator('#page-person').isVisible(), false, 'and the person picker while a role is');
    assert.deepEqual(errors, []);
  });
});
