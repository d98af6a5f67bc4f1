// Text a tired person reads at arm's length: every visible text node on a
// screen is measured (computed font size, on screen at all), and the layout
// of a phone on its side is checked (how much of the height is left for the
// content, whether a button is in sight without scrolling).

import assert from 'node:assert/strict';

/** The smallest text size, in CSS px, for anything a member of staff must read. */
export const MIN_TEXT_PX = 16;

/**
 * Visible text under `MIN_TEXT_PX`, as `"text" <tag class> 14px`. Text that
 * is not painted (hidden, visibility hidden, zero-sized as a screen-reader
 * only label is) does not count; `except` is a list of CSS selectors whose
 * text may be smaller, each to be justified where it is given.
 * @param {import('playwright-core').Page} page
 * @param {string[]} [except]
 * @returns {Promise<string[]>}
 */
export function smallText(page, except = []) {
  return page.evaluate(
    ({ min, except }) => {
      /** @type {string[]} */
      const small = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      const range = document.createRange();
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const text = (node.textContent ?? '').trim();
        const el = node.parentElement;
        if (!text || !el) continue;
        // Not rendered: hidden, in a closed <details>, visibility or opacity off.
        if (!el.checkVisibility({ contentVisibilityAuto: false, opacityProperty: true, visibilityProperty: true })) continue;
        const style = getComputedStyle(el);
        range.selectNodeContents(node);
        const painted = [...range.getClientRects()].some((r) => r.width > 1 && r.height > 1);
        if (!painted) continue;
        // A text clipped to a 1 px box (a label for screen readers) is not seen.
        const box = el.getBoundingClientRect();
        if (box.width <= 1 || box.height <= 1) continue;
        if (except.some((sel) => el.closest(sel))) continue;
        const size = parseFloat(style.fontSize);
        if (size < min - 0.01) small.push(`"${text.slice(0, 40)}" <${el.tagName.toLowerCase()} class="${el.getAttribute('class') ?? ''}"> ${size}px`);
      }
      return small;
    },
    { min: MIN_TEXT_PX, except },
  );
}

/**
 * Fail when any visible text on the screen is under `MIN_TEXT_PX`.
 * @param {import('playwright-core').Page} page @param {string} screen @param {string[]} [except]
 */
export async function expectLegible(page, screen, except = []) {
  assert.deepEqual(await smallText(page, except), [], `text under ${MIN_TEXT_PX} px on the ${screen} screen`);
}

/**
 * The height of the element `selector` as a share of the viewport's (0..1),
 * counting only the part inside the viewport.
 * @param {import('playwright-core').Page} page @param {string} selector
 */
export function heightShare(page, selector) {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    if (!el) throw new Error(`no ${sel}`);
    const r = el.getBoundingClientRect();
    const visible = Math.min(r.bottom, innerHeight) - Math.max(r.top, 0);
    return Math.max(0, visible) / innerHeight;
  }, selector);
}

/**
 * Whether the element is wholly inside the viewport and on top there (a tap
 * at its middle reaches it), with nothing scrolled.
 * @param {import('playwright-core').Locator} locator
 */
export function fullyInSight(locator) {
  return locator.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const inside = r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight + 0.5 && r.right <= innerWidth + 0.5 && r.width > 0;
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return inside && !!hit && (hit === el || el.contains(hit));
  });
}
