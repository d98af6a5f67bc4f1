// Patients for the dashboard's clinical panels, made over the protocol as
// the ward would make them: fictional NHS numbers (999 prefix) with a valid
// check digit, admissions into beds that are empty now, observation sets
// whose NEWS2 score is worked out here by hand from the RCP chart, and the
// hub's own patient list read part by part (what the screen must agree
// with). Screenshots go to the temporary folder, not into the repository.

import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const SHOTS = path.join(tmpdir(), 'wardpage-dashboard-patients');

/** @param {import('playwright-core').Page} page @param {string} name */
export async function shot(page, name) {
  await mkdir(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * A fictional NHS number "999nnnnnnc" with a valid modulus 11 check digit
 * (numbers whose check would be 10 are skipped, as no such number exists).
 * @param {number} seed
 */
export function nhsNumber(seed) {
  for (let n = seed; ; n += 1) {
    const body = `999${String(n % 1000000).padStart(6, '0')}`;
    const sum = [...body].reduce((acc, d, i) => acc + Number(d) * (10 - i), 0);
    const check = (11 - (sum % 11)) % 11;
    if (check !== 10) return `${body}${check}`;
  }
}

/** The same number with a wrong check digit. @param {string} valid */
export function wrongCheckDigit(valid) {
  const last = Number(valid[9]);
  return `${valid.slice(0, 9)}${(last + 1) % 10}`;
}

/** "999 000 0018". @param {string} digits */
export function spaced(digits) {
  return `${digits.slice(0, 3)} ${digits.slice(3, 6)} ${digits.slice(6)}`;
}

/**
 * Sets with a known NEWS2 (Scale 1, on air), worked out from the RCP chart:
 * - `high`: respiration 26 (3) + SpO2 91 (3) + pulse 95 (1) = 7, a red flag
 * - `medium`: respiration 22 (2) + SpO2 95 (1) + systolic 105 (1) + pulse 95 (1) = 5
 * - `low`: every parameter normal = 0
 * @param {'high' | 'medium' | 'low'} kind
 * @param {number} takenAt
 */
export function obsSet(kind, takenAt = Date.now()) {
  const normal = { respiration_rate: 16, spo2: 97, breathing: { kind: 'air' }, systolic: 122, diastolic: 76, pulse: 72, consciousness: 'alert', temperature: 36.8, taken_at: takenAt };
  if (kind === 'high') return { ...normal, respiration_rate: 26, spo2: 91, pulse: 95 };
  if (kind === 'medium') return { ...normal, respiration_rate: 22, spo2: 95, systolic: 105, diastolic: 70, pulse: 95 };
  return normal;
}

/**
 * Every admitted patient the client may read, part by part.
 * @param {import('../helpers/protocol.js').ProtocolClient} client
 * @param {string | null} ward null: every ward (coordinators)
 * @returns {Promise<any[]>}
 */
export async function readPatients(client, ward) {
  const out = [];
  /** @type {string | null} */
  let after = null;
  for (;;) {
    /** @type {Record<string, unknown>} */
    const cmd = { op: 'patients' };
    if (ward) cmd.ward = ward;
    if (after) cmd.after = after;
    const answer = /** @type {any} */ (await client.command(cmd));
    assert.equal(answer.type, 'ok', `patients ${ward ?? '(all)'}: ${JSON.stringify(answer)}`);
    out.push(...answer.result.patients);
    after = answer.result.next;
    if (!after) return out;
  }
}

/**
 * The beds of a ward with nobody in them now.
 * @param {import('../helpers/protocol.js').ProtocolClient} client
 * @param {string} ward
 */
export async function emptyBeds(client, ward) {
  const dir = /** @type {any} */ (await client.command({ op: 'directory' }));
  assert.equal(dir.type, 'ok', JSON.stringify(dir));
  const beds = /** @type {string[]} */ (dir.result.wards.find((/** @type {any} */ w) => w.id === ward).beds);
  const taken = new Set((await readPatients(client, ward)).map((p) => p.bed));
  return beds.filter((b) => !taken.has(b));
}

let serial = 0;

/**
 * Admit a fictional patient into an empty bed of `ward`.
 * @param {import('../helpers/protocol.js').ProtocolClient} client a nurse in charge or coordinator
 * @param {string} ward
 * @param {string} name
 * @returns {Promise<any>} the PatientView
 */
export async function admit(client, ward, name) {
  const [bed] = await emptyBeds(client, ward);
  assert.ok(bed, `${ward} has an empty bed`);
  serial += 1;
  const answer = /** @type {any} */ (
    await client.command({
      op: 'admit_patient',
      ward,
      bed,
      patient: { nhs_number: nhsNumber(700000 + serial * 37 + (process.pid % 1000) * 101), name, born: '1948-06-15', sex: 'female', consultant: 'Dr R. Osei', alerts: 'Penicillin allergy' },
    })
  );
  assert.equal(answer.type, 'ok', `admit ${name}: ${JSON.stringify(answer)}`);
  return answer.result.patient;
}

/**
 * Record a set as a ward nurse; returns the `observation` result.
 * @param {import('../helpers/protocol.js').ProtocolClient} nurse
 * @param {string} patient
 * @param {Record<string, unknown>} set
 */
export async function record(nurse, patient, set) {
  const answer = /** @type {any} */ (await nurse.command({ op: 'record_observations', patient, set }));
  assert.equal(answer.type, 'ok', `record_observations: ${JSON.stringify(answer)}`);
  return answer.result;
}

/**
 * Per ward, how many patients in each column of the by-ward table: worked
 * out here from the hub's list, independently of the dashboard's code.
 * @param {any[]} patients
 */
export function expectedWardCounts(patients) {
  /** @type {Record<string, Record<string, number>>} */
  const out = {};
  for (const p of patients) {
    const c = (out[p.ward] ??= { low: 0, low_medium: 0, medium: 0, high: 0, incomplete: 0, none: 0, total: 0 });
    const band = p.latest?.score.band;
    const col = !p.latest ? 'none' : band === null ? 'incomplete' : band === 'zero' ? 'low' : band;
    c[col] += 1;
    c.total += 1;
  }
  return out;
}

/**
 * The by-ward table as the screen shows it.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<Record<string, Record<string, number>>>}
 */
export async function shownWardCounts(page) {
  return page.locator('#news2-by-ward tbody tr[data-ward]').evaluateAll((trs) => {
    /** @type {Record<string, Record<string, number>>} */
    const out = {};
    for (const tr of trs) {
      const ward = /** @type {HTMLElement} */ (tr).dataset.ward ?? '';
      if (!ward) continue;
      /** @type {Record<string, number>} */
      const c = {};
      for (const td of tr.querySelectorAll('td[data-col]')) c[/** @type {HTMLElement} */ (td).dataset.col ?? ''] = Number(td.textContent);
      out[ward] = c;
    }
    return out;
  });
}
