"""`airflow dags test main_image_pipeline` end to end on generated data (make test-airflow).

One throwaway Airflow (AIRFLOW_HOME with SQLite), warehouse, landing zone and exports folder for
the whole module; the tests run in order and build on each other:

1. delivery 1 lands, `airflow dags test` for 2024-07-01: the exports have the contract §5 shapes and
   the snapshot equals what `main-image run` computes on the same files in a fresh warehouse;
2. the same Airflow run (same run id) is cleared and run again: nothing changes;
3. deliveries 2 and 3 land (no run on 2024-07-02: days without runs), the 2024-07-03 run crashes
   after the change log was appended and before the snapshot (MAIN_IMAGE_FAIL_TASKS), then the
   run is cleared and re-run: the snapshot equals one fresh computation over all inputs, no change
   record is duplicated or lost (replaying the exported changes gives the snapshot).

A "re-run of the same run" uses `DAG.test(logical_date, run_after)` with the run's own run_after:
it deletes and recreates the Airflow run with the same run id, i.e. clears it.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import airflow_env, serving_feed, serving_main_images
from main_image import landing, orchestration
from main_image.settings import FEEDS

pytestmark = [pytest.mark.airflow, pytest.mark.timeout(3000)]

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DAG_ID = orchestration.PIPELINE_DAG_ID
DAY1, DAY3 = date(2024, 7, 1), date(2024, 7, 3)
#: the stage that builds the snapshot: after fct_main_image_changes, before anything is published
CRASH_BEFORE = "dbt.outputs"
#: warnings `airflow dags test` itself logs (the CLI, not a task): it imports graphviz to offer
#: rendering the graph; no task of the DAG logs them
CLI_ONLY_WARNINGS = ("Could not import graphviz", "Run `pip install graphviz`")
METRIC_KEYS = {"run_id", "as_of", "images_processed", "hotels_with_images", "main_images",
               "rejected_records"}

RERUN = r"""
import sys
from datetime import datetime
from airflow.dag_processing.dagbag import DagBag
dag_folder, dag_id, logical_date, run_after = sys.argv[1:5]
dag = DagBag(dag_folder=dag_folder).dags[dag_id]
run = dag.test(logical_date=datetime.fromisoformat(logical_date),
               run_after=datetime.fromisoformat(run_after))
print("RERUN", run.run_id, run.state)
sys.exit(0 if run.state == "success" else 1)
"""

REFERENCE = r"""
import json, sys
from main_image.cli import main
for args in json.loads(sys.argv[1]):
    assert main(args) == 0, args
