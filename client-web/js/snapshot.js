// The `snapshot` command comes in parts (PROTOCOL.md section 5): the first
// request has no `after`; each answer's `next` is the token to send as
// `after` for the following part, null on the last. A hub that does not page
// answers without `next`, which counts as the last part. Both clients (the
// handheld and the dashboard) fetch every part and merge each one as it
// comes, the newest `version` winning, while events go on as usual.

/** @typedef {import('./types.js').Command} Command */
/** @typedef {import('./types.js').CommandResult} CommandResult */

/**
 * The request for one part: the first without `after`, the others with the
 * previous part's `next`. (Cast so it type-checks before and after the
 * declarations have `after`.)
 * @param {string | null} after
 * @returns {Command}
 */
export function snapshotCmd(after) {
  return after === null ? { op: 'snapshot' } : /** @type {Command} */ ({ op: 'snapshot', after });
}

/**
 * The token for the part after this one, or null when this was the last.
 * @param {CommandResult} result a `snapshot` result
 * @returns {string | null}
 */
export function nextPart(result) {
  const next = /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (result)).next;
  return typeof next === 'string' ? next : null;
}
