"""The `main-image` command line: argument errors are one line and exit 2; a run works."""

from __future__ import annotations

import json
import os
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


# --- errors a person can act on (contract §6 invariant 9, issue 10 item 5) ---------------------


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, list[str]]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip().splitlines()


@pytest.fixture
def images(tmp_path: Path) -> Path:
    path = tmp_path / "images.jsonl"
    path.write_text('{"hotel_id": 1, "image_id": 1000}\n', encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--as-of", ""], "--as-of must be a date YYYY-MM-DD, got ''"),
        (["--as-of", "20240701"], "--as-of must be a date YYYY-MM-DD, got '20240701'"),
        (["--as-of", "2024-7-1"], "--as-of must be a date YYYY-MM-DD, got '2024-7-1'"),
        (["--scoring-version", "v9"], "--scoring-version: unknown scoring version 'v9'"),
        (["--shadow-scoring-version", "v2 "], "--shadow-scoring-version: unknown scoring"),
        (["--tag-version-pin", "v4"], "--tag-version-pin must be a tag version"),
        (["--tag-version-pin", "v99999999999999999999-0-0"], "--tag-version-pin must be"),
        (["--obiq-version-pin", " "], "--obiq-version-pin must be a non-empty version"),
        (["--wait", "-1"], "--wait must be >= 0 seconds"),
        (["--database-url", "not a url"], "--database-url: not a SQLAlchemy URL"),
        (["--database-url", "mysql://db/main"], "--database-url: mysql is not supported"),
        (["--database-url", "sqlite:////dev/null/x/service.db"], "--database-url: cannot create"),
    ],
)
def test_unusable_arguments_are_one_line_exit_2_before_anything_is_landed(
    extra: list[str], expected: str, images: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    code, out, err = run_main(["run", "--images", str(images), "--warehouse", str(warehouse),
                               "--as-of", "2024-07-01", *extra], capsys)
    assert (code, out) == (2, "")
    assert len(err) == 1 and err[0].startswith("main-image: error: ") and expected in err[0], err
    assert not warehouse.exists() and not (tmp_path / "warehouse.duckdb.lock").exists()


def test_an_unwritable_output_is_exit_2_before_anything_is_landed(
    images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's example: the changes file was written, then the snapshot path failed."""
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    warehouse = tmp_path / "warehouse.duckdb"
    for flag, path in [("--output_snapshot", blocker / "snapshot.jsonl"),
                       ("--output_metrics", tmp_path)]:
        code, out, err = run_main(["run", "--images", str(images), "--warehouse", str(warehouse),
                                   "--as-of", "2024-07-01", "--output_cdc",
                                   str(tmp_path / "out" / "changes.jsonl"), flag, str(path)],
                                  capsys)
        assert (code, out, len(err)) == (2, "", 1), err
        assert err[0].startswith(f"main-image: error: {flag}: ") and str(path) in err[0]
    assert not warehouse.exists() and not (tmp_path / "out").exists()


def test_a_file_that_is_not_a_warehouse_is_exit_2_and_left_as_it_is(
    images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, content in [("notes.duckdb", b"not a database\n"), ("empty.duckdb", b"")]:
        warehouse = tmp_path / name
        warehouse.write_bytes(content)
        code, out, err = run_main(["run", "--images", str(images), "--warehouse", str(warehouse),
                                   "--as-of", "2024-07-01"], capsys)
        assert (code, out) == (2, "")
        assert err == [f"main-image: error: --warehouse: {warehouse} is not a DuckDB database file"]
        assert warehouse.read_bytes() == content


def test_an_unreadable_input_is_exit_2_naming_the_flag_and_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unreadable = Path("/proc/self/mem")  # a regular file whose first byte cannot be read (EIO)
    if os.geteuid() != 0:
        unreadable = tmp_path / "locked.jsonl"
        unreadable.write_text("{}\n", encoding="utf-8")
        unreadable.chmod(0)
    elif not unreadable.is_file():
        pytest.skip("no /proc/self/mem to stand for an unreadable file")
    code, out, err = run_main(["run", "--tags", str(unreadable), "--as-of", "2024-07-01",
                               "--warehouse", str(tmp_path / "w.duckdb")], capsys)
    assert (code, out, len(err)) == (2, "", 1), err
    assert err[0].startswith(f"main-image: error: --tags: cannot read {unreadable}: ")


def test_a_failed_run_is_one_line_exit_1_and_verbose_shows_the_traceback(
    images: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAIN_IMAGE_FAULT_AT", "landed:raise")
    argv = ["run", "--images", str(images), "--warehouse", str(tmp_path / "w.duckdb"),
            "--as-of", "2024-07-01", "--output_cdc", str(tmp_path / "out" / "changes.jsonl")]
    code, out, err = run_main(argv, capsys)
    assert (code, out) == (1, "")
    assert err[-1] == ("main-image: run failed: InjectedFault: fault injected at landed "
                       "(--verbose shows the traceback)")
    assert not any(line.startswith("Traceback") for line in err)
    code, out, err = run_main([*argv, "--verbose"], capsys)
    assert (code, out) == (1, "")
    assert "Traceback (most recent call last):" in err and err[-1].startswith("main-image: run")
    assert not (tmp_path / "out").exists(), "a failed run publishes nothing"


def test_dbt_log_never_goes_to_stdout(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """dbt prints its errors on stdout by default; stdout is the metrics' alone."""
    from main_image.dbt_runner import DbtError, run_dbt

    command = ["compile", "--inline", "select {{ undefined_macro_of_the_test() }}"]
    where = {"warehouse": tmp_path / "w.duckdb", "target": "duckdb"}
    with pytest.raises(DbtError, match="undefined_macro_of_the_test"):
        run_dbt(command, **where)
    captured = capfd.readouterr()
    assert captured.out == "" and "undefined_macro_of_the_test" not in captured.err
    with pytest.raises(DbtError):
        run_dbt(command, log=True, **where)
    captured = capfd.readouterr()
    assert captured.out == "" and "undefined_macro_of_the_test" in captured.err


def test_disk_full_is_one_line_exit_1(images: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """A warehouse on a 1 MB tmpfs (root only; skipped where mounting is not allowed)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                             capture_output=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        code, out, err = run_main(["run", "--images", str(images), "--as-of", "2024-07-01",
                                   "--warehouse", str(mount / "w.duckdb"),
                                   "--output_cdc", str(tmp_path / "out" / "changes.jsonl")],
                                  capsys)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)
    assert (code, out) == (1, "")
    assert err[-1].startswith("main-image: run failed: ") and "space" in err[-1].lower(), err[-3:]
    assert not (tmp_path / "out").exists()