"""


@dataclass
class E2E:
    root: Path
    env: dict[str, str]
    generated: list[Path]
    references: dict[str, list[str]]  # name -> `main-image` CLI arguments
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: list[Path] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def warehouse(self) -> Path:
        return Path(self.env["MAIN_IMAGE_WAREHOUSE"])

    @property
    def landing(self) -> Path:
        return Path(self.env["MAIN_IMAGE_LANDING_DIR"])

    @property
    def exports(self) -> Path:
        return Path(self.env["MAIN_IMAGE_EXPORTS_DIR"])

    def run(self, name: str, command: list[str], extra_env: dict[str, str] | None = None,
            timeout: int = 1500) -> subprocess.CompletedProcess[str]:
        log = self.root / "logs" / f"{len(self.logs) + 1:02d}-{name}.log"
        log.parent.mkdir(exist_ok=True)
        self.logs.append(log)
        started = time.perf_counter()
        with log.open("w") as handle:
            result = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, text=True,
                                    env={**self.env, **(extra_env or {})}, cwd=REPO,
                                    timeout=timeout)
        print(f"{name}: exit {result.returncode} in {time.perf_counter() - started:.0f}s ({log})")
        return result

    def tail(self) -> str:
        return self.logs[-1].read_text(errors="replace")[-6000:] if self.logs else ""

    def dags_test(self, day: date, name: str, extra_env: dict[str, str] | None = None) -> int:
        """`airflow dags test main_image_pipeline <day>`: a new Airflow run for that date."""
        command = [str(BIN / "airflow"), "dags", "test", DAG_ID, day.isoformat()]
        return self.run(name, command, extra_env).returncode

    def rerun(self, run_id: str, name: str) -> int:
        """Clear the Airflow run `run_id` and run it again (same run id)."""
        logical_date, run_after = self.airflow_db(
            "select logical_date, run_after from dag_run where dag_id = ? and run_id = ?",
            [DAG_ID, run_id])[0]
        as_utc = [datetime.fromisoformat(v).replace(tzinfo=UTC).isoformat()
                  for v in (logical_date, run_after)]
        command = [sys.executable, "-c", RERUN, str(REPO / "dags"), DAG_ID, *as_utc]
        return self.run(name, command).returncode

    def airflow_db(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with sqlite3.connect(Path(self.env["AIRFLOW_HOME"]) / "airflow.db") as con:
            return con.execute(sql, params or []).fetchall()

    def run_id_of(self, day: date) -> str:
        rows = self.airflow_db(
            "select run_id from dag_run where dag_id = ? and date(logical_date) = ?",
            [DAG_ID, day.isoformat()])
        assert len(rows) == 1, rows
        return str(rows[0][0])

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def export(self, run_id: str, name: str) -> Path:
        return orchestration.export_dir(self.exports, run_id) / name

    def start_reference(self, name: str) -> None:
        """`main-image run` on the same files in a fresh warehouse, in the background."""
        with (self.root / f"{name}.log").open("w") as log:
            self.running[name] = subprocess.Popen(
                [sys.executable, "-c", REFERENCE, json.dumps([self.references[name]])],
                stdout=log, stderr=subprocess.STDOUT, cwd=REPO,
                # its own warehouse, and not the DAG's serving copy
                env={k: v for k, v in self.env.items() if k != "MAIN_IMAGE_DATABASE_URL"},
            )

    def reference_snapshot(self, name: str) -> list[dict[str, Any]]:
        if name not in self.running:
            self.start_reference(name)
        code = self.running[name].wait(timeout=600)
        assert code == 0, (self.root / f"{name}.log").read_text()[-6000:]
        return read_jsonl(self.root / name / "snapshot.jsonl")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def as_map(records: list[dict[str, Any]]) -> dict[int, tuple[int, str]]:
    """Main images by hotel (a snapshot export); a hotel appears once."""
    result: dict[int, tuple[int, str]] = {}
    for record in records:
        hotel = record["key"]["hotel_id"]
        assert hotel not in result, f"hotel {hotel} twice"
        assert record["value"] is not None
        result[hotel] = (record["value"]["image_id"], record["value"]["cdn_url"])
    return result


def replay(state: dict[int, tuple[int, str]], changes: list[dict[str, Any]]
           ) -> dict[int, tuple[int, str]]:
    """Apply change records (contract §5 shape) in order."""
    state = dict(state)
    for record in changes:
        hotel, value = record["key"]["hotel_id"], record["value"]
        if value is None:
            assert hotel in state, f"delete of hotel {hotel} that has no main image"
            del state[hotel]
        else:
            state[hotel] = (value["image_id"], value["cdn_url"])
    return state


def assert_export_shapes(e2e: E2E, run_id: str, as_of: date) -> dict[str, Any]:
    changes = read_jsonl(e2e.export(run_id, "changes.jsonl"))
    snapshot = read_jsonl(e2e.export(run_id, "snapshot.jsonl"))
    metrics = json.loads(e2e.export(run_id, "metrics.json").read_text())
    for record in changes + snapshot:
        assert set(record) == {"key", "value"} and set(record["key"]) == {"hotel_id"}
        assert isinstance(record["key"]["hotel_id"], int)
        if record["value"] is not None:
            assert set(record["value"]) == {"image_id", "cdn_url"}
            assert isinstance(record["value"]["image_id"], int)
            assert record["value"]["cdn_url"].startswith(("http://", "https://"))
    as_map(snapshot)  # one main image per hotel, no null
    assert set(metrics) >= METRIC_KEYS
    assert (metrics["run_id"], metrics["as_of"]) == (run_id, as_of.isoformat())
    assert set(metrics["main_images"]) == {"new", "updated", "deleted"}
    assert set(metrics["rejected_records"]) == set(FEEDS)
    assert sum(metrics["main_images"].values()) == len(changes)
    assert metrics["main_images"]["deleted"] == sum(r["value"] is None for r in changes)
    assert metrics["images_processed"] > 0 and metrics["hotels_with_images"] == len(
        {hotel for (hotel,) in e2e.query(
            "select distinct hotel_id from staging.int_images_latest where is_active")})
    table = e2e.query("select hotel_id, image_id, cdn_url from marts.fct_main_image_snapshot")
    assert as_map(snapshot) == {hotel: (image, url) for hotel, image, url in table}
    return {"changes": changes, "snapshot": snapshot, "metrics": metrics}


def initial_main_images(e2e: E2E) -> dict[int, tuple[int, str]]:
    """The frontend's main images before the pipeline ran (valid main_images feed records)."""
    rows = e2e.query("""
        select hotel_id, image_id, cdn_url from staging.stg_main_images
        where rejection_reason is null order by file_seq, line_number""")
    state: dict[int, tuple[int, str]] = {}
    for hotel, image, url in rows:
        if image is None:
            state.pop(hotel, None)
        else:
            state[hotel] = (image, url)
    return state


