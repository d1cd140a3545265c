// agent-events browser client — protocol v1, no dependencies.
//
//   import { AgentEventsClient } from '/agent-events-client.js';
//   const client = new AgentEventsClient({
//     baseUrl: 'https://events.example.com',        // any fanout node (default: this page's origin)
//     token: async () => fetchMyJwt(),               // a string, or a function returning one (called again on 4401)
//     onEvent: (event, frame) => render(event),      // each AgentEvent once, in seq order per run
//     onGap: (gap) => warn(gap),                     // {runId, fromSeq, toSeq, reason, source: 'server'|'client'}
//     onState: (state, detail) => showStatus(state), // connecting, live, reconnecting, moved, unauthorized, stopped
//     onReset: (reason) => reloadHistory(reason),    // the server could not serve the resume position
//   });
//   client.start();
//
// It asks GET /route where the user's stream lives, opens the WebSocket there, and resumes from the last position
// it processed after any disconnect (backoff with full jitter; at once after `moved` or 4008). Frames are
// deduplicated by position, each run's events are checked for seq order, and missing seqs are surfaced as gaps.
// The position survives page reloads in sessionStorage.

const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_FORBIDDEN = 4403;
const CLOSE_TOO_SLOW = 4008;
const CLOSE_MOVED = 4009;
const CLOSE_TOO_MANY = 4429;

export class AgentEventsClient {
  #options;
  #socket = null;
  #stopped = true;
  #attempt = 0;
  #timer = null;
  #position = null;           // {partition, offset}
  #runs = new Map();          // runId -> {lastSeq, terminal}
  #next = null;               // URL to connect to next (from route or moved)
  #refreshedToken = false;
  #token = null;
  #stats = { delivered: 0, duplicates: 0, gaps: 0, reconnects: 0 };

