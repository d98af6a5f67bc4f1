// What needs the coordinator now, and the noise that says so: open
// escalations (a task nobody has taken yet, or a page nobody acknowledged,
// that the hub escalated), emergencies nobody has accepted, and pages sent to
// the coordinator herself, and tasks offered only to people with no
// connected device (the offer rings nowhere). Each is a line of the "Needs you now" queue with
// its own way out: an escalation is acknowledged (or snoozed for a few
// minutes), an emergency is marked seen, a page to her is acknowledged at the
// hub (`page_ack`, so its sender sees it). Until then the title bar counts
// them ("(3) wardpage"), a chime repeats, and each new one raises a system
// notification when the browser allows it. A desk screen is often behind
// another window, so the title and the notification are what is seen first.
//
// Shift handover adds two kinds: a shift that ended while its person held
// work (`held_at_shift_end`: the work was offered again, and someone must
// see that it is taken), which rings like an escalation; and a handover
// waiting for its incoming person to accept, listed so the coordinator can
// chase it, but silent (it is a colleague's question, not yet a gap).
// A completion done offline by a former holder after the task was given to
// someone else is a line too (`done_offline`): two people were sent to one
// job, and the coordinator hears plainly who did it, when, and who was told.
//
// Acknowledgements live in this page only: they say "the coordinator has
// seen it", which is the screen's business, not the hub's. A new escalation
// level is a new line (its key has the level), so a second escalation of
// an acknowledged task rings again.

import { h } from '../js/dom.js';
import { PRIORITY_LABEL, clock } from '../js/format.js';
import { isWaiting } from './task-text.js';
import { PAGE_REPLIES, REPLY_LABEL, fromLine } from '../js/page-words.js';

/** @typedef {import('./state.js').DashState} DashState */
/** @typedef {import('./link.js').DashLink} DashLink */
/** @typedef {import('../js/types.js').Priority} Priority */

/** How long "Snooze" quiets an escalation. */
export const SNOOZE_MS = 5 * 60 * 1000;
/** How often the chime repeats while something is unacknowledged. */
const CHIME_EVERY_MS = 20000;
/** Lines drawn at most (the rest are counted; the board has them all). */
const MAX_SHOWN = 30;
/** New lines notified one by one up to this many at once. */
const MAX_NOTIFY = 3;
const RANK = { emergency: 0, urgent: 1, soon: 2, routine: 3 };

/**
 * When work reported done offline was done: the hub heard at `heard`, and
 * says how long before in its words ("5 s", "14 min", "2 h 5 min"). To the
 * second under a minute; else to the minute (`about`). Null if unsaid.
 * @param {number} heard @param {string | null} ahead
 * @returns {{at: number, about: boolean} | null}
 */
export function doneAt(heard, ahead) {
  const m = /^(?:(\d+) h )?(\d+) (s|min)$/.exec(ahead ?? '');
  if (!m) return null;
  const ms = m[3] === 's' ? Number(m[2]) * 1000 : (Number(m[1] ?? 0) * 60 + Number(m[2])) * 60000;
  return { at: heard - ms, about: m[3] !== 's' };
}

/**
 * One line of the queue.
 * @typedef {{key: string, kind: 'escalation' | 'emergency' | 'page' | 'shift_end' | 'handover' | 'unreached' | 'done_offline', priority: Priority, at: number, title: string, detail: string, task: string | null, page: string | null}} Item
 */

/**
 * @param {{state: DashState, link: DashLink, me: () => string, onOpenTask: (id: string) => void, onChange: () => void}} ctx
 *   `onChange`: an acknowledgement changed the counts
 */
