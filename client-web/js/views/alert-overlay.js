// The full-screen alert: the top item from AlertController, in its priority's
// colour, with the buttons that answer it within thumb reach at the bottom.
// Emergencies get no "Later": they must be accepted, declined or acknowledged.
// It is a fixed layer over the app, so nothing underneath moves when it opens.

import { h, replaceChildren } from '../dom.js';
import { CATEGORY_LABEL, PRIORITY_LABEL, clock, requirementLabel, targetStatus } from '../format.js';

/** @typedef {import('../alerts.js').AlertItem} AlertItem */
/** @typedef {import('../actions.js').Actions} Actions */
/** @typedef {import('../store.js').Store} Store */

/**
 * @param {{actions: Actions, store: Store, wardName: (id: string) => string}} deps
 * @returns {import('../alerts.js').Overlay & {el: HTMLElement}}
 */
export function alertOverlay({ actions, store, wardName }) {
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
  let shownVersion = -1;

  /** @param {AlertItem} item @param {number} count */
  function show(item, count) {
    const version = item.kind === 'page' ? item.page.version : item.task.version;
    // Re-render only when the item changed, so a tap is not lost mid-render.
    if (shownKey === item.key && shownVersion === version && !el.hidden) return;
    const firstShow = el.hidden || shownKey !== item.key;
    shownKey = item.key;
    shownVersion = version;
    el.className = `alert ${item.priority}`;
    const emergency = item.priority === 'emergency';
    const later = emergency ? null : h('button', { type: 'button', class: 'btn ghost', text: 'Later', 'aria-label': 'Later: stop ringing, keep it in my list', onclick: () => actions.silence(item.key) });
    const kicker = item.kind === 'offer' ? 'New task offered to you' : item.kind === 'assigned' ? `Assigned to you by ${item.by}` : 'Page for you';
    /** @type {import('../dom.js').Child[]} */
    let body;
    /** @type {import('../dom.js').Child[]} */
    let buttons;
    if (item.kind === 'page') {
      const p = item.page;
      body = [
        h('h2', { id: 'alert-title', class: 'alert-where', text: `From ${p.from.name}` }),
        h('div', { id: 'alert-body' }, h('p', { class: 'alert-callback' }, 'Call back: ', h('strong', { text: p.callback })), p.message ? h('p', { class: 'alert-situation', text: p.message }) : null, h('p', { class: 'alert-meta', text: `Sent ${clock(p.sent_at)}` })),
      ];
      buttons = [h('button', { type: 'button', class: 'btn primary big', text: 'Acknowledge', onclick: () => actions.ackPage(p) }), later];
    } else {
      const t = item.task;
      const target = targetStatus(t, store.now());
      body = [
        h('h2', { id: 'alert-title', class: 'alert-where', text: `${wardName(t.ward)} · Bed ${t.bed}` }),
        h(
          'div',
          { id: 'alert-body' },
          h('p', { class: 'alert-what', text: `${CATEGORY_LABEL[t.category]} · needs ${requirementLabel(t.requirement)} · ${t.patient}` }),
          h('p', { class: 'alert-situation', text: t.sbar.situation }),
          t.sbar.recommendation ? h('p', { class: 'alert-reco', text: `Asking: ${t.sbar.recommendation}` }) : null,
          h('p', { class: 'alert-meta', text: `Raised ${clock(t.raised_at)} by ${t.raised_by.name}${target ? ` · ${target.text}` : ''}` }),
        ),
      ];
      buttons =
        item.kind === 'offer'
          ? [
              h('button', { type: 'button', class: 'btn primary big', text: 'Accept', onclick: () => actions.accept(t) }),
              h('div', { class: 'row' }, h('button', { type: 'button', class: 'btn secondary', text: 'Decline…', onclick: () => void actions.decline(t) }), later),
            ]
          : [h('button', { type: 'button', class: 'btn primary big', text: 'Seen', onclick: () => actions.silence(item.key) })];
    }
    replaceChildren(
      el,
      h(
        'div',
        { class: 'alert-inner' },
        h('p', { class: 'alert-kicker' }, h('span', { class: 'alert-prio', text: PRIORITY_LABEL[item.priority] }), ` ${kicker}`, count > 1 ? h('span', { class: 'alert-count', text: ` · 1 of ${count}` }) : null),
        body,
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
