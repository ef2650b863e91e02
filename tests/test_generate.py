"""Tests of the landing-data generator (plugins/main_image/dev/generate/).

The validator below is written from contract §2 independently of the generator: a line is
valid when it parses as a JSON object and follows its feed's rules.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from main_image.dev.generate import GenerateConfig, generate
from main_image.dev.generate import config as generate_config

FEEDS = ("images", "image_tags", "obiq_scores", "main_images", "admin_overrides", "user_events")
HOTELS = 1200  # of the shared landing zone of most tests
KNOWN_TAGS = {
    "swimming-pool", "building", "bedroom", "beach", "living-room", "restaurant", "bar",
    "reception", "food-drinks", "kids-area", "gym", "kitchenette-kitchen", "bathroom",
}

# --------------------------------------------------------------------------------------------
# An independent validator of contract §2
# --------------------------------------------------------------------------------------------

HASH = re.compile(r"^[0-9a-f]{16}$")
TAG_VERSION = re.compile(r"^v\d+-\d+-\d+$")


def is_int(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def is_unit(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def is_text(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def is_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def is_timestamp(value: Any) -> bool:
    if not isinstance(value, str) or "T" not in value:
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_date_or_timestamp(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return is_timestamp(value)
    return True


def is_degrees(value: Any, limit: float) -> bool:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return number and -limit <= value <= limit


#: contract §2's optional image fields and what each must be when present (null: absent)
OPTIONAL_IMAGE_FIELDS = {
    "source": is_text,
    "channel": lambda v: v in ("upload", "stream", "feed"),
    "uploaded_at": is_timestamp,
    "mime_type": lambda v: isinstance(v, str) and bool(re.fullmatch(r"image/[a-z0-9.+-]+", v)),
    "file_size_bytes": lambda v: is_int(v, 1),
    "camera_make": is_text,
    "camera_model": is_text,
    "gps_lat": lambda v: is_degrees(v, 90),
    "gps_lon": lambda v: is_degrees(v, 180),
}


def valid_image(r: dict) -> bool:
    return (
        is_int(r.get("hotel_id"), 1) and is_int(r.get("image_id"), 1000)
        and is_int(r.get("width"), 0) and is_int(r.get("height"), 0)
        and is_date_or_timestamp(r.get("created_at")) and isinstance(r.get("is_active"), bool)
        and isinstance(r.get("hash"), str) and bool(HASH.match(r["hash"]))
        and is_url(r.get("cdn_url"))
        and all(r.get(name) is None or check(r[name])
                for name, check in OPTIONAL_IMAGE_FIELDS.items())
    )


def valid_tags(r: dict) -> bool:
    tags = r.get("tags")
    if not is_int(r.get("image_id"), 1000) or not isinstance(tags, list):
        return False
    for tag in tags:
        if not isinstance(tag, dict) or not is_text(tag.get("tag")):
            return False
        version = tag.get("version")
        if not is_unit(tag.get("probability")) or not is_text(version):
            return False
        if not TAG_VERSION.match(version):
            return False
    return len({tag["version"] for tag in tags}) <= 1


def valid_score(r: dict) -> bool:
    return (is_int(r.get("image_id"), 1000) and is_unit(r.get("obiq_score"))
            and is_text(r.get("version")))


def valid_main_image(r: dict) -> bool:
    key, value = r.get("key"), r.get("value", "missing")
    if not isinstance(key, dict) or not is_int(key.get("hotel_id"), 1):
        return False
    return value is None or (
        isinstance(value, dict) and is_int(value.get("image_id"), 1000)
        and is_url(value.get("cdn_url"))
    )


def valid_override(r: dict) -> bool:
    image_id = r.get("image_id", "missing")
    return (
        is_int(r.get("hotel_id"), 1) and (image_id is None or is_int(image_id, 1000))
        and is_text(r.get("set_by")) and is_timestamp(r.get("set_at"))
    )


def valid_event(r: dict) -> bool:
    """contract §2: a search carries a term and no image; the others an image and the term the
    user had searched, if any."""
    kind, term = r.get("event_type"), r.get("search_term")
    if kind == "search":
        shown = r.get("image_id") is None and is_text(term)
    else:
        shown = kind in ("impression", "click", "report") and is_int(r.get("hotel_id"), 1) and (
            is_int(r.get("image_id"), 1000) and (term is None or isinstance(term, str)))
    return (
        shown and is_text(r.get("event_id")) and is_timestamp(r.get("occurred_at"))
        and is_text(r.get("user_id"))
    )


VALIDATORS = {
    "images": valid_image, "image_tags": valid_tags, "obiq_scores": valid_score,
    "main_images": valid_main_image, "admin_overrides": valid_override,
    "user_events": valid_event,
}


def parse_valid(feed: str, line: str) -> dict | None:
    """The record of a valid line, None for a line that breaks a rule."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) and VALIDATORS[feed](record) else None


