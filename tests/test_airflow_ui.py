"""`make airflow` in miniature: `airflow standalone` on a free port answers its health endpoint,
lists the pipeline DAGs without import errors, runs the pipeline once (every task its own
process, as for a user), and stops cleanly with all its children.

With the run done, a browser (Debian chromium through Playwright) opens the UI as a user would
and takes the screenshots docs/airflow.md shows: the DAG graph, the run's grid and the backfill
dialog. They are checked (a real page, small PNG) and, with MAIN_IMAGE_UPDATE_SCREENSHOTS=1,
written to docs/img/. The run's task logs must be quiet: no deprecation warning, no short HMAC
key, no OpenLineage hint."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from conftest import airflow_env
from main_image import orchestration
from main_image.dev.sample import write_sample

pytestmark = [pytest.mark.airflow, pytest.mark.timeout(1500)]

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
STARTUP_TIMEOUT = 300  # seconds; a cold start (metadata DB migration included) takes ~15-60 s
RUN_TIMEOUT = 1200  # seconds; a run of the 20-hotel sample takes about a minute on a quiet machine
DOCS_IMG = REPO / "docs" / "img"
MAX_PNG_BYTES = 200_000
NOISE = ("deprecat", "hmac key", "install apache-airflow-providers-openlineage",
         "[openlineage/namespace] not found")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_json(url: str, timeout: float = 5) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def send_json(url: str, method: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def run_pipeline_once(base: str) -> str:
    """Unpause the pipeline DAG and trigger one run for 2024-07-01; wait for it to succeed."""
    dag = orchestration.PIPELINE_DAG_ID
    send_json(f"{base}/api/v2/dags/{dag}", "PATCH", {"is_paused": False})
    run = send_json(f"{base}/api/v2/dags/{dag}/dagRuns", "POST",
                    {"logical_date": "2024-07-01T00:00:00Z", "dag_run_id": "manual__ui_test"})
    run_id = run["dag_run_id"]
    deadline = time.monotonic() + RUN_TIMEOUT
    state = run["state"]
    while time.monotonic() < deadline:
        # a busy api-server may time out: ask again
        with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError):
            state = get_json(f"{base}/api/v2/dags/{dag}/dagRuns/{run_id}", timeout=30)["state"]
        if state in ("success", "failed"):
            break
        time.sleep(5)
    assert state == "success", f"run {run_id}: {state}"
    # a run is only done when every task of it ran (a run with no task instance is no proof)
    instances = get_json(f"{base}/api/v2/dags/{dag}/dagRuns/{run_id}/taskInstances",
                         timeout=30)["task_instances"]
    states = {ti["task_id"]: ti["state"] for ti in instances}
    assert "publish" in states and set(states.values()) == {"success"}, states
    return run_id


def small_png(raw: bytes, path: Path) -> None:
    """A screenshot as a palette PNG (UI screenshots have few colours): well under 200 KB."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(raw)).convert("RGB")
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def take_screenshots(base: str, run_id: str, out: Path) -> dict[str, Path]:
    """The three pages docs/airflow.md shows, as a user reaches them."""
    from playwright.sync_api import sync_playwright

    dag = orchestration.PIPELINE_DAG_ID
    shots: dict[str, Path] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 860})
            page.set_default_timeout(60_000)

            def shot(name: str) -> None:
                page.wait_for_timeout(1500)  # let the charts settle
                shots[name] = out / f"airflow-{name}.png"
                small_png(page.screenshot(), shots[name])

            page.goto(f"{base}/dags/{dag}/runs/{urllib.parse.quote(run_id)}")
            page.get_by_text("publish").first.wait_for()
            shot("grid")
            page.get_by_role("button", name=re.compile("graph", re.I)).first.click()
            page.get_by_text("source_freshness").first.wait_for()
            shot("graph")
            page.goto(f"{base}/dags/{dag}")
            page.get_by_role("button", name=re.compile("^trigger", re.I)).first.click()
            page.get_by_text(re.compile("backfill", re.I)).first.click()
            page.get_by_text(re.compile("date range", re.I)).first.wait_for()
            shot("backfill")
        finally:
            browser.close()
    return shots


def task_log_noise(airflow_home: Path) -> list[str]:
    found = []
    for log_file in sorted((airflow_home / "logs").rglob("*.log")):
        for line in log_file.read_text(errors="replace").splitlines():
            if any(marker in line.lower() for marker in NOISE):
                found.append(f"{log_file.name}: {line[:240]}")
    return found


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
    process.wait(timeout=30)
    deadline = time.monotonic() + 30  # a loaded machine takes a while to reap the children
    while time.monotonic() < deadline and group_alive(pgid):
        time.sleep(0.5)


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
        # No scheduled run of its own when unpaused: the one run is the one triggered below.
        # The end date does it: the DAG keeps its daily schedule (the backfill dialog needs
        # one) and the window 2024-07-01..02 has ended. A start date in the future would not:
        # Airflow creates no task instance for a task whose start date is after the run's
        # logical date, and the triggered run for 2024-07-01 ended "success" with no task.
        MAIN_IMAGE_START_DATE="2024-07-01",
        MAIN_IMAGE_END_DATE="2024-07-02",
        MAIN_IMAGE_RETRIES="0",
    )
    write_sample(tmp_path / "landing", tmp_path / "sample", hotels=20, deliveries=1)
    subprocess.run([str(BIN / "airflow"), "db", "migrate"], check=True, env=env, cwd=REPO,
                   capture_output=True, timeout=600)
    subprocess.run([str(BIN / "airflow"), "pools", "set", orchestration.DEFAULT_POOL, "1",
                    "The DuckDB warehouse"], check=True, env=env, cwd=REPO, capture_output=True,
                   timeout=300)
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
            if len(dag_ids) >= 4:
                break
            time.sleep(3)
        assert dag_ids == {orchestration.PIPELINE_DAG_ID, orchestration.REBUILD_DAG_ID,
                           orchestration.CONSUMER_DAG_ID, "main_image_stream_drain"}
        assert get_json(f"{base}/api/v2/importErrors")["total_entries"] == 0
        with urllib.request.urlopen(f"{base}/", timeout=5) as response:  # the UI itself
            assert response.status == 200

        run_id = run_pipeline_once(base)
        assert task_log_noise(tmp_path / "airflow_home") == []
        shots = take_screenshots(base, run_id, tmp_path)
        for name, path in shots.items():
            size = path.stat().st_size
            assert 5_000 < size < MAX_PNG_BYTES, (name, size)
            if os.environ.get("MAIN_IMAGE_UPDATE_SCREENSHOTS") == "1":
                DOCS_IMG.mkdir(exist_ok=True)
                shutil.copyfile(path, DOCS_IMG / path.name)
    finally:
        stop(process)
    assert not group_alive(process.pid), "standalone left processes behind"
