"""One run at a time per warehouse file (contract §5): an exclusive lock held for a whole attempt.

The lock is ``<warehouse>.lock`` beside the DuckDB file, taken with ``flock`` (released by the
operating system when the process dies, so a killed run never leaves it behind). It holds the
id of the run in flight, so the run that waits for it can say which one it waits for. The
Airflow DAG serialises its attempts with its one-slot pool and attempt guard instead.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: How often a waiting run tries the lock again.
POLL_SECONDS = 0.2


class WarehouseBusy(Exception):
    """Another run held the warehouse for longer than the wait allowed."""

    def __init__(self, warehouse: Path, run_in_flight: str, waited: float) -> None:
        super().__init__(
            f"warehouse {warehouse} is in use by run {run_in_flight or '(unknown)'}; waited "
            f"{waited:.0f}s (--wait SECONDS to wait longer)"
        )
        self.run_in_flight = run_in_flight


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


@contextmanager
def exclusive_run(warehouse: Path, run_id: str, wait_seconds: float) -> Iterator[None]:
    """Hold the warehouse's lock for the block; wait up to ``wait_seconds`` for it, then raise
    ``WarehouseBusy`` naming the run that holds it."""
    path = lock_path(warehouse)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    started = time.monotonic()
    try:
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - started
                if waited >= wait_seconds:
                    holder = os.pread(descriptor, 4096, 0).decode("utf-8", "replace").strip()
                    raise WarehouseBusy(warehouse, holder, waited) from None
                time.sleep(min(POLL_SECONDS, max(wait_seconds - waited, 0.01)))
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, run_id.encode("utf-8"), 0)
        try:
            yield
        finally:
            os.ftruncate(descriptor, 0)
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)
