"""Smoke test of the benchmark script at a tiny size (1,000 hotels): every measurement runs,
the floor query selects the pipeline's winners, and one JSON object per measurement is written."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_bench_runs_at_a_tiny_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_bench()
    results = tmp_path / "results"
    code = bench.main(
        [
            "--size", "xs",
            "--data-dir", str(tmp_path / "data"),
            "--work-dir", str(tmp_path / "work"),
            "--results-dir", str(results),
        ]
    )
    assert code == 0
    table = capsys.readouterr().out
    for kind in ("generate", "full", "incremental", "no_input", "floor", "floor_typed"):
        assert f" {kind} " in table
    assert "full/floor_typed = " in table and "full/floor = " in table

    records = [json.loads(path.read_text()) for path in sorted(results.glob("*.json"))]
    by_kind = {record["kind"]: record for record in records}
    assert set(by_kind) == {"generate", "full", "incremental", "no_input", "floor", "floor_typed"}
    for record in records:
        assert record["size"] == "xs"
        assert record["wall_seconds"] > 0
        assert record["peak_rss_mb"] > 0
    for floor in ("floor", "floor_typed"):
        assert by_kind[floor]["output"]["matches_snapshot"] is True
        assert by_kind[floor]["output"]["winners"] == by_kind["full"]["output"]["snapshot"]
    assert by_kind["no_input"]["input_lines"] == 0
    assert by_kind["no_input"]["output"]["changes"] == 0
    assert by_kind["no_input"]["dbt"] == {"skipped": "no file landed and as_of unchanged"}
    assert by_kind["full"]["stages"]["transform"] > 0
    assert by_kind["full"]["dbt"]["models"], "per-model dbt timings"
