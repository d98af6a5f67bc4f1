// The device's copy of what the hub told this user: tasks and pages (whole
// views, newest `version` wins), the directory, and the cursor (highest event
// `seq` processed). It is persisted as one localStorage record so that the
// cursor never runs ahead of the state it describes: a reload resumes from
// exactly where the saved state ends. What a result or an event carries is
// read by the reducer both apps share (reduce.js); this store says how to
// keep each view, and adds what only a phone needs (notices, quiet alerts).

import { reduceEvent, reduceResult } from './reduce.js';
import { PRIORITIES as PRIORITY_ORDER } from './format.js';
import { escalationWords } from './escalation-words.js';
import { storageKey } from './base.js';

/** @typedef {import('./types.js').TaskView} TaskView */
/** @typedef {import('./types.js').PageView} PageView */
/** @typedef {import('./types.js').StaffView} StaffView */
/** @typedef {import('./types.js').WardView} WardView */
/** @typedef {import('./types.js').EventFrame} EventFrame */
/** @typedef {import('./types.js').CommandResult} CommandResult */
/** @typedef {import('./types.js').PatientView} PatientView */

/** Closed tasks and finished pages are kept this long for the "done" lists. */
const KEEP_CLOSED_MS = 12 * 3600 * 1000;

/**
 * @typedef {object} Persisted
 * @property {number} cursor
 * @property {TaskView[]} tasks
 * @property {PageView[]} pages
 * @property {StaffView | null} me
 * @property {{wards: WardView[], staff: StaffView[]} | null} directory
 * @property {string[]} quiet alert keys the user silenced or acted on
 * @property {Notice[]} notices
 * @property {[string, Escalation][]} escalations
 * @property {boolean} [needsSnapshot] a resync's snapshot is not whole yet
 * @property {number} [skew] hub clock minus ours when last measured, so a
 *   command queued offline after a reload still carries the hub's time
 * @property {PatientView[]} [patients] the patients of my wards as last
 *   heard, so the list is still there on a reload in a Wi-Fi not-spot
 * @property {[string, HandBack][]} [handBacks] why my tasks were handed back
 */

/** Who last handed back a task I raised, and why (from its timeline). @typedef {{by: string, reason: string, at: number}} HandBack */

/** A raiser is alerted loudly about these priorities only; the rest get a toast. */
const LOUD_FOR_RAISER = new Set(['emergency', 'urgent']);

/**
 * Something an event told us that the views alone cannot show later: that a
 * coordinator assigned me a task (the view does not say who chose the
 * assignee), or that the hub escalated a task or page to me, and why.
 * `state` is the task's or page's state when escalated: the alert stands
 * until that state moves on (someone acted) or I acknowledge it.
 * @typedef {{key: string, kind: 'assigned', task: string, by: string} |
 *   {key: string, kind: 'escalated', about: 'task' | 'page', id: string, level: number, reason: string, state: string} |
 *   {key: string, kind: 'raiser', task: string, why: 'no_one_accepted' | 'handed_back' | 'escalated', by: string | null, reason: string, state: string}} Notice
 *
 * A `raiser` notice is for the nurse who raised an urgent or emergency task
 * that nobody has taken in time (no one accepted, escalated) or that was
 * handed back: she must know, loudly, since the patient is still waiting.
 * Like an escalation, it stands while the task's state has not moved on.
 */

/** The latest escalation of a task or page, for the raiser's and sender's lists. @typedef {{level: number, reason: string, alerted: string[], at: number}} Escalation */

export class Store extends EventTarget {
  /** @param {string} owner login of the user this state belongs to */
  constructor(owner) {
    super();
    this.key = storageKey(`wardpage.state.${owner}`);
    this.cursor = 0;
    /** The hub's cursor at the last welcome: below it, a replay is catching up. */
    this.replayTo = 0;
    /** @type {Map<string, TaskView>} */
    this.tasks = new Map();
    /** @type {Map<string, PageView>} */
    this.pages = new Map();
    /** @type {StaffView | null} */
    this.me = null;
    /** @type {{wards: WardView[], staff: StaffView[]} | null} */
    this.directory = null;
    /** Alert keys not to ring for (silenced, or acted on while offline). @type {Set<string>} */
    this.quiet = new Set();
    /** @type {Notice[]} */
    this.notices = [];
    /** By task or page id. @type {Map<string, Escalation>} */
    this.escalations = new Map();
    /** Hub clock minus ours, so ages are right on a phone with a wrong clock. */
    this.skew = 0;
    /**
     * The hub said resync and not every part of the snapshot has arrived:
     * ask again (from the first part) at the next welcome, even after a reload.
     */
    this.needsSnapshot = false;
    /** By patient id; discharged ones are kept a while so an old view cannot bring them back. @type {Map<string, PatientView>} */
    this.patients = new Map();
    /**
     * Patients seen by a `patients` read still coming in parts, by ward
     * ('*' for every ward): at the last part the ones not seen (discharged
     * or moved while we were away) are dropped.
     * @type {Map<string, Set<string>>}
     */
    this.patientLoads = new Map();
    /** By task id: the latest hand-back of a task I raised. @type {Map<string, HandBack>} */
    this.handBacks = new Map();
    this.scheduled = false;
    this.load();
  }

