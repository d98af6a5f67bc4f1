// The side column: pages still waiting for an acknowledgement (with their
// delivered/read receipts) and escalations as they happen, newest first; and
// the form to page a person or everyone on shift in a role.

import { h } from '../js/dom.js';
import { PRIORITIES, PRIORITY_LABEL, clock } from '../js/format.js';
import { ago, roleLabel, roleOptions } from './task-text.js';
import { field, outcomeLine, uid } from './ui.js';

/** @typedef {import('../js/types.js').PageView} PageView */
/** @typedef {import('../js/types.js').Priority} Priority */
/** @typedef {import('../js/types.js').Role} Role */
/** @typedef {import('./state.js').DashState} DashState */
/** @typedef {import('./link.js').DashLink} DashLink */

/**
 * @param {{state: DashState, link: DashLink, onOpenTask: (id: string) => void}} ctx
 */
export function createFeed({ state, link, onOpenTask }) {
  // The lists scroll when long (a busy night), so they take the keyboard focus
  // too: someone without a mouse must be able to scroll them.
  const pagesList = h('ul', { class: 'feed pages-list', tabindex: 0, 'aria-labelledby': 'pages-title' });
  const escList = h('ol', { class: 'feed esc-list', tabindex: 0, 'aria-labelledby': 'esc-title' });
  const pagesCount = h('span', { class: 'badge' });
  const el = h(
    'aside',
    { class: 'side', 'aria-label': 'Pages and escalations' },
    h('section', { class: 'panel', 'aria-labelledby': 'pages-title' }, h('h2', { id: 'pages-title' }, 'Pages awaiting acknowledgement ', pagesCount), pagesList),
    h('section', { class: 'panel', 'aria-labelledby': 'esc-title' }, h('h2', { id: 'esc-title', text: 'Escalations' }), escList),
  );

  /** @param {PageView} p */
  function target(p) {
    return 'staff' in p.target ? state.staff.get(p.target.staff)?.name ?? 'a person' : `every ${roleLabel(p.target.role)}`;
  }

  function renderPages() {
    const now = link.now();
    const pages = [...state.pages.values()].sort((a, b) => PRIORITIES.indexOf(a.priority) - PRIORITIES.indexOf(b.priority) || a.sent_at - b.sent_at);
    pagesCount.textContent = String(pages.length);
    pagesList.replaceChildren(
      ...(pages.length
        ? pages.map((p) => {
            const delivered = p.recipients.filter((r) => r.delivered_at !== null).length;
            const read = p.recipients.filter((r) => r.read_at !== null).length;
            return h(
              'li',
              { class: `item prio-edge-${p.priority}${p.escalation_level > 0 ? ' escalated' : ''}`, 'data-page': p.id },
              h('span', { class: `chip prio-${p.priority}`, text: PRIORITY_LABEL[p.priority] }),
              h('p', { class: 'line' }, h('strong', { text: `${p.from.name} → ${target(p)}` })),
              h('p', { class: 'line', text: p.message || '(no message)' }),
              h('p', { class: 'line muted', text: `Call back: ${p.callback}` }),
              h('p', { class: 'line muted', text: `Sent ${clock(p.sent_at)} (${ago(p.sent_at, now)}); delivered ${delivered}/${p.recipients.length}, read ${read}/${p.recipients.length}${p.escalation_level > 0 ? `; ESCALATED ×${p.escalation_level}` : ''}` }),
            );
          })
        : [h('li', { class: 'empty', text: 'None waiting.' })]),
    );
  }

  function renderFeed() {
    const now = link.now();
    escList.replaceChildren(
      ...(state.feed.length
        ? state.feed.slice(0, 50).map((f) => {
            const open = f.about === 'task' ? state.tasks.get(f.id) : undefined;
            const task = open ?? (f.about === 'task' ? state.closedViews.get(f.id) : undefined);
            const what = task ? `Task: ${state.wardName(task.ward)} bed ${task.bed}${open ? '' : ' (closed)'}` : f.about === 'task' ? 'Task' : 'Page';
            return h(
              'li',
              { class: `item prio-edge-${f.priority}`, 'data-feed': f.key },
              h('p', { class: 'line' }, h('span', { class: `chip prio-${f.priority}`, text: PRIORITY_LABEL[f.priority] }), ' ', h('strong', { text: `${what}, level ${f.level}` }), ` at ${clock(f.at)} (${ago(f.at, now)})`),
              // The plain account; the ladder's own steps stay in reach as the tooltip.
              h('p', { class: 'line', text: f.words, title: f.reason }),
              task ? h('button', { type: 'button', class: 'btn small secondary', text: 'Open task', onclick: () => onOpenTask(f.id) }) : null,
            );
          })
        : [h('li', { class: 'empty', text: 'No escalations since this screen opened.' })]),
    );
  }

  /** Whether any of these tasks is in the feed (its line then needs redrawing). @param {Set<string>} ids */
  function mentions(ids) {
    return ids.size > 0 && state.feed.slice(0, 50).some((f) => ids.has(f.id));
  }

  return { el, renderPages, renderFeed, mentions };
}

