"""The same dbt project on BigQuery (the local emulator) gives exactly DuckDB's results.

Generated data (two deliveries, plus hand-written edge cases) is run twice through the DuckDB
pipeline and twice through the BigQuery pipeline (loader with load jobs, `dbt build --target
bq_emulator` with the same vars, exports) on an emulator started for this module; the second
BigQuery run lands its files from (fake) GCS, re-delivers the first run's files and writes its
exports to (fake) GCS. The change log, the snapshot, the rejected
records, the run metrics and the export files must be equal (scores within 1e-9). Any
divergence of a `bigquery__` macro from its DuckDB twin shows up here.

Run with `make test-bigquery` (needs `.venv-bqemulator`, built by `make setup-bqemulator`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import PipelineHarness, read_jsonl
from main_image.bq_emulator import emulator_available, running_emulator
from main_image.generate import GenerateConfig, generate
from main_image.settings import FEEDS
from main_image.warehouse import RunParameters

pytestmark = [pytest.mark.bigquery, pytest.mark.timeout(600)]

HOTELS = 50
SEED = 20240701
MALFORMED_RATE = 0.05  # every defect kind of the generator shows up
DATASET_PREFIX = "mi_"  # exercises the <prefix><layer> datasets terraform creates

_IMAGE = {
    "hotel_id": 9001, "image_id": 900000001, "cdn_url": "https://cdn.example.com/9001/1.jpg",
    "width": 1920, "height": 1080, "created_at": "2024-06-01", "is_active": True,
    "hash": "0123456789abcdef",
}


def _image(image_id: int, **changes: Any) -> str:
    record = {**_IMAGE, "image_id": image_id, **changes}
    return json.dumps({key: value for key, value in record.items() if value is not _MISSING})


_MISSING = object()

#: Hand-written lines at the edges of the JSON, regex and timestamp macros, landed with the
#: first delivery (hotels 9001-9004). Each engine must accept and reject exactly the same ones.
EDGE_CASES: dict[str, list[str]] = {
    "images": [
        _image(900000001),
        _image(900000002, created_at="2024-06-01T10:00"),
        _image(900000003, created_at="2024-06-01T01:30:00+02:00"),  # UTC: the day before
        _image(900000004, created_at="2024-06-01 23:30:00.123-0530"),  # UTC: the day after
        _image(900000005, created_at="2024-06-01T10:00:00Z", width=300, height=1000),  # ratio 0.3
        _image(900000006, created_at="2024-02-30"),
        _image(900000007, created_at="2024-6-1"),
        _image(900000008, created_at="2024-06-01T10:00:00.1234567"),
        _image(900000009, created_at=20240601),
        _image(900000010, hotel_id="9001"),
        _image(900000011, hotel_id=9001.0),
        _image(900000012, hotel_id=None),
        _image(900000013, hotel_id=_MISSING),
        _image(900000014, hotel_id=99999999999999999999),
        _image(999),
        _image(900000016, hash="0123456789ABCDEF"),
        _image(900000017, hash="0123456789abcdef0123"),
        _image(900000018, cdn_url="ftp://cdn.example.com/x.jpg"),
        _image(900000019, cdn_url="https://"),
        _image(900000020, cdn_url="http://cdn.example.com"),
        _image(900000021, cdn_url="https://cdn.example.com/a b.jpg"),
        _image(900000022, cdn_url="https://cdn.example.com/\u00e9t\u00e9.jpg"),
        _image(900000023, cdn_url="HTTPS://CDN.EXAMPLE.COM/UPPER.JPG"),
        _image(900000024, width="640"),
        _image(900000025, width=-1),
        _image(900000026, width=1.5),
        _image(900000027, height=0, hotel_id=9002),
        _image(900000028, is_active="true"),
        _image(900000029, is_active=None),
        _image(900000030, is_active=False, hotel_id=9003),
        _image(900000031, gps_lat=1.0000000000000002, file_size_bytes=1e3, extra={"a": [1]}),
        _image(900000032, width=465, height=100, hotel_id=9004),  # ratio 4.65
        _image(900000033).replace("https://cdn.example.com/", r"https:\/\/cdn.example.com\/"),
        '{"hotel_id": 9001, "image_id": 900000034, "cdn_url": "https://cdn.example.com/d", '
        '"width": 10, "height": 10, "created_at": "2024-06-01", "is_active": true, '
        '"hash": "0123456789abcdef", "hotel_id": 9002}',
        "",
        "{not json",
        "[1, 2]",
        '"a string"',
        "null",
        "{}",
        "\u00e9\U0001F600 not json",
    ],
    "image_tags": [
        '{"image_id": 900000001, "tags": [{"tag": "bar", "version": "v1-0-0", "probability": 0.5},'
        ' {"tag": "bathroom", "version": "v1-0-0", "probability": 0.5}]}',
        '{"image_id": 900000002, "tags": [{"tag": "beach", "version": "v10-0-0", "probability": 1},'
        ' {"tag": "gym", "version": "v10-0-0", "probability": 0}]}',
        '{"image_id": 900000002, "tags": [{"tag": "bar", "version": "v9-9-9", "probability": 1}]}',
        '{"image_id": 900000003, "tags": []}',
        '{"image_id": 900000003, "tags": {}}',
        '{"image_id": 900000003, "tags": null}',
        '{"image_id": 900000003, "tags": [null]}',
        '{"image_id": 900000003, "tags": ["bar"]}',
        '{"image_id": 900000003, "tags": [{"tag": "bar", "version": "v1-0-0", '
        '"probability": "0.5"}]}',
        '{"image_id": 900000003, "tags": [{"tag": "bar", "version": "v1-0-0", '
        '"probability": null}]}',
        '{"image_id": 900000003, "tags": [{"tag": "bar", "version": "v1-0-0"}]}',
        '{"image_id": 900000003, "tags": [{"tag": null, "version": "v1-0-0", "probability": 0.1}]}',
        '{"image_id": 900000003, "tags": [{"tag": "bar", "version": "v1-0", "probability": 0.1}]}',
        '{"image_id": 900000004, "tags": [{"tag": "\\u00e9t\\u00e9", "version": "v2-0-0", '
        '"probability": 0.25}, {"tag": "a\\"b", "version": "v2-0-0", "probability": 0.25}]}',
        '{"image_id": "900000005", "tags": []}',
        '{"tags": []}',
    ],
    "obiq_scores": [
        '{"image_id": 900000001, "obiq_score": 0.5, "version": "v1"}',
        '{"image_id": 900000001, "obiq_score": 1, "version": "v2"}',
        '{"image_id": 900000002, "obiq_score": "0.5", "version": "v1"}',
        '{"image_id": 900000002, "obiq_score": 1e-1, "version": "v1"}',
        '{"image_id": 900000003, "obiq_score": 0.5, "version": ""}',
        '{"image_id": 900000003, "obiq_score": 0.5, "version": 1}',
        '{"image_id": 900000003, "obiq_score": null, "version": "v1"}',
    ],
    "main_images": [
        '{"key": {"hotel_id": 9001}, "value": {"image_id": 900000099, '
        '"cdn_url": "https://x.io/a"}}',
        '{"key": {"hotel_id": 9005}, "value": null}',
        '{"key": {"hotel_id": 9006}, "value": "none"}',
        '{"key": {"hotel_id": "9007"}, "value": null}',
        '{"key": {"hotel_id": 9008}, "value": {"image_id": 999, "cdn_url": "https://x.io/a"}}',
        '{"key": {"hotel_id": 9009}, "value": {"image_id": 900000001, "cdn_url": "x.io/a"}}',
        '{"key": {"hotel_id": 9010}}',
        '{"key": null, "value": null}',
    ],
    "admin_overrides": [
        '{"hotel_id": 9001, "image_id": 900000002, "set_by": "ops", '
        '"set_at": "2024-06-02T00:00:00Z"}',
        '{"hotel_id": 9001, "image_id": 900000003, "set_by": "ops", '
        '"set_at": "2024-06-01T23:00:00-02:00"}',
        '{"hotel_id": 9002, "image_id": null, "set_by": "ops", "set_at": "2024-06-02T00:00:00Z"}',
        '{"hotel_id": 9003, "set_by": "ops", "set_at": "2024-06-02T00:00:00Z"}',
        '{"hotel_id": 9004, "image_id": "x", "set_by": "ops", "set_at": "2024-06-02T00:00:00Z"}',
        '{"hotel_id": 9004, "image_id": 900000032, "set_by": "", "set_at": "2024-06-02T00:00:00Z"}',
        '{"hotel_id": 9004, "image_id": 900000032, "set_by": "qa", "set_at": "2024-06-02"}',
    ],
    "user_events": [
        '{"event_id": 1, "event_type": "click", "occurred_at": "2024-06-30T23:59:59+00:00", '
        '"hotel_id": 9001, "image_id": 900000001, "search_term": null, "user_id": 7}',
        '{"event_id": "e2", "event_type": "impression", '
        '"occurred_at": "2024-07-01T00:30:00+01:00", "hotel_id": 9001, "image_id": 900000001, '
        '"search_term": "berlin", "user_id": "u7"}',
        '{"event_id": "e3", "event_type": "report", "occurred_at": "2024-07-01", '
        '"hotel_id": 9001, "image_id": null, "user_id": "u8"}',
        '{"event_id": "e4", "event_type": "report", "occurred_at": "2024-07-01", '
        '"hotel_id": 9001, "image_id": "x", "user_id": "u8"}',
        '{"event_id": "", "event_type": "click", "occurred_at": "2024-07-01", "hotel_id": 9001}',
        '{"event_id": "e6", "event_type": "view", "occurred_at": "2024-07-01", "hotel_id": 9001}',
        '{"event_id": "e7", "event_type": "click", "occurred_at": "soon", "hotel_id": 9001}',
    ],
}

CHANGES_SQL = """
    select
        run_id, invocation_seq, as_of, hotel_id, change_type, previous_image_id,
        previous_cdn_url, image_id, cdn_url, score, scoring_version, selection_source, change_id
    from marts.fct_main_image_changes
    order by invocation_seq, hotel_id
