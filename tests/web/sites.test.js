// Two hospitals ("sites") on one hub node and one PostgreSQL database: each
// site's web client is served under /site/<name>/ and talks to that site
// only. A phone at north's prefix logs in and raises a task at north; a
// phone at south's logs in at south and is offered south's task; each sees
// only its own site's tasks, and an account only south has is south's
// alone; one browser opened on both sites keeps two sessions (the
// localStorage keys of each site are its own) and two service workers,
// each scoped to its site with its own shell cache; south's dashboard
// logs in and connects to south's WebSocket; the plain URLs stay the
// first site's client with the keys and cache they always had, and their
// worker leaves a site's files to that site's. Needs
// $WARDPAGE_TEST_POSTGRES (skipped, saying so, without it).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, phoneContext } from './helpers/browser.js';
import { goTab, screenshot } from './helpers/app.js';
import { PASSWORD } from './helpers/protocol.js';
import { connectAs } from './helpers/protocol.js';
import { openDashboard, logInDashboard, waitLive, taskCmd } from './dashboard-helpers/dashboard.js';
import { NO_POSTGRES, startSiteNode, addUser } from './helpers/sites.js';

/** @typedef {import('playwright-core').Page} Page */

/**
 * A page of `context` opened at `url` on the login form, its script errors
 * and the WebSockets it opened collected.
 * @param {import('playwright-core').BrowserContext} context @param {string} url
 */
async function openAt(context, url) {
  const page = await context.newPage();
  /** @type {string[]} */ const errors = [];
  /** @type {string[]} */ const sockets = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  page.on('websocket', (ws) => sockets.push(ws.url()));
  await page.goto(url);
  await page.locator('#login-user').waitFor();
  return { page, errors, sockets };
}

/**
 * Log in through the form and wait for the link to be up, as the page's own
 * link says (an offer may cover the status line with its alert).
 * @param {Page} page @param {string} username
 */
async function logIn(page, username) {
  await page.fill('#login-user', username);
  await page.fill('#login-pass', PASSWORD);
  await page.click('button[type=submit]');
  await waitOnline(page);
}

/** @param {Page} page */
async function waitOnline(page) {
  await page.waitForFunction(() => /** @type {any} */ (window).wardpage?.link?.status === 'online', null, { timeout: 15000 });
}

/** The ids of the tasks in the page's store. @param {Page} page @returns {Promise<string[]>} */
function storeTasks(page) {
  return page.evaluate(() => [.../** @type {any} */ (window).wardpage.store.tasks.keys()]);
}

/**
 * Waits until the store's record is on disk: the app saves it after a
 * snapshot is whole and before it acks events, so a task in memory may
 * not be in localStorage yet.
 * @param {Page} page @param {string} key
 */
function stateSaved(page, key) {
  return page.waitForFunction((k) => localStorage.getItem(k) !== null, key, { timeout: 15000 });
}

/** Every localStorage key and its session's login, if it is a session. @param {Page} page */
function storage(page) {
  return page.evaluate(() => Object.fromEntries(Object.keys(localStorage).map((k) => [k, k.endsWith('wardpage.session') ? JSON.parse(localStorage.getItem(k) ?? '{}') : true])));
}

