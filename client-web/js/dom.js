// A tiny element builder: enough to write views as plain functions without a
// framework (the app has a handful of screens; a virtual DOM would not pay),
// and a keyed list update: a view builds its list afresh and `updateKeyed`
// brings the elements on screen up to date in place, so the element a nurse
// has focused or is about to tap is never swapped for a new one.

/**
 * The current handler of each event type an element built here listens to:
 * the listener added once looks it up, so `morph` can give an element kept
 * on screen the handler of the element built to replace it.
 * @type {WeakMap<EventTarget, Map<string, (e: Event) => void>>}
 */
const handlers = new WeakMap();

/**
 * @typedef {string | number | Node | null | undefined | false} Child
 */

/**
 * Create an element. `attrs` keys: `class`, `text`, `on<event>` handlers,
 * boolean/string attributes; anything else that is a property of the element
 * (e.g. `value`, `disabled`) is set as a property.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any> | null} [attrs]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = String(value);
    else if (key === 'text') el.textContent = String(value);
    else if (key.startsWith('on') && typeof value === 'function') {
      listen(el, key.slice(2), value);
    } else if (key in el && !key.includes('-')) {
      try {
        /** @type {any} */ (el)[key] = value;
      } catch {
        // Read-only reflections (e.g. input.list) can only be set as attributes.
        el.setAttribute(key, String(value));
      }
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

/**
 * @param {Element} parent
 * @param {(Child | Child[])[]} children
 */
