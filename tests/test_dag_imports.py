"""Parsing the DAG folder stays cheap: a fresh interpreter fills a DagBag from dags/ and must not
load the warehouse clients (duckdb, pyarrow, google-cloud-bigquery), dbt, or any Google client
module beyond what Airflow and Cosmos load by themselves (reading the manifest makes Airflow's
lineage collector import every provider's asset factories, the Google provider's among them),
for the DuckDB and the BigQuery configuration alike."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from test_dags import BIGQUERY_ENV, REPO, manifest, probe_env  # noqa: F401 - manifest: fixture

PROBE = r"""
import json, os, sys

def loaded():
    return sorted(name for name in sys.modules
                  if name.split(".")[0] in ("duckdb", "pyarrow", "dbt")
                  or name.startswith("google.cloud"))

from airflow.dag_processing.dagbag import DagBag
DagBag(dag_folder=sys.argv[3])  # what any DAG of this stack costs (Airflow, Cosmos)
# Cosmos reads the manifest through Airflow's ObjectStoragePath, whose lineage collector
# discovers every provider's asset factories (the Google provider's import google.cloud)
from airflow.sdk.lineage import get_hook_lineage_collector
get_hook_lineage_collector()
baseline = loaded()
os.environ.update(json.loads(sys.argv[2]))
bag = DagBag(dag_folder=sys.argv[1])
print("PROBE" + json.dumps({
    "errors": {str(key): str(value) for key, value in bag.import_errors.items()},
    "dags": sorted(bag.dags), "baseline": baseline, "after": loaded(),
}))
"""

HEAVY_PACKAGES = ("duckdb", "pyarrow", "dbt")


def is_heavy(module: str) -> bool:
    return module.split(".")[0] in HEAVY_PACKAGES or module.startswith("google.cloud.bigquery")


#: A DAG with the same imports as ours and nothing of main_image: the baseline.
BASELINE_DAG = """
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import Param, PokeReturnValue, dag, get_current_context, task
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import InvocationMode, LoadMode, TestBehavior


@dag(schedule=None)
def baseline() -> None:
    @task
    def nothing() -> None:
        pass

    nothing()


baseline()
"""


def parse_dag_folder(env: dict[str, str], overrides: dict[str, str], baseline: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(REPO / "dags"), json.dumps(overrides), str(baseline)],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=300, check=False,
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("PROBE")]
    assert result.returncode == 0 and lines, result.stderr[-4000:]
    return json.loads(lines[-1][len("PROBE"):])


def test_parsing_the_dag_folder_imports_no_warehouse_client(manifest: Path,  # noqa: F811
                                                             tmp_path: Path) -> None:
    env = probe_env(tmp_path, manifest)
    baseline = tmp_path / "baseline_dags"
    baseline.mkdir()
    (baseline / "baseline.py").write_text(BASELINE_DAG, encoding="utf-8")
    for overrides in ({}, BIGQUERY_ENV):
        probe = parse_dag_folder(env, overrides, baseline)
        assert probe["errors"] == {}, overrides
        assert len(probe["dags"]) == 4, probe["dags"]
        heavy = [name for name in probe["after"] if is_heavy(name)]
        assert heavy == [], f"parsing dags/ ({overrides or 'duckdb'}) imported {heavy}"
        added = sorted(set(probe["after"]) - set(probe["baseline"]))
        assert added == [], f"parsing dags/ ({overrides or 'duckdb'}) imported {added}"
