"""The `main-image` command line: `main-image run ...` and `main-image generate ...`."""

from __future__ import annotations

import argparse
import glob
import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from main_image.settings import DEFAULT_EXPORTS_DIR, DEFAULT_SCORING_VERSION, DEFAULT_WAREHOUSE

#: CLI flag -> feed. The first names are the original task's.
FEED_FLAGS: dict[str, str] = {
    "images": "images",
    "tags": "image_tags",
    "main_images": "main_images",
    "overrides": "admin_overrides",
    "obiq": "obiq_scores",
    "user_events": "user_events",
}


#: How long `main-image run` waits for another run on the same warehouse by default.
DEFAULT_WAIT_SECONDS = 300.0


class UsageError(Exception):
    """An argument the run cannot use; reported as one line, exit code 2."""


def progress(message: str) -> None:
    """The CLI's ``settings.Progress``: one time-stamped line on stderr."""
    stamp = datetime.now(UTC).strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)


def parse_as_of(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--as-of must be a date YYYY-MM-DD, got {text!r}") from None


def expand_inputs(flag: str, patterns: list[str]) -> list[Path]:
    """Every file named by the flag's values (paths or globs); each must match something."""
    paths: list[Path] = []
    for pattern in patterns:
        if glob.has_magic(pattern):
            matches = sorted(Path(match) for match in glob.glob(pattern, recursive=True))
            files = [match for match in matches if match.is_file()]
            if not files:
                raise UsageError(f"--{flag}: no file matches {pattern!r}")
            paths.extend(files)
        else:
            path = Path(pattern)
            if not path.is_file():
                raise UsageError(f"--{flag}: no such file: {pattern}")
            paths.append(path)
    return paths


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main-image",
        description="Select the best main image of every hotel (dbt on DuckDB by default).",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run",
        help="one run: land the given files, recompute, write changes/snapshot/metrics",
        description="Each invocation is one run; the warehouse file keeps state between runs. "
        "Every input flag takes files or globs and may be repeated.",
    )
    _add_run_arguments(run)
    _add_generate_parser(commands)
    add_serve_command(commands)
    _add_train_scoring_parser(commands)
    # the analysts' dashboard (main_image/dashboard): stdlib-only arguments, Streamlit is
    # started in its own process by the command
    from main_image.dashboard.launch import add_arguments as add_dashboard_arguments

    add_dashboard_arguments(commands.add_parser(
        "dashboard", help="the analysts' dashboard (Streamlit) over the reporting marts"
    ))
    from main_image.stream.cli import register as register_stream_commands

    register_stream_commands(commands)  # main-image stream | produce (main_image/stream/cli.py)
    return parser


def _add_run_arguments(run: argparse.ArgumentParser) -> None:
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


def _add_generate_parser(commands: Any) -> None:
    generate = commands.add_parser(
        "generate",
        help="write realistic landing files (deliveries of every feed, or the task's format)",
    )
    generate.add_argument(
        "--format",
        dest="data_format",
        choices=("deliveries", "task"),
        default="deliveries",
        help="deliveries: OUT/delivery-NN/<feed>/part-*.jsonl of every feed (default); task: "
        "OUT/images.jsonl, image_tags.jsonl, main_images.jsonl in the original task's shape",
    )
    generate.add_argument("--hotels", type=int, required=True)
    generate.add_argument("--seed", type=int, default=42)
    generate.add_argument("--out", type=Path, required=True)
    generate.add_argument("--deliveries", type=int, default=2)
    generate.add_argument("--change-fraction", dest="change_fraction", type=float, default=0.01)
    generate.add_argument(
        "--malformed-rate",
        dest="malformed_rate",
        type=float,
        default=0.001,
        help="share of lines that get a defective copy (default 0.001)",
    )
    generate.add_argument(
        "--no-analytics-fields",
        dest="analytics",
        action="store_false",
        help="leave out the analytics fields (image source, channel, format, camera, GPS; "
        "search events): the data of the pipeline's first version, byte for byte",
    )
    generate.add_argument(
        "--start-date",
        dest="start_date",
        default="2024-07-01",
        help="as_of of the first delivery (YYYY-MM-DD)",
    )


def add_serve_command(commands: argparse._SubParsersAction) -> None:
    """`main-image serve`: the image service (contract §7); its code is imported only here."""
    from main_image.service.server import add_arguments

    serve = commands.add_parser(
        "serve",
        help="serve the image service (uploads, catalog); configuration from MAIN_IMAGE_*",
    )
    add_arguments(serve)


