"""How long a DAG run takes on the `make airflow` demo data, against the CLI on the same input.

    python benchmarks/airflow_run.py                      # both modes, 200 hotels
    python benchmarks/airflow_run.py --mode dags-test     # only `airflow dags test` (in-process)
    python benchmarks/airflow_run.py --mode standalone    # only the scheduler (a process per task)

In a throwaway folder (--root, default benchmarks/data/airflow-<hotels>) it generates the demo
data (`python -m main_image.landing sample`, seed 42, three deliveries; the first two are
staged), writes the dbt manifest and an Airflow home (SQLite, the one-slot pool), then measures:

* cli: `main-image run` on the same files in a fresh warehouse (the floor a DAG run is held to);
* dags-test: `airflow dags test main_image_pipeline 2024-07-01` (every task in one process), then
  the same for 2024-07-02 (nothing new landed: the fixed cost);
* standalone: `airflow standalone` on a free port (LocalExecutor: every task its own process, as
  in `make airflow`), a two-day backfill 2024-07-01..02 with max-active-runs 1, each run's
  duration from the REST API and the backfill's wall time.

It prints one line per figure and a JSON summary (the last line). Stops what it started.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DAG_ID = "main_image_pipeline"
FEED_FLAGS = {"images": "--images", "image_tags": "--tags", "obiq_scores": "--obiq",
              "main_images": "--main_images", "admin_overrides": "--overrides",
              "user_events": "--user_events", "stream_drains": "--stream-drains"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(root: Path, port: int | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MAIN_IMAGE_")}
    env.update(
        AIRFLOW_HOME=str(root / "airflow_home"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="True",
        AIRFLOW__CORE__PARALLELISM="4",
        AIRFLOW__COSMOS__ENABLE_TELEMETRY="False",
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
        MAIN_IMAGE_WAREHOUSE=str(root / "warehouse" / "main_image.duckdb"),
        MAIN_IMAGE_LANDING_DIR=str(root / "landing"),
        MAIN_IMAGE_EXPORTS_DIR=str(root / "exports"),
        MAIN_IMAGE_DBT_MANIFEST=str(root / "dbt_target" / "manifest.json"),
        MAIN_IMAGE_RETRIES="0",
    )
    if port is not None:
        env.update(
            AIRFLOW__API__PORT=str(port),
            AIRFLOW__API__BASE_URL=f"http://localhost:{port}",
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"http://localhost:{port}/execution/",
        )
    return env


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(label: str, command: list[str], env: dict[str, str], log: Path) -> float:
    """Wall seconds of one command; prints them with the CPU seconds of its process tree and
    the load average (the machine may be shared: CPU time is the steadier figure)."""
    started, cpu = time.perf_counter(), children_cpu()
    with log.open("w") as handle:
        code = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, env=env,
                              cwd=REPO, timeout=3600).returncode
    seconds = time.perf_counter() - started
    if code != 0:
        sys.exit(f"{label} failed (exit {code}), see {log}")
    print(f"{label}: {seconds:.1f}s wall, {children_cpu() - cpu:.1f}s CPU, "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    return seconds


def prepare(root: Path, hotels: int) -> dict[str, str]:
    """Fresh warehouse, landing zone, exports and Airflow home; the demo data generated once."""
    for name in ("warehouse", "landing", "exports", "airflow_home", "cli", "logs"):
        shutil.rmtree(root / name, ignore_errors=True)
    (root / "logs").mkdir(parents=True)
    env = environment(root)
    sample = root / "sample"
    if not (sample / "delivery-03").is_dir():
        shutil.rmtree(sample, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "main_image.landing", "sample", "--landing-dir",
                        str(root / "landing"), "--sample-dir", str(sample), "--hotels",
                        str(hotels)], check=True, env=env, cwd=REPO, capture_output=True)
    from main_image import landing

    shutil.rmtree(root / "landing", ignore_errors=True)
    for delivery in ("delivery-01", "delivery-02"):
        landing.stage_delivery(sample / delivery, root / "landing")
    subprocess.run([str(BIN / "dbt"), "parse", "--project-dir", "dbt_project", "--profiles-dir",
                    "dbt_project", "--target-path", str(root / "dbt_target"), "--quiet"],
                   check=True, env=env, cwd=REPO)
    subprocess.run([str(BIN / "airflow"), "db", "migrate"], check=True, env=env, cwd=REPO,
                   capture_output=True)
    subprocess.run([str(BIN / "airflow"), "pools", "set", "main_image_duckdb", "1", "bench"],
                   check=True, env=env, cwd=REPO, capture_output=True)
    return env


def cli_seconds(root: Path, env: dict[str, str]) -> float:
    from main_image import landing

    command = [str(BIN / "main-image"), "run", "--as-of", "2024-07-01", "--run-id", "cli",
               "--warehouse", str(root / "cli" / "warehouse.duckdb"),
               "--output_cdc", str(root / "cli" / "changes.jsonl"),
               "--output_snapshot", str(root / "cli" / "snapshot.jsonl"),
               "--output_metrics", str(root / "cli" / "metrics.json")]
    for feed, paths in landing.discover_files(root / "landing").items():
        for path in paths:
            command += [FEED_FLAGS[feed], str(path)]
    (root / "cli").mkdir(exist_ok=True)
    return timed("cli run (same files, fresh warehouse)", command, env, root / "logs" / "cli.log")


def dags_test(root: Path, env: dict[str, str]) -> dict[str, float]:
    figures = {}
    for day, label in (("2024-07-01", "dags_test_day1"), ("2024-07-02", "dags_test_no_input")):
        figures[label] = timed(f"airflow dags test {day}", [str(BIN / "airflow"), "dags", "test",
                               DAG_ID, day], env, root / "logs" / f"{label}.log")
    return figures


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def seconds_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def standalone(root: Path) -> dict[str, float]:
    port = free_port()
    # The DAG's window ends with the backfill: unpaused, the scheduler creates no scheduled run
    # of its own (with @daily and catchup off it would create today's, which runs first and
    # publishes an as_of later than the backfill's dates).
    env = {**environment(root, port), "MAIN_IMAGE_END_DATE": "2024-07-02"}
    base = f"http://localhost:{port}"
    log = (root / "logs" / "standalone.log").open("wb")
    process = subprocess.Popen([str(BIN / "airflow"), "standalone"], stdout=log,
                               stderr=subprocess.STDOUT, env=env, cwd=REPO,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                if DAG_ID in {d["dag_id"] for d in get_json(f"{base}/api/v2/dags")["dags"]}:
                    break
            except OSError:
                pass
            time.sleep(2)
        else:
            sys.exit("standalone: the DAG did not appear within 300 s")
        # DAGs start paused, and a paused DAG's backfill runs stay queued
        subprocess.run([str(BIN / "airflow"), "dags", "unpause", DAG_ID], check=True, env=env,
                       cwd=REPO, capture_output=True)
        started = time.perf_counter()
        subprocess.run([str(BIN / "airflow"), "backfill", "create", "--dag-id", DAG_ID,
                        "--from-date", "2024-07-01", "--to-date", "2024-07-02",
                        "--max-active-runs", "1"], check=True, env=env, cwd=REPO,
                       capture_output=True)
        runs: list[dict[str, Any]] = []
        while time.perf_counter() - started < 1800:
            runs = get_json(f"{base}/api/v2/dags/{DAG_ID}/dagRuns")["dag_runs"]
            if len(runs) >= 2 and all(r["state"] in ("success", "failed") for r in runs):
                break
            time.sleep(3)
        wall = time.perf_counter() - started
        runs.sort(key=lambda r: r["logical_date"])
        figures = {"standalone_backfill_2_days": wall}
        for index, run in enumerate(runs, start=1):
            if run["state"] != "success":
                sys.exit(f"standalone: run {run['dag_run_id']} {run['state']}")
            figures[f"standalone_run_{index}"] = seconds_between(run["start_date"],
                                                                 run["end_date"])
        for name, value in figures.items():
            print(f"{name}: {value:.1f}s", flush=True)
        return figures
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hotels", type=int, default=200)
    parser.add_argument("--mode", choices=("all", "dags-test", "standalone"), default="all")
    parser.add_argument("--root", type=Path, default=None)
    args = parser.parse_args()
    root = (args.root or REPO / "benchmarks" / "data" / f"airflow-{args.hotels}").resolve()
    root.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {"hotels": args.hotels, "load_before": os.getloadavg()[0]}
    env = prepare(root, args.hotels)
    summary["cli"] = cli_seconds(root, env)
    if args.mode in ("all", "dags-test"):
        summary.update(dags_test(root, env))
    if args.mode in ("all", "standalone"):
        env = prepare(root, args.hotels)
        summary.update(standalone(root))
    summary["load_after"] = os.getloadavg()[0]
    print(json.dumps({key: round(v, 1) if isinstance(v, float) else v
                      for key, v in summary.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
