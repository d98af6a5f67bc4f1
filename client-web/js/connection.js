// The live link to the hub: one WebSocket at a time, `hello` with the saved
// cursor, events into the store (deduplicated there by seq), cumulative acks,
// our own heartbeat (the browser cannot see the hub's pings, and a phone must
// notice a dead hub quickly), reconnect with jittered backoff, immediate
// reconnect on `online` / `visibilitychange`, and the outbox sent on every
// (re)connect, each command with when it was first issued. A command too old
// to send safely, or refused by the hub as `id_expired`, is not carried out
// and is reported (`not-sent`), never dropped silently.

import { newId, issuedAt } from './outbox.js';
import { snapshotCmd, nextPart } from './snapshot.js';

/** @typedef {import('./types.js').ServerFrame} ServerFrame */
/** @typedef {import('./types.js').ClientFrame} ClientFrame */
/** @typedef {import('./types.js').Command} Command */
/** @typedef {import('./types.js').WelcomeFrame} WelcomeFrame */
/** @typedef {import('./store.js').Store} Store */
/** @typedef {import('./outbox.js').Outbox} Outbox */
/** @typedef {import('./outbox.js').OutboxEntry} OutboxEntry */
/** @typedef {import('./outbox.js').Unsent} Unsent */
/**
 * A `cmd` frame with the optional `issued_at` (PROTOCOL.md section 5),
 * written so that it type-checks before and after the declarations have it.
 * @typedef {Extract<ClientFrame, {type: 'cmd'}> & {issued_at?: number}} CmdFrame
 */

export const PROTOCOL_VERSION = 1;
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30000;
/** Acks are batched: a replay of 300 events sends one ack, not 300. */
const ACK_DELAY_MS = 150;
/** If a ping gets no answer within this, the socket is presumed dead. */
const PONG_TIMEOUT_MS = 8000;
/** Errors after which the same command id is worth sending again. */
const RETRYABLE = new Set(['internal', 'unavailable']);
/** How long to wait before sending a command again after a retryable error. */
const RETRY_MS = 3000;
const OFFLINE_SINCE_KEY = 'wardpage.offlineSince';
/** A socket that has not brought a welcome by then (dead access point, hung hub) is abandoned. */
const WELCOME_TIMEOUT_MS = 10000;
/** The protocol's frame limit (`MAX_FRAME_BYTES`); larger commands are refused by the hub. */
export const MAX_FRAME_BYTES = 16 * 1024;

