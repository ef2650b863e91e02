"""The Airflow DAGs without running them: DagBag integrity and import time (a subprocess with a
throwaway AIRFLOW_HOME), plus the orchestration and landing helpers the tasks call."""

from __future__ import annotations

import enum
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml
from conftest import airflow_env
from main_image import landing, orchestration
from main_image.airflow_tasks import consumer, dbt_stages, freshness
from main_image.engines.duckdb.warehouse import DuckDBWarehouse
from main_image.runs import RUN_VARIABLES, RunParameters
from main_image.settings import FEEDS, LOADED_FEEDS

REPO = Path(__file__).resolve().parents[1]
DBT_PROJECT = REPO / "dbt_project"
BIN = Path(sys.executable).parent
DAG_IDS = {"main_image_pipeline", "main_image_full_rebuild", "main_image_export_consumer",
           "main_image_stream_drain"}
RUN_VARS = RUN_VARIABLES  # the dbt project must declare them, Cosmos must render them

PROBE = r"""
import json, os, sys, time
started = time.perf_counter()
from airflow.dag_processing.dagbag import DagBag
airflow_import_seconds = time.perf_counter() - started
results = []
for overrides in json.loads(sys.argv[2]):
    os.environ.update(overrides)
    began = time.perf_counter()
    bag = DagBag(dag_folder=sys.argv[1])
    out = {
        "airflow_import_seconds": airflow_import_seconds,
        "fill_seconds": time.perf_counter() - began,
        "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
        "file_seconds": {s.file: s.duration.total_seconds() for s in bag.dagbag_stats},
        "dags": {},
    }
    for dag_id, dag in bag.dags.items():
        tasks = {}
        for t in dag.tasks:
            tasks[t.task_id] = {
                "operator": type(t).__name__,
                "pool": t.pool,
                "retries": t.retries,
                "upstream": sorted(t.upstream_task_ids),
                "downstream": sorted(t.downstream_task_ids),
                "outlets": sorted(getattr(o, "uri", str(o)) for o in t.outlets),
                "vars": getattr(t, "vars", None),
                "pre_execute": t._pre_execute_hook is not None,
                "trigger_dag_id": getattr(t, "trigger_dag_id", None),
                "profile_target": getattr(getattr(t, "profile_config", None), "target_name", None),
                "env": getattr(t, "env", None),
                "select": getattr(t, "select", None),
                "exclude": getattr(t, "exclude", None),
                "indirect_selection": getattr(t, "indirect_selection", None),
            }
        out["dags"][dag_id] = {
            "timetable": type(dag.timetable).__name__,
            "summary": str(dag.schedule),
            "max_active_runs": dag.max_active_runs,
            "catchup": dag.catchup,
            "tags": sorted(dag.tags),
            "doc_md": dag.doc_md or "",
            "params": sorted(dag.params.keys()),
            "tasks": tasks,
        }
    results.append(out)
print("PROBE" + json.dumps(results, default=str))
"""


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A manifest of the current dbt project, in a folder no other process writes."""
    target = tmp_path_factory.mktemp("dbt_target")
    existing = DBT_PROJECT / "target" / "manifest.json"
    if not orchestration.manifest_is_stale(DBT_PROJECT, existing):
        try:
            data = existing.read_bytes()
            json.loads(data)
            (target / "manifest.json").write_bytes(data)
            return target / "manifest.json"
        except (OSError, ValueError):  # being rewritten by a dbt run: parse our own
            pass
    command = [*orchestration.dbt_parse_command(BIN / "dbt"), "--target-path", str(target)]
    subprocess.run(command, check=True, cwd=REPO, timeout=300,
                   env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"})
    return target / "manifest.json"


def probe_env(tmp: Path, manifest: Path, **extra: str) -> dict[str, str]:
    return airflow_env(
        tmp,
        MAIN_IMAGE_DBT_MANIFEST=str(manifest),
        MAIN_IMAGE_WAREHOUSE=str(tmp / "warehouse" / "main_image.duckdb"),
        MAIN_IMAGE_LANDING_DIR=str(tmp / "landing"),
        MAIN_IMAGE_EXPORTS_DIR=str(tmp / "exports"),
        **extra,
    )


def run_probe(env: dict[str, str], variants: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Fill a DagBag once per variant (env overrides), all in one fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(REPO / "dags"), json.dumps(variants)],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=180,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("PROBE")]
    assert result.returncode == 0 and lines, result.stderr[-4000:]
    return json.loads(lines[-1][len("PROBE"):])


#: The production configuration terraform sets in Composer (terraform/composer.tf).
BIGQUERY_ENV = {
    "MAIN_IMAGE_DBT_TARGET": "bigquery",
    "MAIN_IMAGE_GCP_PROJECT": "acme-prod",
    "MAIN_IMAGE_BQ_LOCATION": "EU",
    "MAIN_IMAGE_DBT_SCHEMA_PREFIX": "main_image_",
    "MAIN_IMAGE_LANDING_URI": "gs://acme-landing",
    "MAIN_IMAGE_EXPORTS_URI": "gs://acme-exports/main_image",
}


@pytest.fixture(scope="module")
def probes(manifest: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The DagBag with the default configuration, then with a custom and with no schedule."""
    return run_probe(probe_env(tmp_path_factory.mktemp("dagbag"), manifest), [
        {},
        {"MAIN_IMAGE_SCHEDULE": "0 3 * * *", "MAIN_IMAGE_CATCHUP": "true"},
        {"MAIN_IMAGE_SCHEDULE": "none", "MAIN_IMAGE_CATCHUP": "false"},
        BIGQUERY_ENV,
    ])


