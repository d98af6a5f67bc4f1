// The full-screen alert: the top item from AlertController, in its priority's
// colour, with the buttons that answer it within thumb reach at the bottom.
// Emergencies get no "Later": they must be accepted, declined or acknowledged.
// It is a fixed layer over the app, so nothing underneath moves when it opens.
// It says whether the hub can be reached (a doctor at an alert cannot see the
// status line under it), and an answer given while it cannot is shown as
// queued, with the buttons that would repeat it held, until the hub confirms.

import { h, replaceChildren } from '../dom.js';
import { CATEGORY_LABEL, PRIORITY_LABEL, clock, duration, requirementLabel, targetStatus } from '../format.js';
import { BAND_SHORT, patientNumber, scaleLabel } from '../clinical.js';
import { patientLine, reviewLine } from './task-card.js';
import { raiserHeadline } from '../alerts.js';
import { queuedAnswers } from '../actions.js';
import { offeredWords } from '../reach.js';
import { PAGE_REPLIES, REPLY_LABEL, callLink } from '../page-words.js';
import { alertSbar } from './alert-sbar.js';

/** @typedef {import('../alerts.js').AlertItem} AlertItem */
/** @typedef {import('../actions.js').Actions} Actions */
/** @typedef {import('../store.js').Store} Store */
/** @typedef {import('../connection.js').Link} Link */
/** @typedef {import('../outbox.js').Outbox} Outbox */

/** How long "See the list" keeps the alerts then ringing off screen. */
const BROWSE_MS = 2 * 60 * 1000;

/** @param {Link} link */
function linkText(link) {
  switch (link.status) {
    case 'online':
      return 'Online';
    case 'connecting':
      return 'Reconnecting… answers are queued until the hub is reached';
    case 'ended':
      return 'Signed out';
    case 'offline':
      return `Offline${link.offlineSince !== null ? ` since ${clock(link.offlineSince)}` : ''}: answers are queued, not sent`;
  }
}

/**
 * Why the raiser is rung: the hub's or the colleague's reason, who declined
 * and why, and who has it now.
 * @param {Extract<AlertItem, {kind: 'raiser'}>} item
 */
function raiserWhy(item) {
  const declined = item.task.offers.filter((o) => o.state === 'declined' && o.reason).map((o) => `${o.staff.name}: “${o.reason}”`);
  return [
    item.why === 'handed_back' ? (item.reason ? `Reason: “${item.reason}”` : '') : item.reason,
    declined.length ? `Declined by ${declined.join('; ')}` : '',
    item.task.state === 'offering' ? offeredWords(item.task).text : 'No one has it: the coordinator has been told.',
  ].filter(Boolean).join(' · ');
}

/**
 * What became of an answer given from the alert: queued (not sent) while the
 * hub cannot be reached, sending once it can, until the hub confirms.
 * @param {string[]} pending labels of the queued commands @param {boolean} online
 */
function queuedNote(pending, online) {
  if (!pending.length) return null;
  const text = online
    ? `Sending: ${pending.join(', ')}… not confirmed by the hub yet.`
    : `Queued, NOT sent: ${pending.join(', ')}. It will be sent when the hub is reachable; until then it has not happened.`;
  return h('p', { class: `alert-queued ${online ? 'sending' : 'held'}`, role: 'alert', text });
}

/**
 * An answer already queued is not given twice: hold every button but "Later".
 * @param {import('../dom.js').Child[]} buttons @param {HTMLElement | null} later
 */
function holdAnswers(buttons, later) {
  const all = buttons.flatMap((b) => (b instanceof HTMLElement ? (b.matches('button') ? [b] : [...b.querySelectorAll('button')]) : []));
  for (const btn of all) if (btn !== later) /** @type {HTMLButtonElement} */ (btn).disabled = true;
}

/** The task or page an alert is about, if any. @param {AlertItem} item */
export function alertTarget(item) {
  return 'page' in item ? item.page.id : 'task' in item ? item.task.id : null;
}

/**
 * @param {{actions: Actions, store: Store, link: Link, outbox: Outbox, wardName: (id: string) => string}} deps
 * @returns {import('../alerts.js').Overlay & {el: HTMLElement}}
 */
