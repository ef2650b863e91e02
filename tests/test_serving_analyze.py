"""A large copy into the serving copy on PostgreSQL ends with ANALYZE (serving_publish.py), so
the next publication's ``hotel_id in (...)`` statements use the indexes instead of scanning
serving_candidates; a small one leaves statistics to autovacuum.

The warehouse is benchmarks/serving.py's synthetic one (2,000 hotels, the threshold lowered)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from main_image import serving_publish
from sqlalchemy import create_engine, text

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "serving.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("serving_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    cluster = load_bench()._pgcluster().start()  # tests/service/pgcluster.py
    if cluster is None:
        pytest.skip("PostgreSQL 15 binaries (initdb, pg_ctl) are not installed")
    try:
        yield cluster.url()
    finally:
        cluster.stop()


def analyzed(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("select relname from pg_stat_user_tables where last_analyze is not null")
            )
            names = {row[0] for row in rows}
            connection.execute(text("drop schema public cascade"))
            connection.execute(text("create schema public"))
            connection.commit()
    finally:
        engine.dispose()
    return names


@pytest.mark.parametrize("threshold", [1000, 5000])
def test_a_large_copy_is_analyzed(
    threshold: int, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = load_bench()
    warehouse = tmp_path / "warehouse.duckdb"
    bench.build_attempt_1(warehouse, 2000)
    monkeypatch.setattr(serving_publish, "ANALYZE_AFTER_HOTELS", threshold)
    published = bench.publish(warehouse, "postgresql", pg_url, "initial", 0)
    assert published.hotels == 2000
    expected = {"serving_main_images", "serving_candidates", "serving_changes"}
    assert analyzed(pg_url) == (expected if threshold <= 2000 else set())
