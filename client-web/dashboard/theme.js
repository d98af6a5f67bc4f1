// Light and dark themes. The system preference decides until the
// coordinator picks one (a bright office by day, a dimmed bleep room at
// night); the choice is remembered on this computer.

import { h } from '../js/dom.js';
import { storageKey } from '../js/base.js';

const KEY = storageKey('wardpage.dashboard.theme');

/** @returns {'light' | 'dark'} */
function current() {
  const saved = localStorage.getItem(KEY);
  if (saved === 'light' || saved === 'dark') return saved;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/** @param {'light' | 'dark'} theme */
function apply(theme) {
  document.documentElement.dataset.theme = theme;
}

export function initTheme() {
  apply(current());
}

/** A button that switches to the other theme. */
export function themeToggle() {
  const button = h('button', { type: 'button', class: 'btn secondary', id: 'theme-toggle' });
  const label = () => {
    button.textContent = current() === 'dark' ? 'Light theme' : 'Dark theme';
  };
  button.addEventListener('click', () => {
    const next = current() === 'dark' ? 'light' : 'dark';
    localStorage.setItem(KEY, next);
    apply(next);
    label();
  });
  label();
  return button;
}
