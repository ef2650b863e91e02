"""Typed settings of the lander and the producer, from flags or the environment.

Environment (the Airflow tasks read it; nothing secret belongs in the repository):

* ``MAIN_IMAGE_KAFKA_BOOTSTRAP_SERVERS``: ``host:port[,host:port]``; unset = no stream, the
  Airflow drain task is skipped.
* ``MAIN_IMAGE_KAFKA_TOPICS``: comma-separated topics (default ``images``).
* ``MAIN_IMAGE_KAFKA_GROUP_ID``: the consumer group (default ``main-image-lander``).
* ``MAIN_IMAGE_KAFKA_SECURITY_PROTOCOL``, ``MAIN_IMAGE_KAFKA_SASL_MECHANISM``,
  ``MAIN_IMAGE_KAFKA_SASL_USERNAME``, ``MAIN_IMAGE_KAFKA_SASL_PASSWORD``: managed Kafka
  (Confluent Cloud: SASL_SSL/PLAIN with an API key; Google Managed Kafka: SASL_SSL/OAUTHBEARER
  or PLAIN with a service-account key), injected from a secret store.
* ``MAIN_IMAGE_KAFKA_FLUSH_MESSAGES`` (default 10000): messages per landed file at most.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_GROUP_ID = "main-image-lander"
DEFAULT_TOPICS = ("images",)
DEFAULT_FLUSH_MESSAGES = 10_000
DEFAULT_FLUSH_SECONDS = 30.0

#: Consumer settings the lander relies on; a caller's overrides cannot change these.
FIXED_CONSUMER_SETTINGS: dict[str, Any] = {
    "enable.auto.commit": False,  # offsets are committed only after the file is renamed
    "enable.auto.offset.store": False,
    "enable.partition.eof": True,  # how a drain sees the end of a partition
    "auto.offset.reset": "earliest",  # a new group starts at the first message
    "isolation.level": "read_committed",  # aborted transactional messages are never landed
}

#: Defaults a caller may override (a group join takes ~3 s with these, ~23 s without).
DEFAULT_CONSUMER_SETTINGS: dict[str, Any] = {
    "session.timeout.ms": 6000,
    "heartbeat.interval.ms": 1000,
    "partition.assignment.strategy": "range",
}

_SECURITY_ENV = {
    "security.protocol": "MAIN_IMAGE_KAFKA_SECURITY_PROTOCOL",
    "sasl.mechanism": "MAIN_IMAGE_KAFKA_SASL_MECHANISM",
    "sasl.username": "MAIN_IMAGE_KAFKA_SASL_USERNAME",
    "sasl.password": "MAIN_IMAGE_KAFKA_SASL_PASSWORD",
}


class StreamConfigError(ValueError):
    """A setting the lander cannot use (reported as one line, exit code 2)."""


def parse_properties(pairs: list[str]) -> dict[str, str]:
    """``key=value`` strings (``--kafka-config``) as librdkafka properties."""
    properties: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise StreamConfigError(f"--kafka-config expects key=value, got {pair!r}")
        properties[key.strip()] = value.strip()
    return properties


@dataclass(frozen=True)
class StreamConfig:
    bootstrap_servers: str
    topics: tuple[str, ...]
    landing: str  # a local folder or gs://bucket[/prefix]: the landing zone's root
    group_id: str = DEFAULT_GROUP_ID
    follow: bool = False
    flush_messages: int = DEFAULT_FLUSH_MESSAGES
    flush_seconds: float = DEFAULT_FLUSH_SECONDS
    #: drain: give up (exit 1) after this long without any message, end of partition or
    #: assignment while partitions are still unfinished (an unreachable or lost broker)
    stall_seconds: float = 60.0
    kafka: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.bootstrap_servers.strip():
            raise StreamConfigError("--bootstrap-servers is empty")
        if not self.topics or any(not topic.strip() for topic in self.topics):
            raise StreamConfigError("at least one non-empty --topic is needed")
        if self.flush_messages < 1:
            raise StreamConfigError("--flush-messages must be >= 1")
        if self.flush_seconds <= 0:
            raise StreamConfigError("--flush-seconds must be > 0")
        if not self.landing:
            raise StreamConfigError("--landing-dir or --landing-uri is needed")

    def consumer_settings(self) -> dict[str, Any]:
        settings = {**DEFAULT_CONSUMER_SETTINGS, **dict(self.kafka)}
        settings.update(FIXED_CONSUMER_SETTINGS)
        settings["bootstrap.servers"] = self.bootstrap_servers
        settings["group.id"] = self.group_id
        return settings

    @classmethod
    def from_env(
        cls, landing: str, env: Mapping[str, str] | None = None, **overrides: Any
    ) -> StreamConfig | None:
        """The configuration of the environment, or None when no bootstrap server is set."""
        env = os.environ if env is None else env
        servers = env.get("MAIN_IMAGE_KAFKA_BOOTSTRAP_SERVERS", "").strip()
        if not servers:
            return None
        topics = tuple(
            t.strip() for t in env.get("MAIN_IMAGE_KAFKA_TOPICS", "images").split(",") if t.strip()
        )
        kafka = {key: env[name] for key, name in _SECURITY_ENV.items() if env.get(name)}
        values: dict[str, Any] = {
            "bootstrap_servers": servers,
            "topics": topics,
            "landing": landing,
            "group_id": env.get("MAIN_IMAGE_KAFKA_GROUP_ID", DEFAULT_GROUP_ID),
            "flush_messages": int(
                env.get("MAIN_IMAGE_KAFKA_FLUSH_MESSAGES", DEFAULT_FLUSH_MESSAGES)
            ),
            "kafka": kafka,
        }
        values.update(overrides)
        return cls(**values)
