// A task's story from the hub's audit trail, oldest first: raised (and to
// whom it was offered), declined with the reason, accepted, started,
// escalations with whom they alerted, assigned, completed or cancelled.

import { h } from '../js/dom.js';
import { clock } from '../js/format.js';

/** @typedef {import('../types/TimelineEntry').TimelineEntry} TimelineEntry */
/** @typedef {import('../js/types.js').TaskView} TaskView */

/** @type {Record<string, string>} */
export const ACTION_LABEL = {
  raise: 'Raised',
  accept: 'Accepted',
  decline: 'Declined',
  start: 'Started',
  complete: 'Completed',
  complete_offline: 'Completed (done offline)',
  hand_back: 'Handed back',
  cancel: 'Cancelled',
  assign: 'Assigned',
  acknowledge: 'Acknowledged (assignment)',
  decline_assignment: 'Declined the assignment',
  set_priority: 'Priority changed',
  escalate: 'Escalated',
  delivered: 'Delivered',
  read: 'Read',
};

/** @param {string} action */
export function actionLabel(action) {
  return ACTION_LABEL[action] ?? action.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

/**
 * @param {TimelineEntry[]} entries
 * @param {TaskView | null} task the current view: the raise row names whom it was offered to
 */
export function timelineList(entries, task) {
  if (!entries.length) return h('p', { class: 'muted', text: 'No entries yet.' });
  return h(
    'ol',
    { class: 'timeline' },
    entries.map((e) => {
      let detail = e.detail;
      if (e.action === 'raise' && !detail && task) {
        // The raise row does not list the offers; the view does.
        const to = task.offers.map((o) => o.staff.name);
        detail = to.length ? `offered to ${to.join(', ')}` : 'no one to offer it to';
      }
      return h(
        'li',
        { class: `tl-${e.action}`, 'data-action': e.action },
        h('time', { text: clock(e.at), datetime: new Date(e.at).toISOString() }),
        h('span', { class: 'tl-action', text: actionLabel(e.action) }),
        h('span', { class: 'tl-actor', text: e.actor ? `by ${e.actor.name}` : 'by the hub' }),
        detail ? h('span', { class: 'tl-detail', text: detail }) : null,
        e.to_state && e.from_state !== e.to_state ? h('span', { class: 'tl-state', text: `→ ${e.to_state.replace(/_/g, ' ')}` }) : null,
      );
    }),
  );
}
