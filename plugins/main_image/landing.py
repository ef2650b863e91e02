"""The landing zone: one folder per feed, newline-delimited JSON files in it.

    <landing>/images/*.jsonl, <landing>/image_tags/*.jsonl, ... (sub-folders are allowed,
    e.g. <landing>/images/2024-07-02/part-00000.jsonl)

Every run lands *everything* it finds: the loader skips a file whose content (SHA-256) was
loaded before, so a file is never loaded twice and a file that arrived while a run was failing
is picked up by the next one. Files are landed in path order within a feed, so name deliveries
so that they sort in arrival order (e.g. a date or sequence prefix).

``python -m main_image.landing sample --landing-dir landing`` writes generated sample data
(the first delivery into the landing zone, the later ones beside it for you to drop in);
``python -m main_image.landing stage --delivery DIR --landing-dir landing`` drops one in.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from main_image import fileio
from main_image.settings import LOADED_FEEDS, PROJECT_ROOT

#: Files of a feed folder that are landed (``.gz``: gzip, decompressed by the loader).
LANDING_SUFFIXES = (
    ".jsonl", ".ndjson", ".json", ".jsonl.gz", ".ndjson.gz", ".json.gz",
)  # fmt: skip


def default_landing_dir() -> Path:
    """MAIN_IMAGE_LANDING_DIR (relative paths are relative to the project), else <repo>/landing."""
    configured = os.environ.get("MAIN_IMAGE_LANDING_DIR")
    if not configured:
        return PROJECT_ROOT / "landing"
    path = Path(configured).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def discover_files(
    landing: Path | str, storage_client: Any = None
) -> dict[str, list[Any]]:
    """Every landing file of every feed, in landing order (path order within a feed): local
    paths under a folder, or ``gs://`` URIs under a bucket prefix.

    A missing landing dir or feed folder means "no file"; hidden files (``.name``, e.g. a file
    still being copied as ``.part-00000.jsonl``) and other suffixes are ignored.
    """
    found: dict[str, list[Any]] = {}
    for feed in LOADED_FEEDS:
        folder = fileio.join(landing, feed)
        names = [
            name for name in fileio.list_files(folder, storage_client)
            if name.endswith(LANDING_SUFFIXES)
            and not any(part.startswith(".") for part in name.split("/"))
        ]  # fmt: skip
        if fileio.is_gcs_uri(folder):
            found[feed] = [fileio.join(folder, name) for name in names]
        else:
            found[feed] = [Path(folder) / name for name in names]
    return found


def count_files(files_by_feed: dict[str, list[Path]]) -> int:
    return sum(len(paths) for paths in files_by_feed.values())


def stage_delivery(delivery_dir: Path, landing_dir: Path) -> list[Path]:
    """Copy one generated delivery (``<delivery>/<feed>/*.jsonl``) into the landing zone.

    Files are renamed ``<delivery name>-<file name>`` so that later deliveries sort after
    earlier ones; the copy is written under a hidden name and renamed, so a run never sees
    half a file.
    """
    staged: list[Path] = []
    for feed in LOADED_FEEDS:
        source = delivery_dir / feed
        if not source.is_dir():
            continue
        for path in sorted(p for p in source.glob("*") if p.name.endswith(LANDING_SUFFIXES)):
            target = landing_dir / feed / f"{delivery_dir.name}-{path.name}"
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.partial")
            shutil.copyfile(path, partial)
            partial.replace(target)
            staged.append(target)
    return staged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m main_image.landing", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    sample = commands.add_parser("sample", help="generate sample data, stage its first delivery")
    sample.add_argument("--landing-dir", type=Path, default=None)
    sample.add_argument("--sample-dir", type=Path, default=PROJECT_ROOT / "sample_data" / "airflow")
    sample.add_argument("--hotels", type=int, default=200)
    sample.add_argument("--seed", type=int, default=42)
    sample.add_argument("--deliveries", type=int, default=3)
    sample.add_argument("--if-empty", action="store_true",
                        help="do nothing when the landing zone already holds files")

    stage = commands.add_parser("stage", help="copy a generated delivery into the landing zone")
    stage.add_argument("--delivery", type=Path, required=True)
    stage.add_argument("--landing-dir", type=Path, default=None)

    show = commands.add_parser("list", help="list the landing files of every feed")
    show.add_argument("--landing-dir", type=Path, default=None)

    args = parser.parse_args(argv)
    landing_dir: Path = args.landing_dir or default_landing_dir()
    if args.command == "sample":
        existing = count_files(discover_files(landing_dir))
        if args.if_empty and existing:
            print(f"landing: {landing_dir} already holds {existing} files; nothing generated")
            return 0
        from main_image.dev.sample import write_sample  # dev tooling: only for this command

        pending = write_sample(landing_dir, args.sample_dir, args.hotels, args.seed,
                               args.deliveries)
        print(f"landing: staged the first delivery of {args.hotels} hotels into {landing_dir}")
        for delivery in pending:
            print(f"landing: next delivery: python -m main_image.landing stage "
                  f"--delivery {delivery} --landing-dir {landing_dir}")
        return 0
    if args.command == "stage":
        if not args.delivery.is_dir():
            print(f"landing: no such delivery folder: {args.delivery}", file=sys.stderr)
            return 2
        staged = stage_delivery(args.delivery, landing_dir)
        print(f"landing: staged {len(staged)} files into {landing_dir}")
        return 0
    for feed, paths in discover_files(landing_dir).items():
        for path in paths:
            print(f"{feed}\t{path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