@pytest.fixture(scope="module")
def dagbag(probes: list[dict[str, Any]]) -> dict[str, Any]:
    return probes[0]


# --- DagBag integrity --------------------------------------------------------------------------


def test_dagbag_imports_every_dag_without_errors_and_fast(dagbag: dict[str, Any]) -> None:
    assert dagbag["import_errors"] == {}
    assert set(dagbag["dags"]) == DAG_IDS
    assert set(dagbag["file_seconds"]) == {f"{dag_id}.py" for dag_id in DAG_IDS}
    # no dbt parse, no warehouse at import time: the whole folder well under Airflow's 30 s
    assert dagbag["fill_seconds"] < 10, dagbag["file_seconds"]
    assert max(dagbag["file_seconds"].values()) < 10, dagbag["file_seconds"]


def test_every_dag_is_documented_tagged_and_single_run(dagbag: dict[str, Any]) -> None:
    for dag_id, dag in dagbag["dags"].items():
        assert dag["doc_md"].strip(), dag_id
        assert "main_image" in dag["tags"], dag_id
        assert dag["max_active_runs"] == 1, dag_id


def test_pipeline_dag_shape(dagbag: dict[str, Any]) -> None:
    dag = dagbag["dags"]["main_image_pipeline"]
    tasks = dag["tasks"]
    assert dag["summary"] == "@daily"
    assert dag["catchup"] is False
    assert {"full_refresh", "as_of", "scoring_version", "shadow_scoring_version"} <= set(
        dag["params"]
    )

    dbt_tasks = {task_id for task_id in tasks if task_id.startswith("dbt.")}
    assert dbt_tasks == {f"dbt.{stage.name}" for stage in dbt_stages.STAGES}
    assert {"register_attempt", "drain_stream", "land_files", "source_freshness",
            "publish"} | dbt_tasks == set(tasks)
    assert "land_files" in tasks["drain_stream"]["downstream"]
    assert tasks["register_attempt"]["operator"] == "RegisterAttemptSensor"
    assert "land_files" in tasks["register_attempt"]["downstream"]
    # land -> freshness (a warning, never a failure) -> the stages in order -> publish
    assert tasks["source_freshness"]["upstream"] == ["land_files"]
    assert tasks["source_freshness"]["retries"] == 0
    assert tasks["dbt.staging"]["upstream"] == ["source_freshness"]
    assert tasks["dbt.selection"]["upstream"] == ["dbt.staging"]
    assert tasks["dbt.outputs"]["upstream"] == ["dbt.selection"]
    assert "dbt.outputs" in tasks["publish"]["upstream"]
    for task_id in dbt_tasks:
        assert tasks[task_id]["operator"] == "DbtBuildLocalOperator", task_id
        assert tasks[task_id]["indirect_selection"] == "buildable", task_id

    # every warehouse writer is in the one-slot pool; every one after registration is guarded
    for task_id, task in tasks.items():
        assert task["pool"] == "main_image_duckdb", task_id
        assert task["retries"] >= 1 or task_id == "source_freshness", task_id
        if task_id != "register_attempt":
            assert task["pre_execute"], task_id

    # publish runs after every dbt task (a failed model or test stops the run before it)
    def ancestors(task_id: str) -> set[str]:
        seen: set[str] = set()
        stack = [task_id]
        while stack:
            for parent in tasks[stack.pop()]["upstream"]:
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        return seen

    assert dbt_tasks <= ancestors("publish")
    assert "land_files" in ancestors(min(dbt_tasks))
    assert tasks["publish"]["outlets"] == sorted(
        f"main_image://exports/{name}" for name in orchestration.ASSET_NAMES
    )

    # the dbt vars are templated from the register task's XCom, and are the project's run vars
    project_vars = yaml.safe_load((DBT_PROJECT / "dbt_project.yml").read_text())["vars"]
    assert set(RUN_VARS) <= set(project_vars)
    for task_id in dbt_tasks:
        rendered_vars = tasks[task_id]["vars"]
        assert set(rendered_vars) == set(RUN_VARS), task_id
        assert all("xcom_pull(task_ids='register_attempt')" in v for v in rendered_vars.values())


