// How an application written in TypeScript uses the browser client, type-checked in the build against the
// declarations generated from the client's JSDoc. The @ts-expect-error lines must stay errors: they prove the types
// catch a misuse, not just accept anything.
import { AgentEventsClient, CloseCode, type AgentEvent, type ClientState, type Gap } from
  '../../../target/client-types/agent-events-client.js';

const shown: AgentEvent[] = [];
const client = new AgentEventsClient({
  baseUrl: 'https://events.example.com',
  allowedOrigins: ['https://events.example.com', 'https://nodes.example.com:*'],
  token: async () => 'a.jwt.token',
  onEvent: (event, frame) => {
    const seq: number = event.seq;
    const position: string = frame.pos;
    shown.push(event);
    void seq;
    void position;
  },
  onGap: (gap: Gap) => console.warn(gap.runId, gap.fromSeq, gap.toSeq, gap.reason, gap.source),
  onState: (state: ClientState) => {
    if (state === 'forbidden' || state === 'unauthorized') console.error('signed out');
  },
  onReset: (reason: string) => console.warn(reason),
  onError: (error: Error) => console.error(error.message),
});
client.start();
const position: string | null = client.position;
const reconnects: number = client.stats.reconnects;
const moved: number = CloseCode.MOVED;
void position;
void reconnects;
void moved;
client.stop();

// @ts-expect-error a token is required
new AgentEventsClient({ baseUrl: 'https://events.example.com' });
// @ts-expect-error onEvent gets an AgentEvent, whose seq is a number
new AgentEventsClient({ token: 't', onEvent: (event: { seq: string }) => event });
// @ts-expect-error there is no such state
const state: ClientState = 'connected';
void state;
