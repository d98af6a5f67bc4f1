// Shift handover on the handheld. Two parts:
//
// - the banner, above every screen: a task someone wants to hand over to me
//   (its `handover.to` is me). It stays until I accept or decline it, and
//   the phone vibrates when a new one arrives: a handover nobody answers is
//   the gap between shifts that this screen exists to close.
// - the panel, on "My work": what I hold (tasks accepted or started, pages
//   not acknowledged), each task with a named incoming person to hand it to
//   (only those the hub would take: on shift, covering the ward, meeting
//   the requirement) or "back to offering"; and what became of what I
//   handed over (accepted, declined with the reason, returned at the
//   shift's end). It opens by itself in the last hour of my shift.
//
// The outcomes are read from the events as they arrive (a declined handover
// leaves no trace in the task's view) and kept in this phone's storage, so
// a reload still shows them. The hub's `handover` read is the truth about
// what I hold; the store's views say the same, event by event.

import { h, updateKeyed } from '../dom.js';
import { PRIORITY_LABEL, ROLE_LABEL, STATE_LABEL, clock, duration } from '../format.js';
import { vibrate } from '../device.js';
import { askText } from './dialog.js';
import { taskCard, button } from './task-card.js';

/** @typedef {import('../types.js').TaskView} TaskView */
/** @typedef {import('../types.js').PageView} PageView */
/** @typedef {import('../types.js').StaffView} StaffView */
/** @typedef {import('../types.js').EventFrame} EventFrame */
/** @typedef {import('../store.js').Store} Store */
/** @typedef {import('./context.js').ViewContext} ViewContext */

/**
 * What became of a task I handed over, or held when my shift ended.
 * @typedef {{task: string, where: string, kind: 'accepted' | 'declined' | 'returned', by: string, reason: string, at: number}} Outcome
 */

/** The panel opens by itself this long before the shift ends. */
export const SOON_MS = 60 * 60 * 1000;
/** Outcomes older than a night are not news. */
const KEEP_MS = 14 * 3600 * 1000;
const HELD = new Set(['accepted', 'started']);
const DECLINE_REASONS = ['With a sick patient', 'In resus / at an arrest', 'Not my ward or skill', 'Going off shift too'];

/** The place as the hospital writes it ("Ward 7 (Medicine) bed 12", never `W7`). @param {TaskView} t @param {(id: string) => string} wardName */
const where = (t, wardName) => `${wardName(t.ward)} bed ${t.bed}`;

/**
 * Who could take `task` over from me now, as the hub decides it (see
 * `Roster::candidates`): on shift, covering its ward, in the role or with
 * the skill it needs, not me. The hub checks again; this only spares a
 * refusal.
 * @param {Store} store @param {TaskView} task @param {number} now
 * @returns {StaffView[]}
 */
