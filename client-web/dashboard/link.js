// The dashboard's live link to the hub. It differs from the handheld's link on
// purpose: a coordinator's screen keeps no state across reloads (a desktop has
// no Wi-Fi not-spots, and 2,000 tasks do not belong in localStorage), so a
// fresh page starts from the present (snapshot) instead of replaying the whole
// night's events, and commands are request/response promises so that a dialog
// can show the hub's answer. Like the handheld it resumes from its cursor after
// a dropped socket, acks cumulatively, pings, backs off with jitter, and
// re-sends unanswered commands with their original ids (the hub applies a
// command at most once).

import { newId } from '../js/outbox.js';

/** @typedef {import('../js/types.js').ServerFrame} ServerFrame */
/** @typedef {import('../js/types.js').ClientFrame} ClientFrame */
/** @typedef {import('../js/types.js').Command} Command */
/** @typedef {import('../js/types.js').CommandResult} CommandResult */
/** @typedef {import('../js/types.js').ErrorCode} ErrorCode */
/** @typedef {import('../js/types.js').EventFrame} EventFrame */
/** @typedef {import('../js/types.js').WelcomeFrame} WelcomeFrame */
/** @typedef {Extract<ServerFrame, {type: 'presence'}>} PresenceFrame */

/**
 * What a command came back with.
 * @typedef {{ok: true, result: CommandResult} | {ok: false, code: ErrorCode, message: string}} Answer
 */

/** @typedef {'connecting' | 'online' | 'offline' | 'ended'} LinkStatus */

export const PROTOCOL_VERSION = 1;
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const ACK_DELAY_MS = 200;
const PONG_TIMEOUT_MS = 8000;
const WELCOME_TIMEOUT_MS = 10000;
/** Errors after which the same command id is worth sending again. */
const RETRYABLE = new Set(['internal', 'unavailable']);

/**
 * Events dispatched:
 * - `status`: read `link.status`
 * - `welcome` (detail: WelcomeFrame): after a (re)connect; `resync` says start over
 * - `event` (detail: EventFrame): a numbered event not seen before
 * - `presence` (detail: PresenceFrame)
 * - `ended` (detail: {code, message}): the hub refused the session
 */
export class DashLink extends EventTarget {
  /** @param {{token: string, url?: string}} opts */
  constructor({ token, url }) {
    super();
    this.token = token;
    this.url = url ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    /** @type {LinkStatus} */
    this.status = 'offline';
    /** Highest event seq processed; 0 until the first welcome. */
    this.cursor = 0;
    this.acked = 0;
    /** Whether a welcome has set the cursor, so the next hello resumes from it. */
    this.resumable = false;
    /** Holes met in a row without an event applied in between (see `gap`). */
    this.gaps = 0;
    /** @type {WebSocket | null} */
    this.ws = null;
    this.welcomed = false;
    this.attempt = 0;
    /** Hub clock minus ours, measured at each welcome. */
    this.skew = 0;
    /** Commands sent and not yet answered, by id. @type {Map<string, {cmd: Command, resolve: (a: Answer) => void}>} */
    this.pending = new Map();
    /** @type {ReturnType<typeof setTimeout> | undefined} */ this.retryTimer = undefined;
    /** @type {ReturnType<typeof setInterval> | undefined} */ this.pingTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */ this.pongTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */ this.ackTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */ this.welcomeTimer = undefined;
    this.onOnline = () => this.reconnectNow();
  }

  start() {
    addEventListener('online', this.onOnline);
    this.connect();
  }

  stop() {
    removeEventListener('online', this.onOnline);
    clearTimeout(this.retryTimer);
    this.flushAck();
    this.detach();
    this.setStatus('ended');
    for (const [, p] of this.pending) p.resolve({ ok: false, code: 'unavailable', message: 'signed out' });
    this.pending.clear();
  }

  now() {
    return Date.now() + this.skew;
  }

  /**
   * Send a command; resolves with the hub's answer. If the link is down it is
   * sent on the next welcome, with the same id.
   * @param {Command} cmd
   * @returns {Promise<Answer>}
   */
  command(cmd) {
    const id = newId();
    return new Promise((resolve) => {
      this.pending.set(id, { cmd, resolve });
      if (this.welcomed) this.write({ type: 'cmd', id, cmd });
    });
  }

