// The connection line under the header, always the same height so it never
// pushes content: "Online", "Connecting…", "Offline since 02:14, 2 actions
// queued". Honest about the link is the point: a silent phone on a ward is
// worse than one that says it is offline.

import { clock } from '../format.js';
import * as sound from '../sound.js';

/** @typedef {import('../connection.js').Link} Link */

/**
 * @param {Link} link
 * @returns {string}
 */
export function statusText(link) {
  const n = link.queued;
  const actions = `${n} action${n === 1 ? '' : 's'}`;
  switch (link.status) {
    case 'online':
      return n ? `Online · sending ${actions}` : 'Online';
    case 'connecting':
      return `Connecting…${n ? ` ${actions} queued` : ''}`;
    case 'ended':
      return 'Signed out';
    case 'offline': {
      const since = link.offlineSince !== null ? ` since ${clock(link.offlineSince)}` : '';
      return `Offline${since}${n ? `, ${actions} queued` : ''}`;
    }
  }
}

/**
 * @param {HTMLElement} el the status element (role=status)
 * @param {Link} link
 */
export function renderStatus(el, link) {
  el.dataset.state = link.status;
  const text = statusText(link);
  const hint = sound.unlocked() ? '' : ' · tap for sound';
  const full = text + hint;
  if (el.textContent !== full) el.textContent = full;
}
