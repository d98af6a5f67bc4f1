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
 * touching only what differs: attributes, text, handlers, children by
 * position. Returns the node now on screen: `old`, or `fresh` put in its
 * place when they are not the same kind of element. A `<details>` keeps the
 * `open` the user gave it.
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
  for (const [type, fn] of handlers.get(fresh) ?? []) listen(old, type, fn);
  const was = [...old.childNodes];
  const now = [...fresh.childNodes];
  now.forEach((child, i) => {
    if (i < was.length) morph(was[i], child);
    else old.appendChild(child);
  });
  for (const child of was.slice(now.length)) child.remove();
  return old;
}

/**
 * Bring `parent`'s children to `items`, each an element built afresh with
 * its key: the element already shown for a key is kept and morphed, new
 * keys are inserted, gone ones removed, and only elements out of order are
 * moved. Keys are kept in `data-key`.
 * @param {Element} parent
 * @param {[string, Element][]} items
 */
export function updateKeyed(parent, items) {
  const wanted = new Set(items.map(([key]) => key));
  /** @type {Map<string, Element>} */
  const shown = new Map();
  for (const child of [...parent.childNodes]) {
    const key = child instanceof HTMLElement ? child.dataset.key : undefined;
    if (key !== undefined && wanted.has(key) && !shown.has(key)) shown.set(key, /** @type {Element} */ (child));
    else child.remove();
  }
  let at = parent.firstElementChild;
  for (const [key, fresh] of items) {
    if (fresh instanceof HTMLElement) fresh.dataset.key = key;
    const held = shown.get(key);
    const el = held ? /** @type {Element} */ (morph(held, fresh)) : fresh;
    if (held && el !== held && at === held) at = el;
    if (el !== at) parent.insertBefore(el, at);
    else at = at.nextElementSibling;
  }
}
