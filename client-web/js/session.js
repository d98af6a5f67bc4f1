// The login session: `POST /api/login`, `POST /api/logout`, and the token kept
// in localStorage so that reloading the page (or the phone killing the tab)
// does not log a doctor out in the middle of a night.

import { siteUrl, storageKey } from './base.js';

/** @typedef {import('./types.js').Session} Session */

const KEY = storageKey('wardpage.session');

/** @returns {Session | null} the stored session, unless it has expired */
export function loadSession() {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    /** @type {Session} */
    const session = JSON.parse(raw);
    if (typeof session.token !== 'string' || session.expires_at <= Date.now()) {
      localStorage.removeItem(KEY);
      return null;
    }
    return session;
  } catch {
    return null;
  }
}

/** @param {Session} session */
function saveSession(session) {
  localStorage.setItem(KEY, JSON.stringify(session));
}

export function forgetSession() {
  localStorage.removeItem(KEY);
}

/** Raised when the hub refuses a username/password (HTTP 401). */
export class LoginRefused extends Error {}

/**
 * @param {string} username
 * @param {string} password
 * @returns {Promise<Session>}
 */
export async function login(username, password) {
  const response = await fetch(siteUrl('api/login'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (response.status === 401) throw new LoginRefused('Wrong username or password.');
  if (!response.ok) throw new Error(`The hub answered ${response.status}.`);
  /** @type {Session} */
  const session = await response.json();
  saveSession(session);
  return session;
}

/**
 * Revoke the token at the hub, then forget it here. If the hub cannot be
 * reached the local session is still dropped; the caller tells the user that
 * the token stays valid at the hub until it expires.
 * @param {Session} session
 * @returns {Promise<boolean>} whether the hub confirmed the revocation
 */
export async function logout(session) {
  let revoked = false;
  try {
    const response = await fetch(siteUrl('api/logout'), {
      method: 'POST',
      headers: { authorization: `Bearer ${session.token}` },
    });
    // 401: the token was already dead; either way it is no longer usable.
    revoked = response.status === 204 || response.ok || response.status === 401;
  } catch {
    revoked = false;
  }
  forgetSession();
  return revoked;
}
