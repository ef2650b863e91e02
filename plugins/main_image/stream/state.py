"""What the lander keeps per partition it owns, and its quiet librdkafka logger."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from confluent_kafka import TopicPartition

from main_image.stream import naming
from main_image.stream.report import PartitionStats


def quiet_logger() -> logging.Logger:
    """librdkafka's log lines go nowhere: what matters is reported through ``error_cb``."""
    logger = logging.getLogger("main_image.stream.kafka")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    logger.propagate = False
    return logger


@dataclass
class Partition:
    """The lander's state of one partition it owns."""

    topic: str
    partition: int
    stats: PartitionStats
    committed: int | None
    epoch: int = 0
    #: landed but possibly uncommitted ranges of the current epoch, by first offset
    landed: dict[int, naming.LandedRange] = field(default_factory=dict)
    end: int | None = None  # drain: stop before this offset
    next_offset: int | None = None
    lines: list[bytes] = field(default_factory=list)
    first: int | None = None
    last: int | None = None
    started: float = 0.0
    forced: naming.LandedRange | None = None  # the landed range the batch must reproduce
    seen: bool = False  # the first fetch happened (the end and the lag before are known)
    done: bool = False

    @property
    def tp(self) -> TopicPartition:
        return TopicPartition(self.topic, self.partition)
