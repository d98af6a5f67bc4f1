// Faults between a page and the real hub: every WebSocket the page opens to
// `/ws` is routed through the test (playwright's routeWebSocket, connected to
// the real hub), which records what crosses in each direction and can drop or
// rewrite a frame from the hub to the page, as a lost frame or a hole in a
// connection's stream would. Everything else reaches the hub unchanged.

/**
 * One routed socket: the frames the page sent and those it was given.
 * @typedef {{sent: any[], received: any[], dropped: any[]}} Wire
 */

/**
 * What to do with a frame from the hub: `'drop'` it, pass it (`undefined`),
 * give the page another frame instead, or hold it back until a promise
 * settles (then that promise's verdict applies; later frames overtake it).
 * @typedef {(frame: any, wire: Wire, index: number) => 'drop' | any | undefined} Filter
 */

/**
 * Route the page's WebSockets to `/ws` through the test. Call before the page
 * opens its socket (before logging in).
 * @param {import('playwright-core').Page} page
 * @param {{filter?: Filter, rewriteSent?: (frame: any) => any | undefined}} [opts]
 *   `rewriteSent` may give the hub another frame instead of the page's.
 * @returns {Promise<{wires: Wire[], setFilter: (f: Filter | undefined) => void}>}
 */
export async function routeLink(page, opts = {}) {
  /** @type {Wire[]} */
  const wires = [];
  let filter = opts.filter;
  const rewriteSent = opts.rewriteSent ?? /** @type {any} */ (opts.filter)?.rewriteSent;
  await page.routeWebSocket(
    (url) => url.pathname === '/ws',
    (ws) => {
      /** @type {Wire} */
      const wire = { sent: [], received: [], dropped: [] };
      const index = wires.length;
      wires.push(wire);
      const server = ws.connectToServer();
      ws.onMessage((message) => {
        const frame = parse(message);
        const instead = rewriteSent?.(frame);
        wire.sent.push(frame); // as the page sent it
        server.send(instead === undefined ? message : JSON.stringify(instead));
      });
      server.onMessage((message) => {
        const frame = parse(message);
        const verdict = filter?.(frame, wire, index);
        if (verdict instanceof Promise) {
          void verdict.then((v) => deliver(message, frame, v));
          return;
        }
        deliver(message, frame, verdict);
      });
      /** @param {string | Buffer} message @param {any} frame @param {any} verdict */
      function deliver(message, frame, verdict) {
        if (verdict === 'drop') {
          wire.dropped.push(frame);
          return;
        }
        const out = verdict === undefined ? frame : verdict;
        wire.received.push(out);
        ws.send(verdict === undefined ? message : JSON.stringify(out));
      }
    },
  );
  return { wires, setFilter: (f) => (filter = f) };
}

/** @param {string | Buffer} message */
function parse(message) {
  try {
    return JSON.parse(String(message));
  } catch {
    return { unparsed: String(message) };
  }
}

/**
 * Poll `check` until it returns something truthy, or fail after `ms`.
 * @template T
 * @param {() => T | Promise<T>} check
 * @param {string} what
 * @returns {Promise<T>}
 */
export async function until(check, what, ms = 15000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A filter that hands the page the hub's `snapshot` answers in `parts` parts
 * (PROTOCOL.md: `after`, `next`), as a hub with more tasks than fit in one
 * part would: part n holds every n-th task and page of the hub's real answer
 * (sorted by id) and `next` names part n + 1, null on the last. The hub
 * answers each part's request in full (the page's made-up `after` is taken
 * off on the way to the hub, which refuses tokens it never gave); the split
 * happens on the way back.
 * @param {number} parts
 * @returns {Filter & {rewriteSent: (frame: any) => any}}
 */
export function pagedSnapshots(parts) {
  /** @param {any} f */
  const rewriteSent = (f) =>
    f.type === 'cmd' && f.cmd?.op === 'snapshot' && typeof f.cmd.after === 'string' && f.cmd.after.startsWith('part-')
      ? { ...f, cmd: { ...f.cmd, after: null } }
      : undefined;
  /** @type {Filter} */
  const filter = (frame, wire) => {
    if (frame.type !== 'ok' || frame.result?.kind !== 'snapshot') return undefined;
    const asked = wire.sent.find((f) => f.type === 'cmd' && f.id === frame.id);
    const after = asked?.cmd?.after;
    const n = typeof after === 'string' ? Number(after.replace('part-', '')) : 0;
    /** @param {any[]} list */
    const part = (list) => [...list].sort((a, b) => (a.id < b.id ? -1 : 1)).filter((_, i) => i % parts === n);
    const next = n + 1 < parts ? `part-${n + 1}` : null;
    return { ...frame, result: { ...frame.result, tasks: part(frame.result.tasks), pages: part(frame.result.pages), next } };
  };
  return Object.assign(filter, { rewriteSent });
}

/**
 * A filter that turns the hub's first `ok` to a command with op `op` into an
 * `internal` error, as a hub whose commit failed after it may have landed
 * answers: the command may have been carried out, and the client must send
 * it again with the same id (the hub then answers from its record).
 * @param {string} op
 * @returns {Filter & {hit: () => any}}
 */
export function internalOnce(op) {
  /** @type {any} */
  let hit = null;
  /** @type {Filter} */
  const filter = (frame, wire) => {
    if (hit || frame.type !== 'ok') return undefined;
    const asked = wire.sent.find((f) => f.type === 'cmd' && f.id === frame.id);
    if (asked?.cmd?.op !== op) return undefined;
    hit = frame;
    return { type: 'error', id: frame.id, code: 'internal', message: 'the hub could not tell whether this was stored; retry with the same id' };
  };
  return Object.assign(filter, { hit: () => hit });
}
