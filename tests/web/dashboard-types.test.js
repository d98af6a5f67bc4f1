// Type-checks the dashboard's JavaScript (JSDoc) against the declarations
// generated from the hub's Rust types, as `npm run typecheck` does for the
// handheld app: a protocol change the dashboard does not follow fails here.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

it('type-checks the dashboard against the protocol types', () => {
  const tsc = fileURLToPath(new URL('./node_modules/typescript/bin/tsc', import.meta.url));
  const config = fileURLToPath(new URL('./dashboard-helpers/tsconfig.json', import.meta.url));
  const run = spawnSync(process.execPath, [tsc, '-p', config], { encoding: 'utf8' });
  assert.equal(run.status, 0, `tsc found problems:\n${run.stdout}${run.stderr}`);
});