def test_rebuild_and_consumer_dags(dagbag: dict[str, Any]) -> None:
    rebuild = dagbag["dags"]["main_image_full_rebuild"]
    assert rebuild["timetable"] == "NullTimetable"  # manual only
    assert {"scoring_version", "as_of", "compare_only"} <= set(rebuild["params"])
    trigger = rebuild["tasks"]["trigger_pipeline"]
    assert trigger["trigger_dag_id"] == "main_image_pipeline"
    assert "prepare_rebuild" in trigger["upstream"]

    consumer = dagbag["dags"]["main_image_export_consumer"]
    assert consumer["timetable"] == "AssetTriggeredTimetable"


def test_schedule_is_configurable(probes: list[dict[str, Any]]) -> None:
    custom = probes[1]["dags"]["main_image_pipeline"]
    manual = probes[2]["dags"]["main_image_pipeline"]
    assert (custom["summary"], custom["catchup"]) == ("0 3 * * *", True)
    assert manual["timetable"] == "NullTimetable"
    assert probes[1]["import_errors"] == probes[2]["import_errors"] == {}


def test_the_dbt_tasks_follow_the_configured_target(probes: list[dict[str, Any]]) -> None:
    """Default: every Cosmos task runs the duckdb target; with terraform's production variables
    the same DAG file runs them on BigQuery with the project and dataset prefix in their env."""
    duckdb_dag, bigquery_dag = (probe["dags"]["main_image_pipeline"]
                                for probe in (probes[0], probes[3]))
    assert probes[3]["import_errors"] == {}
    assert "duckdb" in duckdb_dag["tags"] and "bigquery" in bigquery_dag["tags"]
    dbt_tasks = [task_id for task_id in bigquery_dag["tasks"] if task_id.startswith("dbt.")]
    assert dbt_tasks
    for task_id in dbt_tasks:
        assert duckdb_dag["tasks"][task_id]["profile_target"] == "duckdb", task_id
        task = bigquery_dag["tasks"][task_id]
        assert task["profile_target"] == "bigquery", task_id
        env = task["env"]
        assert env["MAIN_IMAGE_DBT_TARGET"] == "bigquery"
        assert env["MAIN_IMAGE_GCP_PROJECT"] == "acme-prod"
        assert env["MAIN_IMAGE_DBT_SCHEMA_PREFIX"] == "main_image_"
    assert "gs://acme-landing" in bigquery_dag["doc_md"]
    assert "gs://acme-exports/main_image" in bigquery_dag["doc_md"]


def _selected(stage: dbt_stages.Stage, nodes: dict[str, dict[str, Any]]) -> set[str]:
    """The models and seeds a stage's selectors pick, computed from the manifest (the subset of
    dbt's selector syntax the stages use: path:, fqn:*, +model)."""
    parents = {uid: set(node.get("depends_on", {}).get("nodes", [])) & set(nodes)
               for uid, node in nodes.items()}

    def ancestors(uid: str) -> set[str]:
        found, stack = {uid}, [uid]
        while stack:
            for parent in parents[stack.pop()]:
                if parent not in found:
                    found.add(parent)
                    stack.append(parent)
        return found

    def pick(selectors: str | None) -> set[str]:
        chosen: set[str] = set()
        for selector in (selectors or "").split():
            if selector == "fqn:*":
                chosen |= set(nodes)
            elif selector.startswith("path:"):
                chosen |= {uid for uid, node in nodes.items()
                           if node["original_file_path"].startswith(selector[5:])}
            elif selector.startswith("+"):
                chosen |= ancestors(next(uid for uid, node in nodes.items()
                                         if node["name"] == selector[1:]))
            else:
                raise AssertionError(f"selector {selector!r} not understood by this test")
        return chosen

    return pick(stage.select) - pick(stage.exclude)


