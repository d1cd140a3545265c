"""The topic contract in bytes: ``AgentEvent`` in Avro binary, framed in the Confluent wire format (byte 0, the
schema's registry id as 4 bytes big-endian, the Avro binary), with the schema registered under
``<topic>-value`` (TopicNameStrategy)."""

from __future__ import annotations

import io
import struct
from datetime import datetime, timezone
from importlib import resources
from typing import Any, Dict

import avro.io
import avro.schema
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

MAGIC_BYTE = 0
SCHEMA_TEXT: str = resources.files("agent_events").joinpath("AgentEvent.avsc").read_text(encoding="utf-8")
SCHEMA = avro.schema.parse(SCHEMA_TEXT)
_WRITER = avro.io.DatumWriter(SCHEMA)

#: The optional fields of the envelope, all null unless an event sets them.
OPTIONAL_FIELDS = ("parentRunId", "traceId", "spanId", "toolCallId", "thinking", "toolCall", "toolResult",
                   "completed", "failed", "messageDelta")


def avro_binary(event: Dict[str, Any]) -> bytes:
    """``event`` (field names as in the schema; ``occurredAt`` epoch milliseconds) in Avro binary."""
    datum = {name: None for name in OPTIONAL_FIELDS}
    datum.update(event)
    datum["occurredAt"] = datetime.fromtimestamp(event["occurredAt"] / 1000, tz=timezone.utc)
    agent = dict(datum["agent"])
    agent.setdefault("model", None)
    datum["agent"] = agent
    buffer = io.BytesIO()
    _WRITER.write(datum, avro.io.BinaryEncoder(buffer))
    return buffer.getvalue()


def framed(schema_id: int, event: Dict[str, Any]) -> bytes:
    """The record value: the wire format's 5-byte header, then the event in Avro binary."""
    return struct.pack(">bI", MAGIC_BYTE, schema_id) + avro_binary(event)


class SchemaIds:
    """The registry id of ``AgentEvent`` under the topic's subject: registered (or found) once, then kept."""

    def __init__(self, registry_url: str, subject: str):
        self._client = SchemaRegistryClient({"url": registry_url})
        self._subject = subject
        self._id: int | None = None

    @property
    def subject(self) -> str:
        return self._subject

    def id(self) -> int:
        if self._id is None:
            self._id = self._client.register_schema(self._subject, Schema(SCHEMA_TEXT, "AVRO"))
        return self._id

    def look_up(self) -> int:
        """The id the registry holds for this schema under the subject (it must be registered already)."""
        return self._client.lookup_schema(self._subject, Schema(SCHEMA_TEXT, "AVRO")).schema_id
