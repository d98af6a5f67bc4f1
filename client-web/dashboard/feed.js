// The side column: pages still waiting for an acknowledgement (with their
// delivered/read receipts), the pages answered since the screen opened with
// their replies ("Dr Khan: On my way, 02:14"), and escalations as they
// happen, newest first; the form to page someone is `page-dialog.js`.

import { h } from '../js/dom.js';
import { PRIORITIES, PRIORITY_LABEL, clock } from '../js/format.js';
import { ago, roleLabel } from './task-text.js';
import { fromLine, replies } from '../js/page-words.js';

/** @typedef {import('../js/types.js').PageView} PageView */
/** @typedef {import('../js/types.js').Priority} Priority */
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
  const answeredList = h('ul', { class: 'feed answered-list', tabindex: 0, 'aria-labelledby': 'answered-title' });
  const el = h(
    'aside',
    { class: 'side', 'aria-label': 'Pages and escalations' },
    h('section', { class: 'panel', 'aria-labelledby': 'pages-title' }, h('h2', { id: 'pages-title' }, 'Pages awaiting acknowledgement ', pagesCount), pagesList, h('h3', { id: 'answered-title', class: 'sub', text: 'Answered' }), answeredList),
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
              h('p', { class: 'line' }, h('strong', { text: `${fromLine(p)} → ${target(p)}` })),
              h('p', { class: 'line', text: p.message || '(no message)' }),
              h('p', { class: 'line muted', text: `Call back: ${p.callback}` }),
              h('p', { class: 'line muted', text: `Sent ${clock(p.sent_at)} (${ago(p.sent_at, now)}); delivered ${delivered}/${p.recipients.length}, read ${read}/${p.recipients.length}${p.escalation_level > 0 ? `; ESCALATED ×${p.escalation_level}` : ''}` }),
            );
          })
        : [h('li', { class: 'empty', text: 'None waiting.' })]),
    );
    renderAnswered();
  }

  /** Answered pages, newest first: who answered, and how. */
  function renderAnswered() {
    const answered = [...state.answered.values()].reverse();
    answeredList.replaceChildren(
      ...(answered.length
        ? answered.map((p) => {
            const acked = p.recipients.filter((r) => r.acked_at !== null && !r.reply).map((r) => `${r.staff.name} acknowledged${r.acked_at !== null ? `, ${clock(r.acked_at)}` : ''}`);
            return h(
              'li',
              { class: `item prio-edge-${p.priority}`, 'data-page': p.id },
              h('p', { class: 'line' }, h('strong', { text: `${fromLine(p)} → ${target(p)}` })),
              h('p', { class: 'line', text: p.message || '(no message)' }),
              [...replies(p), ...acked].map((text) => h('p', { class: 'line page-reply', text })),
            );
          })
        : [h('li', { class: 'empty', text: 'None answered since this screen opened.' })]),
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
