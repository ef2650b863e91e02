"""`airflow dags test main_image_pipeline` on BigQuery (the local emulator), Cosmos included.

Opt-in, not part of `make test` (it costs ~3 minutes more): `make test-airflow-bigquery`.
The DAG file is configured only through the environment, as Composer would configure it
(`MAIN_IMAGE_DBT_TARGET=bq_emulator`, the emulator's endpoint, a dataset prefix); every task,
the Cosmos task group included, must run on BigQuery, leave the DuckDB file alone, and publish
what the DuckDB pipeline (`main-image run`'s code path) publishes for the same files.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from conftest import PipelineHarness, airflow_env, read_jsonl
from main_image import landing, orchestration
from main_image.dev.bq_emulator import EmulatorHandle, emulator_available, running_emulator
from main_image.dev.generate import GenerateConfig, generate
from main_image.settings import FEEDS

pytestmark = [pytest.mark.airflow, pytest.mark.bigquery, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DAY = date(2024, 7, 1)


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorHandle]:
    if not emulator_available():
        pytest.skip("BigQuery emulator venv .venv-bqemulator missing: run `make setup-bqemulator`")
    with running_emulator(timeout=120) as handle:
        yield handle


def test_dags_test_runs_every_task_on_bigquery(emulator: EmulatorHandle, tmp_path: Path) -> None:
    generated = generate(GenerateConfig(hotels=30, seed=5, deliveries=1), tmp_path / "gen")
    landing.stage_delivery(generated.deliveries[0], tmp_path / "landing")
    duckdb_file = tmp_path / "must-not-exist.duckdb"
    env = airflow_env(
        tmp_path,
        MAIN_IMAGE_DBT_TARGET="bq_emulator",
        MAIN_IMAGE_BQ_EMULATOR_ENDPOINT=emulator.endpoint,
        MAIN_IMAGE_BQ_EMULATOR_PROJECT=emulator.project,
        MAIN_IMAGE_DBT_SCHEMA_PREFIX="af_",
        MAIN_IMAGE_LANDING_DIR=str(tmp_path / "landing"),
        MAIN_IMAGE_EXPORTS_DIR=str(tmp_path / "exports"),
        MAIN_IMAGE_WAREHOUSE=str(duckdb_file),
        MAIN_IMAGE_DBT_MANIFEST=str(tmp_path / "dbt_target" / "manifest.json"),
        MAIN_IMAGE_RETRIES="0",
    )

    def run(*command: str) -> None:
        log = tmp_path / "airflow.log"
        with log.open("a") as handle:
            result = subprocess.run(list(command), stdout=handle, stderr=subprocess.STDOUT,
                                    env=env, cwd=REPO, timeout=800)
        assert result.returncode == 0, log.read_text(errors="replace")[-6000:]

    run(*orchestration.dbt_parse_command(BIN / "dbt"), "--target-path",
        str(tmp_path / "dbt_target"))
    run(str(BIN / "airflow"), "db", "migrate")
    run(str(BIN / "airflow"), "pools", "set", orchestration.DEFAULT_POOL, "1", "one writer")
    run(str(BIN / "airflow"), "dags", "test", orchestration.PIPELINE_DAG_ID, DAY.isoformat())

    assert not duckdb_file.exists(), "a task opened the DuckDB file instead of BigQuery"
    (run_dir,) = (tmp_path / "exports").iterdir()
    exported = {name: read_jsonl(run_dir / f"{name}.jsonl") for name in ("changes", "snapshot")}
    metrics = read_jsonl(run_dir / "metrics.json")[0]
    assert exported["snapshot"] and metrics["as_of"] == DAY.isoformat()

    # the registry on BigQuery: one attempt, completed and exported
    from main_image.engines.bigquery.config import BigQueryConfig
    from main_image.engines.bigquery.warehouse import BigQueryWarehouse

    config = BigQueryConfig.from_env({
        "MAIN_IMAGE_DBT_TARGET": "bq_emulator",
        "MAIN_IMAGE_BQ_EMULATOR_ENDPOINT": emulator.endpoint,
        "MAIN_IMAGE_BQ_EMULATOR_PROJECT": emulator.project,
        "MAIN_IMAGE_DBT_SCHEMA_PREFIX": "af_",
    })
    registry = BigQueryWarehouse(config).fetchall(
        "select invocation_seq, selection_completed_at is not null, exported_at is not null "
        "from raw.pipeline_runs"
    )
    assert registry == [(1, True, True)]

    # the same files through the DuckDB pipeline give the same exports
    reference = PipelineHarness(root=tmp_path / "duckdb", warehouse=tmp_path / "duckdb" / "w.db")
    files = landing.discover_files(tmp_path / "landing")
    result = reference.run({feed: files[feed] for feed in FEEDS}, DAY, run_id="reference")
    assert read_jsonl(result.outputs.snapshot) == exported["snapshot"]
    assert read_jsonl(result.outputs.changes) == exported["changes"]
    expected = read_jsonl(result.outputs.metrics)[0]
    assert {**expected, "run_id": metrics["run_id"]} == metrics
