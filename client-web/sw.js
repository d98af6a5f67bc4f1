// Service worker: keeps the app shell in a cache so that reloading with no
// network still opens the app (it then shows "offline" and its saved state),
// and turns a tap on a system notification into focusing the app.
// Network first for the shell, so a new client version is picked up at once
// when the hub is reachable; the hub's API and WebSocket are never cached.

const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));

/**
 * The worker's folder, `/` or a site's `/site/<name>/` (docs/cluster.md):
 * every path below is relative to it, so each site's worker keeps its own
 * site's shell and leaves the other sites' alone.
 */
const SCOPE = sw.registration.scope;
const SCOPE_PATH = new URL(SCOPE).pathname;
/** The cache of this scope. The plain URLs' name is as it always was, so an upgraded phone keeps its copy. */
const CACHE_VERSION = 'wardpage-shell-v1';
const CACHE = SCOPE_PATH === '/' ? CACHE_VERSION : `${CACHE_VERSION} ${SCOPE_PATH}`;
/** Whether cache `name` is one of this scope's (of any version). @param {string} name */
const ownCache = (name) => name.startsWith('wardpage-shell-') && (name.split(' ')[1] ?? '/') === SCOPE_PATH;
/** Give up on a slow network after this and answer from the cache. */
const NETWORK_TIMEOUT_MS = 4000;
/** Everything the app needs to start; tests/web checks this list is complete. */
const SHELL = [
  './',
  'index.html',
  'app.css',
  'alert.css',
  'landscape.css',
  'manifest.webmanifest',
  'icons/icon.svg',
  'icons/icon-192.png',
  'icons/icon-512.png',
  'js/actions.js',
  'js/alerts.js',
  'js/base.js',
  'js/clinical.js',
  'js/connection.js',
  'js/device.js',
  'js/dom.js',
  'js/escalation-words.js',
  'js/format.js',
  'js/link-core.js',
  'js/main.js',
  'js/news2.js',
  'js/notices.js',
  'js/outbox.js',
  'js/page-words.js',
  'js/reach.js',
  'js/reduce.js',
  'js/session.js',
  'js/snapshot.js',
  'js/sound.js',
  'js/store.js',
  'js/types.js',
  'js/views/alert-overlay.js',
  'js/views/alert-sbar.js',
  'js/views/busy.js',
  'js/views/chart.js',
  'js/views/context.js',
  'js/views/dialog.js',
  'js/views/handover-note.js',
  'js/views/handover.js',
  'js/views/login.js',
  'js/views/obs-entry.js',
  'js/views/offline-conflict.js',
  'js/views/pages.js',
  'js/views/patient-actions.js',
  'js/views/patient-list.js',
  'js/views/patients.js',
  'js/views/raise.js',
  'js/views/raised.js',
  'js/views/shell.js',
  'js/views/status.js',
  'js/views/task-card.js',
  'js/views/toast.js',
  'js/views/unsent.js',
  'js/views/work.js',
];
const NEVER_CACHED = ['api/', 'ws', 'healthz', 'metrics', 'readyz', 'fhir'];

/**
 * `url` relative to the scope, or null if it is not this worker's: another
 * origin, or another site's client (`site/<name>/...` lies inside the plain
 * URLs' scope `/`, and is that site's worker's to answer).
 * @param {string} url
 */
function inScope(url) {
  if (!url.startsWith(SCOPE)) return null;
  const rest = url.slice(SCOPE.length);
  return rest.startsWith('site/') ? null : rest;
}

sw.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((p) => new URL(p, SCOPE).href)))
      .then(() => sw.skipWaiting()),
  );
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => ownCache(k) && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => sw.clients.claim()),
  );
});

sw.addEventListener('fetch', (event) => {
  const rest = inScope(event.request.url);
  if (event.request.method !== 'GET' || rest === null) return;
  if (NEVER_CACHED.some((p) => rest.startsWith(p))) return;
  event.respondWith(networkFirst(event.request));
});

/** @param {Request} request */
async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await withTimeout(fetch(request), NETWORK_TIMEOUT_MS);
    if (response.ok) void cache.put(request, response.clone());
    return response;
  } catch {
    const cached = (await cache.match(request, { ignoreSearch: true })) ?? (request.mode === 'navigate' ? await cache.match(SCOPE) : undefined);
    return cached ?? new Response('wardpage is offline and this file is not cached', { status: 503 });
  }
}

/**
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @returns {Promise<T>}
 */
function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('network timeout')), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

sw.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(
    sw.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((windows) => {
      const open = windows.find((w) => inScope(w.url) !== null);
      return open ? open.focus() : sw.clients.openWindow(SCOPE);
    }),
  );
});