"""
SNAPSHOT_SQL = """
    select hotel_id, image_id, cdn_url, selection_source, score, scoring_version, run_id,
        invocation_seq
    from marts.fct_main_image_snapshot
    order by hotel_id
"""
REJECTED_SQL = """
    select feed, file_seq, line_number, rejection_reason, line, rejected_record_id
    from marts.fct_rejected_records
    order by feed, file_seq, line_number
"""
RUN_METRICS_SQL = f"""
    select
        run_id, as_of, scoring_version, last_invocation_seq, images_processed, hotels_with_images,
        main_images_new, main_images_updated, main_images_deleted, main_images_from_overrides,
        {", ".join(f"rejected_{feed}" for feed in FEEDS)}
    from reporting.rpt_run_metrics
    order by run_id
"""
SCOPE_SQL = "select hotel_id, scope_reason from staging.int_hotels_in_scope order by hotel_id"
IMAGES_SQL = """
    select image_id, hotel_id, cdn_url, width, height, created_at, created_date, is_active,
        image_hash, file_seq, line_number
    from staging.int_images_latest
    order by image_id
"""
TAGS_SQL = """
    select image_id, tag_version, top_tag, top_tag_probability, file_seq, line_number
    from staging.int_image_tag_versions
    order by image_id, tag_version