function append(parent, children) {
  for (const child of children) {
    if (Array.isArray(child)) append(parent, child);
    else if (child === null || child === undefined || child === false) continue;
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

/**
 * Replace the children of `parent`.
 * @param {Element} parent
 * @param {...(Child | Child[])} children
 */
export function replaceChildren(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
}

/** @param {EventTarget} el @param {string} type @param {(e: Event) => void} fn */
function listen(el, type, fn) {
  let own = handlers.get(el);
  if (!own) {
    own = new Map();
    handlers.set(el, own);
  }
  const held = own;
  if (!held.has(type)) el.addEventListener(type, (e) => held.get(type)?.(e));
  held.set(type, fn);
}

/**
 * Make `old` look and behave like `fresh` (built by `h` for the same thing),
 * touching only what differs: attributes, text, handlers, and children
 * matched in order by what they are (`identity`). Returns the node now on
 * screen: `old`, or `fresh` put in its place when they are not the same
 * kind of element. A `<details>` keeps the `open` the user gave it.
 * @param {ChildNode} old @param {ChildNode} fresh
 * @returns {ChildNode}
 */
export function morph(old, fresh) {
  if (old.nodeType !== fresh.nodeType || old.nodeName !== fresh.nodeName) {
    old.replaceWith(fresh);
    return fresh;
  }
  if (!(old instanceof Element) || !(fresh instanceof Element)) {
    if (old.nodeValue !== fresh.nodeValue) old.nodeValue = fresh.nodeValue;
    return old;
  }
  const userOpen = old.tagName === 'DETAILS';
  for (const { name } of [...old.attributes]) {
    if (!fresh.hasAttribute(name) && !(userOpen && name === 'open')) old.removeAttribute(name);
  }
  for (const { name, value } of fresh.attributes) {
    if (old.getAttribute(name) !== value) old.setAttribute(name, value);
  }
  // The kept element gets the fresh build's handlers (they close over the
  // newest view), and loses any the fresh build no longer has.
  const mine = handlers.get(old);
  const theirs = handlers.get(fresh);
  for (const type of [...(mine?.keys() ?? [])]) if (!theirs?.has(type)) mine?.delete(type);
  for (const [type, fn] of theirs ?? []) listen(old, type, fn);
  morphChildren(old, [...fresh.childNodes]);
  return old;
}

/**
 * Match `parent`'s children to `now` in order by `identity`: a child that
 * appeared (a "Declined by" line) is inserted and the ones after it are
 * still matched to their own elements, instead of every later element
 * being rewritten into its neighbour (and a button into another button).
 * @param {Element} parent @param {ChildNode[]} now
 */
function morphChildren(parent, now) {
  const was = [...parent.childNodes];
  let i = 0;
  for (const child of now) {
    const id = identity(child);
    let j = i;
    while (j < was.length && identity(was[j]) !== id) j += 1;
    if (j === was.length) {
      parent.insertBefore(child, was[i] ?? null);
      continue;
    }
    // The ones skipped over are gone from the fresh build.
    for (; i < j; i += 1) was[i].remove();
    morph(was[j], child);
    i = j + 1;
  }
  for (; i < was.length; i += 1) was[i].remove();
}

/**
 * What makes two built nodes "the same part": the tag and first class (a
 * class that says a state, like `overdue`, comes after), a button's label
 * too (Start and Complete are different buttons), or a `data-key`.
 * @param {ChildNode} node
 */
function identity(node) {
  if (!(node instanceof Element)) return node.nodeName;
  const key = node.getAttribute('data-key');
  if (key !== null) return `key:${key}`;
  const first = node.classList[0] ?? '';
  return node.tagName === 'BUTTON' ? `BUTTON.${first}:${node.textContent}` : `${node.tagName}.${first}`;
}

/**
 * Bring `parent`'s children to `items`, each an element built afresh with
 * its key: the element already shown for a key is kept and morphed, new
 * keys are inserted, gone ones removed. Of the kept elements the most that
 * are already in order stay where they are (the one holding the focus
 * counts for more than all the others), and only the rest are moved: moving
 * an element takes the focus from it. Keys are kept in `data-key`.
 * @param {Element} parent
 * @param {[string, Element][]} items
 */
export function updateKeyed(parent, items) {
  const wanted = new Set(items.map(([key]) => key));
  /** Kept elements by key, with their place among the kept. @type {Map<string, {el: Element, at: number}>} */
  const shown = new Map();
  for (const child of [...parent.childNodes]) {
    const key = child instanceof HTMLElement ? child.dataset.key : undefined;
    if (key !== undefined && wanted.has(key) && !shown.has(key)) shown.set(key, { el: /** @type {Element} */ (child), at: shown.size });
    else child.remove();
  }
  const els = items.map(([key, fresh]) => {
    if (fresh instanceof HTMLElement) fresh.dataset.key = key;
    const held = shown.get(key);
    return held ? /** @type {Element} */ (morph(held.el, fresh)) : fresh;
  });
  const stay = inOrder(items.map(([key]) => shown.get(key)?.at ?? -1), els);
  let next = null;
  for (let i = els.length - 1; i >= 0; i -= 1) {
    if (!stay.has(i)) parent.insertBefore(els[i], next);
    next = els[i];
  }
}

/**
 * The items to leave in place: the heaviest run of kept elements whose old
 * places increase (a longest increasing subsequence, weighted so the
 * element holding the focus is in it). Lists here are tens of cards, so the
 * quadratic search is plenty.
 * @param {number[]} was old place of each item, -1 for a new one
 * @param {Element[]} els
 * @returns {Set<number>}
 */
function inOrder(was, els) {
  const focus = document.activeElement;
  const weight = els.map((el) => (focus && el.contains(focus) ? els.length + 1 : 1));
  /** @type {number[]} */ const best = [];
  /** @type {number[]} */ const prev = [];
  let top = -1;
  for (let i = 0; i < was.length; i += 1) {
    best[i] = -1;
    prev[i] = -1;
    if (was[i] < 0) continue;
    best[i] = weight[i];
    for (let j = 0; j < i; j += 1) {
      if (was[j] >= 0 && was[j] < was[i] && best[j] + weight[i] > best[i]) {
        best[i] = best[j] + weight[i];
        prev[i] = j;
      }
    }
    if (top < 0 || best[i] > best[top]) top = i;
  }
  const stay = new Set();
  for (let i = top; i >= 0; i = prev[i]) stay.add(i);
  return stay;
}