def cli_args(files: dict[str, list[Path]], as_of: date, out: Path, run_id: str) -> list[str]:
    flags = {feed: flag for flag, feed in
             {"images": "images", "tags": "image_tags", "obiq": "obiq_scores",
              "main_images": "main_images", "overrides": "admin_overrides",
              "user_events": "user_events"}.items()}
    args = ["run", "--as-of", as_of.isoformat(), "--run-id", run_id,
            "--warehouse", str(out / "warehouse.duckdb"),
            "--output_cdc", str(out / "changes.jsonl"),
            "--output_snapshot", str(out / "snapshot.jsonl"),
            "--output_metrics", str(out / "metrics.json")]
    for feed, paths in files.items():
        for path in paths:
            args += [f"--{flags[feed]}", str(path)]
    return args


@pytest.fixture(scope="module")
def e2e(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2E]:
    from main_image.dev.generate import GenerateConfig, generate

    root = tmp_path_factory.mktemp("airflow_e2e")
    generated = generate(
        GenerateConfig(hotels=60, seed=11, deliveries=3, change_fraction=0.25), root / "generated"
    ).deliveries
    env = airflow_env(
        root,
        MAIN_IMAGE_WAREHOUSE=str(root / "warehouse" / "main_image.duckdb"),
        MAIN_IMAGE_LANDING_DIR=str(root / "landing"),
        MAIN_IMAGE_EXPORTS_DIR=str(root / "exports"),
        MAIN_IMAGE_DBT_MANIFEST=str(root / "dbt_target" / "manifest.json"),
        MAIN_IMAGE_RETRIES="0",  # a failure fails the run at once (no retry delay)
        MAIN_IMAGE_DATABASE_URL=f"sqlite:///{root / 'service.db'}",  # the serving copy
    )

    # The reference: `main-image run` in fresh warehouses, in the background meanwhile.
    def files_of(deliveries: list[Path]) -> dict[str, list[Path]]:
        return {feed: sorted(p for d in deliveries for p in (d / feed).glob("*.jsonl"))
                for feed in FEEDS}

    references = {
        "reference-day1": cli_args(files_of(generated[:1]), DAY1, root / "reference-day1",
                                   "reference-day1"),
        "reference-day3": cli_args(files_of(generated), DAY3, root / "reference-day3",
                                   "reference-day3"),
    }
    e2e = E2E(root, env, generated, references)
    e2e.start_reference("reference-day1")  # runs meanwhile
    try:
        parse = subprocess.Popen(
            [*orchestration.dbt_parse_command(BIN / "dbt"), "--target-path",
             str(root / "dbt_target")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=REPO,
        )
        assert e2e.run("db-migrate", [str(BIN / "airflow"), "db", "migrate"]).returncode == 0
        pool = [str(BIN / "airflow"), "pools", "set", orchestration.DEFAULT_POOL, "1",
                "The DuckDB warehouse: one writing task at a time"]
        assert e2e.run("pool", pool).returncode == 0, e2e.tail()
        _, parse_errors = parse.communicate(timeout=300)
        assert parse.returncode == 0, parse_errors
        yield e2e
    finally:
        for process in e2e.running.values():
            if process.poll() is None:
                process.kill()
                process.wait()


def noise(log_text: str) -> list[str]:
    """The lines of a run's log a user could not act on: warnings, deprecations, OpenLineage
    hints, short-key notices (the CLI's own warnings aside)."""
    found = []
    for line in log_text.splitlines():
        lowered = line.lower()
        if any(marker in line for marker in CLI_ONLY_WARNINGS):
            continue
        lineage_hint = "openlineage" in lowered and ("install" in lowered or "not found" in lowered)
        if "[warning" in lowered or "deprecat" in lowered or "hmac" in lowered or lineage_hint:
            found.append(line[:300])
    return found


def test_dags_test_exports_the_first_delivery(e2e: E2E) -> None:
    landing.stage_delivery(e2e.generated[0], e2e.landing)
    assert e2e.dags_test(DAY1, "day1") == 0, e2e.tail()

    # a quiet log: nothing the project could avoid; what a user looks for is there
    log_text = e2e.logs[-1].read_text(errors="replace")
    assert noise(log_text) == []
    assert "dbt source freshness: 5 sources checked, 0 late" in log_text
    for stage in ("staging", "selection", "outputs"):
        assert f"dbt.{stage}: " in log_text, stage
    assert "model.main_image.fct_main_image_changes" in log_text  # the per-model table

    run_id = e2e.run_id_of(DAY1)
    e2e.state["day1"] = run_id
    outputs = assert_export_shapes(e2e, run_id, DAY1)
    assert outputs["changes"], "the first run publishes the initial selection"
    assert e2e.query("select run_id, selection_completed_at is not null, exported_at is not null "
                     "from raw.pipeline_runs") == [(run_id, True, True)]

    # the same as the CLI on the same files in a fresh warehouse
    assert as_map(outputs["snapshot"]) == as_map(e2e.reference_snapshot("reference-day1"))
    expected = replay(initial_main_images(e2e),
                      read_jsonl(e2e.root / "reference-day1" / "changes.jsonl"))
    assert replay(initial_main_images(e2e), outputs["changes"]) == expected
    # the publish task also wrote the image service's serving copy
    serving = f"sqlite:///{e2e.root / 'service.db'}"
    assert serving_feed(serving) == outputs["changes"]
    assert serving_main_images(serving) == as_map(outputs["snapshot"])
    e2e.start_reference("reference-day3")  # needed by the last test; runs meanwhile

    # the export assets were updated, each event naming its file
    events = e2e.airflow_db(
        "select a.uri, e.extra from asset_event e join asset a on a.id = e.asset_id")
    assert sorted(uri for uri, _ in events) == sorted(
        f"main_image://exports/{name}" for name in orchestration.ASSET_NAMES)
    for _, extra in events:
        extra = json.loads(extra)
        assert extra["run_id"] == run_id and Path(extra["path"]).is_file()


def test_clearing_and_rerunning_a_finished_run_changes_nothing(e2e: E2E) -> None:
    run_id = e2e.state["day1"]
    files = {name: e2e.export(run_id, name).read_bytes()
             for name in ("changes.jsonl", "snapshot.jsonl", "metrics.json")}
    change_rows = e2e.query("select count(*) from marts.fct_main_image_changes")[0][0]
    snapshot = e2e.query("select * from marts.fct_main_image_snapshot order by hotel_id")

    assert e2e.rerun(run_id, "day1-rerun") == 0, e2e.tail()

    assert e2e.run_id_of(DAY1) == run_id
    assert e2e.query("select count(*) from marts.fct_main_image_changes")[0][0] == change_rows
    assert e2e.query("select * from marts.fct_main_image_snapshot order by hotel_id") == snapshot
    for name, content in files.items():
        assert e2e.export(run_id, name).read_bytes() == content, name
    attempts = e2e.query("select invocation_seq, exported_at is not null from raw.pipeline_runs "
                         "where run_id = ? order by 1", [run_id])
    assert [exported for _, exported in attempts] == [True, True]  # a new attempt, same run
    # nor does the serving copy: the change feed still holds the run's changes once
    serving_changes = serving_feed(f"sqlite:///{e2e.root / 'service.db'}")
    assert serving_changes == read_jsonl(e2e.export(run_id, "changes.jsonl"))


def test_crash_mid_run_then_rerun_converges(e2e: E2E) -> None:
    # two more deliveries, and no run on 2024-07-02
    for delivery in e2e.generated[1:]:
        landing.stage_delivery(delivery, e2e.landing)

    crashed = e2e.dags_test(DAY3, "day3-crash", {"MAIN_IMAGE_FAIL_TASKS": CRASH_BEFORE})
    assert crashed != 0, e2e.tail()
    assert "fault injection" in e2e.tail() or "fault injection" in e2e.logs[-1].read_text()
    run_id = e2e.run_id_of(DAY3)
    [(crashed_seq, completed, exported)] = e2e.query(
        "select invocation_seq, selection_completed_at is not null, exported_at is not null "
        "from raw.pipeline_runs where run_id = ?", [run_id])
    assert (completed, exported) == (False, False)
    crashed_changes = e2e.query(
        "select hotel_id from marts.fct_main_image_changes where invocation_seq = ?",
        [crashed_seq])
    assert crashed_changes, "the crash should come after the change log was appended"
    assert not e2e.export(run_id, "metrics.json").exists()  # nothing published

    assert e2e.rerun(run_id, "day3-rerun") == 0, e2e.tail()

    attempts = e2e.query(
        "select selection_completed_at is not null, exported_at is not null "
        "from raw.pipeline_runs where run_id = ? order by invocation_seq", [run_id])
    assert attempts == [(False, False), (True, True)]
    outputs = assert_export_shapes(e2e, run_id, DAY3)

    # converged: the snapshot of one fresh computation over every input, as of 2024-07-03
    assert as_map(outputs["snapshot"]) == as_map(e2e.reference_snapshot("reference-day3"))

    # no change record duplicated ...
    assert e2e.query("""
        select invocation_seq, hotel_id from marts.fct_main_image_changes
        group by all having count(*) > 1""") == []
    # ... or lost: the crashed attempt's changes are published with the re-run ...
    published_hotels = {record["key"]["hotel_id"] for record in outputs["changes"]}
    assert {hotel for (hotel,) in crashed_changes} <= published_hotels
    # ... and replaying every exported change file in run order gives the snapshot
    day1_changes = read_jsonl(e2e.export(e2e.state["day1"], "changes.jsonl"))
    replayed = replay(replay(initial_main_images(e2e), day1_changes), outputs["changes"])
    assert replayed == as_map(outputs["snapshot"])
    # the change log replays to the snapshot table too (contract §6.4)
    log_rows = e2e.query("""
        select hotel_id, image_id, cdn_url from marts.fct_main_image_changes
        order by invocation_seq, hotel_id""")
    log_changes = [{"key": {"hotel_id": h}, "value": None if i is None else
                    {"image_id": i, "cdn_url": u}} for h, i, u in log_rows]
    assert replay(initial_main_images(e2e), log_changes) == as_map(outputs["snapshot"])
