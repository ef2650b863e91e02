"""``main-image produce``: generated image records onto a topic (demos, tests, load).

Reads the ``images`` files of a generated data set (``main-image generate`` writes
``DIR/delivery-NN/images/*.jsonl``; a single delivery folder or an ``images`` folder works too)
in landing order and sends each line as one message, key = its image id (so every state of an
image stays in one partition, in order). The producer is idempotent (``enable.idempotence``:
retries never duplicate or reorder a message) and waits for every delivery report.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaException, Producer

from main_image.stream.report import Progress, stderr_progress

PRODUCER_SETTINGS: dict[str, Any] = {
    "enable.idempotence": True,  # implies acks=all and ordered, duplicate-free retries
    "linger.ms": 20,
    "compression.type": "lz4",
}


class ProduceError(RuntimeError):
    """Messages could not be delivered (one line, exit code 1)."""


@dataclass(frozen=True)
class ProduceResult:
    files: int
    messages: int
    bytes: int


def image_files(source: Path) -> list[Path]:
    """The images files of a data set, a delivery, or an images folder, in landing order."""
    if source.name == "images":
        candidates = sorted(source.rglob("*.jsonl"))
    elif (source / "images").is_dir():
        candidates = sorted((source / "images").rglob("*.jsonl"))
    else:
        candidates = sorted(source.glob("*/images/**/*.jsonl"))
    return [path for path in candidates if not path.name.startswith(".")]


def _lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        for raw in handle:
            line = raw.rstrip(b"\n")
            if line:
                yield line


def _key(line: bytes) -> bytes | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    image_id = record.get("image_id") if isinstance(record, dict) else None
    return None if image_id is None else str(image_id).encode()


def produce_files(
    files: list[Path],
    bootstrap_servers: str,
    topic: str,
    kafka: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> ProduceResult:
    progress = progress or stderr_progress
    producer = Producer({**PRODUCER_SETTINGS, **(kafka or {}),
                         "bootstrap.servers": bootstrap_servers})
    failures: list[str] = []

    def delivered(error: Any, _message: Any) -> None:
        if error is not None:
            failures.append(error.str())

    messages = size = 0
    for path in files:
        for line in _lines(path):
            while True:
                try:
                    producer.produce(topic, value=line, key=_key(line), on_delivery=delivered)
                    break
                except BufferError:  # the local queue is full: let deliveries drain it
                    producer.poll(0.5)
            messages += 1
            size += len(line)
            producer.poll(0)
        progress(f"produce: {path} queued ({messages} messages so far)")
    remaining = producer.flush(60)
    if remaining or failures:
        first = failures[0] if failures else f"{remaining} messages still queued after 60 s"
        raise ProduceError(f"{len(failures) or remaining} messages not delivered to "
                           f"{topic}: {first}")
    progress(f"produce: {messages} messages ({size} bytes) from {len(files)} files "
             f"delivered to {topic}")
    return ProduceResult(len(files), messages, size)


def ensure_topic(bootstrap_servers: str, topic: str, partitions: int,
                 kafka: dict[str, Any] | None = None) -> bool:
    """Create the topic when it does not exist; True when it was created."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({**(kafka or {}), "bootstrap.servers": bootstrap_servers})
    if topic in admin.list_topics(timeout=10).topics:
        return False
    futures = admin.create_topics([NewTopic(topic, partitions, 1)])
    try:
        futures[topic].result(timeout=30)
    except KafkaException as error:
        if error.args[0].code() != error.args[0].TOPIC_ALREADY_EXISTS:
            raise
        return False
    return True
