"""Smoke test of benchmarks/serving.py at a tiny size (2,000 hotels, SQLite only), in its own
process as it is run by hand: every publication step and both lookup layers report a figure,
and the figures say what the benchmark claims (the 1% publication copies 1% of the hotels, the
re-publication copies nothing, every lookup found its hotel)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "benchmarks" / "serving.py"


def test_serving_bench_runs_at_a_tiny_size() -> None:
    command = [sys.executable, str(BENCH), "--hotels", "2000", "--lookups", "200",
               "--warmup", "50", "--concurrency", "2", "--databases", "sqlite"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO / "plugins")}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout

    assert "| sqlite | initial copy (2,000 hotels) | 2,000 | 2,000 | 14,000 |" in out
    assert "| sqlite | 1% changed (20 hotels) | 20 | 20 | 140 |" in out
    assert "| sqlite | re-publication (nothing new) | 0 | 0 | 0 |" in out
    assert "| sqlite | in-process | 1 | 200 |" in out
    assert "| sqlite | http | 2 | 200 |" in out
    assert "postgresql" not in out

    records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    steps = {r["step"]: r for r in records if r["measurement"] == "publication"}
    assert steps["initial copy (2,000 hotels)"]["rows_per_second"] > 0
    assert steps["re-publication (nothing new)"]["changes"] == 0
    lookups = {r["layer"]: r for r in records if r["measurement"] == "lookups"}
    assert set(lookups) == {"in-process", "http"}
    for layer in lookups.values():
        assert layer["lookups"] == 200 and layer["per_second"] > 0
        assert 0 < layer["p50_ms"] <= layer["p99_ms"] <= layer["max_ms"]
    assert lookups["http"]["server_cpu_ms_per_lookup"] > 0
    assert "serving copy: 20 changes of 1 run(s), 20 hotels' main images" in done.stderr
