// Short messages for routine updates ("Accepted by Dr Patel", "Queued: will
// send when back online"). Silent on purpose: sound is kept for alerts, so
// staff do not learn to ignore it. Fixed-position, so nothing below moves.

import { h } from '../dom.js';

/** @type {HTMLElement | null} */
let region = null;

/** @param {string} text @param {'info' | 'error' | 'ok'} [tone] */
export function toast(text, tone = 'info') {
  // The body is replaced on login/logout, taking the region with it.
  if (!region || !region.isConnected) {
    region = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(region);
  }
  const item = h('div', { class: `toast ${tone}`, text });
  region.append(item);
  setTimeout(() => item.remove(), tone === 'error' ? 8000 : 4000);
}
