// Service worker: keeps the app shell in a cache so that reloading with no
// network still opens the app (it then shows "offline" and its saved state),
// and turns a tap on a system notification into focusing the app.
// Network first for the shell, so a new client version is picked up at once
// when the hub is reachable; the hub's API and WebSocket are never cached.

const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));

const CACHE = 'wardpage-shell-v1';
/** Give up on a slow network after this and answer from the cache. */
const NETWORK_TIMEOUT_MS = 4000;
/** Everything the app needs to start; tests/web checks this list is complete. */
const SHELL = [
  '/',
  '/index.html',
  '/app.css',
  '/alert.css',
  '/landscape.css',
  '/manifest.webmanifest',
  '/icons/icon.svg',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/js/actions.js',
  '/js/alerts.js',
  '/js/clinical.js',
  '/js/connection.js',
  '/js/device.js',
  '/js/dom.js',
  '/js/escalation-words.js',
  '/js/format.js',
  '/js/link-core.js',
  '/js/main.js',
  '/js/news2.js',
  '/js/notices.js',
  '/js/outbox.js',
  '/js/page-words.js',
  '/js/reach.js',
  '/js/reduce.js',
  '/js/session.js',
  '/js/snapshot.js',
  '/js/sound.js',
  '/js/store.js',
  '/js/types.js',
  '/js/views/alert-overlay.js',
  '/js/views/alert-sbar.js',
  '/js/views/busy.js',
  '/js/views/chart.js',
  '/js/views/context.js',
  '/js/views/dialog.js',
  '/js/views/handover-note.js',
  '/js/views/handover.js',
  '/js/views/login.js',
  '/js/views/obs-entry.js',
  '/js/views/offline-conflict.js',
  '/js/views/pages.js',
  '/js/views/patient-actions.js',
  '/js/views/patient-list.js',
  '/js/views/patients.js',
  '/js/views/raise.js',
  '/js/views/raised.js',
  '/js/views/shell.js',
  '/js/views/status.js',
  '/js/views/task-card.js',
  '/js/views/toast.js',
  '/js/views/unsent.js',
  '/js/views/work.js',
];
const NEVER_CACHED = ['/api/', '/ws', '/healthz', '/metrics'];

sw.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => sw.skipWaiting()),
  );
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => sw.clients.claim()),
  );
});

sw.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== sw.location.origin) return;
  if (NEVER_CACHED.some((p) => url.pathname.startsWith(p))) return;
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
    const cached = (await cache.match(request, { ignoreSearch: true })) ?? (request.mode === 'navigate' ? await cache.match('/') : undefined);
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
      const open = windows[0];
      return open ? open.focus() : sw.clients.openWindow('/');
    }),
  );
});
