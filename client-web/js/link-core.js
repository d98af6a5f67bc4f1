// What the handheld's link and the dashboard's link have in common, written
// once: one WebSocket at a time, the welcome timeout, our own heartbeat
// (ping, and a dead socket presumed when no frame answers it), reconnecting
// with jittered exponential backoff, the hole check on the event stream,
// batched cumulative acks, the session-level refusals that end the link, and
// sending a command again after a retryable error. The protocol's constants
// live here and nowhere else.
//
// Each app extends `LinkCore` with its own policy for what the frames mean:
// the handheld keeps a persisted outbox and a store that survives reloads
// (connection.js); the dashboard keeps no state across reloads and answers
// each command through a promise (dashboard/link.js).

import { wsUrl } from './base.js';

/** @typedef {import('./types.js').ServerFrame} ServerFrame */
/** @typedef {import('./types.js').ClientFrame} ClientFrame */
/** @typedef {import('./types.js').Command} Command */
/** @typedef {import('./types.js').CommandResult} CommandResult */
/** @typedef {import('./types.js').ErrorCode} ErrorCode */
/** @typedef {import('./types.js').EventFrame} EventFrame */
/** @typedef {import('./types.js').WelcomeFrame} WelcomeFrame */
/** @typedef {Extract<ServerFrame, {type: 'pong'}>} PongFrame */
/** @typedef {Extract<ServerFrame, {type: 'presence'}>} PresenceFrame */
/**
 * A `cmd` frame with the optional `issued_at` (PROTOCOL.md section 5),
 * written so that it type-checks before and after the declarations have it.
 * @typedef {Extract<ClientFrame, {type: 'cmd'}> & {issued_at?: number}} CmdFrame
 */
/** @typedef {'connecting' | 'online' | 'offline' | 'ended'} LinkStatus */

export const PROTOCOL_VERSION = 1;
/** The first reconnect waits up to this; each failure doubles it. */
export const BACKOFF_FIRST_MS = 1000;
/** Reconnects, and snapshots started over, never wait longer than this. */
export const BACKOFF_MAX_MS = 30000;
/** Acks are batched: a replay of 300 events sends one ack, not 300. */
export const ACK_DELAY_MS = 150;
/** If a ping gets no answer within this, the socket is presumed dead. */
export const PONG_TIMEOUT_MS = 8000;
/** A socket that has not brought a welcome by then (dead access point, hung hub) is abandoned. */
export const WELCOME_TIMEOUT_MS = 10000;
/** Errors after which the same command id is worth sending again. */
export const RETRYABLE = new Set(['internal', 'unavailable']);
/** How long to wait before sending a command again after a retryable error. */
export const RETRY_MS = 3000;
/** The protocol's frame limit (`MAX_FRAME_BYTES`); larger commands are refused by the hub. */
export const MAX_FRAME_BYTES = 16 * 1024;

/**
 * Whether a command fits in one frame, measured as the hub will: the UTF-8
 * bytes of the whole `cmd` frame, with an id as long as a real one.
 * @param {Command} cmd
 */
export function fitsInFrame(cmd) {
  const frame = { type: 'cmd', id: '00000000-0000-4000-8000-000000000000', issued_at: Number.MAX_SAFE_INTEGER, cmd };
  return new TextEncoder().encode(JSON.stringify(frame)).length <= MAX_FRAME_BYTES;
}

/**
 * The wait before retry number `attempt` (0 first) of something failing
 * again and again: doubling from `first` up to the ceiling.
 * @param {number} attempt @param {number} [first]
 */
export function backoffMs(attempt, first = BACKOFF_FIRST_MS) {
  return Math.min(BACKOFF_MAX_MS, first * 2 ** attempt);
}

/** Close code of a hub too busy to take the connection now ("try again later"). */
export const TRY_AGAIN_LATER = 1013;
/** After that close the next wait is at least this retry's: 2 to 4 s, then doubling. */
export const BUSY_ATTEMPT = 2;

/**
 * The backoff exponent after a socket closed with `code`: a hub that says
 * it is busy (every device of a site saying hello at once after a node
 * died, PROTOCOL.md section 3) is given longer before this device comes
 * back, so that the phones spread out instead of returning together.
 * @param {number} attempt @param {number} code
 */
export function attemptAfterClose(attempt, code) {
  return code === TRY_AGAIN_LATER ? Math.max(attempt, BUSY_ATTEMPT) : attempt;
}

/**
 * The socket's life. Subclasses give the policy by overriding the hooks
 * marked "policy"; `status` events are dispatched here.
 */
export class LinkCore extends EventTarget {
  /** @param {{token: string, url?: string, name: string}} opts `name` prefixes log lines */
  constructor({ token, url, name }) {
    super();
    this.token = token;
    this.name = name;
    this.url = url ?? wsUrl();
    /** @type {LinkStatus} */
    this.status = 'offline';
    /** @type {WebSocket | null} */
    this.ws = null;
    this.welcomed = false;
    /** Failed connects in a row: the backoff's exponent. */
    this.attempt = 0;
    /** Highest seq acknowledged to the hub. */
    this.acked = 0;
    /** Holes met in a row without an event applied in between (see `gap`). */
    this.gaps = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */ this.retryTimer = undefined;
    /** @type {ReturnType<typeof setInterval> | undefined} */ this.pingTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */ this.pongTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */ this.ackTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */ this.welcomeTimer = undefined;
    this.onOnline = () => this.reconnectNow();
  }

