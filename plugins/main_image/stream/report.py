"""What a drain reports: progress lines on stderr and one drain record in the landing zone.

The drain record (``<landing>/stream_drains/<drain id>.jsonl``, one line per partition the
drain owned) says how many messages, files and bytes it landed and the partition's lag before
and after, so the lag of the stream can be followed per day next to the run metrics.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from main_image.stream import naming
from main_image.stream.writer import Landing

Progress = Callable[[str], None]


def stderr_progress(message: str) -> None:
    stamp = datetime.now(UTC).strftime("%H:%M:%S")
    print(f"[{stamp}] stream: {message}", file=sys.stderr, flush=True)


def new_drain_id() -> str:
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}-{uuid.uuid4().hex[:8]}"


@dataclass
class PartitionStats:
    topic: str
    partition: int
    messages: int = 0
    files: int = 0
    bytes: int = 0
    #: files found landed but not committed (a crash before the commit) and written again
    relanded_files: int = 0
    resets: int = 0
    lag_before: int | None = None
    lag_after: int | None = None
    first_offset: int | None = None
    last_offset: int | None = None

    @property
    def label(self) -> str:
        return f"{self.topic}[{self.partition}]"


@dataclass
class DrainReport:
    group_id: str
    follow: bool
    drain_id: str = field(default_factory=new_drain_id)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    partitions: dict[tuple[str, int], PartitionStats] = field(default_factory=dict)

    def stats(self, topic: str, partition: int) -> PartitionStats:
        key = (topic, partition)
        if key not in self.partitions:
            self.partitions[key] = PartitionStats(topic, partition)
        return self.partitions[key]

    def totals(self) -> dict[str, int]:
        parts = self.partitions.values()
        return {
            "messages": sum(p.messages for p in parts),
            "files": sum(p.files for p in parts),
            "bytes": sum(p.bytes for p in parts),
            "resets": sum(p.resets for p in parts),
        }

    def summary_lines(self) -> list[str]:
        lines = []
        for stats in sorted(self.partitions.values(), key=lambda s: (s.topic, s.partition)):
            lines.append(
                f"{stats.label}: {stats.messages} messages, {stats.files} files, "
                f"{stats.bytes} bytes, lag {_lag(stats.lag_before)} -> {_lag(stats.lag_after)}"
                + (f", {stats.relanded_files} re-landed" if stats.relanded_files else "")
                + (f", {stats.resets} offset resets" if stats.resets else "")
            )
        totals = self.totals()
        lines.append(
            f"drain {self.drain_id}: {totals['messages']} messages, {totals['files']} files, "
            f"{totals['bytes']} bytes over {len(self.partitions)} partitions"
        )
        return lines

    def records(self, finished_at: datetime) -> list[dict[str, object]]:
        common = {
            "drain_id": self.drain_id,
            "group_id": self.group_id,
            "follow": self.follow,
            "started_at": self.started_at.isoformat(),
            "finished_at": finished_at.isoformat(),
        }
        return [
            {**common, **asdict(stats)}
            for stats in sorted(self.partitions.values(), key=lambda s: (s.topic, s.partition))
        ]

    def write_record(self, landing: Landing) -> str | None:
        """The drain record as one NDJSON file (written aside, renamed); None if it is empty."""
        records = self.records(datetime.now(UTC))
        if not records:
            return None
        data = "".join(json.dumps(record) + "\n" for record in records).encode()
        return landing.write(naming.DRAINS_FOLDER, f"{self.drain_id}.jsonl", data)


def _lag(value: int | None) -> str:
    return "?" if value is None else str(value)
