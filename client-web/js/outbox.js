// Commands waiting for the hub's answer, persisted in localStorage so that an
// action taken in a Wi-Fi not-spot survives a reload and is sent on reconnect.
// Each entry keeps the id it was minted with: the hub treats the id as the
// idempotency key, so re-sending after an unclear disconnect is safe.

/** @typedef {import('./types.js').Command} Command */

/**
 * @typedef {object} OutboxEntry
 * @property {string} id command id, minted once per intention
 * @property {Command} cmd
 * @property {string} label what the user did, for the status line and lists
 * @property {number} queued_at
 */

/** @returns {string} a fresh UUID v4 */
export function newId() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class Outbox {
  /** @param {string} owner login of the user the queue belongs to */
  constructor(owner) {
    this.key = `wardpage.outbox.${owner}`;
    /** @type {OutboxEntry[]} */
    this.list = [];
    try {
      const raw = localStorage.getItem(this.key);
      if (raw) this.list = JSON.parse(raw);
    } catch {
      this.list = [];
    }
  }

  /**
   * @param {Command} cmd
   * @param {string} label
   * @returns {OutboxEntry}
   */
  add(cmd, label) {
    const entry = { id: newId(), cmd, label, queued_at: Date.now() };
    this.list.push(entry);
    this.save();
    return entry;
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
    localStorage.removeItem(this.key);
  }

  save() {
    localStorage.setItem(this.key, JSON.stringify(this.list));
  }
}
