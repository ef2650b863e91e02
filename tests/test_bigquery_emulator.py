"""The DAG on BigQuery (the local emulator) gives exactly the DuckDB DAG's results.

The same history runs on both engines, driven the way ``main_image_pipeline`` drives it, with
the configuration the DAG files read from the environment (``orchestration.Config.from_env``):

    register_attempt -> AttemptGuard -> land_files -> dbt build (the Cosmos group's target, env
    and vars rendered from the register XCom) -> AttemptGuard -> publish_attempt

Generated data (two deliveries, the first with hand-written edge cases of the JSON, regex and
timestamp macros). Run 1 lands delivery 1; run 2 lands delivery 2 (and finds delivery 1's files
again), dies after dbt, and is re-run as a cleared Airflow run would be. On BigQuery the files
are landed from gs:// and the exports written to gs:// (fake-gcs-server through the official
google-cloud-storage client, ``gcs_server``), `dbt build --target bq_emulator`; on DuckDB from
and to local folders. The change log, the snapshot, the rejected records, the run metrics,
every attempt's scope, the run registry, the export files and the analytics marts must be
equal (scores within 1e-9): any divergence of a `bigquery__` macro from its DuckDB twin, or of
the BigQuery warehouse from the DuckDB one, shows up here.

Scoring: v1 active with v2 in shadow (`shadow_scoring_version`), so both SQL versions and the
shadow report are compared. Only SQL versions: the emulator cannot run dbt Python models, so v3
(a Python model) is not built on BigQuery targets (var `python_scoring_on_bigquery`, off) and
is not compared here; tests/test_scoring.py covers it on DuckDB.

Run with `make test-bigquery` (needs `.venv-bqemulator`, built by `make setup-bqemulator`).
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from dag_driver import DagAttempt, config_from, run_like_the_dag, run_unit_tests
from gcs_server import GcsServer, upload_delivery
from main_image import fileio, landing
from main_image import orchestration as orch
from main_image.dev.bq_emulator import emulator_available, running_emulator
from main_image.dev.generate import GenerateConfig, generate
from main_image.settings import FEEDS

# a guard against a hung emulator, not a speed check: the module's fixture runs five dbt
# builds and the unit tests on the emulator (about 10 minutes beside another test worker)
pytestmark = [pytest.mark.bigquery, pytest.mark.timeout(2400)]

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
        # the optional fields of the analytics marts (hotel 9005): valid, absent, broken
        _image(900000040, hotel_id=9005, source="acme", channel="upload", mime_type="image/JPEG",
               file_size_bytes=1234, uploaded_at="2024-06-01T01:00:00+02:00",
               camera_make="Canon", camera_model="EOS R5", gps_lat=52.5, gps_lon=13.4),
        _image(900000041, hotel_id=9005, source="acme", channel="stream",
               mime_type="image/svg+xml", gps_lat=-90, gps_lon=180),
        _image(900000042, hotel_id=9005, channel="fax"),
        _image(900000043, hotel_id=9005, mime_type="jpeg"),
        _image(900000044, hotel_id=9005, file_size_bytes=99999999999999999999),
        _image(900000045, hotel_id=9005, gps_lat=90.0001, gps_lon=0),
        _image(900000046, hotel_id=9005, gps_lat=1),
        _image(900000047, hotel_id=9005, uploaded_at="2024-02-30"),
        _image(900000048, hotel_id=9005, source="", camera_model=""),
        _image(900000049, hotel_id=9005, source=None, channel=None, camera_make=None),
        # issue 10: URLs, offsets, integers beyond 64 bits, keys written twice
        _image(900000050, cdn_url="https://cdn.example.com/a\tb.jpg"),
        _image(900000051, cdn_url="https://cdn.example.com/a\nb.jpg"),
        _image(900000052, cdn_url="https://:443/x.jpg"),
        _image(900000053, cdn_url="https://cdn.example.com:0/x.jpg"),
        _image(900000054, cdn_url="Http://cdn.example.com:65535/x.jpg", hotel_id=9006),
        _image(900000055, created_at="2024-06-01T10:00:00+18:30"),
        _image(900000056, created_at="2024-06-01T10:00:00-18:00", hotel_id=9006),
        _image(900000057, created_at="2024-06-01T10:00:00+01:75"),
        _image(900000058, created_at="0000-06-01"),
        _image(900000059, created_at="9999-12-31T23:00:00-02:00"),
        _image(900000060, width=18446744073709551616),
        _image(900000061, hotel_id=-9223372036854775809),
        _image(900000062).replace('"is_active": true', '"is_active": true, "is_active": false'),
        _image(900000063).replace('"is_active": true', '"is_active" : true, "is_active": false'),
        _image(900000064, extra={"a": 1, "b": {"c": 1}}, hotel_id=9006),
        _image(900000065).replace('"hash"', '"extra": {"a": 1, "a": 2}, "hash"'),
        _image(900000066).replace('"hash"', '"h\\u0061sh": "x", "hash"'),
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
        '{"image_id": 900000005, "tags": [{"tag": "bar", "version": "v99999999999999999999-0-0", '
        '"probability": 0.5}]}',
        '{"image_id": 900000005, "tags": [{"tag": "bar", "tag": "gym", "version": "v1-0-0", '
        '"probability": 0.5}, {"version": "v1-0-0", "probability": 0.5}]}',
        '{"image_id": 900000005, "tags": [{"tag": "bar", "version": "v1-0-0", "probability": 0.5},'
        ' {"tag": "gym", "version": "v1-0-0", "probability": 0.25}], "image_id": 900000006}',
    ],
    "obiq_scores": [
        '{"image_id": 900000001, "obiq_score": 0.5, "version": "v1"}',
        '{"image_id": 900000001, "obiq_score": 1, "version": "v2"}',
        '{"image_id": 900000002, "obiq_score": "0.5", "version": "v1"}',
        '{"image_id": 900000002, "obiq_score": 1e-1, "version": "v1"}',
        '{"image_id": 900000003, "obiq_score": 0.5, "version": ""}',
        '{"image_id": 900000003, "obiq_score": 0.5, "version": 1}',
        '{"image_id": 900000003, "obiq_score": null, "version": "v1"}',
        '{"image_id": 900000003, "obiq_score": 0.5, "version": "v99999999999999999999"}',
        '{"image_id": 900000003, "obiq_score": 0.5, "version": "v1", "version": "v2"}',
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
        '{"key": {"hotel_id": 9011, "hotel_id": 9012}, "value": null}',
        '{"key": {"hotel_id": 9011}, "value": {"image_id": 900000001, '
        '"cdn_url": "HTTPS://x.io/a"}}',
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
        # searches (a term, no image), reports tied to a term, an event delivered twice
        '{"event_id": "s1", "event_type": "search", "occurred_at": "2024-07-01T08:00:00Z", '
        '"search_term": "  Berlin\\t", "user_id": "u7"}',
        '{"event_id": "s2", "event_type": "search", "occurred_at": "2024-07-01T09:00:00Z", '
        '"search_term": "BERLIN", "user_id": "u8", "hotel_id": 9001}',
        '{"event_id": "s2", "event_type": "search", "occurred_at": "2024-07-01T09:00:00Z", '
        '"search_term": "BERLIN", "user_id": "u8", "hotel_id": 9001}',
        '{"event_id": "s3", "event_type": "search", "occurred_at": "2024-07-01T09:00:00Z", '
        '"search_term": "\u00c9t\u00e9 ", "user_id": "u8"}',
        '{"event_id": "s4", "event_type": "search", "occurred_at": "2024-07-01", '
        '"search_term": "x", "image_id": 900000001, "hotel_id": 9001}',
        '{"event_id": "s5", "event_type": "search", "occurred_at": "2024-07-01", '
        '"search_term": "   "}',
        '{"event_id": "s6", "event_type": "search", "occurred_at": "2024-07-01", '
        '"search_term": 7}',
        '{"event_id": "r1", "event_type": "report", "occurred_at": "2024-07-01T10:00:00Z", '
        '"hotel_id": 9001, "image_id": 900000001, "search_term": "berlin", "user_id": "u7"}',
        '{"event_id": "r2", "event_type": "report", "occurred_at": "2024-07-01T11:00:00Z", '
        '"hotel_id": 9001, "image_id": 900000001, "search_term": " Berlin", "user_id": "u8"}',
        '{"event_id": "r3", "event_type": "report", "occurred_at": "2024-07-01T12:00:00Z", '
        '"hotel_id": 9005, "image_id": 900000040, "user_id": "u8"}',
    ],
}

#: Landing files of hostile bytes (issue 10): a BOM before the first record, a line that is not
#: UTF-8 (kept as hex), a gzip file (hotel 9007).
BYTE_CASES: dict[str, bytes] = {
    "part-99997-bom-and-bad-bytes.jsonl": b"\xef\xbb\xbf" + (
        _image(900000070, hotel_id=9007) + "\n").encode() + _image(900000071).encode().replace(
        b"cdn.example.com", b"cdn.\xff\xfeexample.com") + b"\n",
    "part-99998-gzip.jsonl.gz": gzip.compress(
        (_image(900000072, hotel_id=9007) + "\n" + _image(900000073, hotel_id=9007)).encode()),
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
SHADOW_SQL = """
    select hotel_id, scoring_version, shadow_scoring_version, active_image_id, shadow_image_id,
        main_image_changes
    from staging.int_main_image_shadow_compared
    order by hotel_id
