// What the coordinator's screen knows: every open task and page (whole views,
// the newest `version` wins), the wards and staff from `directory` kept live by
// `shift` events and `presence` frames, and a feed of escalations as they
// happen. Changes are collected and announced once per animation frame with
// the ids that changed, so the views update only what changed instead of
// re-rendering the board on every event. Patients are kept the same way: by
// id, the newest `version` winning, a discharged patient leaving the list.
// What a result or an event carries is read by the reducer both apps share
// (../js/reduce.js); this state says how to keep each view and adds what
// only the coordinator's screen shows (the feed, who acted last, notices).

import { reduceEvent, reduceResult } from '../js/reduce.js';
import { escalationWords } from '../js/escalation-words.js';

/** @typedef {import('../js/types.js').TaskView} TaskView */
/** @typedef {import('../js/types.js').PageView} PageView */
/** @typedef {import('../js/types.js').StaffView} StaffView */
/** @typedef {import('../js/types.js').WardView} WardView */
/** @typedef {import('../js/types.js').EventFrame} EventFrame */
/** @typedef {import('../js/types.js').CommandResult} CommandResult */
/** @typedef {import('./link.js').PresenceFrame} PresenceFrame */
/** @typedef {import('../types/PatientView').PatientView} PatientView */
/** @typedef {{offered: number, assigned: number, accepted: number, started: number, waiting: TaskView[]}} Workload open offers waiting on a person, the assignments they have not acknowledged (`waiting`, oldest first), and the tasks they hold */

/**
 * One line of the escalations feed.
 * @typedef {{key: string, at: number, about: 'task' | 'page', id: string, level: number, reason: string, words: string, alerted: string[], priority: import('../js/types.js').Priority}} FeedItem
 */

/**
 * A shift that ended while its person held work: what was offered again
 * and which pages to them were unanswered.
 * @typedef {{key: string, at: number, staff: import('../js/types.js').StaffRef, reason: string, tasks: TaskView[], pages: PageView[]}} ShiftEnd
 */

/**
 * A completion done offline on a task someone else held (`holder`; null:
 * it was on offer again): `ahead` is how long before the hub heard it was
 * done, in the hub's words ("14 min").
 * @typedef {{key: string, at: number, task: TaskView, by: import('../js/types.js').StaffRef, holder: import('../js/types.js').StaffRef | null, ahead: string | null}} DoneOffline
 */

/**
 * What changed since the last announcement. `notice`: a line for screen
 * readers (a review rescored, a patient moved, observations overdue).
 * `patientsRead`: the last part of a `patients` read arrived.
 * @typedef {{tasks: Set<string>, patients: Set<string>, patientsRead: boolean, reset: boolean, pages: boolean, staff: boolean, feed: boolean, notice: string | null}} Changes
 */

const FEED_MAX = 200;
const OPEN_TASK = new Set(['offering', 'no_one_accepted', 'assigned', 'accepted', 'started']);

/** @param {TaskView} t */
export function isOpenTask(t) {
  return OPEN_TASK.has(t.state);
}

/** How many answered pages the side column keeps. */
const ANSWERED_KEPT = 20;