export function candidatesFor(store, task, now) {
  const me = store.me?.id;
  const req = task.requirement;
  return (store.directory?.staff ?? [])
    .filter((s) => {
      const shift = s.shift;
      if (s.id === me || !shift || shift.starts_at > now || shift.ends_at <= now || !shift.wards.includes(task.ward)) return false;
      if ('role' in req) return shift.role === req.role;
      if ('skill' in req) return s.skills.includes(req.skill);
      return req.any_role.includes(shift.role);
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Tasks someone is handing over to me, oldest offer first. @param {Store} store */
export function handoversToMe(store) {
  const me = store.me?.id;
  return [...store.tasks.values()].filter((t) => HELD.has(t.state) && t.handover?.to.id === me).sort((a, b) => (a.handover?.at ?? 0) - (b.handover?.at ?? 0));
}

/** What I hold: tasks accepted or started by me, pages to me not acknowledged. @param {Store} store */
export function heldByMe(store) {
  const me = store.me?.id;
  const tasks = [...store.tasks.values()].filter((t) => HELD.has(t.state) && t.assignee?.id === me).sort((a, b) => a.raised_at - b.raised_at);
  const pages = [...store.pages.values()].filter((p) => p.state === 'open' && p.recipients.some((r) => r.staff.id === me && r.acked_at === null)).sort((a, b) => a.sent_at - b.sent_at);
  return { tasks, pages };
}

/** @param {ViewContext} ctx */
export function handoverView(ctx) {
  const { store, link } = ctx;
  // The store's key with the site's prefix, if any, kept.
  const key = store.key.replace('wardpage.state.', 'wardpage.handover.');
  /** By task id. @type {Map<string, Outcome>} */
  const outcomes = new Map(load(key));
  /** Tasks I have seen pending a handover from me (an acceptance is news only for those). @type {Set<string>} */
  const given = new Set();
  /** Incoming handovers already announced (vibrated for). @type {Set<string>} */
  const announced = new Set();
  /** The person picked per task, kept across redraws. @type {Map<string, string>} */
  const picked = new Map();
  let autoOpened = false;

  const incoming = h('div', { class: 'list' });
  const banner = h('section', { class: 'handover-incoming', 'aria-labelledby': 'handover-in-title', hidden: true }, h('h2', { id: 'handover-in-title', class: 'view-title', text: 'Handed over to you' }), incoming);
  const title = h('h2', { class: 'handover-title', id: 'handover-title' });
  const summary = h('summary', { class: 'handover-summary' }, title);
  const list = h('div', { class: 'list' });
  const el = h('details', { class: 'handover-panel', hidden: true }, summary, list);
  el.addEventListener('toggle', () => update());

  function save() {
    const cutoff = store.now() - KEEP_MS;
    for (const [id, o] of outcomes) if (o.at < cutoff) outcomes.delete(id);
    try {
      localStorage.setItem(key, JSON.stringify([...outcomes]));
    } catch {
      // A full storage loses only this list; the hub still has every step in the audit.
    }
  }

  /** @param {Outcome} o */
  function record(o) {
    outcomes.set(o.task, o);
    save();
    update();
  }

  /**
   * A refusal's reason is only in the task's timeline.
   * @param {TaskView} task @param {string} by @param {number} at
   */
  async function declined(task, by, at) {
    record({ task: task.id, where: where(task, ctx.wardName), kind: 'declined', by, reason: '', at });
    try {
      const result = await link.read({ op: 'timeline', task: task.id });
      if (result.kind !== 'timeline') return;
      const last = [...result.entries].reverse().find((x) => x.action === 'decline_handover');
      // The hub writes "back to <giver>: <reason>".
      const reason = last ? last.detail.replace(/^back to [^:]*: /, '') : '';
      if (reason) record({ task: task.id, where: where(task, ctx.wardName), kind: 'declined', by, reason, at });
    } catch (err) {
      console.warn('wardpage: no reason for the declined handover:', err);
    }
  }

  /** Read what an event says about my handovers (called after the store has it). @param {EventFrame} frame */
  function onFrame(frame) {
    const me = store.me?.id;
    const ev = frame.event;
    if (ev.kind === 'held_at_shift_end' && ev.staff.id === me) {
      for (const t of ev.tasks) record({ task: t.id, where: where(t, ctx.wardName), kind: 'returned', by: '', reason: ev.reason, at: frame.at });
      return;
    }
    if (ev.kind !== 'task') return;
    const t = ev.task;
    if (ev.change === 'handover_offered' && t.handover?.from.id === me) given.add(t.id);
    if (ev.change === 'handover_declined' && t.assignee?.id === me && ev.by?.id !== me) void declined(t, ev.by?.name ?? 'someone', frame.at);
    if (ev.change === 'handover_accepted' && ev.by?.id !== me && (given.has(t.id) || outcomes.has(t.id))) {
      given.delete(t.id);
      record({ task: t.id, where: where(t, ctx.wardName), kind: 'accepted', by: ev.by?.name ?? 'someone', reason: '', at: frame.at });
    }
  }

  /** What stands against a held task: a handover waiting, or the last refusal. @param {TaskView} t @param {number} now */
  function standing(t, now) {
    if (t.handover) {
      given.add(t.id);
      return h('p', { class: 'who handover-pending', text: `Handing over to ${t.handover.to.name}: waiting ${duration(now - t.handover.at)} for them to accept. You hold it until then.` });
    }
    const o = outcomes.get(t.id);
    if (o?.kind === 'declined') {
      return h('p', { class: 'who declined handover-declined', text: `${o.by} declined the handover at ${clock(o.at)}${o.reason ? `: “${o.reason}”` : ''}. You still hold it.` });
    }
    return null;
  }

  /** @param {TaskView} t @param {number} now */
  function heldCard(t, now) {
    const pending = ctx.outbox.pendingFor(t.id).map((e) => e.label);
    const busy = pending.length > 0;
    const people = candidatesFor(store, t, now);
    const chosen = people.some((s) => s.id === picked.get(t.id)) ? picked.get(t.id) : '';
    const id = `handover-to-${t.id}`;
    const select = h(
      'select',
      { id, class: 'handover-to', disabled: busy || people.length === 0, onchange: (/** @type {Event} */ e) => picked.set(t.id, /** @type {HTMLSelectElement} */ (e.target).value) },
      h('option', { value: '', text: people.length ? 'Choose who takes it…' : 'Nobody on shift can take it' }),
      people.map((s) => h('option', { value: s.id, text: `${s.name} (${s.shift ? ROLE_LABEL[s.shift.role] : ROLE_LABEL[s.role]})`, selected: s.id === chosen })),
    );
    const give = () => {
      // The choice is read from `picked`: the select on screen is the one
      // first built (later builds are morphed into it), not `select`.
      const to = picked.get(t.id) ?? '';
      const person = people.find((s) => s.id === to);
      if (!person) {
        document.getElementById(id)?.focus();
        return;
      }
      link.send({ op: 'hand_over', task: t.id, to }, `Hand over ${where(t, ctx.wardName)} to ${person.name}`);
    };
    // A line, not a second card: the task's card is in "My work" below.
    const patient = t.patient_ref ? `${t.patient_ref.name} · ` : '';
    return h(
      'div',
      { class: `handover-item prio-edge-${t.priority}`, 'data-task': t.id },
      h('p', { class: 'handover-what' }, h('strong', { text: `${PRIORITY_LABEL[t.priority]} · ${ctx.wardName(t.ward)} bed ${t.bed}` }), ` · ${patient}${t.sbar.situation} · ${STATE_LABEL[t.state]}`),
      standing(t, now),
      pending.map((label) => h('p', { class: 'pending', text: `Queued: ${label} (waiting for the hub)` })),
      h(
        'div',
        { class: 'actions' },
        h('label', { class: 'handover-label', for: id, text: 'Hand over to' }),
        select,
        button(t.handover ? 'Hand over instead' : 'Hand over', give, 'primary', busy || people.length === 0),
        button('Back to offering', () => void ctx.actions.handBack(t), 'secondary', busy),
      ),
    );
  }

  /** The banner: handovers to me, vibrating once for each new one. */
  function updateIncoming() {
    const toMe = handoversToMe(store);
    for (const t of toMe) {
      const k = `${t.id}:${t.handover?.at}`;
      if (!announced.has(k)) {
        announced.add(k);
        vibrate(t.priority);
      }
    }
    banner.hidden = toMe.length === 0;
    updateKeyed(incoming, toMe.map((t) => [`in:${t.id}`, answerIncoming(ctx, t)]));
  }

  function update() {
    updateIncoming();
    const now = store.now();
    const me = store.me;

    const { tasks, pages } = heldByMe(store);
    const done = [...outcomes.values()].filter((o) => o.kind !== 'declined' || !tasks.some((t) => t.id === o.task)).sort((a, b) => b.at - a.at);
    el.hidden = tasks.length === 0 && pages.length === 0 && done.length === 0;
    const ends = me?.shift?.ends_at ?? null;
    const left = ends === null ? null : ends - now;
    const when = ends === null ? 'not on shift' : left !== null && left > 0 ? `shift ends ${clock(ends)} (in ${duration(left)})` : `shift ended ${clock(ends)}`;
    title.textContent = `Shift handover: you hold ${tasks.length} task${tasks.length === 1 ? '' : 's'} and ${pages.length} unacknowledged page${pages.length === 1 ? '' : 's'} · ${when}`;
    const urgent = left !== null && left <= SOON_MS;
    if (!el.hidden && urgent && !autoOpened) {
      autoOpened = true;
      el.open = true;
    }
    el.classList.toggle('ending', urgent && !el.hidden);
    /** @type {[string, Element][]} */
    const items = [];
    // Closed, it is a one-line summary: nothing under it is built.
    if (!el.open) {
      updateKeyed(list, items);
      return;
    }
    if (tasks.length) items.push(['intro', h('p', { class: 'handover-intro', text: 'Hand each task to a named colleague (they must accept it) or back to offering. Nothing you still hold at the end of your shift stays with you: it is offered again and the coordinator is told.' })]);
    items.push(...tasks.map((t) => /** @type {[string, Element]} */ ([`t:${t.id}`, heldCard(t, now)])));
    items.push(...pages.map((p) => /** @type {[string, Element]} */ ([`p:${p.id}`, pageLine(ctx, p)])));
    if (done.length) items.push(['done', h('div', { class: 'handover-done' }, h('h3', { class: 'subhead', text: 'Handovers and returns' }), h('ul', { class: 'handover-outcomes' }, done.map(outcomeLine)))]);
    updateKeyed(list, items);
  }

  /** Logging out: this phone forgets what it kept about my handovers. */
  function forget() {
    outcomes.clear();
    localStorage.removeItem(key);
  }

  return { el, banner, update, onFrame, forget, count: () => handoversToMe(store).length };
}

/** A handover to me, with its answers. @param {ViewContext} ctx @param {TaskView} t */
function answerIncoming(ctx, t) {
  const { store, link } = ctx;
  const from = t.handover?.from.name ?? 'a colleague';
  const busy = ctx.outbox.pendingFor(t.id).length > 0;
  return taskCard(t, {
    now: store.now(),
    wardName: ctx.wardName,
    sbarOpen: true,
    extra: [h('p', { class: 'who handover-from', text: `${from} is handing this over to you (since ${clock(t.handover?.at ?? t.updated_at)}). It stays with them until you accept.` })],
    pending: ctx.outbox.pendingFor(t.id).map((e) => e.label),
    actions: [
      button('Accept handover', () => void link.send({ op: 'accept_handover', task: t.id }, `Accept handover of ${where(t, ctx.wardName)}`), 'primary', busy),
      button('Decline', () => void declineIncoming(ctx, t), 'secondary', busy),
    ],
  });
}

/** @param {ViewContext} ctx @param {TaskView} t */
async function declineIncoming(ctx, t) {
  const reason = await askText({ title: `Decline handover of ${where(t, ctx.wardName)}`, label: `Reason (${t.handover?.from.name ?? 'the giver'} sees it)`, submit: 'Decline', required: true, max: 500, suggestions: DECLINE_REASONS });
  if (reason === null) return;
  ctx.link.send({ op: 'decline_handover', task: t.id, reason }, `Decline handover of ${where(t, ctx.wardName)}`);
}

/** A page I have not acknowledged. @param {ViewContext} ctx @param {PageView} p */
function pageLine(ctx, p) {
  const busy = ctx.outbox.pendingFor(p.id).length > 0;
  return h(
    'div',
    { class: `handover-item handover-page prio-edge-${p.priority}`, 'data-page': p.id },
    h('p', { class: 'handover-what' }, h('strong', { text: `Page from ${p.from.name} at ${clock(p.sent_at)}` })),
    h('p', { class: 'what', text: `${p.message || '(no message)'} · call back ${p.callback}` }),
    h('p', { class: 'who', text: 'A page cannot be handed over: answer it before you go. If it is still open when your shift ends, the coordinator is told and it keeps escalating.' }),
    h('div', { class: 'actions' }, button('Acknowledge', () => ctx.actions.ackPage(p), 'primary', busy)),
  );
}

/** @param {Outcome} o */
function outcomeLine(o) {
  const text =
    o.kind === 'accepted'
      ? `${o.where}: accepted by ${o.by} at ${clock(o.at)}`
      : o.kind === 'declined'
        ? `${o.where}: declined by ${o.by} at ${clock(o.at)}${o.reason ? `: “${o.reason}”` : ''}`
        : `${o.where}: still held when your shift ended (${clock(o.at)}); offered again and the coordinator told`;
  return h('li', { class: `handover-outcome ${o.kind}`, text });
}

/** @param {string} key @returns {[string, Outcome][]} */
function load(key) {
  try {
    const raw = localStorage.getItem(key);
    const list = raw ? JSON.parse(raw) : [];
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}