def test_the_dbt_stages_partition_the_project_in_dependency_order(manifest: Path) -> None:
    """Every model and seed is built by exactly one stage, and never before its parents: a node's
    parents are in its own stage or an earlier one (so a stage's tests see fresh parents)."""
    graph = json.loads(manifest.read_text())
    nodes = {uid: node for uid, node in graph["nodes"].items()
             if node["resource_type"] in ("model", "seed")}
    stage_of: dict[str, int] = {}
    for index, stage in enumerate(dbt_stages.STAGES):
        for uid in _selected(stage, nodes):
            assert uid not in stage_of, f"{uid} in two stages"
            stage_of[uid] = index
    assert set(stage_of) == set(nodes), set(nodes) - set(stage_of)
    for uid, node in nodes.items():
        for parent in set(node.get("depends_on", {}).get("nodes", [])) & set(nodes):
            assert stage_of[parent] <= stage_of[uid], (parent, uid)
    change_log = next(uid for uid in nodes if uid.endswith("." + dbt_stages.CHANGE_LOG_MODEL))
    snapshot = next(uid for uid in nodes if uid.endswith(".fct_main_image_snapshot"))
    # the crash drill of the e2e test needs a task boundary between the change log and snapshot
    assert stage_of[change_log] < stage_of[snapshot]


def test_stage_summary_lists_every_model_and_names_failures() -> None:
    run_results = {"elapsed_time": 3.5, "results": [
        {"unique_id": "model.main_image.stg_images", "status": "success",
         "execution_time": 1.234, "adapter_response": {"rows_affected": 42}},
        {"unique_id": "seed.main_image.tag_priorities", "status": "success",
         "execution_time": 0.5, "adapter_response": {}},
        {"unique_id": "test.main_image.not_null_x", "status": "pass", "execution_time": 0.1},
        {"unique_id": "test.main_image.unique_x", "status": "fail", "execution_time": 0.1,
         "message": "Got 2 results, configured to fail if != 0"},
        {"unique_id": "model.main_image.int_y", "status": "skipped", "execution_time": 0},
    ]}
    summary = dbt_stages.summarize_run_results(run_results)
    assert [n["node"] for n in summary["nodes"]] == [
        "model.main_image.stg_images", "seed.main_image.tag_priorities", "model.main_image.int_y"]
    assert summary["tests"] == {"pass": 1, "fail": 1}
    assert len(summary["problems"]) == 2
    text = dbt_stages.format_summary("staging", summary)
    assert text.splitlines()[0] == "dbt.staging: 3 models/seeds, tests: 1 fail, 1 pass, 3.5s"
    assert "model.main_image.stg_images" in text and "42 rows" in text
    assert "!! fail: test.main_image.unique_x: Got 2 results" in text


def test_freshness_summary_names_late_sources() -> None:
    sources_json = {"results": [
        {"unique_id": "source.main_image.raw.images", "status": "pass",
         "max_loaded_at": "2024-07-01T00:00:00", "max_loaded_at_time_ago_in_s": 3600},
        {"unique_id": "source.main_image.raw.user_events", "status": "warn",
         "max_loaded_at": "2024-06-28T00:00:00", "max_loaded_at_time_ago_in_s": 3 * 86400},
        {"unique_id": "source.main_image.raw.obiq_scores", "status": "error",
         "max_loaded_at_time_ago_in_s": 9 * 86400},
    ]}
    summary = freshness.summarize_sources(sources_json)
    assert summary["late"] == ["raw.user_events", "raw.obiq_scores"]
    assert summary["sources"][0] == {"source": "raw.images", "status": "pass",
                                     "max_loaded_at": "2024-07-01T00:00:00", "age_hours": 1.0,
                                     "error": None}
    text = freshness.format_sources(summary)
    assert text.splitlines()[0] == "dbt source freshness: 3 sources checked, 2 late"
    assert "warn   raw.user_events" in text and "newest load 72.0 h ago" in text