export class DashState extends EventTarget {
  constructor() {
    super();
    /** Open tasks. @type {Map<string, TaskView>} */
    this.tasks = new Map();
    /**
     * Versions of tasks seen closing, so that a snapshot answered just before
     * the close (but read after it) cannot bring them back.
     * @type {Map<string, number>}
     */
    this.closed = new Map();
    /** Pages still waiting for an acknowledgement. @type {Map<string, PageView>} */
    this.pages = new Map();
    /** Pages answered since this screen opened, with their replies, newest last (bounded). @type {Map<string, PageView>} */
    this.answered = new Map();
    /** The last views of recently closed tasks, for an open dialog and the metrics (bounded). @type {Map<string, TaskView>} */
    this.closedViews = new Map();
    /** @type {Map<string, StaffView>} */
    this.staff = new Map();
    /** @type {WardView[]} */
    this.wards = [];
    /** Admitted patients, by id. @type {Map<string, PatientView>} */
    this.patients = new Map();
    /**
     * Versions of patients seen leaving (discharged), so that a `patients`
     * part answered before the discharge cannot bring them back.
     * @type {Map<string, number>}
     */
    this.discharged = new Map();
    /** Whether the patients have been read since the last reset. */
    this.patientsLoaded = false;
    /** Newest first. @type {FeedItem[]} */
    this.feed = [];
    /** Shifts that ended holding work (`held_at_shift_end`), newest first. @type {ShiftEnd[]} */
    this.shiftEnds = [];
    /** Completions done offline by a former holder while someone else held the task, newest first. @type {DoneOffline[]} */
    this.doneOffline = [];
    /** When each member of staff last changed something: the hub's `last_action_at`, then the events' `by`. @type {Map<string, number>} */
    this.lastAction = new Map();
    /** @type {Changes} */
    this.pending = emptyChanges();
    this.scheduled = false;
    /** Set to false to apply changes synchronously with `flush()` (measurements). */
    this.autoFlush = true;
  }

  /** Forget everything (a resync or a new session). */
  reset() {
    this.tasks.clear();
    this.closed.clear();
    this.pages.clear();
    this.answered.clear();
    this.patients.clear();
    this.discharged.clear();
    this.patientsLoaded = false;
    this.feed = [];
    this.shiftEnds = [];
    this.doneOffline = [];
    this.pending.reset = true;
    this.schedule();
  }

  /** @param {EventFrame} frame */
  applyEvent(frame) {
    const ev = frame.event;
    // Read before the reducer replaces the view: who held it until now.
    if (ev.kind === 'task' && ev.change === 'completed') this.noteDoneOffline(ev, frame.at);
    reduceEvent(this, frame);
    switch (ev.kind) {
      case 'task':
        if (ev.by) this.touch(ev.by.id, frame.at);
        if (ev.change === 'rescored' || ev.change === 'moved') this.noticeTask(ev.change, ev.task);
        break;
      case 'patient':
        if (ev.by) this.touch(ev.by.id, frame.at);
        if (ev.change === 'observations_overdue') {
          this.notice(`Observations overdue: ${this.wardName(ev.patient.ward)} bed ${ev.patient.bed}, ${ev.patient.details.name}`);
        }
        break;
      case 'page':
      case 'shift':
        // A shift event's `by`: the person who set busy, or the coordinator who changed the roster.
        if (ev.by) this.touch(ev.by.id, frame.at);
        break;
      case 'held_at_shift_end':
        this.shiftEnds.unshift({ key: `s:${ev.staff.id}:${frame.seq}`, at: frame.at, staff: ev.staff, reason: ev.reason, tasks: ev.tasks, pages: ev.pages });
        if (this.shiftEnds.length > FEED_MAX) this.shiftEnds.length = FEED_MAX;
        this.pending.feed = true;
        this.schedule();
        break;
    }
  }

  /**
   * A `completed` by someone other than the task's holder: a former holder
   * telling the hub she did it offline (`complete_offline`) after it was
   * given to someone else. The coordinator must hear it plainly, not only
   * in the task's timeline: two people were sent to one job.
   * @param {{task: TaskView, by?: import('../js/types.js').StaffRef | null}} ev @param {number} at
   */
  noteDoneOffline(ev, at) {
    const held = this.tasks.get(ev.task.id);
    const by = ev.by ?? ev.task.assignee;
    // Only a holder may `complete`; anyone else completing it did so offline.
    if (!held || !by || held.assignee?.id === by.id) return;
    const holder = held.assignee;
    // "... while offline, 14 min before the hub heard; ..." in the closing note.
    const ahead = /while offline, (.+?) before the hub heard/.exec(ev.task.closing_note ?? '')?.[1] ?? null;
    this.doneOffline.unshift({ key: `o:${ev.task.id}`, at, task: ev.task, by, holder, ahead });
    if (this.doneOffline.length > FEED_MAX) this.doneOffline.length = FEED_MAX;
    this.pending.feed = true;
    this.schedule();
  }

