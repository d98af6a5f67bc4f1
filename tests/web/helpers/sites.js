// One hub node of a deployment of several sites (hospitals), for the web
// client's tests under /site/<name>/: `[cluster]` on a fresh PostgreSQL
// database of its own on the server $WARDPAGE_TEST_POSTGRES names (created
// with psql, dropped at stop), the demo hospital loaded into each site as
// the Rust harness does (tests/src/nodes.rs, `start_site_node_with`).
// Without $WARDPAGE_TEST_POSTGRES the tests skip and say why, as the Rust
// suites do.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { startHub, hubBinary, REPO } from './hub.js';
import { PASSWORD } from './protocol.js';

const run = promisify(execFile);

/** Why the site tests cannot run here, or null when they can. */
export const NO_POSTGRES = process.env.WARDPAGE_TEST_POSTGRES
  ? null
  : 'set WARDPAGE_TEST_POSTGRES=postgres://user@host/db to run it (a PostgreSQL server: sites need one)';

/** @param {string} admin @param {string} sql */
async function psql(admin, sql) {
  try {
    await run('psql', [admin, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql]);
  } catch (err) {
    throw new Error(`psql ${sql} failed (is postgresql-client installed?): ${/** @type {any} */ (err).stderr ?? err}`);
  }
}

/**
 * @typedef {Awaited<ReturnType<typeof startHub>> & {config: string, db: string, sites: string[]}} SiteNode
 */

/**
 * A node serving `sites` (the first is the plain URLs' site), once its
 * `/readyz` says it serves every one of them.
 * @param {string[]} sites
 * @returns {Promise<SiteNode>}
 */
export async function startSiteNode(sites) {
  const admin = process.env.WARDPAGE_TEST_POSTGRES;
  if (!admin) throw new Error(NO_POSTGRES ?? '');
  const name = `wardpage_web_${randomBytes(8).toString('hex')}`;
  await psql(admin, `CREATE DATABASE ${name}`);
  const db = `${admin.slice(0, admin.lastIndexOf('/'))}/${name}`;
  const dropDb = () => psql(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  /** @type {Awaited<ReturnType<typeof startHub>>} */
  let hub;
  try {
    hub = await startHub({
      db,
      config: `[cluster]\nenabled = true\nnode = "a"\nsites = ${JSON.stringify(sites)}\nlease_ttl_ms = 3000\n`,
    });
  } catch (err) {
    await dropDb();
    throw err;
  }
  const node = {
    ...hub,
    db,
    sites,
    config: path.join(hub.dir, 'hub.toml'),
    async stop() {
      await hub.stop();
      await dropDb();
    },
  };
  try {
    await untilReady(node.url);
  } catch (err) {
    await node.stop();
    throw new Error(`${err}\n${hub.log()}`);
  }
  return node;
}

/**
 * Waits for the node's `/readyz` to answer 200 (it owns every site): the
 * thing itself, asked again each 100 ms for up to 20 s.
 * @param {string} url
 */
async function untilReady(url) {
  const deadline = Date.now() + 20000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/readyz`);
      last = `${res.status} ${await res.text()}`;
      if (res.status === 200) return;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the node did not serve every site within 20 s: ${last}`);
}

/**
 * Adds an account to one site only, with the admin command hospital IT
 * would use beside the running node (`--site`); its password is the demo's.
 * @param {SiteNode} node @param {string} site
 * @param {{login: string, name: string, role: string, skills?: string[]}} who
 */
export async function addUser(node, site, who) {
  const args = ['--config', node.config, '--db', node.db, '--site', site, 'user', 'add', '--login', who.login, '--name', who.name, '--role', who.role];
  if (who.skills?.length) args.push('--skills', who.skills.join(','));
  await new Promise((resolve, reject) => {
    const child = execFile(hubBinary(), args, { cwd: REPO, env: { ...process.env, RUST_LOG: 'warn' } }, (err, _out, stderr) =>
      err ? reject(new Error(`wardpage user add failed: ${stderr}`)) : resolve(undefined),
    );
    child.stdin?.end(`${PASSWORD}\n`);
  });
}
