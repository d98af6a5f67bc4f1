// "Pages": send a page to a person or to everyone holding a role, with a
// callback that holds a number, the ward I am on and a message; pages to me
// with a big "Call 4471" link, the sender's ward, and the acknowledge and
// one-tap reply buttons ("5 min", "Call me", "On my way"); pages I sent with
// each recipient's reply ("Dr Khan: On my way, 02:14"), when the hub will
// escalate it if nobody acknowledges (by its priority), and three receipts
// (delivered, read, acknowledged), which are different facts and are shown
// separately. Both lists are keyed by page and updated in place (see
// `updateKeyed`), so focus stays put.

import { h, replaceChildren, updateKeyed } from '../dom.js';
import { PRIORITIES, PRIORITY_LABEL, ROLE_LABEL, clock } from '../format.js';
import { button } from './task-card.js';
import { CALLBACK_HINT, PAGE_REPLIES, REPLY_LABEL, callLink, callbackNumber, fromLine, replies } from '../page-words.js';

/** @typedef {import('../types.js').PageView} PageView */
/** @typedef {import('../types.js').PageReceipt} PageReceipt */
/** @typedef {import('../types.js').PageTarget} PageTarget */
/** @typedef {import('../types.js').Priority} Priority */
/** @typedef {import('../types.js').Role} Role */
/** @typedef {import('./context.js').ViewContext} ViewContext */

/** @type {Role[]} */
const PAGEABLE_ROLES = ['fy1', 'sho', 'registrar', 'consultant', 'nurse_practitioner', 'phlebotomist', 'nurse_in_charge', 'coordinator'];

/** @param {PageReceipt} r */
function receipts(r) {
  /** @param {string} label @param {number | null} at */
  const mark = (label, at) =>
    h('span', { class: `receipt ${at !== null ? 'yes' : 'no'}`, text: at !== null ? `${label} ${clock(at)}` : `not ${label.toLowerCase()}` });
  return h(
    'li',
    { class: 'recipient' },
    h('span', { class: 'name', text: r.staff.name }),
    h('span', { class: 'receipts' }, mark('Delivered', r.delivered_at), mark('Read', r.read_at), mark('Acknowledged', r.acked_at)),
  );
}

/** The sender's view of the replies: "Dr Khan: On my way, 02:14". @param {PageView} p */
function replyLines(p) {
  const lines = replies(p);
  return lines.length ? h('div', { class: 'page-replies', 'aria-label': 'Replies' }, lines.map((text) => h('p', { class: 'page-reply', text }))) : null;
}

