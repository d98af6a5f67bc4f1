// The client's link after a hub says it is busy (PROTOCOL.md section 3:
// `unavailable`, then close 1013 "busy"). After a node of a cluster dies
// every phone of its sites says hello to the next owner together; a phone
// refused as busy must not come straight back, or the crowd never thins.
// Run in node against the real link module, on a real WebSocket server
// that answers as the hub does.

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer, WebSocket } from 'ws';

Object.assign(globalThis, {
  WebSocket,
  addEventListener: () => {},
  removeEventListener: () => {},
});

const { LinkCore, attemptAfterClose, BUSY_ATTEMPT, TRY_AGAIN_LATER, backoffMs } = await import(
  '../../client-web/js/link-core.js'
);

/**
 * A server that refuses the first hello with `code` (an error frame and a
 * close, as the hub does) and notes when each socket opens.
 * @param {number} code @param {string} reason
 */
async function refusingOnce(code, reason) {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
  /** @type {number[]} */
  const opened = [];
  /** @type {number[]} */
  const closed = [];
  /** @type {(() => void) | undefined} */
  let second;
  const secondOpened = new Promise((resolve) => (second = () => resolve(undefined)));
  server.on('connection', (socket) => {
    opened.push(Date.now());
    if (opened.length === 2) second?.();
    socket.once('message', () => {
      if (opened.length > 1) return;
      socket.send(JSON.stringify({ type: 'error', id: null, code: 'unavailable', message: 'the hub is busy; try again in a few seconds' }));
      socket.close(code, reason);
      closed.push(Date.now());
    });
  });
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  return { server, url: `ws://127.0.0.1:${address.port}/ws`, opened, closed, secondOpened };
}

describe('a hub that says it is busy', () => {
  /** @type {Array<() => void>} */
  const cleanups = [];
  after(() => cleanups.forEach((c) => c()));

  it('is given 2 to 4 s before the phone comes back', async () => {
    const hub = await refusingOnce(TRY_AGAIN_LATER, 'busy');
    const link = new LinkCore({ token: 't', url: hub.url, name: 'test' });
    cleanups.push(() => {
      // A socket still opening, closed by the link: a browser says nothing,
      // the `ws` package raises an error event.
      /** @type {any} */ (link.ws)?.on('error', () => {});
      link.stop();
      hub.server.close();
    });
    link.connect();
    await hub.secondOpened;
    const waited = hub.opened[1] - hub.closed[0];
    // Timers never fire early, so this holds however loaded the machine.
    assert.ok(waited >= backoffMs(BUSY_ATTEMPT) / 2 - 50, `came back after ${waited} ms`);
  });

  it('counts only for its own close: other closes keep the short first wait', () => {
    assert.equal(attemptAfterClose(0, TRY_AGAIN_LATER), BUSY_ATTEMPT);
    assert.equal(attemptAfterClose(BUSY_ATTEMPT + 2, TRY_AGAIN_LATER), BUSY_ATTEMPT + 2);
    for (const code of [1000, 1001, 1006, 1008, 1011, 1012]) {
      assert.equal(attemptAfterClose(0, code), 0, `close ${code}`);
    }
    assert.equal(backoffMs(BUSY_ATTEMPT), 4000);
  });
});
