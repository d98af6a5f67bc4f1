// The SBAR on the full-screen alert, so a doctor with twenty offers can judge
// one without opening its card: background, assessment and recommendation,
// each under its label, the parts left empty not shown at all. A long part is
// cut at a word with "…" so the buttons stay near; "Read all" shows the rest
// in place (and stays open while the alert is redrawn for the same task).

import { h } from '../dom.js';

/** Past this many characters a part is cut and "Read all" offered. */
export const SBAR_SHOWN = 160;

/**
 * The text cut at the last word that fits in `SBAR_SHOWN` characters.
 * @param {string} text
 */
export function clip(text) {
  const head = text.slice(0, SBAR_SHOWN);
  const cut = head.lastIndexOf(' ');
  return `${(cut > SBAR_SHOWN / 2 ? head.slice(0, cut) : head).replace(/[\s,;:.]+$/, '')}…`;
}

/** @type {[keyof import('../types.js').TaskView['sbar'], string][]} */
const PARTS = [
  ['background', 'Background'],
  ['assessment', 'Assessment'],
  ['recommendation', 'Recommendation'],
];

/**
 * A renderer that remembers which parts she opened, per task.
 * @returns {(task: import('../types.js').TaskView) => HTMLElement | null}
 */
export function alertSbar() {
  /** Parts opened with "Read all", as `task id|part`. @type {Set<string>} */
  const opened = new Set();
  return (task) => {
    const rows = PARTS.filter(([key]) => task.sbar[key].trim()).map(([key, label]) => {
      const text = task.sbar[key].trim();
      const id = `${task.id}|${key}`;
      const dd = h('dd', { class: 'alert-sbar-text' });
      const show = () => {
        const whole = text.length <= SBAR_SHOWN || opened.has(id);
        dd.replaceChildren(
          whole ? text : clip(text),
          whole
            ? ''
            : h('button', {
                type: 'button',
                class: 'btn ghost small alert-more',
                text: 'Read all',
                'aria-label': `Read all of the ${label.toLowerCase()}`,
                onclick: () => {
                  opened.add(id);
                  show();
                  dd.focus();
                },
              }),
        );
      };
      // Focus moves to the whole text once the button that opened it is gone.
      dd.tabIndex = -1;
      show();
      return h('div', { class: `alert-sbar-part sbar-${key}` }, h('dt', { text: label }), dd);
    });
    return rows.length ? h('dl', { class: 'alert-sbar' }, rows) : null;
  };
}
