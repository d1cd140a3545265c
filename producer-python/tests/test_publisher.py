"""The publisher against the real pipeline (the devstack: broker, registry, router): what agents publish reaches the
ordered topic whole and in order, on the partition Java producers use."""

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from agent_events import Agent, AsyncPublisher, Publisher, RunError, Usage
from agent_events.wire import SchemaIds
from conftest import wait_until
from support import TopicReader

AGENT = Agent(id="research", name="Research assistant", version="2.4.1", model="gpt-5.1-mini")
SRC = Path(__file__).resolve().parents[1] / "src"


def user() -> str:
    return f"py-{uuid.uuid4().hex[:10]}"


def ordered_run(stack, run_id: str, count: int, ended: bool = False):
    """The ordered records of ``run_id`` once there are ``count`` (and, with ``ended``, its terminal event)."""
    reader = TopicReader(stack, "agent-events-ordered")

    def of_run():
        return [r for r in reader.poll() if r["value"]["runId"] == run_id]

    def arrived():
        records = of_run()
        return len(records) >= count and (not ended or records[-1]["value"]["event"]["type"] in (
            "agent_completed", "agent_failed"))

    try:
        assert wait_until(arrived, timeout=60), \
            f"run {run_id} did not reach the ordered topic with {count} records: {of_run()}"
        return of_run()
    finally:
        reader.close()


def murmur2_partition(key: bytes, partitions: int) -> int:
    """Kafka's default partitioner (Java's Utils.murmur2, toPositive, modulo)."""
    m, r = 0x5bd1e995, 24
    h = (0x9747b28c ^ len(key)) & 0xffffffff
    length4 = len(key) // 4
    for i in range(length4):
        k = int.from_bytes(key[i * 4:i * 4 + 4], "little")
        k = (k * m) & 0xffffffff
        k ^= k >> r
        k = (k * m) & 0xffffffff
        h = (h * m) & 0xffffffff
        h ^= k
    rest = len(key) % 4
    tail = key[length4 * 4:]
    if rest == 3:
        h ^= tail[2] << 16
    if rest >= 2:
        h ^= tail[1] << 8
    if rest >= 1:
        h ^= tail[0]
        h = (h * m) & 0xffffffff
    h ^= h >> 13
    h = (h * m) & 0xffffffff
    h ^= h >> 15
    return (h & 0x7fffffff) % partitions


def test_a_full_run_reaches_the_ordered_topic_in_order_with_its_trace(stack):
    alice = user()
    with Publisher.from_env(stack.env()) as publisher:
        with publisher.start_run(user_id=alice, thread_id="thread-42", agent=AGENT,
                                 trace_id="4bf92f3577b34da6a3ce929d0e0e4736") as run:
            run.thinking("Looking up the latest figures first.")
            with run.tool("web_search", {"query": "Q3 revenue"}) as call:
                call.result({"results": ["Revenue grew 12 %"]})
            run.message_delta("Revenue grew ")
            run.message_delta("12 %.")
            done = run.completed({"answer": "Revenue grew 12 %."},
                                 usage=Usage(input_tokens=812, output_tokens=164, finish_reason="stop"))
        publisher.flush()
        published = done.result(30)
    assert published.partition == murmur2_partition(alice.encode(), 12), "the partition Java producers use"

    records = ordered_run(stack, run.run_id, 7)
    events = [r["value"]["event"] for r in records]
    assert [e["type"] for e in events] == ["agent_started", "agent_thinking", "tool_executing", "tool_completed",
                                           "agent_message_delta", "agent_message_delta", "agent_completed"]
    assert [e["seq"] for e in events] == list(range(7))
    assert all(r["key"] == alice and r["partition"] == published.partition for r in records)
    assert all(e["traceId"] == "4bf92f3577b34da6a3ce929d0e0e4736" for e in events)
    assert events[2]["toolCall"]["toolName"] == "web_search"
    assert events[3]["toolResult"]["contentJson"] == '{"results":["Revenue grew 12 %"]}'
    assert events[3]["toolCallId"] == events[2]["toolCallId"]
    assert events[6]["completed"]["inputTokens"] == 812
    hashes = [r["value"]["hash"] for r in records]
    assert [r["value"]["prevHash"] for r in records][1:] == hashes[:-1], "an unbroken hash chain"
    assert records[0]["headers"].get("traceparent", b"").decode().startswith("00-4bf92f3577b34da6a3ce929d0e0e4736-")


PUBLISH_IN_ANOTHER_PROCESS = """
import sys
from agent_events import Agent, Publisher, Usage
user, label = sys.argv[1], sys.argv[2]
with Publisher.from_env() as publisher:
    runs = [publisher.start_run(user_id=user, thread_id="t-" + label, agent=Agent("a", "A", "1"),
                                run_id=f"{label}-{i}") for i in range(3)]
    for step in range(5):
        for run in runs:
            run.thinking(f"{label} step {step}")
    for run in runs:
        run.completed({"ok": True}, Usage(finish_reason="stop"))
"""


