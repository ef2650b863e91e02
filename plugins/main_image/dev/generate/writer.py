"""Writing feed files: part files per feed and delivery, filled by a background thread."""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import numpy as np

from main_image.dev.generate import config as knobs
from main_image.dev.generate.config import (
    FEEDS,
    MAX_PENDING_WRITES,
    MIN_LINES_FOR_MALFORMED,
    Delivery,
    GenerateConfig,
)
from main_image.dev.generate.lines import Chunk
from main_image.dev.generate.malformed import Malformed, render, truncate


class PartWriter:
    """One feed of one delivery: ``part-00000.jsonl``, ``part-00001.jsonl``, ... (lazily), or
    one file of any length named ``file_name``."""

    def __init__(self, folder: Path, ensure_malformed: bool, file_name: str | None = None) -> None:
        self.folder = folder
        self.ensure_malformed = ensure_malformed
        self.file_name = file_name
        self.lines = 0  # in finished parts
        self.malformed = 0
        self._part = 0
        self._file: BinaryIO | None = None
        self._part_lines = 0
        self._part_malformed = 0
        self._last_line = b""

    def write(self, chunk: Chunk) -> None:
        if chunk.lines == 0:
            return
        full = self._part_lines + chunk.lines > knobs.MAX_LINES_PER_PART
        if self._part_lines and full and self.file_name is None:
            self._finish_part()
        if self._file is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / (self.file_name or f"part-{self._part:05d}.jsonl")
            self._file = open(path, "wb", buffering=1 << 22)  # noqa: SIM115 - closed in _finish_part
        self._file.write(chunk.data)
        self._part_lines += chunk.lines
        self._part_malformed += chunk.malformed
        self._last_line = chunk.data[chunk.data.rfind(b"\n", 0, len(chunk.data) - 1) + 1 : -1]

    def close(self) -> None:
        if self._file is not None:
            self._finish_part()

    def _finish_part(self) -> None:
        """Close the current part; a long part without any malformed line gets one."""
        assert self._file is not None
        if (
            self.ensure_malformed
            and self._part_malformed == 0
            and self._part_lines >= MIN_LINES_FOR_MALFORMED
        ):
            self._file.write(truncate(self._last_line.decode()).encode() + b"\n")
            self._part_lines += 1
            self._part_malformed += 1
        self._file.close()
        self._file = None
        self.lines += self._part_lines
        self.malformed += self._part_malformed
        self._part += 1
        self._part_lines = self._part_malformed = 0


class Sink:
    """All part writers of a run, keyed by (delivery index, feed).

    Rendering and writing happen on one background thread (numpy and file writes release
    the GIL), in submission order, while the main thread draws the next block.
    """

    def __init__(self, writers: dict[tuple[int, str], PartWriter], rate: float) -> None:
        self.rate = rate
        self.writers = writers
        self.submitted = dict.fromkeys(FEEDS, 0)  # lines handed over so far, for progress
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="generate-writer")
        self._pending: deque[Future[None]] = deque()

    @classmethod
    def for_deliveries(cls, delivery_dirs: list[Path], config: GenerateConfig) -> Sink:
        """``<delivery>/<feed>/part-*.jsonl`` for every delivery and feed."""
        rate = config.malformed_rate
        writers = {
            (d, feed): PartWriter(folder / feed, ensure_malformed=rate > 0)
            for d, folder in enumerate(delivery_dirs)
            for feed in FEEDS
        }
        return cls(writers, rate)

    @classmethod
    def flat(cls, out_dir: Path, feeds: tuple[str, ...], rate: float) -> Sink:
        """``<out_dir>/<feed>.jsonl``, one file per feed (delivery 0 only)."""
        writers = {(0, feed): PartWriter(out_dir, rate > 0, f"{feed}.jsonl") for feed in feeds}
        return cls(writers, rate)

    def write(self, rng: np.random.Generator, delivery: int, lines: Delivery) -> None:
        for feed in FEEDS:  # a fixed order keeps the random stream deterministic
            for matrix in lines.get(feed, []):
                malformed = Malformed.draw(rng, feed, len(matrix), self.rate)
                writer = self.writers[delivery, feed]
                task = self._thread.submit(write_matrix, writer, feed, matrix, malformed)
                self._pending.append(task)
                self.submitted[feed] += len(matrix) + len(malformed.positions)
        while len(self._pending) > MAX_PENDING_WRITES:
            self._pending.popleft().result()  # bounded memory; re-raises a writer error

    def close(self) -> None:
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._thread.shutdown(wait=True, cancel_futures=True)
            for writer in self.writers.values():
                writer.close()

    def totals(self, attribute: str) -> dict[str, int]:
        totals = dict.fromkeys(FEEDS, 0)
        for (_, feed), writer in self.writers.items():
            totals[feed] += getattr(writer, attribute)
        return totals


def write_matrix(writer: PartWriter, feed: str, matrix: np.ndarray, malformed: Malformed) -> None:
    writer.write(render(feed, matrix, malformed))


