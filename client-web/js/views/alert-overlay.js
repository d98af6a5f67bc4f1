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

/** @typedef {import('../alerts.js').AlertItem} AlertItem */
/** @typedef {import('../actions.js').Actions} Actions */
/** @typedef {import('../store.js').Store} Store */
/** @typedef {import('../connection.js').Link} Link */
/** @typedef {import('../outbox.js').Outbox} Outbox */

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

  /** @param {import('../types.js').PageView} p @param {string | null} reason */
  function pageBody(p, reason) {
    return [
      h('h2', { id: 'alert-title', class: 'alert-where', text: `From ${p.from.name}` }),
      h(
        'div',
        { id: 'alert-body' },
        reason ? h('p', { class: 'alert-reason', text: reason }) : null,
        h('p', { class: 'alert-callback' }, 'Call back: ', h('strong', { text: p.callback })),
        p.message ? h('p', { class: 'alert-situation', text: p.message }) : null,
        h('p', { class: 'alert-meta', text: `Sent ${clock(p.sent_at)}` }),
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
        t.sbar.recommendation ? h('p', { class: 'alert-reco', text: `Asking: ${t.sbar.recommendation}` }) : null,
        h('p', { class: 'alert-meta', text: `Raised ${clock(t.raised_at)} by ${t.raised_by.name}${target ? ` · ${target.text}` : ''}` }),
      ),
    ];
  }

  /** @param {string} label @param {() => void} onclick */
  const primary = (label, onclick) => h('button', { type: 'button', class: 'btn primary big', text: label, onclick });

  /** @param {AlertItem} item @param {number} count */
  function show(item, count) {
    const viewVersion = 'page' in item ? item.page.version : 'task' in item ? item.task.version : item.patients.reduce((n, p) => n + p.version, 0);
    const target = alertTarget(item);
    const pending = target === null ? [] : queuedAnswers(outbox, target);
    // A reason can arrive after the view (a hand-back's, read from the
    // timeline); the link and the queue change without the view.
    const version = `${viewVersion}|${'reason' in item ? item.reason : ''}|${link.status}|${pending.join(',')}`;
    // Re-render only when the item changed, so a tap is not lost mid-render.
    if (shownKey === item.key && shownVersion === version && !el.hidden) return;
    const firstShow = el.hidden || shownKey !== item.key;
    shownKey = item.key;
    shownVersion = version;
    el.className = `alert ${item.priority}`;
    // Emergencies must be answered, not put off.
    const later =
      item.priority === 'emergency'
        ? null
        : h('button', { type: 'button', class: 'btn ghost', text: 'Later', 'aria-label': 'Later: stop ringing, keep it in my list', onclick: () => actions.silence(item.key) });
    /** @param {import('../types.js').TaskView} t */
    const offerButtons = (t) => [
      primary('Accept', () => actions.accept(t)),
      h('div', { class: 'row' }, h('button', { type: 'button', class: 'btn secondary', text: 'Decline…', onclick: () => void actions.decline(t) }), later),
    ];
    /** @type {string} */
    let kicker;
    /** @type {import('../dom.js').Child[]} */
    let body;
    /** @type {import('../dom.js').Child[]} */
    let buttons;
    switch (item.kind) {
      case 'page':
        kicker = 'Page for you';
        body = pageBody(item.page, null);
        buttons = [primary('Acknowledge', () => actions.ackPage(item.page)), later];
        break;
      case 'page-escalated':
        kicker = `Escalated page (level ${item.level})`;
        body = pageBody(item.page, item.reason);
        buttons = item.recipient
          ? [primary('Acknowledge', () => actions.ackPage(item.page)), later]
          : [primary('Acknowledge', () => actions.silence(item.key))];
        break;
      case 'offer':
        kicker = 'New task offered to you';
        body = taskBody(item.task, null);
        buttons = offerButtons(item.task);
        break;
      case 'task-escalated':
        kicker = `Escalated to you (level ${item.level})`;
        body = taskBody(item.task, item.reason);
        // A candidate answers by accepting or declining; anyone else (a
        // coordinator, the nurse in charge) acknowledges that they know.
        buttons = item.offered ? offerButtons(item.task) : [primary('Acknowledge', () => actions.silence(item.key))];
        break;
      case 'obs-overdue': {
        const first = item.patients[0];
        const quieten = () => item.keys.forEach((k) => actions.silence(k));
        kicker = 'Observations overdue';
        /** @param {import('../types.js').PatientView} p */
        const line = (p) => {
          const s = p.latest?.score;
          const last = s ? `last ${s.total === null || s.band === null ? 'set incomplete' : `NEWS2 ${s.total} ${BAND_SHORT[s.band]}`}, ${scaleLabel(p.scale)}` : 'no set yet';
          const since = p.obs_due_at !== null ? `due ${clock(p.obs_due_at)} (${duration(store.now() - p.obs_due_at)} ago)` : 'due now';
          return h('li', null, h('strong', { text: `Bed ${p.bed}: ${p.details.name}` }), ` · ${patientNumber(p.details)} · ${since} · ${last}`);
        };
        body = [
          h('h2', { id: 'alert-title', class: 'alert-where', text: item.patients.length === 1 ? `${wardName(first.ward)} · Bed ${first.bed}` : `${item.patients.length} patients` }),
          h('div', { id: 'alert-body' }, h('p', { class: 'alert-reason', text: 'The next set of observations is overdue: take it now.' }), h('ul', { class: 'alert-list' }, item.patients.slice(0, 6).map(line)), item.patients.length > 6 ? h('p', { text: `and ${item.patients.length - 6} more` }) : null),
        ];
        buttons = [
          primary(item.patients.length === 1 ? 'Take observations' : 'Open the patient list', () => {
            quieten();
            location.hash = item.patients.length === 1 ? `#patients/${first.id}/obs` : '#patients';
          }),
          h('button', { type: 'button', class: 'btn ghost', text: 'Later', 'aria-label': 'Later: stop ringing, keep it in the patient list', onclick: quieten }),
        ];
        break;
      }
      case 'raiser': {
        kicker = raiserHeadline(item);
        body = taskBody(item.task, raiserWhy(item));
        buttons = [primary('Seen', () => actions.silence(item.key))];
        break;
      }
      case 'assigned':
        kicker = `Assigned to you by ${item.by}`;
        body = taskBody(item.task, null);
        buttons = [primary('Seen', () => actions.silence(item.key))];
        break;
    }
    const queued = queuedNote(pending, link.status === 'online');
    if (pending.length) holdAnswers(buttons, later);
    replaceChildren(
      el,
      h(
        'div',
        { class: 'alert-inner' },
        h('p', { class: 'alert-link', 'data-state': link.status }, h('span', { class: 'dot', 'aria-hidden': 'true' }), ` ${linkText(link)}`),
        h('p', { class: 'alert-kicker' }, h('span', { class: 'alert-prio', text: PRIORITY_LABEL[item.priority] }), ` ${kicker}`, count > 1 ? h('span', { class: 'alert-count', text: ` · 1 of ${count}` }) : null),
        body,
        queued,
        h('div', { class: 'alert-actions' }, buttons),
      ),
    );
    el.hidden = false;
    document.body.classList.add('alerting');
    if (firstShow) el.querySelector('button')?.focus();
  }

  function hide() {
    if (el.hidden) return;
    el.hidden = true;
    shownKey = null;
    document.body.classList.remove('alerting');
  }

  return { el, show, hide };
}
