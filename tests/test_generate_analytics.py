"""The generator's fields for the analytics marts (contract §2's optional image fields, search
events, searched terms, re-delivered events, duplicates by content): valid, and distributed
the way analysts would meet them (long tails, realistic skews).

The line validator is test_generate's, written from contract §2 independently of the generator.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import pytest
from main_image.dev.generate import GenerateConfig, generate
from test_generate import ANALYTICS_IMAGE_FIELDS, Landing, image_states, load, shown_events

HOTELS = 1500
START = date(2024, 7, 1)


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Landing:
    config = GenerateConfig(hotels=HOTELS, seed=11, deliveries=3, change_fraction=0.05)
    return load(generate(config, tmp_path_factory.mktemp("analytics")))


def all_images(landing: Landing) -> list[dict]:
    return [r for d in (1, 2, 3) for r in landing.records(d, "images")]


def events(landing: Landing, delivery: int, kind: str | None = None) -> list[dict]:
    return [
        r for r in landing.records(delivery, "user_events")
        if kind is None or r["event_type"] == kind
    ]


def normalised(term: str) -> str:
    return term.strip().casefold()


def test_every_image_carries_the_optional_fields(landing: Landing) -> None:
    for record in all_images(landing):
        assert set(record) >= ANALYTICS_IMAGE_FIELDS, record
        assert (record["camera_make"] is None) == (record["camera_model"] is None)
        assert (record["gps_lat"] is None) == (record["gps_lon"] is None)
        assert record["camera_make"] is not None or record["gps_lat"] is None  # GPS from EXIF


def test_an_image_keeps_its_fields_when_delivered_again(landing: Landing) -> None:
    first = {r["image_id"]: r for r in landing.records(1, "images")}
    again = [r for d in (2, 3) for r in landing.records(d, "images") if r["image_id"] in first]
    assert len(again) > 50
    for record in again:
        for name in ANALYTICS_IMAGE_FIELDS:
            assert record[name] == first[record["image_id"]][name], name


def test_sources_are_a_long_tail_of_customers(landing: Landing) -> None:
    counts = Counter(r["source"] for r in landing.records(1, "images")).most_common()
    assert len(counts) >= 150
    top = counts[0][1]
    total = sum(n for _, n in counts)
    assert 0.03 < top / total < 0.4
    assert top > 5 * counts[19][1]  # rank 20 is far below rank 1
    assert sum(n for _, n in counts[:10]) < 0.7 * total  # and the tail holds much of the volume
    assert sum(1 for _, n in counts if n <= 5) > 30


def test_channels_and_formats(landing: Landing) -> None:
    images = landing.records(1, "images")
    channels = Counter(r["channel"] for r in images)
    assert set(channels) == {"upload", "stream", "feed"}
    assert all(n > 0.05 * len(images) for n in channels.values())
    per_source: dict[str, Counter] = defaultdict(Counter)
    for record in images:
        per_source[record["source"]][record["channel"]] += 1
    busy = [c for c in per_source.values() if c.total() >= 50]
    assert busy and all(c.most_common(1)[0][1] > 0.6 * c.total() for c in busy)
    mime = Counter(r["mime_type"] for r in images)
    assert mime.most_common(1)[0][0] == "image/jpeg"
    assert 0.7 < mime["image/jpeg"] / len(images) < 0.9 and len(mime) >= 4


def test_file_sizes_follow_pixels_and_format(landing: Landing) -> None:
    images = [r for r in landing.records(1, "images") if r["width"] * r["height"] > 0]
    jpeg = [r["file_size_bytes"] / (r["width"] * r["height"]) for r in images
            if r["mime_type"] == "image/jpeg"]
    png = [r["file_size_bytes"] / (r["width"] * r["height"]) for r in images
           if r["mime_type"] == "image/png"]
    assert 0.05 < sorted(jpeg)[len(jpeg) // 2] < 0.6  # bytes per pixel of a photo
    assert sorted(png)[len(png) // 2] > 2 * sorted(jpeg)[len(jpeg) // 2]
    assert all(r["file_size_bytes"] >= 1000 for r in all_images(landing))


def test_cameras_have_a_realistic_skew(landing: Landing) -> None:
    images = landing.records(1, "images")
    with_camera = [r for r in images if r["camera_make"]]
    assert 0.3 < len(with_camera) / len(images) < 0.8
    models = Counter((r["camera_make"], r["camera_model"]) for r in with_camera).most_common()
    makes = Counter(r["camera_make"] for r in with_camera).most_common()
    assert makes[0][0] in ("Apple", "Canon") and len(makes) >= 8
    assert len(models) >= 25
    assert sum(n for _, n in models[:10]) > 0.5 * len(with_camera)
    assert models[0][1] > 10 * models[-1][1]
    model_makes = defaultdict(set)
    for (make, model), _ in models:
        model_makes[model].add(make)
    assert all(len(makes_of_model) == 1 for makes_of_model in model_makes.values())


def test_some_images_have_gps_near_their_hotel(landing: Landing) -> None:
    images = landing.records(1, "images")
    located = [r for r in images if r["gps_lat"] is not None]
    assert 0.05 < len(located) / len(images) < 0.5
    phones = [r for r in images if r["camera_make"] in ("Apple", "Samsung", "Google")]
    cameras = [r for r in images if r["camera_make"] in ("Canon", "NIKON CORPORATION", "SONY")]
    share = [sum(r["gps_lat"] is not None for r in group) / len(group)
             for group in (phones, cameras)]
    assert share[0] > 2 * share[1]
    by_hotel: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for record in located:
        by_hotel[record["hotel_id"]].append((record["gps_lat"], record["gps_lon"]))
    for points in by_hotel.values():
        lats, lons = [p[0] for p in points], [p[1] for p in points]
        assert max(lats) - min(lats) < 0.05 and max(lons) - min(lons) < 0.05
    assert len({round(p[0][0]) for p in by_hotel.values()}) > 30  # hotels all over the map


def test_uploads_spread_over_the_years_and_follow_ups_were_uploaded_the_day_before(
    landing: Landing,
) -> None:
    def uploaded(record: dict) -> date:
        return datetime.fromisoformat(record["uploaded_at"]).date()

    first = landing.records(1, "images")
    days = Counter(uploaded(r) for r in first)
    assert len(days) > 300 and max(days) < START
    assert all(uploaded(r) >= date.fromisoformat(r["created_at"][:10])
               for r in first if r["created_at"][:10] < (START - timedelta(1)).isoformat())
    known = set(image_states(landing, 1))
    for delivery in (2, 3):
        as_of = START + timedelta(days=delivery - 1)
        new = [r for r in landing.records(delivery, "images") if r["image_id"] not in known]
        assert new and all(uploaded(r) == as_of - timedelta(1) for r in new)
        known |= {r["image_id"] for r in new}


def test_search_terms_follow_a_zipf_like_distribution(landing: Landing) -> None:
    searches = [r for d in (1, 2, 3) for r in events(landing, d, "search")]
    assert len(searches) > HOTELS
    assert all(r["image_id"] is None and r["search_term"] for r in searches)
    counts = Counter(normalised(r["search_term"]) for r in searches).most_common()
    assert len(counts) >= 150
    frequencies = [n for _, n in counts]
    assert frequencies[0] > 3 * frequencies[9] and frequencies[9] > 2 * frequencies[99]
    # roughly a power law: log-frequency falls about linearly with log-rank over ranks 3..100
    slope = (math.log(frequencies[99]) - math.log(frequencies[2])) / (math.log(100) - math.log(3))
    assert -1.6 < slope < -0.5
    typed = Counter(r["search_term"] != normalised(r["search_term"]) for r in searches)
    assert 0.03 < typed[True] / len(searches) < 0.2  # capitals and spaces, for normalisation


def test_shown_events_carry_the_term_the_user_searched(landing: Landing) -> None:
    for delivery in (1, 2, 3):
        searched = {(r["user_id"], r["search_term"]): r["occurred_at"]
                    for r in events(landing, delivery, "search")}
        shown = shown_events(landing, delivery)
        with_term = [r for r in shown if r["search_term"] is not None]
        assert 0.6 < len(with_term) / len(shown) < 0.9
        for record in with_term:
            key = (record["user_id"], record["search_term"])
            assert key in searched and searched[key] <= record["occurred_at"]
        reports = [r for r in shown if r["event_type"] == "report"]
        assert reports and all(r["search_term"] is not None for r in reports)


def test_some_events_are_delivered_twice(landing: Landing) -> None:
    lines = [r for d in (1, 2, 3) for r in events(landing, d)]
    copies = Counter(r["event_id"] for r in lines)
    twice = [event_id for event_id, n in copies.items() if n == 2]
    assert 0.003 < len(twice) / len(copies) < 0.03 and max(copies.values()) == 2
    by_id = defaultdict(list)
    for record in lines:
        if copies[record["event_id"]] == 2:
            by_id[record["event_id"]].append(record)
    assert all(first == second for first, second in by_id.values())
    assert {r[0]["event_type"] for r in by_id.values()} >= {"search", "impression"}


def test_hotels_have_duplicate_images_by_content(landing: Landing) -> None:
    owners: dict[str, set[int]] = defaultdict(set)
    images: dict[str, set[int]] = defaultdict(set)
    for record in image_states(landing, 3).values():
        owners[record["hash"]].add(record["hotel_id"])
        images[record["hash"]].add(record["image_id"])
    shared = [h for h, ids in images.items() if len(ids) > 1]
    assert len(shared) >= 20
    assert all(len(owners[h]) == 1 for h in shared)  # duplicates lie within one hotel