# --------------------------------------------------------------------------------------------
# Loading a generated landing zone
# --------------------------------------------------------------------------------------------


@dataclass
class Landing:
    result: Any
    files: dict[Path, list[str]] = field(default_factory=dict)  # file -> lines
    valid: dict[tuple[int, str], list[dict]] = field(default_factory=dict)  # (delivery, feed)
    invalid: Counter = field(default_factory=Counter)  # feed -> malformed lines
    invalid_per_file: Counter = field(default_factory=Counter)  # file -> malformed lines

    def records(self, delivery: int, feed: str) -> list[dict]:
        return self.valid.get((delivery, feed), [])


def load(result: Any) -> Landing:
    landing = Landing(result)
    for number, folder in enumerate(result.deliveries, start=1):
        for path in sorted(folder.glob("*/part-*.jsonl")):
            feed = path.parent.name
            text = path.read_text()
            assert text.endswith("\n")
            lines = text[:-1].split("\n")
            landing.files[path] = lines
            for line in lines:
                record = parse_valid(feed, line)
                if record is None:
                    landing.invalid[feed] += 1
                    landing.invalid_per_file[path] += 1
                else:
                    landing.valid.setdefault((number, feed), []).append(record)
    return landing


def run(tmp: Path, **kwargs: Any) -> Landing:
    return load(generate(GenerateConfig(**kwargs), tmp))


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Landing:
    out = tmp_path_factory.mktemp("landing")
    config = GenerateConfig(hotels=HOTELS, seed=7, deliveries=3, change_fraction=0.05,
                            malformed_rate=0.003)
    return load(generate(config, out))


def image_states(landing: Landing, up_to: int) -> dict[int, dict]:
    """Latest valid image record per image id after deliveries 1..up_to (landing order)."""
    states: dict[int, dict] = {}
    for delivery in range(1, up_to + 1):
        for record in landing.records(delivery, "images"):
            states[record["image_id"]] = record
    return states


def tagged_ids(landing: Landing, delivery: int, version: str | None = None) -> set[int]:
    return {
        r["image_id"] for r in landing.records(delivery, "image_tags")
        if version is None or any(t["version"] == version for t in r["tags"])
    }


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


def test_layout_and_line_counts(landing: Landing) -> None:
    result = landing.result
    assert [p.name for p in result.deliveries] == ["delivery-01", "delivery-02", "delivery-03"]
    assert result.as_of_dates == [date(2024, 7, 1), date(2024, 7, 2), date(2024, 7, 3)]
    for path in landing.files:
        assert path.parent.name in FEEDS
        assert re.fullmatch(r"part-\d{5}\.jsonl", path.name)
    first = {p.parent.name for p in landing.files if p.parts[-3] == "delivery-01"}
    assert first == {"images", "image_tags", "obiq_scores", "main_images", "user_events"}
    later = {p.parent.name for p in landing.files if p.parts[-3] != "delivery-01"}
    assert "main_images" not in later and "admin_overrides" in later
    counted: Counter = Counter()
    for path, lines in landing.files.items():
        counted[path.parent.name] += len(lines)
    assert dict(counted) == {feed: n for feed, n in result.lines.items() if n}


