"""Landed file names: one file per contiguous offset range of one partition.

``<landing>/images/stream/<topic>-p<partition>-e<epoch>-<first offset>-<last offset>.jsonl``,
zero-padded so that name order is landing order within a partition (the loader lands a feed's
files in path order). The name alone says which messages a file holds, so a lander that
restarts finds the ranges landed but not committed and writes them again under the same name
with the same bytes (the loader's content-hash dedup then skips the copy).

The *epoch* starts at 0 and grows when a partition's log was recreated under the lander (a
broker that lost its data, a topic deleted and created again): offsets start over, and the new
messages must never overwrite the files of the old ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The stream's folder inside the landing zone (a sub-folder of the ``images`` feed).
STREAM_FOLDER = "images/stream"
#: The drain records (observability; not a feed the loader reads unless configured).
DRAINS_FOLDER = "stream_drains"
SUFFIX = ".jsonl"
#: A file being written: hidden (the loader skips names starting with "."), then renamed.
TEMP_MARK = ".tmp-"

_NAME = re.compile(
    r"^(?P<topic>[A-Za-z0-9._-]+)-p(?P<partition>\d{4,})-e(?P<epoch>\d{3,})"
    r"-(?P<first>\d{20})-(?P<last>\d{20})\.jsonl$"
)


@dataclass(frozen=True, order=True)
class LandedRange:
    topic: str
    partition: int
    epoch: int
    first: int
    last: int

    @property
    def name(self) -> str:
        return file_name(self.topic, self.partition, self.epoch, self.first, self.last)


def file_name(topic: str, partition: int, epoch: int, first: int, last: int) -> str:
    if first > last or first < 0:
        raise ValueError(f"not an offset range: {first}..{last}")
    return f"{topic}-p{partition:04d}-e{epoch:03d}-{first:020d}-{last:020d}{SUFFIX}"


def parse_name(name: str) -> LandedRange | None:
    """The range a landed file name stands for; None for any other name."""
    match = _NAME.match(name)
    if match is None:
        return None
    return LandedRange(
        match["topic"],
        int(match["partition"]),
        int(match["epoch"]),
        int(match["first"]),
        int(match["last"]),
    )


def partition_prefix(topic: str, partition: int) -> str:
    return f"{topic}-p{partition:04d}-"


def temp_name(name: str, token: str) -> str:
    """The hidden name a file is written under before it is renamed to ``name``."""
    return f".{name}{TEMP_MARK}{token}"


def is_temp_of(name: str, topic: str, partition: int) -> bool:
    return name.startswith("." + partition_prefix(topic, partition)) and TEMP_MARK in name
