"""Hostile input never fails a run (contract §2, invariant 7): each case of issue 10 item 1.

One warehouse and one run for the whole module: every hostile line lands in one delivery (plain,
gzip and BOM files side by side), the pipeline runs once in-process, and each test reads what it
checks from that run. A second, tiny run re-delivers the gzip file's content as a plain file.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import PipelineHarness, read_jsonl
from main_image.pipeline import RunResult
from reference import image_is_valid, parse_line

DAY = date(2024, 7, 1)


def image(image_id: int, hotel_id: int = 1, **fields: Any) -> str:
    record = {
        "hotel_id": hotel_id, "image_id": image_id, "cdn_url": f"https://cdn.example.com/{image_id}.jpg",
        "width": 1920, "height": 1080, "created_at": "2024-01-01", "is_active": True,
        "hash": "0123456789abcdef",
    }  # fmt: skip
    record.update(fields)
    return json.dumps(record)


def tags(image_id: int, version: str) -> str:
    return json.dumps(
        {"image_id": image_id, "tags": [{"tag": "bar", "version": version, "probability": 0.5}]}
    )


#: image_id -> (the images line, the reason it must get; None: valid)
IMAGE_CASES: dict[int, tuple[str, str | None]] = {
    2001: (image(2001, cdn_url="HTTPS://CDN.EXAMPLE.COM/UPPER.JPG"), None),
    2002: (image(2002, cdn_url="https://cdn.example.com/a\tb.jpg"), "invalid_cdn_url"),
    2003: (image(2003, cdn_url="https://cdn.example.com/a\nb.jpg"), "invalid_cdn_url"),
    2004: (image(2004, cdn_url="https:///no-host.jpg"), "invalid_cdn_url"),
    2005: (image(2005, cdn_url="https://cdn.example.com:0/x.jpg"), "invalid_cdn_url"),
    2006: (image(2006, cdn_url="https://cdn.example.com:65536/x.jpg"), "invalid_cdn_url"),
    2007: (image(2007, cdn_url="https://cdn.example.com:8443/x.jpg"), None),
    2008: (image(2008, cdn_url="https://cdn.example.com/x.jpg\u007f"), "invalid_cdn_url"),
    2009: (image(2009, created_at="2023-02-29"), "invalid_created_at"),
    2010: (image(2010, created_at="2024-01-01T10:00:00+18:01"), "invalid_created_at"),
    2011: (image(2011, created_at="2024-01-01T10:00:00+99:00"), "invalid_created_at"),
    2012: (image(2012, created_at="2024-01-01T10:00:00-18:00"), None),
    2013: (image(2013, created_at="2024-01-01T10:00:00+05:60"), "invalid_created_at"),
    2014: (image(2014, created_at="0000-01-01"), "invalid_created_at"),
    2015: (image(2015, created_at="2024-01-01T25:00:00"), "invalid_created_at"),
    2016: (image(2016, width=2**64), "invalid_width"),
    2017: (image(2017, hotel_id=-(2**63) - 1), "invalid_hotel_id"),
    2018: (image(2018, file_size_bytes=99999999999999999999), "invalid_file_size_bytes"),
}
_BASE = image(2400)[1:-1]  # the fields of a valid image, without the braces
#: images lines with a key twice (at any depth, however spelled) and look-alikes that are valid
DUPLICATE_CASES: dict[str, str | None] = {
    '{"is_active": true, ' + _BASE.replace('"is_active": true', '"is_active": false') + "}":
        "duplicate_key",
    "{" + _BASE + ', "is_active" : false}': "duplicate_key",
    "{" + _BASE + ', "is_\\u0061ctive": false}': "duplicate_key",
    "{" + _BASE + ', "extra": {"a": 1, "a": 2}}': "duplicate_key",
    "{" + _BASE + ', "extra": [{"a": 1}, {"a": 2}], "note": "\\"a\\": 1"}': None,
    "{" + _BASE + ', "extra": {"a": 1, "b": {"a": 2}}}': None,
}
BAD_UTF8 = (
    b'{"hotel_id": 1, "image_id": 2100, "cdn_url": "https://cdn.example.com/\xff\xfe.jpg", '
    b'"width": 10, "height": 10, "created_at": "2024-01-01", "is_active": true, '
    b'"hash": "0123456789abcdef"}'
)
BOM_FIRST = image(2200, hotel_id=2)
GZ_LINES = [image(2300, hotel_id=3), image(2301, hotel_id=3)]
TAG_DUPLICATES = {
    '{"image_id": 2001, "tags": [{"tag": "bar", "tag": "gym", "version": "v1-0-0", '
    '"probability": 0.5}, {"version": "v1-0-0", "probability": 0.5}]}': "duplicate_key",
    '{"image_id": 2001, "tags": [], "tags": [{"tag": "bar", "version": "v1-0-0", '
    '"probability": 0.5}]}': "duplicate_key",
    '{"image_id": 2002, "tags": [{"tag": "bar", "version": "v1-0-0", "probability": 0.5}, '
    '{"tag": "gym", "version": "v1-0-0", "probability": 0.25}]}': None,
    '{"image_id": 2003, "tags": [{"tag": "bar", "version": "v1-0-0", "probability": 0.5, '
    '"model": {"x": 1, "x": 2}}]}': "duplicate_key",
}
MAIN_DUPLICATES = {
    '{"key": {"hotel_id": 9, "hotel_id": 10}, "value": null}': "duplicate_key",
    '{"key": {"hotel_id": 9}, "value": {"image_id": 1001, "cdn_url": "https://a/b", '
    '"image_id": 1002}}': "duplicate_key",
    '{"key": {"hotel_id": 9}, "value": null, "key": {"hotel_id": 10}}': "duplicate_key",
    '{"key": {"hotel_id": 11}, "value": {"image_id": 1001, "cdn_url": "https://a/b"}}': None,
}
TAG_CASES = {
    "v99999999999999999999-0-0": "tag_version_out_of_range",
    "v1-18446744073709551616-0": "tag_version_out_of_range",
    "v9223372036854775807-0-0": None,  # the largest INT64 fits
}
OBIQ_CASES = {
    "v99999999999999999999": "obiq_version_out_of_range",
    "2.99999999999999999999": "obiq_version_out_of_range",
    "model-x": None,  # not a numeric version: any non-empty text is a version
}
OVERRIDE_CASES = {
    "2024-06-31T10:00:00Z": "invalid_set_at",
    "2024-06-30T10:00:00+19:00": "invalid_set_at",
}
EVENT_CASES = {
    "2024-13-01T00:00:00Z": "invalid_occurred_at",
    "2024-06-30T10:00:00-1801": "invalid_occurred_at",
}


@dataclass
class HostileRun:
    harness: PipelineHarness
    result: RunResult
    files: dict[str, list[Path]]
    rejected: dict[tuple[str, str, int], tuple[str, str]]  # (feed, file, line) -> reason, line


def write(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def lines(*texts: str) -> bytes:
    return "".join(text + "\n" for text in texts).encode()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> HostileRun:
    root = tmp_path_factory.mktemp("hostile")
    harness = PipelineHarness(root=root, warehouse=root / "warehouse.duckdb")
    landing = root / "landing"
    files = {
        "images": [
            write(landing / "images" / "a-cases.jsonl",
                  lines(*(line for line, _ in IMAGE_CASES.values()))),
            write(landing / "images" / "b-bad-utf8.jsonl",
                  lines(image(2099)) + BAD_UTF8 + b"\n" + lines(image(2101))),
            write(landing / "images" / "c-bom.jsonl",
                  b"\xef\xbb\xbf" + lines(BOM_FIRST, image(2201, hotel_id=2))),
            write(landing / "images" / "d-gzip.jsonl.gz", gzip.compress(lines(*GZ_LINES))),
            write(landing / "images" / "e-duplicates.jsonl", lines(*DUPLICATE_CASES)),
        ],
        "image_tags": [write(landing / "image_tags" / "t.jsonl",
                             lines(*(tags(2001, version) for version in TAG_CASES))),
                       write(landing / "image_tags" / "u.jsonl", lines(*TAG_DUPLICATES))],
        "main_images": [write(landing / "main_images" / "m.jsonl", lines(*MAIN_DUPLICATES))],
        "obiq_scores": [write(landing / "obiq_scores" / "o.jsonl", lines(*(
            json.dumps({"image_id": 2001, "obiq_score": 0.5, "version": version})
            for version in OBIQ_CASES)))],
        "admin_overrides": [write(landing / "admin_overrides" / "a.jsonl", lines(*(
            json.dumps({"hotel_id": 1, "image_id": 2001, "set_by": "ops", "set_at": set_at})
            for set_at in OVERRIDE_CASES)))],
        "user_events": [write(landing / "user_events" / "e.jsonl", lines(*(
            json.dumps({"event_id": f"e{index}", "event_type": "click", "occurred_at": stamp,
                        "hotel_id": 1, "image_id": 2001, "user_id": "u1"})
            for index, stamp in enumerate(EVENT_CASES))))],
    }  # fmt: skip
    result = harness.run(files, DAY)
    rows = harness.query(
        "select feed, file_name, line_number, rejection_reason, line "
        "from marts.fct_rejected_records"
    )
    rejected = {(feed, Path(name).name, number): (reason, line)
                for feed, name, number, reason, line in rows}
    return HostileRun(harness, result, files, rejected)


def reason(run: HostileRun, feed: str, file_name: str, line_number: int) -> str | None:
    found = run.rejected.get((feed, file_name, line_number))
    return found[0] if found else None


def test_the_run_completes_and_every_line_is_accounted_for(hostile: HostileRun) -> None:
    for feed in hostile.files:
        per_file = hostile.harness.query(
            f"""
            select manifest.file_name, manifest.line_count,
                (select count(*) from staging.stg_{feed} as staged
                    where staged.file_seq = manifest.file_seq and staged.rejection_reason is null),
                (select count(*) from marts.fct_rejected_records as rejected
                    where rejected.file_seq = manifest.file_seq and rejected.feed = '{feed}')
            from raw.load_manifest as manifest where manifest.feed = '{feed}'
            """
        )
        assert len(per_file) == len(hostile.files[feed])
        for name, line_count, valid, rejected in per_file:
            assert valid + rejected == line_count, (feed, name)


def test_url_timestamp_and_integer_rules(hostile: HostileRun) -> None:
    for number, (line, expected) in enumerate(IMAGE_CASES.values(), start=1):
        assert reason(hostile, "images", "a-cases.jsonl", number) == expected, line
        if "file_size_bytes" not in line:  # the oracle reads only the required fields
            assert image_is_valid(parse_line(line)) == (expected is None), line


def test_tag_and_obiq_versions_beyond_64_bits_are_rejected(hostile: HostileRun) -> None:
    for number, expected in enumerate(TAG_CASES.values(), start=1):
        assert reason(hostile, "image_tags", "t.jsonl", number) == expected
    for number, expected in enumerate(OBIQ_CASES.values(), start=1):
        assert reason(hostile, "obiq_scores", "o.jsonl", number) == expected
    versions = hostile.harness.query(
        "select tag_version from staging.int_image_tag_versions where image_id = 2001")
    assert versions == [("v9223372036854775807-0-0",)]


def test_override_and_event_timestamps(hostile: HostileRun) -> None:
    for number, expected in enumerate(OVERRIDE_CASES.values(), start=1):
        assert reason(hostile, "admin_overrides", "a.jsonl", number) == expected
    for number, expected in enumerate(EVENT_CASES.values(), start=1):
        assert reason(hostile, "user_events", "e.jsonl", number) == expected


def test_invalid_utf8_is_rejected_with_its_bytes_kept(hostile: HostileRun) -> None:
    assert reason(hostile, "images", "b-bad-utf8.jsonl", 1) is None
    assert hostile.rejected[("images", "b-bad-utf8.jsonl", 2)] == (
        "invalid_encoding", BAD_UTF8.hex())
    assert reason(hostile, "images", "b-bad-utf8.jsonl", 3) is None
    raw = hostile.harness.query(
        "select line, line_defect from raw.images where file_name like '%b-bad-utf8.jsonl' "
        "and line_number = 2"
    )
    assert raw == [(BAD_UTF8.hex(), "invalid_encoding")]
    assert bytes.fromhex(raw[0][0]) == BAD_UTF8
    published = hostile.harness.query("select count(*) from marts.fct_main_image_snapshot "
                                      "where image_id = 2100 or cdn_url like '%\ufffd%'")
    assert published == [(0,)]


def test_a_byte_order_mark_does_not_cost_the_first_record(hostile: HostileRun) -> None:
    assert reason(hostile, "images", "c-bom.jsonl", 1) is None
    raw = hostile.harness.query(
        "select line from raw.images where file_name like '%c-bom.jsonl' order by line_number"
    )
    assert raw[0] == (BOM_FIRST,)
    assert hostile.harness.snapshot()[2][0] in (2200, 2201)


def test_gzip_files_are_decompressed(hostile: HostileRun) -> None:
    gz = [loaded for loaded in hostile.result.loaded if str(loaded.path).endswith(".gz")]
    assert [loaded.line_count for loaded in gz] == [2]
    assert hostile.harness.query(
        "select count(*) from staging.stg_images where image_id in (2300, 2301) "
        "and rejection_reason is null"
    ) == [(2,)]
    assert 3 in hostile.harness.snapshot()


def test_published_rows_are_valid(hostile: HostileRun) -> None:
    changes = read_jsonl(hostile.result.outputs.changes)
    assert changes, "the run publishes"
    for change in changes:
        value = change["value"]
        assert value is None or image_is_valid(parse_line(image(value["image_id"],
                                                                cdn_url=value["cdn_url"])))


def test_the_same_content_plain_after_gzip_is_loaded_once(hostile: HostileRun) -> None:
    hostile.harness.dbt_command = "run"  # the data tests ran on the first run
    plain = write(hostile.harness.root / "landing2" / "images" / "again.jsonl", lines(*GZ_LINES))
    again = hostile.harness.run({"images": [plain]}, DAY)
    assert [loaded.skipped for loaded in again.loaded] == [True]


def test_a_key_twice_is_rejected_whatever_its_depth_or_spelling(hostile: HostileRun) -> None:
    for file_name, feed, cases in (
        ("e-duplicates.jsonl", "images", DUPLICATE_CASES),
        ("u.jsonl", "image_tags", TAG_DUPLICATES),
        ("m.jsonl", "main_images", MAIN_DUPLICATES),
    ):
        for number, (line, expected) in enumerate(cases.items(), start=1):
            assert reason(hostile, feed, file_name, number) == expected, line
            assert (parse_line(line) is None) == (expected == "duplicate_key"), line


def test_the_design_doc_lists_every_rejection_reason() -> None:
    """docs/design.md "Rejection reason codes" names every code a staging model can give."""
    import re

    repo = Path(__file__).resolve().parents[1]
    table = (repo / "docs" / "design.md").read_text(encoding="utf-8").split(
        "### Rejection reason codes", 1)[1].split("\n### ", 1)[0]
    documented = {(feed, code) for feed, code in re.findall(r"^\| ([a-z_*]+) \| `([a-z_]+)` \|",
                                                           table, re.MULTILINE)}
    for model in sorted((repo / "dbt_project" / "models" / "staging").glob("stg_*.sql")):
        feed = model.stem.removeprefix("stg_")
        codes = set(re.findall(r"then '([a-z_]+)'", model.read_text(encoding="utf-8")))
        for code in codes:
            assert (feed, code) in documented or ("*", code) in documented, (feed, code)
