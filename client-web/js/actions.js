// What a member of staff can do to a task or a page, as one place shared by
// the alert overlay and the lists: each verb asks for what the hub needs (a
// reason, an outcome), queues the command with a fresh id (sent now or on
// reconnect) and quietens the alert it answers, since the user has acted.
// An answer from the alert given while the link is down is only queued: its
// alert is quietened once the hub has carried it out, not before, so the
// overlay keeps showing it (marked queued) instead of moving on as if it
// had worked.

import { askText } from './views/dialog.js';
import { wardNamer } from './views/context.js';
import { REPLY_LABEL } from './page-words.js';
import { taskPlace } from './format.js';

/** @typedef {import('./types.js').TaskView} TaskView */
/** @typedef {import('./types.js').PageView} PageView */
/** @typedef {import('./store.js').Store} Store */
/** @typedef {import('./connection.js').Link} Link */

const DECLINE_REASONS = ['With a sick patient', 'In resus / at an arrest', 'Not my ward or skill', 'Going off shift'];
const HAND_BACK_REASONS = ['Called to an emergency', 'Needs a more senior review', 'Could not do it (skill)'];

/** Commands that answer an alert (a read receipt, sent by itself, does not). */
const ANSWERS = new Set(['accept', 'decline', 'page_ack']);

/**
 * Labels of the answers to a task or page still waiting in the outbox.
 * @param {import('./outbox.js').Outbox} outbox @param {string} id
 */
export function queuedAnswers(outbox, id) {
  return outbox.pendingFor(id).filter((e) => ANSWERS.has(e.cmd.op)).map((e) => e.label);
}


/** @param {{store: Store, link: Link}} deps */
export function createActions({ store, link }) {
  // The ward as the hospital writes it ("Ward 7 (Medicine)"), in every
  // queued label and dialog title, never its id.
  const wardName = wardNamer(store);
  /** @param {TaskView} t */
  const where = (t) => taskPlace(t, wardName);
  /** Queued answers by command id: the task or page to quieten when the hub says ok. @type {Map<string, string>} */
  const afterHub = new Map();
  link.addEventListener('result', (e) => {
    const { entry } = /** @type {CustomEvent} */ (e).detail;
    const id = afterHub.get(entry.id);
    if (id === undefined) return;
    afterHub.delete(entry.id);
    store.silenceAbout(id);
  });
  // Refused: the alert stays, with its buttons usable again.
  link.addEventListener('cmd-error', (e) => afterHub.delete(/** @type {CustomEvent} */ (e).detail.entry.id));

  /**
   * Send an answer to an alert; quieten it now if the hub is reachable, else
   * once the hub has carried it out.
   * @param {string} id task or page
   * @param {import('./types.js').Command} cmd
   * @param {string} label
   */
  function answer(id, cmd, label) {
    const online = link.status === 'online';
    if (online) store.silenceAbout(id);
    const entry = link.send(cmd, label);
    if (!online) {
      afterHub.set(entry.id, id);
      store.changed();
    }
  }

  return {
    /** @param {TaskView} t */
    accept(t) {
      answer(t.id, { op: 'accept', task: t.id }, `Accept ${where(t)}`);
    },
    /** @param {TaskView} t */
    async decline(t) {
      const reason = await askText({
        title: `Decline ${where(t)}`,
        label: 'Reason (the nurse and coordinator see it)',
        submit: 'Decline',
        required: true,
        max: 500,
        suggestions: DECLINE_REASONS,
      });
      if (reason === null) return;
      answer(t.id, { op: 'decline', task: t.id, reason }, `Decline ${where(t)}`);
    },
    /** @param {TaskView} t */
    start(t) {
      link.send({ op: 'start', task: t.id }, `Start ${where(t)}`);
    },
    /** @param {TaskView} t */
    async complete(t) {
      const outcome = await askText({
        title: `Complete ${where(t)}`,
        label: 'Outcome note (optional)',
        submit: 'Complete',
        required: false,
        max: 500,
      });
      if (outcome === null) return;
      link.send({ op: 'complete', task: t.id, outcome }, `Complete ${where(t)}`);
    },
    /** @param {TaskView} t */
    async handBack(t) {
      const reason = await askText({
        title: `Hand back ${where(t)}`,
        label: 'Reason',
        submit: 'Hand back',
        required: true,
        max: 500,
        suggestions: HAND_BACK_REASONS,
      });
      if (reason === null) return;
      link.send({ op: 'hand_back', task: t.id, reason }, `Hand back ${where(t)}`);
    },
    /** @param {TaskView} t */
    async cancel(t) {
      const reason = await askText({
        title: `Cancel ${where(t)}`,
        label: 'Reason',
        submit: 'Cancel task',
        required: true,
        max: 500,
        suggestions: ['No longer needed', 'Raised in error', 'Done by the ward team'],
      });
      if (reason === null) return;
      link.send({ op: 'cancel', task: t.id, reason }, `Cancel ${where(t)}`);
    },
    /**
     * Acknowledge a page, with a one-tap reply the sender sees (a reply
     * acknowledges too).
     * @param {PageView} p @param {import('../types/PageReply').PageReply} [reply]
     */
    ackPage(p, reply) {
      if (!reply) return answer(p.id, { op: 'page_ack', page: p.id }, `Acknowledge page from ${p.from.name}`);
      answer(p.id, { op: 'page_ack', page: p.id, reply }, `Reply “${REPLY_LABEL[reply]}” to ${p.from.name}`);
    },
    /** @param {PageView} p */
    readPage(p) {
      link.send({ op: 'page_read', page: p.id }, `Read page from ${p.from.name}`);
    },
    /** Stop ringing for a non-emergency alert; the item stays in the lists. @param {string} key */
    silence(key) {
      store.silence(key);
    },
  };
}

/** @typedef {ReturnType<typeof createActions>} Actions */
