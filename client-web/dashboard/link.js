// The dashboard's policy on top of the shared link (../js/link-core.js). It
// differs from the handheld's on purpose: a coordinator's screen keeps no
// state across reloads (a desktop has no Wi-Fi not-spots, and 2,000 tasks do
// not belong in localStorage), so a fresh page starts from the present
// (snapshot) instead of replaying the whole night's events, and commands are
// request/response promises so that a dialog can show the hub's answer. The
// shared core resumes from the cursor after a dropped socket, acks
// cumulatively, pings, backs off with jitter and re-sends after a retryable
// error; here unanswered commands are re-sent on each welcome with their
// original ids (the hub applies a command at most once) and the time each was
// first issued, and one that waited longer than a night is not sent and is
// answered `id_expired` here, as the hub would answer it.

import { newId, OUTBOX_MAX_AGE_MS } from '../js/outbox.js';
import { snapshotCmd, nextPart } from '../js/snapshot.js';
import { LinkCore, PROTOCOL_VERSION, RETRY_MS, backoffMs } from '../js/link-core.js';

/** @typedef {import('../js/types.js').ServerFrame} ServerFrame */
/** @typedef {import('../js/types.js').ClientFrame} ClientFrame */
/** @typedef {import('../js/types.js').Command} Command */
/** @typedef {import('../js/types.js').CommandResult} CommandResult */
/** @typedef {import('../js/types.js').ErrorCode} ErrorCode */
/** @typedef {import('../js/types.js').EventFrame} EventFrame */
/** @typedef {import('../js/types.js').WelcomeFrame} WelcomeFrame */
/** @typedef {import('../js/link-core.js').PresenceFrame} PresenceFrame */
/** @typedef {import('../js/link-core.js').CmdFrame} CmdFrame */

/**
 * What a command came back with. `id_expired`: not carried out, too old to
 * send (or the hub no longer knew its id); written beside ErrorCode so it
 * type-checks before and after the declarations have it.
 * @typedef {{ok: true, result: CommandResult} | Refusal} Answer
 */
/** @typedef {{ok: false, code: ErrorCode | 'id_expired', message: string}} Refusal */

/** A command waiting for its answer. @typedef {{cmd: Command, issued_at: number, resolve: (a: Answer) => void}} Pending */

/** Refusals of a read that asking again will not change. */
const FINAL = new Set(['forbidden', 'bad_json', 'unknown_type', 'invalid_field', 'not_found', 'unauthorized']);

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
export class DashLink extends LinkCore {
  /** @param {{token: string, url?: string}} opts */
  constructor({ token, url }) {
    super({ token, url, name: 'wardpage dashboard' });
    /** Highest event seq processed; 0 until the first welcome. */
    this.cursor = 0;
    /** Bumped by each `snapshot()` call, so an older fetch stops. */
    this.snapshotRun = 0;
    /** The same for `patients()`. */
    this.patientsRun = 0;
    /** Whether a welcome has set the cursor, so the next hello resumes from it. */
    this.resumable = false;
    /** Hub clock minus ours, measured at each welcome. */
    this.skew = 0;
    /** Commands sent and not yet answered, by id. @type {Map<string, Pending>} */
    this.pending = new Map();
  }

  stop() {
    super.stop();
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
        await new Promise((r) => setTimeout(r, backoffMs(refusals - 1, RETRY_MS)));
        if (!current()) return false;
        continue;
      }
      refusals = 0;
      onPart(answer.result);
      after = nextPart(answer.result);
      if (after === null) return true;
    }
  }

  processed() {
    return this.cursor;
  }

  /** @returns {ClientFrame} */
  hello() {
    // A dashboard opening keeps no history: it says hello `fresh`, gets
    // `resync` and no replay (PROTOCOL.md section 3), then asks for a
    // snapshot of the present. After that it resumes from its cursor, even
    // a cursor of 0 (a hole at seq 1 must be replayed too).
    return this.resumable
      ? { type: 'hello', version: PROTOCOL_VERSION, token: this.token, cursor: this.cursor }
      : { type: 'hello', version: PROTOCOL_VERSION, token: this.token, cursor: 0, fresh: true };
  }

  /** @param {EventFrame} frame */
  onEvent(frame) {
    this.cursor = frame.seq;
    this.dispatchEvent(new CustomEvent('event', { detail: frame }));
  }

  /** @param {PresenceFrame} frame */
  onPresence(frame) {
    this.dispatchEvent(new CustomEvent('presence', { detail: frame }));
  }

  // Pong: skew is measured once per welcome; a desk computer's clock does
  // not drift within a connection, and a test may move the page clock on.

  /** @param {string} id @param {CommandResult} result */
  onOk(id, result) {
    this.answer(id, { ok: true, result });
  }

  /** @param {string} id @param {ErrorCode} code @param {string} message */
  onRefused(id, code, message) {
    this.answer(id, { ok: false, code, message });
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
  onWelcome(frame) {
    this.skew = frame.server_time - Date.now();
    if (frame.resync) this.cursor = frame.cursor;
    this.resumable = true;
    // Re-send what was waiting before telling the views: the commands they
    // give on `welcome` are sent by `command()` itself, once.
    this.expireOld();
    for (const [id, p] of this.pending) this.write(cmdFrame(id, p));
    this.dispatchEvent(new CustomEvent('welcome', { detail: frame }));
  }

  /** @param {string} id */
  resend(id) {
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
}

/** @param {string} id @param {Pending} p @returns {CmdFrame} */
function cmdFrame(id, p) {
  return { type: 'cmd', id, cmd: p.cmd, issued_at: p.issued_at };
}
