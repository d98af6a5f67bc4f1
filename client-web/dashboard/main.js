// Entry point of the coordinator dashboard: the login (shared session with
// the handheld app), the role gate, the shell (header, summary, views) and the
// wiring of link -> state -> views. After every welcome it reads the
// directory and the patients (every ward for a coordinator, her own wards for
// a nurse in charge); after a resync, the snapshot of tasks too. The role gate here is for the user's
// sake only; the hub refuses every coordinator command to anyone else.

import { h } from '../js/dom.js';
import { loadSession, login, logout, LoginRefused } from '../js/session.js';
import { DashLink } from './link.js';
import { DashState } from './state.js';
import { createBoard } from './board.js';
import { createDetail } from './detail.js';
import { createStaff } from './staff.js';
import { createFeed } from './feed.js';
import { pageDialog } from './page-dialog.js';
import { createInsight } from './insight.js';
import { ago, isOverdue, isWaiting, roleLabel } from './task-text.js';
import { initTheme, themeToggle } from './theme.js';
import { createUnsent } from './unsent.js';
import { createPatients, patientCounts } from './patients.js';
import { bedDialog } from './admit.js';
import { createAttention } from './attention.js';
import { createHandoverPrint } from './handover-print.js';
import { createWall } from './wall.js';

/** @typedef {import('../js/types.js').Session} Session */
/** @typedef {import('../js/types.js').StaffView} StaffView */

/** Ages, targets and "overdue" are recomputed this often. */
const TICK_MS = 15000;
const VIEWS = /** @type {const} */ (['tasks', 'patients', 'staff', 'insight']);
/** @type {Record<typeof VIEWS[number], string>} */
const VIEW_LABEL = { tasks: 'Tasks', patients: 'Patients', staff: 'Staff and roster', insight: 'Insight' };
/** @typedef {typeof VIEWS[number]} ViewName */

/** Summary boxes that turn red when not zero. */
const ALARMS = new Set(['deteriorating', 'obs-overdue', 'overdue', 'escalated', 'pages']);

/** @type {(() => void) | null} */
let teardown = null;

/**
 * What the dashboard lets this person do: coordinators and admins
 * everything; a nurse in charge watches (and pages); others nothing.
 * @param {StaffView} me
 * @returns {'coordinator' | 'nurse_in_charge' | null}
 */
export function accessFor(me) {
  const roles = [me.role, me.shift?.role];
  if (roles.includes('coordinator') || roles.includes('admin')) return 'coordinator';
  if (roles.includes('nurse_in_charge')) return 'nurse_in_charge';
  return null;
}