/**
 * The "send a page" dialog: to a person or to everyone on shift in a role.
 * @param {{state: DashState, link: DashLink}} ctx
 */
export function pageDialog({ state, link }) {
  const dialog = h('dialog', { class: 'send-page', 'aria-labelledby': 'send-page-title' });

  function open() {
    const outcome = outcomeLine();
    const toPerson = h('input', { type: 'radio', name: 'page-to', id: uid('page-to-person'), value: 'staff', checked: true });
    const toRole = h('input', { type: 'radio', name: 'page-to', id: uid('page-to-role'), value: 'role' });
    const person = h(
      'select',
      { id: 'page-person' },
      [...state.staff.values()]
        .filter((s) => s.shift !== null)
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((s) => h('option', { value: s.id, text: `${s.name} (${roleLabel(s.shift?.role ?? s.role)})` })),
    );
    const role = h('select', { id: 'page-role' }, roleOptions().map(([value, text]) => h('option', { value, text })));
    const prio = h('select', { id: 'page-priority' }, PRIORITIES.map((p) => h('option', { value: p, text: PRIORITY_LABEL[p], selected: p === 'urgent' })));
    const callback = h('input', { id: 'page-callback', required: true, maxLength: 64, value: 'Site coordinator' });
    const message = h('textarea', { id: 'page-message', rows: 3, maxLength: 500 });
    const form = h(
      'form',
      {
        onsubmit: async (/** @type {SubmitEvent} */ e) => {
          e.preventDefault();
          const target = toRole.checked ? { role: /** @type {Role} */ (role.value) } : { staff: person.value };
          const who = toRole.checked ? `every ${roleLabel(/** @type {Role} */ (role.value))} on shift` : state.staff.get(person.value)?.name ?? 'them';
          outcome.busy('Sending…');
          const answer = await link.command({ op: 'send_page', target, priority: /** @type {Priority} */ (prio.value), callback: callback.value.trim(), message: message.value.trim() });
          if (answer.ok) state.applyResult(answer.result);
          const undeliverable = answer.ok && answer.result.kind === 'page' && answer.result.page.state === 'undeliverable';
          outcome.show(answer, undeliverable ? `Nobody to page: no one is on shift as that role.` : `Page sent to ${who}.`);
        },
      },
      h('fieldset', { class: 'to' }, h('legend', { text: 'Send to' }), h('div', { class: 'check' }, toPerson, h('label', { for: toPerson.id, text: 'A person' })), h('div', { class: 'check' }, toRole, h('label', { for: toRole.id, text: 'Everyone on shift in a role' }))),
      field('Person', person),
      field('Role', role),
      field('Priority', prio),
      field('Call back on', callback),
      field('Message', message),
      h('div', { class: 'row' }, h('button', { type: 'submit', class: 'btn primary', text: 'Send page' }), h('button', { type: 'button', class: 'btn secondary', text: 'Close', onclick: () => dialog.close() })),
      outcome.el,
    );
    dialog.replaceChildren(h('h2', { id: 'send-page-title', text: 'Send a page' }), form);
    dialog.showModal();
  }

  return { el: dialog, open };
}
