"""Benchmark of the serving copy (issue #13, docs/performance.md "The serving copy").

    python benchmarks/serving.py [--hotels 1000000] [--lookups 20000] [--concurrency 8]
                                 [--databases sqlite,postgresql]

Builds a synthetic DuckDB warehouse with plain SQL (no dbt): only the tables and columns
``serving_publish.publish_serving`` reads (``raw.pipeline_runs``, ``marts.fct_main_image_changes``
and ``marts.fct_main_image_explanations``). Attempt 1 (run ``r1``) makes every hotel new, with
5 candidates each; attempt 2 (run ``r2``) gives 1% of the hotels (a seeded random sample) a new
main image, and rewrites their explanation rows at invocation_seq 2, as dbt's incremental model
does. Then, for each database (a SQLite file in a temporary folder; PostgreSQL in a throwaway
cluster, ``tests/service/pgcluster.py``), it measures

1. publication: ``publish_serving`` of attempt 1 (the initial copy of every hotel: the full
   rebuild case), of attempt 2 (1% changed: seconds and rows written per second), and of
   attempt 2 again (a re-publication: copies nothing);
2. lookups of the main image of random hotels (seed 13) in the full copy, after a warm-up:
   in process (``service.serving.main_image`` in a session of the app's factory, one thread:
   the database and ORM cost alone), and over HTTP (GET /v1/hotels/{id}/main-image on
   ``create_app`` served by uvicorn in its own process on loopback, ``--concurrency`` client
   threads with one keep-alive httpx connection each).

Prints two tables (markdown) and one JSON object per measurement on stdout; progress on
stderr. Client and server share the machine: on 2 cores the HTTP figures include the client's
own cost.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "plugins"))

ADMIN = "bench-admin-token-0123456789abcdef"
FRONTEND = "bench-frontend-token-0123456789ab"
SECRET = "bench-link-secret-0123456789abcdef"
CDN = "https://cdn.example.com/images/"
CANDIDATES = 5  # per hotel
FIRST_IMAGE_ID = 1000  # the generator's ids start there
SEED = 13


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the synthetic warehouse ------------------------------------------------------------------

_TABLES = [
    "create schema if not exists marts",
    """create table marts.fct_main_image_changes (
        invocation_seq bigint, hotel_id bigint, change_type varchar, image_id bigint,
        cdn_url varchar)""",
    """create table marts.fct_main_image_explanations (
        hotel_id bigint, image_id bigint, cdn_url varchar, selection_source varchar,
        score double, score_terms varchar, margin double, candidate_image_ids varchar,
        scoring_version varchar, run_id varchar, as_of date, invocation_seq bigint)""",
]
_RUN = """
    insert into raw.pipeline_runs (invocation_seq, run_id, as_of, scoring_version, full_refresh,
                                   started_at, selection_completed_at)
    values (?, ?, ?, 'v2', ?, now()::timestamp, now()::timestamp)
"""
# Hotel h's candidates are images 1000 + 5(h-1) ... + 4, the first one its main image.
_ATTEMPT_1 = [
    f"""insert into marts.fct_main_image_changes
        select 1, h, 'new', {FIRST_IMAGE_ID} + {CANDIDATES} * (h - 1),
               '{CDN}' || ({FIRST_IMAGE_ID} + {CANDIDATES} * (h - 1)) || '.jpg'
        from range(1, $hotels + 1) as t(h)""",
    f"""insert into marts.fct_main_image_explanations
        select h, base, '{CDN}' || base || '.jpg', 'auto', 0.5 + (hash(h) % 500) / 1000.0,
               printf('{{"s_ar":1,"s_fresh":%.4f,"s_res":0.8,"s_tag":0.9}}',
                      (hash(h + 1) % 10000) / 10000.0),
               (hash(h + 2) % 100) / 1000.0,
               concat_ws(',', base, base + 1, base + 2, base + 3, base + 4),
               'v2', 'r1', date '2024-07-01', 1
        from (select h, {FIRST_IMAGE_ID} + {CANDIDATES} * (h - 1) as base
              from range(1, $hotels + 1) as t(h))""",
]
# 1% of the hotels (a seeded sample) get a new image as main image; their last candidate drops
# out (the serving copy marks it no longer a candidate).
_ATTEMPT_2 = [
    f"""create temp table changed as
        select h, {FIRST_IMAGE_ID} + {CANDIDATES} * $hotels + row_number() over (order by h) - 1
                  as new_image, {FIRST_IMAGE_ID} + {CANDIDATES} * (h - 1) as base
        from (select h from range(1, $hotels + 1) as t(h)
              order by hash(h * 7919 + $seed) limit $changed)""",
    f"""insert into marts.fct_main_image_changes
        select 2, h, 'updated', new_image, '{CDN}' || new_image || '.jpg' from changed""",
    "delete from marts.fct_main_image_explanations where hotel_id in (select h from changed)",
    f"""insert into marts.fct_main_image_explanations
        select h, new_image, '{CDN}' || new_image || '.jpg', 'auto', 0.95,
               '{{"s_ar":1,"s_fresh":1,"s_res":0.9,"s_tag":0.95}}', 0.1,
               concat_ws(',', new_image, base, base + 1, base + 2, base + 3),
               'v2', 'r2', date '2024-07-02', 2
        from changed""",
    "drop table changed",
]


def _mark_exported(wh: Any, invocation_seq: int) -> None:
    """What the publish step records once the run's files are written."""
    wh.execute(
        "update raw.pipeline_runs set exported_at = now()::timestamp where invocation_seq = ?",
        [invocation_seq],
    )


