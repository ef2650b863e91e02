"""Publishing a run: changes, snapshot and metrics (contract §5), the one path of the CLI and
the DAG.

The rule of which changes a run's export holds, written once (``CHANGES_QUERY``): every change
record is delivered by exactly one run, the run of the first attempt at or after the attempt
that emitted it which published (``exported_at``), counting the attempt being published. So a
run's export holds its own attempts' changes plus those of earlier attempts nobody published
(a crash after dbt), never what another run delivered. It is a pure function of the registry up
to the attempt: re-publishing the same attempt, or a later attempt of the same run that emitted
nothing new, gives the same records; such a re-publication writes nothing at all (the files
already hold them, and a cleared old run must not overwrite its snapshot and metrics with later
state). A later attempt that does emit changes appends them after the run's earlier lines.

Files are written aside and renamed (``fileio.write_aside``), the metrics last; the attempt is
marked exported only after all three are in place. Before writing, the attempt records where
its files go and the metrics they end with (``raw.pipeline_publications``); a crash after the
three were written (during the renames, or before the attempt was marked exported) is finished
by the next attempt (``finish_interrupted_publications``): it renames what is left and marks the
attempt exported, so that its changes are not delivered a second time. A crash while writing
publishes nothing; the next run delivers those changes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from main_image import faults, fileio
from main_image.engines.base import Warehouse
from main_image.settings import Progress

#: The file names of a run's export folder.
EXPORT_FILES = {"changes": "changes.jsonl", "snapshot": "snapshot.jsonl",
                "metrics": "metrics.json"}

#: Which attempt delivers each attempt's changes, and to which run (parameters: the attempt
#: being published, twice): the first attempt at or after it that is published or is the one
#: being published.
_DELIVERY = """
    with attempts as (
        select
            invocation_seq,
            run_id,
            min(case when exported_at is not null or invocation_seq = ? then invocation_seq end)
                over (order by invocation_seq rows between current row and unbounded following)
                as delivered_by
        from raw.pipeline_runs
        where invocation_seq <= ?
    ),

    delivery as (
        select emitted.invocation_seq, emitted.delivered_by, delivering.run_id as delivered_to
        from attempts as emitted
        inner join attempts as delivering on emitted.delivered_by = delivering.invocation_seq
    )
"""

_RUN_CHANGES = """
    from marts.fct_main_image_changes as changes
    inner join delivery on changes.invocation_seq = delivery.invocation_seq
    where delivery.delivered_to = ?
    order by changes.invocation_seq, changes.hotel_id
"""

#: The change records a run's export holds (parameters: invocation_seq, invocation_seq, run_id).
CHANGES_QUERY = _DELIVERY + """
    select changes.hotel_id, changes.image_id, changes.cdn_url
""" + _RUN_CHANGES

#: The same records, in the same order, with their change type: what the serving copy's change
#: log holds (main_image/serving_publish.py).
SERVING_CHANGES_QUERY = _DELIVERY + """
    select changes.change_type, changes.hotel_id, changes.image_id, changes.cdn_url
""" + _RUN_CHANGES

#: The change records the attempt delivers, this time or when it was published before
#: (parameters: invocation_seq three times).
_DELIVERED_BY_ATTEMPT = _DELIVERY + """
    select count(*)
    from marts.fct_main_image_changes as changes
    inner join delivery on changes.invocation_seq = delivery.invocation_seq
    where delivery.delivered_by = ?
"""


@dataclass(frozen=True)
class OutputPaths:
    """Where a run's three files go (local paths or gs:// URIs)."""

    changes: Path | str
    snapshot: Path | str
    metrics: Path | str

    @classmethod
    def in_folder(cls, folder: str) -> OutputPaths:
        return cls(*(fileio.join(folder, EXPORT_FILES[name]) for name in EXPORT_FILES))

    def location(self, name: str) -> str:
        return str(getattr(self, name))


@dataclass(frozen=True)
class Published:
    location: str  # the folder of the changes file: a local path or gs://bucket/prefix/<run>
    changes: int
    changes_this_attempt: int
    snapshot: int
    metrics: dict[str, Any]
    outputs: OutputPaths | None = None
    written: bool = True  # False: the files already held this publication

    def path(self, name: str) -> str:
        if self.outputs is not None:
            return self.outputs.location(name)
        return fileio.join(self.location, EXPORT_FILES[name])

    def asset_extra(self, run_id: str, invocation_seq: int, name: str) -> dict[str, Any]:
        return {
            "run_id": run_id,
            "invocation_seq": invocation_seq,
            "as_of": self.metrics.get("as_of"),
            "path": self.path(name),
            "records": {"changes": self.changes, "snapshot": self.snapshot}.get(name),
            "changes_this_attempt": self.changes_this_attempt,
        }


def _already_published(wh: Warehouse, run_id: str, invocation_seq: int,
                       outputs: OutputPaths) -> bool:
    """True when the files already hold what publishing the attempt would write: the run was
    published before, the attempt delivers no record that was not (it emitted nothing, and no
    unpublished attempt before it did), and the three files are there."""
    published_before, this_published = wh.fetchall(
        "select count(*), count(case when invocation_seq = ? then 1 end) from raw.pipeline_runs "
        "where run_id = ? and exported_at is not null",
        [invocation_seq, run_id],
    )[0]
    if not published_before:
        return False
    if not this_published and wh.scalar(_DELIVERED_BY_ATTEMPT, [invocation_seq] * 3):
        return False
    return all(fileio.exists(outputs.location(name), wh.storage_client) for name in EXPORT_FILES)