"""
OVERRIDES_SQL = """
    select hotel_id, override_image_id, set_by, set_at, file_seq, line_number
    from staging.int_admin_overrides_latest
    order by hotel_id
"""
ENGAGEMENT_SQL = """
    select event_date, hotel_id, image_id, impressions, clicks, reports, distinct_users
    from reporting.rpt_image_engagement_daily
    order by event_date, hotel_id, image_id
"""
TABLES = {
    "changes": CHANGES_SQL,
    "snapshot": SNAPSHOT_SQL,
    "rejected": REJECTED_SQL,
    "run_metrics": RUN_METRICS_SQL,
    "images_latest": IMAGES_SQL,
    "tag_versions": TAGS_SQL,
    "overrides": OVERRIDES_SQL,
    "engagement": ENGAGEMENT_SQL,
}


@dataclass
class EngineRun:
    """What one engine produced for the whole history: tables after the last run, the scope
    of every run, and the export files of every run."""

    tables: dict[str, list[tuple]]
    scopes: list[list[tuple]]
    exports: list[dict[str, Any]]


@dataclass(frozen=True)
class History:
    runs: list[tuple[RunParameters, dict[str, list[Path]]]]
    root: Path  # the generated deliveries: root/delivery-01/<feed>/part-*.jsonl, ...


class FakeStorage:
    """A google.cloud.storage.Client stand-in over local folders (bucket name -> folder): the
    BigQuery path lands gs:// objects and writes gs:// exports through it."""

    def __init__(self, buckets: dict[str, Path]) -> None:
        self.buckets = buckets

    def list_blobs(self, bucket: str, prefix: str = "") -> list[Any]:
        root = self.buckets[bucket]
        files = (path for path in root.rglob("*") if path.is_file())
        names = sorted(path.relative_to(root).as_posix() for path in files)
        return [SimpleNamespace(name=name) for name in names if name.startswith(prefix)]

    def bucket(self, bucket: str) -> Any:
        root = self.buckets[bucket]

        def blob(name: str) -> Any:
            def open_blob(mode: str = "rb", **kwargs: Any) -> Any:
                path = root / name
                if "w" in mode:
                    path.parent.mkdir(parents=True, exist_ok=True)
                return path.open(mode, **kwargs)

            return SimpleNamespace(open=open_blob)

        return SimpleNamespace(blob=blob)


