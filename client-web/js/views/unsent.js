// "Not sent": the commands that were never carried out (too old to send
// after a night offline, or refused by the hub as no longer known), at the
// top of every screen until the user dismisses each one. A toast would be
// gone before anyone looked; an action the user believes was taken and was
// not must stay in sight.

import { h, replaceChildren } from '../dom.js';
import { clock, duration } from '../format.js';

/** @typedef {import('../outbox.js').Outbox} Outbox */
/** @typedef {import('../outbox.js').Unsent} Unsent */

/**
 * @param {{outbox: Outbox, now: () => number}} deps
 */
export function unsentView({ outbox, now }) {
  const el = h('section', { class: 'unsent', 'aria-label': 'Not sent', 'aria-live': 'polite' });

  /** @param {Unsent} u */
  function why(u) {
    const queued = `Queued ${clock(u.queued_at)}, ${duration(now() - (u.issued_at ?? u.queued_at))} ago`;
    return u.reason === 'expired'
      ? `${queued}: too old to send safely, so it was not sent. Do it again if it is still needed.`
      : `${queued}: the hub no longer knew it and did nothing. Do it again if it is still needed.`;
  }

  function update() {
    const list = outbox.unsent;
    el.hidden = list.length === 0;
    replaceChildren(
      el,
      list.map((u) =>
        h(
          'article',
          { class: 'notice error unsent-item', 'data-id': u.id },
          h('p', { class: 'unsent-what', text: `Not sent: ${u.label}` }),
          h('p', { class: 'unsent-why', text: why(u) }),
          h('button', {
            type: 'button',
            class: 'btn secondary small',
            text: 'Dismiss',
            'aria-label': `Dismiss: ${u.label} not sent`,
            onclick: () => {
              outbox.dismiss(u.id);
              update();
            },
          }),
        ),
      ),
    );
  }

  update();
  return { el, update };
}
