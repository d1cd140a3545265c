"""The publisher for asyncio agents: the same runs, each event awaited until Kafka acknowledged it."""

from __future__ import annotations

import asyncio
from typing import Any, Mapping, Optional

from .publisher import Published, Publisher
from .run import Agent, Run, ToolCall, Usage


class AsyncPublisher:
    """:class:`Publisher` for ``async`` code: ``start_run`` gives an :class:`AsyncRun` whose methods are coroutines
    that return once Kafka acknowledged the event (a failed delivery raises :class:`PublishError`). Sending itself never
    waits on the network; only a full send buffer (``PUBLISHER_MAX_BLOCK_MS``) can hold the event loop.

    >>> async with AsyncPublisher.from_env() as publisher:
    ...     async with publisher.start_run(user_id="alice", thread_id="t-42", agent=agent) as run:
    ...         await run.thinking("Looking up the figures.")
    ...         async with run.tool("web_search", {"query": "Q3"}) as call:
    ...             call.result(await search("Q3"))
    ...         await run.completed({"answer": "..."})
    """

    def __init__(self, publisher: Publisher):
        self.publisher = publisher

    @staticmethod
    def from_env(env: Optional[Mapping[str, str]] = None) -> "AsyncPublisher":
        return AsyncPublisher(Publisher.from_env(env))

    def start_run(self, user_id: str, thread_id: str, agent: Agent, run_id: Optional[str] = None,
                  parent_run_id: Optional[str] = None, trace_id: Optional[str] = None) -> "AsyncRun":
        return AsyncRun(self.publisher.start_run(user_id, thread_id, agent, run_id, parent_run_id, trace_id))

    async def flush(self, timeout: float = 30.0) -> int:
        return await asyncio.get_running_loop().run_in_executor(None, self.publisher.flush, timeout)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self.publisher.close)

    async def __aenter__(self) -> "AsyncPublisher":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()


class AsyncRun:
    """A :class:`Run` whose events are awaited. As an ``async with`` block it ends the run as :class:`Run` does."""

    def __init__(self, run: Run):
        self.run = run
        self.run_id = run.run_id

    async def started(self) -> Published:
        return await asyncio.wrap_future(self.run.started)

    async def thinking(self, text: str) -> Published:
        return await asyncio.wrap_future(self.run.thinking(text))

    async def message_delta(self, text: str) -> Published:
        return await asyncio.wrap_future(self.run.message_delta(text))

    async def tool_executing(self, call_id: str, tool_name: str, arguments: Any) -> Published:
        return await asyncio.wrap_future(self.run.tool_executing(call_id, tool_name, arguments))

    async def tool_completed(self, call_id: str, content: Any, is_error: bool = False) -> Published:
        return await asyncio.wrap_future(self.run.tool_completed(call_id, content, is_error))

    def tool(self, tool_name: str, arguments: Any, call_id: Optional[str] = None) -> "AsyncToolCall":
        return AsyncToolCall(self.run.tool(tool_name, arguments, call_id))

    async def completed(self, result: Any, usage: Usage = Usage()) -> Published:
        return await asyncio.wrap_future(self.run.completed(result, usage))

    async def failed(self, code: str, message: str, retryable: bool = False) -> Published:
        return await asyncio.wrap_future(self.run.failed(code, message, retryable))

    async def __aenter__(self) -> "AsyncRun":
        await self.started()
        return self

    async def __aexit__(self, exc_type, exc, traceback) -> bool:
        self.run.__exit__(exc_type, exc, traceback)
        return False


class AsyncToolCall:
    """A tool call as an ``async with`` block; see :class:`ToolCall`."""

    def __init__(self, call: ToolCall):
        self.call = call
        self.call_id = call.call_id

    def result(self, content: Any, is_error: bool = False) -> None:
        self.call.result(content, is_error)

    async def __aenter__(self) -> "AsyncToolCall":
        await asyncio.wrap_future(self.call.executing)
        return self

    async def __aexit__(self, exc_type, exc, traceback) -> bool:
        self.call.__exit__(exc_type, exc, traceback)
        await asyncio.wrap_future(self.call.completed)
        return False
