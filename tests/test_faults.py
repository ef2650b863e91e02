"""Fault injection (issue 10 item 4, contract §5 and invariants 6 and 8): a run stopped at every
stage boundary, then a healing run, publishes the same as an uninterrupted history.

The history: run 1 lands delivery 1; run 2 lands delivery 2. The reference does both without a
fault (once per module). Each case copies the warehouse and exports as they were after run 1,
makes run 2 fail at one point (``MAIN_IMAGE_FAULT_AT=<point>:raise``; ``dbt-partial`` builds
only the models up to the change log, as a worker that dies during dbt leaves it), then runs a
healing run with another run id, and compares what was published (the export folders whose
``metrics.json`` is in place) with the reference's run 2: the same change records, each once;
the same snapshot; metrics that sum to the reference's. The export points share one warehouse
stopped after run 2's dbt and publish from a copy of it. A real kill (``os._exit`` during dbt,
in a CLI process) and the lock of concurrent CLI runs are tested at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from main_image.dbt_runner import run_dbt
from main_image.dev.generate import GenerateConfig, generate
from main_image.engines import open_warehouse
from main_image.engines.duckdb import warehouse as duckdb_warehouse
from main_image.faults import ENV_VAR, InjectedFault
from main_image.landing import discover_files
from main_image.pipeline import OutputPaths, begin_attempt, publish, run_pipeline
from main_image.runs import RunParameters, dbt_variables
from main_image.settings import FEEDS

DELIVERY_2_FILES = 5  # the generator's second delivery of 6 hotels: one file per feed but one


@dataclass
class History:
    root: Path
    deliveries: list[dict[str, list[Path]]]
    as_of: list[date]
    after_run_1: Path  # the warehouse file after run 1
    selected: Path  # after run 2's attempt stopped at `selected` (dbt done, nothing published)
    reference: dict[str, Any]  # run 2's changes, snapshot and metrics without a fault


def outputs(folder: Path) -> OutputPaths:
    return OutputPaths(folder / "changes.jsonl", folder / "snapshot.jsonl", folder / "metrics.json")


def run(warehouse: Path, run_id: str, as_of: date, files: dict[str, list[Path]],
        folder: Path) -> Any:
    return run_pipeline(warehouse, RunParameters(run_id=run_id, as_of=as_of), files,
                        outputs(folder), dbt_command="run", reuse_manifest=True)


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.is_file() else []


def published(folders: list[Path]) -> dict[str, Any]:
    """What the folders whose metrics are in place published, together."""
    complete = [folder for folder in folders if (folder / "metrics.json").is_file()]
    metrics = [json.loads((folder / "metrics.json").read_text()) for folder in complete]
    return {
        "changes": Counter(line for folder in complete for line in lines(folder / "changes.jsonl")),
        "snapshot": sorted(lines(complete[-1] / "snapshot.jsonl")) if complete else None,
        "images_processed": sum(m["images_processed"] for m in metrics),
        "main_images": Counter({k: sum(m["main_images"][k] for m in metrics)
                                for k in ("new", "updated", "deleted")}),
        "rejected_records": Counter({feed: sum(m["rejected_records"][feed] for m in metrics)
                                     for feed in FEEDS}),
        "hotels_with_images": metrics[-1]["hotels_with_images"] if metrics else None,
    }


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    root = tmp_path_factory.mktemp("faults")
    generated = generate(GenerateConfig(hotels=6, deliveries=2, change_fraction=0.5,
                                        malformed_rate=0.02, seed=7), root / "generated")
    deliveries = [discover_files(path) for path in generated.deliveries]
    assert sum(len(files) for files in deliveries[1].values()) == DELIVERY_2_FILES
    warehouse = root / "reference" / "warehouse.duckdb"
    run(warehouse, "run-1", generated.as_of_dates[0], deliveries[0], root / "reference" / "run-1")
    after_run_1 = root / "after-run-1.duckdb"
    shutil.copyfile(warehouse, after_run_1)
    run(warehouse, "run-2", generated.as_of_dates[1], deliveries[1], root / "reference" / "run-2")
    reference = published([root / "reference" / "run-2"])
    assert reference["changes"] and reference["images_processed"] > 0
    assert sum(reference["rejected_records"].values()) > 0
    selected = root / "selected.duckdb"
    shutil.copyfile(after_run_1, selected)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ENV_VAR, "selected:raise")
        with pytest.raises(InjectedFault):
            run(selected, "run-2", generated.as_of_dates[1], deliveries[1], root / "unused")
    return History(root, deliveries, generated.as_of_dates, after_run_1, selected, reference)


def die_during_dbt(warehouse: Path, params: RunParameters,
                   files: dict[str, list[Path]]) -> None:
    """Land, then build only up to the change log: what a worker killed during dbt leaves."""
    seq, _ = begin_attempt(warehouse, params, files)
    run_dbt(["run", "--select", "+fct_main_image_changes"], variables=dbt_variables(params, seq),
            warehouse=warehouse, target="duckdb", reuse_manifest=True)


FAULT_POINTS = [
    "land-1",
    f"land-{DELIVERY_2_FILES}",
    "landed",
    "dbt-partial",
    "selected",
    "export-written-changes",
    "export-written-snapshot",
    "export-written-metrics",
    "export-renamed-changes",
    "export-renamed-snapshot",
    "export-renamed-metrics",
]


@pytest.mark.parametrize("point", FAULT_POINTS)
def test_a_run_stopped_at_any_point_is_healed_by_the_next(
    point: str, history: History, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    exporting = point.startswith("export-")
    # `selected` is the shared state after run 2's dbt, where the export points start from
    stopped_after_dbt = exporting or point == "selected"
    shutil.copyfile(history.selected if stopped_after_dbt else history.after_run_1, warehouse)
    files, as_of = history.deliveries[1], history.as_of[1]
    failed, healing = tmp_path / "run-2", tmp_path / "run-2-healing"
    if point == "selected":
        pass  # the module fixture stopped run 2 there
    elif point == "dbt-partial":
        die_during_dbt(warehouse, RunParameters(run_id="run-2", as_of=as_of), files)
    else:
        monkeypatch.setenv(ENV_VAR, f"{point}:raise")
        with pytest.raises(InjectedFault):
            if exporting:
                with open_warehouse(warehouse, None) as wh:
                    publish(wh, "run-2", 2, outputs(failed))
            else:
                run(warehouse, "run-2", as_of, files, failed)
        monkeypatch.delenv(ENV_VAR)
    # the healing run: a new run id, the same files offered again (those landed are skipped)
    run(warehouse, "run-2-healing", as_of, files, healing)
    got = published([failed, healing])
    assert got == history.reference, point
    if point == "export-renamed-metrics":  # the interrupted run had published: nothing repeated
        assert lines(healing / "changes.jsonl") == []
    with duckdb_warehouse.connect(warehouse, read_only=True) as con:
        unexported = con.execute(
            "select count(*) from raw.pipeline_runs where exported_at is null and "
            "selection_completed_at is not null and run_id = 'run-2-healing'").fetchone()
    assert unexported == (0,)


def cli(*args: str, env: dict[str, str] | None = None, **popen: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "main_image.cli", "run", *args],
        cwd=REPO, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={"PYTHONPATH": str(REPO / "plugins"), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
             **(env or {})},
        **popen,
    )


def file_flags(files: dict[str, list[Path]]) -> list[str]:
    flags = {"images": "--images", "image_tags": "--tags", "obiq_scores": "--obiq",
             "main_images": "--main-images", "admin_overrides": "--overrides",
             "user_events": "--user-events"}
    return [arg for feed, paths in files.items() for path in paths
            for arg in (flags[feed], str(path))]


def test_a_run_killed_during_dbt_is_counted_by_the_healing_run(
    history: History, tmp_path: Path
) -> None:
    """The issue's example: after a CLI run killed (os._exit) in the middle of dbt, the healing
    run's metrics counted nothing (`images_processed: 0`)."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(history.after_run_1, warehouse)
    files, as_of = history.deliveries[1], history.as_of[1]
    killed = cli(*file_flags(files), "--as-of", as_of.isoformat(), "--warehouse", str(warehouse),
                 "--run-id", "run-2", *_outputs_flags(tmp_path / "run-2"),
                 env={ENV_VAR: "dbt-25"})
    _, stderr = killed.communicate(timeout=600)
    assert killed.returncode == 137, stderr[-2000:]
    assert "fault injected at dbt-25" in stderr
    assert not (tmp_path / "run-2" / "metrics.json").exists()
    run(warehouse, "run-2-healing", as_of, files, tmp_path / "run-2-healing")
    assert published([tmp_path / "run-2", tmp_path / "run-2-healing"]) == history.reference


