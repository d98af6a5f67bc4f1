// Where this copy of the client lives. A deployment of several hospitals
// ("sites") serves each site's client under `/site/<name>/` and the first
// site's at the plain URLs (docs/cluster.md, "Several sites"); the hub takes
// the prefix off before the site's routes see a request. So the client never
// names a root path: every URL it calls is resolved against its own folder,
// and every localStorage key of a prefixed site carries the site's name, so
// that north's and south's client opened on one phone (one origin, one
// localStorage) keep separate sessions, stores, outboxes and drafts.

/**
 * The app's folder: the parent of `js/`, whichever page imported this
 * module (`/` or `/site/north/`; the dashboard at `.../dashboard/` shares
 * its parent's).
 */
export const BASE = new URL('../', import.meta.url);

/** The site's name under `/site/<name>/`, or null at the plain URLs. */
export const SITE = siteOf(BASE);

/** @param {URL} base @returns {string | null} */
export function siteOf(base) {
  if (base.protocol !== 'http:' && base.protocol !== 'https:') return null;
  const m = /\/site\/([^/]+)\/$/.exec(base.pathname);
  return m ? decodeURIComponent(m[1]) : null;
}

/**
 * An address of this site's hub or client: `path` is relative (no leading
 * slash), e.g. `api/login`.
 * @param {string} path
 */
export function siteUrl(path) {
  return new URL(path, BASE);
}

/** This site's WebSocket (`ws` under the base, wss on https). */
export function wsUrl() {
  const url = siteUrl('ws');
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

/**
 * The localStorage key for `key` on this site: unchanged at the plain URLs
 * (phones keep their session and unsent work across the upgrade that added
 * sites), `site:<name>:<key>` under a site's prefix.
 * @param {string} key
 */
export function storageKey(key) {
  return SITE === null ? key : `site:${SITE}:${key}`;
}
