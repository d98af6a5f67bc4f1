// Entry point: registers the service worker, shows the login screen or resumes
// the stored session, and wires the state, the link, the alerts and the
// screens together. Everything below it is a small module with one job.

import { loadSession, logout, forgetSession } from './session.js';
import { Store } from './store.js';
import { Outbox } from './outbox.js';
import { Link } from './connection.js';
import { createActions, queuedAnswers } from './actions.js';
import { AlertController } from './alerts.js';
import { keepAwake, isAwake, notify as notifySystem } from './device.js';
import * as sound from './sound.js';
import { loginView } from './views/login.js';
import { createShell, currentTab } from './views/shell.js';
import { renderStatus } from './views/status.js';
import { alertOverlay } from './views/alert-overlay.js';
import { workView } from './views/work.js';
import { raiseView } from './views/raise.js';
import { raisedView } from './views/raised.js';
import { pagesView } from './views/pages.js';
import { patientsView } from './views/patients.js';
import { handoverView } from './views/handover.js';
import { busyView, currentBusy } from './views/busy.js';
import { wardNamer } from './views/context.js';
import { toast } from './views/toast.js';
import { unsentView } from './views/unsent.js';
import { confirmDialog } from './views/dialog.js';
import { routineNotice, replyNotification } from './notices.js';
import { watchOfflineConflicts } from './views/offline-conflict.js';
import { BASE, siteUrl } from './base.js';

/** @typedef {import('./types.js').Session} Session */

/** Ages and targets on screen are re-rendered this often. */
const TICK_MS = 30000;

/** @type {(() => void) | null} the running app's teardown */
let teardown = null;

/** @param {string} [notice] */
function showLogin(notice) {
  teardown?.();
  teardown = null;
  const view = loginView({ onLogin: startApp, notice });
  document.body.replaceChildren(view.el);
  view.focus();
}

