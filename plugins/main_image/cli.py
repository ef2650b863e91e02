"""The `main-image` command line: `main-image run ...` and `main-image generate ...`."""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path
from typing import Any

from main_image.cli_checks import UsageError, parse_as_of, progress
from main_image.cli_run import FEED_FLAGS, add_run_arguments, command_run
from main_image.settings import DEFAULT_WAREHOUSE

__all__ = ["FEED_FLAGS", "UsageError", "build_parser", "main", "parse_as_of", "progress"]

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
    add_run_arguments(run)
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
    start_date = parse_as_of(args.start_date, "--start-date")
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
    except Exception as error:  # a failed run: one line, exit 1, nothing published
        if args.command not in ("run", "train-scoring"):
            raise
        if getattr(args, "verbose", False):
            traceback.print_exc()
        print(f"main-image: {args.command} failed: {failure_line(error)}", file=sys.stderr)
        return 1


def failure_line(error: BaseException) -> str:
    """One line that names what failed: dbt's failures as they are, any other error with its
    type (``IOException: ... No space left on device``)."""
    from main_image.dbt_runner import DbtError

    text = " ".join(str(error).split()) or "(no message)"
    if len(text) > 600:
        text = text[:600] + "..."
    hint = "" if isinstance(error, DbtError) else " (--verbose shows the traceback)"
    prefix = "" if isinstance(error, DbtError) else f"{type(error).__name__}: "
    return f"{prefix}{text}{hint}"


if __name__ == "__main__":
    sys.exit(main())
