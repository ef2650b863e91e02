"""Which export the consumer DAG validates: the latest one *by attempt*, never by list position.

The asset events that trigger a run of ``main_image_export_consumer`` come in no promised order
(several runs may have published since its last run: a backfill, a cleared old run). Every
event's ``extra`` names its run and attempt (``invocation_seq``, global and increasing in
publish order), so the latest export is the changes event with the highest ``invocation_seq``
(then the latest timestamp), and the snapshot validated with it must be the one the *same
attempt* wrote: a changes file of one run is never combined with another run's snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Export:
    run_id: str
    invocation_seq: int
    as_of: str | None
    paths: dict[str, str]  # asset name -> file
    records: dict[str, int | None]


def _order(event: Any) -> tuple[int, str]:
    extra = dict(getattr(event, "extra", None) or {})
    seq = extra.get("invocation_seq")
    return (int(seq) if seq is not None else -1, str(getattr(event, "timestamp", "") or ""))


def latest_export(events: Mapping[str, Iterable[Any]], names: tuple[str, ...] = ("changes",
                  "snapshot")) -> Export:
    """The latest attempt's export among ``events`` (asset name -> its events); every name must
    have an event of that same attempt (ValueError otherwise)."""
    by_name = {name: list(events.get(name, ())) for name in names}
    if not by_name[names[0]]:
        raise ValueError(f"no {names[0]} asset event in the triggering events")
    newest = max(by_name[names[0]], key=_order)
    extra = dict(newest.extra or {})
    run_id, seq = str(extra.get("run_id")), int(extra.get("invocation_seq", -1))
    paths: dict[str, str] = {}
    records: dict[str, int | None] = {}
    for name in names:
        match = [event for event in by_name[name]
                 if (str((event.extra or {}).get("run_id")), int((event.extra or {}).get(
                     "invocation_seq", -1))) == (run_id, seq)]
        if not match:
            raise ValueError(f"run {run_id} attempt {seq}: no {name} asset event of that attempt "
                             f"among the triggering events")
        event_extra = dict(max(match, key=_order).extra or {})
        paths[name] = str(event_extra["path"])
        records[name] = event_extra.get("records")
    return Export(run_id, seq, extra.get("as_of"), paths, records)
