"""`make airflow` in miniature: `airflow standalone` on a free port answers its health endpoint,
lists the pipeline DAGs without import errors, and stops cleanly with all its children."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from conftest import airflow_env
from main_image import orchestration

pytestmark = [pytest.mark.airflow, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STARTUP_TIMEOUT = 150  # seconds; a cold start (metadata DB migration included) takes ~15-60 s


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop(process: subprocess.Popen[bytes], grace: float = 30) -> None:
    """SIGTERM the whole process group (standalone and every component it started), SIGKILL
    whatever is left after `grace` seconds."""
    pgid = process.pid
    if group_alive(pgid):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and (process.poll() is None or group_alive(pgid)):
        time.sleep(0.5)
    if group_alive(pgid):
        os.killpg(pgid, signal.SIGKILL)
        time.sleep(1)
    process.wait(timeout=10)


def test_standalone_serves_the_ui_with_the_dags(tmp_path: Path) -> None:
    port = free_port()
    manifest = tmp_path / "dbt_target"
    subprocess.run(
        [*orchestration.dbt_parse_command(BIN / "dbt"), "--target-path", str(manifest)],
        check=True, cwd=REPO, timeout=300, capture_output=True,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"},
    )
    env = airflow_env(
        tmp_path,
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="True",
        AIRFLOW__CORE__PARALLELISM="2",
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__API__BASE_URL=f"http://localhost:{port}",
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://localhost:{port}/execution/",
        MAIN_IMAGE_WAREHOUSE=str(tmp_path / "warehouse" / "main_image.duckdb"),
        MAIN_IMAGE_LANDING_DIR=str(tmp_path / "landing"),
        MAIN_IMAGE_EXPORTS_DIR=str(tmp_path / "exports"),
        MAIN_IMAGE_DBT_MANIFEST=str(manifest / "manifest.json"),
    )
    log_path = tmp_path / "standalone.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(BIN / "airflow"), "standalone"], stdout=log, stderr=subprocess.STDOUT,
            env=env, cwd=REPO, start_new_session=True,
        )
    base = f"http://localhost:{port}"
    try:
        started = time.monotonic()
        health: dict[str, Any] | None = None
        while time.monotonic() - started < STARTUP_TIMEOUT:
            assert process.poll() is None, log_path.read_text(errors="replace")[-4000:]
            try:
                health = get_json(f"{base}/api/v2/monitor/health")
                if all(health.get(part, {}).get("status") == "healthy"
                       for part in ("metadatabase", "scheduler")):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
                pass
            time.sleep(2)
        else:
            pytest.fail(f"no healthy answer within {STARTUP_TIMEOUT}s: {health}\n"
                        + log_path.read_text(errors="replace")[-4000:])
        print(f"healthy after {time.monotonic() - started:.0f}s: {health}")

        # the DAG processor has parsed the DAG folder (local mode: no login needed)
        dag_ids: set[str] = set()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            dag_ids = {dag["dag_id"] for dag in get_json(f"{base}/api/v2/dags")["dags"]}
            if len(dag_ids) >= 3:
                break
            time.sleep(3)
        assert dag_ids == {orchestration.PIPELINE_DAG_ID, orchestration.REBUILD_DAG_ID,
                           orchestration.CONSUMER_DAG_ID}
        assert get_json(f"{base}/api/v2/importErrors")["total_entries"] == 0
        with urllib.request.urlopen(f"{base}/", timeout=5) as response:  # the UI itself
            assert response.status == 200
    finally:
        stop(process)
    assert not group_alive(process.pid), "standalone left processes behind"