"""
SHADOW_REPORT_SQL = """
    select invocation_seq, scoring_version, shadow_scoring_version, hotels_compared,
        hotels_changed, candidates_compared
    from reporting.rpt_scoring_shadow
    order by invocation_seq
"""
#: The stream's drain records (an operational feed) and their report.
STREAM_SQL = {
    "stream_drains": """
        select file_seq, line_number, drain_id, group_id, is_follow, started_at, finished_at,
            topic, topic_partition, messages, files, landed_bytes, relanded_files, offset_resets,
            lag_before, lag_after, first_offset, last_offset, rejection_reason
        from staging.stg_stream_drains order by file_seq, line_number
    """,
    "stream_lag_daily": """
        select report_date, topic, topic_partition, drains, messages, files, landed_bytes,
            relanded_files, offset_resets, max_lag_before, end_of_day_lag
        from reporting.rpt_stream_lag_daily order by 1, 2, 3
    """,
}
#: Drain records as the lander writes them (main_image.stream.report), plus lines that break
#: the record's shape.
STREAM_DRAIN_LINES = [
    json.dumps({"drain_id": "d1", "group_id": "g", "follow": False,
                "started_at": "2024-06-30T23:59:00.000001+00:00",
                "finished_at": "2024-07-01T00:00:01.5+00:00", "topic": "images", "partition": p,
                "messages": 10 * p, "files": p, "bytes": 1000 * p, "relanded_files": 0,
                "resets": 0, "lag_before": 10 * p + 3, "lag_after": 3 - p,
                "first_offset": 0 if p else None, "last_offset": 10 * p - 1 if p else None})
    for p in range(3)
] + [
    json.dumps({"drain_id": "d2", "group_id": "g", "follow": True,
                "started_at": "2024-07-01T10:00:00+02:00", "finished_at": "2024-07-01T10:30:00Z",
                "topic": "images", "partition": 1, "messages": 4, "files": 1, "bytes": 400,
                "relanded_files": 1, "resets": 1, "lag_before": None, "lag_after": 0,
                "first_offset": 10, "last_offset": 13}),
    '{"drain_id": "d3", "topic": "images", "partition": -1}',
    "not json",
]
#: The analytics marts (issue 15) and their intermediate models, every column, in key order.
ANALYTICS_SQL = {
    "images_first_seen": """
        select image_id, hotel_id, image_hash, image_source, channel, mime_type, file_size_bytes,
            uploaded_at, file_seq, line_number, invocation_seq, is_known_by_content
        from staging.int_images_first_seen order by image_id
    """,
    "events_deduplicated": """
        select event_id, event_type, occurred_at, hotel_id, image_id, search_term, user_id,
            file_seq, line_number, invocation_seq
        from staging.int_user_events_deduplicated order by event_id
    """,
    "images_processed_daily": """
        select processed_date, source, channel, mime_type, records_received, records_valid,
            records_rejected, new_images, images_known_by_content
        from reporting.rpt_images_processed_daily order by 1, 2, 3, 4
    """,
    "rejected_records_daily": """
        select report_date, feed, source, rejection_reason, rejected_records, files
        from reporting.rpt_rejected_records_daily order by 1, 2, 3, 4
    """,
    "search_terms_daily": """
        select search_date, search_term, searches, distinct_users
        from reporting.rpt_search_terms_daily order by 1, 2
    """,
    "reported_images": """
        select image_id, search_term, hotel_id, reports, distinct_reporters, first_reported_at,
            last_reported_at, is_current_main_image
        from reporting.rpt_reported_images_by_search_term
        order by image_id, coalesce(search_term, '')
    """,
    "image_formats": """
        select mime_type, images, images_with_size, total_file_size_bytes, avg_file_size_bytes,
            share_of_images
        from reporting.rpt_image_formats order by mime_type
    """,
    "camera_models": """
        select camera_rank, camera_make, camera_model, images, hotels
        from reporting.rpt_camera_models order by camera_rank
    """,
    "uploads_daily": """
        select upload_date, uploads, distinct_sources, uploaded_bytes
        from reporting.rpt_uploads_daily order by upload_date
    """,
    "duplicate_images": """
        select hotel_id, image_hash, image_id, group_size, representative_image_id,
            is_representative, is_current_main_image
        from reporting.rpt_duplicate_images order by hotel_id, image_id
    """,
}
TABLES = {
    **ANALYTICS_SQL,
    **STREAM_SQL,
    "changes": CHANGES_SQL,
    "snapshot": SNAPSHOT_SQL,
    "rejected": REJECTED_SQL,
    "run_metrics": RUN_METRICS_SQL,
    "images_latest": IMAGES_SQL,
    "tag_versions": TAGS_SQL,
    "overrides": OVERRIDES_SQL,
    "engagement": ENGAGEMENT_SQL,
    "shadow": SHADOW_SQL,
    "shadow_report": SHADOW_REPORT_SQL,
}
#: the DAG params of every run: v2 ranked in shadow beside the active v1
PARAMS = {"shadow_scoring_version": "v2"}


RunRecord = DagAttempt


@dataclass
class EngineRun:
    """What one engine produced: every attempt, then the tables and the run registry."""

    attempts: list[RunRecord]
    tables: dict[str, list[tuple]]
    registry: list[tuple]
    #: every export file's text before and after both runs were cleared and re-run
    exports_before_clears: dict[str, str] = field(default_factory=dict)
    exports_after_clears: dict[str, str] = field(default_factory=dict)
    #: dbt's unit tests on this engine (DbtResult), after the runs
    unit_tests: Any = None
    #: the image service's serving copy the publish tasks wrote: main images, change feed
    serving_main_images: list[tuple] = field(default_factory=list)
    serving_changes: list[tuple] = field(default_factory=list)

    @property
    def published(self) -> list[RunRecord]:
        return [attempt for attempt in self.attempts if attempt.exports is not None]


@dataclass(frozen=True)
class History:
    deliveries: list[Path]  # root/delivery-01/<feed>/part-*.jsonl, ...
    dates: list[date]


REGISTRY_SQL = """
    select invocation_seq, run_id, as_of, full_refresh, file_seq_watermark,
        selection_completed_at is not null, exported_at is not null
    from raw.pipeline_runs
    order by invocation_seq