  constructor(options) {
    if (!options || !options.token) throw new Error('AgentEventsClient needs a token (string or function)');
    this.#options = {
      baseUrl: globalThis.location ? globalThis.location.origin : undefined,
      onEvent: () => {}, onGap: () => {}, onState: () => {}, onReset: () => {}, onError: () => {},
      storage: globalThis.sessionStorage,
      backoffBaseMs: 250, backoffMaxMs: 10000,
      ...options,
    };
  }

  /** The last position processed, "partition:offset", or null. */
  get position() {
    return this.#position ? `${this.#position.partition}:${this.#position.offset}` : null;
  }

  get stats() {
    return { ...this.#stats };
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
      this.#token = await this.#currentToken();
      this.#restorePosition();
      const url = this.#next || await this.#route();
      this.#next = null;
      if (url) this.#open(url);
    } catch (error) {
      this.#options.onError(error);
      this.#retry();
    }
  }

  async #currentToken() {
    const token = this.#options.token;
    return typeof token === 'function' ? await token() : token;
  }

  async #route() {
    this.#state('connecting');
    const response = await fetch(new URL('/route', this.#options.baseUrl), {
      headers: { Authorization: `Bearer ${this.#token}` },
    });
    if (response.status === 401) {
      this.#unauthorized('route lookup refused the token');
      return null;
    }
    if (!response.ok) throw new Error(`route lookup answered HTTP ${response.status}`);
    const route = await response.json();
    return route.url;
  }

  #open(url) {
    const target = new URL(url, this.#options.baseUrl);
    if (target.protocol === 'http:') target.protocol = 'ws:';
    if (target.protocol === 'https:') target.protocol = 'wss:';
    target.searchParams.set('access_token', this.#token);
    if (this.#position) target.searchParams.set('resume', this.position);
    if (this.#options.runId) target.searchParams.set('runId', this.#options.runId);
    if (this.#options.threadId) target.searchParams.set('threadId', this.#options.threadId);
    const socket = new WebSocket(target);
    this.#socket = socket;
    socket.onmessage = (message) => this.#receive(message.data);
    socket.onclose = (close) => {
      if (this.#socket === socket) this.#socket = null;
      this.#closed(close.code, close.reason);
    };
  }

  #receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch (error) {
      this.#options.onError(new Error(`unreadable frame: ${String(data).slice(0, 80)}`));
      return;
    }
    switch (frame.type) {
      case 'welcome':
        this.#attempt = 0;
        this.#refreshedToken = false;
        this.#state('live', frame);
        break;
      case 'event':
        this.#event(frame);
        break;
      case 'gap':
        if (this.#advance(frame.pos)) {
          const run = this.#trackedRun(frame.runId);
          run.lastSeq = Math.max(run.lastSeq, frame.toSeq);
          this.#stats.gaps += 1;
          this.#options.onGap({ ...frame, source: 'server' });
        }
        break;
      case 'moved':
        this.#next = frame.url || null;
        this.#state('moved', frame);
        break;
      case 'reset':
        this.#options.onReset(frame.reason);
        break;
      default:
        break;
    }
  }

  #event(frame) {
    if (!this.#advance(frame.pos)) {
      this.#stats.duplicates += 1;
      return;
    }
    const event = frame.event;
    const run = this.#trackedRun(event.runId);
    if (event.seq <= run.lastSeq) {
      this.#stats.duplicates += 1;
      return;
    }
    if (run.terminal) {
      this.#options.onError(new Error(`event seq ${event.seq} after the end of run ${event.runId}`));
      return;
    }
    if (run.lastSeq >= 0 && event.seq > run.lastSeq + 1) {
      this.#stats.gaps += 1;
      this.#options.onGap({ runId: event.runId, fromSeq: run.lastSeq + 1, toSeq: event.seq - 1,
        reason: 'MISSING', source: 'client' });
    }
    run.lastSeq = event.seq;
    run.terminal = event.type === 'agent_completed' || event.type === 'agent_failed';
    this.#stats.delivered += 1;
    this.#options.onEvent(event, frame);
  }

  #trackedRun(runId) {
    let run = this.#runs.get(runId);
    if (!run) {
      run = { lastSeq: -1, terminal: false };
      this.#runs.set(runId, run);
    }
    return run;
  }

  /** Moves the position forward; false for a frame at or before it (already processed). */
  #advance(pos) {
    const [partition, offset] = String(pos).split(':').map(Number);
    if (this.#position && this.#position.partition === partition && offset <= this.#position.offset) return false;
    this.#position = { partition, offset };
    this.#savePosition();
    return true;
  }

  #closed(code, reason) {
    if (this.#stopped) return;
    if (code === CLOSE_UNAUTHORIZED) {
      if (typeof this.#options.token === 'function' && !this.#refreshedToken) {
        this.#refreshedToken = true;
        this.#schedule(0);
      } else {
        this.#unauthorized(reason || 'token refused');
      }
      return;
    }
    if (code === CLOSE_FORBIDDEN) {
      this.#state('forbidden', { reason });
      this.#stopped = true;
      return;
    }
    this.#stats.reconnects += 1;
    if (code === CLOSE_MOVED || code === CLOSE_TOO_SLOW) {
      this.#state(code === CLOSE_MOVED ? 'moved' : 'reconnecting', { code, reason });
      this.#schedule(this.#attempt++ === 0 ? 0 : this.#delay());
      return;
    }
    this.#state('reconnecting', { code, reason });
    this.#schedule(code === CLOSE_TOO_MANY ? this.#options.backoffMaxMs : this.#delay());
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

  #schedule(ms) {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#run(), ms);
  }

  #unauthorized(reason) {
    this.#stopped = true;
    this.#state('unauthorized', { reason });
  }

  #state(state, detail) {
    this.#options.onState(state, detail || {});
  }

  #storageKey() {
    try {
      const payload = JSON.parse(atob(this.#token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
      return `agent-events:position:${payload.sub}`;
    } catch (error) {
      return null;
    }
  }

  #restorePosition() {
    if (this.#position || !this.#options.storage) return;
    const key = this.#storageKey();
    const saved = key && this.#options.storage.getItem(key);
    if (saved && /^\d+:-?\d+$/.test(saved)) {
      const [partition, offset] = saved.split(':').map(Number);
      this.#position = { partition, offset };
    }
  }

  #savePosition() {
    const key = this.#options.storage && this.#storageKey();
    if (key) this.#options.storage.setItem(key, this.position);
  }
}
