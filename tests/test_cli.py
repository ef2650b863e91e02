"""The `main-image` command line: argument errors are one line and exit 2; a run works."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from main_image.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "main_image.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO / "plugins"), "PATH": "/usr/bin:/bin"},
        timeout=600,
    )


def test_missing_input_file_is_one_line_and_exit_2(tmp_path: Path, capsys) -> None:
    code = main(["run", "--images", str(tmp_path / "nope.jsonl"), "--as-of", "2024-07-03"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"main-image: error: --images: no such file: {tmp_path / 'nope.jsonl'}"]


def test_glob_matching_nothing_is_an_error(tmp_path: Path, capsys) -> None:
    code = main(["run", "--tags", str(tmp_path / "*.jsonl"), "--as-of", "2024-07-03"])
    assert code == 2
    assert "no file matches" in capsys.readouterr().err


def test_bad_date_is_an_error(capsys) -> None:
    assert main(["run", "--as-of", "2024-13-40"]) == 2
    assert capsys.readouterr().err.strip() == (
        "main-image: error: --as-of must be a date YYYY-MM-DD, got '2024-13-40'"
    )


def test_run_writes_the_three_outputs(conformance_dir: Path, tmp_path: Path) -> None:
    """The original task's invocation, through a real process (a fresh dbt parse)."""
    out = tmp_path / "out" / "nested"
    completed = run_cli(
        "run",
        "--images", str(conformance_dir / "images.jsonl"),
        "--tags", str(conformance_dir / "image_tags.jsonl"),
        "--main_images", str(conformance_dir / "main_images.jsonl"),
        "--output_cdc", str(out / "cdc.jsonl"),
        "--output_snapshot", str(out / "snapshot.jsonl"),
        "--output_metrics", str(out / "metrics.json"),
        "--as-of", "2024-07-03",
        "--warehouse", str(tmp_path / "warehouse.duckdb"),
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-2000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["main_images"] == {"new": 3, "updated": 7, "deleted": 4}
    assert json.loads(completed.stdout.strip().splitlines()[-1]) == metrics
    assert len((out / "cdc.jsonl").read_text().splitlines()) == 14
    assert len((out / "snapshot.jsonl").read_text().splitlines()) == 10
    assert "land images: images.jsonl -> 1,107 lines" in completed.stderr


@pytest.mark.parametrize("flag", ["--images", "--tags", "--obiq", "--overrides", "--user-events"])
def test_every_feed_flag_is_accepted(flag: str, tmp_path: Path, capsys) -> None:
    missing = str(tmp_path / "missing.jsonl")
    assert main(["run", flag, missing]) == 2
    assert "no such file" in capsys.readouterr().err
