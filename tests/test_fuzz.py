"""Fuzzing the landing zone (issue 10 item 2, invariant 7): whatever the bytes, the run completes,
every line is accounted for, and nothing published breaks a rule of contract §2.

Each example is one delivery of every feed, hundreds of lines in all: records close to valid
with hostile values in random fields (integers beyond 64 bits, negative numbers, floats for
integers, unicode and control characters, nested values, nulls, missing fields), keys written
twice, arbitrary JSON, arbitrary bytes (invalid UTF-8 included), in plain, BOM-prefixed and
gzip files. All examples land in one warehouse, one incremental run each (a run costs seconds
of dbt: few examples, many lines). MAIN_IMAGE_FUZZ_EXAMPLES (default 6) sets how many.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import PipelineHarness, read_jsonl
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from reference import image_is_valid, is_url, parse_line

EXAMPLES = int(os.environ.get("MAIN_IMAGE_FUZZ_EXAMPLES", "6"))
DAY = date(2024, 7, 1)
MISSING = object()

#: characters hostile to parsers, regexes and URLs
HOSTILE_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from('\x00\x01\t\n\r\x7f "\\/:?#@[]{}\u00a0\u2028\ufeff\ufffd\u00e9\U0001f600'),
        st.characters(codec="utf-8"),
    ),
    max_size=12,
)
HOSTILE = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**63, 2**63 - 1, -(2**63), -(2**63) - 1, 2**64, -1, 0, 999, 1000]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1.0, 1e3, -0.0, 1e300]),
    HOSTILE_TEXT,
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.just(MISSING),
)
TIMESTAMPS = st.sampled_from([
    "2024-06-01", "2024-06-01T10:00:00Z", "2024-06-01T10:00:00+02:00", "2024-06-01 10:00",
    "2024-02-30", "2023-02-29", "2024-06-01T24:00:00", "2024-06-01T10:00:00+18:01",
    "2024-06-01T10:00:00-1800", "2024-06-01T10:00:00+05:99", "0000-01-01", "0001-01-01T00:00+01:00",
    "9999-12-31T23:59:59-01:00", "2024-06-01T10:00:00.1234567891",
])  # fmt: skip
URLS = st.one_of(
    st.sampled_from([
        "https://cdn.example.com/a.jpg", "HTTPS://CDN.EXAMPLE.COM/B.JPG", "http://h:8080/x",
        "https://h:0/x", "https://h:65536/x", "https:///x", "https://a b/", "https://h/\tx",
        "ftp://h/x", "cdn.example.com/x.jpg", "http://[::1]/x", "https://u@h/x",
    ]),
    st.builds(lambda tail: f"https://cdn.example.com/{tail}", HOSTILE_TEXT),
)  # fmt: skip
HASHES = st.one_of(st.just("0123456789abcdef"), st.sampled_from(["0123456789ABCDEF", "0" * 20]),
                   HOSTILE_TEXT)
VERSIONS = st.sampled_from(["v1-0-0", "v2-0-0", "v10-1-1", "v99999999999999999999-0-0",
                            "v1-0", "", "v1-0-0\n", "v9223372036854775808-0-0"])


def field(valid: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly a valid value, sometimes a hostile one or none at all."""
    return st.one_of(valid, valid, valid, HOSTILE)


def record(**fields: st.SearchStrategy) -> st.SearchStrategy:
    return st.fixed_dictionaries({name: field(valid) for name, valid in fields.items()})


IDS = {"hotel_id": st.integers(1, 12), "image_id": st.integers(1000, 1060)}
RECORDS = {
    "images": record(
        **IDS, cdn_url=URLS, width=st.integers(0, 4000), height=st.integers(0, 4000),
        created_at=TIMESTAMPS, is_active=st.booleans(), hash=HASHES,
        source=st.sampled_from(["acme", ""]), channel=st.sampled_from(["upload", "fax"]),
        gps_lat=st.floats(-100, 100), gps_lon=st.floats(-200, 200),
        file_size_bytes=st.integers(-5, 2**65),
    ),
    "image_tags": record(image_id=IDS["image_id"], tags=st.lists(record(
        tag=st.sampled_from(["bar", "swimming-pool", ""]), version=VERSIONS,
        probability=st.floats(-0.5, 1.5)), max_size=3)),
    "obiq_scores": record(image_id=IDS["image_id"], obiq_score=st.floats(-0.5, 1.5),
                          version=VERSIONS),
    "main_images": record(key=record(hotel_id=IDS["hotel_id"]), value=st.one_of(
        st.none(), record(image_id=IDS["image_id"], cdn_url=URLS))),
    "admin_overrides": record(hotel_id=IDS["hotel_id"], image_id=IDS["image_id"],
                              set_by=st.sampled_from(["ops", ""]), set_at=TIMESTAMPS),
    "user_events": record(
        event_id=st.text(max_size=4), event_type=st.sampled_from(["search", "click", "report"]),
        occurred_at=TIMESTAMPS, hotel_id=IDS["hotel_id"], image_id=IDS["image_id"],
        search_term=st.sampled_from(["rome", " "]), user_id=st.sampled_from(["u1", "u2"]),
    ),
}  # fmt: skip


def without_missing(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_missing(v) for k, v in value.items() if v is not MISSING}
    if isinstance(value, list):
        return [without_missing(v) for v in value if v is not MISSING]
    return value


