// Which things must take over the screen, and the controller that rings for
// them. An alert is derived from state (an offer still open to me, a page to me
// not yet acknowledged, an assignment I have not seen) rather than from single
// events (an assignment rings until it is acknowledged or declined, as an
// offer rings until it is answered), so a replay after a reconnect, a
// snapshot after a resync or a reload
// all ring for exactly what is still outstanding, and an alert stops by itself
// when someone else takes the task. An escalation to me is one more kind,
// shown by the same overlay with the hub's reason; it stands in for the plain
// offer or page alert of the same task or page. The nurse who raised an
// urgent or emergency task that nobody took in time, or that was handed
// back, is rung the same way (`raiser`): the patient is still waiting.
// While its user is busy ("In resus", `views/busy.js`) only emergencies
// ring; everything else is held back, quietly, and counted on the busy
// banner (`AlertController.held`). Since alerts are derived from state,
// ending busy (or its time running out) rings for whatever is still waiting.

import { priorityRank, taskPlace } from './format.js';
import * as sound from './sound.js';
import { vibrate, stopVibrating, notify } from './device.js';
import { overdueKey } from './store.js';
import { nhsFormat, takesObservations } from './clinical.js';
import { wardNamer } from './views/context.js';

/** @typedef {import('./types.js').TaskView} TaskView */
/** @typedef {import('./types.js').PageView} PageView */
/** @typedef {import('./types.js').Priority} Priority */
/** @typedef {import('./types.js').PatientView} PatientView */
/** @typedef {import('./store.js').Store} Store */

/**
 * @typedef {{key: string, priority: Priority, since: number} & (
 *   {kind: 'offer', task: TaskView} |
 *   {kind: 'assigned', task: TaskView, by: string} |
 *   {kind: 'page', page: PageView} |
 *   {kind: 'task-escalated', task: TaskView, level: number, reason: string, offered: boolean} |
 *   {kind: 'raiser', task: TaskView, why: 'no_one_accepted' | 'handed_back' | 'escalated', by: string | null, reason: string} |
 *   {kind: 'page-escalated', page: PageView, level: number, reason: string, recipient: boolean} |
 *   {kind: 'obs-overdue', patients: PatientView[], keys: string[]}
 * )} AlertItem
 */

/**
 * Everything that should be ringing now, most important first.
 * @param {Store} store
 * @returns {AlertItem[]}
 */