class _Event:
    def __init__(self, run_id: str, seq: int, name: str, timestamp: str) -> None:
        self.extra = {"run_id": run_id, "invocation_seq": seq, "as_of": "2024-07-0" + str(seq),
                      "path": f"/exports/{run_id}/{name}.jsonl", "records": seq * 10}
        self.timestamp = timestamp


def test_the_consumer_validates_the_latest_attempt_whatever_the_event_order() -> None:
    """Events out of order: a backfill's runs and a cleared old run published in between; the
    latest export is the highest attempt, and its snapshot is that same attempt's."""
    changes = [_Event("b", 3, "changes", "2024-07-03T00:00:03"),
               _Event("c", 5, "changes", "2024-07-03T00:00:05"),  # the latest, listed 2nd
               _Event("a", 4, "changes", "2024-07-03T00:00:04")]
    snapshot = [_Event("c", 5, "snapshot", "2024-07-03T00:00:05"),
                _Event("a", 4, "snapshot", "2024-07-03T00:00:04"),
                _Event("b", 3, "snapshot", "2024-07-03T00:00:03")]
    export = consumer.latest_export({"changes": changes, "snapshot": snapshot})
    assert (export.run_id, export.invocation_seq, export.as_of) == ("c", 5, "2024-07-05")
    assert export.paths == {"changes": "/exports/c/changes.jsonl",
                            "snapshot": "/exports/c/snapshot.jsonl"}
    assert export.records == {"changes": 50, "snapshot": 50}
    # list position decides nothing: reversed lists give the same export
    assert consumer.latest_export({"changes": changes[::-1],
                                   "snapshot": snapshot[::-1]}) == export
    # never one run's changes with another run's snapshot
    with pytest.raises(ValueError, match="run c attempt 5: no snapshot asset event"):
        consumer.latest_export({"changes": changes, "snapshot": snapshot[1:]})


def test_known_scoring_versions_come_from_the_manifest(manifest: Path) -> None:
    assert "v1" in (orchestration.known_scoring_versions(manifest) or set())


# --- landing -----------------------------------------------------------------------------------


def test_discover_files_lists_every_feed_in_landing_order(tmp_path: Path) -> None:
    for relative in ("images/b.jsonl", "images/a.jsonl", "images/2024-07-02/part-0.jsonl",
                     "images/.part-1.jsonl", "images/notes.txt", "image_tags/x.ndjson",
                     "unknown_feed/y.jsonl"):
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}\n")
    found = landing.discover_files(tmp_path)
    assert set(found) == set(LOADED_FEEDS)  # the drain records too
    assert [p.relative_to(tmp_path).as_posix() for p in found["images"]] == [
        "images/2024-07-02/part-0.jsonl", "images/a.jsonl", "images/b.jsonl",
    ]
    assert [p.name for p in found["image_tags"]] == ["x.ndjson"]
    assert found["obiq_scores"] == []
    assert landing.discover_files(tmp_path / "missing") == {feed: [] for feed in LOADED_FEEDS}


def test_stage_delivery_keeps_delivery_order(tmp_path: Path) -> None:
    for delivery in ("delivery-02", "delivery-01"):
        path = tmp_path / "gen" / delivery / "images" / "part-00000.jsonl"
        path.parent.mkdir(parents=True)
        path.write_text(f'{{"delivery": "{delivery}"}}\n')
    for delivery in ("delivery-02", "delivery-01"):
        landing.stage_delivery(tmp_path / "gen" / delivery, tmp_path / "landing")
    images = landing.discover_files(tmp_path / "landing")["images"]
    assert [p.name for p in images] == ["delivery-01-part-00000.jsonl",
                                        "delivery-02-part-00000.jsonl"]
    assert not list((tmp_path / "landing").rglob(".*"))


# --- configuration and run parameters ----------------------------------------------------------