def test_valid_lines_follow_the_spec_and_malformed_lines_break_it(landing: Landing) -> None:
    # every line the validator rejects is one the generator meant to be malformed
    assert dict(landing.invalid) == {f: n for f, n in landing.result.malformed.items() if n}
    assert sum(landing.invalid.values()) > 0
    for path, lines in landing.files.items():
        if len(lines) >= 100:
            assert landing.invalid_per_file[path] >= 1, path
    for feed in ("images", "image_tags", "obiq_scores", "user_events"):
        assert landing.invalid[feed] < 0.02 * landing.result.lines[feed]


def test_lines_are_compact_json(landing: Landing) -> None:
    images = next(lines for path, lines in landing.files.items() if path.parent.name == "images")
    assert images[0].startswith('{"hotel_id":') and ": " not in images[0]


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    def files(out: Path, seed: int) -> dict[str, bytes]:
        generate(GenerateConfig(hotels=2100, seed=seed, deliveries=2), out)  # two blocks
        return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.jsonl"))}

    first, again = files(tmp_path / "a", 1), files(tmp_path / "b", 1)
    assert first == again
    assert files(tmp_path / "c", 2) != first


def test_images_per_hotel_are_skewed(landing: Landing) -> None:
    per_hotel: dict[int, set[int]] = defaultdict(set)
    for record in landing.records(1, "images"):
        per_hotel[record["hotel_id"]].add(record["image_id"])
    counts = [len(per_hotel.get(h, ())) for h in range(1, HOTELS + 1)]
    assert max(counts) > 10 * statistics.median(counts)
    assert max(counts) >= 200
    assert counts.count(0) > 0.02 * len(counts)
    assert set(per_hotel) <= set(range(1, HOTELS + 1))


def test_image_ids_are_unique_per_image(landing: Landing) -> None:
    owner: dict[int, int] = {}
    for delivery in (1, 2, 3):
        for record in landing.records(delivery, "images"):
            assert owner.setdefault(record["image_id"], record["hotel_id"]) == record["hotel_id"]
        ids = [r["image_id"] for r in landing.records(delivery, "images")]
        assert len(ids) == len(set(ids)), "an image appears at most once per delivery"


def test_image_attributes_are_realistic(landing: Landing) -> None:
    images = landing.records(1, "images")
    created = [r["created_at"] for r in images]
    days = [(date(2024, 7, 1) - date.fromisoformat(c[:10])).days for c in created]
    assert any(d > 3650 for d in days) and any(d < 0 for d in days)
    assert max(days) <= 15 * 365 + 1
    assert 0.02 < sum("T" in c for c in created) / len(created) < 0.3
    assert any(r["width"] == 0 or r["height"] == 0 for r in images)
    assert any(r["height"] > r["width"] for r in images)
    assert any(r["width"] * r["height"] < 160_000 for r in images)
    assert any(r["width"] > 4.65 * r["height"] > 0 for r in images)
    assert 0.9 < sum(r["is_active"] for r in images) / len(images) < 1


def test_tags_arrive_late_and_get_a_second_version(landing: Landing) -> None:
    first_images = {r["image_id"] for r in landing.records(1, "images")}
    late = (tagged_ids(landing, 2) & first_images) - tagged_ids(landing, 1)
    assert late, "delivery 2 carries tags of images delivered (untagged) in delivery 1"
    tags = [t["tag"] for r in landing.records(1, "image_tags") for t in r["tags"]]
    assert set(tags) >= KNOWN_TAGS and set(tags) - KNOWN_TAGS  # plus unknown tags
    assert any(r["tags"] == [] for r in landing.records(1, "image_tags"))
    v4_before = tagged_ids(landing, 1, "v4-0-0") | tagged_ids(landing, 2, "v4-0-0")
    assert (tagged_ids(landing, 2, "v5-0-0") | tagged_ids(landing, 3, "v5-0-0")) & v4_before
    scores = [r["version"] for d in (2, 3) for r in landing.records(d, "obiq_scores")]
    assert "v1" in scores and "v2" in scores


