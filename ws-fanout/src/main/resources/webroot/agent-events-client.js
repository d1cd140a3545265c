// agent-events browser client — client protocol v1, no dependencies (docs/protocol.md).
//
//   import { AgentEventsClient } from '/agent-events-client.js';
//   const client = new AgentEventsClient({
//     baseUrl: 'https://events.example.com',        // any fanout node (default: this page's origin)
//     token: async () => fetchMyJwt(),               // a JWT, or a function returning one (asked again to refresh)
//     onEvent: (event, frame) => render(event),      // each AgentEvent once, in seq order per run
//     onGap: (gap) => warn(gap),                     // {runId, fromSeq, toSeq, reason, source: 'server'|'client'}
//     onState: (state, detail) => showStatus(state), // see ClientState below
//     onReset: (reason) => reloadHistory(reason),    // the server could not serve the resume position
//   });
//   client.start();
//
// It asks GET /route where the user's stream is served (the JWT goes in the Authorization header, never in a URL),
// opens the WebSocket there with the single-use ticket /route gave, and resumes from the last position it processed
// after any disconnect (backoff with full jitter; at once after `moved` or 4008). Before the token expires the server
// says `expiring`; the client asks `token()` for a fresh one and sends it over the socket, so the stream goes on
// with no gap and no repeat. Frames are deduplicated by position, then by seq within each run (StreamRules); missing
// seqs are reported as gaps. An exception thrown by a callback is reported to onError and never breaks the stream;
// the position kept across reloads (sessionStorage) only moves past an event once onEvent has returned.

/**
 * @typedef {'connecting'|'live'|'moved'|'reconnecting'|'unauthorized'|'forbidden'|'stopped'} ClientState
 *   connecting: looking up the route or opening the socket · live: the server said welcome, events flow ·
 *   moved: the user's stream moved to another node, reconnecting there at once · reconnecting: the connection was
 *   lost, waiting before the next attempt · unauthorized: the token was refused even after asking for a fresh one
 *   (stopped) · forbidden: the server refused this user or origin (4403; stopped) · stopped: stop() was called.
 */

/**
 * @typedef {object} AgentEvent  An AgentEvent as JSON, field names as in the Avro schema.
 * @property {string} eventId
 * @property {string} type  agent_started, agent_thinking, tool_executing, tool_completed, agent_message_delta,
 *   agent_completed, agent_failed, or a newer type
 * @property {string} userId
 * @property {string} threadId
 * @property {string} runId
 * @property {string|null} [parentRunId]
 * @property {number} seq
 * @property {number} occurredAt  epoch milliseconds
 * @property {{id: string, name: string, version: string, model?: string|null}} agent
 * @property {string|null} [toolCallId]
 * @property {object|null} [thinking]
 * @property {object|null} [toolCall]
 * @property {object|null} [toolResult]
 * @property {object|null} [completed]
 * @property {object|null} [failed]
 * @property {object|null} [messageDelta]
 */

/**
 * @typedef {object} EventFrame
 * @property {'event'} type
 * @property {string} pos  "<partition>:<offset>" in agent-events-ordered
 * @property {AgentEvent} event
 * @property {string} chain  the run's hash chain after this event
 */

/**
 * @typedef {object} Gap  Seqs of a run that will not be shown.
 * @property {string} runId
 * @property {number} fromSeq
 * @property {number} toSeq
 * @property {string} reason  the router's (TIMEOUT, BUFFER_FULL, REJECTED) or MISSING when the client found it
 * @property {'server'|'client'} source
 * @property {string} [pos]
 * @property {string} [threadId]
 */