/** A time of day to the second, for "last updated at". @param {number} ms */
function timeOfDay(ms) {
  return new Date(ms).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

/** @param {string} [notice] */
function showLogin(notice) {
  teardown?.();
  teardown = null;
  const user = h('input', { id: 'login-user', name: 'username', autocomplete: 'username', autocapitalize: 'none', spellcheck: false, required: true });
  const pass = h('input', { id: 'login-pass', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn primary', text: 'Log in' });
  const form = h(
    'form',
    {
      class: 'login',
      onsubmit: async (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        submit.disabled = true;
        error.textContent = '';
        try {
          start(await login(user.value.trim(), pass.value));
        } catch (err) {
          error.textContent = err instanceof LoginRefused ? err.message : 'Cannot reach the hub. Check the network and try again.';
          submit.disabled = false;
        }
      },
    },
    h('div', { class: 'field' }, h('label', { for: user.id, text: 'Username' }), user),
    h('div', { class: 'field' }, h('label', { for: pass.id, text: 'Password' }), pass),
    error,
    submit,
  );
  document.body.replaceChildren(
    h(
      'main',
      { class: 'gate' },
      h('h1', { text: 'wardpage: night coordinator' }),
      notice ? h('p', { class: 'notice', role: 'status', text: notice }) : null,
      form,
      h('p', null, h('a', { href: '../', text: 'Open the handheld app instead' })),
    ),
  );
  user.focus();
}

/** The dashboard is not for this user: say so, and offer the way out. @param {Session} session */
function showRefused(session) {
  const me = session.staff;
  document.body.replaceChildren(
    h(
      'main',
      { class: 'gate refused' },
      h('h1', { text: 'This screen is for the night coordinator' }),
      h('p', { text: `You are logged in as ${me.name} (${roleLabel(me.shift?.role ?? me.role)}). The dashboard is for coordinators and nurses in charge; your work is in the handheld app.` }),
      h(
        'p',
        { class: 'row' },
        h('a', { href: '../', class: 'btn primary', text: 'Open the handheld app' }),
        h('button', {
          type: 'button',
          class: 'btn secondary',
          text: 'Log out',
          onclick: async () => {
            await logout(session);
            showLogin();
          },
        }),
      ),
    ),
  );
}

/** @param {Session} session */
function start(session) {
  teardown?.();
  const access = accessFor(session.staff);
  if (!access) {
    showRefused(session);
    return;
  }
  const canCommand = access === 'coordinator';
  const state = new DashState();
  const link = new DashLink({ token: session.token });
  /** @type {StaffView} */
  let me = session.staff;
  const now = () => link.now();

  const detail = createDetail({ state, link, canCommand });
  const board = createBoard({ state, now, onOpen: (id) => detail.open(id) });
  const staff = createStaff({ state, link, canCommand });
  const feed = createFeed({ state, link, onOpenTask: (id) => detail.open(id) });
  const attention = createAttention({ state, link, me: () => me.id, onOpenTask: (id) => detail.open(id), onChange: () => renderSummary() });
  // The login tap is the gesture that lets the chime play.
  attention.unlock();
  const insight = createInsight({ state, link, shift: () => me.shift });
  const sendPage = pageDialog({ state, link });
  const unsent = createUnsent({ state });
  // A nurse in charge may admit, move and discharge on her own wards (the
  // hub checks); a coordinator everywhere.
  /** The wards this person watches: every ward for a coordinator, her shift's for a nurse in charge. */
  const seenWards = () => (canCommand ? null : me.shift?.wards ?? []);
  const beds = bedDialog({ state, link, wards: seenWards });
  const handoverSheet = createHandoverPrint({ state, now, wards: seenWards });
  const bedActions = h(
    'div',
    { class: 'bed-actions', role: 'group', 'aria-label': 'Admissions and transfers' },
    h('button', { type: 'button', class: 'btn primary', id: 'admit-open', text: 'Admit a patient', onclick: () => beds.open('admit') }),
    h('button', { type: 'button', class: 'btn secondary', id: 'transfer-open', text: 'Transfer a patient', onclick: () => beds.open('transfer') }),
    h('button', { type: 'button', class: 'btn secondary', id: 'discharge-open', text: 'Discharge a patient', onclick: () => beds.open('discharge') }),
  );
  const patientsNote = h('p', { class: 'outcome', id: 'patients-note', role: 'status' });
  const patients = createPatients({
    state,
    now,
    onOpenTask: (id) => detail.open(id),
    actions: h('div', { class: 'patients-tools' }, bedActions, patientsNote),
    wards: seenWards,
  });

  // When the link is down the board is a picture of the past: it greys out
  // and says when it was last brought up to date.
  const staleNote = h('p', { class: 'stale-note', id: 'stale-note', role: 'status', hidden: true });
  /** When the hub last told this screen anything (link clock), 0 before the first word. */
  let lastUpdate = 0;
  const heard = () => {
    lastUpdate = now();
  };
  const status = h('p', { class: 'link-status', id: 'link-status', role: 'status', 'data-state': 'connecting', text: 'Connecting…' });
  const summary = h('dl', { class: 'summary', 'aria-label': 'The night so far' });
  // Escalations are announced to screen readers one at a time as they arrive.
  const announce = h('p', { class: 'visually-hidden', id: 'announce', 'aria-live': 'polite' });
  let announced = '';
  const nav = h(
    'nav',
    { 'aria-label': 'Dashboard views' },
    h('ul', null, VIEWS.map((v) => h('li', null, h('a', { href: `#${v}`, 'data-view': v, text: VIEW_LABEL[v] })))),
  );
  const tasksView = h('div', { class: 'view tasks-view', id: 'view-tasks' }, board.el, feed.el);
  const staffView = h('div', { class: 'view', id: 'view-staff' }, staff.el);
  const insightView = h('div', { class: 'view', id: 'view-insight' }, insight.el);
  const patientsView = h('div', { class: 'view', id: 'view-patients' }, patients.el);
  const wall = createWall({ state, now, urgent: () => attention.urgentTasks() });
  const wallToggle = h('button', { type: 'button', class: 'btn secondary', id: 'wall-toggle', onclick: () => setWall(!wallOn()) });
  const views = { tasks: tasksView, patients: patientsView, staff: staffView, insight: insightView };
  const main = h('main', { id: 'main', tabindex: -1 }, staleNote, unsent.el, attention.el, summary, tasksView, patientsView, staffView, insightView, wall.el);

  document.body.replaceChildren(
    h('a', { href: '#main', class: 'skip', text: 'Skip to the dashboard' }),
    h(
      'header',
      { class: 'top' },
      h('h1', null, 'wardpage ', h('span', { class: 'sub', text: 'night coordinator' })),
      status,
      h('p', { class: 'me', text: `${me.name}, ${roleLabel(me.shift?.role ?? me.role)}${canCommand ? '' : ' (view and page only)'}` }),
      h('div', { class: 'tools' },
        wallToggle,
        h('button', { type: 'button', class: 'btn primary', id: 'send-page', text: 'Send a page', onclick: () => sendPage.open() }),
        handoverSheet.button,
        themeToggle(),
        h('button', {
          type: 'button',
          class: 'btn secondary',
          text: 'Log out',
          onclick: async () => {
            await logout(session);
            showLogin('You are logged out.');
          },
        }),
      ),
    ),
    nav,
    main,
    detail.el,
    sendPage.el,
    beds.el,
    announce,
    handoverSheet.el,
  );

  /** Whether the wall board is showing: `?wall` in the address (a wall screen is set up once and left). */
  function wallOn() {
    return new URLSearchParams(location.search).has('wall');
  }
  /** @param {boolean} on */
  function setWall(on) {
    const url = new URL(location.href);
    if (on) url.searchParams.set('wall', '');
    else url.searchParams.delete('wall');
    history.replaceState(null, '', url.href.replace('wall=', 'wall'));
    showView();
  }

  function showView() {
    const onWall = wallOn();
    document.body.classList.toggle('wall', onWall);
    nav.hidden = onWall;
    attention.el.classList.toggle('wall-hidden', onWall);
    wallToggle.textContent = onWall ? 'Leave the wall board' : 'Wall board';
    wall.el.hidden = !onWall;
    wall.render();
    const name = /** @type {ViewName} */ (VIEWS.find((v) => `#${v}` === location.hash) ?? 'tasks');
    for (const v of VIEWS) views[v].hidden = onWall || v !== name;
    for (const a of nav.querySelectorAll('a')) {
      if (a.dataset.view === name) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    insight.show(name === 'insight');
    if (name === 'staff') staff.render();
    if (name === 'patients') patients.render();
  }
  const onHash = () => {
    if (location.hash === '#main') return;
    showView();
  };
  addEventListener('hashchange', onHash);

  function renderSummary() {
    const at = now();
    let waiting = 0;
    let overdue = 0;
    for (const t of state.tasks.values()) {
      if (isWaiting(t)) waiting += 1;
      if (isOverdue(t, at)) overdue += 1;
    }
    let onShift = 0;
    let connected = 0;
    for (const s of state.staff.values()) {
      if (!s.shift) continue;
      onShift += 1;
      if (s.connected) connected += 1;
    }
    const clinical = patientCounts(state, at, seenWards());
    /** @type {[string, string, string][]} */
    const items = [
      ['deteriorating', 'Deteriorating patients', String(clinical.deteriorating)],
      ['obs-overdue', 'Observations overdue', String(clinical.overdue)],
      ['open', 'Open tasks', String(state.tasks.size)],
      ['waiting', 'Waiting for someone', String(waiting)],
      ['overdue', 'Overdue', String(overdue)],
      // Open escalations: not yet taken and not acknowledged here, not a running total.
      ['escalated', 'Escalated', String(attention.openEscalations())],
      ['pages', 'Pages not acknowledged', String(state.pages.size)],
      ['staff', 'Staff on shift (connected)', `${onShift} (${connected})`],
    ];
    if (summary.children.length !== items.length) {
      summary.replaceChildren(...items.map(([key]) => h('div', { class: `stat stat-${key}`, 'data-stat': key }, h('dt'), h('dd'))));
    }
    items.forEach(([key, label, value], i) => {
      const box = /** @type {HTMLElement} */ (summary.children[i]);
      const [dt, dd] = /** @type {HTMLElement[]} */ ([...box.children]);
      if (dt.textContent !== label) dt.textContent = label;
      if (dd.textContent !== value) dd.textContent = value;
      box.classList.toggle('alarm', ALARMS.has(key) && value !== '0');
    });
  }

  state.addEventListener('change', (e) => {
    const changes = /** @type {CustomEvent<import('./state.js').Changes>} */ (e).detail;
    board.update(changes);
    patients.update(changes);
    detail.update(changes.tasks);
    insight.update(changes.tasks);
    if (changes.pages || changes.staff || changes.reset) feed.renderPages();
    if (changes.feed || changes.reset || feed.mentions(changes.tasks)) feed.renderFeed();
    const newest = state.feed[0];
    if (changes.feed && newest && newest.key !== announced) {
      announced = newest.key;
      announce.textContent = `Escalation, level ${newest.level}: ${newest.reason}`;
    } else if (changes.notice) {
      announce.textContent = changes.notice;
    }
    if (changes.staff || changes.tasks.size || changes.reset) {
      if (!staffView.hidden) staff.render();
    }
    attention.render();
    wall.render();
    renderSummary();
  });

  link.addEventListener('welcome', (e) => {
    const frame = /** @type {CustomEvent<import('../js/types.js').WelcomeFrame>} */ (e).detail;
    me = frame.me;
    heard();
    // Presence frames are not replayed: the directory brings everyone's current state.
    // It is asked first (the hub answers in order), so the board names the
    // wards ("Ward 7 (Medicine)") from its first rows.
    if (frame.resync) state.reset();
    void link.command({ op: 'directory' }).then((a) => a.ok && state.applyResult(a.result));
    if (frame.resync) void link.snapshot((part) => state.applyResult(part));
    void readPatients();
  });
  /** Every admitted patient this person may see, merged as the parts come (events go on meanwhile). */
  async function readPatients() {
    const refused = await link.patients(seenWards(), (part) => state.applyResult(part));
    if (refused === null) {
      patientsNote.className = 'outcome';
      patientsNote.textContent = '';
      state.patientsDone();
    } else if (refused.code !== 'unavailable') {
      patientsNote.className = 'outcome bad';
      patientsNote.textContent = `Could not read the patients: ${refused.message} (${refused.code})`;
    }
  }

  link.addEventListener('event', heard);
  link.addEventListener('presence', heard);
  link.addEventListener('event', (e) => state.applyEvent(/** @type {CustomEvent<import('../js/types.js').EventFrame>} */ (e).detail));
  link.addEventListener('not-sent', (e) => {
    const { cmd, message } = /** @type {CustomEvent<{cmd: import('../js/types.js').Command, message: string}>} */ (e).detail;
    unsent.add(cmd, message);
  });
  link.addEventListener('presence', (e) => state.applyPresence(/** @type {CustomEvent<import('./link.js').PresenceFrame>} */ (e).detail));
  let wasOnline = false;
  link.addEventListener('status', () => {
    // Up to the moment a live link drops, the board was current.
    if (wasOnline && link.status !== 'online') heard();
    wasOnline = link.status === 'online';
    status.dataset.state = link.status;
    status.textContent = link.status === 'online' ? 'Live' : link.status === 'connecting' ? 'Connecting…' : link.status === 'offline' ? 'Offline: reconnecting' : 'Signed out';
    showStale();
  });
  /** Grey the board and say how old it is while the link is down (after it was up once). */
  function showStale() {
    const stale = link.status !== 'online' && lastUpdate > 0;
    main.classList.toggle('stale', stale);
    staleNote.hidden = !stale;
    if (stale) staleNote.textContent = `Not live: the hub cannot be reached. This board was last updated at ${timeOfDay(lastUpdate)} (${ago(lastUpdate, now())}) and may be out of date.`;
  }
  link.addEventListener('ended', () => showLogin('Your session has ended. Please log in again.'));

  const ticker = setInterval(() => {
    board.tick();
    if (!patientsView.hidden) patients.tick();
    detail.tick();
    renderSummary();
    feed.renderPages();
    feed.renderFeed();
    attention.render();
    wall.render();
    showStale();
    if (!staffView.hidden) staff.render();
  }, TICK_MS);

  teardown = () => {
    clearInterval(ticker);
    attention.stop();
    removeEventListener('hashchange', onHash);
    link.stop();
  };

  showView();
  renderSummary();
  board.rebuild();
  link.start();
  // For tests and measurements in the browser.
  /** @type {any} */ (window).wardpageDashboard = { state, link, board, detail, patients };
}

initTheme();
const session = loadSession();
if (session) start(session);
else showLogin();
