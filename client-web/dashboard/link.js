// The dashboard's live link to the hub. It differs from the handheld's link on
// purpose: a coordinator's screen keeps no state across reloads (a desktop has
// no Wi-Fi not-spots, and 2,000 tasks do not belong in localStorage), so a
// fresh page starts from the present (snapshot) instead of replaying the whole
// night's events, and commands are request/response promises so that a dialog
// can show the hub's answer. Like the handheld it resumes from its cursor after
// a dropped socket, acks cumulatively, pings, backs off with jitter, and
// re-sends unanswered commands with their original ids (the hub applies a
// command at most once) and the time each was first issued; one that waited
// longer than a night is not sent and is answered `id_expired` here, as the
// hub would answer it.

import { newId, OUTBOX_MAX_AGE_MS } from '../js/outbox.js';
import { snapshotCmd, nextPart } from '../js/snapshot.js';

/** @typedef {import('../js/types.js').ServerFrame} ServerFrame */
/** @typedef {import('../js/types.js').ClientFrame} ClientFrame */
/** @typedef {import('../js/types.js').Command} Command */
/** @typedef {import('../js/types.js').CommandResult} CommandResult */
/** @typedef {import('../js/types.js').ErrorCode} ErrorCode */
/** @typedef {import('../js/types.js').EventFrame} EventFrame */
/** @typedef {import('../js/types.js').WelcomeFrame} WelcomeFrame */
/** @typedef {Extract<ServerFrame, {type: 'presence'}>} PresenceFrame */

/**
 * What a command came back with. `id_expired`: not carried out, too old to
 * send (or the hub no longer knew its id); written beside ErrorCode so it
 * type-checks before and after the declarations have it.
 * @typedef {{ok: true, result: CommandResult} | Refusal} Answer
 */
/** @typedef {{ok: false, code: ErrorCode | 'id_expired', message: string}} Refusal */

/**
 * A `cmd` frame with the optional `issued_at` (PROTOCOL.md section 5).
 * @typedef {Extract<ClientFrame, {type: 'cmd'}> & {issued_at?: number}} CmdFrame
 */

/** A command waiting for its answer. @typedef {{cmd: Command, issued_at: number, resolve: (a: Answer) => void}} Pending */

/** @typedef {'connecting' | 'online' | 'offline' | 'ended'} LinkStatus */

export const PROTOCOL_VERSION = 1;
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const ACK_DELAY_MS = 200;
const PONG_TIMEOUT_MS = 8000;
const WELCOME_TIMEOUT_MS = 10000;
/** Errors after which the same command id is worth sending again. */
const RETRYABLE = new Set(['internal', 'unavailable']);
/** Refusals of a read that asking again will not change. */
const FINAL = new Set(['forbidden', 'bad_json', 'unknown_type', 'invalid_field', 'not_found', 'unauthorized']);
/** How long to wait before sending a command again after a retryable error. */
const RETRY_MS = 3000;