def _outputs_flags(folder: Path) -> list[str]:
    return ["--output-cdc", str(folder / "changes.jsonl"), "--output-snapshot",
            str(folder / "snapshot.jsonl"), "--output-metrics", str(folder / "metrics.json")]


def _wait_for(process: subprocess.Popen[str], text: str, timeout: float = 120) -> None:
    assert process.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if text in line:
            return
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"never saw {text!r}")


def test_a_second_run_never_lands_into_the_first_runs_attempt(
    history: History, tmp_path: Path
) -> None:
    """The issue's example: the second run landed its files while the first was between landing
    and dbt. Now it waits for the lock (--wait) or exits 2 naming the run in flight; when it
    gets the lock it lands into an attempt of its own."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(history.after_run_1, warehouse)
    first = cli(*file_flags(history.deliveries[1]), "--as-of", "2024-07-02", "--warehouse",
                str(warehouse), "--run-id", "first", *_outputs_flags(tmp_path / "first"),
                env={ENV_VAR: "landed:pause=120"})
    try:
        _wait_for(first, "fault injected at landed")
        images = tmp_path / "late" / "images.jsonl"
        images.parent.mkdir()
        images.write_text('{"hotel_id": 1, "image_id": 99999}\n', encoding="utf-8")
        common = ["--images", str(images), "--as-of", "2024-07-02", "--warehouse", str(warehouse),
                  *_outputs_flags(tmp_path / "second")]
        gave_up = cli(*common, "--run-id", "second", "--wait", "0.5")
        out, err = gave_up.communicate(timeout=120)
        assert gave_up.returncode == 2 and out == ""
        assert err.strip().splitlines() == [err.strip()] and "run first" in err, err
        waiting = cli(*common, "--run-id", "third", "--wait", "120", env={ENV_VAR: "landed"})
        time.sleep(1.0)
        assert waiting.poll() is None, "the third run must wait for the lock"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    _, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 137, err[-2000:]
    with duckdb_warehouse.connect(warehouse, read_only=True) as con:
        attempts = con.execute("select invocation_seq, run_id from raw.pipeline_runs "
                               "where invocation_seq > 1 order by 1").fetchall()
        landed = con.execute("select run_id, invocation_seq, count(*) from raw.load_manifest "
                             "where invocation_seq > 1 group by all order by 2").fetchall()
    assert attempts == [(2, "first"), (3, "third")]
    assert landed == [("first", 2, DELIVERY_2_FILES), ("third", 3, 1)]


def test_a_pin_that_matches_no_version_in_the_data_gives_a_warning(history: History) -> None:
    """The issue's example: a tag-version pin that matches nothing was accepted without a word."""
    from main_image.cli_checks import unmatched_pins

    warehouse = history.root / "reference" / "warehouse.duckdb"
    with duckdb_warehouse.connect(warehouse, read_only=True) as con:
        tag_version, obiq_version = con.execute(
            "select (select max(tag_version) from staging.stg_image_tags "
            "where rejection_reason is null), (select max(obiq_version) from "
            "staging.stg_obiq_scores where rejection_reason is null)").fetchone()
    assert unmatched_pins(warehouse, tag_version, obiq_version) == []
    warnings = unmatched_pins(warehouse, "v9-9-9", "no-such-obiq-version")
    assert len(warnings) == 2
    assert warnings[0].startswith("--tag-version-pin v9-9-9 matches no tag record")
    assert warnings[1].startswith("--obiq-version-pin no-such-obiq-version matches no obiq score")


