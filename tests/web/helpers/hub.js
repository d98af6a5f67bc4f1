// Starting a real wardpage hub for one test file: the binary from
// $WARDPAGE_BIN (default: $CARGO_TARGET_DIR or <repo>/target, debug build),
// the demo hospital (without its patients unless asked), a fresh database
// in a temporary folder (or one a caller names: helpers/sites.js), port 0. The
// listening URL is read from the line the hub prints on stdout.

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export function hubBinary() {
  if (process.env.WARDPAGE_BIN) return process.env.WARDPAGE_BIN;
  const target = process.env.CARGO_TARGET_DIR || path.join(REPO, 'target');
  return path.join(target, 'debug', 'wardpage');
}

/**
 * @typedef {{url: string, dir: string, stop: (opts?: {keepData?: boolean}) => Promise<void>, log: () => string}} Hub
 */

/**
 * @param {{dir?: string, listen?: string, config?: string, patients?: boolean, db?: string}} [opts] reuse a
 *   database folder and address to restart "the same" hub; `config` is TOML
 *   text for the hub's config file (e.g. fast escalation policies);
 *   `patients`: the demo's patients too (default: the wards and night team only);
 *   `db`: a database URL (PostgreSQL) instead of the folder's SQLite file
 * @returns {Promise<Hub>}
 */
export async function startHub(opts = {}) {
  const bin = hubBinary();
  if (!existsSync(bin)) {
    throw new Error(`hub binary not found at ${bin}: build it (cargo build -p wardpage-server) or set WARDPAGE_BIN`);
  }
  const dir = opts.dir ?? (await mkdtemp(path.join(tmpdir(), 'wardpage-web-')));
  const listen = opts.listen ?? '127.0.0.1:0';
  const args = ['serve', '--demo', '--listen', listen, '--db', opts.db ?? path.join(dir, 'hub.db')];
  if (!opts.patients) args.push('--no-patients');
  if (opts.config !== undefined) {
    const file = path.join(dir, 'hub.toml');
    await writeFile(file, opts.config);
    args.push('--config', file);
  }
  const child = spawn(bin, args, {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
  });
  let output = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hub did not start within 20 s:\n${output}`)), 20000);
    /** @param {Buffer} chunk */
    const onData = (chunk) => {
      output += chunk.toString();
      const m = output.match(/wardpage listening on (http:\/\/[\d.:]+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c) => {
      output += c.toString();
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`hub exited with ${code} before listening:\n${output}`));
    });
  });
  return {
    url,
    dir,
    log: () => output,
    async stop({ keepData = false } = {}) {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timeout = new Promise((r) => setTimeout(r, 5000));
        await Promise.race([exited, timeout]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      if (!keepData) await rm(dir, { recursive: true, force: true });
    },
  };
}
