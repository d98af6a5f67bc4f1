// The frame around the screens: a header (who I am, my shift, log out), the
// connection line, the current screen, and a bottom tab bar within thumb
// reach. Tabs live in the URL hash so a reload lands on the same screen.

import { h } from '../dom.js';
import { ROLE_LABEL, clock } from '../format.js';
import { wardNamer } from './context.js';

/** @typedef {import('../store.js').Store} Store */

/** @typedef {'work' | 'patients' | 'raise' | 'raised' | 'pages'} Tab */

/** @type {{id: Tab, label: string, icon: string}[]} */
const TABS = [
  { id: 'work', label: 'My work', icon: '✓' },
  { id: 'patients', label: 'Patients', icon: '♥' },
  { id: 'raise', label: 'Raise', icon: '+' },
  { id: 'raised', label: 'Raised', icon: '↗' },
  { id: 'pages', label: 'Pages', icon: '☏' },
];

/** @returns {Tab} */
export function currentTab() {
  // A tab's own screens extend its address: #patients/<id>/chart.
  const id = location.hash.slice(1).split('/')[0];
  return TABS.some((t) => t.id === id) ? /** @type {Tab} */ (id) : 'work';
}

/**
 * @param {{onLogout: () => void, onTab: (tab: Tab) => void}} deps
 */
export function createShell({ onLogout, onTab }) {
  const name = h('h1', { class: 'me-name' });
  const shift = h('p', { class: 'me-shift' });
  const status = h('p', { class: 'status', role: 'status', 'aria-live': 'polite', id: 'link-status' });
  const main = h('main', { class: 'content', id: 'content', tabIndex: -1 });
  /** @type {Map<Tab, {button: HTMLAnchorElement, badge: HTMLElement}>} */
  const tabs = new Map();
  const nav = h(
    'nav',
    { class: 'tabs', 'aria-label': 'Screens' },
    TABS.map((t) => {
      const badge = h('span', { class: 'badge' });
      const label = h('span', { class: 'tab-label', text: t.label });
      const button = h('a', { href: `#${t.id}`, class: 'tab', 'data-tab': t.id }, h('span', { class: 'tab-icon', 'aria-hidden': 'true', text: t.icon }), label, badge);
      tabs.set(t.id, { button, badge });
      return button;
    }),
  );
  const header = h(
    'header',
    { class: 'top' },
    h('div', { class: 'me' }, name, shift),
    h('button', { type: 'button', class: 'btn ghost small', text: 'Log out', onclick: onLogout }),
    status,
  );
  const el = h('div', { class: 'shell' }, header, main, nav);
  addEventListener('hashchange', () => onTab(currentTab()));

  /** @param {Store} store */
  function updateHeader(store) {
    const me = store.me;
    if (!me) return;
    name.textContent = me.name;
    const s = me.shift;
    // Wards as the hospital writes them ("Ward 7 (Medicine)"), never their
    // ids; they come last, as the line may be cut short on a small screen.
    const wardName = wardNamer(store);
    shift.textContent = s
      ? `${ROLE_LABEL[s.role]} until ${clock(s.ends_at)} · ${s.wards.map(wardName).join(', ')}`
      : `${ROLE_LABEL[me.role]} · not on shift`;
  }

  /** @param {Tab} active @param {Partial<Record<Tab, number>>} counts */
  function updateTabs(active, counts) {
    for (const [id, { button, badge }] of tabs) {
      if (id === active) button.setAttribute('aria-current', 'page');
      else button.removeAttribute('aria-current');
      const n = counts[id] ?? 0;
      // The count is read out with the tab's name ("Pages 2").
      badge.textContent = n ? String(n) : '';
    }
  }

  return { el, main, status, updateHeader, updateTabs };
}