/**
 * @typedef {object} ClientOptions
 * @property {string | (() => string | Promise<string>)} token  a JWT whose sub is the user, or a function giving one
 * @property {string} [baseUrl]  any fanout node (default: this page's origin)
 * @property {string[]} [allowedOrigins]  origins the client may follow to (route and moved URLs), such as
 *   'https://events.example.com' or, for any port of a host, 'https://events.example.com:*'; default: baseUrl's
 * @property {string} [runId]  only this run's events
 * @property {string} [threadId]  only this thread's events
 * @property {(event: AgentEvent, frame: EventFrame) => void} [onEvent]
 * @property {(gap: Gap) => void} [onGap]
 * @property {(state: ClientState, detail: object) => void} [onState]
 * @property {(reason: string) => void} [onReset]
 * @property {(error: Error) => void} [onError]
 * @property {Storage | null} [storage]  where the position survives reloads (default: sessionStorage)
 * @property {number} [backoffBaseMs]  the first reconnect waits a random time up to this (default 250)
 * @property {number} [backoffMaxMs]  the cap of that wait, doubling per failed attempt (default 2000; after 4429
 *   the wait is this cap)
 * @property {number} [maxFinishedRuns]  finished runs remembered for the seq check (default 1000)
 * @property {typeof fetch} [fetch]  for tests
 * @property {{new (url: string | URL): WebSocket}} [WebSocket]  for tests
 */

export const CloseCode = Object.freeze({
  UNAUTHORIZED: 4401, FORBIDDEN: 4403, TOO_SLOW: 4008, MOVED: 4009, TOO_MANY: 4429,
});

const TERMINAL = new Set(['agent_completed', 'agent_failed']);

/**
 * The protocol's rules for one user's stream, without any I/O: a frame at or before the position is a repeat; an
 * event at or before its run's last seq is a repeat; an event after its run's end is dropped; an event past the next
 * seq reports the missing seqs as a gap first. check() says what to do with a frame, commit() records a frame to
 * deliver or report, skip() moves the position past one dropped by seq or after its run's end. The same
 * rules hold the Java clients: both are tested against test-fixtures' protocol/stream-rules.json.
 */
export class StreamRules {
  /** @type {{partition: number, offset: number} | null} */
  position = null;
  /** @type {Map<string, {lastSeq: number, terminal: boolean}>} */
  #runs = new Map();
  /** @type {string[]} */
  #finished = [];
  #maxFinished;

  /** @param {number} [maxFinishedRuns] */
  constructor(maxFinishedRuns = 1000) {
    this.#maxFinished = maxFinishedRuns;
  }

  /**
   * What to do with a frame:
   * `{action: 'deliver', gap?}` (an event to show, after the gap it reveals), `{action: 'gap'}` (a server gap to
   * report), `{action: 'drop', reason: 'position'|'seq'|'after-end'}`, `{action: 'control'}` (welcome, moved, …).
   * @param {any} frame
   * @returns {{action: 'deliver'|'gap'|'drop'|'control', reason?: string, gap?: {fromSeq: number, toSeq: number}}}
   */
  check(frame) {
    if (frame.type !== 'event' && frame.type !== 'gap') {
      // a client without a position takes the one its welcome names, so a reconnect before its first event
      // resumes there instead of missing what came in between
      if (frame.type === 'welcome' && !this.position && typeof frame.pos === 'string') {
        this.position = StreamRules.parse(frame.pos);
      }
      return { action: 'control' };
    }
    const pos = StreamRules.parse(frame.pos);
    if (this.position && pos.partition === this.position.partition && pos.offset <= this.position.offset) {
      return { action: 'drop', reason: 'position' };
    }
    if (frame.type === 'gap') return { action: 'gap' };
    const event = frame.event;
    const run = this.#runs.get(event.runId);
    if (run && event.seq <= run.lastSeq) return { action: 'drop', reason: 'seq' };
    if (run && run.terminal) return { action: 'drop', reason: 'after-end' };
    if (run && event.seq > run.lastSeq + 1) {
      return { action: 'deliver', gap: { fromSeq: run.lastSeq + 1, toSeq: event.seq - 1 } };
    }
    return { action: 'deliver' };
  }