export function createAttention({ state, link, me, onOpenTask, onChange }) {
  /** Keys the coordinator acknowledged. @type {Set<string>} */
  const acked = new Set();
  /** Keys snoozed, until when (link clock). @type {Map<string, number>} */
  const snoozed = new Map();
  /** Keys already announced (chimed and notified once each). @type {Set<string>} */
  const announced = new Set();
  /** @type {AudioContext | null} */
  let audio = null;
  let lastChime = 0;
  // The page's own title, with the count in front while something rings.
  const title = document.title.replace(/^\(\d+\) /, '');

  // It scrolls on a bad night, so it takes the keyboard focus too.
  const list = h('ul', { class: 'attention-list', tabindex: 0, 'aria-labelledby': 'attention-title' });
  const count = h('span', { class: 'badge' });
  const more = h('p', { class: 'muted attention-more' });
  const permit = h('button', {
    type: 'button',
    class: 'btn small secondary',
    id: 'allow-notifications',
    text: 'Allow desktop notifications',
    onclick: async () => {
      await Notification.requestPermission();
      draw();
    },
  });
  const el = h(
    'section',
    { class: 'attention', id: 'attention', 'aria-labelledby': 'attention-title', hidden: true },
    h('div', { class: 'attention-head' }, h('h2', { id: 'attention-title' }, 'Needs you now ', count), permit),
    list,
    more,
  );

  // Browsers start audio only after a gesture: the login tap, or any tap on
  // this page after a reload.
  const unlock = () => {
    try {
      audio ??= new AudioContext();
      if (audio.state === 'suspended') void audio.resume();
    } catch {
      audio = null;
    }
  };
  addEventListener('pointerdown', unlock, { capture: true });
  addEventListener('keydown', unlock, { capture: true });

  /** Everything that needs the coordinator, acknowledged or not. @returns {Item[]} */
  function collect() {
    const myId = me();
    /** @type {Item[]} */
    const items = [];
    const reasons = new Map(state.feed.map((f) => [`${f.about[0]}:${f.id}:${f.level}`, f]));
    for (const t of state.tasks.values()) {
      const where = `${state.wardName(t.ward)} bed ${t.bed}`;
      const unreached = unreachedText(t);
      if (unreached) {
        items.push({ key: `u:${t.id}:${t.unreached_at}`, kind: 'unreached', priority: t.priority, at: t.unreached_at ?? t.raised_at, title: `Offer reached no connected device: ${where}`, detail: unreached, task: t.id, page: null });
      }
      if (t.escalation_level > 0 && isWaiting(t)) {
        const key = `t:${t.id}:${t.escalation_level}`;
        const f = reasons.get(key);
        items.push({ key, kind: 'escalation', priority: t.priority, at: f?.at ?? t.raised_at, title: `Escalated (level ${t.escalation_level}): ${where}`, detail: f?.words ?? 'Nobody has accepted it yet.', task: t.id, page: null });
      } else if (t.priority === 'emergency' && isWaiting(t)) {
        items.push({ key: `e:${t.id}`, kind: 'emergency', priority: t.priority, at: t.raised_at, title: `Emergency not accepted: ${where}`, detail: t.sbar.situation, task: t.id, page: null });
      }
    }
    items.push(...handoverItems(), ...doneOfflineItems());
    for (const p of state.pages.values()) {
      const mine = p.recipients.find((r) => r.staff.id === myId);
      if (mine && mine.acked_at === null) {
        items.push({ key: `m:${p.id}`, kind: 'page', priority: p.priority, at: p.sent_at, title: `Page to you from ${fromLine(p)}`, detail: `${p.message || '(no message)'} · Call back: ${p.callback}`, task: null, page: p.id });
      } else if (p.escalation_level > 0) {
        const key = `p:${p.id}:${p.escalation_level}`;
        items.push({ key, kind: 'escalation', priority: p.priority, at: reasons.get(key)?.at ?? p.sent_at, title: `Page escalated (level ${p.escalation_level}) from ${p.from.name}`, detail: reasons.get(key)?.words ?? p.message, task: null, page: null });
      }
    }
    return items.sort((a, b) => RANK[a.priority] - RANK[b.priority] || a.at - b.at);
  }

  /** Shifts that ended holding work, and handovers waiting to be accepted. @returns {Item[]} */
  function handoverItems() {
    /** @type {Item[]} */
    const items = [];
    for (const s of state.shiftEnds) {
      const top = [...s.tasks].sort((a, b) => RANK[a.priority] - RANK[b.priority])[0];
      const detail = s.tasks.length ? `${s.reason}: ${s.tasks.map((t) => `${state.wardName(t.ward)} bed ${t.bed}`).join(', ')}` : s.reason;
      items.push({ key: s.key, kind: 'shift_end', priority: top?.priority ?? 'urgent', at: s.at, title: `Shift ended holding work: ${s.staff.name}`, detail, task: top?.id ?? null, page: null });
    }
    for (const t of state.tasks.values()) {
      const hv = t.handover;
      if (!hv) continue;
      items.push({ key: `h:${t.id}:${hv.at}`, kind: 'handover', priority: t.priority, at: hv.at, title: `Handover waiting: ${state.wardName(t.ward)} bed ${t.bed}, ${hv.from.name} to ${hv.to.name}`, detail: `${t.sbar.situation} · not accepted yet`, task: t.id, page: null });
    }
    return items;
  }

  /**
   * Work done offline on a task given meanwhile to someone else (or offered
   * again after she handed it back or her shift ended): the former
   * holder's word completed it, and the new holder's phone was told. Rings
   * like an escalation: two people were sent to one job, and the
   * coordinator must know it is closed and by whom.
   * @returns {Item[]}
   */
  function doneOfflineItems() {
    return state.doneOffline.map((d) => {
      const t = d.task;
      const who = t.patient_ref ? `, ${t.patient_ref.name}` : '';
      const done = doneAt(d.at, d.ahead);
      const when = done === null ? '' : ` at ${done.about ? 'about ' : ''}${clock(done.at)}`;
      const outcome = t.closing_note?.replace(/ ?\(done by .*\)$/, '') ?? '';
      return {
        key: d.key,
        kind: 'done_offline',
        priority: t.priority,
        at: d.at,
        title: `Completed offline after it was ${d.holder ? 'given to someone else' : 'offered again'}: ${state.wardName(t.ward)} bed ${t.bed}${who}`,
        detail: `${state.wardName(t.ward)} bed ${t.bed}: ${d.by.name} completed it${when} while offline; ${d.holder ? `it had been given to ${d.holder.name}, who has been told.` : 'it was on offer again; the offer is withdrawn.'}${outcome ? ` Outcome: ${outcome}` : ''}`,
        task: t.id,
        page: null,
      };
    });
  }

  /**
   * "Offered to 3 people, none of them connected: ..." while the task is on
   * offer, the hub found none of them connected (`unreached_at`) and none
   * has connected since (this screen's presence), else null.
   * @param {import('../js/types.js').TaskView} t
   */
  function unreachedText(t) {
    if (!t.unreached_at || t.state !== 'offering') return null;
    const open = t.offers.filter((o) => o.state === 'offered');
    if (open.length === 0 || open.some((o) => state.staff.get(o.staff.id)?.connected)) return null;
    const names = open.map((o) => o.staff.name).join(', ');
    return `Offered to ${open.length === 1 ? '1 person, not connected' : `${open.length} people, none of them connected`}: ${names}. Call them or assign someone.`;
  }

  /** Lines not acknowledged, snoozed ones included (they still count as open). */
  function open() {
    return collect().filter((i) => !acked.has(i.key));
  }

  /** Open escalations: the summary's "Escalated" box (called on every change, so no list is built). */
  function openEscalations() {
    let n = 0;
    for (const t of state.tasks.values()) if (t.escalation_level > 0 && isWaiting(t) && !acked.has(`t:${t.id}:${t.escalation_level}`)) n += 1;
    for (const p of state.pages.values()) {
      const mine = p.recipients.some((r) => r.staff.id === me() && r.acked_at === null);
      if (!mine && p.escalation_level > 0 && !acked.has(`p:${p.id}:${p.escalation_level}`)) n += 1;
    }
    return n;
  }

  /** Tasks with an open escalation or an emergency nobody accepted: the wall board puts them first. */
  function urgentTasks() {
    return new Set(open().flatMap((i) => (i.task && i.kind !== 'page' ? [i.task] : [])));
  }

  function chime() {
    if (!audio || audio.state !== 'running') return;
    const t0 = audio.currentTime + 0.02;
    for (const [freq, start] of [[880, 0], [660, 0.25], [880, 0.5]]) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0, t0 + start);
      gain.gain.linearRampToValueAtTime(0.3, t0 + start + 0.01);
      gain.gain.linearRampToValueAtTime(0, t0 + start + 0.2);
      osc.connect(gain).connect(audio.destination);
      osc.start(t0 + start);
      osc.stop(t0 + start + 0.21);
    }
  }

  /** One notification per new line; a flood (a fresh login on a bad night) is one notification saying how many. @param {Item[]} fresh */
  function notifyAll(fresh) {
    if (fresh.length <= MAX_NOTIFY) {
      for (const i of fresh) notify(i);
      return;
    }
    const top = fresh[0];
    notify({ ...top, key: 'many', title: `${fresh.length} things need you now`, detail: `First: ${top.title}` });
  }

  /** @param {Item} item */
  function notify(item) {
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
    try {
      const n = new Notification(item.title, { body: item.detail, tag: item.key, requireInteraction: item.priority === 'emergency' });
      n.onclick = () => {
        focus();
        if (item.task) onOpenTask(item.task);
      };
    } catch {
      // Some browsers only allow notifications from a service worker; the title and chime still say it.
    }
  }

  /** @param {Item} item */
  function actions(item) {
    /** @type {HTMLButtonElement[]} */
    const answers = [];
    /** Acknowledge (with a reply the sender sees, for a page). @param {import('../types/PageReply').PageReply} [reply] */
    const answer = async (reply) => {
      if (item.page) {
        answers.forEach((b) => (b.disabled = true));
        const sent = await link.command({ op: 'page_ack', page: item.page, ...(reply ? { reply } : {}) });
        if (sent.ok) state.applyResult(sent.result);
        else return answers.forEach((b) => (b.disabled = false));
      }
      acked.add(item.key);
      draw();
      onChange();
    };
    const ack = h('button', { type: 'button', class: 'btn small primary', text: item.kind === 'emergency' ? 'Seen' : 'Acknowledge', onclick: () => answer() });
    answers.push(ack);
    const replies = item.page
      ? PAGE_REPLIES.map((r) => {
          const b = h('button', { type: 'button', class: 'btn small secondary', 'data-reply': r, text: REPLY_LABEL[r], onclick: () => answer(r) });
          answers.push(b);
          return b;
        })
      : [];
    const snooze =
      item.kind === 'escalation'
        ? h('button', {
            type: 'button',
            class: 'btn small secondary',
            text: 'Snooze 5 min',
            onclick: () => {
              snoozed.set(item.key, link.now() + SNOOZE_MS);
              draw();
            },
          })
        : null;
    const openTask = item.task ? h('button', { type: 'button', class: 'btn small secondary', text: 'Open task', onclick: () => onOpenTask(/** @type {string} */ (item.task)) }) : null;
    return h('div', { class: 'row' }, ack, ...replies, snooze, openTask);
  }

  let scheduled = false;
  /**
   * Redraw once per frame however many events arrived (the board's 2,000
   * tasks and a stream of events must not rebuild this list per event).
   */
  function render() {
    if (scheduled) return;
    scheduled = true;
    const run = () => {
      if (!scheduled) return;
      draw();
    };
    requestAnimationFrame(run);
    setTimeout(run, 250);
  }

  /** Redraw the queue, the title and the badge; chime and notify for what is new. */
  function draw() {
    scheduled = false;
    const now = link.now();
    const items = open();
    // A handover waiting is listed but does not ring (see the top).
    const ringing = items.filter((i) => i.kind !== 'handover' && (snoozed.get(i.key) ?? 0) <= now);
    const fresh = ringing.filter((i) => !announced.has(i.key));
    for (const i of fresh) announced.add(i.key);
    if (fresh.length) notifyAll(fresh);
    if (fresh.length || (ringing.length && now - lastChime >= CHIME_EVERY_MS)) {
      lastChime = now;
      chime();
    }
    document.title = ringing.length ? `(${ringing.length}) ${title}` : title;
    el.hidden = items.length === 0;
    el.dataset.ringing = String(ringing.length);
    count.textContent = String(items.length);
    permit.hidden = typeof Notification === 'undefined' || Notification.permission !== 'default';
    more.textContent = items.length > MAX_SHOWN ? `and ${items.length - MAX_SHOWN} more on the board` : '';
    list.replaceChildren(
      ...items.slice(0, MAX_SHOWN).map((i) => {
        const until = snoozed.get(i.key) ?? 0;
        return h(
          'li',
          { class: `item prio-edge-${i.priority}${until > now ? ' snoozed' : ''}`, 'data-attention': i.key, 'data-kind': i.kind },
          h('p', { class: 'line' }, h('span', { class: `chip prio-${i.priority}`, text: PRIORITY_LABEL[i.priority] }), ' ', h('strong', { text: i.title }), ` (${clock(i.at)})`),
          h('p', { class: 'line', text: i.detail }),
          until > now ? h('p', { class: 'line muted', text: `Snoozed until ${clock(until)}` }) : null,
          actions(i),
        );
      }),
    );
  }

  function stop() {
    removeEventListener('pointerdown', unlock, { capture: true });
    removeEventListener('keydown', unlock, { capture: true });
    document.title = title;
    void audio?.close();
  }

  return { el, render, openEscalations, urgentTasks, unlock, stop };
}
