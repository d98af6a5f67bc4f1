// The handheld's policy on top of the shared link (link-core.js): `hello`
// with the saved cursor, events into the store (deduplicated there by seq),
// acks only once the store is saved, immediate reconnect on `online` /
// `visibilitychange`, and the outbox sent on every (re)connect, each command
// with when it was first issued. A command too old to send safely, or
// refused by the hub as `id_expired`, is not carried out and is reported
// (`not-sent`), never dropped silently. Our own bookkeeping reads (snapshot
// parts, directory, patients) are not in the outbox: they are asked again
// at the next welcome.

import { newId, issuedAt } from './outbox.js';
import { snapshotCmd, nextPart } from './snapshot.js';
import { LinkCore, PROTOCOL_VERSION, RETRY_MS, backoffMs } from './link-core.js';
import { storageKey } from './base.js';

/** @typedef {import('./types.js').ClientFrame} ClientFrame */
/** @typedef {import('./types.js').Command} Command */
/** @typedef {import('./types.js').CommandResult} CommandResult */
/** @typedef {import('./types.js').ErrorCode} ErrorCode */
/** @typedef {import('./types.js').EventFrame} EventFrame */
/** @typedef {import('./types.js').WelcomeFrame} WelcomeFrame */
/** @typedef {import('./link-core.js').CmdFrame} CmdFrame */
/** @typedef {import('./link-core.js').PongFrame} PongFrame */
/** @typedef {import('./link-core.js').LinkStatus} LinkStatus */
/** @typedef {import('./store.js').Store} Store */
/** @typedef {import('./outbox.js').Outbox} Outbox */
/** @typedef {import('./outbox.js').OutboxEntry} OutboxEntry */
/** @typedef {import('./outbox.js').Unsent} Unsent */

const OFFLINE_SINCE_KEY = storageKey('wardpage.offlineSince');

/**
 * Events dispatched (CustomEvent detail):
 * - `status`: nothing; read `link.status`, `link.offlineSince`
 * - `frame`: an event frame that was new to the store
 * - `result`: `{entry, result}` for an `ok` to one of our outbox commands
 * - `cmd-error`: `{entry, code, message}` for a refused outbox command
 * - `not-sent`: `{entry, reason}` for a command that was not carried out:
 *   too old to send (`expired`) or refused as `id_expired`; it is in
 *   `outbox.unsent` until the user dismisses it
 * - `ended`: `{code, message}`: the hub refused the session; do not retry
 */
export class Link extends LinkCore {
  /** @param {{token: string, store: Store, outbox: Outbox, url?: string}} opts */
  constructor({ token, store, outbox, url }) {
    super({ token, url, name: 'wardpage' });
    this.store = store;
    this.outbox = outbox;
    /** When the link was last lost; kept across reloads so the status line stays true. @type {number | null} */
    this.offlineSince = Number(localStorage.getItem(OFFLINE_SINCE_KEY)) || Date.now();
    /**
     * Our own bookkeeping commands (snapshot parts, directory) on the current
     * socket, by id; not in the outbox, re-asked at the next welcome instead.
     * @type {Map<string, Command>}
     */
    this.internal = new Map();
    /**
     * Reads a screen waits for (a chart), by id: answered through their
     * promise, never queued (a read is only worth having now).
     * @type {Map<string, {resolve: (r: CommandResult) => void, reject: (e: Error) => void}>}
     */
    this.reads = new Map();
    /** Snapshot parts refused in a row: after a few the snapshot starts over more slowly. */
    this.snapshotRefusals = 0;
    this.acked = store.cursor;
    this.onOffline = () => this.drop('the device went offline');
    this.onVisible = () => {
      if (document.visibilityState !== 'visible') return;
      // A sleeping phone's socket may be dead without having closed: probe it.
      if (this.ws && this.welcomed) this.ping();
      else this.reconnectNow();
    };
  }

  start() {
    addEventListener('offline', this.onOffline);
    document.addEventListener('visibilitychange', this.onVisible);
    this.expireOld();
    super.start();
  }

  stop() {
    removeEventListener('offline', this.onOffline);
    document.removeEventListener('visibilitychange', this.onVisible);
    super.stop();
  }