export function wantedAlerts(store) {
  const me = store.me?.id;
  if (!me) return [];
  /** @param {TaskView} t */
  const offeredToMe = (t) => t.state === 'offering' && t.offers.some((o) => o.staff.id === me && o.state === 'offered');
  /** An assignment to me I have not acknowledged. @param {TaskView} t */
  const awaitsMe = (t) => t.state === 'assigned' && t.assignee?.id === me;
  /** @param {PageView} p */
  const awaitsMyAck = (p) => p.state === 'open' && p.recipients.some((r) => r.staff.id === me && r.acked_at === null);
  /** @type {AlertItem[]} */
  const items = [];
  /** Tasks and pages already ringing as an escalation. @type {Set<string>} */
  const escalated = new Set();
  // Newest escalation first, so a second level replaces the first on screen.
  for (const notice of [...store.notices].reverse()) {
    if (notice.kind !== 'escalated' || store.quiet.has(notice.key) || escalated.has(notice.id)) continue;
    if (notice.about === 'task') {
      const task = store.tasks.get(notice.id);
      // Nothing has moved since the hub escalated: it still needs someone.
      if (!task || task.state !== notice.state) continue;
      escalated.add(task.id);
      items.push({ key: notice.key, kind: 'task-escalated', priority: task.priority, since: task.updated_at, task, level: notice.level, reason: notice.reason, offered: offeredToMe(task) || awaitsMe(task) });
    } else {
      const page = store.pages.get(notice.id);
      if (!page || page.state !== 'open') continue;
      escalated.add(page.id);
      items.push({ key: notice.key, kind: 'page-escalated', priority: page.priority, since: page.sent_at, page, level: notice.level, reason: notice.reason, recipient: awaitsMyAck(page) });
    }
  }
  for (const task of store.tasks.values()) {
    const key = `offer:${task.id}`;
    if (offeredToMe(task) && !escalated.has(task.id) && !store.quiet.has(key)) items.push({ key, kind: 'offer', priority: task.priority, since: task.updated_at, task });
  }
  /** Raiser alerts already listed, by task (the newest notice stands for the task). @type {Set<string>} */
  const forRaiser = new Set();
  for (const notice of [...store.notices].reverse()) {
    if (notice.kind !== 'raiser' || forRaiser.has(notice.task)) continue;
    const task = store.tasks.get(notice.task);
    // Someone has acted since (accepted, cancelled): no longer news.
    if (!task || task.state !== notice.state) continue;
    forRaiser.add(task.id);
    if (store.quiet.has(notice.key)) continue;
    const back = store.handBacks.get(task.id);
    const reason = notice.why === 'handed_back' && back ? back.reason : notice.reason;
    items.push({ key: notice.key, kind: 'raiser', priority: task.priority, since: task.updated_at, task, why: notice.why, by: notice.by, reason });
  }
  // An assignment rings, as an offer does, until she acknowledges or
  // declines it (on this device or another): the hub counts it as hers
  // only once she says yes.
  for (const task of store.tasks.values()) {
    const key = store.assignedKey(task.id);
    if (key && awaitsMe(task) && !escalated.has(task.id) && !store.quiet.has(key)) {
      items.push({ key, kind: 'assigned', priority: task.priority, since: task.assigned_at ?? task.updated_at, task, by: task.assigned_by?.name ?? 'a coordinator' });
    }
  }
  for (const page of store.pages.values()) {
    const key = `page:${page.id}`;
    if (awaitsMyAck(page) && !escalated.has(page.id) && !store.quiet.has(key)) {
      items.push({ key, kind: 'page', priority: page.priority, since: page.sent_at, page });
    }
  }
  // Patients whose next set is overdue: the ward's nurses are asked to take
  // them, more insistently when a last score was already worrying. One alert
  // for all of them, so a nurse coming on shift to a ward of overdue sets
  // taps "Later" once, not once a bed.
  if (takesObservations(store.me)) {
    const wards = store.me?.shift?.wards ?? [];
    const due = [...store.patients.values()]
      .filter((p) => p.obs_overdue && p.discharged_at === null && wards.includes(p.ward) && !store.quiet.has(overdueKey(p)))
      .sort((a, b) => (a.obs_due_at ?? 0) - (b.obs_due_at ?? 0));
    if (due.length) {
      const keys = due.map(overdueKey);
      const worrying = due.some((p) => p.latest?.score.band === 'high' || p.latest?.score.band === 'medium');
      items.push({ key: keys.join('|'), kind: 'obs-overdue', priority: worrying ? 'urgent' : 'soon', since: due[0].obs_due_at ?? due[0].updated_at, patients: due, keys });
    }
  }
  return items.sort((a, b) => priorityRank(a.priority) - priorityRank(b.priority) || a.since - b.since);
}

/**
 * Busy: which alerts still ring (emergencies) and which wait quietly.
 * @param {AlertItem[]} items @param {boolean} busy
 * @returns {{ring: AlertItem[], held: AlertItem[]}}
 */
export function holdBack(items, busy) {
  if (!busy) return { ring: items, held: [] };
  return { ring: items.filter((i) => i.priority === 'emergency'), held: items.filter((i) => i.priority !== 'emergency') };
}

/**
 * A system notification's words, with the ward as the hospital writes it.
 * @param {AlertItem} item @param {(id: string) => string} [wardName]
 */
export function describe(item, wardName = (id) => id) {
  switch (item.kind) {
    case 'page':
      return { title: `Page from ${item.page.from.name}`, body: `${item.page.message} — call ${item.page.callback}`.trim() };
    case 'page-escalated':
      return { title: `Escalated page from ${item.page.from.name}`, body: `${item.reason} — call ${item.page.callback}` };
    case 'task-escalated':
      return { title: `Escalated: ${taskPlace(item.task, wardName)}`, body: item.reason };
    case 'offer':
      return { title: `New task: ${taskPlace(item.task, wardName)}`, body: item.task.sbar.situation };
    case 'raiser':
      return { title: `${raiserHeadline(item)}: ${taskPlace(item.task, wardName)}`, body: item.reason || item.task.sbar.situation };
    case 'assigned':
      return { title: `Assigned to you by ${item.by}: ${taskPlace(item.task, wardName)}`, body: `${item.task.sbar.situation} — acknowledge it or decline` };
    case 'obs-overdue':
      return {
        title: `Observations overdue: ${item.patients.length === 1 ? `${wardName(item.patients[0].ward)} bed ${item.patients[0].bed}` : `${item.patients.length} patients`}`,
        body: item.patients.map((p) => `Bed ${p.bed} ${p.details.name} ${nhsFormat(p.details.nhs_number)}`.trim()).join('; '),
      };
  }
}

