// Launching the system's Chromium (the one `apt-get install chromium` puts on
// PATH; no browser download is possible or needed) and phone-sized contexts.

import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';

/** The Chromium to drive: $CHROMIUM_BIN, or `chromium` on PATH. */
export function chromiumPath() {
  if (process.env.CHROMIUM_BIN) return process.env.CHROMIUM_BIN;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('Chromium not found: install it (apt-get install -y chromium) or set CHROMIUM_BIN');
  }
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
  // Alerts must be able to play sound without a real user gesture in tests.
  '--autoplay-policy=no-user-gesture-required',
];

export function launchBrowser() {
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
}

/** A 360x740 phone, as night staff carry. @param {import('playwright-core').Browser} browser @param {string} baseURL */
export function phoneContext(browser, baseURL) {
  return browser.newContext({
    baseURL,
    viewport: { width: 360, height: 740 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    colorScheme: 'dark',
    reducedMotion: 'reduce',
  });
}