/** @param {Session} session */
function startApp(session) {
  const owner = session.staff.login;
  const store = new Store(owner);
  if (!store.me) store.me = session.staff;
  const outbox = new Outbox(owner);
  const link = new Link({ token: session.token, store, outbox });
  const actions = createActions({ store, link });
  const ctx = { store, link, outbox, actions, wardName: wardNamer(store) };
  const views = { work: workView(ctx), patients: patientsView(ctx), raise: raiseView(ctx), raised: raisedView(ctx), pages: pagesView(ctx) };
  const handover = handoverView(ctx);
  const unsent = unsentView({ outbox, now: () => store.now() });
  const overlay = alertOverlay({ actions, store, link, outbox, wardName: ctx.wardName });
  watchOfflineConflicts({ link, store, wardName: ctx.wardName });
  const alerts = new AlertController({
    store,
    overlay,
    markRead: (p) => actions.readPage(p),
    answered: (id) => queuedAnswers(outbox, id).length > 0,
    busy: () => currentBusy(store, outbox) !== null,
  });
  const busy = busyView({
    ...ctx,
    held: () => ({ count: alerts.held.length, pagesOnly: alerts.held.length > 0 && alerts.held.every((i) => 'page' in i) }),
    onChange: () => refresh(),
  });
  let tab = currentTab();

  const shell = createShell({
    onLogout: () => void endSession(),
    onTab: (next) => {
      tab = next;
      show();
    },
  });

  function show() {
    // A handover to me shows on every screen; what I hold, on "My work".
    shell.main.replaceChildren(unsent.el, busy.el, handover.banner, ...(tab === 'work' ? [handover.el] : []), views[tab].el);
    handover.update();
    views[tab].update();
    badges();
    shell.main.scrollTop = 0;
  }

  function badges() {
    const me = store.me?.id;
    const offers = store.myWork().length + handover.count();
    const pages = store.pagesToMe().filter((p) => p.recipients.some((r) => r.staff.id === me && r.acked_at === null)).length;
    shell.updateTabs(tab, { work: offers, pages });
  }

  function refresh() {
    shell.updateHeader(store);
    handover.update();
    views[tab].update();
    badges();
    alerts.update();
    busy.update(); // after the alerts: it shows how many they hold back
    void keepAwake(store.me?.shift != null);
  }

  async function endSession() {
    if (outbox.size) {
      const go = await confirmDialog({
        title: 'Log out?',
        text: `${outbox.size} action${outbox.size === 1 ? ' has' : 's have'} not reached the hub yet and will be lost.`,
        yes: 'Log out anyway',
        no: 'Stay',
      });
      if (!go) return;
    }
    link.stop();
    const revoked = await logout(session);
    store.destroy();
    handover.forget();
    outbox.clear();
    showLogin(revoked ? 'Logged out.' : 'Logged out on this phone. The hub could not be reached, so the session stays valid there until it expires.');
  }

  store.addEventListener('change', refresh);
  link.addEventListener('status', () => {
    renderStatus(shell.status, link);
    views[tab].update();
    alerts.update(); // the overlay shows the link and what is queued
    busy.update(); // a queued set_busy or end_busy, sent or answered
  });
  /**
   * Events that came before the directory (a fresh login's replay): their
   * notices wait for the wards' names, so none says `w7`.
   * @type {import('./types.js').EventFrame[]}
   */
  let unnamed = [];
  /** @param {import('./types.js').EventFrame} frame */
  const notify = (frame) => {
    const text = routineNotice(frame, store.me?.id, ctx.wardName, (id) => store.roleOf(id));
    if (text) toast(text);
    const reply = document.visibilityState === 'visible' ? null : replyNotification(frame, store.me?.id);
    if (reply) void notifySystem(reply);
  };
  store.addEventListener('change', () => {
    if (!store.directory || !unnamed.length) return;
    const waiting = unnamed;
    unnamed = [];
    waiting.forEach(notify);
  });
  link.addEventListener('frame', (e) => {
    const frame = /** @type {CustomEvent} */ (e).detail;
    if (store.directory) notify(frame);
    else unnamed.push(frame);
    handover.onFrame(frame);
    const ev = frame.event;
    // The view does not carry why a task was handed back; its timeline does.
    if (ev.kind === 'task' && ev.change === 'handed_back' && ev.task.raised_by.id === store.me?.id) void fetchHandBack(ev.task.id);
  });
  /** @param {string} task */
  async function fetchHandBack(task) {
    try {
      const result = await link.read({ op: 'timeline', task });
      if (result.kind !== 'timeline') return;
      const last = [...result.entries].reverse().find((x) => x.action === 'hand_back' || x.action === 'decline_assignment');
      if (last) store.putHandBack(task, { by: last.actor?.name ?? 'someone', reason: last.detail, at: last.at });
    } catch (err) {
      // Offline again: the card and alert say "handed back" without the reason.
      console.warn('wardpage: no hand-back reason:', err);
    }
  }
  link.addEventListener('cmd-error', (e) => {
    const detail = /** @type {CustomEvent} */ (e).detail;
    // A screen that shows the refusal beside its own fields marks it shown
    // (its listener runs after this one): the toast would only cover them.
    queueMicrotask(() => {
      if (!detail.shown) toast(`${detail.entry.label}: ${detail.message}`, 'error');
    });
  });
  link.addEventListener('not-sent', () => {
    unsent.update();
    views[tab].update();
  });
  link.addEventListener('ended', (e) => {
    const { code } = /** @type {CustomEvent} */ (e).detail;
    forgetSession();
    showLogin(code === 'unauthorized' ? 'Your session has ended. Please log in again.' : 'This app is out of date for the hub. Reload the page.');
  });
  // After a reload, the first tap anywhere unlocks sound (browsers insist).
  const onTap = () => {
    sound.unlock();
    setTimeout(() => renderStatus(shell.status, link), 200);
  };
  document.addEventListener('pointerdown', onTap);
  const tick = setInterval(() => {
    link.expireOld(); // a phone offline all night learns here what will not be sent
    handover.update();
    views[tab].update();
  }, TICK_MS);

  document.body.replaceChildren(shell.el, overlay.el);
  renderStatus(shell.status, link);
  show();
  refresh();
  link.start();

  teardown = () => {
    clearInterval(tick);
    document.removeEventListener('pointerdown', onTap);
    link.stop();
    alerts.stop();
    void keepAwake(false);
  };
  // Exposed for the browser tests and for debugging on a ward phone.
  /** @type {any} */ (window).wardpage = { store, link, outbox, alerts, sound, isAwake };
}

function registerServiceWorker() {
  if ('serviceWorker' in navigator) {
    // The site's own worker, scoped to its folder (`/` or `/site/<name>/`).
    navigator.serviceWorker.register(siteUrl('sw.js'), { scope: BASE.pathname }).catch((err) => console.warn('wardpage: no service worker:', err));
  }
}

registerServiceWorker();
const session = loadSession();
if (session) startApp(session);
else showLogin();
