// What a page says to the person answering it at 3 a.m., shared by the
// handheld's alert and lists and the coordinator's dashboard: the number to
// ring as a big `tel:` link ("Call 4471"), the ward the sender is on by the
// name the hospital gives it, and the one-tap replies ("5 min", "Call me",
// "On my way") in the words the sender then sees ("Dr Khan: On my way, 02:14").
//
// `callbackNumber` is the protocol's rule (proto/src/page_extras.rs), so a
// form can refuse a callback without a number before sending it and show
// what will be dialled; both are checked against
// tests/fixtures/callback-numbers.json. What a page shows is the hub's
// `callback_number`, never a number worked out here.

import { h } from './dom.js';
import { clock } from './format.js';

/** @typedef {import('./types.js').PageView} PageView */
/** @typedef {import('./types.js').PageReceipt} PageReceipt */
/** @typedef {import('../types/PageReply').PageReply} PageReply */

/** Fewest and most digits in a callback number (as the hub counts them). */
export const MIN_CALLBACK_DIGITS = 3;
export const MAX_CALLBACK_DIGITS = 15;

/** The replies, in the order the buttons show them. @type {PageReply[]} */
export const PAGE_REPLIES = ['five_min', 'call_me', 'on_my_way'];

/** @type {Record<PageReply, string>} */
export const REPLY_LABEL = {
  five_min: '5 min',
  call_me: 'Call me',
  on_my_way: 'On my way',
};

/** Why a callback is refused, in the form's words. */
export const CALLBACK_HINT = `Give a number to call back on (${MIN_CALLBACK_DIGITS} to ${MAX_CALLBACK_DIGITS} digits: an extension such as 4412, a bleep or a phone number).`;

/**
 * The number a phone would dial for `text`: its first run of 3 to 15 digits
 * (single spaces or hyphens may split it; a `+` before it is kept), or null.
 * @param {string} text
 */
export function callbackNumber(text) {
  for (const m of text.matchAll(/(\+?)(\d(?:[ -]?\d)*)/g)) {
    const digits = m[2].replace(/[ -]/g, '');
    if (digits.length >= MIN_CALLBACK_DIGITS && digits.length <= MAX_CALLBACK_DIGITS) return `${m[1]}${digits}`;
  }
  return null;
}

/**
 * The big "Call 4471" link for a page (`a.call-link`), or the callback as
 * text when the page has no number (the hub's own pages name a place).
 * @param {PageView} p @param {string} [cls] the line's class
 */
export function callLink(p, cls = 'callback') {
  const number = p.callback_number;
  if (!number) return h('p', { class: `${cls} place` }, 'Call back: ', h('strong', { text: p.callback }));
  // The callback as typed, under the link, when it says more than the number.
  const more = p.callback.replace(/[\s+-]/g, '') !== number.replace('+', '');
  return h(
    'p',
    { class: `${cls} dial` },
    h('a', { class: 'call-link btn big', href: `tel:${number}`, 'aria-label': `Call ${number}: ${p.callback}`, text: `Call ${number}` }),
    more ? h('span', { class: 'call-note', text: p.callback }) : null,
  );
}

/** "Nurse Sam Okafor · Ward 7 (Medicine)": the sender and where they are. @param {PageView} p */
export function fromLine(p) {
  return p.from_ward ? `${p.from.name} · ${p.from_ward.name}` : p.from.name;
}

/** "Dr Omar Khan: On my way, 02:14", or null before they reply. @param {PageReceipt} r */
export function replyLine(r) {
  if (!r.reply) return null;
  return `${r.staff.name}: ${REPLY_LABEL[r.reply]}${r.replied_at != null ? `, ${clock(r.replied_at)}` : ''}`;
}

/** Every reply on a page, latest first. @param {PageView} p */
export function replies(p) {
  return p.recipients
    .filter((r) => r.reply)
    .sort((a, b) => (b.replied_at ?? 0) - (a.replied_at ?? 0))
    .map((r) => /** @type {string} */ (replyLine(r)));
}