"""


def drive_history(config: orch.Config, stage: Callable[[Path], object], history: History,
                  work: Path) -> EngineRun:
    """Run 1 over delivery 1; run 2 over delivery 2 dies after dbt and is cleared and re-run
    (a new attempt that lands nothing new). Files arrive in the landing zone as a feed would
    deliver them (``stage`` drops a delivery in), so run 2 finds delivery 1's files again
    (skipped by content hash)."""
    stage(history.deliveries[0])
    attempts = [run_like_the_dag(config, "scheduled__1", history.dates[0], work / "dbt-1",
                                 params=PARAMS)]
    stage(history.deliveries[1])
    # the attempt that dies builds the models only: runs 1 and 3 run the data tests
    attempts.append(run_like_the_dag(config, "scheduled__2", history.dates[1], work / "dbt-2",
                                     die_after_dbt=True, tests=False, params=PARAMS))
    attempts.append(run_like_the_dag(config, "scheduled__2", history.dates[1], work / "dbt-3",
                                     params=PARAMS))
    with config.open_warehouse(read_only=True) as wh:
        tables = {name: wh.fetchall(sql) for name, sql in TABLES.items()}
        registry = wh.fetchall(REGISTRY_SQL)
    runs = {"scheduled__1": history.dates[0], "scheduled__2": history.dates[1]}
    before = export_texts(config, runs)
    for run_id, run_date in runs.items():  # clear the old run, then the new one (issue 17)
        run_like_the_dag(config, run_id, run_date, work / f"dbt-clear-{run_id}", tests=False,
                         params=PARAMS)
    run = EngineRun(attempts, tables, registry, before, export_texts(config, runs))
    run.serving_main_images, run.serving_changes = read_serving_copy(config.serving_database_url)
    return run


def read_serving_copy(url: str | None) -> tuple[list[tuple], list[tuple]]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        main_images = connection.execute(text(
            "select hotel_id, image_id, cdn_url, selection_source, score, score_terms, margin, "
            "scoring_version, run_id, as_of from serving_main_images order by hotel_id")).all()
        candidates = dict(connection.execute(text(
            "select hotel_id, count(*) from serving_candidates where image_rank is not null "
            "group by hotel_id")).all())
        changes = connection.execute(text(
            "select change_id, run_id, run_position, change_type, hotel_id, image_id, cdn_url "
            "from serving_changes order by change_id")).all()
    engine.dispose()
    rows = [(*row[:5], json.loads(row[5]) if row[5] else None, *row[6:],
             candidates.get(row[0], 0)) for row in main_images]
    return rows, [tuple(row) for row in changes]


def export_texts(config: orch.Config, runs: dict[str, date]) -> dict[str, str]:
    return {
        orch.export_path(config, run_id, name): fileio.read_text(
            orch.export_path(config, run_id, name), config.storage_client)
        for run_id in runs for name in orch.EXPORT_FILES
    }


_config = config_from


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
    drains = result.deliveries[0] / "stream_drains" / "drain-d1.jsonl"
    drains.parent.mkdir(parents=True, exist_ok=True)
    drains.write_text("".join(line + "\n" for line in STREAM_DRAIN_LINES), encoding="utf-8")
    for name, content in BYTE_CASES.items():  # bytes no text file can hold
        (result.deliveries[0] / "images" / name).write_bytes(content)
    return History(list(result.deliveries), list(result.as_of_dates))


@pytest.fixture(scope="module")
def duckdb_run(history: History, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineRun]:
    work = tmp_path_factory.mktemp("duckdb")
    with pytest.MonkeyPatch.context() as monkeypatch:
        config = _config(monkeypatch, {
            "MAIN_IMAGE_DBT_TARGET": "duckdb",
            "MAIN_IMAGE_WAREHOUSE": str(work / "warehouse.duckdb"),
            "MAIN_IMAGE_LANDING_DIR": str(work / "landing"),
            "MAIN_IMAGE_EXPORTS_DIR": str(work / "exports"),
            "MAIN_IMAGE_DATABASE_URL": f"sqlite:///{work / 'service.db'}",
        })
        stage = functools.partial(landing.stage_delivery, landing_dir=work / "landing")
        yield drive_history(config, stage, history, work)


@pytest.fixture(scope="module")
def bigquery_run(history: History, tmp_path_factory: pytest.TempPathFactory,
                 gcs_server: GcsServer) -> Iterator[EngineRun]:
    if not emulator_available():
        pytest.skip("BigQuery emulator venv .venv-bqemulator missing: run `make setup-bqemulator`")
    pytest.importorskip("google.cloud.bigquery")
    work = tmp_path_factory.mktemp("bigquery")
    storage = gcs_server.client()  # the real client, on fake-gcs-server
    for bucket in ("landing", "exports"):
        gcs_server.new_bucket(storage, bucket)
    with running_emulator(timeout=120) as emu, pytest.MonkeyPatch.context() as monkeypatch:
        config = _config(monkeypatch, {
            "MAIN_IMAGE_DBT_TARGET": "bq_emulator",
            "MAIN_IMAGE_BQ_EMULATOR_ENDPOINT": emu.endpoint,
            "MAIN_IMAGE_BQ_EMULATOR_PROJECT": emu.project,
            "MAIN_IMAGE_DBT_SCHEMA_PREFIX": DATASET_PREFIX,
            "MAIN_IMAGE_LANDING_URI": "gs://landing/feeds",
            "MAIN_IMAGE_EXPORTS_URI": "gs://exports/main_image",
            # a DuckDB file that must stay untouched: every task goes to BigQuery
            "MAIN_IMAGE_WAREHOUSE": str(work / "must-not-exist.duckdb"),
            "MAIN_IMAGE_DATABASE_URL": f"sqlite:///{work / 'service.db'}",
        })
        config = dataclasses.replace(config, storage_client=storage)
        stage = functools.partial(upload_delivery, storage, bucket="landing", prefix="feeds")
        run = drive_history(config, stage, history, work)
        run.unit_tests = run_unit_tests(config, work / "dbt-unit")
        assert not (work / "must-not-exist.duckdb").exists()
        yield run


#: Absolute tolerance of float columns (scores: contract precision).
FLOAT_TOLERANCE = 1e-9


def _same_value(left: Any, right: Any) -> bool:
    if isinstance(left, float) or isinstance(right, float):
        if left is None or right is None:
            return left is right
        return math.isclose(float(left), float(right), rel_tol=0.0, abs_tol=FLOAT_TOLERANCE)
    if hasattr(left, "tzinfo") and hasattr(right, "tzinfo") and hasattr(left, "hour"):
        # DuckDB returns naive UTC timestamps, BigQuery aware ones
        return left.replace(tzinfo=None) == right.replace(tzinfo=None)
    return bool(left == right)


def assert_rows_equal(name: str, duck: list[tuple], bq: list[tuple]) -> None:
    assert len(duck) == len(bq), f"{name}: DuckDB has {len(duck)} rows, BigQuery {len(bq)}"
    for index, (left, right) in enumerate(zip(duck, bq, strict=True)):
        assert len(left) == len(right), f"{name} row {index}: column counts differ"
        if not all(_same_value(a, b) for a, b in zip(left, right, strict=True)):
            pytest.fail(f"{name} row {index} differs:\n  duckdb:   {left}\n  bigquery: {right}")


def test_the_serving_copies_equal(duckdb_run: EngineRun, bigquery_run: EngineRun) -> None:
    """The publish task writes the same serving copy from BigQuery's results as from DuckDB's:
    the change feed (ids, runs, order), main images, score terms, margins and candidates."""
    assert duckdb_run.serving_changes and duckdb_run.serving_main_images
    assert_rows_equal("serving_changes", duckdb_run.serving_changes, bigquery_run.serving_changes)
    duck = [(*row[:5], *row[6:]) for row in duckdb_run.serving_main_images]
    bq = [(*row[:5], *row[6:]) for row in bigquery_run.serving_main_images]
    assert_rows_equal("serving_main_images", duck, bq)
    for left, right in zip(duckdb_run.serving_main_images, bigquery_run.serving_main_images,
                           strict=True):  # fmt: skip
        assert (left[5] is None) == (right[5] is None) and set(left[5] or {}) == set(
            right[5] or {}), left[0]  # fmt: skip
        for term in left[5] or {}:
            assert _same_value(float(left[5][term]), float(right[5][term])), (left[0], term)
    # every published change is in the feed once
    published = [change for attempt in duckdb_run.published
                 for change in attempt.exports["changes"]]  # fmt: skip
    assert len(duckdb_run.serving_changes) == len(published)


def test_the_unit_tests_pass_on_bigquery(bigquery_run: EngineRun) -> None:
    """The SQL-only variants among them: BigQuery builds no Python model by default."""
    result = bigquery_run.unit_tests
    ran = [node for node in result.node_timings if node.startswith("unit_test.")]
    assert result.success and not result.failures, result.failures
    assert any(node.endswith("_sql_only") for node in ran) and len(ran) >= 10, ran


def test_the_history_is_not_trivial(duckdb_run: EngineRun) -> None:
    """Equality below only means something if the runs exercise the interesting paths."""
    changes = duckdb_run.tables["changes"]
    assert {row[0] for row in changes} == {"scheduled__1", "scheduled__2"}
    assert {"new", "updated", "deleted"} <= {row[4] for row in changes}
    assert duckdb_run.tables["rejected"], "the generator writes malformed lines"
    assert duckdb_run.tables["tag_versions"] and duckdb_run.tables["overrides"]
    first, died, rerun = duckdb_run.attempts
    assert 0 < len(died.scope) < len(first.scope), "run 2 is incremental"
    # the attempt that died had appended its changes; the re-run must deliver them
    delivered = rerun.exports["changes"] if rerun.exports else []
    assert {change["key"]["hotel_id"] for change in delivered} == {
        row[3] for row in changes if row[1] == 2}
    assert not [row for row in changes if row[1] == 3], "nothing new in the re-run"
    # the analytics marts have rows of every kind to compare
    for name in ANALYTICS_SQL:
        assert duckdb_run.tables[name], f"{name} is empty"


@pytest.mark.parametrize("table", ["changes", "snapshot"])
def test_changes_and_snapshot_equal(duckdb_run: EngineRun, bigquery_run: EngineRun,
                                    table: str) -> None:
    assert_rows_equal(table, duckdb_run.tables[table], bigquery_run.tables[table])


@pytest.mark.parametrize(
    "table",
    [
        "rejected", "run_metrics", "images_latest", "tag_versions", "overrides", "engagement",
        "shadow", "shadow_report", *ANALYTICS_SQL, *STREAM_SQL,
    ],
)
def test_other_tables_equal(duckdb_run: EngineRun, bigquery_run: EngineRun, table: str) -> None:
    assert_rows_equal(table, duckdb_run.tables[table], bigquery_run.tables[table])


def test_every_attempt_has_the_same_scope(duckdb_run: EngineRun, bigquery_run: EngineRun) -> None:
    for index, (duck, bq) in enumerate(
        zip(duckdb_run.attempts, bigquery_run.attempts, strict=True)
    ):
        assert_rows_equal(f"int_hotels_in_scope of attempt {index + 1}", duck.scope, bq.scope)


def test_exports_equal(duckdb_run: EngineRun, bigquery_run: EngineRun) -> None:
    assert len(duckdb_run.published) == len(bigquery_run.published) == 2
    for index, (duck, bq) in enumerate(
        zip(duckdb_run.published, bigquery_run.published, strict=True)
    ):
        for name in ("changes", "snapshot", "metrics"):
            assert duck.exports and bq.exports
            assert duck.exports[name] == bq.exports[name], f"run {index + 1}: {name} differs"


def test_the_registry_reads_the_same(duckdb_run: EngineRun, bigquery_run: EngineRun) -> None:
    # attempt 1 (run 1), 2 (run 2, died after dbt: completed, never exported), 3 (run 2 again)
    assert [row[:2] for row in duckdb_run.registry] == [
        (1, "scheduled__1"), (2, "scheduled__2"), (3, "scheduled__2")]
    assert [row[6] for row in duckdb_run.registry] == [True, False, True]
    assert duckdb_run.registry == bigquery_run.registry


def test_the_bigquery_dag_lands_from_and_exports_to_gcs(bigquery_run: EngineRun) -> None:
    first, died, rerun = bigquery_run.attempts
    assert first.landed["engine"] == "bigquery"
    assert first.landed["landing"] == "gs://landing/feeds"
    assert first.landed["files_loaded"] > 0 and first.landed["files_skipped"] == 0
    # delivery 1's objects are found again and skipped (content loaded before); the re-run
    # finds nothing new at all (the attempt that died landed delivery 2)
    assert died.landed["files_skipped"] == first.landed["files_loaded"]
    assert died.landed["files_loaded"] > 0
    assert rerun.landed["files_loaded"] == 0
    assert rerun.landed["files_skipped"] == first.landed["files_loaded"] + died.landed[
        "files_loaded"]
    assert first.export_location == "gs://exports/main_image/scheduled__1"
    assert rerun.export_location == "gs://exports/main_image/scheduled__2"


def test_clearing_the_runs_rewrites_no_export(duckdb_run: EngineRun,
                                              bigquery_run: EngineRun) -> None:
    """Publication is a pure function of a run's attempts: clearing the old run and then the new
    one (new attempts that find nothing new) leaves every export file as it was."""
    for engine in (duckdb_run, bigquery_run):
        assert len(engine.exports_before_clears) == 6
        assert engine.exports_after_clears == engine.exports_before_clears
