"""Settings of a publisher, from the environment, the same names as the Java publisher's."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, Mapping, Optional

SECRET_WORDS = ("password", "secret", "jaas", "credentials", "token")


@dataclass(frozen=True)
class PublisherConfig:
    """``KAFKA_*`` (each becomes a client property: ``KAFKA_SECURITY_PROTOCOL`` → ``security.protocol``; librdkafka
    names), ``SCHEMA_REGISTRY_URL``, ``AGENT_EVENTS_TOPIC_PREFIX``, and the publisher's own ``PUBLISHER_*``."""

    bootstrap_servers: str
    registry_url: str
    topic_prefix: str = ""
    max_payload_bytes: int = 256 * 1024
    linger_ms: int = 5
    compression: str = "lz4"
    delivery_timeout_ms: int = 120_000
    buffer_memory_bytes: int = 32 * 1024 * 1024
    max_block_ms: int = 10_000
    kafka: Dict[str, str] = field(default_factory=dict)

    @property
    def topic(self) -> str:
        return self.topic_prefix + "agent-events"

    @property
    def subject(self) -> str:
        return self.topic + "-value"

    @staticmethod
    def from_env(env: Optional[Mapping[str, str]] = None) -> "PublisherConfig":
        env = os.environ if env is None else env
        kafka = {name[len("KAFKA_"):].lower().replace("_", "."): value for name, value in env.items()
                 if name.startswith("KAFKA_") and len(name) > len("KAFKA_")}
        bootstrap = kafka.pop("bootstrap.servers", None)
        if not bootstrap or not bootstrap.strip():
            raise ValueError("KAFKA_BOOTSTRAP_SERVERS must be set (host:port[,host:port...])")
        registry = env.get("SCHEMA_REGISTRY_URL", "").strip()
        if not registry:
            raise ValueError("SCHEMA_REGISTRY_URL must be set")
        return PublisherConfig(
            bootstrap_servers=bootstrap.strip(),
            registry_url=registry,
            topic_prefix=env.get("AGENT_EVENTS_TOPIC_PREFIX", "").strip(),
            max_payload_bytes=_integer(env, "PUBLISHER_MAX_PAYLOAD_BYTES", 256 * 1024),
            linger_ms=_integer(env, "PUBLISHER_LINGER_MS", 5),
            compression=env.get("PUBLISHER_COMPRESSION", "lz4").strip() or "lz4",
            delivery_timeout_ms=_integer(env, "PUBLISHER_DELIVERY_TIMEOUT_MS", 120_000),
            buffer_memory_bytes=_integer(env, "PUBLISHER_BUFFER_MEMORY_BYTES", 32 * 1024 * 1024),
            max_block_ms=_integer(env, "PUBLISHER_MAX_BLOCK_MS", 10_000),
            kafka=kafka,
        )

    def producer_config(self) -> Dict[str, object]:
        """librdkafka settings: idempotent, every replica, murmur2 like Java and the router (never CRC32)."""
        config: Dict[str, object] = dict(self.kafka)
        config.update({
            "bootstrap.servers": self.bootstrap_servers,
            "enable.idempotence": True,
            "acks": "all",
            "compression.type": self.compression,
            "linger.ms": self.linger_ms,
            "message.timeout.ms": self.delivery_timeout_ms,
            "queue.buffering.max.kbytes": max(1, self.buffer_memory_bytes // 1024),
            "partitioner": "murmur2_random",
        })
        return config

    def __str__(self) -> str:
        shown = {k: ("****" if any(w in k for w in SECRET_WORDS) else v) for k, v in self.kafka.items()}
        return (f"PublisherConfig(bootstrap={self.bootstrap_servers}, registry={self.registry_url}, "
                f"topic={self.topic}, max_payload_bytes={self.max_payload_bytes}, linger_ms={self.linger_ms}, "
                f"compression={self.compression}, delivery_timeout_ms={self.delivery_timeout_ms}, kafka={shown})")


def _integer(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} '{value}' is not a whole number") from None
