// "I'm busy": a doctor in resus or breaking bad news says so in one tap,
// and her phone stops ringing for anything below emergency until she ends
// it or its time runs out (the hub ends it then too). Above every screen:
// - not busy, on shift: a big "I'm busy" button; it opens a sheet with the
//   length (15, 30, 60 minutes, 2 hours; 30 chosen) and the reasons, each
//   reason a button that sets busy at once, or a few words of her own;
// - busy: the banner "Busy: in resus, until 03:40 · End", with the count
//   of what is waiting ("3 waiting"), which opens the list it is on.
// The hub keeps the state (`shift.busy`); a `set_busy` not yet sent (no
// network) counts as busy here already, so the phone goes quiet when she
// taps, and a queued `end_busy` as not busy.

import { h } from '../dom.js';
import { clock } from '../format.js';

/** @typedef {import('../types.js').BusyView} BusyView */
/** @typedef {import('./context.js').ViewContext} ViewContext */
/** @typedef {import('../store.js').Store} Store */
/** @typedef {import('../outbox.js').Outbox} Outbox */

/** The reasons the phone offers (the hub takes any one line of 1–60 characters). */
export const BUSY_REASONS = ['In resus', 'With a sick patient', 'In theatre', 'Breaking bad news'];
/** Lengths offered, in minutes (the hub takes 5–120). */
export const BUSY_MINUTES = [15, 30, 60, 120];
const MAX_REASON = 60;

/**
 * My busy state as this phone must act on it now: the hub's, unless a
 * command about it is still queued; `null` when not busy (or past `until`:
 * the hub's end may not have arrived yet).
 * @param {Store} store @param {Outbox} outbox
 * @returns {(BusyView & {queued: boolean}) | null}
 */
export function currentBusy(store, outbox) {
  const now = store.now();
  /** @type {(BusyView & {queued: boolean}) | null} */
  let busy = store.me?.shift?.busy ? { ...store.me.shift.busy, queued: false } : null;
  for (const e of outbox.entries()) {
    if (e.cmd.op === 'set_busy') {
      const since = e.issued_at ?? e.queued_at;
      busy = { reason: e.cmd.reason, since, until: since + e.cmd.minutes * 60000, queued: true };
    } else if (e.cmd.op === 'end_busy') busy = null;
  }
  return busy && busy.until > now ? busy : null;
}

/** "In resus" → "in resus", as the banner's sentence reads; own words stay as written. @param {string} r */
const inSentence = (r) => (BUSY_REASONS.includes(r) ? r.charAt(0).toLowerCase() + r.slice(1) : r);

/**
 * @param {ViewContext & {held: () => {count: number, pagesOnly: boolean}, onChange: () => void}} ctx
 *   `held`: how many alerts are held back now, and whether they are all pages
 */
export function busyView(ctx) {
  const { store, link, outbox } = ctx;
  const start = h('button', { type: 'button', class: 'btn big-action busy-start', text: 'I’m busy', onclick: () => void choose() });
  const text = h('p', { class: 'busy-text' });
  const waiting = h('a', { class: 'busy-waiting', href: '#work' });
  const end = h('button', { type: 'button', class: 'btn secondary small busy-end', text: 'End', onclick: () => endBusy() });
  const banner = h('div', { class: 'busy-banner', role: 'status' }, text, waiting, end);
  const el = h('section', { class: 'busy', 'aria-label': 'Busy' }, start, banner);
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;

  /** @param {string} reason @param {number} minutes */
  function setBusy(reason, minutes) {
    link.send({ op: 'set_busy', reason, minutes }, `Busy: ${reason}, ${minutes} min`);
    ctx.onChange();
  }

  function endBusy() {
    link.send({ op: 'end_busy' }, 'End busy');
    ctx.onChange();
  }

  /** The sheet: length first (30 chosen), then a reason, which sets it. */
  function choose() {
    let minutes = 30;
    const lengths = BUSY_MINUTES.map((m) =>
      h('button', {
        type: 'button',
        class: 'chip busy-length',
        'aria-pressed': String(m === minutes),
        'data-minutes': String(m),
        text: m < 60 ? `${m} min` : m === 60 ? '1 hour' : `${m / 60} hours`,
        onclick: (/** @type {Event} */ e) => {
          minutes = m;
          for (const b of lengths) b.setAttribute('aria-pressed', String(b === e.currentTarget));
        },
      }),
    );
    const own = h('input', { type: 'text', id: 'busy-own', maxLength: MAX_REASON, autocomplete: 'off', placeholder: 'Or in your own words' });
    const form = h(
      'form',
      { method: 'dialog' },
      h('h2', { id: 'busy-title', text: 'I’m busy' }),
      h('p', { class: 'who', text: 'Alerts below emergency wait, quietly, until you end it. Emergencies still ring.' }),
      h('p', { class: 'busy-label', text: 'For' }),
      h('div', { class: 'chips', role: 'group', 'aria-label': 'For how long' }, lengths),
      h('p', { class: 'busy-label', text: 'Because' }),
      h('div', { class: 'busy-reasons' }, BUSY_REASONS.map((r) => h('button', { type: 'button', class: 'btn primary wide busy-reason', text: r, onclick: () => finish(r) }))),
      h('label', { for: own.id, class: 'sr-only', text: 'Reason in your own words' }),
      own,
      h('div', { class: 'row' }, h('button', { type: 'button', class: 'btn secondary', text: 'Cancel', onclick: () => finish(null) }), h('button', { type: 'submit', class: 'btn primary', text: 'Set busy' })),
    );
    const dialog = h('dialog', { class: 'ask busy-sheet', 'aria-labelledby': 'busy-title' }, form);
    /** @param {string | null} reason */
    function finish(reason) {
      dialog.close();
      dialog.remove();
      if (reason) setBusy(reason, minutes);
    }
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      // One line: the hub refuses line breaks and runs of spaces in a reason.
      const r = own.value.replace(/\s+/g, ' ').trim();
      if (r) finish(r);
      else own.focus();
    });
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      finish(null);
    });
    document.body.append(dialog);
    dialog.showModal();
  }

  function update() {
    const busy = currentBusy(store, outbox);
    const onShift = store.me?.shift != null;
    start.hidden = busy !== null || !onShift;
    banner.hidden = busy === null;
    el.hidden = busy === null && !onShift;
    if (timer !== null) clearTimeout(timer);
    timer = null;
    if (!busy) return;
    text.textContent = `Busy: ${inSentence(busy.reason)}, until ${clock(busy.until)}${busy.queued ? ' (not sent yet)' : ''}`;
    const { count, pagesOnly } = ctx.held();
    waiting.hidden = count === 0;
    waiting.textContent = `${count} waiting`;
    waiting.href = pagesOnly ? '#pages' : '#work';
    // Its end rings for what waited, even before the hub's word arrives.
    timer = setTimeout(ctx.onChange, Math.max(0, busy.until - store.now()) + 50);
  }

  return { el, update };
}