  /** @param {CommandResult} result */
  applyResult(result) {
    reduceResult(this, result);
  }

  /** A line in the escalations feed. @param {import('../js/reduce.js').Escalated} ev @param {number} at */
  escalated(ev, at) {
    const about = ev.kind === 'task_escalated' ? 'task' : 'page';
    const view = ev.kind === 'task_escalated' ? ev.task : ev.page;
    const words = escalationWords(ev, at, (id) => {
      const s = this.staff.get(id);
      return s ? s.shift?.role ?? s.role : undefined;
    });
    this.addFeed({ key: `${about[0]}:${view.id}:${ev.level}`, at, about, id: view.id, level: ev.level, reason: ev.reason, words, alerted: ev.alerted.map((s) => s.name), priority: view.priority });
  }

  /** @param {WardView[]} wards @param {StaffView[]} staff */
  putDirectory(wards, staff) {
    this.wards = wards;
    this.staff = new Map(staff.map((s) => [s.id, s]));
    // The hub remembers everyone's last change (`last_action_at`), also
    // those this screen did not see: a completion or a decline before a
    // reload leaves no trace in the open tasks of a snapshot.
    for (const s of staff) if (s.last_action_at !== null) this.touch(s.id, s.last_action_at);
    this.pending.staff = true;
    this.schedule();
  }

  /** @param {string} staff @param {import('../js/types.js').ShiftView | null} shift */
  putShift(staff, shift) {
    const held = this.staff.get(staff);
    if (held) this.staff.set(held.id, { ...held, shift });
    this.pending.staff = true;
    this.schedule();
  }

  /** @param {PresenceFrame} frame */
  applyPresence(frame) {
    const held = this.staff.get(frame.staff);
    if (!held) return;
    this.staff.set(held.id, { ...held, connected: frame.connected, last_seen_at: frame.at });
    this.pending.staff = true;
    this.schedule();
  }

  /** Never replace a view with an older one; closed tasks leave the board. @param {TaskView} task */
  putTask(task) {
    const held = this.tasks.get(task.id);
    const closedAt = this.closed.get(task.id);
    if (held && held.version >= task.version) return;
    if (closedAt !== undefined && closedAt >= task.version) return;
    if (isOpenTask(task)) {
      this.tasks.set(task.id, task);
    } else {
      this.tasks.delete(task.id);
      this.closed.set(task.id, task.version);
      this.closedViews.set(task.id, task);
      if (this.closedViews.size > 500) this.closedViews.delete(/** @type {string} */ (this.closedViews.keys().next().value));
    }
    // Only what the view says its person did: the raise. The assignee's
    // times are not theirs to claim (an assignment is the coordinator's
    // act, a handover keeps the first holder's accept); events name who
    // acted (`by`) and the directory has the hub's own record.
    this.touch(task.raised_by.id, task.raised_at);
    this.pending.tasks.add(task.id);
    this.schedule();
  }

  /** Never replace a view with an older one; a discharged patient leaves. @param {PatientView} p */
  putPatient(p) {
    const held = this.patients.get(p.id);
    if (held && held.version >= p.version) return;
    const gone = this.discharged.get(p.id);
    if (gone !== undefined && gone >= p.version) return;
    if (p.discharged_at === null) {
      this.patients.set(p.id, p);
    } else {
      this.patients.delete(p.id);
      this.discharged.set(p.id, p.version);
    }
    this.pending.patients.add(p.id);
    this.schedule();
  }

  /** Every part of the `patients` read arrived (the panels stop saying "loading"). */
  patientsDone() {
    this.patientsLoaded = true;
    this.pending.patientsRead = true;
    this.schedule();
  }

  /** The patient in a bed, if any. @param {string} ward @param {string} bed */
  patientIn(ward, bed) {
    for (const p of this.patients.values()) if (p.ward === ward && p.bed === bed) return p;
    return undefined;
  }