  // Policy hooks, overridden by each app.

  /** Highest event seq processed (policy). @returns {number} */
  processed() {
    return 0;
  }

  /** The `hello` frame for a new socket (policy). @returns {ClientFrame} */
  hello() {
    return { type: 'hello', version: PROTOCOL_VERSION, token: this.token, cursor: this.processed() };
  }

  /** Whether a socket is worth opening now (policy): false waits for the next retry. */
  mayConnect() {
    return true;
  }

  /** A welcome arrived, before the link says online (policy). @param {WelcomeFrame} _frame */
  onWelcome(_frame) {}

  /**
   * The next event in sequence (policy).
   * @param {EventFrame} _frame
   */
  onEvent(_frame) {}

  /** @param {PresenceFrame} _frame (policy) */
  onPresence(_frame) {}

  /** @param {PongFrame} _frame (policy) */
  onPong(_frame) {}

  /** An `ok` to a command of ours (policy). @param {string} _id @param {CommandResult} _result */
  onOk(_id, _result) {}

  /**
   * A command of ours was refused, not retryably or not worth retrying (policy).
   * @param {string} _id @param {ErrorCode} _code @param {string} _message
   */
  onRefused(_id, _code, _message) {}

  /**
   * Whether a command refused retryably should be sent again with the same
   * id after `RETRY_MS` (policy); if not it is handed to `onRefused`.
   * @param {string} _id
   */
  retries(_id) {
    return true;
  }

  /** Send the command with this id again, if still waiting (policy). @param {string} _id */
  resend(_id) {}

  /** The current socket is forgotten (policy): nothing on it will be answered. */
  onDetach() {}

  /** Before an ack is written (policy): what it acknowledges must be safe first. */
  beforeAck() {}

  // The socket's life.

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
  }

  connect() {
    clearTimeout(this.retryTimer);
    if (this.status === 'ended') return;
    if (!this.mayConnect()) {
      this.setStatus('offline');
      this.scheduleRetry();
      return;
    }
    this.detach();
    this.setStatus('connecting');
    const ws = new WebSocket(this.url);
    this.ws = ws;
    this.welcomeTimer = setTimeout(() => this.drop('no welcome from the hub'), WELCOME_TIMEOUT_MS);
    ws.onopen = () => this.write(this.hello());
    ws.onmessage = (msg) => this.receive(msg.data);
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.attempt = attemptAfterClose(this.attempt, ev.code);
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
    console.info(`${this.name}: link dropped:`, why);
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
    this.onDetach();
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
    const ceiling = backoffMs(this.attempt);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => this.connect(), ceiling / 2 + Math.random() * (ceiling / 2));
  }

  /** @param {LinkStatus} status */
  setStatus(status) {
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
        this.event(frame);
        break;
      case 'presence':
        this.onPresence(frame);
        break;
      case 'ok':
        this.onOk(frame.id, frame.result);
        break;
      case 'error':
        this.error(frame.id, frame.code, frame.message);
        break;
      case 'pong':
        this.onPong(frame);
        break;
    }
  }

  /** @param {WelcomeFrame} frame */
  welcome(frame) {
    clearTimeout(this.welcomeTimer);
    this.welcomed = true;
    this.attempt = 0;
    if (frame.resync) this.acked = frame.cursor;
    this.onWelcome(frame);
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => this.ping(), Math.max(5, frame.heartbeat_secs) * 1000);
    this.setStatus('online');
  }

  /**
   * Delivery is at least once: a replay may repeat what we have, which is
   * passed over (and acked again, harmlessly).
   * @param {EventFrame} frame
   */
  event(frame) {
    const cursor = this.processed();
    if (frame.seq > cursor + 1) {
      this.gap(frame.seq);
      return;
    }
    if (frame.seq === cursor + 1) {
      this.gaps = 0;
      this.onEvent(frame);
    }
    this.scheduleAck();
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
    console.warn(`${this.name}: gap in the event stream: had ${this.processed()}, got ${seq}; resuming from the hub's store`);
    this.flushAck();
    const streak = this.gaps;
    this.gaps += 1;
    this.drop('gap in the event stream');
    this.attempt = streak;
    this.scheduleRetry();
  }

  /**
   * @param {string | null} id
   * @param {ErrorCode} code
   * @param {string} message
   */
  error(id, code, message) {
    if (id === null) {
      if (code === 'unauthorized' || code === 'unsupported_version') {
        this.stop();
        this.dispatchEvent(new CustomEvent('ended', { detail: { code, message } }));
      }
      return;
    }
    if (RETRYABLE.has(code) && this.retries(id)) {
      // Same id again later: the hub applies it at most once. (`internal`
      // does not promise that nothing changed, so the command must stay.)
      // Not welcomed by then: the next welcome sends what is waiting.
      setTimeout(() => this.welcomed && this.resend(id), RETRY_MS);
      return;
    }
    this.onRefused(id, code, message);
  }

  scheduleAck() {
    if (this.ackTimer !== undefined) return;
    this.ackTimer = setTimeout(() => this.flushAck(), ACK_DELAY_MS);
  }

  flushAck() {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    const cursor = this.processed();
    if (cursor <= this.acked) return;
    this.beforeAck();
    if (!this.welcomed) return;
    this.write({ type: 'ack', seq: cursor });
    this.acked = cursor;
  }
}