/**
 * Events dispatched:
 * - `status`: read `link.status`
 * - `welcome` (detail: WelcomeFrame): after a (re)connect; `resync` says start over
 * - `event` (detail: EventFrame): a numbered event not seen before
 * - `presence` (detail: PresenceFrame)
 * - `not-sent` (detail: {cmd, message}): a command answered `id_expired`,
 *   here (it waited a night) or by the hub; nothing was done
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
    /** Bumped by each `snapshot()` call, so an older fetch stops. */
    this.snapshotRun = 0;
    /** The same for `patients()`. */
    this.patientsRun = 0;
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
    /** Commands sent and not yet answered, by id. @type {Map<string, Pending>} */
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
      const p = { cmd, issued_at: this.now(), resolve };
      this.pending.set(id, p);
      if (this.welcomed) this.write(cmdFrame(id, p));
    });
  }

  /**
   * Fetch the whole snapshot, part by part, handing each part to `onPart`
   * as it comes (events go on meanwhile; the newest version wins). A part
   * in flight when the socket drops is re-sent with its id on reconnect. A
   * refused part starts the snapshot over, backing off. A newer call (a
   * second resync) stops this one.
   * @param {(result: CommandResult) => void} onPart
   * @returns {Promise<boolean>} whether every part arrived
   */
  async snapshot(onPart) {
    const run = ++this.snapshotRun;
    return this.readParts(snapshotCmd, onPart, () => run === this.snapshotRun, () => true);
  }

  /**
   * Read the admitted patients, part by part, like the snapshot: every ward
   * when `wards` is null (a coordinator), else ward by ward. A newer call
   * stops this one. A refusal that cannot change by asking again
   * (forbidden, a field the hub does not know) ends the read: the answer is
   * returned so the screen can say why.
   * @param {string[] | null} wards
   * @param {(result: CommandResult) => void} onPart
   * @returns {Promise<Refusal | null>} null when every part arrived, else the refusal (`unavailable` when stopped)
   */
  async patients(wards, onPart) {
    const run = ++this.patientsRun;
    /** @type {Refusal | null} */
    let refused = null;
    const current = () => run === this.patientsRun;
    /** @param {Answer} a */
    const retry = (a) => {
      if (a.ok || !FINAL.has(a.code)) return true;
      refused = a;
      return false;
    };
    for (const ward of wards ?? [null]) {
      /** @param {string | null} after @returns {Command} */
      const cmd = (after) => {
        /** @type {Command} */
        const c = { op: 'patients' };
        if (ward !== null) c.ward = ward;
        if (after !== null) c.after = after;
        return c;
      };
      const done = await this.readParts(cmd, onPart, current, retry);
      if (refused) return refused;
      if (!done) return { ok: false, code: 'unavailable', message: 'stopped' };
    }
    return null;
  }

  /**
   * Read a paged result to its last part. A refused part starts over from
   * the first, backing off, while `retry(answer)` says so.
   * @param {(after: string | null) => Command} cmdFor
   * @param {(result: CommandResult) => void} onPart
   * @param {() => boolean} current false once a newer read has begun
   * @param {(answer: Answer) => boolean} retry
   * @returns {Promise<boolean>} whether every part arrived
   */
  async readParts(cmdFor, onPart, current, retry) {
    /** @type {string | null} */
    let after = null;
    for (let refusals = 0; ; ) {
      const cmd = cmdFor(after);
      const answer = await this.command(cmd);
      if (!current() || this.status === 'ended') return false;
      if (!answer.ok) {
        console.warn(`wardpage dashboard: ${cmd.op} part refused: ${answer.code}: ${answer.message}`);
        if (!retry(answer)) return false;
        refusals += 1;
        after = null;
        await new Promise((r) => setTimeout(r, Math.min(BACKOFF_MAX_MS, RETRY_MS * 2 ** (refusals - 1))));
        if (!current()) return false;
        continue;
      }
      refusals = 0;
      onPart(answer.result);
      after = nextPart(answer.result);
      if (after === null) return true;
    }
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
          // Same id again later; the answer's promise stays open (`internal`
          // does not promise that nothing changed).
          setTimeout(() => this.resend(id), RETRY_MS);
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
    if (!answer.ok && answer.code === 'id_expired') {
      this.dispatchEvent(new CustomEvent('not-sent', { detail: { cmd: p.cmd, message: answer.message } }));
    }
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
    // Re-send what was waiting before telling the views: the commands they
    // give on `welcome` are sent by `command()` itself, once.
    this.expireOld();
    for (const [id, p] of this.pending) this.write(cmdFrame(id, p));
    this.dispatchEvent(new CustomEvent('welcome', { detail: frame }));
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => this.ping(), Math.max(5, frame.heartbeat_secs) * 1000);
    this.setStatus('online');
  }

  /** @param {string} id */
  resend(id) {
    if (!this.welcomed) return; // the next welcome sends every pending command
    this.expireOld();
    const p = this.pending.get(id);
    if (p) this.write(cmdFrame(id, p));
  }

  /** Answer, without sending, every command that waited longer than a night. */
  expireOld() {
    const now = this.now();
    for (const [id, p] of this.pending) {
      if (now - p.issued_at <= OUTBOX_MAX_AGE_MS) continue;
      this.answer(id, { ok: false, code: 'id_expired', message: 'it waited too long for the hub and was not sent; do it again if it is still needed' });
    }
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

/** @param {string} id @param {Pending} p @returns {CmdFrame} */
function cmdFrame(id, p) {
  return { type: 'cmd', id, cmd: p.cmd, issued_at: p.issued_at };
}
