"""The analytics marts (issue 15) on hand-made landing data: strict parsing of the optional
image fields, search events and event dedup in staging, and the figures of every rpt_ model.

Two runs of the real pipeline (`dbt build`: the models' data and unit tests run too) over
tests/analytics_fixtures.py; the expected figures are worked out from those lines.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from analytics_fixtures import (
    AS_OF,
    BROKEN_DIMENSIONS,
    BROKEN_EVENTS,
    BROKEN_LINES,
    DELIVERIES,
    DELIVERY_1_IMAGES,
    DELIVERY_2_IMAGES,
    assert_images_processed_conserved,
)
from conftest import PipelineHarness, chromium_or_skip

SHADOW_VERSION = "v2"


@pytest.fixture(scope="module")
def analytics_run(tmp_path_factory: pytest.TempPathFactory) -> PipelineHarness:
    root = tmp_path_factory.mktemp("analytics")
    harness = PipelineHarness(root=root, warehouse=root / "warehouse.duckdb")
    # v2 in shadow beside the active v1: rpt_scoring_shadow gets a row per run for the
    # dashboard's page (nothing of the shadow version is published)
    for number, (delivery, as_of) in enumerate(zip(DELIVERIES, AS_OF, strict=True), start=1):
        harness.run(harness.write_files(f"d{number}", delivery), as_of,
                    shadow_scoring_version=SHADOW_VERSION)
    return harness


def test_optional_image_fields_are_parsed_or_rejected(analytics_run: PipelineHarness) -> None:
    rows = analytics_run.query(
        "select image_id, rejection_reason from staging.stg_images "
        "where image_id between 3000 and 3999 order by image_id"
    )
    expected = {
        **{int(line.split('"image_id": ')[1].split(",")[0]): reason
           for reason, line in BROKEN_LINES.items()},
        **{int(line.split('"image_id": ')[1].split(",")[0]): reason
           for reason, line in BROKEN_DIMENSIONS.items()},
    }
    assert dict(rows) == expected
    staged = analytics_run.query(
        "select image_source, channel, mime_type, file_size_bytes, uploaded_at, camera_make, "
        "camera_model, gps_lat, gps_lon from staging.stg_images "
        "where image_id = 1002 and rejection_reason is null"
    )
    assert staged == [("acme", "upload", "image/JPEG", 2000,
                       datetime(2024, 7, 1, 1, 0), "Canon", "EOS R5",
                       None, None)]
    absent = analytics_run.query(
        "select image_source, channel, mime_type, file_size_bytes, uploaded_at, gps_lat "
        "from staging.stg_images where image_id in (2002, 2003) and rejection_reason is null"
    )
    assert absent == [(None,) * 6] * 2


def test_search_events_and_dedup(analytics_run: PipelineHarness) -> None:
    rejected = analytics_run.query(
        "select event_id, rejection_reason from staging.stg_user_events "
        "where rejection_reason is not null order by event_id"
    )
    assert dict(rejected) == BROKEN_EVENTS
    events = analytics_run.query(
        "select event_id, count(*) from staging.int_user_events_deduplicated "
        "group by event_id order by event_id"
    )
    assert events == [(e, 1) for e in ["i1", "r1", "r2", "r3", "s1", "s2", "s3", "s4"]]


def test_images_processed_daily(analytics_run: PipelineHarness) -> None:
    rows = analytics_run.query(
        "select processed_date, source, channel, mime_type, records_received, records_valid, "
        "records_rejected, new_images, images_known_by_content "
        "from reporting.rpt_images_processed_daily "
        "where source <> 'broken-co' order by 1, 2, 3, 4"
    )
    first, second = AS_OF
    broken_unknown_source = 1  # the empty source
    assert rows == [
        (first, "acme", "upload", "image/jpeg", 2, 2, 0, 2, 1),
        (first, "beta", "feed", "image/png", 1, 1, 0, 1, 0),
        (first, "unknown", "feed", "image/jpeg", broken_unknown_source, 0, 1, 0, 0),
        (first, "unknown", "unknown", "unknown", 3, 2, 1, 2, 0),
        (second, "acme", "stream", "image/jpeg", 2, 2, 0, 2, 1),
        (second, "acme", "upload", "image/jpeg", 1, 1, 0, 0, 0),
    ]
    broken = analytics_run.query(
        "select mime_type, sum(records_rejected), sum(records_valid) "
        "from reporting.rpt_images_processed_daily where source = 'broken-co' "
        "group by 1 order by 1"
    )
    assert broken == [("image/jpeg", len(BROKEN_LINES) + 1, 0), ("unknown", 1, 0)]


def test_images_processed_add_up_to_the_staged_records(analytics_run: PipelineHarness) -> None:
    """The invariant of issue 15 (the property test checks it after random histories too)."""
    assert_images_processed_conserved(analytics_run)
    total = len(DELIVERY_1_IMAGES) + len(DELIVERY_2_IMAGES)
    assert analytics_run.query(
        "select sum(records_received) from reporting.rpt_images_processed_daily") == [(total,)]


def test_rejected_records_per_source_and_reason(analytics_run: PipelineHarness) -> None:
    rows = analytics_run.query(
        "select feed, source, rejection_reason, sum(rejected_records) "
        "from reporting.rpt_rejected_records_daily group by 1, 2, 3 order by 1, 2, 3"
    )
    expected = sorted(
        [("images", "broken-co", reason, 1) for reason in BROKEN_LINES]
        + [("images", "broken-co", "invalid_file_size_bytes", 1),
           ("images", "broken-co", "invalid_mime_type", 1),
           ("images", "unknown", "invalid_json", 1),
           ("images", "unknown", "invalid_source", 1),
           ("user_events", "unknown", "invalid_image_id", 2),
           ("user_events", "unknown", "invalid_search_term", 1)]
    )
    merged: dict[tuple, int] = {}
    for feed, source, reason, count in expected:
        merged[(feed, source, reason)] = merged.get((feed, source, reason), 0) + count
    assert rows == [(*key, count) for key, count in sorted(merged.items())]


def test_search_terms_and_reported_images(analytics_run: PipelineHarness) -> None:
    assert analytics_run.query(
        "select search_date, search_term, searches, distinct_users "
        "from reporting.rpt_search_terms_daily order by 1, 2"
    ) == [
        (date(2024, 6, 30), "berlin", 2, 2),
        (date(2024, 6, 30), "paris", 1, 1),
        (date(2024, 7, 2), "berlin", 1, 1),
    ]
    reported = analytics_run.query(
        "select image_id, search_term, hotel_id, reports, distinct_reporters, "
        "cast(first_reported_at as varchar), cast(last_reported_at as varchar) "
        "from reporting.rpt_reported_images_by_search_term order by 1, 2 nulls last"
    )
    assert reported == [
        (1002, "berlin", 1, 2, 2, "2024-06-30 10:02:00", "2024-06-30 11:02:00"),
        (1002, None, 1, 1, 1, "2024-06-30 12:02:00", "2024-06-30 12:02:00"),
    ]
    main = analytics_run.query(
        "select r.is_current_main_image, s.image_id is not null "
        "from reporting.rpt_reported_images_by_search_term r "
        "left join marts.fct_main_image_snapshot s on s.image_id = r.image_id"
    )
    assert all(left == right for left, right in main)


def test_formats_cameras_uploads_duplicates(analytics_run: PipelineHarness) -> None:
    formats = analytics_run.query(
        "select mime_type, images, images_with_size, total_file_size_bytes "
        "from reporting.rpt_image_formats order by 1"
    )
    # latest states: 1001 (no size in its second record), 1002, 1003, 1004 jpeg; 2001 png;
    # 2002, 2003 unknown
    assert formats == [("image/jpeg", 4, 1, 2000), ("image/png", 1, 0, None),
                       ("unknown", 2, 0, None)]
    assert analytics_run.query(
        "select camera_rank, camera_make, camera_model, images, hotels "
        "from reporting.rpt_camera_models order by 1"
    ) == [(1, "Canon", "EOS R5", 4, 1), (2, "Sony", "A7 IV", 1, 1)]
    assert analytics_run.query(
        "select upload_date, uploads from reporting.rpt_uploads_daily order by 1"
    ) == [(date(2024, 6, 28), 1), (date(2024, 6, 29), 0), (date(2024, 6, 30), 0),
          (date(2024, 7, 1), 1), (date(2024, 7, 2), 1)]
    groups = analytics_run.query(
        "select hotel_id, image_id, group_size, is_representative "
        "from reporting.rpt_duplicate_images order by 1, 2"
    )
    assert [row[:3] for row in groups] == [(1, 1001, 3), (1, 1002, 3), (1, 1004, 3)]
    assert sum(row[3] for row in groups) == 1


def test_the_dashboard_queries_run(analytics_run: PipelineHarness, tmp_path: Path) -> None:
    from main_image.dashboard import queries
    from main_image.dashboard.source import DuckDBSource

    source = DuckDBSource(analytics_run.warehouse)
    filters = queries.Filters(start=date(2024, 6, 1), end=date(2024, 7, 31), sources=("acme",))
    frames = [source.query(sql) for sql in queries.all_queries(filters)]
    images = source.query(queries.images_processed(filters))
    assert set(images["source"]) == {"acme"} and images["records_received"].sum() == 5
    assert all(frame is not None for frame in frames)
    shadow = source.query(queries.scoring_shadow(filters))
    assert shadow["run_id"].tolist() == ["run-002", "run-001"]  # the latest first
    assert set(shadow["shadow_scoring_version"]) == {SHADOW_VERSION}
    assert shadow["hotels_compared"].tolist() == [
        count for (count,) in analytics_run.query(
            "select hotels_compared from reporting.rpt_scoring_shadow "
            "order by invocation_seq desc")]
    # the date filter applies to the runs' as_of
    only_first = queries.Filters(start=AS_OF[0], end=AS_OF[0])
    assert source.query(queries.scoring_shadow(only_first))["run_id"].tolist() == ["run-001"]


#: DuckDB column types of the reporting marts as BigQuery types (what dbt-bigquery builds)
_BIGQUERY_TYPES = {"INTEGER": "INT64", "BIGINT": "INT64", "HUGEINT": "INT64", "DOUBLE": "FLOAT64",
                   "VARCHAR": "STRING", "DATE": "DATE", "TIMESTAMP": "TIMESTAMP",
                   "TIMESTAMP WITH TIME ZONE": "TIMESTAMP", "BOOLEAN": "BOOL"}


def _plain(value: Any) -> Any:
    """A cell of either engine's frame as a comparable Python value (DuckDB gives dates as
    midnight Timestamps and NaN for NULL, BigQuery dates, nullable Int64 and NA)."""
    import pandas as pd

    if isinstance(value, str):
        return value
    if value is None or pd.isna(value):
        return None
    if isinstance(value, datetime):  # pandas' Timestamp too: naive UTC, a date at midnight
        value = value.replace(tzinfo=None)
        return value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, float) or type(value).__name__.startswith("float"):
        return round(float(value), 9)
    if type(value).__name__.startswith(("int", "uint")):
        return int(value)
    return value


@pytest.mark.bigquery
def test_the_dashboard_queries_read_the_same_on_bigquery(analytics_run: PipelineHarness) -> None:
    """Every page's SQL on the BigQuery emulator gives what it gives on DuckDB: the marts the
    dashboard reads are copied from the fixture's warehouse (BigQuery types, as dbt-bigquery
    builds them), then every query of ``all_queries`` runs through both sources. It checks the
    rendering (backquoted dataset), the types and the BigQuery client path; the emulator
    executes on DuckDB and accepts some DuckDB-only syntax (``count(*) filter``,
    ``list_value``), so the query text keeps to what both engines have."""
    import re

    from main_image.dashboard import queries
    from main_image.dashboard.source import DuckDBSource, SourceConfig, open_source
    from main_image.dev.bq_emulator import emulator_available, running_emulator

    if not emulator_available():
        pytest.skip("BigQuery emulator venv .venv-bqemulator missing: `make setup-bqemulator`")
    filters = queries.Filters(start=date(2024, 6, 1), end=date(2024, 7, 31))
    sqls = queries.all_queries(filters)
    tables = sorted({name for sql in sqls for name in re.findall(r"\{reporting\}\.(\w+)", sql)})
    assert "rpt_scoring_shadow" in tables
    duck = DuckDBSource(analytics_run.warehouse)
    with running_emulator(timeout=120) as emulator:
        bigquery = open_source(SourceConfig.from_env({
            "MAIN_IMAGE_DBT_TARGET": "bq_emulator",
            "MAIN_IMAGE_BQ_EMULATOR_ENDPOINT": emulator.endpoint,
            "MAIN_IMAGE_BQ_EMULATOR_PROJECT": emulator.project,
        }))
        client = bigquery.client()
        dataset = f"{emulator.project}.reporting"
        client.create_dataset(dataset)
        for table in tables:
            columns = analytics_run.query(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'reporting' and table_name = ? order by ordinal_position",
                [table])
            ddl = ", ".join(f"{name} {_BIGQUERY_TYPES[kind]}" for name, kind in columns)
            client.query(f"create table `{dataset}`.{table} ({ddl})").result()
            rows = [
                {name: value.isoformat() if isinstance(value, date) else value
                 for (name, _), value in zip(columns, row, strict=True)}
                for row in analytics_run.query(f"select * from reporting.{table}")
            ]
            if rows:
                assert not client.insert_rows_json(f"{dataset}.{table}", rows)
        for sql in sqls:
            on_duckdb, on_bigquery = duck.query(sql), bigquery.query(sql)
            assert list(on_duckdb.columns) == list(on_bigquery.columns), sql
            duck_rows = [tuple(map(_plain, row)) for row in on_duckdb.itertuples(index=False)]
            bq_rows = [tuple(map(_plain, row)) for row in on_bigquery.itertuples(index=False)]
            assert duck_rows == bq_rows, sql
    shadow = duck.query(queries.scoring_shadow(filters))
    assert len(shadow) == 2, "the fixture's two shadow runs were compared"


def _shadow_page_notes(warehouse: Path, monkeypatch: pytest.MonkeyPatch,
                       dates: tuple[date, date] | None = None) -> list[str]:
    """The notes (st.info) of the page on ``warehouse``, run in-process by Streamlit's AppTest
    (no server, no browser): what the Scoring shadow tab says when it has nothing to show."""
    import streamlit as st
    from main_image.dashboard.launch import APP
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("MAIN_IMAGE_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("MAIN_IMAGE_DBT_TARGET", "duckdb")
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        app = AppTest.from_file(str(APP), default_timeout=60).run()
        if dates is not None:
            app = app.date_input[0].set_value(dates).run()
        assert not app.exception, app.exception
        return [note.value for note in app.info]
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()


def test_the_shadow_page_says_how_to_get_a_report(analytics_run: PipelineHarness,
                                                  tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import duckdb

    # no run had a shadow version: the page says how to get one instead of failing
    empty = tmp_path / "warehouse.duckdb"
    shutil.copyfile(analytics_run.warehouse, empty)
    with duckdb.connect(str(empty)) as con:
        con.execute("delete from reporting.rpt_scoring_shadow")
    notes = _shadow_page_notes(empty, monkeypatch)
    assert any("make run SHADOW_SCORING_VERSION=v2" in note
               and "--shadow-scoring-version v2" in note for note in notes), notes
    # shadow runs exist, but none as of the chosen dates: the page says which dates have one
    before = _shadow_page_notes(analytics_run.warehouse, monkeypatch,
                                dates=(date(2024, 6, 28), date(2024, 6, 29)))
    assert any("2 run(s) have one, as of 2024-07-01 to 2024-07-03" in note
               for note in before), before


# --- the dashboard in a real browser (Debian's chromium driven by Playwright) ----------------

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
#: the page is rendered over a websocket after the load event: wait for elements, this long
RENDER_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def chromium() -> str:
    return chromium_or_skip("the dashboard's browser test")


@pytest.fixture(scope="module")
def dashboard_url(analytics_run: PipelineHarness, chromium: str,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from main_image.dev.dashboard_screenshot import serving

    log = tmp_path_factory.mktemp("dashboard") / "streamlit.log"
    # the busy test must see the lock: the page's query cache lasts one second
    with serving(analytics_run.warehouse, log,
                 extra_env={"MAIN_IMAGE_DASHBOARD_CACHE_SECONDS": "1"}) as url:
        yield url


@pytest.fixture(scope="module")
def browser_page(dashboard_url: str, chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(RENDER_TIMEOUT_MS)
            yield page
        finally:
            browser.close()


def _metric(page: Any, label: str) -> int:
    metric = page.locator('[data-testid="stMetric"]', has_text=label).first
    metric.wait_for()
    return int(metric.locator('[data-testid="stMetricValue"]').inner_text().replace(",", ""))


def test_dashboard_shows_the_warehouse_figures(analytics_run: PipelineHarness,
                                               dashboard_url: str, browser_page: Any) -> None:
    page = browser_page
    page.goto(dashboard_url)
    [(changes,)] = analytics_run.query(
        "select sum(main_images_changed) from reporting.rpt_main_images_daily")
    assert _metric(page, "Main images changed") == changes
    page.get_by_role("tab", name="Images processed").click()
    # a line chart of the tab has rendered (Vega-Lite draws into a canvas or an svg)
    charts = page.locator('[data-testid="stTabPanel"]:visible [data-testid="stVegaLiteChart"]')
    charts.first.locator("canvas, svg").first.wait_for()
    [(received,)] = analytics_run.query(
        "select sum(records_received) from reporting.rpt_images_processed_daily")
    assert _metric(page, "Image records received") == received
    # (docs/dashboard.png comes from the demo warehouse: `make dashboard-screenshot`)


def test_dashboard_shows_the_shadow_report(analytics_run: PipelineHarness, dashboard_url: str,
                                           browser_page: Any) -> None:
    page = browser_page
    page.goto(dashboard_url)
    page.get_by_role("tab", name="Scoring shadow").click()
    panel = page.locator('[data-testid="stTabPanel"]:visible')
    # the latest run is the one shown first
    [(run_id, compared, changed, sample)] = analytics_run.query(
        "select run_id, hotels_compared, hotels_changed, sample_hotels "
        "from reporting.rpt_scoring_shadow order by invocation_seq desc limit 1")
    assert compared > 0, "the fixture's shadow run compared no hotel: the check would be void"
    assert _metric(panel, "Hotels compared") == compared
    assert _metric(panel, "Main image would change") == changed
    versions = panel.locator('[data-testid="stMetric"]', has_text="Versions")
    assert versions.locator('[data-testid="stMetricValue"]').inner_text() == (
        f"v1 vs {SHADOW_VERSION}")
    assert run_id in panel.get_by_role("combobox", name="Run").input_value()
    # both charts (hotels per run, score deltas per run) have drawn
    charts = panel.locator('[data-testid="stVegaLiteChart"]')
    for index in range(2):
        charts.nth(index).locator("canvas, svg").first.wait_for()
    heading = f"Sample of the hotels that would change ({len(json.loads(sample))} of {changed})"
    panel.get_by_text(heading).wait_for()


def test_dashboard_says_so_while_a_run_holds_the_warehouse(
    analytics_run: PipelineHarness, dashboard_url: str, browser_page: Any
) -> None:
    import duckdb

    # what a pipeline run holds; the page may still be reading (each query opens the file
    # read-only for a moment), so take the lock as soon as it is free
    deadline = time.monotonic() + 60
    while True:
        try:
            writer = duckdb.connect(str(analytics_run.warehouse))
            break
        except duckdb.IOException:
            assert time.monotonic() < deadline, "the dashboard never released the warehouse"
            time.sleep(0.2)
    try:
        time.sleep(1.5)  # past the page's cache
        browser_page.goto(dashboard_url)
        alert = browser_page.locator('[data-testid="stAlert"]', has_text="in use by a pipeline run")
        alert.wait_for()
    finally:
        writer.close()