def command_run(args: argparse.Namespace) -> int:
    from main_image.locking import WarehouseBusy, exclusive_run
    from main_image.pipeline import OutputPaths, run_pipeline
    from main_image.runs import RunParameters, safe_path_component

    as_of = parse_as_of(args.as_of) if args.as_of else datetime.now(UTC).date()
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
    params = RunParameters(
        run_id=run_id,
        as_of=as_of,
        scoring_version=args.scoring_version,
        tag_version_pin=args.tag_version_pin,
        obiq_version_pin=args.obiq_version_pin,
        full_refresh=args.full_refresh,
        shadow_scoring_version=args.shadow_scoring_version or None,
    )
    if args.wait < 0:
        raise UsageError("--wait must be >= 0 seconds")
    try:
        with exclusive_run(args.warehouse, run_id, args.wait):
            progress(f"run {run_id}: as_of={as_of} warehouse={args.warehouse}")
            result = run_pipeline(args.warehouse, params, files_by_feed, outputs, progress)
    except WarehouseBusy as busy:
        raise UsageError(str(busy)) from None
    timings = ", ".join(
        f"{stage} {seconds:.1f}s" for stage, seconds in result.stage_seconds.items()
    )
    progress(f"run {run_id}: done ({timings})")
    print(json.dumps(result.metrics))
    return 0


def _add_train_scoring_parser(commands: Any) -> None:
    train = commands.add_parser(
        "train-scoring",
        help="fit scoring v3 on the warehouse's data; writes a new artifact (docs/scoring.md)",
        description="Fits the linear model of scoring v3 (features: the v2 terms; label: clicks "
        "per impression) on staging.int_image_score_features of a DuckDB warehouse, and appends "
        "the coefficients to dbt_project/seeds/scoring_v3_coefficients.csv as a new artifact. "
        "Train after a full rebuild; register the version v3-<artifact> to use it.",
    )
    train.add_argument("--warehouse", type=Path, default=DEFAULT_WAREHOUSE)
    train.add_argument(
        "--artifact-version",
        dest="artifact_version",
        required=True,
        help="the new artifact's version, e.g. m2 (scoring version v3-m2)",
    )
    train.add_argument("--seed", type=int, default=16, help="seed of the validation split")
    train.add_argument("--l2", type=float, default=1.0, help="ridge penalty")
    train.add_argument("--min-impressions", dest="min_impressions", type=int, default=1)


def command_train_scoring(args: argparse.Namespace) -> int:
    from main_image.scoring.training import TrainingConfig, TrainingError, train
    from main_image.settings import DBT_PROJECT_DIR

    config = TrainingConfig(
        warehouse=args.warehouse,
        artifact_version=args.artifact_version,
        coefficients_csv=DBT_PROJECT_DIR / "seeds" / "scoring_v3_coefficients.csv",
        seed=args.seed,
        l2=args.l2,
        min_impressions=args.min_impressions,
    )
    try:
        result = train(config)
    except TrainingError as error:
        raise UsageError(str(error)) from None
    progress(
        f"train-scoring: {result.scoring_version} on {result.rows:,} images, validation RMSE "
        f"{result.validation_rmse:.4f} (mean-only baseline {result.baseline_rmse:.4f})"
    )
    print(json.dumps(result.__dict__))
    return 0


def command_generate(args: argparse.Namespace) -> int:
    # dev tooling: imported here only, so that production code never loads it
    from main_image.dev.generate import GenerateConfig, generate
    from main_image.dev.generate.task_format import generate_task

    if args.hotels < 0:
        raise UsageError("--hotels must be >= 0")
    if not 0.0 <= args.malformed_rate <= 1.0:
        raise UsageError("--malformed-rate must be in [0, 1]")
    start_date = parse_as_of(args.start_date)
    if args.data_format == "task":
        task = generate_task(args.hotels, args.out, args.seed, args.malformed_rate, start_date,
                             progress=progress)
        for feed, path in task.files.items():
            print(f"{path}\tlines={task.lines[feed]}")
        return 0
    config = GenerateConfig(
        hotels=args.hotels,
        seed=args.seed,
        deliveries=args.deliveries,
        change_fraction=args.change_fraction,
        malformed_rate=args.malformed_rate,
        start_date=start_date,
        analytics=args.analytics,
    )
    result = generate(config, args.out, progress=progress)
    for delivery, as_of in zip(result.deliveries, result.as_of_dates, strict=True):
        print(f"{delivery}\tas_of={as_of}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return command_run(args)
        if args.command == "train-scoring":
            return command_train_scoring(args)
        if args.command == "serve":
            from main_image.service.server import command_serve

            return command_serve(args)
        if hasattr(args, "handler"):  # the stream's subcommands
            return args.handler(args)
        if args.command == "dashboard":
            from main_image.dashboard.launch import run as command_dashboard

            return command_dashboard(args)
        return command_generate(args)
    except UsageError as error:
        print(f"main-image: error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # a failed run: one line, non-zero, nothing published
        from main_image.dbt_runner import DbtError

        if isinstance(error, DbtError):
            print(f"main-image: run failed: {error}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