  /**
   * Records a frame check() said to deliver or report: its position, and its run's seq and end.
   * @param {any} frame
   */
  commit(frame) {
    this.position = StreamRules.parse(frame.pos);
    const runId = frame.type === 'gap' ? frame.runId : frame.event.runId;
    if (runId == null) return; // a gap of an undecodable record: no run to move on
    let run = this.#runs.get(runId);
    if (!run) {
      run = { lastSeq: -1, terminal: false };
      this.#runs.set(runId, run);
    }
    if (frame.type === 'gap') {
      run.lastSeq = Math.max(run.lastSeq, frame.toSeq);
      return;
    }
    run.lastSeq = frame.event.seq;
    if (TERMINAL.has(frame.event.type)) {
      run.terminal = true;
      this.#finished.push(runId);
      while (this.#finished.length > this.#maxFinished) this.#runs.delete(/** @type {string} */ (this.#finished.shift()));
    }
  }

  /**
   * Moves the position past a frame check() dropped by seq or after its run's end, so a resume does not ask again.
   * @param {any} frame
   */
  skip(frame) {
    this.position = StreamRules.parse(frame.pos);
  }

  /** Runs remembered (open, and the most recently finished). */
  get runCount() {
    return this.#runs.size;
  }

  /**
   * @param {string} pos
   * @returns {{partition: number, offset: number}}
   */
  static parse(pos) {
    const [partition, offset] = String(pos).split(':').map(Number);
    return { partition, offset };
  }
}

export class AgentEventsClient {
  /** @type {Required<Omit<ClientOptions, 'runId'|'threadId'|'allowedOrigins'>> & ClientOptions} */
  #options;
  /** @type {Set<string>} */
  #allowedOrigins;
  /** @type {WebSocket | null} */
  #socket = null;
  #stopped = true;
  #attempt = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #timer;
  #rules;
  /** @type {string | null} where to connect next (a `moved` URL) */
  #next = null;
  #askedForFreshToken = false;
  /** @type {string | null} */
  #token = null;
  #persist = true;
  #stats = { delivered: 0, duplicates: 0, gaps: 0, reconnects: 0, refreshes: 0, callbackErrors: 0 };