def check_delivery_2(landing: Landing) -> None:
    """Late tags, a deactivation and an override pointing at an active image of the hotel."""
    first, second = image_states(landing, 1), image_states(landing, 2)
    assert (tagged_ids(landing, 2) & set(first)) - tagged_ids(landing, 1)
    deactivated = [
        i for i, r in first.items() if r["is_active"] and not second[i]["is_active"]
    ]
    assert deactivated
    overrides = [r for r in landing.records(2, "admin_overrides") if r["image_id"] is not None]
    assert overrides
    for override in overrides:
        image = second[override["image_id"]]
        assert image["hotel_id"] == override["hotel_id"] and image["is_active"]
        assert override["set_at"].startswith("2024-07-01T")


def test_delivery_2_shows_late_tags_a_deactivation_and_an_override(landing: Landing) -> None:
    check_delivery_2(landing)


def test_change_fraction_is_respected(landing: Landing) -> None:
    owner = {i: r["hotel_id"] for i, r in image_states(landing, 3).items()}
    touched = {r["hotel_id"] for r in landing.records(2, "images")}
    touched |= {r["hotel_id"] for r in landing.records(2, "admin_overrides")}
    touched |= {owner[r["image_id"]] for r in landing.records(2, "image_tags")}
    assert 0.6 * HOTELS * 0.05 <= len(touched) <= HOTELS * 0.05


def test_main_images_are_the_frontends_current_state(landing: Landing) -> None:
    records = landing.records(1, "main_images")
    first = image_states(landing, 1)
    hotels_with_images = {r["hotel_id"] for r in first.values()}
    assert 0.2 * HOTELS < len(records) < 0.4 * HOTELS
    assert any(r["value"] is None for r in records)
    assert any(r["key"]["hotel_id"] not in hotels_with_images for r in records)
    known = [r for r in records if r["value"] and r["value"]["image_id"] in first]
    assert len(known) > 0.7 * len(records)
    for record in known:
        image = first[record["value"]["image_id"]]
        assert image["hotel_id"] == record["key"]["hotel_id"]
        assert image["cdn_url"] == record["value"]["cdn_url"]
    assert any(r["value"] and r["value"]["image_id"] not in first for r in records)


def shown_events(landing: Landing, delivery: int) -> list[dict]:
    """Impressions, clicks and reports of a delivery, each event once (by event_id)."""
    events = {}
    for record in landing.records(delivery, "user_events"):
        if record["event_type"] != "search":
            events.setdefault(record["event_id"], record)
    return list(events.values())


def test_user_events_point_at_images_of_their_hotel(landing: Landing) -> None:
    owner = {i: r["hotel_id"] for i, r in image_states(landing, 3).items()}
    for delivery in (1, 2, 3):
        events = shown_events(landing, delivery)
        assert 1.5 * HOTELS < len(events) < 2.5 * HOTELS
        for event in events[:500]:
            assert owner.get(event["image_id"], event["hotel_id"]) == event["hotel_id"]
    types = Counter(e["event_type"] for e in shown_events(landing, 1))
    assert types["impression"] > types["click"] > types["report"] > 0


def test_images_are_split_into_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generate_config, "HOTELS_PER_BLOCK", 300)
    whole = generate(GenerateConfig(hotels=1000, malformed_rate=0), tmp_path / "whole")
    monkeypatch.setattr(generate_config, "MAX_LINES_PER_PART", 5_000)
    split = generate(GenerateConfig(hotels=1000, malformed_rate=0), tmp_path / "split")
    parts = sorted((split.deliveries[0] / "images").glob("part-*.jsonl"))
    assert len(parts) >= 3  # parts are cut between blocks of hotels
    joined = b"".join(p.read_bytes() for p in parts)
    assert joined == (whole.deliveries[0] / "images" / "part-00000.jsonl").read_bytes()
    assert split.lines == whole.lines


def test_progress_is_reported(tmp_path: Path) -> None:
    messages: list[str] = []
    generate(GenerateConfig(hotels=50), tmp_path, progress=messages.append)
    assert messages and "images" in messages[0]


def test_no_hotels(tmp_path: Path) -> None:
    result = generate(GenerateConfig(hotels=0, deliveries=2), tmp_path)
    assert all(n == 0 for n in result.lines.values())
    assert [p.is_dir() for p in result.deliveries] == [True, True]