def _count_this_attempt(wh: Warehouse, invocation_seq: int) -> int:
    return int(wh.scalar(
        "select count(*) from marts.fct_main_image_changes where invocation_seq = ?",
        [invocation_seq],
    ))  # fmt: skip


def publish(
    wh: Warehouse,
    run_id: str,
    invocation_seq: int,
    outputs: OutputPaths,
    progress: Progress | None = None,
    serving_url: str | None = None,
) -> Published:
    """Mark the selection completed, write changes / snapshot / metrics (metrics last) unless
    they already hold this publication, and mark the attempt exported; then, with
    ``serving_url`` (the image service's database), bring its serving copy up to date
    (main_image/serving_publish.py). A serving copy that cannot be written fails the call after
    the files are published: the next publication copies what it missed."""
    wh.mark_selection_completed(invocation_seq)
    location = outputs.location("changes").rsplit("/", 1)[0]
    this_attempt = _count_this_attempt(wh, invocation_seq)
    if _already_published(wh, run_id, invocation_seq, outputs):
        published = Published(
            location,
            changes=fileio.count_lines(outputs.changes, wh.storage_client),
            changes_this_attempt=this_attempt,
            snapshot=fileio.count_lines(outputs.snapshot, wh.storage_client),
            metrics=json.loads(fileio.read_text(outputs.metrics, wh.storage_client)),
            outputs=outputs,
            written=False,
        )
    else:
        published = _write(wh, run_id, invocation_seq, outputs, this_attempt)
    wh.mark_exported(invocation_seq)
    if progress:
        _report(progress, run_id, invocation_seq, published)
    if serving_url:
        from main_image.serving_publish import publish_serving

        faults.reached("serving")
        publish_serving(wh, serving_url, progress)
    return published


def _write(wh: Warehouse, run_id: str, invocation_seq: int, outputs: OutputPaths,
           this_attempt: int) -> Published:
    """Record the publication, write the three files aside and rename them (metrics last)."""
    params = [invocation_seq, invocation_seq, run_id]
    metrics = wh.run_metrics(run_id)
    names = list(EXPORT_FILES)
    wh.record_publication(invocation_seq, run_id, [outputs.location(name) for name in names],
                          json.dumps(metrics))

    def on_step(step: str, index: int) -> None:
        if step == "all-written":
            wh.mark_publication_written(invocation_seq)
        else:
            faults.reached(f"export-{step}-{names[index]}")

    counts = fileio.write_aside([
        (outputs.location("changes"),
         lambda target: wh.write_main_image_rows(CHANGES_QUERY, params, target)),
        (outputs.location("snapshot"), wh.export_snapshot),
        (outputs.location("metrics"), lambda target: wh.write_metrics(metrics, target)),
    ], tag=str(invocation_seq), on_step=on_step)  # fmt: skip
    location = outputs.location("changes").rsplit("/", 1)[0]
    return Published(location, counts[outputs.location("changes")], this_attempt,
                     counts[outputs.location("snapshot")], metrics, outputs)


def finish_interrupted_publications(wh: Warehouse, progress: Progress | None = None) -> None:
    """Finish what a crash interrupted after an attempt's three files were written: rename the
    hidden copies still waiting and, once the metrics in place are the attempt's, mark it
    exported (its changes are then delivered; the next publication does not repeat them). A
    publication interrupted while writing is left unpublished: the next run delivers it."""
    for record in wh.interrupted_publications():
        locations = [record[f"{name}_location"] for name in EXPORT_FILES]
        if record["written_at"] is not None:
            for location in locations:
                if fileio.is_gcs_uri(location):
                    continue
                aside = fileio.aside_path(location, str(record["invocation_seq"]))
                if aside.is_file():
                    aside.replace(location)
        if not all(fileio.exists(location, wh.storage_client) for location in locations):
            continue
        in_place = fileio.read_text(record["metrics_location"], wh.storage_client)
        if json.loads(in_place) != json.loads(record["metrics"]):
            continue
        wh.mark_exported(record["invocation_seq"])
        if progress:
            progress(f"export: finished the publication of run {record['run_id']} attempt "
                     f"{record['invocation_seq']} that a crash interrupted -> "
                     f"{record['metrics_location']}")


def _report(progress: Progress, run_id: str, invocation_seq: int, published: Published) -> None:
    if not published.written:
        progress(f"export: run {run_id} attempt {invocation_seq} delivers nothing new; "
                 f"its files already hold its {published.changes:,} changes, left as they are")
        return
    progress(f"export: {published.changes:,} changes ({published.changes_this_attempt:,} "
             f"new in attempt {invocation_seq}) -> {published.path('changes')}")
    progress(f"export: {published.snapshot:,} main images -> {published.path('snapshot')}")
    progress(f"export: metrics -> {published.path('metrics')}")