export function alertOverlay({ actions, store, link, outbox, wardName }) {
  const el = h('section', {
    class: 'alert',
    role: 'alertdialog',
    'aria-modal': 'true',
    'aria-labelledby': 'alert-title',
    'aria-describedby': 'alert-body',
    hidden: true,
  });
  /** @type {string | null} */
  let shownKey = null;
  let shownVersion = '';
  const sbar = alertSbar();

  /** @param {import('../types.js').PageView} p @param {string | null} reason */
  function pageBody(p, reason) {
    return [
      h('h2', { id: 'alert-title', class: 'alert-where', text: `From ${p.from.name}` }),
      h(
        'div',
        { id: 'alert-body' },
        p.from_ward ? h('p', { class: 'alert-from-ward', text: p.from_ward.name }) : null,
        reason ? h('p', { class: 'alert-reason', text: reason }) : null,
        callLink(p, 'alert-callback'),
        p.message ? h('p', { class: 'alert-situation', text: p.message }) : null,
        h('p', { class: 'alert-meta', text: `Sent ${clock(p.sent_at)}` }),
      ),
    ];
  }

  /**
   * Acknowledge, or answer in one tap with a reply the sender sees (it
   * acknowledges too). Acknowledge comes first: it is what a stray Enter
   * on the focused button does. @param {import('../types.js').PageView} p
   */
  function pageAnswers(p) {
    return [
      primary('Acknowledge', () => actions.ackPage(p)),
      h(
        'div',
        { class: 'row alert-replies', role: 'group', 'aria-label': 'Reply and acknowledge' },
        PAGE_REPLIES.map((r) => h('button', { type: 'button', class: 'btn secondary big', 'data-reply': r, text: REPLY_LABEL[r], onclick: () => actions.ackPage(p, r) })),
      ),
    ];
  }

  /** @param {import('../types.js').TaskView} t @param {string | null} reason */
  function taskBody(t, reason) {
    const target = targetStatus(t, store.now());
    return [
      h('h2', { id: 'alert-title', class: 'alert-where', text: `${wardName(t.ward)} · Bed ${t.bed}` }),
      h(
        'div',
        { id: 'alert-body' },
        reason ? h('p', { class: 'alert-reason', text: reason }) : null,
        patientLine(t, 'alert-patient'),
        reviewLine(t),
        h('p', { class: 'alert-what', text: `${CATEGORY_LABEL[t.category]} · needs ${requirementLabel(t.requirement)}${t.patient_ref ? '' : ` · ${t.patient}`}` }),
        h('p', { class: 'alert-situation', text: t.sbar.situation }),
        sbar(t),
        h('p', { class: 'alert-meta', text: `Raised ${clock(t.raised_at)} by ${t.raised_by.name}${target ? ` · ${target.text}` : ''}` }),
      ),
    ];
  }

  /** @param {string} label @param {() => void} onclick */
  const primary = (label, onclick) => h('button', { type: 'button', class: 'btn primary big', text: label, onclick });

  /**
   * The task just accepted from the overlay stays on it, marked accepted,
   * until she moves on: the next ringing offer does not replace it under
   * her thumb. @type {{id: string, key: string} | null}
   */
  let accepted = null;
  /** The last item, count and keys shown, to draw again when she moves on. @type {[AlertItem, number, string[]] | null} */
  let last = null;
  /** @type {string[]} */
  let lastKeys = [];
  /** "See the list": the alerts ringing then stay off screen while she looks. */
  let browsing = { keys: /** @type {Set<string>} */ (new Set()), until: 0 };

  /** @param {import('../types.js').TaskView} t @param {string} key */
  const accept = (t, key) => {
    accepted = { id: t.id, key };
    actions.accept(t);
  };

  /** @param {AlertItem} item @param {HTMLElement | null} later */
  function offerButtons(item, later) {
    const t = /** @type {{task: import('../types.js').TaskView}} */ (/** @type {unknown} */ (item)).task;
    // Her accept of an assignment is its acknowledgement.
    return [
      primary(t.state === 'assigned' ? 'Acknowledge' : 'Accept', () => accept(t, item.key)),
      h('div', { class: 'row' }, h('button', { type: 'button', class: 'btn secondary', text: 'Decline…', onclick: () => void actions.decline(t) }), later),
    ];
  }

  /** @param {Extract<AlertItem, {kind: 'obs-overdue'}>} item */
  function overdueParts(item) {
    const first = item.patients[0];
    const quieten = () => item.keys.forEach((k) => actions.silence(k));
    /** @param {import('../types.js').PatientView} p */
    const line = (p) => {
      const s = p.latest?.score;
      const lastSet = s ? `last ${s.total === null || s.band === null ? 'set incomplete' : `NEWS2 ${s.total} ${BAND_SHORT[s.band]}`}, ${scaleLabel(p.scale)}` : 'no set yet';
      const since = p.obs_due_at !== null ? `due ${clock(p.obs_due_at)} (${duration(store.now() - p.obs_due_at)} ago)` : 'due now';
      return h('li', null, h('strong', { text: `Bed ${p.bed}: ${p.details.name}` }), ` · ${patientNumber(p.details)} · ${since} · ${lastSet}`);
    };
    const body = [
      h('h2', { id: 'alert-title', class: 'alert-where', text: item.patients.length === 1 ? `${wardName(first.ward)} · Bed ${first.bed}` : `${item.patients.length} patients` }),
      h('div', { id: 'alert-body' }, h('p', { class: 'alert-reason', text: 'The next set of observations is overdue: take it now.' }), h('ul', { class: 'alert-list' }, item.patients.slice(0, 6).map(line)), item.patients.length > 6 ? h('p', { text: `and ${item.patients.length - 6} more` }) : null),
    ];
    const buttons = [
      primary(item.patients.length === 1 ? 'Take observations' : 'Open the patient list', () => {
        quieten();
        location.hash = item.patients.length === 1 ? `#patients/${first.id}/obs` : '#patients';
      }),
      h('button', { type: 'button', class: 'btn ghost', text: 'Later', 'aria-label': 'Later: stop ringing, keep it in the patient list', onclick: quieten }),
    ];
    return { kicker: 'Observations overdue', body, buttons };
  }

  /**
   * What the overlay says and offers for an item.
   * @param {AlertItem} item @param {HTMLElement | null} later
   * @returns {{kicker: string, body: import('../dom.js').Child[], buttons: import('../dom.js').Child[]}}
   */
  function parts(item, later) {
    const seen = () => [primary('Seen', () => actions.silence(item.key))];
    const ack = () => [primary('Acknowledge', () => actions.silence(item.key))];
    switch (item.kind) {
      case 'page':
        return { kicker: 'Page for you', body: pageBody(item.page, null), buttons: [...pageAnswers(item.page), later] };
      case 'page-escalated':
        return { kicker: `Escalated page (level ${item.level})`, body: pageBody(item.page, item.reason), buttons: item.recipient ? [...pageAnswers(item.page), later] : ack() };
      case 'offer':
        return { kicker: 'New task offered to you', body: taskBody(item.task, null), buttons: offerButtons(item, later) };
      case 'task-escalated':
        // A candidate answers by accepting or declining; anyone else (a
        // coordinator, the nurse in charge) acknowledges that they know.
        return { kicker: `Escalated to you (level ${item.level})`, body: taskBody(item.task, item.reason), buttons: item.offered ? offerButtons(item, later) : ack() };
      case 'obs-overdue':
        return overdueParts(item);
      case 'raiser':
        return { kicker: raiserHeadline(item), body: taskBody(item.task, raiserWhy(item)), buttons: seen() };
      case 'assigned':
        return { kicker: `Assigned to you by ${item.by}: acknowledge it`, body: taskBody(item.task, null), buttons: offerButtons(item, later) };
    }
  }

  /**
   * The task she just accepted, while the next alert waits: accepted (or
   * queued), with the way on to the next.
   * @param {import('../types.js').TaskView} t @param {number} waiting
   */
  function acceptedParts(t, waiting) {
    const mine = t.assignee?.id === store.me?.id;
    const next = () => {
      accepted = null;
      if (last) show(...last);
    };
    return {
      kicker: mine ? 'Accepted: it is in My work' : 'Accepting…',
      body: taskBody(t, null),
      buttons: [primary(waiting ? `Next alert (${waiting} waiting)` : 'Close', next)],
    };
  }

  /**
   * The count and the way to the list, shown from the first alert.
   * @param {number} count @param {AlertItem} item
   */
  function countLine(count, item) {
    if (count < 2) return null;
    const toList = () => {
      // Quiet while she looks, until something new rings (or a while).
      browsing = { keys: new Set(lastKeys), until: Date.now() + BROWSE_MS };
      location.hash = '#work';
      hide();
      store.changed(); // the controller looks again: nothing rings while she looks
    };
    return h(
      'p',
      { class: 'alert-count' },
      h('span', { text: `1 of ${count} waiting` }),
      item.priority === 'emergency' ? null : h('button', { type: 'button', class: 'btn ghost small', text: 'See the list', onclick: toList }),
    );
  }

  /**
   * @param {AlertItem} item @param {number} count @param {string[]} [keys] every ringing item's key
   * @returns {boolean} whether it is on screen (not while she looks at the list)
   */
  function show(item, count, keys = [item.key]) {
    last = [item, count, keys];
    lastKeys = keys;
    if (browsing.until > Date.now() && item.priority !== 'emergency' && keys.every((k) => browsing.keys.has(k))) {
      hide();
      return false;
    }
    browsing = { keys: new Set(), until: 0 };
    const held = accepted ? store.tasks.get(accepted.id) : undefined;
    // Keep the accepted task on screen unless it went elsewhere (taken by
    // someone else, closed); an emergency breaks through.
    const gone = !held || (held.assignee && held.assignee.id !== store.me?.id) || held.state === 'completed' || held.state === 'cancelled';
    if (accepted && (gone || (item.priority === 'emergency' && held?.priority !== 'emergency'))) accepted = null;
    const shownItem = accepted && held && accepted.key !== item.key ? null : item;
    const viewVersion = 'page' in item ? item.page.version : 'task' in item ? item.task.version : item.patients.reduce((n, p) => n + p.version, 0);
    const target = alertTarget(item);
    const pending = target === null ? [] : queuedAnswers(outbox, target);
    // A reason can arrive after the view (a hand-back's, read from the
    // timeline); the link, the queue and the count change without the view.
    // The directory names the wards: it may come after the first alert.
    const version = `${store.directory ? 'd' : ''}|${viewVersion}|${'reason' in item ? item.reason : ''}|${link.status}|${pending.join(',')}|${count}|${shownItem ? '' : `${held?.version}`}`;
    // Re-render only when the item changed, so a tap is not lost mid-render.
    if (shownKey === item.key && shownVersion === version && !el.hidden) return true;
    const firstShow = el.hidden || shownKey !== item.key;
    shownKey = item.key;
    shownVersion = version;
    el.className = shownItem ? `alert ${item.priority}` : 'alert accepted';
    // Emergencies must be answered, not put off.
    const later =
      item.priority === 'emergency'
        ? null
        : h('button', { type: 'button', class: 'btn ghost', text: 'Later', 'aria-label': 'Later: stop ringing, keep it in my list', onclick: () => actions.silence(item.key) });
    const { kicker, body, buttons } = shownItem || !held ? parts(item, later) : acceptedParts(held, count);
    const queued = shownItem ? queuedNote(pending, link.status === 'online') : null;
    if (shownItem && pending.length) holdAnswers(buttons, later);
    replaceChildren(
      el,
      h(
        'div',
        { class: 'alert-inner' },
        // What to read scrolls on its own; the answers below (beside it on
        // a phone on its side) stay in sight, whatever the length of the SBAR.
        h(
          'div',
          // Focusable, so it can be scrolled from a keyboard when it overflows.
          { class: 'alert-info', tabIndex: 0 },
          h('p', { class: 'alert-link', 'data-state': link.status }, h('span', { class: 'dot', 'aria-hidden': 'true' }), ` ${linkText(link)}`),
          h('p', { class: 'alert-kicker' }, h('span', { class: 'alert-prio', text: PRIORITY_LABEL[shownItem ? item.priority : (held?.priority ?? item.priority)] }), ` ${kicker}`),
          shownItem ? countLine(count, item) : null,
          body,
        ),
        h('div', { class: 'alert-actions' }, queued, buttons),
      ),
    );
    el.hidden = false;
    document.body.classList.add('alerting');
    if (firstShow) el.querySelector('button')?.focus();
    return true;
  }

  function hide() {
    accepted = null;
    if (el.hidden) return;
    el.hidden = true;
    shownKey = null;
    document.body.classList.remove('alerting');
  }

  return { el, show, hide };
}
