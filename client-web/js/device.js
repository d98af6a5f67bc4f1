// The phone's own ways of getting attention and staying awake: vibration,
// system notifications (through the service worker where there is one, so they
// work while the tab is in the background) and the Screen Wake Lock while the
// user is on shift.

import { siteUrl } from './base.js';

/** @typedef {import('./types.js').Priority} Priority */

/** @type {Record<Priority, number[]>} */
const VIBRATION = {
  emergency: [400, 100, 400, 100, 400, 400],
  urgent: [300, 150, 300, 700],
  soon: [250, 250, 250, 2000],
  routine: [300, 5000],
};

/** @type {ReturnType<typeof setInterval> | undefined} */
let buzzing;

/** Vibrate in the priority's rhythm until `stopVibrating()`. @param {Priority} priority */
export function vibrate(priority) {
  stopVibrating();
  // Before the first tap (e.g. just after a reload) the browser refuses and
  // complains; the sound and the screen still alert.
  if (!('vibrate' in navigator) || navigator.userActivation?.hasBeenActive === false) return;
  const pattern = VIBRATION[priority];
  const total = pattern.reduce((a, b) => a + b, 0);
  navigator.vibrate(pattern);
  buzzing = setInterval(() => navigator.vibrate(pattern), total);
}

export function stopVibrating() {
  if (buzzing === undefined) return;
  clearInterval(buzzing);
  buzzing = undefined;
  navigator.vibrate(0);
}

/** Ask once, from a user gesture (the login tap). */
export function askNotificationPermission() {
  if ('Notification' in window && Notification.permission === 'default') {
    void Notification.requestPermission().catch(() => undefined);
  }
}

/**
 * Show a system notification, used only while the tab is hidden.
 * @param {{key: string, title: string, body: string, priority: Priority}} alert
 */
export async function notify(alert) {
  if (!('Notification' in window) || Notification.permission !== 'granted') return;
  /** @type {NotificationOptions & {renotify?: boolean, requireInteraction?: boolean}} */
  const options = {
    body: alert.body,
    tag: alert.key,
    icon: siteUrl('icons/icon-192.png').href,
    badge: siteUrl('icons/icon-192.png').href,
    renotify: true,
    requireInteraction: alert.priority === 'emergency' || alert.priority === 'urgent',
  };
  try {
    const reg = await navigator.serviceWorker?.getRegistration();
    if (reg) await reg.showNotification(alert.title, options);
    else new Notification(alert.title, options);
  } catch {
    // A notification is a courtesy on top of the in-app alert; never fatal.
  }
}

/** @type {WakeLockSentinel | null} */
let lock = null;
let wanted = false;

/** Keep the screen on while on shift; re-acquired when the tab comes back. @param {boolean} on */
export async function keepAwake(on) {
  wanted = on;
  if (!on) {
    await lock?.release().catch(() => undefined);
    lock = null;
    return;
  }
  if (lock || !('wakeLock' in navigator) || document.visibilityState !== 'visible') return;
  try {
    lock = await navigator.wakeLock.request('screen');
    lock.addEventListener('release', () => {
      lock = null;
    });
  } catch {
    lock = null; // refused (battery saver, no gesture yet): try again on the next visibility change
  }
}

/** Whether the screen is being kept on right now. */
export function isAwake() {
  return lock !== null && !lock.released;
}

document.addEventListener('visibilitychange', () => {
  if (wanted) void keepAwake(true);
});