def _delivery_files(delivery: Path) -> dict[str, list[Path]]:
    return {
        feed: sorted((delivery / feed).glob("*.jsonl"))
        for feed in FEEDS
        if (delivery / feed).is_dir()
    }


EXPORT_NAMES = ("changes.jsonl", "snapshot.jsonl", "metrics.json")


def _read_exports(directory: Path) -> dict[str, Any]:
    return {name.split(".")[0]: read_jsonl(directory / name) for name in EXPORT_NAMES}


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    out = tmp_path_factory.mktemp("generated")
    result = generate(
        GenerateConfig(hotels=HOTELS, seed=SEED, deliveries=2, malformed_rate=MALFORMED_RATE), out
    )
    for feed, lines in EDGE_CASES.items():  # after the generated part of delivery 1
        path = result.deliveries[0] / feed / "part-99999-edge-cases.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    runs = [
        (RunParameters(run_id=f"run-{index + 1}", as_of=as_of), _delivery_files(delivery))
        for index, (delivery, as_of) in enumerate(
            zip(result.deliveries, result.as_of_dates, strict=True)
        )
    ]
    return History(runs, out)


@pytest.fixture(scope="module")
def duckdb_run(history: History, tmp_path_factory: pytest.TempPathFactory) -> EngineRun:
    root = tmp_path_factory.mktemp("duckdb")
    harness = PipelineHarness(root=root, warehouse=root / "warehouse.duckdb")
    scopes, exports = [], []
    for params, files in history.runs:
        result = harness.run(files, params.as_of, run_id=params.run_id)
        scopes.append(harness.query(SCOPE_SQL))
        exports.append(_read_exports(result.outputs.changes.parent))
    tables = {name: harness.query(sql) for name, sql in TABLES.items()}
    return EngineRun(tables, scopes, exports)


@pytest.fixture(scope="module")
def bigquery_run(history: History, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineRun]:
    if not emulator_available():
        pytest.skip("BigQuery emulator venv .venv-bqemulator missing: run `make setup-bqemulator`")
    pytest.importorskip("google.cloud.bigquery")
    from main_image import bigquery as bq

    root = tmp_path_factory.mktemp("bigquery")
    with running_emulator(timeout=120) as emu:
        config = bq.BigQueryConfig.for_emulator(
            emu.endpoint, emu.project, DATASET_PREFIX, dbt_target_path=root / "dbt-target"
        )
        storage = FakeStorage({"landing": history.root, "exports": root / "gcs-exports"})
        warehouse = bq.BigQueryWarehouse(config, storage_client=storage)
        scopes, exports = [], []
        (first, first_files), (second, _) = history.runs
        # run 1 lands local files; run 2 lands its delivery from "GCS", re-delivers run 1's
        # files (skipped by content hash) and writes its exports to "GCS"
        bq.run_pipeline(
            warehouse, first, first_files,
            bq.Outputs(*(root / "exports-1" / name for name in EXPORT_NAMES)),
        )  # fmt: skip
        scopes.append(warehouse.fetchall(SCOPE_SQL))
        exports.append(_read_exports(root / "exports-1"))
        gcs_files = bq.discover_gcs_files("gs://landing/delivery-02", storage)
        assert sum(map(len, gcs_files.values())) > 0
        files = {feed: [*first_files.get(feed, []), *gcs_files[feed]] for feed in FEEDS}
        result = bq.run_pipeline(
            warehouse, second, files,
            bq.Outputs(*(f"gs://exports/run-2/{name}" for name in EXPORT_NAMES)),
        )  # fmt: skip
        skipped = {str(item.path) for item in result.loaded if item.skipped}
        assert skipped == {str(path) for paths in first_files.values() for path in paths}
        assert all(str(item.path).startswith("gs://") for item in result.loaded if not item.skipped)
        scopes.append(warehouse.fetchall(SCOPE_SQL))
        exports.append(_read_exports(root / "gcs-exports" / "run-2"))
        tables = {name: warehouse.fetchall(sql) for name, sql in TABLES.items()}
        yield EngineRun(tables, scopes, exports)


