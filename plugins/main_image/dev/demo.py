"""`make run`: generate sample deliveries and run the pipeline on each, as two days of operation.

Day 1 is the initial load (images, some tags and scores, the frontend's current main images);
day 2 is a later delivery with late tags, deactivations, re-delivered images and an admin
override. The demo starts from a fresh warehouse each time so that its output is reproducible.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from main_image.cli import progress
from main_image.dev.generate import GenerateConfig, generate
from main_image.landing import discover_files
from main_image.pipeline import OutputPaths, RunResult, run_pipeline
from main_image.runs import RunParameters
from main_image.settings import FEEDS


def metrics_table(results: list[RunResult]) -> str:
    rows = [("run", "as_of", "images", "hotels", "new", "updated", "deleted", "rejected")]
    for result in results:
        metrics = result.metrics
        rows.append(
            (
                metrics["run_id"],
                metrics["as_of"],
                f"{metrics['images_processed']:,}",
                f"{metrics['hotels_with_images']:,}",
                f"{metrics['main_images']['new']:,}",
                f"{metrics['main_images']['updated']:,}",
                f"{metrics['main_images']['deleted']:,}",
                f"{sum(metrics['rejected_records'].values()):,}",
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hotels", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--sample-dir", type=Path, default=Path("sample_data"))
    parser.add_argument("--warehouse", type=Path, default=Path("warehouse/demo.duckdb"))
    parser.add_argument("--exports", type=Path, default=Path("exports"))
    parser.add_argument("--scoring-version", dest="scoring_version", default="v1")
    parser.add_argument(
        "--shadow-scoring-version",
        dest="shadow_scoring_version",
        default=None,
        help="also rank with this version; reporting.rpt_scoring_shadow says what it would change",
    )
    parser.add_argument(
        "--database-url",
        dest="database_url",
        default=None,
        help="the image service's database: its serving copy is emptied, then each run "
        "publishes into it (so `make serve` answers the demo's main images)",
    )
    args = parser.parse_args(argv)

    progress(f"generate: {args.hotels:,} hotels, 2 deliveries -> {args.sample_dir}")
    shutil.rmtree(args.sample_dir, ignore_errors=True)
    sample = generate(
        GenerateConfig(hotels=args.hotels, seed=args.seed, deliveries=2, change_fraction=0.1),
        args.sample_dir,
        progress=progress,
    )
    args.warehouse.unlink(missing_ok=True)
    if args.database_url:  # a new warehouse: its serving copy starts empty too
        from main_image.serving_publish import reset_serving_copy

        reset_serving_copy(args.database_url)

    results: list[RunResult] = []
    for day, (delivery, as_of) in enumerate(
        zip(sample.deliveries, sample.as_of_dates, strict=True), start=1
    ):
        run_id = f"demo-day-{day}"
        out = args.exports / run_id
        result = run_pipeline(
            args.warehouse,
            RunParameters(
                run_id=run_id,
                as_of=as_of,
                scoring_version=args.scoring_version,
                shadow_scoring_version=args.shadow_scoring_version or None,
            ),
            discover_files(delivery),
            OutputPaths(out / "changes.jsonl", out / "snapshot.jsonl", out / "metrics.json"),
            progress=progress,
            serving_url=args.database_url,
        )
        results.append(result)

    print()
    print(metrics_table(results))
    print()
    for result in results:
        rejected = ", ".join(
            f"{feed} {result.metrics['rejected_records'][feed]}"
            for feed in FEEDS
            if result.metrics["rejected_records"][feed]
        )
        print(f"{result.run_id}: rejected lines by feed: {rejected or 'none'}")
        print(f"  changes  {result.outputs.changes}")
        print(f"  snapshot {result.outputs.snapshot}")
        print(f"  metrics  {result.outputs.metrics}")
    print(f"\nwarehouse: {args.warehouse} (tables: raw.*, staging.*, marts.*, reporting.*)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