/**
 * @typedef {'connecting' | 'online' | 'offline' | 'ended'} LinkStatus
 *
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
export class Link extends EventTarget {
  /** @param {{token: string, store: Store, outbox: Outbox, url?: string}} opts */
  constructor({ token, store, outbox, url }) {
    super();
    this.token = token;
    this.store = store;
    this.outbox = outbox;
    this.url = url ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    /** @type {LinkStatus} */
    this.status = 'offline';
    /** When the link was last lost; kept across reloads so the status line stays true. @type {number | null} */
    this.offlineSince = Number(localStorage.getItem(OFFLINE_SINCE_KEY)) || Date.now();
    /** @type {WebSocket | null} */
    this.ws = null;
    this.welcomed = false;
    this.attempt = 0;
    this.heartbeatMs = 15000;
    /** @type {ReturnType<typeof setTimeout> | undefined} */ this.retryTimer = undefined;
    /** @type {ReturnType<typeof setInterval> | undefined} */ this.pingTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */ this.pongTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */ this.ackTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */ this.welcomeTimer = undefined;
    /**
     * Our own bookkeeping commands (snapshot parts, directory) on the current
     * socket, by id; not in the outbox, re-asked at the next welcome instead.
     * @type {Map<string, Command>}
     */
    this.internal = new Map();
    /**
     * Reads a screen waits for (a chart), by id: answered through their
     * promise, never queued (a read is only worth having now).
     * @type {Map<string, {resolve: (r: import('./types.js').CommandResult) => void, reject: (e: Error) => void}>}
     */
    this.reads = new Map();
    /** Snapshot parts refused in a row: after a few the snapshot starts over more slowly. */
    this.snapshotRefusals = 0;
    this.acked = store.cursor;
    /** Holes met in a row without an event applied in between (see `gap`). */
    this.gaps = 0;
    this.onOnline = () => this.reconnectNow();
    this.onOffline = () => this.drop('the device went offline');
    this.onVisible = () => {
      if (document.visibilityState !== 'visible') return;
      // A sleeping phone's socket may be dead without having closed: probe it.
      if (this.ws && this.welcomed) this.ping();
      else this.reconnectNow();
    };
  }

  start() {
    addEventListener('online', this.onOnline);
    addEventListener('offline', this.onOffline);
    document.addEventListener('visibilitychange', this.onVisible);
    this.expireOld();
    this.connect();
  }

  stop() {
    removeEventListener('online', this.onOnline);
    removeEventListener('offline', this.onOffline);
    document.removeEventListener('visibilitychange', this.onVisible);
    clearTimeout(this.retryTimer);
    this.flushAck();
    this.detach();
    this.setStatus('ended');
  }

  /**
   * Queue a user's command (persisted) and send it now if the link is up.
   * @param {Command} cmd
   * @param {string} label
   * @returns {OutboxEntry}
   */
  send(cmd, label) {
    const entry = this.outbox.add(cmd, label, this.store.now());
    if (this.welcomed) this.write(cmdFrame(entry));
    this.dispatchEvent(new Event('status'));
    return entry;
  }

  /** Number of user commands not yet answered by the hub. */
  get queued() {
    return this.outbox.size;
  }

  connect() {
    clearTimeout(this.retryTimer);
    if (this.status === 'ended') return;
    if (!navigator.onLine) {
      this.setStatus('offline');
      this.scheduleRetry();
      return;
    }
    this.detach();
    this.setStatus('connecting');
    const ws = new WebSocket(this.url);
    this.ws = ws;
    this.welcomeTimer = setTimeout(() => this.drop('no welcome from the hub'), WELCOME_TIMEOUT_MS);
    ws.onopen = () => {
      this.write({ type: 'hello', version: PROTOCOL_VERSION, token: this.token, cursor: this.store.cursor });
    };
    ws.onmessage = (msg) => this.receive(msg.data);
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.detach();
      this.setStatus('offline');
      this.scheduleRetry();
    };
  }

  reconnectNow() {
    if (this.status === 'ended') return;
    if (this.ws && this.status !== 'offline') return;
    this.attempt = 0;
    this.connect();
  }

  /** @param {string} why */
  drop(why) {
    if (this.status === 'ended') return;
    console.info('wardpage: link dropped:', why);
    this.detach();
    this.setStatus('offline');
    this.scheduleRetry();
  }

  /** Forget the current socket without waiting for its close handshake. */
  detach() {
    clearTimeout(this.welcomeTimer);
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    const ws = this.ws;
    this.ws = null;
    this.welcomed = false;
    for (const r of this.reads.values()) r.reject(new Error('the connection to the hub was lost'));
    this.reads.clear();
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      try {
        ws.close();
      } catch {
        // already closed
      }
    }
  }

  /** Exponential backoff with jitter, so a ward full of phones does not reconnect in step. */
  scheduleRetry() {
    clearTimeout(this.retryTimer);
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => this.connect(), delay);
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
    this.status = status;
    this.dispatchEvent(new Event('status'));
  }

  /** @param {ClientFrame | CmdFrame} frame */
  write(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  ping() {
    this.write({ type: 'ping' });
    clearTimeout(this.pongTimer);
    this.pongTimer = setTimeout(() => this.drop('no answer to ping'), PONG_TIMEOUT_MS);
  }

  /** @param {unknown} data */
  receive(data) {
    clearTimeout(this.pongTimer); // any frame proves the link is alive
    /** @type {ServerFrame} */
    let frame;
    try {
      frame = JSON.parse(String(data));
    } catch {
      return;
    }
    switch (frame.type) {
      case 'welcome':
        this.welcome(frame);
        break;
      case 'event':
        if (frame.seq > this.store.cursor + 1) {
          this.gap(frame.seq);
          return;
        }
        if (this.store.applyEvent(frame)) {
          this.gaps = 0;
          // My wards changed: the patient list is another one now.
          if (frame.event.kind === 'shift' && frame.event.staff.id === this.store.me?.id) this.requestPatients();
          this.dispatchEvent(new CustomEvent('frame', { detail: frame }));
        }
        this.scheduleAck();
        break;
      case 'ok': {
        this.store.applyResult(frame.result);
        const read = this.reads.get(frame.id);
        if (read) {
          this.reads.delete(frame.id);
          read.resolve(frame.result);
          break;
        }
        const own = this.internal.get(frame.id);
        if (own) {
          this.internal.delete(frame.id);
          if (frame.result.kind === 'snapshot') this.snapshotPartDone(frame.result);
          if (frame.result.kind === 'patients' && own.op === 'patients') this.patientsPartDone(own, frame.result);
          break;
        }
        const entry = this.outbox.take(frame.id);
        if (entry) this.dispatchEvent(new CustomEvent('result', { detail: { entry, result: frame.result } }));
        this.dispatchEvent(new Event('status'));
        this.store.save();
        break;
      }
      case 'error':
        this.refused(frame.id, frame.code, frame.message);
        break;
      case 'pong':
        this.store.skew = frame.server_time - Date.now();
        break;
    }
  }

  /**
   * An event beyond the next one: the stream has a hole (an event the hub
   * sent nowhere, or lost on the way). Nothing past the hole is applied or
   * acknowledged, since the hub may prune what we ack and the missed event
   * could be an offer. The socket is dropped and the next hello carries the
   * cursor, so the hub replays the hole from its store. Repeated holes with
   * no progress back off like failed connects.
   * @param {number} seq
   */
  gap(seq) {
    console.warn(`wardpage: gap in the event stream: had ${this.store.cursor}, got ${seq}; resuming from the hub's store`);
    this.flushAck();
    const streak = this.gaps;
    this.gaps += 1;
    this.drop('gap in the event stream');
    this.attempt = streak;
    this.scheduleRetry();
  }

  /** @param {WelcomeFrame} frame */
  welcome(frame) {
    clearTimeout(this.welcomeTimer);
    this.welcomed = true;
    this.attempt = 0;
    this.store.skew = frame.server_time - Date.now();
    this.store.setMe(frame.me);
    // Requests on the old socket will not be answered; ask again below.
    this.internal.clear();
    if (frame.resync) {
      // The hub cannot replay from our cursor: start again from a snapshot.
      this.store.reset(frame.cursor);
      this.store.needsSnapshot = true;
      this.acked = frame.cursor;
    }
    // Also after a socket (or the app) lost mid-snapshot: the events from
    // the cursor on do not bring back the parts not yet fetched.
    if (this.store.needsSnapshot) this.request(snapshotCmd(null));
    this.request({ op: 'directory' });
    this.requestPatients();
    this.expireOld();
    for (const entry of this.outbox.entries()) this.write(cmdFrame(entry));
    this.heartbeatMs = Math.max(5, frame.heartbeat_secs) * 1000;
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => this.ping(), this.heartbeatMs);
    this.setStatus('online');
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
   * @returns {Promise<import('./types.js').CommandResult>}
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

  /** @param {Command} cmd the request answered @param {import('./types.js').CommandResult} result */
  patientsPartDone(cmd, result) {
    if (cmd.op !== 'patients' || result.kind !== 'patients') return;
    if (result.next !== null) {
      this.request({ ...cmd, after: result.next });
      return;
    }
    this.store.endPatients(cmd.ward ?? '*');
  }

  /** One part of the snapshot is in the store: ask for the next, or note it is whole. @param {import('./types.js').CommandResult} result */
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

  /**
   * One of our own requests was refused. Retryable: the same id again. A
   * snapshot part refused otherwise (its token gone stale, say): the
   * snapshot starts over from the first part, backing off if that repeats.
   * @param {string} id @param {Command} cmd @param {import('./types.js').ErrorCode} code @param {string} message
   */
  requestRefused(id, cmd, code, message) {
    if (RETRYABLE.has(code)) {
      this.internal.set(id, cmd);
      setTimeout(() => this.welcomed && this.internal.has(id) && this.write({ type: 'cmd', id, cmd }), RETRY_MS);
      return;
    }
    console.warn(`wardpage: ${cmd.op} refused: ${code}: ${message}`);
    if (cmd.op === 'patients') this.store.patientLoads.delete(cmd.ward ?? '*');
    if (cmd.op !== 'snapshot') return;
    this.snapshotRefusals += 1;
    const delay = Math.min(BACKOFF_MAX_MS, RETRY_MS * 2 ** (this.snapshotRefusals - 1));
    setTimeout(() => this.welcomed && this.store.needsSnapshot && this.request(snapshotCmd(null)), delay);
  }

  /**
   * @param {string | null} id
   * @param {import('./types.js').ErrorCode} code
   * @param {string} message
   */
  refused(id, code, message) {
    if (id === null) {
      if (code === 'unauthorized' || code === 'unsupported_version') {
        this.stop();
        this.dispatchEvent(new CustomEvent('ended', { detail: { code, message } }));
      }
      return;
    }
    const read = this.reads.get(id);
    if (read) {
      this.reads.delete(id);
      read.reject(new Error(message));
      return;
    }
    const own = this.internal.get(id);
    if (own) {
      this.internal.delete(id);
      this.requestRefused(id, own, code, message);
      return;
    }
    if (RETRYABLE.has(code)) {
      // Same id again later: the hub applies it at most once. (`internal`
      // does not promise that nothing changed, so the entry must stay.)
      setTimeout(() => this.resend(id), RETRY_MS);
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

  /** Send one outbox entry again, if it is still waiting and not too old. @param {string} id */
  resend(id) {
    if (!this.welcomed) return; // the next welcome sends the whole outbox
    this.expireOld();
    const entry = this.outbox.entries().find((e) => e.id === id);
    if (entry) this.write(cmdFrame(entry));
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

  scheduleAck() {
    if (this.ackTimer !== undefined) return;
    this.ackTimer = setTimeout(() => this.flushAck(), ACK_DELAY_MS);
  }

  /** Save first, then ack: the hub may prune what we ack, so it must be on disk. */
  flushAck() {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (this.store.cursor <= this.acked) return;
    this.store.save();
    if (!this.welcomed) return;
    this.write({ type: 'ack', seq: this.store.cursor });
    this.acked = this.store.cursor;
  }
}

/** @param {OutboxEntry} entry @returns {CmdFrame} */
function cmdFrame(entry) {
  return { type: 'cmd', id: entry.id, cmd: entry.cmd, issued_at: issuedAt(entry) };
}