def build_attempt_1(path: Path, hotels: int) -> float:
    from main_image.engines import open_warehouse

    started = time.perf_counter()
    with open_warehouse(path, None) as wh:
        for statement in _TABLES:
            wh.execute(statement)
        wh.execute(_RUN, [1, "r1", "2024-07-01", True])
        for statement in _ATTEMPT_1:
            wh.execute(statement.replace("$hotels", str(hotels)))
        _mark_exported(wh, 1)
    return time.perf_counter() - started


def changed_hotels(hotels: int) -> int:
    return max(1, hotels // 100)


def add_attempt_2(path: Path, hotels: int) -> None:
    from main_image.engines import open_warehouse

    with open_warehouse(path, None) as wh:
        wh.execute(_RUN, [2, "r2", "2024-07-02", False])
        for statement in _ATTEMPT_2:
            wh.execute(
                statement.replace("$hotels", str(hotels))
                .replace("$seed", str(SEED))
                .replace("$changed", str(changed_hotels(hotels)))
            )
        _mark_exported(wh, 2)


def candidates_after(path: Path, invocation_seq: int) -> int:
    """Candidate rows the next publication upserts (those of the explanation rows it reads)."""
    from main_image.engines import open_warehouse

    with open_warehouse(path, None, read_only=True) as wh:
        return int(wh.scalar(
            "select coalesce(sum(len(string_split(candidate_image_ids, ','))), 0) "
            "from marts.fct_main_image_explanations where invocation_seq > ?",
            [invocation_seq],
        ))  # fmt: skip


# -- publication ------------------------------------------------------------------------------


@dataclass
class Publication:
    database: str
    name: str
    changes: int
    hotels: int
    rows: int  # change rows + main-image rows + candidate rows written
    seconds: float

    def record(self) -> dict[str, Any]:
        rate = round(self.rows / self.seconds) if self.seconds else None
        return {"measurement": "publication", "database": self.database, "step": self.name,
                "changes": self.changes, "hotels": self.hotels, "rows_written": self.rows,
                "seconds": round(self.seconds, 3), "rows_per_second": rate}  # fmt: skip


def publish(warehouse: Path, database: str, url: str, name: str, after: int) -> Publication:
    from main_image.engines import open_warehouse
    from main_image.serving_publish import publish_serving

    candidates = candidates_after(warehouse, after)
    with open_warehouse(warehouse, None) as wh:
        result = publish_serving(wh, url, progress=lambda line: log(f"  {database}: {line}"))
    rows = result.changes + result.hotels + (candidates if result.hotels else 0)
    return Publication(database, name, result.changes, result.hotels, rows, result.seconds)


# -- lookups ----------------------------------------------------------------------------------


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    cut = statistics.quantiles(ms, n=100, method="inclusive")
    return {"p50_ms": round(cut[49], 3), "p99_ms": round(cut[98], 3), "max_ms": round(ms[-1], 3)}


def settings(root: Path, database_url: str) -> Any:
    """The service's settings as the service tests build them (tests/service/conftest.py)."""
    from main_image.service.settings import Settings

    return Settings(
        admin_token=ADMIN,
        frontend_token=FRONTEND,
        link_secret=SECRET,
        database_url=database_url,
        blob_uri=str(root / "blobs"),
        landing_uri=str(root / "landing"),
        public_base_url="http://127.0.0.1",
        outbox_interval_seconds=0,
        auto_migrate=True,
    )


def hotel_ids(hotels: int, count: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    return [rng.randint(1, hotels) for _ in range(count)]


def in_process(root: Path, database: str, url: str, ids: list[int], warmup: int) -> dict:
    """The read function of the endpoint in a session of the app's factory, one at a time."""
    from main_image.service import serving
    from main_image.service.app import create_app

    app = create_app(settings(root, url))
    factory = app.state.services.factory
    latencies: list[float] = []

    def lookup(hotel_id: int) -> None:
        with factory() as session:
            found = serving.main_image(session, hotel_id)
        if found is None or len(found[1]) != CANDIDATES:
            raise AssertionError(f"hotel {hotel_id}: unexpected answer {found}")

    try:
        for hotel_id in ids[:warmup]:
            lookup(hotel_id)
        started = time.perf_counter()
        for hotel_id in ids:
            began = time.perf_counter()
            lookup(hotel_id)
            latencies.append(time.perf_counter() - began)
        wall = time.perf_counter() - started
    finally:
        app.state.services.engine.dispose()
    return {"measurement": "lookups", "database": database, "layer": "in-process",
            "clients": 1, "lookups": len(ids), "wall_s": round(wall, 2),
            "per_second": round(len(ids) / wall), **percentiles(latencies)}  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(port: int, root: Path, database_url: str) -> None:
    """The server process of the HTTP layer: create_app served by uvicorn (no access log)."""
    import uvicorn
    from main_image.service.app import create_app

    app = create_app(settings(root, database_url))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


class Server:
    def __init__(self, root: Path, database_url: str) -> None:
        import httpx

        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        command = [sys.executable, __file__, "--serve", str(port), "--root", str(root),
                   "--database-url", database_url]  # fmt: skip
        self.process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        for _ in range(600):
            if self.process.poll() is not None:
                raise RuntimeError("the service exited at start-up")
            try:
                httpx.get(f"{self.url}/docs", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the service did not start")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (/proc/<pid>/stat)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def over_http(
    root: Path, database: str, url: str, ids: list[int], warmup: int, clients: int
) -> dict:
    import httpx

    server = Server(root, url)
    headers = {"Authorization": f"Bearer {FRONTEND}"}
    latencies: list[float] = []
    lock = threading.Lock()

    def run(batch: list[int], timed: bool) -> None:
        mine: list[float] = []
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
            for hotel_id in batch:
                began = time.perf_counter()
                answer = client.get(f"/v1/hotels/{hotel_id}/main-image")
                mine.append(time.perf_counter() - began)
                if answer.status_code != 200 or answer.json()["hotel_id"] != hotel_id:
                    raise AssertionError(f"hotel {hotel_id}: {answer.status_code} {answer.text}")
        if timed:
            with lock:
                latencies.extend(mine)

    def pooled(batch: list[int], timed: bool) -> float:
        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(
                pool.map(lambda part: run(part, timed), [batch[i::clients] for i in range(clients)])
            )
        return time.perf_counter() - started

    try:
        pooled(ids[:warmup], timed=False)
        server_cpu, client_cpu = server.cpu_seconds(), time.process_time()
        wall = pooled(ids, timed=True)
        server_cpu, client_cpu = server.cpu_seconds() - server_cpu, time.process_time() - client_cpu
    finally:
        server.stop()
    # On a small machine the clients compete with the server for the cores: their CPU time
    # per lookup says which side bounds the rate.
    return {"measurement": "lookups", "database": database, "layer": "http",
            "clients": clients, "lookups": len(ids), "wall_s": round(wall, 2),
            "per_second": round(len(ids) / wall), **percentiles(latencies),
            "server_cpu_ms_per_lookup": round(server_cpu * 1000 / len(ids), 3),
            "client_cpu_ms_per_lookup": round(client_cpu * 1000 / len(ids), 3)}  # fmt: skip


# -- the databases ----------------------------------------------------------------------------


def _pgcluster() -> Any:
    spec = importlib.util.spec_from_file_location(
        "pgcluster", REPO / "tests" / "service" / "pgcluster.py"
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # type: ignore[union-attr]  # dataclasses look it up
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def database_url(database: str, root: Path, cleanup: list[Callable[[], None]]) -> str | None:
    if database == "sqlite":
        return f"sqlite:///{root / 'service.db'}"
    cluster = _pgcluster().start()
    if cluster is None:
        return None
    cleanup.append(cluster.stop)
    return cluster.url()


def bench_database(
    database: str, template: Path, root: Path, args: argparse.Namespace, ids: list[int]
) -> list[dict]:
    cleanup: list[Callable[[], None]] = []
    try:
        url = database_url(database, root, cleanup)
        if url is None:
            log(f"{database}: skipped (PostgreSQL 15 binaries not installed)")
            return []
        warehouse = root / "warehouse.duckdb"
        shutil.copyfile(template, warehouse)
        log(f"{database}: publishing attempt 1 ({args.hotels:,} hotels, all new) ...")
        steps = [publish(warehouse, database, url, f"initial copy ({args.hotels:,} hotels)", 0)]
        add_attempt_2(warehouse, args.hotels)
        changed = changed_hotels(args.hotels)
        log(f"{database}: publishing attempt 2 ({changed:,} hotels changed) ...")
        steps.append(publish(warehouse, database, url, f"1% changed ({changed:,} hotels)", 1))
        steps.append(publish(warehouse, database, url, "re-publication (nothing new)", 2))
        results = [step.record() for step in steps]
        warmup = min(args.warmup, len(ids))
        log(f"{database}: {len(ids):,} lookups in process ...")
        results.append(in_process(root, database, url, ids, warmup))
        log(f"{database}: {len(ids):,} lookups over HTTP, {args.concurrency} clients ...")
        results.append(over_http(root, database, url, ids, warmup, args.concurrency))
        return results
    finally:
        for stop in cleanup:
            stop()


def tables(results: list[dict]) -> str:
    lines = [
        "| database | publication | changes | hotels | rows written | seconds | rows/s |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if r["measurement"] == "publication":
            rate = f"{r['rows_per_second']:,}" if r["rows_written"] else "-"
            lines.append(
                f"| {r['database']} | {r['step']} | {r['changes']:,} | {r['hotels']:,} "
                f"| {r['rows_written']:,} | {r['seconds']:.2f} | {rate} |"
            )
    lines += [
        "",
        "| database | lookups | clients | lookups | per second | p50 ms | p99 ms |"
        " max ms | server CPU ms/lookup | client CPU ms/lookup |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if r["measurement"] == "lookups":
            cpu = " | ".join(
                f"{r[key]:.2f}" if key in r else "-"
                for key in ("server_cpu_ms_per_lookup", "client_cpu_ms_per_lookup")
            )
            lines.append(
                f"| {r['database']} | {r['layer']} | {r['clients']} | {r['lookups']:,} "
                f"| {r['per_second']:,} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} "
                f"| {r['max_ms']:.1f} | {cpu} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hotels", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=20_000)
    parser.add_argument("--warmup", type=int, default=2_000, help="untimed lookups first")
    parser.add_argument("--concurrency", type=int, default=8, help="HTTP client threads")
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql"
    )
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", dest="database_url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        serve(args.serve, args.root, args.database_url)
        return 0
    databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    unknown = set(databases) - {"sqlite", "postgresql"}
    if unknown or not databases or args.hotels < 1 or args.lookups < 100:
        parser.error("--databases: sqlite and/or postgresql; --hotels >= 1; --lookups >= 100")
    load_before = os.getloadavg()[0]
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="serving-bench-") as tmp:
        root = Path(tmp)
        template = root / "attempt-1.duckdb"
        log(f"building the warehouse: {args.hotels:,} hotels, {CANDIDATES} candidates each ...")
        build_s = build_attempt_1(template, args.hotels)
        log(f"  built in {build_s:.1f}s")
        ids = hotel_ids(args.hotels, args.lookups, SEED)
        for database in databases:
            folder = root / database
            folder.mkdir()
            results += bench_database(database, template, folder, args, ids)
    load_after = os.getloadavg()[0]
    print(tables(results))
    print(
        f"\nwarehouse build {build_s:.1f}s; load average (1 min) {load_before:.2f} before, "
        f"{load_after:.2f} after; {os.cpu_count()} CPUs"
    )
    for result in results:
        print(json.dumps({**result, "hotels_in_copy": args.hotels}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
