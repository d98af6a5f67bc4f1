// The page form shows one recipient picker at a time: "Person on shift" or
// "Everyone on shift as". The hidden one used to show anyway, because the
// form's `.field { display: flex }` overrode the `hidden` attribute. The
// person picker chooses nobody beforehand (it used to pick whoever came
// first in the list) and is narrowed by typing part of a name or role.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, logIn, goTab, inspect } from './helpers/app.js';

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

  it('chooses nobody beforehand, finds a person by typing, and sends to nobody unchosen', async () => {
    const { page, errors } = await openPhone(browser, hub.url);
    await logIn(page, 'nurse.okafor');
    await goTab(page, 'pages');
    await page.click('details.compose > summary');
    const person = page.locator('#page-person');
    await person.locator('option', { hasText: 'Dr Asha Patel' }).waitFor({ state: 'attached' });
    assert.equal(await person.inputValue(), '', 'no person is pre-selected');
    await page.fill('#page-callback', 'ext 4471');
    await page.fill('#page-message', 'Bed 12 NEWS 7');
    await page.click('form.page-form button[type=submit]');
    const why = await person.evaluate((el) => /** @type {HTMLSelectElement} */ (el).validationMessage);
    assert.ok(why.length > 0, 'the form asks for a person');
    assert.equal(await page.locator('.form-outcome .notice').count(), 0, 'nothing was sent');
    await page.fill('#page-find', 'khan');
    assert.deepEqual(await person.locator('option').allTextContents(), ['Choose a person…', 'Dr Omar Khan (SHO)']);
    assert.equal(await person.inputValue() !== '', true, 'the one match is chosen');
    await page.fill('#page-find', 'registrar');
    assert.deepEqual(await person.locator('option').allTextContents(), ['Choose a person…', 'Dr Claire Evans (Registrar)', 'Dr Omar Khan (SHO)'], 'the chosen one stays while she types');
    await inspect(page, 'page-find-person');
    await page.click('form.page-form button[type=submit]');
    await page.locator('.form-outcome .notice.ok', { hasText: 'Page sent to Dr Omar Khan' }).waitFor();
    assert.deepEqual(errors, []);
  });
});
