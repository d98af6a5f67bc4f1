// Which things must take over the screen, and the controller that rings for
// them. An alert is derived from state (an offer still open to me, a page to me
// not yet acknowledged, an assignment I have not seen) rather than from single
// events, so a replay after a reconnect, a snapshot after a resync or a reload
// all ring for exactly what is still outstanding, and an alert stops by itself
// when someone else takes the task. Escalations will be one more `kind` here,
// shown by the same overlay.

import { priorityRank } from './format.js';
import * as sound from './sound.js';
import { vibrate, stopVibrating, notify } from './device.js';

/** @typedef {import('./types.js').TaskView} TaskView */
/** @typedef {import('./types.js').PageView} PageView */
/** @typedef {import('./types.js').Priority} Priority */
/** @typedef {import('./store.js').Store} Store */

/**
 * @typedef {{key: string, priority: Priority, since: number} & (
 *   {kind: 'offer', task: TaskView} |
 *   {kind: 'assigned', task: TaskView, by: string} |
 *   {kind: 'page', page: PageView}
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
  /** @type {AlertItem[]} */
  const items = [];
  for (const task of store.tasks.values()) {
    const key = `offer:${task.id}`;
    const open = task.state === 'offering' && task.offers.some((o) => o.staff.id === me && o.state === 'offered');
    if (open && !store.quiet.has(key)) items.push({ key, kind: 'offer', priority: task.priority, since: task.updated_at, task });
  }
  for (const notice of store.notices) {
    const task = store.tasks.get(notice.task);
    const mine = task && task.assignee?.id === me && (task.state === 'accepted' || task.state === 'started');
    if (task && mine && !store.quiet.has(notice.key)) {
      items.push({ key: notice.key, kind: 'assigned', priority: task.priority, since: task.updated_at, task, by: notice.by });
    }
  }
  for (const page of store.pages.values()) {
    const key = `page:${page.id}`;
    const mine = page.recipients.find((r) => r.staff.id === me);
    if (page.state === 'open' && mine && mine.acked_at === null && !store.quiet.has(key)) {
      items.push({ key, kind: 'page', priority: page.priority, since: page.sent_at, page });
    }
  }
  return items.sort((a, b) => priorityRank(a.priority) - priorityRank(b.priority) || a.since - b.since);
}

/** @param {AlertItem} item */
export function describe(item) {
  if (item.kind === 'page') {
    return { title: `Page from ${item.page.from.name}`, body: `${item.page.message} — call ${item.page.callback}`.trim() };
  }
  const t = item.task;
  const what = item.kind === 'offer' ? 'New task' : `Assigned to you by ${item.by}`;
  return { title: `${what}: ${t.ward} bed ${t.bed}`, body: t.sbar.situation };
}

/**
 * @typedef {object} Overlay
 * @property {(item: AlertItem, count: number) => void} show
 * @property {() => void} hide
 */

export class AlertController {
  /**
   * @param {{store: Store, overlay: Overlay, markRead: (page: PageView) => void}} deps
   */
  constructor({ store, overlay, markRead }) {
    this.store = store;
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
    const items = wantedAlerts(this.store);
    const top = items[0] ?? null;
    this.current = top;
    if (!top) {
      this.overlay.hide();
      sound.stop();
      stopVibrating();
      return;
    }
    this.overlay.show(top, items.length);
    sound.play(top.priority);
    vibrate(top.priority);
    const visible = document.visibilityState === 'visible';
    for (const item of items) {
      if (!visible && !this.notified.has(item.key)) {
        this.notified.add(item.key);
        void notify({ key: item.key, priority: item.priority, ...describe(item) });
      }
    }
    // "Read" means a person could see it: only while the page is on screen.
    if (visible && top.kind === 'page' && !this.readSent.has(top.page.id)) {
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
