"""Benchmark of the image service (docs/performance.md, "The image service").

Starts `main-image serve` as its own process on a free loopback port (SQLite by default, or
``--database-url`` for PostgreSQL) and measures, printing one table and one JSON line each:

1. uploads/s and latency percentiles of 200 KB JPEGs, one client (sequential) and 8 concurrent
   clients (threads), each upload a distinct image through one link;
2. the service's resident memory (VmRSS of its process, polled every 10 ms) before and while
   one ~20 MB JPEG is uploaded (streamed to disk, decoded at reduced scale);
3. GET /v1/stats latency with ``--stats-images`` images (default 1,000,000) in the catalog,
   bulk-inserted into a fresh SQLite database and summarized with `stats.rebuild`; for
   comparison, the same answer computed by GROUP BY over the images table (no summary).

    python benchmarks/service_bench.py [--uploads 200] [--stats-images 1000000]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
ADMIN = "bench-admin-token-0123456789abcdef"
SECRETS = {
    "MAIN_IMAGE_ADMIN_TOKEN": ADMIN,
    "MAIN_IMAGE_FRONTEND_TOKEN": "bench-frontend-token-0123456789ab",
    "MAIN_IMAGE_LINK_SECRET": "bench-link-secret-0123456789abcdef",
}
HEADERS = {"Authorization": f"Bearer {ADMIN}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _noisy_jpeg(pixels: int, seed: int) -> bytes:
    rng = random.Random(seed)
    width, height = int((pixels * 4 / 3) ** 0.5), int((pixels * 3 / 4) ** 0.5)
    noise = Image.effect_noise((width, height), 60).convert("RGB")
    tint = Image.new("RGB", (width, height), tuple(rng.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    Image.blend(noise, tint, 0.3).save(out, "JPEG", quality=90)
    return out.getvalue()


_BYTES_PER_PIXEL: list[float] = []


def jpeg(target_bytes: int, seed: int) -> bytes:
    """A noisy 4:3 JPEG of about `target_bytes` (noise does not compress; the bytes per pixel
    are measured once on a first image and reused)."""
    if not _BYTES_PER_PIXEL:
        probe = _noisy_jpeg(250_000, seed=0)
        _BYTES_PER_PIXEL.append(len(probe) / 250_000)
    return _noisy_jpeg(int(target_bytes / _BYTES_PER_PIXEL[0]), seed)


class Server:
    def __init__(self, root: Path, database_url: str | None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            **SECRETS,
            "PYTHONPATH": str(REPO / "plugins"),
            "MAIN_IMAGE_DATABASE_URL": database_url or f"sqlite:///{root / 'service.db'}",
            "MAIN_IMAGE_BLOB_URI": str(root / "blobs"),
            "MAIN_IMAGE_LANDING_DIR": str(root / "landing"),
            "MAIN_IMAGE_PUBLIC_BASE_URL": self.url,
            "MAIN_IMAGE_MAX_FILE_BYTES": str(25 * 1024 * 1024),
        }
        command = [sys.executable, "-m", "main_image.cli", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*command, "--log-level", "warning"], env=env, stderr=subprocess.DEVNULL
        )
        for _ in range(600):
            try:
                httpx.get(f"{self.url}/docs", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the service did not start")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def link(self, max_files: int = 10_000, hotel_id: int = 1) -> str:
        body = {"hotel_id": hotel_id, "source": "bench", "expires_in_seconds": 3600,
                "max_files": max_files}  # fmt: skip
        answer = httpx.post(f"{self.url}/v1/upload-links", json=body, headers=HEADERS)
        answer.raise_for_status()
        return answer.json()["upload_url"]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    cut = statistics.quantiles(ms, n=100, method="inclusive")
    return {"p50_ms": round(cut[49], 1), "p95_ms": round(cut[94], 1),
            "p99_ms": round(cut[98], 1), "max_ms": round(ms[-1], 1)}  # fmt: skip


def uploads(server: Server, images: list[bytes], clients: int) -> dict:
    url = server.link()
    latencies: list[float] = []
    lock = threading.Lock()

    def one(data: bytes, client: httpx.Client) -> None:
        started = time.perf_counter()
        answer = client.post(url, files=[("files", ("photo.jpg", data, "image/jpeg"))])
        elapsed = time.perf_counter() - started
        assert answer.status_code == 201, answer.text
        with lock:
            latencies.append(elapsed)

    per_client = [images[i::clients] for i in range(clients)]

    def run(batch: list[bytes]) -> None:
        with httpx.Client(timeout=120) as client:
            for data in batch:
                one(data, client)

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(run, per_client))
    wall = time.perf_counter() - started
    return {"measurement": f"uploads_{clients}_clients", "uploads": len(images),
            "mean_kb": round(sum(map(len, images)) / len(images) / 1024),
            "wall_s": round(wall, 2), "uploads_per_s": round(len(images) / wall, 1),
            **percentiles(latencies)}  # fmt: skip


def memory(server: Server, size_mb: int) -> dict:
    data = jpeg(size_mb * 1024 * 1024, seed=99)
    url = server.link()
    baseline = server.rss_mb()
    peak = baseline
    done = threading.Event()

    def poll() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, server.rss_mb())
            time.sleep(0.01)

    poller = threading.Thread(target=poll)
    poller.start()
    started = time.perf_counter()
    answer = httpx.post(url, files=[("files", ("big.jpg", data, "image/jpeg"))], timeout=300)
    elapsed = time.perf_counter() - started
    done.set()
    poller.join()
    assert answer.status_code == 201, answer.text
    width, height = answer.json()["images"][0]["width"], answer.json()["images"][0]["height"]
    return {"measurement": "memory_large_upload", "file_mb": round(len(data) / 2**20, 1),
            "pixels": f"{width}x{height}", "upload_s": round(elapsed, 2),
            "rss_before_mb": round(baseline, 1), "rss_peak_mb": round(peak, 1),
            "rss_growth_mb": round(peak - baseline, 1)}  # fmt: skip


def build_catalog(path: Path, count: int) -> float:
    """`count` images in a fresh migrated SQLite file, summary tables rebuilt; seconds taken."""
    sys.path.insert(0, str(REPO / "plugins"))
    from main_image.service import db, migrations, stats

    started = time.perf_counter()
    engine = db.make_engine(f"sqlite:///{path}")
    migrations.upgrade(engine)
    engine.dispose()
    rng = random.Random(7)
    mimes = ["image/jpeg"] * 7 + ["image/png"] * 2 + ["image/webp"]
    cameras = [f"Model {n}" for n in range(300)] + [None] * 100
    now = datetime.now(UTC)
    connection = sqlite3.connect(path)
    rows = (
        (2_000_000_000_000 + n, 1 + n // 50, "bench", "upload", None, f"{n:064x}", f"{n:016x}",
         800, 600, rng.choice(mimes), 200_000, "Make", rng.choice(cameras), None, None, None,
         (now - timedelta(seconds=rng.randrange(90 * 86400))).strftime("%Y-%m-%d %H:%M:%S.%f"),
         1, None)
        for n in range(count)
    )  # fmt: skip
    connection.executemany(f"insert into images values ({','.join('?' * 19)})", rows)
    connection.commit()
    connection.close()
    engine = db.make_engine(f"sqlite:///{path}")
    with db.transaction(db.session_factory(engine)) as session:
        stats.rebuild(session)
    engine.dispose()
    return time.perf_counter() - started


GROUP_BY = [
    "select mime_type, count(*) from images where deleted_at is null group by mime_type",
    "select camera_model, count(*) from images where deleted_at is null and camera_model is not "
    "null group by camera_model order by 2 desc limit 10",
    "select date(uploaded_at), count(*) from images where uploaded_at >= date('now', '-29 days') "
    "group by 1",
]


def stats_latency(root: Path, count: int, requests: int) -> list[dict]:
    path = root / "stats.db"
    build_s = build_catalog(path, count)
    server = Server(root / "stats", f"sqlite:///{path}")
    try:
        with httpx.Client(timeout=60) as client:
            client.get(f"{server.url}/v1/stats", headers=HEADERS).raise_for_status()  # warm
            latencies = []
            for _ in range(requests):
                started = time.perf_counter()
                client.get(f"{server.url}/v1/stats", headers=HEADERS).raise_for_status()
                latencies.append(time.perf_counter() - started)
    finally:
        server.stop()
    connection = sqlite3.connect(path)
    scans = []
    for _ in range(3):
        started = time.perf_counter()
        for query in GROUP_BY:
            connection.execute(query).fetchall()
        scans.append(time.perf_counter() - started)
    connection.close()
    return [
        {"measurement": "stats_summary_tables", "images": count, "requests": requests,
         "catalog_build_s": round(build_s, 1), **percentiles(latencies)},
        {"measurement": "stats_group_by_scan", "images": count, "runs": 3,
         "median_ms": round(statistics.median(scans) * 1000, 1)},
    ]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--large-mb", dest="large_mb", type=int, default=20)
    parser.add_argument("--stats-images", dest="stats_images", type=int, default=1_000_000)
    parser.add_argument("--stats-requests", dest="stats_requests", type=int, default=200)
    parser.add_argument("--database-url", dest="database_url", default=None)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="service-bench-") as tmp:
        root = Path(tmp)
        print(f"generating {2 * args.uploads} JPEGs of ~200 KB ...", file=sys.stderr)
        images = [jpeg(200 * 1024, seed) for seed in range(2 * args.uploads)]
        server = Server(root / "uploads", args.database_url)
        try:
            results.append(uploads(server, images[: args.uploads], clients=1))
            results.append(uploads(server, images[args.uploads :], clients=8))
            results.append(memory(server, args.large_mb))
        finally:
            server.stop()
        print(f"building a catalog of {args.stats_images:,} images ...", file=sys.stderr)
        results += stats_latency(root, args.stats_images, args.stats_requests)
    load = os.getloadavg()[0]
    for result in results:
        result["load_1min_after"] = round(load, 2)
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
