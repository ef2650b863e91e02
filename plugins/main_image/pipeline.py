"""One run of the pipeline: land the files, build the dbt project, publish the outputs.

    register the attempt -> land files (raw) -> dbt build -> mark selection completed
    -> export changes / snapshot / metrics -> mark exported

The CLI calls ``run_pipeline``; the Airflow DAG calls the same steps as separate tasks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from main_image import exports, loader, warehouse
from main_image.dbt_runner import run_dbt
from main_image.warehouse import RunParameters

Progress = Callable[[str], None]


@dataclass(frozen=True)
class OutputPaths:
    changes: Path
    snapshot: Path
    metrics: Path


@dataclass
class RunResult:
    run_id: str
    invocation_seq: int
    metrics: dict[str, Any]
    outputs: OutputPaths
    loaded: list[loader.LoadedFile]
    stage_seconds: dict[str, float] = field(default_factory=dict)


def dbt_variables(params: RunParameters, invocation_seq: int) -> dict[str, Any]:
    return {
        "run_id": params.run_id,
        "invocation_seq": invocation_seq,
        "as_of": params.as_of.isoformat(),
        "full_refresh": params.full_refresh,
        "scoring_version": params.scoring_version,
        "tag_version_pin": params.tag_version_pin,
        "obiq_version_pin": params.obiq_version_pin,
        "shadow_scoring_version": params.shadow_scoring_version,
    }


def begin_attempt(
    warehouse_path: Path,
    params: RunParameters,
    files_by_feed: dict[str, list[Path]],
    progress: Progress | None = None,
) -> tuple[int, list[loader.LoadedFile]]:
    """Register the attempt and land its files; returns (invocation_seq, loaded files)."""
    with warehouse.connect(warehouse_path) as con:
        invocation_seq = warehouse.start_invocation(con, params)
        loaded = loader.load_feeds(con, files_by_feed, params.run_id, invocation_seq, progress)
        warehouse.record_watermark(con, invocation_seq)
    return invocation_seq, loaded


def transform(
    warehouse_path: Path,
    params: RunParameters,
    invocation_seq: int,
    progress: Progress | None = None,
    dbt_command: str = "build",
    reuse_manifest: bool = False,
) -> None:
    """dbt build (models, seeds, data tests, unit tests); raises DbtError on any failure.

    `dbt_command="run"` builds seeds and models without the data and unit tests (the
    property tests use it to explore more histories); `reuse_manifest` parses the project
    once per process.
    """
    command = ["build"]
    if dbt_command == "run":
        command += ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
    elif dbt_command != "build":
        raise ValueError(f"dbt_command must be 'build' or 'run', not {dbt_command!r}")
    run_dbt(
        command,
        variables=dbt_variables(params, invocation_seq),
        warehouse=warehouse_path,
        target="duckdb",
        progress=progress,
        reuse_manifest=reuse_manifest,
    )
    with warehouse.connect(warehouse_path) as con:
        warehouse.mark_selection_completed(con, invocation_seq)


def publish(
    warehouse_path: Path,
    params: RunParameters,
    invocation_seq: int,
    outputs: OutputPaths,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Write the changes, snapshot and metrics exports; returns the metrics."""
    with warehouse.connect(warehouse_path) as con:
        changes = exports.export_changes(con, outputs.changes, params.run_id, invocation_seq)
        snapshot = exports.export_snapshot(con, outputs.snapshot)
        metrics = exports.run_metrics(con, params.run_id)
        exports.export_metrics(metrics, outputs.metrics)
        warehouse.mark_exported(con, invocation_seq)
    if progress:
        progress(f"export: {changes:,} changes -> {outputs.changes}")
        progress(f"export: {snapshot:,} main images -> {outputs.snapshot}")
        progress(f"export: metrics -> {outputs.metrics}")
    return metrics


def run_pipeline(
    warehouse_path: Path,
    params: RunParameters,
    files_by_feed: dict[str, list[Path]],
    outputs: OutputPaths,
    progress: Progress | None = None,
    dbt_command: str = "build",
    reuse_manifest: bool = False,
) -> RunResult:
    """One whole run; a failure leaves nothing published and is healed by the next run."""
    timings: dict[str, float] = {}

    started = time.perf_counter()
    invocation_seq, loaded = begin_attempt(warehouse_path, params, files_by_feed, progress)
    timings["land"] = time.perf_counter() - started

    started = time.perf_counter()
    transform(warehouse_path, params, invocation_seq, progress, dbt_command, reuse_manifest)
    timings["transform"] = time.perf_counter() - started

    started = time.perf_counter()
    metrics = publish(warehouse_path, params, invocation_seq, outputs, progress)
    timings["publish"] = time.perf_counter() - started

    return RunResult(params.run_id, invocation_seq, metrics, outputs, loaded, timings)
