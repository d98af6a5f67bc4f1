// A plain protocol client for the tests (no browser): log in over HTTP, speak
// hello/cmd/ack over the WebSocket, and collect the events. It is how a test
// checks what the hub recorded, independently of the web client under test.

import WebSocket from 'ws';
import { randomUUID } from 'node:crypto';

export const PASSWORD = 'night-shift';

/** @param {string} base @param {string} username */
export async function login(base, username, password = PASSWORD) {
  const res = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw new Error(`login ${username}: HTTP ${res.status} ${await res.text()}`);
  return /** @type {{token: string, expires_at: number, staff: any}} */ (await res.json());
}

export class ProtocolClient {
  /** @param {string} base http://host:port @param {string} token */
  constructor(base, token) {
    this.url = `${base.replace(/^http/, 'ws')}/ws`;
    this.token = token;
    /** @type {any[]} */
    this.events = [];
    /** @type {any[]} every frame received, for diagnostics */
    this.frames = [];
    /** @type {Map<string, (frame: any) => void>} */
    this.waiting = new Map();
    /** @type {any} */
    this.welcome = null;
    /** @type {WebSocket | null} */
    this.ws = null;
    /** @type {Array<() => void>} */
    this.listeners = [];
  }

  /** Open, hello, and wait for welcome (or the hello error). @returns {Promise<any>} the first frame */
  async connect(cursor = 0) {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const first = new Promise((resolve) => {
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString());
        this.frames.push(frame);
        if (this.frames.length === 1) resolve(frame);
        if (frame.type === 'welcome') this.welcome = frame;
        if (frame.type === 'event') this.events.push(frame);
        if ((frame.type === 'ok' || frame.type === 'error') && frame.id && this.waiting.has(frame.id)) {
          this.waiting.get(frame.id)?.(frame);
          this.waiting.delete(frame.id);
        }
        for (const l of this.listeners) l();
      });
    });
    ws.send(JSON.stringify({ type: 'hello', version: 1, token: this.token, cursor }));
    return first;
  }

  /** Send a command and wait for its ok/error frame. @param {any} cmd */
  command(cmd, id = randomUUID()) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${JSON.stringify(cmd)}`)), 10000);
      this.waiting.set(id, (frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
      this.ws?.send(JSON.stringify({ type: 'cmd', id, cmd }));
    });
  }

  /** Wait until `pred(events)` holds. @param {(events: any[]) => any} pred */
  until(pred, timeoutMs = 10000, what = 'condition') {
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = pred(this.events);
        if (v) {
          this.listeners = this.listeners.filter((l) => l !== check);
          clearTimeout(timer);
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== check);
        reject(new Error(`timed out waiting for ${what}; events: ${JSON.stringify(this.events.map((e) => [e.seq, e.event.kind, e.event.change]))}`));
      }, timeoutMs);
      this.listeners.push(check);
      check();
    });
  }

  close() {
    this.ws?.close();
  }
}

/** Log in and connect. @param {string} base @param {string} username */
export async function connectAs(base, username) {
  const session = await login(base, username);
  const client = new ProtocolClient(base, session.token);
  const first = await client.connect();
  if (first.type !== 'welcome') throw new Error(`hello as ${username} refused: ${JSON.stringify(first)}`);
  return client;
}

/**
 * Wait until `client` has been sent every event the hub numbered before this
 * call: it pages someone no test device answers for (Sara Ali, the
 * phlebotomist) and waits for that page's own `sent` event. A socket gets its
 * events in `seq` order, so whatever the hub did before, `client` has seen
 * by then if it is to see it at all. Used to count events (a duplicate that
 * must not be there) without sleeping and hoping.
 * @param {ProtocolClient} client
 */
export async function barrier(client) {
  const dir = await client.command({ op: 'directory' });
  if (dir.type !== 'ok') throw new Error(`directory refused: ${JSON.stringify(dir)}`);
  const ali = dir.result.staff.find((/** @type {any} */ s) => s.name === 'Sara Ali');
  if (!ali) throw new Error('Sara Ali is not in the directory');
  const sent = await client.command({ op: 'send_page', target: { staff: ali.id }, priority: 'routine', callback: 'ext 0000', message: 'test barrier, please ignore' });
  if (sent.type !== 'ok') throw new Error(`barrier page refused: ${JSON.stringify(sent)}`);
  const id = sent.result.page.id;
  await client.until((evs) => evs.some((e) => e.event.kind === 'page' && e.event.page.id === id), 10000, 'the barrier page');
}