# --- the same faults in the Airflow tasks (tests/dag_driver.py drives the task functions) ------


@pytest.fixture(scope="module")
def dag_reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Runs A and B as the DAG runs them, without a fault; the warehouse after A is kept."""
    from dag_driver import config_from, run_like_the_dag
    from test_publish import RUNS, export_bytes, write_delivery

    work = tmp_path_factory.mktemp("dag-faults")
    with pytest.MonkeyPatch.context() as monkeypatch:
        config = dag_config(monkeypatch, config_from, work)
        for run_id in RUNS:
            write_delivery(config.landing_dir, run_id)
        run_like_the_dag(config, "A", RUNS["A"], tests=False)
        shutil.copyfile(config.warehouse, work / "after-A.duckdb")
        run_like_the_dag(config, "B", RUNS["B"], tests=False)
        folders = {run_id: Path(config.export_location(run_id)) for run_id in RUNS}
        return {"work": work, "bytes": {run_id: export_bytes(folders[run_id]) for run_id in RUNS}}


def dag_config(monkeypatch: pytest.MonkeyPatch, config_from: Any, work: Path) -> Any:
    return config_from(monkeypatch, {
        "MAIN_IMAGE_WAREHOUSE": str(work / "warehouse.duckdb"),
        "MAIN_IMAGE_LANDING_DIR": str(work / "landing"),
        "MAIN_IMAGE_EXPORTS_DIR": str(work / "exports"),
    })  # fmt: skip


@pytest.mark.parametrize("point", ["land-1", "export-renamed-metrics"])
def test_an_airflow_task_stopped_at_a_point_is_healed_by_the_retry(
    point: str, dag_reference: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The land or publish task dies; Airflow retries the run (a new attempt of run B): B's
    export folder ends byte-identical to the uninterrupted history's."""
    from dag_driver import config_from, run_like_the_dag
    from test_publish import RUNS, export_bytes

    shutil.copytree(dag_reference["work"] / "landing", tmp_path / "landing")
    shutil.copytree(dag_reference["work"] / "exports", tmp_path / "exports",
                    ignore=shutil.ignore_patterns("B"))
    config = dag_config(monkeypatch, config_from, tmp_path)
    shutil.copyfile(dag_reference["work"] / "after-A.duckdb", config.warehouse)
    monkeypatch.setenv(ENV_VAR, f"{point}:raise")
    with pytest.raises(InjectedFault):
        run_like_the_dag(config, "B", RUNS["B"], tests=False)
    monkeypatch.delenv(ENV_VAR)
    retry = run_like_the_dag(config, "B", RUNS["B"], tests=False)
    assert export_bytes(Path(config.export_location("B"))) == dag_reference["bytes"]["B"]
    with config.open_warehouse(read_only=True) as wh:
        assert wh.scalar("select count(*) from raw.pipeline_runs where exported_at is null "
                         "and invocation_seq < ?", [retry.registration["invocation_seq"]]) == (
            1 if point == "land-1" else 0)
