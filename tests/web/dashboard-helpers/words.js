// Words split across lines: every word of every visible text node is
// measured, and one whose characters sit on more than one line was broken
// mid-way ("ESCALAT ED", "Offerin g").

/**
 * Words split across lines in the page's visible text, with where they are.
 * Hyphens and slashes are allowed break points, so "a/b" is two words.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<string[]>}
 */
export function brokenWords(page) {
  return page.evaluate(() => {
    /** @type {string[]} */
    const broken = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent ?? '';
      for (const m of text.matchAll(/[^\s\-/–—]+/g)) {
        if (m[0].length < 2) continue;
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        if (tops.size > 1) {
          const el = /** @type {Element} */ (node.parentElement);
          broken.push(`"${m[0]}" in <${el.tagName.toLowerCase()} class="${el.className}">`);
        }
      }
    }
    return broken;
  });
}