def test_config_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in orchestration.ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    default = orchestration.Config.from_env()
    assert default.warehouse == REPO / "warehouse" / "main_image.duckdb"
    assert default.landing_dir == REPO / "landing"
    assert default.exports_dir == REPO / "exports"
    assert default.schedule == "@daily"
    assert default.dbt_target == "duckdb"
    assert default.pool == "main_image_duckdb"
    assert default.catchup is False

    monkeypatch.setenv("MAIN_IMAGE_WAREHOUSE", "relative/w.duckdb")
    monkeypatch.setenv("MAIN_IMAGE_EXPORTS_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("MAIN_IMAGE_SCHEDULE", "none")
    monkeypatch.setenv("MAIN_IMAGE_CATCHUP", "true")
    monkeypatch.setenv("MAIN_IMAGE_RETRIES", "0")
    custom = orchestration.Config.from_env()
    assert custom.warehouse == REPO / "relative" / "w.duckdb"
    assert custom.exports_dir == tmp_path / "out"
    assert custom.schedule is None
    assert custom.catchup is True
    assert custom.retries == 0
    assert custom.dbt_env()["MAIN_IMAGE_WAREHOUSE"] == str(REPO / "relative" / "w.duckdb")


def test_config_for_bigquery(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in orchestration.ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    for name, value in BIGQUERY_ENV.items():
        monkeypatch.setenv(name, value)
    config = orchestration.Config.from_env()
    assert config.engine == "bigquery" and config.bigquery is not None
    assert (config.bigquery.project, config.bigquery.dataset_prefix) == ("acme-prod", "main_image_")
    assert config.landing_location == "gs://acme-landing"
    assert (config.export_location("manual__2024-07-01T00:00:00+00:00")
            == "gs://acme-exports/main_image/manual__2024-07-01T00-00-00-00-00")
    assert orchestration.export_path(config, "r1", "metrics") == (
        "gs://acme-exports/main_image/r1/metrics.json")
    env = config.dbt_env()
    assert (env["MAIN_IMAGE_DBT_TARGET"], env["MAIN_IMAGE_GCP_PROJECT"],
            env["MAIN_IMAGE_DBT_SCHEMA_PREFIX"]) == ("bigquery", "acme-prod", "main_image_")

    monkeypatch.setenv("MAIN_IMAGE_EXPORTS_URI", "/not/a/bucket")
    with pytest.raises(ValueError, match="gs://"):
        orchestration.Config.from_env()
    monkeypatch.delenv("MAIN_IMAGE_EXPORTS_URI")
    monkeypatch.delenv("MAIN_IMAGE_GCP_PROJECT")
    with pytest.raises(ValueError, match="MAIN_IMAGE_GCP_PROJECT"):
        orchestration.Config.from_env()
    # GCS landing or exports with the DuckDB warehouse: a clear error, not a silent local run
    monkeypatch.setenv("MAIN_IMAGE_DBT_TARGET", "duckdb")
    with pytest.raises(ValueError, match="need a BigQuery target"):
        orchestration.Config.from_env()
    monkeypatch.delenv("MAIN_IMAGE_LANDING_URI")
    local = orchestration.Config.from_env()
    assert local.engine == "duckdb" and local.bigquery is None
    assert "MAIN_IMAGE_GCP_PROJECT" not in local.dbt_env()
    assert local.export_location("r1") == str(REPO / "exports" / "r1")


def test_safe_path_component() -> None:
    assert (orchestration.safe_path_component("manual__2024-07-01T00:00:00+00:00")
            == "manual__2024-07-01T00-00-00-00-00")
    assert orchestration.safe_path_component("../x") == "-x"
    assert orchestration.safe_path_component("..") == "run"


def _completed_attempt(wh: DuckDBWarehouse, run_id: str, as_of: date) -> int:
    seq = wh.start_invocation(RunParameters(run_id=run_id, as_of=as_of))
    wh.mark_selection_completed(seq)
    return seq


def test_resolve_run_parameters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in orchestration.ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    with DuckDBWarehouse.connect(tmp_path / "w.duckdb") as wh:
        first = orchestration.resolve_run_parameters(wh, "r1", date(2024, 7, 2), {})
        assert (first.as_of, first.scoring_version, first.full_refresh) == (
            date(2024, 7, 2), "v1", False)
        assert first.tag_version_pin is None and first.obiq_version_pin is None

        _completed_attempt(wh, "r1", date(2024, 7, 5))
        # an older logical date never moves the published state back in time ...
        assert orchestration.resolve_run_parameters(
            wh, "r0", date(2024, 7, 1), {}).as_of == date(2024, 7, 5)
        # ... unless the as_of is given explicitly
        explicit = orchestration.resolve_run_parameters(
            wh, "r0", date(2024, 7, 1), {"as_of": "2024-07-03", "full_refresh": True})
        assert (explicit.as_of, explicit.full_refresh) == (date(2024, 7, 3), True)

        # params > Airflow Variables > env > v1
        monkeypatch.setenv("MAIN_IMAGE_SCORING_VERSION", "v9")
        monkeypatch.setenv("MAIN_IMAGE_TAG_VERSION_PIN", "v4-0-0")
        variables = {"main_image_scoring_version": "v2"}
        chosen = orchestration.resolve_run_parameters(
            wh, "r2", date(2024, 7, 6), {"obiq_version_pin": "v1"}, variables.get)
        assert (chosen.scoring_version, chosen.tag_version_pin, chosen.obiq_version_pin) == (
            "v2", "v4-0-0", "v1")
        assert orchestration.resolve_run_parameters(
            wh, "r2", date(2024, 7, 6), {"scoring_version": "v3"}, variables.get
        ).scoring_version == "v3"
        assert orchestration.resolve_run_parameters(
            wh, "r2", date(2024, 7, 6), {}).scoring_version == "v9"


def test_attempt_in_flight_only_blocks_for_another_live_run(tmp_path: Path) -> None:
    with DuckDBWarehouse.connect(tmp_path / "w.duckdb") as wh:
        assert orchestration.attempt_in_flight(wh, "b", lambda run: True) is None
        seq = wh.start_invocation(RunParameters("a", date(2024, 7, 1)))
        assert orchestration.attempt_in_flight(wh, "b", lambda run: True) == (
            orchestration.InFlight(seq, "a"))
        assert orchestration.attempt_in_flight(wh, "a", lambda run: True) is None
        assert orchestration.attempt_in_flight(wh, "b", lambda run: False) is None
        wh.mark_exported(seq)
        assert orchestration.attempt_in_flight(wh, "b", lambda run: True) is None


def test_live_run_states() -> None:
    class DagRunState(str, enum.Enum):  # noqa: UP042 - like airflow.sdk.DagRunState
        QUEUED = "queued"
        RUNNING = "running"
        SUCCESS = "success"
        FAILED = "failed"

    assert str(DagRunState.RUNNING) != "running"
    assert orchestration.is_live_run_state(DagRunState.RUNNING)
    assert orchestration.is_live_run_state(DagRunState.QUEUED)
    assert orchestration.is_live_run_state("running")
    assert not orchestration.is_live_run_state(DagRunState.FAILED)
    assert not orchestration.is_live_run_state(DagRunState.SUCCESS)


def test_dbt_vars_render_from_the_registration() -> None:
    attempt = orchestration.registration(
        RunParameters("manual__2024-07-01T00:00:00+00:00", date(2024, 7, 1), full_refresh=True),
        7,
    )
    assert json.loads(json.dumps(attempt)) == attempt  # XCom-safe

    class StubTI:
        def xcom_pull(self, task_ids: str) -> dict[str, Any]:
            assert task_ids == orchestration.REGISTER_TASK_ID
            return attempt

    env = jinja2.Environment()
    rendered = {key: env.from_string(template).render(ti=StubTI())
                for key, template in orchestration.dbt_vars_template().items()}
    assert rendered == {
        "run_id": "manual__2024-07-01T00:00:00+00:00",
        "invocation_seq": "7",
        "as_of": "2024-07-01",
        "full_refresh": "true",
        "scoring_version": "v1",
        "tag_version_pin": "",
        "obiq_version_pin": "",
        "shadow_scoring_version": "",
    }


# --- publishing --------------------------------------------------------------------------------


def _fake_marts(con: Any) -> None:
    """The three relations publish reads, as dbt would leave them (only the columns used)."""
    con.execute("create schema if not exists marts")
    con.execute("create schema if not exists reporting")
    con.execute("create table marts.fct_main_image_changes (run_id varchar, invocation_seq "
                "bigint, hotel_id bigint, image_id bigint, cdn_url varchar)")
    con.execute("create table marts.fct_main_image_snapshot "
                "(hotel_id bigint, image_id bigint, cdn_url varchar)")
    rejected = ", ".join(f"0 as rejected_{feed}" for feed in FEEDS)
    con.execute(
        "create table reporting.rpt_run_metrics as select 'x' as run_id, "
        "date '2024-07-01' as as_of, 'v1' as scoring_version, 0 as images_processed, "
        f"0 as hotels_with_images, 0 as main_images_new, 0 as main_images_updated, "
        f"0 as main_images_deleted, {rejected} limit 0"
    )


def _add_change(con: Any, run_id: str, seq: int, hotel: int, image: int | None) -> None:
    url = None if image is None else f"https://cdn.example.com/{image}.jpg"
    con.execute("insert into marts.fct_main_image_changes values (?, ?, ?, ?, ?)",
                [run_id, seq, hotel, image, url])


def _publish(config: orchestration.Config, con_path: Path, run_id: str, seq: int
             ) -> list[dict[str, Any]]:
    with DuckDBWarehouse.connect(con_path) as wh:
        con = wh.con
        con.execute("delete from reporting.rpt_run_metrics")
        con.execute(
            "insert into reporting.rpt_run_metrics select ?, date '2024-07-01', 'v1', "
            f"1, 1, 0, 0, 0, {', '.join('0' for _ in FEEDS)}", [run_id])
    published = orchestration.publish_attempt(config, run_id, seq)
    text = Path(published.path("changes")).read_text()
    return [json.loads(line) for line in text.splitlines()]


def test_publish_never_redelivers_what_a_later_run_exported(tmp_path: Path) -> None:
    config = orchestration.Config.from_env()
    config = orchestration.Config(**{**config.__dict__, "warehouse": tmp_path / "w.duckdb",
                                     "exports_dir": tmp_path / "exports"})
    params = {run: RunParameters(run, date(2024, 7, 1)) for run in ("A", "B", "C")}
    with DuckDBWarehouse.connect(config.warehouse) as wh:
        con = wh.con
        _fake_marts(con)
        a1 = wh.start_invocation(params["A"])
        _add_change(con, "A", a1, 1, 1001)
    assert [c["key"]["hotel_id"] for c in _publish(config, config.warehouse, "A", a1)] == [1]

    # B fails after appending a change; C runs and exports B's change with its own
    with DuckDBWarehouse.connect(config.warehouse) as wh:
        con = wh.con
        b1 = wh.start_invocation(params["B"])
        _add_change(con, "B", b1, 2, 2001)
        c1 = wh.start_invocation(params["C"])
        _add_change(con, "C", c1, 3, None)
    changes = _publish(config, config.warehouse, "C", c1)
    assert changes == [
        {"key": {"hotel_id": 2}, "value": {"image_id": 2001,
                                           "cdn_url": "https://cdn.example.com/2001.jpg"}},
        {"key": {"hotel_id": 3}, "value": None},
    ]

    # clearing and re-running C (the latest run) rewrites the same changes file
    c_changes = orchestration.export_dir(config.exports_dir, "C") / "changes.jsonl"
    before = c_changes.read_bytes()
    with DuckDBWarehouse.connect(config.warehouse) as wh:
        con = wh.con
        c2 = wh.start_invocation(params["C"])
    assert _publish(config, config.warehouse, "C", c2) == changes
    assert c_changes.read_bytes() == before

    # B is cleared and re-run after C: only what is new is delivered, not B's old change
    with DuckDBWarehouse.connect(config.warehouse) as wh:
        con = wh.con
        b2 = wh.start_invocation(params["B"])
        _add_change(con, "B", b2, 4, 4001)
    assert [c["key"]["hotel_id"] for c in _publish(config, config.warehouse, "B", b2)] == [4]
    files = sorted(p.name for p in orchestration.export_dir(config.exports_dir, "B").iterdir())
    assert files == ["changes.jsonl", "metrics.json", "snapshot.jsonl"]  # no temp folder left


def test_the_rebuild_summary_is_one_line_a_user_reads_first(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from main_image.airflow_tasks import notes

    metrics = {"as_of": "2024-07-03", "scoring_version": "v2", "hotels_with_images": 200,
               "main_images": {"new": 3, "updated": 45, "deleted": 1}}
    summary = notes.rebuild_summary("full_rebuild__manual__x", metrics, "/exports/x/metrics.json")
    assert "\n" not in summary
    assert summary.startswith("Full rebuild full_rebuild__manual__x (as of 2024-07-03, scoring v2)"
                              ": 49 main images changed (new 3, updated 45, deleted 1)")
    # no API server configured (e.g. `airflow dags test`): the note is skipped, nothing raised
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", "")
    assert notes.set_run_note("main_image_full_rebuild", "manual__x", summary) is False