/**
 * What happened to the raiser's task, in her words.
 * @param {Extract<AlertItem, {kind: 'raiser'}>} item
 */
export function raiserHeadline(item) {
  switch (item.why) {
    case 'no_one_accepted':
      return 'No one accepted your task';
    case 'handed_back':
      return `Your task was handed back${item.by ? ` by ${item.by}` : ''}`;
    case 'escalated':
      return 'Your task was not accepted in time';
  }
}

/**
 * @typedef {object} Overlay
 * @property {(item: AlertItem, count: number, keys?: string[]) => boolean} show
 *   false: not on screen (she chose to look at the list): nothing rings
 * @property {() => void} hide
 */

export class AlertController {
  /**
   * @param {{store: Store, overlay: Overlay, markRead: (page: PageView) => void, answered?: (id: string) => boolean, busy?: () => boolean}} deps
   *   `answered`: whether an answer to this task or page is queued for the hub;
   *   `busy`: whether its user is busy now (only emergencies ring)
   */
  constructor({ store, overlay, markRead, answered = () => false, busy = () => false }) {
    this.store = store;
    this.busy = busy;
    /** What busy holds back now, most important first. @type {AlertItem[]} */
    this.held = [];
    this.answered = answered;
    this.overlay = overlay;
    this.markRead = markRead;
    /** Keys already announced by a system notification. @type {Set<string>} */
    this.notified = new Set();
    /** Pages we already told the hub we showed. @type {Set<string>} */
    this.readSent = new Set();
    /** @type {AlertItem | null} */
    this.current = null;
    document.addEventListener('visibilitychange', () => this.update());
  }

  update() {
    // Catching up on a replay: ring for what is still outstanding once it
    // is all in, not for each offer on the way (taken long ago, perhaps).
    const all = this.store.cursor < this.store.replayTo ? [] : wantedAlerts(this.store);
    const { ring: items, held } = holdBack(all, this.busy());
    this.held = held;
    const top = items[0] ?? null;
    this.current = top;
    if (!top) {
      this.overlay.hide();
      sound.stop();
      stopVibrating();
      return;
    }
    if (!this.overlay.show(top, items.length, items.map((i) => i.key))) {
      sound.stop();
      stopVibrating();
      return;
    }
    const id = 'page' in top ? top.page.id : 'task' in top ? top.task.id : null;
    if (id !== null && this.answered(id)) {
      // Answered, waiting for the hub: shown as queued, no longer ringing.
      sound.stop();
      stopVibrating();
    } else {
      sound.play(top.priority);
      vibrate(top.priority);
    }
    const visible = document.visibilityState === 'visible';
    // A notification cannot be reworded once shown: before the directory
    // (a fresh login) it would say `W7`, so it waits for the wards' names,
    // which the hub sends first (the phone rings and shows the alert meanwhile).
    const named = this.store.directory !== null;
    for (const item of items) {
      if (!visible && named && !this.notified.has(item.key)) {
        this.notified.add(item.key);
        void notify({ key: item.key, priority: item.priority, ...describe(item, wardNamer(this.store)) });
      }
    }
    // "Read" means a person could see it: only while the page is on screen.
    if (visible && (top.kind === 'page' || top.kind === 'page-escalated') && !this.readSent.has(top.page.id)) {
      const me = this.store.me?.id;
      const receipt = top.page.recipients.find((r) => r.staff.id === me);
      if (receipt && receipt.read_at === null) {
        this.readSent.add(top.page.id);
        this.markRead(top.page);
      }
    }
  }

  stop() {
    this.overlay.hide();
    sound.stop();
    stopVibrating();
  }
}