  /** @param {'rescored' | 'moved'} change @param {TaskView} t */
  noticeTask(change, t) {
    const who = t.patient_ref ? `, ${t.patient_ref.name}` : '';
    const where = `${this.wardName(t.ward)} bed ${t.bed}${who}`;
    this.notice(change === 'moved' ? `Task moved with its patient: now ${where}` : `Review rescored, ${where}: ${t.review?.summary ?? 'new score'}`);
  }

  /** @param {string} text */
  notice(text) {
    this.pending.notice = text;
    this.schedule();
  }

  /** @param {PageView} page */
  putPage(page) {
    const held = this.pages.get(page.id) ?? this.answered.get(page.id);
    if (held && held.version >= page.version) return;
    if (page.state === 'open') this.pages.set(page.id, page);
    else this.pages.delete(page.id);
    if (page.state === 'acknowledged') {
      // Kept for the replies ("Dr Khan: On my way"): moved to the end, the oldest dropped.
      this.answered.delete(page.id);
      this.answered.set(page.id, page);
      for (const id of this.answered.keys()) if (this.answered.size > ANSWERED_KEPT) this.answered.delete(id);
    }
    this.touch(page.from.id, page.sent_at);
    for (const r of page.recipients) if (r.acked_at !== null) this.touch(r.staff.id, r.acked_at);
    this.pending.pages = true;
    this.schedule();
  }

  /** @param {FeedItem} item */
  addFeed(item) {
    if (this.feed.some((f) => f.key === item.key)) return;
    this.feed.unshift(item);
    if (this.feed.length > FEED_MAX) this.feed.length = FEED_MAX;
    this.pending.feed = true;
    this.schedule();
  }

  /** @param {string} staff @param {number} at */
  touch(staff, at) {
    if (!at) return;
    const held = this.lastAction.get(staff) ?? 0;
    if (at > held) this.lastAction.set(staff, at);
  }

  /**
   * Open offers, accepted and started counts per member of staff (their
   * current load).
   * @returns {Map<string, Workload>}
   */
  workload() {
    /** @type {Map<string, Workload>} */
    const load = new Map();
    const of = (/** @type {string} */ id) => {
      const l = load.get(id) ?? { offered: 0, assigned: 0, accepted: 0, started: 0, waiting: [] };
      load.set(id, l);
      return l;
    };
    for (const t of this.tasks.values()) {
      // An offer still open is work waiting on that person's phone: a
      // doctor with 20 of them is as stretched as one holding 5.
      if (t.state === 'offering' || t.state === 'no_one_accepted') {
        for (const o of t.offers) if (o.state === 'offered') of(o.staff.id).offered += 1;
        continue;
      }
      if (!t.assignee) continue;
      if (t.state === 'started') of(t.assignee.id).started += 1;
      else if (t.state === 'accepted') of(t.assignee.id).accepted += 1;
      else if (t.state === 'assigned') {
        const l = of(t.assignee.id);
        l.assigned += 1;
        l.waiting.push(t);
      }
    }
    for (const l of load.values()) l.waiting.sort((a, b) => (a.assigned_at ?? 0) - (b.assigned_at ?? 0));
    return load;
  }

  /** @param {string} id */
  wardName(id) {
    return this.wards.find((w) => w.id === id)?.name ?? id;
  }

  schedule() {
    if (this.scheduled || !this.autoFlush) return;
    this.scheduled = true;
    // One announcement per frame however many events arrived; the timeout
    // covers a tab the browser is not painting.
    const run = () => {
      if (!this.scheduled) return;
      this.flush();
    };
    requestAnimationFrame(run);
    setTimeout(run, 250);
  }

  /** Announce what changed since the last call. */
  flush() {
    this.scheduled = false;
    const changes = this.pending;
    this.pending = emptyChanges();
    this.dispatchEvent(new CustomEvent('change', { detail: changes }));
  }
}

/** @returns {Changes} */
function emptyChanges() {
  return { tasks: new Set(), patients: new Set(), patientsRead: false, reset: false, pages: false, staff: false, feed: false, notice: null };
}