  now() {
    return Date.now() + this.skew;
  }

  load() {
    try {
      const raw = localStorage.getItem(this.key);
      if (!raw) return;
      /** @type {Persisted} */
      const saved = JSON.parse(raw);
      this.cursor = saved.cursor;
      this.tasks = new Map(saved.tasks.map((t) => [t.id, t]));
      this.pages = new Map(saved.pages.map((p) => [p.id, p]));
      this.me = saved.me;
      this.directory = saved.directory;
      this.quiet = new Set(saved.quiet);
      this.notices = saved.notices ?? [];
      this.escalations = new Map(saved.escalations ?? []);
      this.skew = Number(saved.skew) || 0;
      this.needsSnapshot = saved.needsSnapshot === true;
      this.patients = new Map((saved.patients ?? []).map((p) => [p.id, p]));
      this.handBacks = new Map(saved.handBacks ?? []);
    } catch {
      this.reset(0);
    }
  }

  save() {
    this.prune();
    /** @type {Persisted} */
    const data = {
      cursor: this.cursor,
      tasks: [...this.tasks.values()],
      pages: [...this.pages.values()],
      me: this.me,
      directory: this.directory,
      quiet: [...this.quiet],
      notices: this.notices,
      escalations: [...this.escalations],
      skew: this.skew,
      needsSnapshot: this.needsSnapshot,
      patients: [...this.patients.values()],
      handBacks: [...this.handBacks],
    };
    localStorage.setItem(this.key, JSON.stringify(data));
  }

  /** Forget everything (hub said resync, or logout). @param {number} cursor */
  reset(cursor) {
    this.cursor = cursor;
    this.tasks.clear();
    this.pages.clear();
    this.quiet.clear();
    this.notices = [];
    this.escalations.clear();
    this.handBacks.clear();
    this.changed();
  }

  destroy() {
    localStorage.removeItem(this.key);
  }

  prune() {
    const cutoff = this.now() - KEEP_CLOSED_MS;
    this.notices = this.notices.filter((n) => !this.quiet.has(n.key) && this.knows(n));
    for (const [id, t] of this.tasks) {
      if (t.closed_at !== null && t.closed_at < cutoff) this.tasks.delete(id);
    }
    for (const [id, p] of this.pages) {
      if (p.state !== 'open' && p.sent_at < cutoff) this.pages.delete(id);
    }
    for (const [id, p] of this.patients) {
      if (p.discharged_at !== null && p.discharged_at < cutoff) this.patients.delete(id);
    }
    for (const id of this.escalations.keys()) {
      if (!this.tasks.has(id) && !this.pages.has(id)) this.escalations.delete(id);
    }
    for (const id of this.handBacks.keys()) {
      if (!this.tasks.has(id)) this.handBacks.delete(id);
    }
  }

  /** Whether the task or page a notice is about is still held. @param {Notice} n */
  knows(n) {
    if (n.kind === 'assigned' || n.kind === 'raiser') return this.tasks.has(n.task);
    return n.about === 'task' ? this.tasks.has(n.id) : this.pages.has(n.id);
  }

  /**
   * Apply an event frame unless it was already processed (delivery is at
   * least once; a replay after reconnect may repeat events).
   * @param {EventFrame} frame
   * @returns {boolean} whether it was new
   */
  applyEvent(frame) {
    if (frame.seq <= this.cursor) return false;
    this.cursor = frame.seq;
    const ev = frame.event;
    if (ev.kind === 'task') {
      // A re-offer must ring again even if the first offer was silenced.
      if (ev.change === 'handed_back' || ev.change === 'raised') this.quiet.delete(`offer:${ev.task.id}`);
      const me = this.me?.id;
      if ((ev.change === 'no_one_accepted' || ev.change === 'handed_back') && ev.by?.id !== me) {
        this.forRaiser(ev.task, ev.change, ev.by?.name ?? null, '');
      }
    } else if (ev.kind === 'patient' && ev.change === 'observations_overdue') {
      this.quiet.delete(overdueKey(ev.patient));
    }
    reduceEvent(this, frame);
    this.changed();
    return true;
  }

