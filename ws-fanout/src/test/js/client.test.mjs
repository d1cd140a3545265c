// The browser client against a fake fanout server, under Node's own test runner (node --test): routing and
// tickets, every close code, moved, reset, gaps, resume across reloads, token refresh, isolated callbacks, pruning;
// and the protocol's shared test vectors, which the Java clients run too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AgentEventsClient, StreamRules, CloseCode } from '../../main/resources/webroot/agent-events-client.js';

const VECTORS = JSON.parse(readFileSync(new URL(
  '../../../../test-fixtures/src/main/resources/protocol/stream-rules.json', import.meta.url), 'utf8'));

/** A JWT-shaped token of `sub` (the client reads only the payload, for its storage key). */
function jwt(sub, n = 0) {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'HS256' })}.${part({ sub, n })}.sig`;
}

/** The server side of the client's connections: routes, sockets, frames, closes. */
class FakeServer {
  constructor({ routeUrl = 'ws://node-a.test/ws', ticketless = false } = {}) {
    this.routeUrl = routeUrl;
    this.ticketless = ticketless;
    this.sockets = [];
    this.routes = [];
    const server = this;
    this.WebSocket = class {
      constructor(url) {
        this.url = new URL(url);
        this.readyState = 1;
        this.sent = [];
        server.sockets.push(this);
        queueMicrotask(() => server.onOpen?.(this));
      }
      send(text) { this.sent.push(JSON.parse(text)); }
      close(code = 1000, reason = '') { this.readyState = 3; this.onclose?.({ code, reason }); }
    };
    this.fetch = async (url, init) => {
      server.routes.push({ url: String(url), authorization: init.headers.Authorization });
      if (server.routeStatus && server.routeStatus !== 200) return { ok: false, status: server.routeStatus };
      return {
        ok: true, status: 200,
        json: async () => ({ url: server.routeUrl, partition: 0, ...(server.ticketless ? {} : { ticket: `t${server.routes.length}` }) }),
      };
    };
  }
  get last() { return this.sockets[this.sockets.length - 1]; }
  frame(socket, frame) { socket.onmessage?.({ data: JSON.stringify(frame) }); }
  welcome(socket) { this.frame(socket, { type: 'welcome', userId: 'u', partition: 0, node: 'a', resume: 'none' }); }
  close(socket, code, reason = '') { socket.readyState = 3; socket.onclose?.({ code, reason }); }
}

function event(pos, runId, seq, type = 'agent_thinking') {
  return { type: 'event', pos, event: { runId, seq, type, eventId: `${runId}-${seq}` }, chain: 'h' };
}

function memoryStorage() {
  const items = new Map();
  return { getItem: (k) => items.get(k) ?? null, setItem: (k, v) => items.set(k, String(v)), items };
}

/** A client on `server` that records everything it reports. */
function client(server, options = {}) {
  const seen = { events: [], gaps: [], states: [], resets: [], errors: [] };
  const instance = new AgentEventsClient({
    baseUrl: 'http://node-a.test', allowedOrigins: ['http://node-a.test', 'http://node-b.test'],
    token: () => jwt('u'), storage: memoryStorage(), backoffBaseMs: 1, backoffMaxMs: 5,
    fetch: server.fetch, WebSocket: server.WebSocket,
    onEvent: (e) => seen.events.push(`${e.runId}#${e.seq}`), onGap: (g) => seen.gaps.push(g),
    onState: (s) => seen.states.push(s), onReset: (r) => seen.resets.push(r), onError: (e) => seen.errors.push(e.message),
    ...options,
  });
  return { instance, seen };
}

const until = async (condition, ms = 2000) => {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms: ${condition}`);
    await new Promise((r) => setTimeout(r, 2));
  }
};

test('every case of the shared stream-rules vectors', () => {
  assert.ok(VECTORS.cases.length >= 10);
  for (const vector of VECTORS.cases) {
    const rules = new StreamRules();
    if (vector.start) rules.position = StreamRules.parse(vector.start);
    const outcomes = vector.frames.map((frame) => {
      const verdict = rules.check(frame);
      if (verdict.action === 'control') return `control ${frame.type}`;
      if (verdict.action === 'drop') {
        if (verdict.reason !== 'position') rules.skip(frame);
        return `drop ${verdict.reason}`;
      }
      rules.commit(frame);
      if (verdict.action === 'gap') return `gap ${frame.runId} ${frame.fromSeq}..${frame.toSeq}`;
      return `deliver ${frame.event.runId}#${frame.event.seq}${verdict.gap ? ` after-gap ${verdict.gap.fromSeq}..${verdict.gap.toSeq}` : ''}`;
    });
    assert.deepEqual(outcomes, vector.expect, vector.name);
    assert.equal(`${rules.position.partition}:${rules.position.offset}`, vector.position, `${vector.name}: position`);
  }
});

