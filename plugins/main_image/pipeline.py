"""The steps of a pipeline run, the same for the CLI and the Airflow DAG:

    register (a new attempt in raw.pipeline_runs) -> land (files into raw, watermark)
    -> transform (dbt build; on Airflow: the Cosmos task group) -> publish (exports.publish)

The CLI calls ``run_pipeline`` (all four in one process); the DAG's tasks call ``register``,
``land`` and ``exports.publish`` through ``main_image.orchestration``, with Cosmos running dbt
between them. Every rule about runs lives in these functions and in ``exports``.

``run_pipeline`` leaves dbt out when it provably has nothing to do (``transform_skip``: no file
landed and no hotel's ranking can move with the run's parameters), and otherwise leaves out the
nodes with no work (``idle_nodes``: the incremental chains of feeds that received no file); the
DAG always runs every dbt node.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from main_image import faults, idle_nodes, transform_skip
from main_image.engines import LoadedFile, Warehouse, open_warehouse
from main_image.exports import OutputPaths, Published, finish_interrupted_publications, publish
from main_image.runs import RunParameters, dbt_variables
from main_image.settings import Progress

__all__ = ["OutputPaths", "RunResult", "land", "publish", "register", "run_pipeline", "transform"]


@dataclass
class RunResult:
    run_id: str
    invocation_seq: int
    metrics: dict[str, Any]
    outputs: OutputPaths
    loaded: list[LoadedFile]
    stage_seconds: dict[str, float] = field(default_factory=dict)
    published: Published | None = None
    #: whether dbt ran, and why (transform_skip.Decision); None: not decided (always ran)
    transform_decision: transform_skip.Decision | None = None


def register(wh: Warehouse, params: RunParameters, progress: Progress | None = None) -> int:
    """Register a new attempt of the run (the raw layer first, on the first run), after
    finishing a publication a crash interrupted (``exports.finish_interrupted_publications``)."""
    wh.ensure_raw_layer()
    finish_interrupted_publications(wh, progress)
    return wh.start_invocation(params)


def land(
    wh: Warehouse,
    files_by_feed: Mapping[str, Sequence[Path | str]],
    run_id: str,
    invocation_seq: int,
    progress: Progress | None = None,
) -> tuple[list[LoadedFile], int]:
    """Land every file (content loaded before is skipped); returns the files and the watermark."""
    loaded = wh.load_feeds(files_by_feed, run_id, invocation_seq, progress)
    watermark = wh.record_watermark(invocation_seq)
    faults.reached("landed")
    return loaded, watermark


def begin_attempt(
    warehouse_path: Path,
    params: RunParameters,
    files_by_feed: Mapping[str, Sequence[Path]],
    progress: Progress | None = None,
) -> tuple[int, list[LoadedFile]]:
    """Register the attempt and land its files on the DuckDB file; returns (seq, files)."""
    with open_warehouse(warehouse_path, None) as wh:
        invocation_seq = register(wh, params, progress)
        loaded, _ = land(wh, files_by_feed, params.run_id, invocation_seq, progress)
    return invocation_seq, loaded


def transform(
    warehouse_path: Path,
    params: RunParameters,
    invocation_seq: int,
    progress: Progress | None = None,
    dbt_command: str = "build",
    reuse_manifest: bool = False,
    dbt_log: bool = False,
    fingerprint: str | None = None,
    idle_feeds: frozenset[str] = frozenset(),
) -> None:
    """dbt build (models, seeds, data tests; no unit tests) on the DuckDB file; raises DbtError.

    `dbt_command="run"` builds seeds and models without the data and unit tests (the
    property tests use it to explore more histories); `reuse_manifest` parses the project
    once per process. `fingerprint` (``transform_skip.project_fingerprint``, taken before dbt
    started) is recorded with the attempt, for the next run's decision. The nodes under
    `idle_feeds` alone (``transform_skip.idle_feeds``) are left out (``idle_nodes``).
    """
    from main_image.dbt_runner import PIPELINE_BUILD_EXCLUDES, run_dbt

    def leave_out_idle_nodes(manifest: Any) -> list[str]:
        graph = idle_nodes.graph_of(manifest)
        left_out = idle_nodes.nodes_without_work(graph, idle_feeds)
        if progress and left_out:
            models = sum(1 for unique_id in left_out if unique_id.startswith("model."))
            progress(f"transform: {models} model(s) and {len(left_out) - models} test(s) "
                     f"have no work (no file of {', '.join(sorted(idle_feeds))}): left out")
        return idle_nodes.exclude_arguments(graph, left_out)

    command = ["build", *PIPELINE_BUILD_EXCLUDES]
    if dbt_command == "run":
        command += ["--exclude-resource-type", "test"]
    elif dbt_command != "build":
        raise ValueError(f"dbt_command must be 'build' or 'run', not {dbt_command!r}")
    run_dbt(
        command,
        variables=dbt_variables(params, invocation_seq),
        warehouse=warehouse_path,
        target="duckdb",
        progress=progress,
        reuse_manifest=reuse_manifest,
        log=dbt_log,
        exclude=leave_out_idle_nodes if idle_feeds else None,
    )
    with open_warehouse(warehouse_path, None) as wh:
        wh.mark_selection_completed(invocation_seq)
        if fingerprint is not None:
            transform_skip.record_build(wh, invocation_seq, fingerprint)
    faults.reached("selected")


def run_pipeline(
    warehouse_path: Path,
    params: RunParameters,
    files_by_feed: Mapping[str, Sequence[Path]],
    outputs: OutputPaths,
    progress: Progress | None = None,
    dbt_command: str = "build",
    reuse_manifest: bool = False,
    dbt_log: bool = False,
    serving_url: str | None = None,
) -> RunResult:
    """One whole run; a failure leaves nothing published and is healed by the next run."""
    timings: dict[str, float] = {}

    started = time.perf_counter()
    invocation_seq, loaded = begin_attempt(warehouse_path, params, files_by_feed, progress)
    timings["land"] = time.perf_counter() - started

    started = time.perf_counter()
    fingerprint = transform_skip.project_fingerprint()
    with open_warehouse(warehouse_path, None) as wh:
        decision = transform_skip.decide(wh, params, invocation_seq, loaded, fingerprint)
        if not decision.run_dbt:
            transform_skip.complete_without_dbt(wh, params, invocation_seq)
        idle = (transform_skip.idle_feeds(wh, params, invocation_seq, loaded, fingerprint)
                if decision.run_dbt else frozenset())
    if progress:
        progress(decision.message())
    if decision.run_dbt:
        transform(warehouse_path, params, invocation_seq, progress, dbt_command, reuse_manifest,
                  dbt_log, fingerprint, idle)
    else:
        faults.reached("selected")
    timings["transform"] = time.perf_counter() - started

    started = time.perf_counter()
    with open_warehouse(warehouse_path, None) as wh:
        published = publish(wh, params.run_id, invocation_seq, outputs, progress, serving_url)
    timings["publish"] = time.perf_counter() - started

    return RunResult(params.run_id, invocation_seq, published.metrics, outputs, loaded, timings,
                     published, decision)
