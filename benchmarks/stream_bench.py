"""Stream benchmark: messages per second into the landing zone, and produce-to-file latency.

    python benchmarks/stream_bench.py [--messages 50000] [--partitions 3] [--latency-samples 30]

Starts the bundled broker (Tansu, memory only) on a free loopback port, produces
``--messages`` image records of ~1 KB, then measures

* **throughput**: one drain (``main_image.stream.lander.Lander``, default flush of 10,000
  messages per file) from the group's join to the last commit, in messages/s and MB/s; the
  group join (~3 s) is reported apart;
* **latency**: a lander in ``follow`` mode with ``flush_messages=1``; one message at a time is
  produced and the time until its file is renamed into ``images/stream/`` is taken (p50, p95,
  max).

Prints a table and one JSON object. Wall times on a shared machine are noisy: the 1-minute load
average is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "plugins"))
sys.path.insert(0, str(REPO / "tests"))

from kafka_broker import FAST_GROUP, Broker  # noqa: E402
from main_image.stream import naming  # noqa: E402
from main_image.stream.config import StreamConfig  # noqa: E402
from main_image.stream.lander import Lander  # noqa: E402
from main_image.stream.writer import LocalLanding  # noqa: E402


def record(index: int) -> bytes:
    """An image record padded to ~1 KB (an unknown field, kept raw and ignored by dbt)."""
    body = {"hotel_id": 1 + index % 5000, "image_id": 1000 + index,
            "cdn_url": f"https://cdn.example.com/images/{index:032x}.jpg", "width": 1024,
            "height": 768, "created_at": "2024-06-01T10:00:00Z", "is_active": True,
            "hash": f"{index:016x}"}
    text = json.dumps(body)
    return json.dumps({**body, "note": "x" * max(0, 1000 - len(text))}).encode()


def throughput(broker: Broker, messages: int, partitions: int, root: Path) -> dict:
    broker.create_topic("bench", partitions)
    values = [record(i) for i in range(messages)]
    started = time.perf_counter()
    broker.produce("bench", values, [str(i).encode() for i in range(messages)])
    produce_seconds = time.perf_counter() - started
    landing = root / "throughput"
    marks: dict[str, float] = {}

    def progress(message: str) -> None:
        if message.startswith("assigned:"):
            marks["assigned"] = time.perf_counter()

    config = StreamConfig(bootstrap_servers=broker.bootstrap, topics=("bench",),
                          landing=str(landing), group_id="bench", kafka=FAST_GROUP)
    began = time.perf_counter()
    report = Lander(config, LocalLanding(landing), progress=progress,
                    install_signals=False).run()
    ended = time.perf_counter()
    totals = report.totals()
    assert totals["messages"] == messages, totals
    drain_seconds = ended - marks.get("assigned", began)
    return {"messages": messages, "partitions": partitions, "files": totals["files"],
            "bytes": totals["bytes"], "produce_seconds": round(produce_seconds, 3),
            "join_seconds": round(marks.get("assigned", began) - began, 3),
            "drain_seconds": round(drain_seconds, 3),
            "messages_per_second": round(messages / drain_seconds),
            "mb_per_second": round(totals["bytes"] / drain_seconds / 1e6, 2)}


def latency(broker: Broker, samples: int, root: Path) -> dict:
    broker.create_topic("latency", 1)
    landing = root / "latency"
    folder = landing / naming.STREAM_FOLDER
    config = StreamConfig(bootstrap_servers=broker.bootstrap, topics=("latency",),
                          landing=str(landing), group_id="latency", follow=True,
                          flush_messages=1, kafka={**FAST_GROUP, "fetch.wait.max.ms": 10})
    ready = threading.Event()

    def progress(message: str) -> None:
        if message.startswith("assigned:"):
            ready.set()

    lander = Lander(config, LocalLanding(landing), progress=progress, install_signals=False)
    thread = threading.Thread(target=lander.run, daemon=True)
    thread.start()
    assert ready.wait(60), "the latency lander was never assigned its partition"
    seconds = []
    for index in range(samples):
        before = len(list(folder.glob("*.jsonl"))) if folder.is_dir() else 0
        sent = time.perf_counter()
        broker.produce("latency", [record(index)])
        while (len(list(folder.glob("*.jsonl"))) if folder.is_dir() else 0) <= before:
            time.sleep(0.001)
        seconds.append(time.perf_counter() - sent)
    lander.stopping = True
    thread.join(30)
    seconds.sort()
    return {"samples": samples, "p50_ms": round(statistics.median(seconds) * 1000, 1),
            "p95_ms": round(seconds[int(0.95 * (len(seconds) - 1))] * 1000, 1),
            "max_ms": round(seconds[-1] * 1000, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--latency-samples", type=int, default=30)
    args = parser.parse_args()
    broker = Broker().start()
    try:
        with tempfile.TemporaryDirectory() as root:
            load_before = os.getloadavg()[0]
            result = {"throughput": throughput(broker, args.messages, args.partitions,
                                               Path(root)),
                      "latency": latency(broker, args.latency_samples, Path(root)),
                      "loadavg_before": round(load_before, 2),
                      "loadavg_after": round(os.getloadavg()[0], 2)}
    finally:
        broker.stop()
    t, lat = result["throughput"], result["latency"]
    print(f"throughput: {t['messages']} x ~1 KB messages, {t['partitions']} partitions, "
          f"{t['files']} files: {t['messages_per_second']} messages/s "
          f"({t['mb_per_second']} MB/s), drain {t['drain_seconds']} s after a "
          f"{t['join_seconds']} s group join")
    print(f"latency (flush every message): p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms, "
          f"max {lat['max_ms']} ms over {lat['samples']} messages")
    print(f"load average: {result['loadavg_before']} -> {result['loadavg_after']}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