test('routes with the token in a header and opens the socket with the ticket, no JWT in any URL', async () => {
  const server = new FakeServer();
  const { instance, seen } = client(server);
  instance.start();
  await until(() => server.sockets.length === 1);
  assert.equal(server.routes[0].authorization, `Bearer ${jwt('u')}`);
  assert.equal(server.last.url.searchParams.get('ticket'), 't1');
  assert.ok(!server.last.url.href.includes(jwt('u').split('.')[1]), 'no token in the socket URL');
  server.welcome(server.last);
  assert.deepEqual(seen.states, ['connecting', 'live']);
  instance.stop();
});

test('4401 asks token() once more and reconnects; a second 4401 stops as unauthorized', async () => {
  const server = new FakeServer();
  let asked = 0;
  const { instance, seen } = client(server, { token: () => jwt('u', ++asked) });
  instance.start();
  await until(() => server.sockets.length === 1);
  server.close(server.last, CloseCode.UNAUTHORIZED, 'expired');
  await until(() => server.sockets.length === 2);
  assert.equal(asked, 2);
  server.close(server.last, CloseCode.UNAUTHORIZED, 'still bad');
  await until(() => seen.states.includes('unauthorized'));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(server.sockets.length, 2, 'no further attempt');
});

test('4403 stops as forbidden without reconnecting', async () => {
  const server = new FakeServer();
  const { instance, seen } = client(server);
  instance.start();
  await until(() => server.sockets.length === 1);
  server.close(server.last, CloseCode.FORBIDDEN, 'refresh for another user');
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(seen.states.at(-1), 'forbidden');
  assert.equal(server.sockets.length, 1);
});

test('4008 and 4009 reconnect at once and resume after the last position; 4429 waits the longest backoff', async () => {
  const server = new FakeServer();
  const { instance, seen } = client(server, { backoffMaxMs: 40 });
  instance.start();
  await until(() => server.sockets.length === 1);
  server.welcome(server.last);
  server.frame(server.last, event('0:7', 'r', 0, 'agent_started'));
  server.close(server.last, CloseCode.TOO_SLOW, 'too slow');
  await until(() => server.sockets.length === 2);
  assert.equal(server.last.url.searchParams.get('resume'), '0:7');
  server.welcome(server.last);
  server.close(server.last, CloseCode.MOVED, 'moved');
  await until(() => server.sockets.length === 3);
  assert.equal(server.last.url.searchParams.get('resume'), '0:7');
  const before = Date.now();
  server.close(server.last, CloseCode.TOO_MANY, 'too many');
  await until(() => server.sockets.length === 4);
  assert.ok(Date.now() - before >= 35, 'waited for the longest backoff');
  assert.ok(seen.states.includes('moved') && seen.states.includes('reconnecting'));
  instance.stop();
});

test('moved follows an allowed node and refuses one off the allowed origins', async () => {
  const server = new FakeServer();
  const { instance, seen } = client(server);
  instance.start();
  await until(() => server.sockets.length === 1);
  server.frame(server.last, { type: 'moved', url: 'ws://node-b.test/ws' });
  server.close(server.last, CloseCode.MOVED, 'moved');
  await until(() => server.sockets.length === 2);
  assert.equal(server.last.url.host, 'node-b.test');
  server.frame(server.last, { type: 'moved', url: 'ws://evil.test/ws' });
  server.close(server.last, CloseCode.MOVED, 'moved');
  await until(() => server.sockets.length === 3);
  assert.equal(server.last.url.host, 'node-a.test', 'back through /route instead');
  assert.ok(seen.errors.some((e) => e.includes('evil.test')));
  server.routeUrl = 'ws://evil.test/ws';
  server.close(server.last, 1006, '');
  await until(() => seen.errors.filter((e) => e.includes('refusing to follow')).length >= 2);
  assert.equal(server.sockets.length, 3, 'never opened the route to evil.test');
  instance.stop();
});