@st.composite
def json_line(draw: st.DrawFn, feed: str) -> bytes:
    """A record of the feed (maybe with a key written twice), or any JSON, or any bytes."""
    kind = draw(st.sampled_from(["record"] * 6 + ["duplicate", "json", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=80)).replace(b"\n", b"")
    if kind == "json":
        value = draw(st.recursive(st.none() | st.booleans() | st.integers() | st.floats()
                                  | HOSTILE_TEXT, lambda inner: st.lists(inner, max_size=3)
                                  | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                                  max_leaves=6))
        return json.dumps(value).encode()
    data = without_missing(draw(RECORDS[feed]))
    text = json.dumps(data, ensure_ascii=draw(st.booleans()))
    if kind == "duplicate" and data:
        key = draw(st.sampled_from(sorted(data)))
        other = without_missing(draw(HOSTILE))
        again = json.dumps(None if other is MISSING else other) if draw(st.booleans()) else (
            json.dumps(data[key]))
        text = text[:-1] + f", {json.dumps(key)}: {again}}}"
    return text.encode()


@st.composite
def landing_file(draw: st.DrawFn, feed: str) -> tuple[list[bytes], bool, bool, bool]:
    """(lines, gzip, bom, trailing newline)."""
    lines = draw(st.lists(json_line(feed), min_size=20, max_size=60))
    trailing = draw(st.booleans()) or lines[-1] == b""
    return lines, draw(st.booleans()), draw(st.integers(0, 4)) == 0, trailing


DELIVERY = st.fixed_dictionaries({feed: st.lists(landing_file(feed), min_size=1, max_size=2)
                                  for feed in RECORDS})


def content(lines: list[bytes], bom: bool, trailing: bool) -> bytes:
    body = b"\n".join(lines) + (b"\n" if trailing else b"")
    return (b"\xef\xbb\xbf" if bom else b"") + body


@pytest.fixture(scope="module")
def fuzz_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PipelineHarness]:
    root = tmp_path_factory.mktemp("fuzz")
    harness = PipelineHarness(root=root, warehouse=root / "warehouse.duckdb", dbt_command="run")
    harness.valid_images: set[tuple[int, int, str]] = set()  # type: ignore[attr-defined]
    yield harness


def check_conservation(harness: PipelineHarness, feed: str, path: Path, expected: int) -> None:
    rows = harness.query(
        f"""
        select manifest.line_count,
            (select count(*) from staging.stg_{feed} as staged
                where staged.file_seq = manifest.file_seq and staged.rejection_reason is null),
            (select count(*) from marts.fct_rejected_records as rejected
                where rejected.file_seq = manifest.file_seq and rejected.feed = '{feed}')
        from raw.load_manifest as manifest where manifest.file_name = ?
        """,
        [str(path)],
    )
    assert len(rows) == 1, path
    line_count, valid, rejected = rows[0]
    assert line_count == expected, path
    assert valid + rejected == expected, path


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.generate],  # shrinking would cost minutes of dbt runs; the example is printed
    suppress_health_check=list(HealthCheck),
)
@given(delivery=DELIVERY)
def test_no_input_fails_a_run(fuzz_harness: PipelineHarness, delivery: dict) -> None:
    harness = fuzz_harness
    folder = harness.root / "landing" / f"d{len(harness.runs) + 1:03d}"
    files: dict[str, list[Path]] = {}
    expected: dict[Path, int] = {}
    for feed, feed_files in delivery.items():
        for index, (lines, gz, bom, trailing) in enumerate(feed_files):
            path = folder / feed / f"part-{index}.jsonl{'.gz' if gz else ''}"
            path.parent.mkdir(parents=True, exist_ok=True)
            data = content(lines, bom, trailing)
            path.write_bytes(gzip.compress(data) if gz else data)
            files.setdefault(feed, []).append(path)
            expected[path] = len(lines)
            if feed == "images":
                for line in lines:
                    text = line.decode("utf-8", errors="strict") if _utf8(line) else None
                    parsed = parse_line(text) if text is not None else None
                    if image_is_valid(parsed):
                        harness.valid_images.add(  # type: ignore[attr-defined]
                            (parsed["hotel_id"], parsed["image_id"], parsed["cdn_url"]))

    result = harness.run(files, DAY)  # raises if the run fails

    for loaded in result.loaded:
        if not loaded.skipped:
            check_conservation(harness, loaded.feed, Path(loaded.path), expected[Path(loaded.path)])
    valid_images = harness.valid_images  # type: ignore[attr-defined]
    for change in read_jsonl(result.outputs.changes) + read_jsonl(result.outputs.snapshot):
        value = change["value"]
        if value is not None:
            assert is_url(value["cdn_url"]), change
            assert (change["key"]["hotel_id"], value["image_id"], value["cdn_url"]) in (
                valid_images), change
    staged = harness.query(
        "select raw_lines.line from staging.stg_images as staged join raw.images as raw_lines "
        "on staged.file_seq = raw_lines.file_seq and staged.line_number = raw_lines.line_number "
        "where staged.rejection_reason is null "
        "and raw_lines.invocation_seq = (select max(invocation_seq) from raw.pipeline_runs)"
    )
    for (line,) in staged:
        assert image_is_valid(parse_line(line)), line


def _utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