  /** @param {CommandResult} result */
  applyResult(result) {
    reduceResult(this, result);
    this.changed();
  }

  /**
   * Someone's role tonight (their shift's, else their grade), if the
   * directory knows them.
   * @param {string} id
   * @returns {import('./types.js').Role | undefined}
   */
  roleOf(id) {
    const s = this.directory?.staff.find((p) => p.id === id);
    return s?.shift?.role ?? s?.role;
  }

  /**
   * The raiser's and sender's lists say why it escalated; an alert rings
   * for me if I am among those alerted.
   * @param {import('./reduce.js').Escalated} ev @param {number} at
   */
  escalated(ev, at) {
    const about = ev.kind === 'task_escalated' ? 'task' : 'page';
    const view = ev.kind === 'task_escalated' ? ev.task : ev.page;
    // In the words a tired nurse reads, not the ladder's account of its steps.
    const reason = escalationWords(ev, at, (id) => this.roleOf(id));
    this.escalations.set(view.id, { level: ev.level, reason, alerted: ev.alerted.map((s) => s.name), at });
    if (ev.alerted.some((s) => s.id === this.me?.id)) {
      this.notices.push({ key: `escalated:${view.id}:${ev.level}`, kind: 'escalated', about, id: view.id, level: ev.level, reason, state: view.state });
    } else if (ev.kind === 'task_escalated') {
      this.forRaiser(ev.task, 'escalated', null, reason);
    }
  }

  /**
   * Ring for the raiser of an urgent or emergency task that is still waiting.
   * @param {TaskView} task
   * @param {'no_one_accepted' | 'handed_back' | 'escalated'} why
   * @param {string | null} by
   * @param {string} reason
   */
  forRaiser(task, why, by, reason) {
    if (task.raised_by.id !== this.me?.id || !LOUD_FOR_RAISER.has(task.priority)) return;
    // The hub escalates a task nobody took right after saying so: one alert
    // (the first cause, with the escalation's reason), not a second ring.
    const ringing = this.notices.find((n) => n.kind === 'raiser' && n.task === task.id && n.state === task.state && !this.quiet.has(n.key));
    if (ringing && ringing.kind === 'raiser') {
      if (reason) ringing.reason = reason;
      return;
    }
    this.notices.push({ key: `raiser:${task.id}:${task.version}`, kind: 'raiser', task: task.id, why, by, reason, state: task.state });
  }

  /** @param {string} task @param {HandBack} handBack */
  putHandBack(task, handBack) {
    this.handBacks.set(task, handBack);
    this.changed();
    this.save();
  }

  /** @param {WardView[]} wards @param {StaffView[]} staff */
  putDirectory(wards, staff) {
    this.directory = { wards, staff };
  }

  /** Only my own shift matters here (the directory is read again at each welcome). @param {string} staff @param {import('./types.js').ShiftView | null} shift */
  putShift(staff, shift) {
    if (this.me && staff === this.me.id) this.me = { ...this.me, shift };
  }

  /** @param {StaffView} me */
  setMe(me) {
    this.me = me;
    this.changed();
  }

  /** Never replace a view with an older one. @param {TaskView} task */
  putTask(task) {
    const held = this.tasks.get(task.id);
    if (!held || held.version < task.version) this.tasks.set(task.id, task);
  }

  /** @param {PatientView} patient */
  putPatient(patient) {
    const held = this.patients.get(patient.id);
    if (!held || held.version < patient.version) this.patients.set(patient.id, patient);
    for (const seen of this.patientLoads.values()) seen.add(patient.id);
  }

  /** A `patients` read for `ward` ('*': every ward) starts. @param {string} ward */
  beginPatients(ward) {
    this.patientLoads.set(ward, new Set());
  }

  /**
   * Its last part arrived: whoever was not in it has left the ward (or the
   * hub no longer lets me see them) while this phone was not listening.
   * @param {string} ward
   */
  endPatients(ward) {
    const seen = this.patientLoads.get(ward);
    this.patientLoads.delete(ward);
    if (!seen) return;
    for (const [id, p] of this.patients) {
      if ((ward === '*' || p.ward === ward) && !seen.has(id)) this.patients.delete(id);
    }
    this.changed();
    this.save();
  }