describe('the web client of each site under /site/<name>/', { skip: NO_POSTGRES ?? false }, () => {
  /** @type {Awaited<ReturnType<typeof startSiteNode>>} */ let node;
  /** @type {import('playwright-core').Browser} */ let browser;
  /** @type {string} */ let north;
  /** @type {string} */ let south;
  /** @type {import('playwright-core').BrowserContext} */ let phone;
  /** @type {Awaited<ReturnType<typeof openAt>>} */ let northPage;
  /** @type {Awaited<ReturnType<typeof openAt>>} */ let southPage;
  /** @type {string} */ let northTask;
  /** @type {string} */ let southTask;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let southNurse;
  /** @type {import('./helpers/protocol.js').ProtocolClient} */ let northDoctor;

  before(async () => {
    node = await startSiteNode(['north', 'south']);
    north = `${node.url}/site/north/`;
    south = `${node.url}/site/south/`;
    // An account south has and north has not: the sites' accounts are apart.
    await addUser(node, 'south', { login: 'nurse.rao', name: 'Nurse Sunita Rao', role: 'nurse', skills: ['cannulation'] });
    browser = await launchBrowser();
    phone = await phoneContext(browser, north);
  });
  after(async () => {
    southNurse?.close();
    northDoctor?.close();
    await browser?.close();
    await node?.stop();
  });

  it('serves north’s client under its prefix, which logs in at north and raises a task there', async () => {
    northPage = await openAt(phone, north);
    const { page } = northPage;
    await logIn(page, 'nurse.okafor');
    await page.locator('.me-name', { hasText: 'Nurse Sam Okafor' }).waitFor();
    assert.deepEqual(northPage.sockets, [`${north.replace(/^http/, 'ws')}ws`], 'the WebSocket is north’s');
    // A doctor of north's who can be offered the task is connected (else
    // the raiser is told at once that no phone rang).
    northDoctor = await connectAs(north.slice(0, -1), 'fy1.patel');
    await goTab(page, 'raise');
    await page.fill('#raise-bed', '12');
    await page.fill('#raise-patient', 'RX1234567');
    await page.selectOption('#raise-category', 'cannula');
    // Routine: nobody here answers, and an urgent task's raiser alert would cover the form.
    await page.click('label.prio-option.routine');
    await page.fill('#raise-situation', 'North: tissued cannula');
    await page.click('form.raise button[type=submit]');
    await page.locator('.form-outcome .notice.ok', { hasText: 'Raised Ward 7' }).waitFor();
    const tasks = await storeTasks(page);
    assert.equal(tasks.length, 1, 'north’s one task');
    northTask = tasks[0];
    await goTab(page, 'raised');
    await page.locator(`article[data-task="${northTask}"]`).waitFor();
    await stateSaved(page, 'site:north:wardpage.state.nurse.okafor');
    const keys = await storage(page);
    assert.equal(keys['site:north:wardpage.session']?.staff?.login, 'nurse.okafor', JSON.stringify(keys));
    assert.ok(keys['site:north:wardpage.state.nurse.okafor'], 'the store is north’s');
    assert.equal(keys['wardpage.session'], undefined, 'nothing under the plain URLs’ keys');
    await screenshot(page, 'sites-north-phone');
  });

  it('registers north’s service worker with north’s scope and its own shell cache', async () => {
    const { page } = northPage;
    const reg = await page.evaluate(async () => {
      const r = await navigator.serviceWorker.ready;
      return { scope: r.scope, script: r.active?.scriptURL };
    });
    assert.deepEqual(reg, { scope: north, script: `${north}sw.js` });
    const cached = await cachedPaths(page, 'wardpage-shell-v1 /site/north/');
    assert.ok(cached.includes('/site/north/js/base.js') && cached.includes('/site/north/'), cached.join(' '));
    assert.deepEqual(cached.filter((p) => !p.startsWith('/site/north/')), [], 'only north’s files');
  });

  it('keeps south apart: its own accounts, and only south’s tasks', async () => {
    // An account of south's only: south takes it, north refuses it.
    const loginAt = async (/** @type {string} */ site) =>
      (await fetch(`${site}api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'nurse.rao', password: PASSWORD }) })).status;
    assert.deepEqual([await loginAt(south), await loginAt(north)], [200, 401]);
    southNurse = await connectAs(south.slice(0, -1), 'nurse.okafor');
    const raised = await southNurse.command(taskCmd({ bed: '3', priority: 'routine', sbar: { situation: 'South: cannula out', background: '', assessment: '', recommendation: '' } }));
    assert.equal(raised.type, 'ok', JSON.stringify(raised));
    southTask = raised.result.task.id;
    const other = await browser.newContext({ baseURL: south });
    try {
      const { page, sockets, errors } = await openAt(other, south);
      await logIn(page, 'sho.khan');
      await page.locator('.me-name', { hasText: 'Dr Omar Khan' }).waitFor({ state: 'attached' });
      assert.deepEqual(sockets, [`${south.replace(/^http/, 'ws')}ws`]);
      // Offered south's task (south's demo night team has the same names as north's).
      await page.waitForFunction((id) => /** @type {any} */ (window).wardpage.store.tasks.has(id), southTask);
      assert.deepEqual(await storeTasks(page), [southTask], 'south sees its own task, not north’s');
      assert.deepEqual(errors, []);
    } finally {
      await other.close();
    }
    // North's phone never heard of south's task.
    assert.deepEqual(await storeTasks(northPage.page), [northTask]);
  });

  it('keeps two sessions in one browser opened on both sites', async () => {
    southPage = await openAt(phone, south);
    const { page } = southPage;
    // North's session is not south's: the login form, not north's nurse.
    await logIn(page, 'fy1.patel');
    // Attached, not visible: the offer's alert may cover the shell.
    await page.locator('.me-name', { hasText: 'Dr Asha Patel' }).waitFor({ state: 'attached' });
    await stateSaved(page, 'site:south:wardpage.state.fy1.patel');
    const keys = await storage(page);
    const [n, s] = [keys['site:north:wardpage.session'], keys['site:south:wardpage.session']];
    assert.equal(n?.staff?.login, 'nurse.okafor', JSON.stringify(keys));
    assert.equal(s?.staff?.login, 'fy1.patel', JSON.stringify(keys));
    assert.notEqual(n.token, s.token);
    assert.ok(keys['site:south:wardpage.state.fy1.patel'], 'south’s store');
    assert.deepEqual(Object.keys(keys).filter((k) => !k.startsWith('site:north:') && !k.startsWith('site:south:')), [], 'every key is a site’s');
    // South's doctor is offered south's task, and only that.
    await page.waitForFunction((id) => /** @type {any} */ (window).wardpage.store.tasks.has(id), southTask);
    assert.deepEqual(await storeTasks(page), [southTask]);
    // North's page, reloaded, is still north's nurse, online, with north's task.
    await northPage.page.reload();
    await northPage.page.locator('.me-name', { hasText: 'Nurse Sam Okafor' }).waitFor();
    await waitOnline(northPage.page);
    assert.deepEqual(await storeTasks(northPage.page), [northTask]);
  });

  it('gives each site’s worker its scope, and neither drops the other’s cache', async () => {
    const { page } = southPage;
    const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
    assert.equal(scope, south);
    const regs = await page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).map((r) => r.scope).sort());
    assert.deepEqual(regs, [north, south]);
    const southCached = await cachedPaths(page, 'wardpage-shell-v1 /site/south/');
    assert.ok(southCached.includes('/site/south/js/base.js'), southCached.join(' '));
    // South's worker activated after north's: north's cache is still there.
    assert.ok((await cachedPaths(page, 'wardpage-shell-v1 /site/north/')).includes('/site/north/js/main.js'));
    assert.deepEqual(northPage.errors, []);
    assert.deepEqual(southPage.errors, []);
  });

  it('serves south’s dashboard, which logs in at south and connects to south’s WebSocket', async () => {
    const dash = await openDashboard(browser, south, { url: `${south}dashboard/` });
    try {
      /** @type {string[]} */ const sockets = [];
      dash.page.on('websocket', (ws) => sockets.push(ws.url()));
      await logInDashboard(dash.page, 'coord.hale');
      await waitLive(dash.page);
      assert.deepEqual(sockets, [`${south.replace(/^http/, 'ws')}ws`]);
      await dash.page.locator(`.board [data-id="${southTask}"]`).waitFor();
      assert.equal(await dash.page.locator(`.board [data-id="${northTask}"]`).count(), 0, 'north’s task is not on south’s board');
      const keys = await storage(dash.page);
      assert.equal(keys['site:south:wardpage.session']?.staff?.login, 'coord.hale', JSON.stringify(keys));
      await screenshot(dash.page, 'sites-south-dashboard');
      assert.deepEqual(dash.errors, []);
    } finally {
      await dash.context.close();
    }
  });

  it('keeps the plain URLs the first site’s client, with the keys they always had', async () => {
    const root = await phoneContext(browser, node.url);
    try {
      const { page, sockets, errors } = await openAt(root, `${node.url}/`);
      // North's accounts: south's nurse is refused.
      await page.fill('#login-user', 'nurse.rao');
      await page.fill('#login-pass', 'night-shift');
      await page.click('button[type=submit]');
      await page.locator('.form-error', { hasText: 'Wrong username or password.' }).waitFor();
      await logIn(page, 'nurse.okafor');
      assert.deepEqual(sockets, [`${node.url.replace(/^http/, 'ws')}/ws`]);
      await page.waitForFunction((id) => /** @type {any} */ (window).wardpage.store.tasks.has(id), northTask);
      await stateSaved(page, 'wardpage.state.nurse.okafor');
      const keys = await storage(page);
      assert.equal(keys['wardpage.session']?.staff?.login, 'nurse.okafor', JSON.stringify(keys));
      assert.ok(keys['wardpage.state.nurse.okafor']);
      assert.deepEqual(Object.keys(keys).filter((k) => k.startsWith('site:')), []);
      const reg = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
      assert.equal(reg, `${node.url}/`);
      assert.ok((await cachedPaths(page, 'wardpage-shell-v1')).includes('/js/base.js'));
      // South's client opened on this phone: the plain URLs' worker (scope
      // `/`, which contains `/site/south/`) leaves its files to south's own.
      const other = await openAt(root, south);
      const southScope = await other.page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
      assert.equal(southScope, south);
      assert.ok((await cachedPaths(other.page, 'wardpage-shell-v1 /site/south/')).includes('/site/south/js/main.js'));
      const rootCached = await cachedPaths(page, 'wardpage-shell-v1');
      assert.deepEqual(rootCached.filter((p) => p.startsWith('/site/')), [], 'no site’s file in the plain URLs’ cache');
      assert.deepEqual([...errors, ...other.errors], []);
    } finally {
      await root.close();
    }
  });
});

/** The paths in cache `name` of the page's origin. @param {Page} page @param {string} name */
function cachedPaths(page, name) {
  return page.evaluate(async (n) => {
    if (!(await caches.has(n))) return [];
    return (await (await caches.open(n)).keys()).map((r) => new URL(r.url).pathname);
  }, name);
}
