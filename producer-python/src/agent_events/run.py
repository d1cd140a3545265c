"""One agent run: its events in seq order, its tool calls, its end."""

from __future__ import annotations

import json
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Optional

from . import tracing
from .errors import PublishError, RunError

if TYPE_CHECKING:
    from .publisher import Published, Publisher

#: The router's limit on ids and agent strings (ROUTER_MAX_ID_BYTES's default), in UTF-8 bytes.
MAX_ID_BYTES = 512


@dataclass(frozen=True)
class Agent:
    """Who does the work: ``id``, display ``name``, ``version``, and the ``model`` if there is one."""

    id: str
    name: str
    version: str
    model: Optional[str] = None


@dataclass(frozen=True)
class Usage:
    """What a completed run used: token counts (None when unknown) and why it stopped."""

    input_tokens: Optional[int] = None
    output_tokens: Optional[int] = None
    finish_reason: str = "stop"


class Run:
    """The events of one run, each with the next ``seq`` (0 for ``agent_started``), a fresh ``eventId``, the time, the
    run's W3C trace id and a span id (one per tool call, one for the rest). Every method returns the event's future
    (see :class:`Publisher`). Misuse — an event after ``completed``/``failed``, ``tool_completed`` for a call that is
    not executing, a blank or over-long id, a payload over ``PUBLISHER_MAX_PAYLOAD_BYTES`` — raises :class:`RunError`
    at the call, naming the run.

    As a context manager it ends the run if its body did not: a body that raises ends it with ``agent_failed``
    (code ``EXCEPTION``) and the exception propagates; a body that returns without ``completed()`` or ``failed()``
    ends it with ``agent_failed`` (code ``INCOMPLETE``), so no user waits for a run nobody will finish. Thread-safe.
    """

    def __init__(self, publisher: "Publisher", user_id: str, thread_id: str, agent: Agent, run_id: Optional[str],
                 parent_run_id: Optional[str], trace_id: Optional[str]):
        self._publisher = publisher
        self._lock = threading.RLock()
        self.run_id = run_id if run_id is not None else str(uuid.uuid4())
        self.user_id = self._id("user_id", user_id)
        self.thread_id = self._id("thread_id", thread_id)
        self._id("run_id", self.run_id)
        if parent_run_id is not None:
            self._id("parent_run_id", parent_run_id)
        for name, value in (("agent.id", agent.id), ("agent.name", agent.name), ("agent.version", agent.version)):
            self._id(name, value)
        self._agent = agent
        self._parent_run_id = parent_run_id
        active = tracing.current()
        if trace_id is not None and not tracing.TRACE_ID.fullmatch(trace_id):
            raise RunError(f"run {self.run_id}: trace_id '{trace_id}' is not 32 lower-case hex digits")
        self._trace_id = trace_id or (active[0] if active else tracing.new_trace_id())
        self._span_id = active[1] if active and not trace_id else tracing.new_span_id()
        self._next_seq = 0
        self._terminal: Optional[Dict[str, Any]] = None
        self._open_calls: Dict[str, tuple] = {}
        self.started = self._publish("agent_started", {})

    # ------------------------------------------------------------------ the events

    def thinking(self, text: str) -> "Future[Published]":
        """``agent_thinking``: what the agent is reasoning about."""
        return self._publish("agent_thinking", {"thinking": {"text": self._payload("text", text)}})

    def message_delta(self, text: str) -> "Future[Published]":
        """``agent_message_delta``: a piece of the streamed answer."""
        return self._publish("agent_message_delta", {"messageDelta": {"text": self._payload("text", text)}})

    def tool_executing(self, call_id: str, tool_name: str, arguments: Any) -> "Future[Published]":
        """``tool_executing``: ``tool_name`` is called with ``arguments`` (anything JSON can hold)."""
        with self._lock:
            self._check_open("tool_executing")
            self._id("call_id", call_id)
            self._id("tool_name", tool_name)
            if call_id in self._open_calls:
                raise RunError(f"run {self.run_id} of user {self.user_id}: tool call '{call_id}' is already executing")
            span = tracing.new_span_id()
            future = self._publish("tool_executing", {
                "toolCallId": call_id,
                "toolCall": {"toolName": tool_name, "argumentsJson": self._payload("arguments", _json(arguments))},
            }, span)
            self._open_calls[call_id] = (time.monotonic(), span)
            return future

    def tool_completed(self, call_id: str, content: Any, is_error: bool = False) -> "Future[Published]":
        """``tool_completed``: the call's ``content`` (anything JSON can hold); its duration is measured."""
        with self._lock:
            self._check_open("tool_completed")
            self._id("call_id", call_id)
            call = self._open_calls.get(call_id)
            if call is None:
                raise RunError(f"run {self.run_id} of user {self.user_id}: tool_completed for tool call '{call_id}',"
                               f" which is not executing (executing: {sorted(self._open_calls)})")
            duration_ms = max(0, int((time.monotonic() - call[0]) * 1000))
            future = self._publish("tool_completed", {
                "toolCallId": call_id,
                "toolResult": {"contentJson": self._payload("content", _json(content)), "isError": bool(is_error),
                               "durationMs": duration_ms},
            }, call[1])
            del self._open_calls[call_id]
            return future

    def tool(self, tool_name: str, arguments: Any, call_id: Optional[str] = None) -> "ToolCall":
        """Calls a tool: ``tool_executing`` now, ``tool_completed`` when the ``with`` block ends (its result set
        with :meth:`ToolCall.result`; a block that raises reports the exception with ``isError`` and re-raises)."""
        call = ToolCall(self, call_id or f"call-{uuid.uuid4().hex[:12]}")
        call.executing = self.tool_executing(call.call_id, tool_name, arguments)
        return call

    def completed(self, result: Any, usage: Usage = Usage()) -> "Future[Published]":
        """``agent_completed``: the run's ``result`` (anything JSON can hold) and what it used."""
        self._id("usage.finish_reason", usage.finish_reason)
        for name, count in (("input_tokens", usage.input_tokens), ("output_tokens", usage.output_tokens)):
            if count is not None and not 0 <= count <= 2 ** 53 - 1:
                raise RunError(f"run {self.run_id}: usage.{name} {count} is not a count a browser can hold")
        return self._publish("agent_completed", {"completed": {
            "resultJson": self._payload("result", _json(result)), "inputTokens": usage.input_tokens,
            "outputTokens": usage.output_tokens, "finishReason": usage.finish_reason}})

    def failed(self, code: str, message: str, retryable: bool = False) -> "Future[Published]":
        """``agent_failed``: the run ended in error (``code``, e.g. TOOL_TIMEOUT) or was cancelled (CANCELLED)."""
        self._id("code", code)
        return self._publish("agent_failed", {"failed": {
            "code": code, "message": self._payload("message", message), "retryable": bool(retryable)}})

    def resend(self, failure: PublishError) -> "Future[Published]":
        """Sends again, unchanged, an event of this run that was not acknowledged (the router drops a repeat)."""
        event = failure.event
        if event.get("runId") != self.run_id or event.get("userId") != self.user_id:
            raise RunError(f"run {self.run_id} of user {self.user_id}: cannot resend event {event.get('eventId')} of"
                           f" run {event.get('runId')}")
        return self._publisher.send(event)

    @property
    def ended(self) -> bool:
        with self._lock:
            return self._terminal is not None

    # ------------------------------------------------------------------ the run as a context

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, exc_type, exc, traceback) -> bool:
        with self._lock:
            if self._terminal is None:
                if exc is not None:
                    self.failed("EXCEPTION", f"{exc_type.__name__}: {exc}"[:1000])
                else:
                    self.failed("INCOMPLETE", "the run ended without completed() or failed()")
        return False

    # ------------------------------------------------------------------ building events

    def _publish(self, event_type: str, fields: Dict[str, Any], span_id: Optional[str] = None) -> "Future[Published]":
        with self._lock:
            self._check_open(event_type)
            event: Dict[str, Any] = {
                "eventId": str(uuid.uuid4()),
                "type": event_type,
                "userId": self.user_id,
                "threadId": self.thread_id,
                "runId": self.run_id,
                "parentRunId": self._parent_run_id,
                "seq": self._next_seq,
                "occurredAt": int(time.time() * 1000),
                "agent": {"id": self._agent.id, "name": self._agent.name, "version": self._agent.version,
                          "model": self._agent.model},
                "traceId": self._trace_id,
                "spanId": span_id or self._span_id,
            }
            event.update(fields)
            future = self._publisher.send(event)
            self._next_seq += 1
            if event_type in ("agent_completed", "agent_failed"):
                self._terminal = event
            return future

    def _check_open(self, next_type: str) -> None:
        if self._terminal is not None:
            raise RunError(f"run {self.run_id} of user {self.user_id} already ended with {self._terminal['type']} "
                           f"(seq {self._terminal['seq']}); {next_type} may not follow it")

    def _id(self, name: str, value: Any) -> str:
        run = getattr(self, "run_id", None)
        prefix = f"run {run}: " if run else ""
        if not isinstance(value, str) or not value.strip():
            raise RunError(f"{prefix}{name} must be a non-blank string, not {value!r}")
        size = len(value.encode("utf-8", "surrogatepass"))
        if size > MAX_ID_BYTES:
            raise RunError(f"{prefix}{name} has {size} bytes (UTF-8); at most {MAX_ID_BYTES} are allowed")
        return value

    def _payload(self, name: str, text: str) -> str:
        if not isinstance(text, str):
            raise RunError(f"run {self.run_id}: {name} must be a string, not {type(text).__name__}")
        limit = self._publisher.config.max_payload_bytes
        if len(text) * 3 > limit:
            size = len(text.encode("utf-8", "surrogatepass"))
            if size > limit:
                raise RunError(f"run {self.run_id} of user {self.user_id}: {name} of {size} bytes exceeds the limit"
                               f" of {limit} bytes (PUBLISHER_MAX_PAYLOAD_BYTES)")
        return text


class ToolCall:
    """A tool call of a run as a ``with`` block: ``tool_completed`` when it ends, with the :meth:`result` set in it
    (None if none was); a block that raises reports ``{"error": …}`` with ``isError`` and re-raises."""

    def __init__(self, run: Run, call_id: str):
        self.run = run
        self.call_id = call_id
        self.executing: Optional[Future] = None
        self.completed: Optional[Future] = None
        self._content: Any = None
        self._is_error = False

    def result(self, content: Any, is_error: bool = False) -> None:
        self._content = content
        self._is_error = is_error

    def __enter__(self) -> "ToolCall":
        return self

    def __exit__(self, exc_type, exc, traceback) -> bool:
        if exc is not None:
            self.completed = self.run.tool_completed(self.call_id, {"error": f"{exc_type.__name__}: {exc}"[:1000]},
                                                     is_error=True)
        else:
            self.completed = self.run.tool_completed(self.call_id, self._content, self._is_error)
        return False


def _json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError) as e:
        raise RunError(f"{value!r} cannot be written as JSON: {e}") from None