  /**
   * Queue a user's command (persisted) and send it now if the link is up.
   * @param {Command} cmd
   * @param {string} label
   * @returns {OutboxEntry}
   */
  send(cmd, label) {
    const entry = this.outbox.add(cmd, label, this.store.now(), !this.welcomed);
    if (this.welcomed) this.write(cmdFrame(entry));
    this.dispatchEvent(new Event('status'));
    return entry;
  }

  /** Number of user commands not yet answered by the hub. */
  get queued() {
    return this.outbox.size;
  }

  processed() {
    return this.store.cursor;
  }

  /** @returns {ClientFrame} */
  hello() {
    return { type: 'hello', version: PROTOCOL_VERSION, token: this.token, cursor: this.store.cursor };
  }

  /** A phone that knows it is offline waits for `online` (or the next retry). */
  mayConnect() {
    return navigator.onLine;
  }

  onDetach() {
    for (const r of this.reads.values()) r.reject(new Error('the connection to the hub was lost'));
    this.reads.clear();
  }

  /** @param {LinkStatus} status */
  setStatus(status) {
    if (status === 'online') {
      this.offlineSince = null;
      localStorage.removeItem(OFFLINE_SINCE_KEY);
    } else if (this.offlineSince === null && status !== 'ended') {
      this.offlineSince = Date.now();
      localStorage.setItem(OFFLINE_SINCE_KEY, String(this.offlineSince));
    }
    super.setStatus(status);
  }

  /** @param {EventFrame} frame */
  onEvent(frame) {
    if (!this.store.applyEvent(frame)) return;
    // My wards changed: the patient list is another one now.
    if (frame.event.kind === 'shift' && frame.event.staff.id === this.store.me?.id) this.requestPatients();
    this.dispatchEvent(new CustomEvent('frame', { detail: frame }));
  }

  /** @param {string} id @param {CommandResult} result */
  onOk(id, result) {
    this.store.applyResult(result);
    const read = this.reads.get(id);
    if (read) {
      this.reads.delete(id);
      read.resolve(result);
      return;
    }
    const own = this.internal.get(id);
    if (own) {
      this.internal.delete(id);
      if (result.kind === 'snapshot') this.snapshotPartDone(result);
      if (result.kind === 'patients' && own.op === 'patients') this.patientsPartDone(own, result);
      return;
    }
    const entry = this.outbox.take(id);
    if (entry) this.dispatchEvent(new CustomEvent('result', { detail: { entry, result } }));
    this.dispatchEvent(new Event('status'));
    this.store.save();
  }

  /** @param {PongFrame} frame */
  onPong(frame) {
    this.store.skew = frame.server_time - Date.now();
  }

  /** Save first, then ack: the hub may prune what we ack, so it must be on disk. */
  beforeAck() {
    this.store.save();
  }

  /** @param {WelcomeFrame} frame */
  onWelcome(frame) {
    this.store.skew = frame.server_time - Date.now();
    this.store.setMe(frame.me);
    // Until the replay reaches the hub's cursor, what it brings is history:
    // an offer since accepted elsewhere must not ring on the way (no ghost
    // alerts on a fresh login).
    this.store.replayTo = frame.cursor;
    // Requests on the old socket will not be answered; ask again below.
    this.internal.clear();
    if (frame.resync) {
      // The hub cannot replay from our cursor: start again from a snapshot.
      this.store.reset(frame.cursor);
      this.store.needsSnapshot = true;
    }
    // Also after a socket (or the app) lost mid-snapshot: the events from
    // the cursor on do not bring back the parts not yet fetched.
    // The directory first: the hub answers in order, so the wards have
    // their names ("Ward 7 (Medicine)", not `w7`) when the snapshot's
    // offers ring.
    this.request({ op: 'directory' });
    if (this.store.needsSnapshot) this.request(snapshotCmd(null));
    this.requestPatients();
    this.expireOld();
    for (const entry of this.outbox.entries()) this.write(cmdFrame(entry));
  }

  /** @param {Command} cmd */
  request(cmd) {
    const id = newId();
    this.internal.set(id, cmd);
    this.write({ type: 'cmd', id, cmd });
  }

  /**
   * A read that a screen waits for (a chart): answered or refused through
   * the promise; refused at once when there is no link.
   * @param {Command} cmd
   * @returns {Promise<CommandResult>}
   */
  read(cmd) {
    if (!this.welcomed) return Promise.reject(new Error('no connection to the hub'));
    const id = newId();
    return new Promise((resolve, reject) => {
      this.reads.set(id, { resolve, reject });
      this.write({ type: 'cmd', id, cmd });
    });
  }