/** @param {ViewContext} ctx */
export function pagesView(ctx) {
  const { store, link } = ctx;
  const kindPerson = h('input', { type: 'radio', name: 'target-kind', value: 'staff', id: 'page-kind-staff', checked: true });
  const kindRole = h('input', { type: 'radio', name: 'target-kind', value: 'role', id: 'page-kind-role' });
  // Nobody is chosen for her: a page to whoever came first in the list is a
  // page to the wrong person. Typing part of a name or role narrows the list.
  const find = h('input', { id: 'page-find', type: 'search', autocomplete: 'off', placeholder: 'Part of a name or role' });
  const person = h('select', { id: 'page-person', name: 'person', required: true });
  const role = h('select', { id: 'page-role', name: 'role', disabled: true }, PAGEABLE_ROLES.map((r) => h('option', { value: r, text: ROLE_LABEL[r] })));
  const priority = h('select', { id: 'page-priority', name: 'priority' }, PRIORITIES.map((p) => h('option', { value: p, text: PRIORITY_LABEL[p], selected: p === 'urgent' })));
  const callback = h('input', { id: 'page-callback', name: 'callback', required: true, maxLength: 64, autocomplete: 'off', inputMode: 'text', placeholder: 'A number: ext 4412, bleep 1234' });
  // What the recipient's phone will dial, as she types: a wrong run of
  // digits is seen before it is sent.
  const dial = h('p', { class: 'dial-preview', id: 'page-dial', 'aria-live': 'polite' });
  const showDial = () => {
    callback.setCustomValidity('');
    const n = callbackNumber(callback.value);
    dial.textContent = n ? `They will see: Call ${n}` : callback.value.trim() ? CALLBACK_HINT : '';
  };
  callback.addEventListener('input', showDial);
  const ward = h('select', { id: 'page-ward', name: 'ward' });
  const message = h('textarea', { id: 'page-message', name: 'message', rows: 2, maxLength: 500 });
  const outcome = h('div', { class: 'form-outcome', role: 'status', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'btn primary wide', text: 'Send page' });
  /** @type {string | null} */
  let waiting = null;
  const syncKind = () => {
    person.disabled = !kindPerson.checked;
    find.disabled = person.disabled;
    role.disabled = !kindRole.checked;
    // Only the picker in use is shown: one thumb, one choice.
    findField.hidden = person.disabled;
    personField.hidden = person.disabled;
    roleField.hidden = role.disabled;
  };
  kindPerson.addEventListener('change', syncKind);
  kindRole.addEventListener('change', syncKind);

  /** @param {string} id @param {string} label @param {HTMLElement} control */
  const field = (id, label, control) => h('div', { class: 'field' }, h('label', { for: id, text: label }), control);
  const findField = field(find.id, 'Find a person', find);
  const personField = field(person.id, 'Person on shift', person);
  const roleField = field(role.id, 'Everyone on shift as', role);
  roleField.hidden = true;
  const form = h(
    'form',
    { class: 'page-form' },
    h(
      'fieldset',
      { class: 'segmented' },
      h('legend', { text: 'Page' }),
      h('label', { for: kindPerson.id }, kindPerson, h('span', { text: 'A person' })),
      h('label', { for: kindRole.id }, kindRole, h('span', { text: 'A role' })),
    ),
    findField,
    personField,
    roleField,
    field(priority.id, 'Priority', priority),
    field(callback.id, 'Call back on', callback),
    dial,
    field(ward.id, 'You are on', ward),
    field(message.id, 'Message', message),
    submit,
  );
  const compose = h('details', { class: 'compose' }, h('summary', { class: 'btn secondary wide', text: 'Send a page' }), form);

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!callbackNumber(callback.value)) callback.setCustomValidity(CALLBACK_HINT);
    if (!form.reportValidity()) return;
    /** @type {PageTarget} */
    const target = kindPerson.checked ? { staff: person.value } : { role: /** @type {Role} */ (role.value) };
    const to = kindPerson.checked ? person.selectedOptions[0]?.textContent ?? '' : ROLE_LABEL[/** @type {Role} */ (role.value)];
    const entry = link.send(
      { op: 'send_page', target, priority: /** @type {Priority} */ (priority.value), callback: callback.value.trim(), message: message.value.trim(), ...(ward.value ? { ward: ward.value } : {}) },
      `Page ${to}`,
    );
    waiting = entry.id;
    submit.disabled = true;
    say(link.status === 'online' ? 'Sending…' : 'No connection: queued, NOT sent yet.', 'pending');
  });
  /** @param {string} text @param {'pending' | 'ok' | 'error'} tone */
  const say = (text, tone) => replaceChildren(outcome, h('p', { class: `notice ${tone}`, text }));
  link.addEventListener('result', (e) => {
    const { entry, result } = /** @type {CustomEvent} */ (e).detail;
    if (entry.id !== waiting || result.kind !== 'page') return;
    waiting = null;
    submit.disabled = false;
    /** @type {PageView} */
    const page = result.page;
    say(
      page.recipients.length ? `Page sent to ${page.recipients.map((r) => r.staff.name).join(', ')}.` : 'The hub took the page but no one on shift can receive it.',
      page.recipients.length ? 'ok' : 'error',
    );
    message.value = '';
    // Fold the form away so the receipts of the page just sent are in view.
    compose.open = false;
    requestAnimationFrame(() => sent.firstElementChild?.scrollIntoView({ block: 'nearest' }));
  });
  link.addEventListener('cmd-error', (e) => {
    const { entry, message: why } = /** @type {CustomEvent} */ (e).detail;
    if (entry.id !== waiting) return;
    waiting = null;
    submit.disabled = false;
    say(`Not sent: ${why}`, 'error');
  });

  const inbox = h('div', { class: 'list', id: 'pages-in' });
  const sent = h('div', { class: 'list', id: 'pages-out' });
  const el = h(
    'section',
    { class: 'view', 'aria-labelledby': 'pages-title' },
    h('h2', { id: 'pages-title', class: 'view-title', text: 'Pages' }),
    compose,
    outcome,
    h('h3', { class: 'subhead', text: 'To me' }),
    inbox,
    h('h3', { class: 'subhead', text: 'Sent by me' }),
    sent,
  );

  /** @param {PageView} p @param {boolean} mine */
  function card(p, mine) {
    const me = store.me?.id;
    const receipt = p.recipients.find((r) => r.staff.id === me);
    const pending = ctx.outbox.pendingFor(p.id).filter((e) => e.cmd.op === 'page_ack');
    const to = 'staff' in p.target ? p.recipients.map((r) => r.staff.name).join(', ') || 'unknown' : `every ${ROLE_LABEL[p.target.role]}`;
    const answered = receipt && receipt.acked_at !== null;
    return h(
      'article',
      { class: `card prio-${p.priority}`, 'data-page': p.id },
      h('header', { class: 'card-head' }, h('span', { class: `prio-chip ${p.priority}`, text: PRIORITY_LABEL[p.priority] }), h('span', { class: 'state', text: p.state === 'open' ? 'Open' : p.state === 'acknowledged' ? 'Acknowledged' : 'Undeliverable' })),
      h('h3', { class: 'where', text: mine ? `To ${to}` : `From ${fromLine(p)}` }),
      mine ? replyLines(p) : null,
      mine ? h('p', { class: 'callback' }, 'Call back: ', h('strong', { text: p.callback })) : callLink(p),
      p.message ? h('p', { class: 'situation', text: p.message }) : null,
      h('p', { class: 'meta', text: `Sent ${clock(p.sent_at)}` }),
      mine && p.escalation_level > 0
        ? h('p', { class: 'who escalated', text: `Escalated${p.escalation_level > 1 ? ` ${p.escalation_level} times` : ''}${store.escalations.has(p.id) ? `: ${store.escalations.get(p.id)?.reason}` : ''}` })
        : null,
      // When the hub chases it, at the pace of its priority (urgent after a
      // minute, soon after five by default): she knows how long she waits.
      mine && p.state === 'open' && p.next_escalation_at !== null
        ? h('p', { class: 'meta next-escalation', text: `Escalates at ${clock(p.next_escalation_at)} unless acknowledged` })
        : null,
      mine ? h('ul', { class: 'recipients', 'aria-label': 'Receipts' }, p.recipients.map(receipts)) : null,
      !mine && receipt && answered
        ? h('p', { class: 'who done', text: `You acknowledged at ${clock(/** @type {number} */ (receipt.acked_at))}${receipt.reply ? ` · you replied “${REPLY_LABEL[receipt.reply]}”` : ''}` })
        : null,
      pending.length ? h('p', { class: 'pending', text: `Queued: ${pending.map((e) => e.label).join(', ')} (waiting for the hub)` }) : null,
      !mine && receipt && !answered && !pending.length ? h('div', { class: 'actions' }, button('Acknowledge', () => ctx.actions.ackPage(p), 'primary')) : null,
      // A reply acknowledges; after an acknowledgement it tells the sender more.
      !mine && receipt && !pending.length
        ? h(
            'div',
            { class: 'actions page-reply-buttons', role: 'group', 'aria-label': answered ? 'Send a reply' : 'Reply and acknowledge' },
            PAGE_REPLIES.filter((r) => r !== receipt.reply).map((r) => button(REPLY_LABEL[r], () => ctx.actions.ackPage(p, r))),
          )
        : null,
    );
  }

  /** The people on shift that match what she typed; the one she chose stays. @param {import('../types.js').StaffView[]} onShift */
  function fillPeople(onShift) {
    const keep = person.value;
    const typed = find.value.trim().toLowerCase();
    const label = (/** @type {import('../types.js').StaffView} */ s) => `${s.name} (${ROLE_LABEL[s.shift?.role ?? s.role]})`;
    const shown = onShift.filter((s) => s.id === keep || !typed || label(s).toLowerCase().includes(typed));
    replaceChildren(person, [
      h('option', { value: '', text: shown.length ? 'Choose a person…' : 'Nobody on shift matches' }),
      ...shown.map((s) => h('option', { value: s.id, text: label(s) })),
    ]);
    person.value = shown.some((s) => s.id === keep) ? keep : '';
    // One match is the one meant, as a search box would have it.
    if (!person.value && typed && shown.length === 1) person.value = shown[0].id;
  }
  find.addEventListener('input', () => update());

  function update() {
    const dir = store.directory;
    const me = store.me;
    const onShift = (dir?.staff ?? []).filter((s) => s.shift !== null && s.id !== me?.id).sort((a, b) => a.name.localeCompare(b.name));
    const key = `${onShift.map((s) => `${s.id}:${s.shift?.role}`).join('|')}/${find.value}`;
    if (person.dataset.key !== key) {
      person.dataset.key = key;
      fillPeople(onShift);
    }
    // Where I am: the ward of my shift when it is one ward (covering
    // several, I could be on any: as the hub, guess none); I can change it.
    const wards = dir?.wards ?? [];
    const wardKey = `${wards.map((w) => w.id).join('|')}/${me?.shift?.wards.join('|') ?? ''}`;
    if (ward.dataset.key !== wardKey) {
      ward.dataset.key = wardKey;
      const own = me?.shift?.wards.length === 1 ? me.shift.wards[0] : '';
      const keep = ward.value || own;
      replaceChildren(ward, h('option', { value: '', text: 'Not on a ward' }), wards.map((w) => h('option', { value: w.id, text: w.name })));
      ward.value = wards.some((w) => w.id === keep) ? keep : '';
    }
    const toMe = store.pagesToMe();
    const fromMe = store.pagesFromMe();
    updateKeyed(inbox, toMe.length ? toMe.map((p) => [`p:${p.id}`, card(p, false)]) : [['empty', h('p', { class: 'empty', text: 'No pages to you.' })]]);
    updateKeyed(sent, fromMe.length ? fromMe.map((p) => [`p:${p.id}`, card(p, true)]) : [['empty', h('p', { class: 'empty', text: 'You have not sent a page.' })]]);
  }

  return { el, update };
}