#: Absolute tolerance of float columns (scores: SPEC precision).
FLOAT_TOLERANCE = 1e-9
#: Relative tolerance of values DuckDB stores as 32-bit FLOAT: `api.Column.translate_type('float')`
#: is FLOAT4 on DuckDB and FLOAT64 on BigQuery (json_to_double), e.g. 0.550000011920929 / 0.55.
FLOAT32_TOLERANCE = 1e-7


def _same_value(left: Any, right: Any, rel_tol: float = 0.0) -> bool:
    if isinstance(left, float) or isinstance(right, float):
        if left is None or right is None:
            return left is right
        return math.isclose(float(left), float(right), rel_tol=rel_tol, abs_tol=FLOAT_TOLERANCE)
    if hasattr(left, "tzinfo") and hasattr(right, "tzinfo") and hasattr(left, "hour"):
        # DuckDB returns naive UTC timestamps, BigQuery aware ones
        return left.replace(tzinfo=None) == right.replace(tzinfo=None)
    return bool(left == right)


def assert_rows_equal(name: str, duck: list[tuple], bq: list[tuple], rel_tol: float = 0.0) -> None:
    assert len(duck) == len(bq), f"{name}: DuckDB has {len(duck)} rows, BigQuery {len(bq)}"
    for index, (left, right) in enumerate(zip(duck, bq, strict=True)):
        assert len(left) == len(right), f"{name} row {index}: column counts differ"
        if not all(_same_value(a, b, rel_tol) for a, b in zip(left, right, strict=True)):
            pytest.fail(f"{name} row {index} differs:\n  duckdb:   {left}\n  bigquery: {right}")


def test_the_history_is_not_trivial(duckdb_run: EngineRun) -> None:
    """Equality below only means something if the runs exercise the interesting paths."""
    changes = duckdb_run.tables["changes"]
    runs = {row[0] for row in changes}
    kinds = {row[4] for row in changes}
    assert runs == {"run-1", "run-2"}, "both runs must emit changes"
    assert {"new", "updated", "deleted"} <= kinds
    assert duckdb_run.tables["rejected"], "the generator writes malformed lines"
    assert duckdb_run.tables["tag_versions"] and duckdb_run.tables["overrides"]
    assert 0 < len(duckdb_run.scopes[1]) < len(duckdb_run.scopes[0]), "run 2 is incremental"


@pytest.mark.parametrize("table", ["changes", "snapshot"])
def test_changes_and_snapshot_equal(duckdb_run: EngineRun, bigquery_run: EngineRun,
                                    table: str) -> None:
    assert_rows_equal(table, duckdb_run.tables[table], bigquery_run.tables[table])


@pytest.mark.parametrize(
    "table", ["rejected", "run_metrics", "images_latest", "tag_versions", "overrides", "engagement"]
)
def test_other_tables_equal(duckdb_run: EngineRun, bigquery_run: EngineRun, table: str) -> None:
    rel_tol = FLOAT32_TOLERANCE if table == "tag_versions" else 0.0  # top_tag_probability
    assert_rows_equal(table, duckdb_run.tables[table], bigquery_run.tables[table], rel_tol)


def test_every_run_has_the_same_scope(duckdb_run: EngineRun, bigquery_run: EngineRun) -> None:
    for index, (duck, bq) in enumerate(zip(duckdb_run.scopes, bigquery_run.scopes, strict=True)):
        assert_rows_equal(f"int_hotels_in_scope after run {index + 1}", duck, bq)


def test_exports_equal(duckdb_run: EngineRun, bigquery_run: EngineRun) -> None:
    for index, (duck, bq) in enumerate(zip(duckdb_run.exports, bigquery_run.exports, strict=True)):
        for name in ("changes", "snapshot", "metrics"):
            assert duck[name] == bq[name], f"run {index + 1}: {name} export differs"
