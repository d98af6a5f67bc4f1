// The session on a shared ward phone: a wrong password is refused politely;
// a reload keeps the user logged in; logging out revokes the token at the hub
// (the old token is refused afterwards). Also: the app is installable (manifest,
// icons) and its service worker pre-caches every module the app loads.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { startHub, REPO } from './helpers/hub.js';
import { launchBrowser } from './helpers/browser.js';
import { openPhone, logIn, inspect, waitOnline } from './helpers/app.js';
import { ProtocolClient } from './helpers/protocol.js';

describe('session, logout and install', () => {
  /** @type {Awaited<ReturnType<typeof startHub>>} */ let hub;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {Awaited<ReturnType<typeof openPhone>>} */ let phone;

  before(async () => {
    hub = await startHub();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await hub?.stop();
  });

  it('refuses a wrong password with a clear message', async () => {
    phone = await openPhone(browser, hub.url);
    const { page } = phone;
    await page.fill('#login-user', 'nurse.lee');
    await page.fill('#login-pass', 'day-shift');
    await page.click('button[type=submit]');
    await page.locator('.form-error', { hasText: 'Wrong username or password.' }).waitFor();
    await inspect(page, '30-login-refused');
  });

  it('keeps the session across a reload', async () => {
    const { page } = phone;
    await logIn(page, 'nurse.lee');
    await page.reload();
    await page.locator('.me-name', { hasText: 'Nurse Mei Lee' }).waitFor();
    await waitOnline(page);
    assert.equal(await page.locator('#login-user').count(), 0, 'no login form after reload');
    // The ward as the hospital writes it, not its id (issue 17).
    await page.locator('.me-shift', { hasText: /^Nurse until \d\d:\d\d · Ward 8 \(Surgery\)$/ }).waitFor();
  });

  it('keeps the screen awake while on shift', async () => {
    await phone.page.waitForFunction(() => /** @type {any} */ (window).wardpage.isAwake(), null, { timeout: 5000 });
  });

  it('logs out, revoking the token at the hub', async () => {
    const { page } = phone;
    const token = await page.evaluate(() => JSON.parse(localStorage.getItem('wardpage.session') ?? '{}').token);
    assert.equal(typeof token, 'string');
    // The token works before logout...
    const before = new ProtocolClient(hub.url, token);
    assert.equal((await before.connect()).type, 'welcome');
    before.close();
    await page.click('button:text-is("Log out")');
    await page.locator('.login-screen .notice', { hasText: 'Logged out.' }).waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem('wardpage.session')), null);
    await inspect(page, '31-logged-out');
    // ...and is refused after it.
    const afterwards = new ProtocolClient(hub.url, token);
    const answer = await afterwards.connect();
    afterwards.close();
    assert.equal(answer.type, 'error', JSON.stringify(answer));
    assert.equal(answer.code, 'unauthorized');
    // A reload stays logged out.
    await page.reload();
    await page.locator('#login-user').waitFor();
  });

  it('returns to the login screen when the session is revoked elsewhere', async () => {
    const { page } = phone;
    await logIn(page, 'nurse.lee');
    const token = await page.evaluate(() => JSON.parse(localStorage.getItem('wardpage.session') ?? '{}').token);
    // E.g. logged out from another device, or by IT after a lost phone.
    const res = await fetch(`${hub.url}/api/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 204);
    await page.locator('.login-screen .notice', { hasText: 'Your session has ended' }).waitFor({ timeout: 15000 });
    assert.equal(await page.evaluate(() => localStorage.getItem('wardpage.session')), null);
  });

  it('is installable: manifest and its icons are served', async () => {
    const { page } = phone;
    const href = await page.getAttribute('link[rel=manifest]', 'href');
    assert.ok(href);
    const manifestUrl = new URL(href, hub.url);
    const manifest = await (await fetch(manifestUrl)).json();
    assert.equal(manifest.display, 'standalone');
    // Relative, so each site's copy starts at its own folder (the plain URLs' is the root, as before).
    assert.equal(new URL(manifest.start_url, manifestUrl).href, `${hub.url}/`);
    assert.equal(new URL(manifest.scope, manifestUrl).href, `${hub.url}/`);
    const sizes = manifest.icons.filter((/** @type {any} */ i) => i.type === 'image/png').map((/** @type {any} */ i) => i.sizes);
    assert.ok(sizes.includes('192x192') && sizes.includes('512x512'), `PNG icons: ${sizes}`);
    for (const icon of manifest.icons) {
      const res = await fetch(new URL(icon.src, new URL(href, hub.url)));
      assert.equal(res.status, 200, icon.src);
      assert.equal(res.headers.get('content-type')?.split(';')[0], icon.type, icon.src);
    }
    const registered = await page.evaluate(async () => (await navigator.serviceWorker.ready).active?.scriptURL);
    assert.equal(registered, `${hub.url}/sw.js`);
  });

  it('pre-caches every module of the app shell', async () => {
    const client = path.join(REPO, 'client-web');
    const sw = await readFile(path.join(client, 'sw.js'), 'utf8');
    const files = (await readdir(path.join(client, 'js'), { recursive: true })).filter((f) => f.endsWith('.js')).map((f) => `/js/${f.split(path.sep).join('/')}`);
    // SHELL names them relative to the worker's scope (`js/...`).
    const missing = files.filter((f) => !sw.includes(`'${f.slice(1)}'`));
    assert.deepEqual(missing, [], 'modules missing from the service worker SHELL list');
    const cached = await phone.page.evaluate(async () => {
      const cache = await caches.open('wardpage-shell-v1');
      return (await cache.keys()).map((r) => new URL(r.url).pathname);
    });
    for (const f of files) assert.ok(cached.includes(f), `${f} is in the cache`);
  });

  it('had no script errors', () => {
    assert.deepEqual(phone.errors, []);
  });
});
