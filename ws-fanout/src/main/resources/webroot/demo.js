import { AgentEventsClient } from '/agent-events-client.js';
import { streamRun } from '/agent-events-ag-ui.js';

const $ = (selector, root = document) => root.querySelector(selector);
const runsBox = $('[data-testid=runs]');
const notices = $('[data-testid=notices]');
const connection = $('[data-testid=connection]');
let client = null;
const runs = new Map();

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'class') node.className = value;
    else if (key.startsWith('data-')) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

function pretty(json) {
  try {
    return JSON.stringify(JSON.parse(json), null, 2);
  } catch (error) {
    return json;
  }
}

function time(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

function elapsed(ms) {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function setConnection(state, text) {
  connection.className = `connection ${state}`;
  $('.label', connection).textContent = text;
}

function runCard(event) {
  let run = runs.get(event.runId);
  if (run) return run;
  $('.empty', runsBox)?.remove();
  const status = el('span', { class: 'status running', 'data-testid': 'status' }, 'running');
  const timeline = el('ol', { class: 'timeline' });
  const answer = el('div', { class: 'answer hidden', 'data-testid': 'answer' });
  const meta = el('div', { class: 'meta muted' });
  const agUi = el('ol', { class: 'ag-ui hidden', 'data-testid': 'ag-ui' });
  const agUiButton = el('button', { type: 'button', class: 'link', 'data-testid': 'ag-ui-view' }, 'view as AG-UI');
  agUiButton.addEventListener('click', () => showAgUi(event.runId, agUi, agUiButton));
  const card = el('article', { class: 'run', 'data-run-id': event.runId },
    el('header', {},
      el('div', { class: 'title' }, el('strong', {}, event.agent.name),
        el('span', { class: 'muted' }, ` · run ${event.runId.slice(0, 8)}`)),
      status),
    meta, timeline, answer, agUiButton, agUi);
  runsBox.prepend(card);
  run = { card, status, timeline, answer, meta, startedAt: event.occurredAt, tools: new Map(), text: '' };
  runs.set(event.runId, run);
  return run;
}

/** The run as the AG-UI events an agent UI would get (GET /ag-ui/runs/{runId}, through agent-events-ag-ui.js). */
function showAgUi(runId, list, button) {
  button.remove();
  list.classList.remove('hidden');
  streamRun({
    baseUrl: location.origin,
    token: currentToken,
    runId,
    onEvent: (event) => list.append(el('li', { 'data-ag-ui-type': event.type }, event.type)),
    onError: (error) => notice('warning', `AG-UI view: ${error.message}`),
  });
}

function item(run, event, icon, title, body) {
  const li = el('li', { class: `step ${event.type}`, 'data-event-type': event.type, 'data-seq': String(event.seq) },
    el('span', { class: 'icon' }, icon),
    el('div', { class: 'content' },
      el('div', { class: 'step-title' }, title,
        el('span', { class: 'when muted' }, `+${elapsed(event.occurredAt - run.startedAt)}`)),
      body));
  run.timeline.append(li);
  return li;
}

function render(event) {
  const run = runCard(event);
  switch (event.type) {
    case 'agent_started':
      run.startedAt = event.occurredAt;
      run.meta.textContent = `${event.agent.model || 'model n/a'} · thread ${event.threadId} · started ${time(event.occurredAt)}`;
      item(run, event, '▶', 'Run started', null);
      break;
    case 'agent_thinking':
      item(run, event, '…', 'Thinking', el('p', { class: 'thought' }, event.thinking.text));
      break;
    case 'tool_executing': {
      const result = el('div', { class: 'tool-result pending' }, 'running…');
      const li = item(run, event, '⚙', el('span', {}, 'Tool ', el('code', {}, event.toolCall.toolName)),
        el('div', {}, el('pre', { class: 'args' }, pretty(event.toolCall.argumentsJson)), result));
      run.tools.set(event.toolCallId, { li, result });
      break;
    }
    case 'tool_completed': {
      const tool = run.tools.get(event.toolCallId);
      const body = el('div', {},
        el('div', { class: 'tool-meta' }, event.toolResult.isError ? el('span', { class: 'badge error' }, 'error') : el('span', { class: 'badge ok' }, 'ok'),
          ` in ${elapsed(event.toolResult.durationMs)}`),
        el('pre', { class: 'result' }, pretty(event.toolResult.contentJson)));
      if (tool) {
        tool.result.replaceWith(body);
        tool.li.setAttribute('data-completed-seq', String(event.seq));
      }
      const li = item(run, event, '↳', 'Tool result', null);
      li.classList.add('compact');
      break;
    }
    case 'agent_message_delta': {
      run.text += event.messageDelta.text;
      run.answer.classList.remove('hidden');
      run.answer.textContent = run.text;
      const previous = run.timeline.lastElementChild;
      const li = item(run, event, '✎', 'Writing the answer', null);
      li.classList.add('compact');
      if (previous && previous.dataset.eventType === 'agent_message_delta') {
        // one visible line per stretch of streamed text; the pieces stay in the DOM, one per seq
        li.classList.add('folded');
        const lead = previous.classList.contains('folded') ? previous.leadItem : previous;
        li.leadItem = lead;
        lead.pieces = (lead.pieces || 1) + 1;
        lead.querySelector('.step-title').firstChild.textContent = `Writing the answer · ${lead.pieces} pieces`;
      }
      break;
    }
    case 'agent_completed': {
      const c = event.completed;
      run.status.className = 'status completed';
      run.status.textContent = 'completed';
      item(run, event, '✔', `Completed in ${elapsed(event.occurredAt - run.startedAt)}`,
        el('div', { class: 'muted' }, `${c.inputTokens ?? '?'} tokens in · ${c.outputTokens ?? '?'} out · ${c.finishReason}`));
      break;
    }
    case 'agent_failed':
      run.status.className = 'status failed';
      run.status.textContent = `failed · ${event.failed.code}`;
      item(run, event, '✖', `Failed: ${event.failed.code}`, el('p', {}, event.failed.message));
      break;
    default:
      item(run, event, '•', event.type, null);
  }
}

function notice(kind, text) {
  const box = el('div', { class: `notice ${kind}`, 'data-testid': 'notice' }, text);
  notices.prepend(box);
  while (notices.children.length > 5) notices.lastChild.remove();
}

function updateCounters() {
  if (!client) return;
  const s = client.stats;
  const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
  $('[data-testid=counters]').textContent =
    `${plural(s.delivered, 'event')} · ${plural(s.gaps, 'gap')} · ${plural(s.reconnects, 'reconnect')}`;
}

/** A fresh demo token for {@code user}; the client asks again before the current one expires. */
async function tokenOf(user) {
  const response = await fetch(`/dev/token?user=${encodeURIComponent(user)}`);
  if (!response.ok) throw new Error(`could not sign in: HTTP ${response.status}`);
  return (await response.json()).token;
}

let currentToken = null;

async function signIn(user) {
  currentToken = () => tokenOf(user);
  try {
    await tokenOf(user);
  } catch (error) {
    notice('error', error.message);
    return;
  }
  $('[data-testid=signin]').classList.add('hidden');
  $('[data-testid=session]').classList.remove('hidden');
  $('[data-testid=user]').textContent = user;
  client = new AgentEventsClient({
    token: () => tokenOf(user),
    allowedOrigins: [`${location.protocol}//${location.hostname}:*`], // the demo's nodes: this host, any port
    onEvent: (event) => { render(event); updateCounters(); },
    onGap: (gap) => {
      notice('warning', `Run ${gap.runId.slice(0, 8)}: events ${gap.fromSeq}–${gap.toSeq} could not be shown (${gap.reason}).`);
      const run = runs.get(gap.runId);
      if (run) {
        const li = el('li', { class: 'step gap', 'data-event-type': 'gap' }, el('span', { class: 'icon' }, '⚠'),
          el('div', { class: 'content' }, `Events ${gap.fromSeq}–${gap.toSeq} missing (${gap.reason})`));
        run.timeline.append(li);
      }
      updateCounters();
    },
    onReset: (reason) => notice('warning', `Some history could not be replayed: ${reason}`),
    onState: (state, detail) => {
      if (state === 'live') setConnection('live', `live · ${detail.node} · partition ${detail.partition}`);
      else if (state === 'unauthorized') setConnection('error', 'signed out: token refused');
      else if (state === 'forbidden') setConnection('error', 'refused by the server');
      else if (state === 'stopped') setConnection('', 'signed out');
      else setConnection('reconnecting', state === 'moved' ? 'moving to another node…' : `${state}…`);
      updateCounters();
    },
  });
  client.start();
}

$('#signin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const user = new FormData(e.target).get('user').trim();
  if (user) signIn(user);
});
document.querySelectorAll('button.user').forEach((b) => b.addEventListener('click', () => signIn(b.dataset.user)));
$('#signout').addEventListener('click', () => {
  client?.stop();
  client = null;
  runs.clear();
  runsBox.replaceChildren(el('p', { class: 'empty muted' }, 'Waiting for your agents to start a run…'));
  $('[data-testid=session]').classList.add('hidden');
  $('[data-testid=signin]').classList.remove('hidden');
});
setInterval(updateCounters, 1000);
