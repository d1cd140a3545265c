"""Publish AI agents' lifecycle events to agent-events from Python agent services.

>>> from agent_events import Publisher, Agent, Usage
>>> with Publisher.from_env() as publisher:
...     agent = Agent(id="research", name="Research assistant", version="2.4.1", model="gpt-5.1-mini")
...     with publisher.start_run(user_id="alice", thread_id="thread-42", agent=agent) as run:
...         run.thinking("Looking up the latest figures first.")
...         with run.tool("web_search", {"query": "Q3 revenue"}) as call:
...             call.result({"results": []})
...         run.message_delta("Revenue grew ")
...         run.completed({"answer": "..."}, usage=Usage(input_tokens=812, output_tokens=164, finish_reason="stop"))
"""

from ._version import __version__
from .aio import AsyncPublisher, AsyncRun, AsyncToolCall
from .config import PublisherConfig
from .errors import PublishError, RunError
from .publisher import Published, Publisher
from .run import Agent, Run, ToolCall, Usage

__all__ = ["__version__", "Agent", "AsyncPublisher", "AsyncRun", "AsyncToolCall", "PublishError",
           "Published", "Publisher", "PublisherConfig", "Run", "RunError", "ToolCall", "Usage"]
