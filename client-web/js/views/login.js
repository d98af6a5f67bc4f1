// The login screen. The tap on "Log in" is also the user gesture that unlocks
// alert sound and asks for notification permission, which browsers refuse to
// do without one.

import { h } from '../dom.js';
import { login, LoginRefused } from '../session.js';
import * as sound from '../sound.js';
import { askNotificationPermission } from '../device.js';

/** @typedef {import('../types.js').Session} Session */

/**
 * @param {{onLogin: (s: Session) => void, notice?: string}} opts
 */
export function loginView({ onLogin, notice }) {
  const username = h('input', { id: 'login-user', name: 'username', autocomplete: 'username', autocapitalize: 'none', spellcheck: false, required: true });
  const password = h('input', { id: 'login-pass', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn primary wide', text: 'Log in' });
  const form = h(
    'form',
    { class: 'login' },
    h('div', { class: 'field' }, h('label', { for: username.id, text: 'Username' }), username),
    h('div', { class: 'field' }, h('label', { for: password.id, text: 'Password' }), password),
    error,
    submit,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    sound.unlock();
    askNotificationPermission();
    submit.disabled = true;
    error.textContent = '';
    /** @type {Session} */
    let session;
    try {
      session = await login(username.value.trim(), password.value);
    } catch (err) {
      error.textContent = err instanceof LoginRefused ? err.message : 'Cannot reach the hub. Check the Wi-Fi and try again.';
      submit.disabled = false;
      return;
    }
    onLogin(session);
  });
  const el = h(
    'main',
    { class: 'login-screen' },
    h('div', { class: 'brand' }, h('img', { src: 'icons/icon.svg', alt: '', width: 72, height: 72 }), h('h1', { text: 'wardpage' }), h('p', { class: 'tagline', text: 'Hospital at Night tasks and pages' })),
    notice ? h('p', { class: 'notice pending', role: 'status', text: notice }) : null,
    form,
  );
  return { el, focus: () => username.focus() };
}