test('reset and gaps reach their callbacks; server gaps and gaps the client finds', async () => {
  const server = new FakeServer();
  const { instance, seen } = client(server);
  instance.start();
  await until(() => server.sockets.length === 1);
  const socket = server.last;
  server.welcome(socket);
  server.frame(socket, { type: 'reset', reason: 'position too old' });
  server.frame(socket, event('0:1', 'r', 0, 'agent_started'));
  server.frame(socket, { type: 'gap', pos: '0:2', runId: 'r', threadId: 't', fromSeq: 1, toSeq: 2, reason: 'TIMEOUT' });
  server.frame(socket, event('0:3', 'r', 5));
  assert.deepEqual(seen.resets, ['position too old']);
  assert.deepEqual(seen.gaps.map((g) => `${g.source} ${g.fromSeq}..${g.toSeq} ${g.reason}`),
    ['server 1..2 TIMEOUT', 'client 3..4 MISSING']);
  assert.deepEqual(seen.events, ['r#0', 'r#5']);
  instance.stop();
});

test('expiring makes the client send a fresh token over the socket, and a refresh changes nothing else', async () => {
  const server = new FakeServer();
  let asked = 0;
  const { instance, seen } = client(server, { token: () => jwt('u', ++asked) });
  instance.start();
  await until(() => server.sockets.length === 1);
  const socket = server.last;
  server.welcome(socket);
  server.frame(socket, { type: 'expiring', exp: 1893456000 });
  await until(() => socket.sent.length === 1);
  assert.deepEqual(socket.sent[0], { type: 'refresh', token: jwt('u', 2) });
  server.frame(socket, { type: 'refreshed', exp: 1893459600 });
  server.frame(socket, event('0:1', 'r', 0, 'agent_started'));
  assert.deepEqual(seen.events, ['r#0']);
  assert.equal(instance.stats.refreshes, 1);
  assert.equal(server.sockets.length, 1, 'no reconnect');
  instance.stop();
});

test('a callback that throws is reported and never breaks the stream; the stored position stops before it', async () => {
  const server = new FakeServer();
  const storage = memoryStorage();
  const { instance, seen } = client(server, {
    storage,
    onEvent: (e) => { if (e.seq === 1) throw new Error('render failed'); seen.events.push(`${e.runId}#${e.seq}`); },
  });
  instance.start();
  await until(() => server.sockets.length === 1);
  const socket = server.last;
  server.welcome(socket);
  server.frame(socket, event('0:1', 'r', 0, 'agent_started'));
  server.frame(socket, event('0:2', 'r', 1));
  server.frame(socket, event('0:3', 'r', 2));
  assert.deepEqual(seen.events, ['r#0', 'r#2']);
  assert.deepEqual(seen.errors, ['render failed']);
  assert.equal(instance.position, '0:3');
  assert.equal(storage.items.get('agent-events:position:u'), '0:1', 'a reload shows the failed event again');
  instance.stop();
});

test('a reload resumes from the position kept in storage', async () => {
  const server = new FakeServer();
  const storage = memoryStorage();
  const first = client(server, { storage });
  first.instance.start();
  await until(() => server.sockets.length === 1);
  server.welcome(server.last);
  server.frame(server.last, event('3:41', 'r', 0, 'agent_started'));
  first.instance.stop();
  const again = client(server, { storage });
  again.instance.start();
  await until(() => server.sockets.length === 2);
  assert.equal(server.last.url.searchParams.get('resume'), '3:41');
  again.instance.stop();
});

test('finished runs are forgotten beyond the limit, open ones kept', async () => {
  const server = new FakeServer();
  const { instance } = client(server, { maxFinishedRuns: 2 });
  instance.start();
  await until(() => server.sockets.length === 1);
  let offset = 0;
  for (let run = 0; run < 10; run++) {
    server.frame(server.last, event(`0:${++offset}`, `run-${run}`, 0, 'agent_started'));
    server.frame(server.last, event(`0:${++offset}`, `run-${run}`, 1, 'agent_completed'));
  }
  server.frame(server.last, event(`0:${++offset}`, 'open-run', 0, 'agent_started'));
  assert.equal(instance.stats.runs, 3);
  instance.stop();
});

test('a route without a ticket (an older server) is an error, retried', async () => {
  const server = new FakeServer({ ticketless: true });
  const { instance, seen } = client(server);
  instance.start();
  await until(() => server.routes.length >= 2);
  assert.equal(server.sockets.length, 0);
  assert.ok(seen.errors[0].includes('no ticket'));
  instance.stop();
});
