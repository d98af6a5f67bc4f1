// Commands waiting for the hub's answer, persisted in localStorage so that an
// action taken in a Wi-Fi not-spot survives a reload and is sent on reconnect.
// Each entry keeps the id it was minted with: the hub treats the id as the
// idempotency key, so re-sending after an unclear disconnect is safe, but
// only while the hub remembers the id (a day). So an entry carries when it
// was first issued, and one older than a night is not sent at all: it moves
// to the "not sent" list, kept until the user has seen it, because an action
// the user believes was taken and silently was not is the worst outcome.

import { storageKey } from './base.js';

/** @typedef {import('./types.js').Command} Command */

/**
 * @typedef {object} OutboxEntry
 * @property {string} id command id, minted once per intention
 * @property {Command} cmd
 * @property {string} label what the user did, for the status line and lists
 * @property {number} queued_at local clock, when queued
 * @property {number} [issued_at] the hub's clock as best we knew it, when
 *   first queued; unchanged on re-sends (absent in entries queued by an older
 *   version of the app: `queued_at` stands in)
 * @property {boolean} [offline] taken while the hub could not be reached, so
 *   the phone can say "you completed this at 02:14 while offline"
 */

/**
 * A command that was never carried out, shown until the user dismisses it.
 * `reason`: `expired` (too old to send, dropped here) or `id_expired` (the
 * hub no longer knew its id and refused it; nothing changed).
 * @typedef {OutboxEntry & {reason: 'expired' | 'id_expired'}} Unsent
 */

/**
 * How long a command may wait on the device: a night shift. The hub keeps
 * command ids for 24 h and refuses older unknown ones (`id_expired`); staying
 * well inside that means a phone with a wrong idea of the hub's clock still
 * never has an old command taken as new.
 */
export const OUTBOX_MAX_AGE_MS = 12 * 3600 * 1000;

/** @param {OutboxEntry} entry @returns {number} */
export function issuedAt(entry) {
  return entry.issued_at ?? entry.queued_at;
}

/** @returns {string} a fresh UUID v4 */
export function newId() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** @param {string} key @returns {any[]} */
function loadList(key) {
  try {
    const raw = localStorage.getItem(key);
    const list = raw ? JSON.parse(raw) : [];
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

export class Outbox {
  /** @param {string} owner login of the user the queue belongs to */
  constructor(owner) {
    this.key = storageKey(`wardpage.outbox.${owner}`);
    this.unsentKey = storageKey(`wardpage.unsent.${owner}`);
    /** @type {OutboxEntry[]} */
    this.list = loadList(this.key);
    /** Commands not carried out, oldest first, until dismissed. @type {Unsent[]} */
    this.unsent = loadList(this.unsentKey);
  }

  /**
   * @param {Command} cmd
   * @param {string} label
   * @param {number} issued the hub's clock now, as best we know it
   * @param {boolean} [offline] the hub cannot be reached now
   * @returns {OutboxEntry}
   */
  add(cmd, label, issued, offline = false) {
    /** @type {OutboxEntry} */
    const entry = { id: newId(), cmd, label, queued_at: Date.now(), issued_at: issued };
    if (offline) entry.offline = true;
    this.list.push(entry);
    this.save();
    return entry;
  }

  /**
   * Take out every entry too old to send safely (see OUTBOX_MAX_AGE_MS).
   * @param {number} now the hub's clock, as best we know it
   * @returns {OutboxEntry[]} what was taken out, oldest first
   */
  expire(now) {
    const old = this.list.filter((e) => now - issuedAt(e) > OUTBOX_MAX_AGE_MS);
    if (old.length) {
      this.list = this.list.filter((e) => !old.includes(e));
      this.save();
    }
    return old;
  }

  /** Keep a command that was not carried out, to show it. @param {OutboxEntry} entry @param {Unsent['reason']} reason */
  markUnsent(entry, reason) {
    if (this.unsent.some((u) => u.id === entry.id)) return;
    this.unsent.push({ ...entry, reason });
    localStorage.setItem(this.unsentKey, JSON.stringify(this.unsent));
  }

  /** The user has seen it. @param {string} id */
  dismiss(id) {
    this.unsent = this.unsent.filter((u) => u.id !== id);
    localStorage.setItem(this.unsentKey, JSON.stringify(this.unsent));
  }

  /** @param {string} id @returns {OutboxEntry | undefined} */
  take(id) {
    const entry = this.list.find((e) => e.id === id);
    if (entry) {
      this.list = this.list.filter((e) => e !== entry);
      this.save();
    }
    return entry;
  }

  /** @returns {readonly OutboxEntry[]} oldest first */
  entries() {
    return this.list;
  }

  get size() {
    return this.list.length;
  }

  /**
   * The queued command for a task or page, if any (to show "queued" on it).
   * @param {string} targetId
   */
  pendingFor(targetId) {
    return this.list.filter((e) => {
      const c = /** @type {Record<string, unknown>} */ (e.cmd);
      return c.task === targetId || c.page === targetId;
    });
  }

  clear() {
    this.list = [];
    this.unsent = [];
    localStorage.removeItem(this.key);
    localStorage.removeItem(this.unsentKey);
  }

  save() {
    localStorage.setItem(this.key, JSON.stringify(this.list));
  }
}