  connect() {
    clearTimeout(this.retryTimer);
    if (this.status === 'ended') return;
    this.detach();
    this.setStatus('connecting');
    const ws = new WebSocket(this.url);
    this.ws = ws;
    this.welcomeTimer = setTimeout(() => this.drop('no welcome from the hub'), WELCOME_TIMEOUT_MS);
    ws.onopen = () => {
      // A dashboard opening keeps no history: it says hello `fresh`, gets
      // `resync` and no replay (PROTOCOL.md section 3), then asks for a
      // snapshot of the present. After that it resumes from its cursor, even
      // a cursor of 0 (a hole at seq 1 must be replayed too).
      const hello = this.resumable
        ? { type: /** @type {const} */ ('hello'), version: PROTOCOL_VERSION, token: this.token, cursor: this.cursor }
        : { type: /** @type {const} */ ('hello'), version: PROTOCOL_VERSION, token: this.token, cursor: 0, fresh: true };
      this.write(hello);
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
    if (this.status === 'ended' || (this.ws && this.status !== 'offline')) return;
    this.attempt = 0;
    this.connect();
  }

  /** @param {string} why */
  drop(why) {
    if (this.status === 'ended') return;
    console.info('wardpage dashboard: link dropped:', why);
    this.detach();
    this.setStatus('offline');
    this.scheduleRetry();
  }

  detach() {
    clearTimeout(this.welcomeTimer);
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    const ws = this.ws;
    this.ws = null;
    this.welcomed = false;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      try {
        ws.close();
      } catch {
        // already closed
      }
    }
  }

  scheduleRetry() {
    clearTimeout(this.retryTimer);
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempt);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => this.connect(), ceiling / 2 + Math.random() * (ceiling / 2));
  }

  /** @param {LinkStatus} status */
  setStatus(status) {
    this.status = status;
    this.dispatchEvent(new Event('status'));
  }

  /** @param {ClientFrame} frame */
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
    clearTimeout(this.pongTimer);
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
        // Delivery is at least once: a replay may repeat what we have.
        if (frame.seq <= this.cursor) break;
        if (frame.seq > this.cursor + 1) {
          this.gap(frame.seq);
          return;
        }
        this.gaps = 0;
        this.cursor = frame.seq;
        this.dispatchEvent(new CustomEvent('event', { detail: frame }));
        this.scheduleAck();
        break;
      case 'presence':
        this.dispatchEvent(new CustomEvent('presence', { detail: frame }));
        break;
      case 'ok':
        this.answer(frame.id, { ok: true, result: frame.result });
        break;
      case 'error':
        if (frame.id === null) {
          if (frame.code === 'unauthorized' || frame.code === 'unsupported_version') {
            this.stop();
            this.dispatchEvent(new CustomEvent('ended', { detail: { code: frame.code, message: frame.message } }));
          }
          break;
        }
        if (RETRYABLE.has(frame.code)) {
          const id = frame.id;
          const p = this.pending.get(id);
          if (p) setTimeout(() => this.welcomed && this.pending.has(id) && this.write({ type: 'cmd', id, cmd: p.cmd }), 3000);
          break;
        }
        this.answer(frame.id, { ok: false, code: frame.code, message: frame.message });
        break;
      case 'pong':
        // Skew is measured once per welcome: a desk computer's clock does not
        // drift within a connection, and a test may move the page clock on.
        break;
    }
  }

  /**
   * An event beyond the next one: the stream has a hole. Nothing past it is
   * shown or acknowledged (the hub may prune what we ack, and the missed
   * event may be the task nobody has taken); the socket is dropped and the
   * next hello carries the cursor, so the hub replays the hole from its
   * store. Repeated holes with no progress back off like failed connects.
   * @param {number} seq
   */
  gap(seq) {
    console.warn(`wardpage dashboard: gap in the event stream: had ${this.cursor}, got ${seq}; resuming from the hub's store`);
    this.flushAck();
    const streak = this.gaps;
    this.gaps += 1;
    this.drop('gap in the event stream');
    this.attempt = streak;
    this.scheduleRetry();
  }

  /** @param {string} id @param {Answer} answer */
  answer(id, answer) {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    p.resolve(answer);
  }

  /** @param {WelcomeFrame} frame */
  welcome(frame) {
    clearTimeout(this.welcomeTimer);
    this.welcomed = true;
    this.attempt = 0;
    this.skew = frame.server_time - Date.now();
    if (frame.resync) {
      this.cursor = frame.cursor;
      this.acked = frame.cursor;
    }
    this.resumable = true;
    this.dispatchEvent(new CustomEvent('welcome', { detail: frame }));
    for (const [id, p] of this.pending) this.write({ type: 'cmd', id, cmd: p.cmd });
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => this.ping(), Math.max(5, frame.heartbeat_secs) * 1000);
    this.setStatus('online');
  }

  scheduleAck() {
    if (this.ackTimer !== undefined) return;
    this.ackTimer = setTimeout(() => this.flushAck(), ACK_DELAY_MS);
  }

  flushAck() {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    if (this.cursor <= this.acked || !this.welcomed) return;
    this.write({ type: 'ack', seq: this.cursor });
    this.acked = this.cursor;
  }
}