  /**
   * The patients of the wards my shift covers (every ward for a
   * coordinator or admin without wards), from the first part: at every
   * welcome, since events missed while away may include discharges.
   */
  requestPatients() {
    if (!this.welcomed) return;
    const shift = this.store.me?.shift;
    if (!shift) return;
    const wards = shift.wards.length ? shift.wards : ['coordinator', 'admin'].includes(shift.role) ? ['*'] : [];
    for (const ward of wards) {
      this.store.beginPatients(ward);
      this.request(ward === '*' ? { op: 'patients' } : { op: 'patients', ward });
    }
  }

  /** @param {Command} cmd the request answered @param {CommandResult} result */
  patientsPartDone(cmd, result) {
    if (cmd.op !== 'patients' || result.kind !== 'patients') return;
    if (result.next !== null) {
      this.request({ ...cmd, after: result.next });
      return;
    }
    this.store.endPatients(cmd.ward ?? '*');
  }

  /** One part of the snapshot is in the store: ask for the next, or note it is whole. @param {CommandResult} result */
  snapshotPartDone(result) {
    this.snapshotRefusals = 0;
    const next = nextPart(result);
    if (next !== null) {
      this.request(snapshotCmd(next));
      return;
    }
    this.store.needsSnapshot = false;
    this.store.save();
  }

  /** A read a screen waits for is refused at once, even retryably: it is only worth having now. @param {string} id */
  retries(id) {
    return !this.reads.has(id);
  }

  /** Our own request, or one outbox entry, again with the same id. @param {string} id */
  resend(id) {
    const own = this.internal.get(id);
    if (own) {
      this.write({ type: 'cmd', id, cmd: own });
      return;
    }
    this.expireOld();
    const entry = this.outbox.entries().find((e) => e.id === id);
    if (entry) this.write(cmdFrame(entry));
  }

  /**
   * @param {string} id
   * @param {ErrorCode} code
   * @param {string} message
   */
  onRefused(id, code, message) {
    const read = this.reads.get(id);
    if (read) {
      this.reads.delete(id);
      read.reject(new Error(message));
      return;
    }
    const own = this.internal.get(id);
    if (own) {
      this.internal.delete(id);
      this.requestRefused(own, code, message);
      return;
    }
    const entry = this.outbox.take(id);
    if (entry && /** @type {string} */ (code) === 'id_expired') {
      this.notSent(entry, 'id_expired');
      return;
    }
    if (entry) this.dispatchEvent(new CustomEvent('cmd-error', { detail: { entry, code, message } }));
    this.dispatchEvent(new Event('status'));
  }

  /**
   * One of our own requests was refused for good. A snapshot part refused
   * (its token gone stale, say): the snapshot starts over from the first
   * part, backing off if that repeats.
   * @param {Command} cmd @param {ErrorCode} code @param {string} message
   */
  requestRefused(cmd, code, message) {
    console.warn(`wardpage: ${cmd.op} refused: ${code}: ${message}`);
    if (cmd.op === 'patients') this.store.patientLoads.delete(cmd.ward ?? '*');
    if (cmd.op !== 'snapshot') return;
    this.snapshotRefusals += 1;
    const delay = backoffMs(this.snapshotRefusals - 1, RETRY_MS);
    setTimeout(() => this.welcomed && this.store.needsSnapshot && this.request(snapshotCmd(null)), delay);
  }

  /** Take out and report the commands too old to send (a night). */
  expireOld() {
    for (const entry of this.outbox.expire(this.store.now())) this.notSent(entry, 'expired');
  }

  /** @param {OutboxEntry} entry @param {Unsent['reason']} reason */
  notSent(entry, reason) {
    this.outbox.markUnsent(entry, reason);
    // The user's answer never arrived: the offer or page may ring again.
    const c = /** @type {Record<string, unknown>} */ (entry.cmd);
    const about = c.task ?? c.page;
    if (typeof about === 'string') this.store.unsilenceAbout(about);
    this.dispatchEvent(new CustomEvent('not-sent', { detail: { entry, reason } }));
    this.dispatchEvent(new Event('status'));
  }
}

/** @param {OutboxEntry} entry @returns {CmdFrame} */
function cmdFrame(entry) {
  return { type: 'cmd', id: entry.id, cmd: entry.cmd, issued_at: issuedAt(entry) };
}