  /** @param {ClientOptions} options */
  constructor(options) {
    if (!options || !options.token) throw new Error('AgentEventsClient needs a token (string or function)');
    const baseUrl = options.baseUrl || (globalThis.location ? globalThis.location.origin : undefined);
    if (!baseUrl) throw new Error('AgentEventsClient needs a baseUrl outside a browser page');
    this.#options = {
      onEvent: () => {}, onGap: () => {}, onState: () => {}, onReset: () => {}, onError: () => {},
      storage: globalThis.sessionStorage ?? null,
      backoffBaseMs: 250, backoffMaxMs: 2000, maxFinishedRuns: 1000,
      fetch: (...args) => globalThis.fetch(...args),
      WebSocket: globalThis.WebSocket,
      ...options,
      baseUrl,
    };
    this.#allowedOrigins = new Set((options.allowedOrigins || [new URL(baseUrl).origin])
      .map((o) => (o.endsWith(':*') ? o : new URL(o).origin)));
    this.#rules = new StreamRules(this.#options.maxFinishedRuns);
  }

  /** The last position processed, "partition:offset", or null. */
  get position() {
    const p = this.#rules.position;
    return p ? `${p.partition}:${p.offset}` : null;
  }

  get stats() {
    return { ...this.#stats, runs: this.#rules.runCount };
  }

  start() {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#run();
  }

  stop() {
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (this.#socket) this.#socket.close(1000, 'client stopped');
    this.#socket = null;
    this.#state('stopped');
  }

  async #run() {
    try {
      this.#token = await this.#freshToken();
      this.#restorePosition();
      this.#state('connecting');
      const route = await this.#route();
      if (!route || this.#stopped) return;
      this.#open(this.#next || route.url, route.ticket);
      this.#next = null;
    } catch (error) {
      this.#report(error);
      this.#retry();
    }
  }

  async #freshToken() {
    const token = this.#options.token;
    return typeof token === 'function' ? await token() : token;
  }

  /** @returns {Promise<{url: string, ticket: string} | null>} */
  async #route() {
    const response = await this.#options.fetch(new URL('/route', this.#options.baseUrl), {
      headers: { Authorization: `Bearer ${this.#token}` },
    });
    if (response.status === 401) {
      this.#tokenRefused('route lookup refused the token');
      return null;
    }
    if (!response.ok) throw new Error(`route lookup answered HTTP ${response.status}`);
    const route = await response.json();
    if (!route.ticket) throw new Error('route lookup gave no ticket (the server speaks an older protocol)');
    this.#followable(route.url);
    return route;
  }

  /** Throws unless {@code url} is on an origin this client was configured to follow. */
  #followable(url) {
    const target = new URL(url, this.#options.baseUrl);
    const scheme = target.protocol.replace(/^ws/, 'http');
    const origin = `${scheme}//${target.host}`;
    if (!this.#allowedOrigins.has(origin) && !this.#allowedOrigins.has(`${scheme}//${target.hostname}:*`)) {
      throw new Error(`refusing to follow ${url}: ${origin} is not an allowed origin`);
    }
    return target;
  }

  /**
   * @param {string} url
   * @param {string} ticket
   */
  #open(url, ticket) {
    const target = this.#followable(url);
    if (target.protocol === 'http:') target.protocol = 'ws:';
    if (target.protocol === 'https:') target.protocol = 'wss:';
    target.searchParams.set('ticket', ticket);
    if (this.position) target.searchParams.set('resume', this.position);
    if (this.#options.runId) target.searchParams.set('runId', this.#options.runId);
    if (this.#options.threadId) target.searchParams.set('threadId', this.#options.threadId);
    const socket = new this.#options.WebSocket(target);
    this.#socket = socket;
    socket.onmessage = (message) => { if (this.#socket === socket) this.#receive(message.data); };
    socket.onclose = (close) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.#closed(close.code, close.reason);
    };
  }

  /** @param {any} data */
  #receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch (error) {
      this.#report(new Error(`unreadable frame: ${String(data).slice(0, 80)}`));
      return;
    }
    const verdict = this.#rules.check(frame);
    if (verdict.action === 'drop') {
      this.#stats.duplicates += verdict.reason === 'after-end' ? 0 : 1;
      if (verdict.reason === 'after-end') {
        this.#report(new Error(`event seq ${frame.event.seq} after the end of run ${frame.event.runId}`));
      }
      if (verdict.reason !== 'position') {
        this.#rules.skip(frame);
        this.#savePosition();
      }
      return;
    }
    if (verdict.action === 'gap') {
      this.#rules.commit(frame);
      this.#stats.gaps += 1;
      this.#call('onGap', { ...frame, source: 'server' });
      this.#savePosition();
      return;
    }
    if (verdict.action === 'deliver') {
      if (verdict.gap) {
        this.#stats.gaps += 1;
        this.#call('onGap', { runId: frame.event.runId, ...verdict.gap, reason: 'MISSING', source: 'client' });
      }
      this.#rules.commit(frame);
      this.#stats.delivered += 1;
      if (this.#call('onEvent', frame.event, frame)) this.#savePosition();
      else this.#persist = false; // a reload must show this event again: the position kept stops before it
      return;
    }
    this.#control(frame);
  }

  /** @param {any} frame */
  #control(frame) {
    switch (frame.type) {
      case 'welcome':
        this.#savePosition();
        this.#attempt = 0;
        this.#askedForFreshToken = false;
        this.#state('live', frame);
        break;
      case 'moved':
        try {
          this.#next = frame.url ? this.#followable(frame.url).href : null;
        } catch (error) {
          this.#report(error);
          this.#next = null;
        }
        this.#state('moved', frame);
        break;
      case 'reset':
        this.#call('onReset', frame.reason);
        break;
      case 'expiring':
        this.#refresh();
        break;
      case 'refreshed':
        this.#stats.refreshes += 1;
        break;
      default:
        break;
    }
  }

  /** The token expires soon: send a fresh one over the socket (a string token cannot be refreshed). */
  async #refresh() {
    if (typeof this.#options.token !== 'function') return;
    const socket = this.#socket;
    try {
      const token = await this.#freshToken();
      this.#token = token;
      if (socket && socket === this.#socket && socket.readyState === 1) {
        socket.send(JSON.stringify({ type: 'refresh', token }));
      }
    } catch (error) {
      this.#report(error);
    }
  }

  /**
   * @param {number} code
   * @param {string} reason
   */
  #closed(code, reason) {
    if (this.#stopped) return;
    if (code === CloseCode.UNAUTHORIZED) {
      this.#tokenRefused(reason || 'token refused');
      return;
    }
    if (code === CloseCode.FORBIDDEN) {
      this.#stopped = true;
      this.#state('forbidden', { code, reason });
      return;
    }
    this.#stats.reconnects += 1;
    if (code === CloseCode.MOVED || code === CloseCode.TOO_SLOW) {
      this.#state(code === CloseCode.MOVED ? 'moved' : 'reconnecting', { code, reason });
      this.#schedule(this.#attempt++ === 0 ? 0 : this.#delay());
      return;
    }
    this.#state('reconnecting', { code, reason });
    this.#schedule(code === CloseCode.TOO_MANY ? this.#options.backoffMaxMs : this.#delay());
  }

  /** The token was refused: try once more with a fresh one (when token is a function), then give up. */
  #tokenRefused(reason) {
    if (typeof this.#options.token === 'function' && !this.#askedForFreshToken) {
      this.#askedForFreshToken = true;
      this.#schedule(0);
      return;
    }
    this.#stopped = true;
    this.#state('unauthorized', { reason });
  }

  #retry() {
    if (this.#stopped) return;
    this.#state('reconnecting', {});
    this.#schedule(this.#delay());
  }

  #delay() {
    const cap = Math.min(this.#options.backoffMaxMs, this.#options.backoffBaseMs * 2 ** Math.min(this.#attempt, 10));
    this.#attempt += 1;
    return Math.floor(Math.random() * cap);
  }

  /** @param {number} ms */
  #schedule(ms) {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#run(), ms);
  }

  /**
   * Calls a callback; what it throws goes to onError and changes nothing else. True when it returned normally.
   * @param {'onEvent'|'onGap'|'onReset'|'onState'} name
   * @param {...any} args
   */
  #call(name, ...args) {
    try {
      /** @type {Function} */ (this.#options[name])(...args);
      return true;
    } catch (error) {
      this.#stats.callbackErrors += 1;
      this.#report(error);
      return false;
    }
  }

  /** @param {unknown} error */
  #report(error) {
    try {
      this.#options.onError(error instanceof Error ? error : new Error(String(error)));
    } catch (ignored) {
      // onError itself failed: there is nobody left to tell
    }
  }

  /**
   * @param {ClientState} state
   * @param {object} [detail]
   */
  #state(state, detail) {
    this.#call('onState', state, detail || {});
  }

  #storageKey() {
    try {
      const payload = JSON.parse(atob(String(this.#token).split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
      return `agent-events:position:${payload.sub}`;
    } catch (error) {
      return null;
    }
  }

  #restorePosition() {
    if (this.#rules.position || !this.#options.storage) return;
    const key = this.#storageKey();
    const saved = key && this.#options.storage.getItem(key);
    if (saved && /^\d+:-?\d+$/.test(saved)) this.#rules.position = StreamRules.parse(saved);
  }

  #savePosition() {
    const key = this.#persist && this.#options.storage && this.#storageKey();
    if (key && this.position) this.#options.storage?.setItem(key, this.position);
  }
}
