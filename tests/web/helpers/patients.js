// Patients for the browser tests: valid NHS numbers (modulus 11), admitting
// through the hub's own protocol as the nurse in charge, recording sets the
// way another nurse's phone would, and screenshots kept out of the repo.

import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const SHOTS = process.env.WARDPAGE_SHOTS ?? path.join(os.tmpdir(), 'wardpage-patients-shots');

/**
 * A valid fictional NHS number (999 range) from a seed.
 * @param {number} seed
 */
export function nhsNumber(seed) {
  for (let n = seed; ; n += 1) {
    const digits = `999${String(n % 1000000).padStart(6, '0')}`.split('').map(Number);
    const sum = digits.reduce((a, d, i) => a + d * (10 - i), 0);
    const check = 11 - (sum % 11);
    if (check === 10) continue;
    return `${digits.join('')}${check === 11 ? 0 : check}`;
  }
}

/** "9990000018" as the app prints it. @param {string} n */
export const nhsSpaced = (n) => `${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`;

/**
 * Admit one patient; resolves to the PatientView.
 * @param {import('./protocol.js').ProtocolClient} client
 * @param {{ward: string, bed: string, name: string, nhs: string}} p
 */
export async function admit(client, { ward, bed, name, nhs }) {
  const answer = await client.command({
    op: 'admit_patient',
    ward,
    bed,
    patient: { nhs_number: nhs, name, born: '1948-03-14', sex: 'female', consultant: 'Dr Rahman', alerts: 'Penicillin allergy' },
  });
  assert.equal(answer.type, 'ok', `admit ${name}: ${JSON.stringify(answer)}`);
  return answer.result.patient;
}

/**
 * Record a set for a patient; resolves to the `observation` result.
 * @param {import('./protocol.js').ProtocolClient} client
 * @param {string} patient
 * @param {Record<string, unknown>} set
 */
export async function record(client, patient, set) {
  const answer = await client.command({ op: 'record_observations', patient, set: { taken_at: Date.now(), ...set } });
  assert.equal(answer.type, 'ok', `record: ${JSON.stringify(answer)}`);
  return answer.result;
}

/** A complete, unremarkable set: NEWS2 0. */
export const CALM = { respiration_rate: 16, spo2: 97, breathing: { kind: 'air' }, systolic: 128, diastolic: 78, pulse: 76, consciousness: 'alert', temperature: 36.8 };

/** @param {import('playwright-core').Page} page @param {string} name */
export async function shot(page, name) {
  await mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });
}

/**
 * Log in through the form and wait for the link, without needing the shell
 * to be visible (an overdue-observations alert may cover it at once).
 * @param {import('playwright-core').Page} page @param {string} username
 */
export async function logInAs(page, username) {
  await page.fill('#login-user', username);
  await page.fill('#login-pass', 'night-shift');
  await page.click('button[type=submit]');
  await page.locator('#link-status[data-state="online"]').waitFor({ state: 'attached', timeout: 15000 });
}

/**
 * Put off every overdue-observations alert on screen ("Later"), returning
 * their texts.
 * @param {import('playwright-core').Page} page
 */
export async function putOffOverdue(page) {
  /** @type {string[]} */
  const beds = [];
  const alert = page.locator('section.alert:not([hidden])');
  while (await alert.isVisible()) {
    const text = (await alert.textContent()) ?? '';
    if (!text.includes('Observations overdue')) break;
    beds.push(text);
    const title = (await alert.locator('#alert-title').textContent()) ?? '';
    await alert.locator('button', { hasText: 'Later' }).click();
    await page.waitForFunction((n) => {
      const el = document.querySelector('section.alert');
      return !el || el.hidden || (el.querySelector('#alert-title')?.textContent ?? '') !== n;
    }, title);
  }
  return beds;
}

/**
 * Discharge every patient on a ward (the demo hospital fills most beds), so
 * a test starts from beds it knows.
 * @param {import('./protocol.js').ProtocolClient} client @param {string} ward
 */
export async function clearWard(client, ward) {
  /** @type {any[]} */
  const all = [];
  /** @type {string | null} */
  let after = null;
  do {
    const answer = /** @type {any} */ (await client.command(after === null ? { op: 'patients', ward } : { op: 'patients', ward, after }));
    assert.equal(answer.type, 'ok', JSON.stringify(answer));
    all.push(...answer.result.patients);
    after = answer.result.next;
  } while (after !== null);
  for (const p of all) {
    const answer = await client.command({ op: 'discharge_patient', patient: p.id });
    assert.equal(answer.type, 'ok', JSON.stringify(answer));
  }
}
