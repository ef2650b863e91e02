"""`main-image run`: its arguments, the checks made before anything is landed
(``cli_checks``), and the run itself under the warehouse's lock."""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from main_image.cli_checks import (
    UsageError,
    check_database_url,
    check_output,
    check_pins,
    check_scoring_versions,
    check_warehouse,
    expand_inputs,
    parse_as_of,
    progress,
    unmatched_pins,
    warn,
)
from main_image.settings import DEFAULT_EXPORTS_DIR, DEFAULT_SCORING_VERSION, DEFAULT_WAREHOUSE

#: CLI flag -> feed. The first names are the original task's.
FEED_FLAGS: dict[str, str] = {
    "images": "images",
    "tags": "image_tags",
    "main_images": "main_images",
    "overrides": "admin_overrides",
    "obiq": "obiq_scores",
    "user_events": "user_events",
    # not a contract feed: the stream lander's drain records (main_image.settings)
    "stream_drains": "stream_drains",
}


#: How long `main-image run` waits for another run on the same warehouse by default.
DEFAULT_WAIT_SECONDS = 300.0


def add_run_arguments(run: argparse.ArgumentParser) -> None:
    """The inputs and outputs of `main-image run`, then its parameters."""
    for flag, feed in FEED_FLAGS.items():
        names = [f"--{flag}"] + ([f"--{flag.replace('_', '-')}"] if "_" in flag else [])
        run.add_argument(
            *names,
            dest=flag,
            action="append",
            default=[],
            metavar="FILE_OR_GLOB",
            help=f"landing files of the {feed} feed",
        )
    run.add_argument(
        "--output_cdc",
        "--output-cdc",
        dest="output_cdc",
        type=Path,
        help="changes export (JSONL); default exports/<run_id>/changes.jsonl",
    )
    run.add_argument(
        "--output_snapshot",
        "--output-snapshot",
        dest="output_snapshot",
        type=Path,
        help="snapshot export (JSONL); default exports/<run_id>/snapshot.jsonl",
    )
    run.add_argument(
        "--output_metrics",
        "--output-metrics",
        dest="output_metrics",
        type=Path,
        help="run metrics (one JSON object); default exports/<run_id>/metrics.json",
    )
    run.add_argument(
        "--database-url",
        "--database_url",
        dest="database_url",
        default=os.environ.get("MAIN_IMAGE_DATABASE_URL") or None,
        metavar="URL",
        help="the image service's database (SQLAlchemy URL): publication also updates its "
        "serving copy (default: $MAIN_IMAGE_DATABASE_URL; unset: no serving copy)",
    )
    run.add_argument(
        "--verbose",
        action="store_true",
        help="on failure, show the traceback; show dbt's log (on stderr)",
    )
    _add_run_parameters(run)


def _add_run_parameters(run: argparse.ArgumentParser) -> None:
    """The run's date, warehouse, id and scoring configuration."""
    run.add_argument(
        "--as-of",
        "--as_of",
        dest="as_of",
        default=None,
        help="the run's date YYYY-MM-DD (default: today, UTC)",
    )
    run.add_argument(
        "--warehouse",
        type=Path,
        default=DEFAULT_WAREHOUSE,
        help=f"DuckDB warehouse file (default: {DEFAULT_WAREHOUSE})",
    )
    run.add_argument(
        "--full-refresh",
        "--full_refresh",
        dest="full_refresh",
        action="store_true",
        help="recompute every hotel (emits only real changes)",
    )
    run.add_argument(
        "--wait",
        type=float,
        default=DEFAULT_WAIT_SECONDS,
        metavar="SECONDS",
        help="how long to wait while another run holds the warehouse, then exit 2 "
        f"(default {DEFAULT_WAIT_SECONDS:.0f})",
    )
    run.add_argument(
        "--run-id", dest="run_id", default=None, help="the run's id (default: cli__<UTC timestamp>)"
    )
    run.add_argument(
        "--scoring-version",
        dest="scoring_version",
        default=DEFAULT_SCORING_VERSION,
        help="active scoring version (default v1)",
    )
    run.add_argument(
        "--shadow-scoring-version",
        dest="shadow_scoring_version",
        default=None,
        help="also rank with this version into reporting.rpt_scoring_shadow (publishes nothing)",
    )
    run.add_argument(
        "--tag-version-pin",
        dest="tag_version_pin",
        default=None,
        help="pin the active tag model version, e.g. v4-0-0",
    )
    run.add_argument(
        "--obiq-version-pin",
        dest="obiq_version_pin",
        default=None,
        help="pin the active obiq score version",
    )


def _run_request(args: argparse.Namespace) -> tuple[Any, dict[str, list[Path]], Any]:
    """The run's parameters, inputs and outputs, every one checked (exit 2 before landing)."""
    from main_image.pipeline import OutputPaths
    from main_image.runs import RunParameters, safe_path_component

    as_of = parse_as_of(args.as_of) if args.as_of is not None else datetime.now(UTC).date()
    if args.wait < 0:
        raise UsageError("--wait must be >= 0 seconds")
    shadow = args.shadow_scoring_version or None
    check_scoring_versions([("--scoring-version", args.scoring_version),
                            ("--shadow-scoring-version", shadow)])
    check_pins(args.tag_version_pin, args.obiq_version_pin)
    files_by_feed = {
        feed: expand_inputs(flag, getattr(args, flag)) for flag, feed in FEED_FLAGS.items()
    }
    run_id = args.run_id or f"cli__{datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}"
    default_dir = DEFAULT_EXPORTS_DIR / safe_path_component(run_id)
    outputs = OutputPaths(
        changes=args.output_cdc or default_dir / "changes.jsonl",
        snapshot=args.output_snapshot or default_dir / "snapshot.jsonl",
        metrics=args.output_metrics or default_dir / "metrics.json",
    )
    for flag, path in (("--output_cdc", outputs.changes), ("--output_snapshot", outputs.snapshot),
                       ("--output_metrics", outputs.metrics)):
        check_output(flag, Path(path))
    check_warehouse(args.warehouse)
    check_database_url(args.database_url)
    params = RunParameters(
        run_id=run_id,
        as_of=as_of,
        scoring_version=args.scoring_version,
        tag_version_pin=args.tag_version_pin,
        obiq_version_pin=args.obiq_version_pin,
        full_refresh=args.full_refresh,
        shadow_scoring_version=shadow,
    )
    return params, files_by_feed, outputs


def command_run(args: argparse.Namespace) -> int:
    from main_image.locking import WarehouseBusy, exclusive_run
    from main_image.pipeline import run_pipeline

    params, files_by_feed, outputs = _run_request(args)
    run_id = params.run_id
    try:
        with exclusive_run(args.warehouse, run_id, args.wait):
            progress(f"run {run_id}: as_of={params.as_of} warehouse={args.warehouse}")
            result = run_pipeline(args.warehouse, params, files_by_feed, outputs, progress,
                                  dbt_log=args.verbose, serving_url=args.database_url)
            for warning in unmatched_pins(args.warehouse, params.tag_version_pin,
                                          params.obiq_version_pin):
                warn(warning)
    except WarehouseBusy as busy:
        raise UsageError(str(busy)) from None
    timings = ", ".join(
        f"{stage} {seconds:.1f}s" for stage, seconds in result.stage_seconds.items()
    )
    decision = result.transform_decision
    skipped = f"; dbt skipped: {decision.reason}" if decision and not decision.run_dbt else ""
    progress(f"run {run_id}: done ({timings}){skipped}")
    print(json.dumps(result.metrics), flush=True)
    return 0
