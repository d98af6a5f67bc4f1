// What every view is handed: the state, the link, the queued commands and the
// shared verbs, plus small lookups (ward names) that need the directory.

/**
 * @typedef {object} ViewContext
 * @property {import('../store.js').Store} store
 * @property {import('../connection.js').Link} link
 * @property {import('../outbox.js').Outbox} outbox
 * @property {import('../actions.js').Actions} actions
 * @property {(id: string) => string} wardName
 */

/**
 * @param {import('../store.js').Store} store
 * @returns {(id: string) => string}
 */
export function wardNamer(store) {
  return (id) => store.directory?.wards.find((w) => w.id === id)?.name ?? id.toUpperCase();
}
