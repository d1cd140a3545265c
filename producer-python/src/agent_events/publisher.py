"""The publisher: one per process, thread-safe, on Confluent's Python client (librdkafka)."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional

from confluent_kafka import KafkaException, Producer

from .config import PublisherConfig
from .errors import PublishError
from .run import Agent, Run
from .tracing import traceparent
from .wire import SchemaIds, framed

LOG = logging.getLogger("agent_events")


@dataclass(frozen=True)
class Published:
    """Where Kafka stored an acknowledged event."""

    topic: str
    partition: int
    offset: int
    event: Dict[str, Any]


class Publisher:
    """Publishes agent lifecycle events to ``agent-events``, keyed and partitioned by user (murmur2, as every other
    producer of the topic does), idempotent, acknowledged by all in-sync replicas, lz4-compressed. Every event's future
    completes when Kafka acknowledged it, or fails with :class:`PublishError` carrying the event. A background thread
    serves delivery reports; :meth:`flush` waits for everything sent; :meth:`close` flushes and stops.

    >>> with Publisher.from_env() as publisher:
    ...     with publisher.start_run(user_id="alice", thread_id="t-42", agent=Agent("research", "Research", "2.4.1")) as run:
    ...         run.thinking("Looking up the figures.")
    ...         run.completed({"answer": "..."})
    """

    def __init__(self, config: PublisherConfig, producer: Optional[Producer] = None):
        self.config = config
        self._producer = producer or Producer(config.producer_config())
        self._schema_ids = SchemaIds(config.registry_url, config.subject)
        self._closed = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="agent-events-deliveries", daemon=True)
        self._poller.start()
        LOG.info("agent-events publisher with %s", config)

    @staticmethod
    def from_env(env: Optional[Mapping[str, str]] = None) -> "Publisher":
        """A publisher configured from ``KAFKA_*``, ``SCHEMA_REGISTRY_URL``, ``AGENT_EVENTS_TOPIC_PREFIX``, ``PUBLISHER_*``."""
        return Publisher(PublisherConfig.from_env(env))

    @property
    def schema_id(self) -> int:
        """The registry id of the schema the events are written with (registered on first use)."""
        return self._schema_ids.id()

    def start_run(self, user_id: str, thread_id: str, agent: Agent, run_id: Optional[str] = None,
                  parent_run_id: Optional[str] = None, trace_id: Optional[str] = None) -> Run:
        """Starts a run (publishes ``agent_started``, seq 0) of ``user_id``'s conversation ``thread_id``. ``run_id`` is
        a fresh UUID unless given; ``trace_id`` is taken from the active OpenTelemetry span unless given."""
        return Run(self, user_id, thread_id, agent, run_id, parent_run_id, trace_id)

    def send(self, event: Dict[str, Any]) -> "Future[Published]":
        """Sends one event as it is (runs build them; this is also how a failed event is sent again)."""
        if self._closed.is_set():
            raise RuntimeError("the publisher is closed")
        future: "Future[Published]" = Future()
        value = framed(self._schema_ids.id(), event)
        headers = []
        if event.get("traceId") and event.get("spanId"):
            headers.append(("traceparent", traceparent(event["traceId"], event["spanId"])))

        def delivered(error, message):
            if error is not None:
                future.set_exception(PublishError(f"event {event['eventId']} ({event['type']}, seq {event['seq']}) of "
                                                  f"run {event['runId']} was not acknowledged: {error}", event))
            else:
                future.set_result(Published(message.topic(), message.partition(), message.offset(), event))

        deadline = time.monotonic() + self.config.max_block_ms / 1000
        while True:
            try:
                self._producer.produce(self.config.topic, key=event["userId"].encode("utf-8"), value=value,
                                       headers=headers, on_delivery=delivered)
                return future
            except BufferError:
                if time.monotonic() > deadline:
                    future.set_exception(PublishError(
                        f"event {event['eventId']} of run {event['runId']} waited {self.config.max_block_ms} ms for"
                        " buffer space (PUBLISHER_MAX_BLOCK_MS)", event))
                    return future
                self._producer.poll(0.05)
            except KafkaException as e:
                future.set_exception(PublishError(f"event {event['eventId']} of run {event['runId']}: {e}", event))
                return future

    def flush(self, timeout: float = 30.0) -> int:
        """Waits until every event sent was acknowledged or failed; returns how many are still waiting."""
        return self._producer.flush(timeout)

    def close(self, timeout: float = 30.0) -> None:
        if self._closed.is_set():
            return
        left = self.flush(timeout)
        if left:
            LOG.warning("closing with %d events not acknowledged", left)
        self._closed.set()
        self._poller.join(5)

    def _poll(self) -> None:
        while not self._closed.is_set():
            self._producer.poll(0.1)

    def __enter__(self) -> "Publisher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