@pytest.mark.parametrize(
    "bad",
    [dict(hotels=-1), dict(hotels=1, deliveries=0), dict(hotels=1, change_fraction=1.5),
     dict(hotels=1, malformed_rate=-0.1)],
)
def test_invalid_config_is_refused(bad: dict) -> None:
    with pytest.raises(ValueError):
        GenerateConfig(**bad)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    hotels=st.integers(10, 80),
    seed=st.integers(0, 2**32),
    change_fraction=st.floats(0, 1),
    malformed_rate=st.sampled_from([0.0, 0.001, 0.05]),
)
def test_small_runs_always_demonstrate_delivery_2(
    tmp_path_factory: pytest.TempPathFactory, hotels: int, seed: int, change_fraction: float,
    malformed_rate: float,
) -> None:
    config = dict(hotels=hotels, seed=seed, change_fraction=change_fraction,
                  malformed_rate=malformed_rate)
    landing = run(tmp_path_factory.mktemp("small"), **config)
    check_delivery_2(landing)
    assert dict(landing.invalid) == {f: n for f, n in landing.result.malformed.items() if n}


# --------------------------------------------------------------------------------------------
# The analytics fields come from streams of their own
# --------------------------------------------------------------------------------------------

#: sha256 over (path, bytes) of every file the generator wrote for PRE_ANALYTICS_CONFIG before the
#: analytics fields existed: with them switched off, it writes exactly that again. (numpy's
#: Generator streams may change between numpy releases; numpy is pinned in requirements.txt.)
PRE_ANALYTICS_CONFIG = dict(hotels=2100, seed=3, deliveries=3, change_fraction=0.05,
                            malformed_rate=0.003)
PRE_ANALYTICS_SHA256 = "605e7da210008f0ebd36edb7d4a457c845f642ec47e43d8ea71412758f72a629"
ANALYTICS_IMAGE_FIELDS = set(OPTIONAL_IMAGE_FIELDS)


def tree_digest(out: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(out.rglob("*.jsonl")):
        digest.update(path.relative_to(out).as_posix().encode() + b"\n")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def test_without_analytics_the_output_is_byte_for_byte_the_earlier_one(tmp_path: Path) -> None:
    generate(GenerateConfig(**PRE_ANALYTICS_CONFIG, analytics=False), tmp_path)
    assert tree_digest(tmp_path) == PRE_ANALYTICS_SHA256


def main_stream_records(landing: Landing, delivery: int, feed: str) -> list[dict]:
    """The records of the main stream: analytics fields, search events, second deliveries and
    searched terms left out."""
    records, seen = [], set()
    for record in landing.records(delivery, feed):
        if feed == "user_events":
            if record["event_type"] == "search" or record["event_id"] in seen:
                continue
            seen.add(record["event_id"])
            record = {k: v for k, v in record.items() if k != "search_term"}
        records.append({k: v for k, v in record.items() if k not in ANALYTICS_IMAGE_FIELDS})
    return records


def test_analytics_fields_leave_every_other_value_as_it_was(tmp_path: Path) -> None:
    config = dict(PRE_ANALYTICS_CONFIG, hotels=700)
    with_analytics = run(tmp_path / "with", **config)
    without = run(tmp_path / "without", **config, analytics=False)
    for delivery in (1, 2, 3):
        for feed in FEEDS:
            assert main_stream_records(with_analytics, delivery, feed) == main_stream_records(
                without, delivery, feed
            ), (delivery, feed)
    assert with_analytics.result.lines["images"] == without.result.lines["images"]
    assert with_analytics.result.lines["user_events"] > without.result.lines["user_events"]


def test_the_cli_writes_the_pre_analytics_data_on_request(tmp_path: Path) -> None:
    from main_image.cli import main

    args = ["--hotels", "2100", "--seed", "3", "--deliveries", "3", "--change-fraction", "0.05",
            "--malformed-rate", "0.003", "--out", str(tmp_path)]
    assert main(["generate", *args, "--no-analytics-fields"]) == 0
    assert tree_digest(tmp_path) == PRE_ANALYTICS_SHA256
    assert main(["generate", "--malformed-rate", "2", *args[:-4], "--out", str(tmp_path)]) == 2
