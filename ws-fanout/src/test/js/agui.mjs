// A stock AG-UI client against a fanout node, for the Java tests (AgUiStreamTest):
//   node agui.mjs agent <url> <token> <threadId> <runId>       HttpAgent.runAgent: prints the events it saw, as JSON
//   node agui.mjs sse <url> <token> <runId> [lastEventId] [n]  a plain SSE reader of GET /ag-ui/runs/<runId>; stops
//                                                               after n events when given (a dropped connection)
//   node agui.mjs verify                                        reads events (JSON) on stdin: verifyEvents + schemas
//   node agui.mjs runs <url>                                    reads [{token, runId}] (JSON) on stdin: reads each
//                                                               run's stream (sse) and verifies it, all at once
// Every event is checked against @ag-ui/core's schemas; the tools come from AGUI_TOOLS (target/js-tools).
import { createRequire } from 'node:module';

const require = createRequire(`${process.env.AGUI_TOOLS}/package.json`);
const { HttpAgent, verifyEvents } = require('@ag-ui/client');
const { EventSchemas } = require('@ag-ui/core/schemas');
const { from, lastValueFrom, toArray } = require('rxjs');

const [mode, ...args] = process.argv.slice(2);

function checkSchemas(events) {
  for (const event of events) {
    const parsed = EventSchemas.safeParse(event);
    if (!parsed.success) throw new Error(`event ${JSON.stringify(event)} fails @ag-ui/core's schema: ${parsed.error.message}`);
  }
}

async function verify(events) {
  checkSchemas(events);
  await lastValueFrom(from(events).pipe(verifyEvents(undefined), toArray()));
}

async function agent([url, token, threadId, runId]) {
  const seen = [];
  const agent = new HttpAgent({ url: `${url}/ag-ui`, headers: { Authorization: `Bearer ${token}` }, threadId });
  await agent.runAgent({ runId }, { onEvent: ({ event }) => { seen.push(event); } });
  checkSchemas(seen);
  return { seen };
}

async function sse([url, token, runId, lastEventId, limit]) {
  const headers = { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' };
  if (lastEventId && lastEventId !== '-') headers['Last-Event-ID'] = lastEventId;
  const controller = new AbortController();
  const response = await fetch(`${url}/ag-ui/runs/${encodeURIComponent(runId)}`, { headers, signal: controller.signal });
  if (response.status !== 200) return { status: response.status, body: await response.text() };
  const events = [];
  const decoder = new TextDecoder();
  let buffer = '';
  let id = null;
  try {
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let data = null;
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) id = line.slice(4);
          if (line.startsWith('data: ')) data = line.slice(6);
        }
        if (data) events.push({ id, event: JSON.parse(data) });
        if (limit && events.length >= Number(limit)) {
          controller.abort();
          return { status: 200, events };
        }
      }
    }
  } catch (error) {
    if (error.name !== 'AbortError') throw error;
  }
  checkSchemas(events.map((e) => e.event));
  return { status: 200, events };
}

async function runs([url], requests) {
  return {
    runs: await Promise.all(requests.map(async ({ token, runId }) => {
      const stream = await sse([url, token, runId]);
      if (stream.status !== 200) return { runId, ...stream };
      try {
        await verify(stream.events.map((e) => e.event));
        return { runId, ...stream, verified: true };
      } catch (error) {
        return { runId, ...stream, verified: false, error: String(error.message || error) };
      }
    })),
  };
}

async function stdinJson() {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  return JSON.parse(input);
}

async function main() {
  if (mode === 'agent') return agent(args);
  if (mode === 'sse') return sse(args);
  if (mode === 'verify') {
    await verify(await stdinJson());
    return { verified: true };
  }
  if (mode === 'runs') return runs(args, await stdinJson());
  throw new Error(`unknown mode ${mode}`);
}

// exit only once the line is written: a pipe takes a long line in parts, and exiting earlier cuts it
const print = (result, code) => process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(code));
main().then((result) => print(result, 0), (error) => print({ error: String(error.message || error) }, 1));
