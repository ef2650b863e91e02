"""One run at a time per warehouse (contract §5, issue 10 item 3): the CLI holds an exclusive lock
for the whole attempt; a second run waits up to --wait SECONDS, then exits 2 with one line
naming the run in flight, before anything is landed."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from main_image.cli import main
from main_image.locking import WarehouseBusy, exclusive_run


def test_a_second_run_waits_then_exits_2_naming_the_run_in_flight(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    images = tmp_path / "images.jsonl"
    images.write_text("{}\n", encoding="utf-8")
    with exclusive_run(warehouse, "scheduled__2024-07-01", wait_seconds=0):
        started = time.monotonic()
        code = main(["run", "--images", str(images), "--warehouse", str(warehouse),
                     "--as-of", "2024-07-01", "--wait", "0.5", "--run-id", "second"])
        waited = time.monotonic() - started
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "scheduled__2024-07-01" in err[0] and "--wait" in err[0]
    assert 0.5 <= waited < 30
    assert not warehouse.exists(), "nothing may be landed by the run that gave up"


def test_the_lock_is_released_after_the_block_and_when_its_holder_dies(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    with (
        exclusive_run(warehouse, "first", wait_seconds=0),
        pytest.raises(WarehouseBusy, match="first"),
        exclusive_run(warehouse, "second", wait_seconds=0),
    ):
        pass
    with exclusive_run(warehouse, "third", wait_seconds=0):
        pass
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from main_image.locking import "
         "exclusive_run\nwith exclusive_run(Path(sys.argv[1]), 'killed', 0):\n"
         "    print('held', flush=True); time.sleep(60)", str(warehouse)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with (
            pytest.raises(WarehouseBusy, match="killed"),
            exclusive_run(warehouse, "blocked", wait_seconds=0.2),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()
    with exclusive_run(warehouse, "after-the-kill", wait_seconds=5):
        pass
