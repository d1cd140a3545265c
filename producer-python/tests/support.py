"""Reading what the pipeline made of the events: the input topic and the router's ordered topic."""

from __future__ import annotations

import io
import struct
import uuid
from typing import Dict, List

import avro.io
import avro.schema
from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient


class TopicReader:
    """Reads a topic from the start, decoding each value with its writer schema (fetched by id)."""

    def __init__(self, stack, topic: str):
        self._consumer = Consumer({"bootstrap.servers": stack.bootstrap, "group.id": f"pytest-{uuid.uuid4()}",
                                   "auto.offset.reset": "earliest", "isolation.level": "read_committed",
                                   "enable.auto.commit": False})
        self._consumer.subscribe([topic])
        self._registry = SchemaRegistryClient({"url": stack.registry})
        self._readers: Dict[int, avro.io.DatumReader] = {}
        self.records: List[dict] = []

    def _decode(self, value: bytes) -> dict:
        magic, schema_id = struct.unpack(">bI", value[:5])
        assert magic == 0, f"not the wire format: {value[:5]!r}"
        reader = self._readers.get(schema_id)
        if reader is None:
            reader = avro.io.DatumReader(avro.schema.parse(self._registry.get_schema(schema_id).schema_str))
            self._readers[schema_id] = reader
        return reader.read(avro.io.BinaryDecoder(io.BytesIO(value[5:])))

    def poll(self) -> List[dict]:
        for message in self._consume():
            self.records.append({"key": message.key().decode("utf-8") if message.key() else None,
                                 "partition": message.partition(), "offset": message.offset(),
                                 "value": self._decode(message.value()),
                                 "headers": dict(message.headers() or [])})
        return self.records

    def _consume(self):
        messages = self._consumer.consume(num_messages=1000, timeout=0.2)
        for message in messages:
            if message.error() is None:
                yield message

    def close(self) -> None:
        self._consumer.close()