  /** Admitted patients on `ward`, in bed order. @param {string} ward */
  patientsOn(ward) {
    return [...this.patients.values()].filter((p) => p.ward === ward && p.discharged_at === null).sort((a, b) => bedOrder(a.bed, b.bed));
  }

  /** @param {PageView} page */
  putPage(page) {
    const held = this.pages.get(page.id);
    if (!held || held.version < page.version) this.pages.set(page.id, page);
  }

  /**
   * Stop every alert about one task or page (its offer, page, escalations):
   * used when the user has answered it.
   * @param {string} id
   */
  silenceAbout(id) {
    this.quiet.add(`offer:${id}`);
    this.quiet.add(`page:${id}`);
    const assigned = this.assignedKey(id);
    if (assigned) this.quiet.add(assigned);
    for (const n of this.notices) {
      if ((n.kind === 'escalated' && n.id === id) || ((n.kind === 'assigned' || n.kind === 'raiser') && n.task === id)) this.quiet.add(n.key);
    }
    this.changed();
    this.save();
  }

  /**
   * Let a task's or page's alerts ring again: the user's answer to it was
   * not carried out (see Link `not-sent`).
   * @param {string} id
   */
  unsilenceAbout(id) {
    this.quiet.delete(`offer:${id}`);
    this.quiet.delete(`page:${id}`);
    const assigned = this.assignedKey(id);
    if (assigned) this.quiet.delete(assigned);
    this.changed();
    this.save();
  }

  /**
   * The alert key of a task's assignment waiting for acknowledgement (one
   * per assignment: a new one rings afresh), or null.
   * @param {string} id
   */
  assignedKey(id) {
    const t = this.tasks.get(id);
    return t && t.state === 'assigned' ? `assigned:${id}:${t.assigned_at ?? t.version}` : null;
  }

  /** @param {string} key */
  silence(key) {
    this.quiet.add(key);
    this.changed();
    this.save();
  }

  /** Coalesce the many changes of a replay into one re-render. */
  changed() {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.dispatchEvent(new Event('change'));
    });
  }

  // Queries the views share.

  /** Tasks offered to me (still open to me), assigned to me, accepted or started by me. */
  myWork() {
    const me = this.me?.id;
    return [...this.tasks.values()].filter(
      (t) =>
        (t.state === 'offering' && t.offers.some((o) => o.staff.id === me && o.state === 'offered')) ||
        ((t.state === 'assigned' || t.state === 'accepted' || t.state === 'started') && t.assignee?.id === me),
    );
  }

  /**
   * Tasks I raised: the most urgent first, and within a priority the one
   * whose target (accept-by while waiting, complete-by once taken) passed
   * longest ago; closed ones newest first (the view splits them).
   */
  raisedByMe() {
    const me = this.me?.id;
    /** @param {TaskView} t */
    const due = (t) => (t.state === 'offering' || t.state === 'no_one_accepted' ? t.accept_by : t.complete_by);
    /** @param {TaskView} t */
    const open = (t) => t.closed_at === null;
    return [...this.tasks.values()]
      .filter((t) => t.raised_by.id === me)
      .sort((a, b) => {
        if (open(a) !== open(b)) return open(a) ? -1 : 1;
        if (!open(a)) return b.raised_at - a.raised_at;
        return PRIORITY_ORDER.indexOf(a.priority) - PRIORITY_ORDER.indexOf(b.priority) || due(a) - due(b) || b.raised_at - a.raised_at;
      });
  }

  /** Pages addressed to me, newest first. */
  pagesToMe() {
    const me = this.me?.id;
    return [...this.pages.values()]
      .filter((p) => p.recipients.some((r) => r.staff.id === me))
      .sort((a, b) => b.sent_at - a.sent_at);
  }

  /** Pages I sent, newest first. */
  pagesFromMe() {
    const me = this.me?.id;
    return [...this.pages.values()].filter((p) => p.from.id === me).sort((a, b) => b.sent_at - a.sent_at);
  }
}

/** Beds as people count them: "2" before "10", "SR1" after "12". @param {string} a @param {string} b */
export function bedOrder(a, b) {
  return a.localeCompare(b, 'en', { numeric: true });
}

/**
 * The alert key of a patient's overdue observations: one per due time, so
 * "Later" quietens this lapse and the next one rings again.
 * @param {PatientView} p
 */
export function overdueKey(p) {
  return `overdue:${p.id}:${p.obs_due_at ?? 0}`;
}
