// agent-events AG-UI companion — one run as AG-UI events in the browser, no dependencies (docs/protocol.md, AG-UI).
//
//   import { streamRun } from '/agent-events-ag-ui.js';
//   const stream = streamRun({
//     baseUrl: 'https://events.example.com',      // any fanout node
//     token: async () => fetchMyJwt(),             // sent in the Authorization header, never in a URL
//     runId: 'run-42',
//     onEvent: (event, id) => render(event),       // AG-UI events: RUN_STARTED first, RUN_FINISHED or RUN_ERROR last
//   });
//   await stream.done;                             // resolves after the run's last event; stream.stop() to leave early
//
// It reads GET /ag-ui/runs/{runId} with fetch (so the token goes in a header), and when the connection drops it
// reconnects with backoff and Last-Event-ID, so the run goes on with nothing lost or repeated. The same events could
// feed any AG-UI consumer (they pass @ag-ui/client's verifyEvents).

/**
 * @typedef {{type: string, [field: string]: unknown}} AgUiEvent  an AG-UI event (see @ag-ui/core)
 */

/**
 * @typedef {object} RunStreamOptions
 * @property {string} baseUrl  any fanout node
 * @property {string | (() => string | Promise<string>)} token  a JWT whose sub is the user, or a function giving one
 * @property {string} runId
 * @property {string} [threadId]
 * @property {(event: AgUiEvent, id: string) => void} onEvent
 * @property {(error: Error) => void} [onError]
 * @property {string} [lastEventId]  continue after this id (from an earlier stream of the run)
 * @property {number} [backoffMaxMs]
 * @property {typeof fetch} [fetch]  for tests
 */

/**
 * Streams one run's AG-UI events to `onEvent` until RUN_FINISHED or RUN_ERROR.
 * @param {RunStreamOptions} options
 * @returns {{done: Promise<AgUiEvent>, stop: () => void, readonly lastEventId: string | null}}
 */
export function streamRun(options) {
  const doFetch = options.fetch || ((...args) => globalThis.fetch(...args));
  const backoffMaxMs = options.backoffMaxMs ?? 2000;
  let lastEventId = options.lastEventId ?? null;
  let stopped = false;
  /** @type {AbortController | null} */
  let controller = null;
  const url = new URL(`/ag-ui/runs/${encodeURIComponent(options.runId)}`, options.baseUrl);
  if (options.threadId) url.searchParams.set('threadId', options.threadId);

  const report = (/** @type {unknown} */ error) => {
    try {
      options.onError?.(error instanceof Error ? error : new Error(String(error)));
    } catch (ignored) {
      // nobody left to tell
    }
  };

  /** @returns {Promise<AgUiEvent | null>} the terminal event, or null when the connection ended before it */
  async function readOnce() {
    const token = typeof options.token === 'function' ? await options.token() : options.token;
    /** @type {Record<string, string>} */
    const headers = { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' };
    if (lastEventId) headers['Last-Event-ID'] = lastEventId;
    controller = new AbortController();
    const response = await doFetch(url, { headers, signal: controller.signal });
    if (!response.ok || !response.body) throw new Error(`AG-UI stream answered HTTP ${response.status}`);
    const decoder = new TextDecoder();
    const reader = response.body.getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return null;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let id = null;
        let data = null;
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) id = line.slice(4);
          else if (line.startsWith('data: ')) data = line.slice(6);
        }
        if (data === null) continue;
        const event = /** @type {AgUiEvent} */ (JSON.parse(data));
        if (id) lastEventId = id;
        try {
          options.onEvent(event, id ?? '');
        } catch (error) {
          report(error);
        }
        if (event.type === 'RUN_FINISHED' || event.type === 'RUN_ERROR') return event;
      }
    }
  }

  const done = (async () => {
    let attempt = 0;
    while (!stopped) {
      try {
        const last = await readOnce();
        if (last) return last;
      } catch (error) {
        if (stopped) break;
        report(error);
      }
      attempt += 1;
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * Math.min(backoffMaxMs, 250 * 2 ** attempt))));
    }
    throw new Error('stream stopped');
  })();

  return {
    done,
    stop() {
      stopped = true;
      controller?.abort();
    },
    get lastEventId() {
      return lastEventId;
    },
  };
}