def test_interleaved_runs_from_two_processes_each_arrive_whole_and_in_order(stack):
    shared = user()
    env = {**os.environ, **stack.env(), "PYTHONPATH": str(SRC)}
    processes = [subprocess.Popen([sys.executable, "-c", PUBLISH_IN_ANOTHER_PROCESS, shared, label], env=env)
                 for label in ("left", "right")]
    assert [p.wait(120) for p in processes] == [0, 0]
    for label in ("left", "right"):
        for i in range(3):
            records = ordered_run(stack, f"{label}-{i}", 7)
            assert [r["value"]["event"]["seq"] for r in records] == list(range(7))
            assert records[-1]["value"]["event"]["type"] == "agent_completed"


def test_a_run_or_tool_body_that_raises_is_reported_and_the_exception_propagates(stack):
    with Publisher.from_env(stack.env()) as publisher:
        with pytest.raises(TimeoutError, match="search backend"):
            with publisher.start_run(user_id=user(), thread_id="t", agent=AGENT) as run:
                with run.tool("web_search", {"query": "x"}):
                    raise TimeoutError("search backend did not answer")
        publisher.flush()
    events = [r["value"]["event"] for r in ordered_run(stack, run.run_id, 4)]
    assert [e["type"] for e in events] == ["agent_started", "tool_executing", "tool_completed", "agent_failed"]
    assert events[2]["toolResult"]["isError"] is True
    assert "search backend did not answer" in events[2]["toolResult"]["contentJson"]
    assert events[3]["failed"]["code"] == "EXCEPTION"
    assert "TimeoutError" in events[3]["failed"]["message"]


def test_a_run_left_without_an_end_is_ended_as_incomplete(stack):
    with Publisher.from_env(stack.env()) as publisher:
        with publisher.start_run(user_id=user(), thread_id="t", agent=AGENT) as run:
            run.thinking("thinking, then forgetting to finish")
        publisher.flush()
    events = [r["value"]["event"] for r in ordered_run(stack, run.run_id, 3)]
    assert events[-1]["type"] == "agent_failed" and events[-1]["failed"]["code"] == "INCOMPLETE"


def test_misuse_fails_at_the_call_naming_the_run(stack):
    with Publisher.from_env(stack.env(PUBLISHER_MAX_PAYLOAD_BYTES="100")) as publisher:
        run = publisher.start_run(user_id=user(), thread_id="t", agent=AGENT)
        with pytest.raises(RunError, match=f"run {run.run_id} .*tool_completed for tool call 'nope', which is not "
                                            r"executing"):
            run.tool_completed("nope", {})
        with pytest.raises(RunError, match="text of 300 bytes exceeds the limit of 100 bytes"):
            run.thinking("x" * 300)
        run.tool_executing("call-1", "search", {})
        with pytest.raises(RunError, match="tool call 'call-1' is already executing"):
            run.tool_executing("call-1", "search", {})
        run.failed("CANCELLED", "the user stopped it")
        with pytest.raises(RunError, match=f"run {run.run_id} of user .* already ended with agent_failed"):
            run.thinking("too late")
        with pytest.raises(RunError, match="user_id must be a non-blank string"):
            publisher.start_run(user_id=" ", thread_id="t", agent=AGENT)
        with pytest.raises(RunError, match="thread_id has 600 bytes"):
            publisher.start_run(user_id="u", thread_id="t" * 600, agent=AGENT)
        with pytest.raises(RunError, match="cannot be written as JSON"):
            publisher.start_run(user_id="u", thread_id="t", agent=AGENT).tool_executing("c", "t", {1, 2})


def test_the_schema_is_registered_under_the_topics_subject_and_looked_up(stack):
    with Publisher.from_env(stack.env()) as publisher:
        schema_id = publisher.schema_id
    assert SchemaIds(stack.registry, "agent-events-value").look_up() == schema_id


def test_the_async_form_awaits_each_acknowledgement(stack):
    async def agent(publisher):
        async with publisher.start_run(user_id=user(), thread_id="t", agent=AGENT) as run:
            await run.thinking("async thinking")
            async with run.tool("lookup", {"id": 7}) as call:
                call.result({"found": True})
            published = await run.completed({"answer": "yes"})
            return run.run_id, published

    async def main():
        async with AsyncPublisher.from_env(stack.env()) as publisher:
            return await agent(publisher)

    run_id, published = asyncio.run(main())
    assert published.offset >= 0
    events = [r["value"]["event"] for r in ordered_run(stack, run_id, 5)]
    assert [e["type"] for e in events] == ["agent_started", "agent_thinking", "tool_executing", "tool_completed",
                                           "agent_completed"]
