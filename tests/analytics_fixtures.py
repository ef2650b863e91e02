"""Hand-made landing data for the analytics marts: the optional image fields of contract §2
(source, channel, uploaded_at, mime_type, file_size_bytes, camera, GPS), valid and broken,
duplicates by content, and user events (searches with term variants, impressions, reports,
an event delivered twice). Two deliveries; the expected figures are worked out in the tests.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

AS_OF = (date(2024, 7, 1), date(2024, 7, 3))
HASH_A, HASH_B = "00000000000000aa", "00000000000000bb"

_BASE: dict[str, Any] = {
    "cdn_url": "https://cdn.example.com/x.jpg", "width": 1920, "height": 1080,
    "created_at": "2024-06-01", "is_active": True,
}
_MISSING = object()


def image(hotel_id: int, image_id: int, image_hash: str, **fields: Any) -> str:
    record = {"hotel_id": hotel_id, "image_id": image_id, **_BASE, "hash": image_hash, **fields}
    return json.dumps({key: value for key, value in record.items() if value is not _MISSING})


ACME = {"source": "acme", "channel": "upload", "mime_type": "image/jpeg",
        "camera_make": "Canon", "camera_model": "EOS R5"}
#: lines that break exactly one rule of an optional field (source "broken-co" otherwise)
BROKEN = {"source": "broken-co", "channel": "feed", "mime_type": "image/jpeg"}
BROKEN_LINES = {
    "invalid_channel": image(3, 3001, HASH_A, **{**BROKEN, "channel": "fax"}),
    "invalid_gps_lat": image(3, 3002, HASH_A, **BROKEN, gps_lat=91.0, gps_lon=0.0),
    "invalid_gps_lon": image(3, 3003, HASH_A, **BROKEN, gps_lat=10.0, gps_lon="east"),
    "incomplete_gps": image(3, 3004, HASH_A, **BROKEN, gps_lat=10.0),
    "invalid_file_size_bytes": image(3, 3005, HASH_A, **BROKEN, file_size_bytes=-1),
    "invalid_uploaded_at": image(3, 3006, HASH_A, **BROKEN, uploaded_at="2024-02-30T10:00:00Z"),
    "invalid_camera_make": image(3, 3008, HASH_A, **BROKEN, camera_make=7),
    "invalid_camera_model": image(3, 3009, HASH_A, **BROKEN, camera_model=""),
}
#: broken fields whose value is then unknown: they count under 'unknown' in the reports
BROKEN_DIMENSIONS = {
    "invalid_source": image(3, 3010, HASH_A, **{**BROKEN, "source": ""}),
    "invalid_mime_type": image(3, 3007, HASH_A, **{**BROKEN, "mime_type": "jpeg"}),
    "invalid_file_size_bytes": image(3, 3011, HASH_A, **BROKEN, file_size_bytes="12"),
}

DELIVERY_1_IMAGES = [
    image(1, 1001, HASH_A, **ACME, file_size_bytes=1000, uploaded_at="2024-06-28T10:00:00Z",
          gps_lat=52.52, gps_lon=13.405),
    image(1, 1002, HASH_A, **{**ACME, "mime_type": "image/JPEG"}, file_size_bytes=2000,
          uploaded_at="2024-06-30T23:00:00-02:00"),  # UTC: 07-01 01:00
    image(2, 2001, HASH_A, source="beta", channel="feed", mime_type="image/png",
          camera_make="Sony", camera_model="A7 IV"),
    image(2, 2002, "00000000000000cc"),  # no optional field at all
    image(2, 2003, "00000000000000dd", source=None, channel=None, mime_type=None, gps_lat=None,
          gps_lon=None, file_size_bytes=None, uploaded_at=None),  # null = absent
    *BROKEN_LINES.values(),
    *BROKEN_DIMENSIONS.values(),
    "{not json",
]
DELIVERY_2_IMAGES = [
    image(1, 1001, HASH_A, **ACME, width=800),  # a new state of a known image
    image(1, 1003, HASH_B, **{**ACME, "channel": "stream"}, uploaded_at="2024-07-02"),
    image(1, 1004, HASH_A, **{**ACME, "channel": "stream"}),  # content of 1001
]


def event(event_id: str, event_type: str, occurred_at: str, **fields: Any) -> str:
    return json.dumps({"event_id": event_id, "event_type": event_type,
                       "occurred_at": occurred_at, **fields})


DELIVERY_1_EVENTS = [
    event("s1", "search", "2024-06-30T10:00:00Z", search_term="  Berlin ", user_id="u1"),
    event("s2", "search", "2024-06-30T11:00:00Z", search_term="berlin", user_id="u2"),
    event("s3", "search", "2024-06-30T12:00:00Z", search_term="Paris", user_id="u1"),
    event("s1", "search", "2024-06-30T10:00:00Z", search_term="  Berlin ", user_id="u1"),
    event("i1", "impression", "2024-06-30T10:01:00Z", hotel_id=1, image_id=1001,
          search_term="berlin", user_id="u1"),
    event("r1", "report", "2024-06-30T10:02:00Z", hotel_id=1, image_id=1002,
          search_term="Berlin", user_id="u1"),
    event("r2", "report", "2024-06-30T11:02:00Z", hotel_id=1, image_id=1002,
          search_term="berlin ", user_id="u2"),
    event("r3", "report", "2024-06-30T12:02:00Z", hotel_id=1, image_id=1002, user_id="u3"),
    # broken: a search with an image, a search without a term, a report without an image
    event("b1", "search", "2024-06-30T10:00:00Z", search_term="x", image_id=1001, hotel_id=1),
    event("b2", "search", "2024-06-30T10:00:00Z", search_term=" "),
    event("b3", "report", "2024-06-30T10:00:00Z", hotel_id=1, search_term="x"),
]
DELIVERY_2_EVENTS = [
    event("s1", "search", "2024-06-30T10:00:00Z", search_term="  Berlin ", user_id="u1"),
    event("s4", "search", "2024-07-02T09:00:00Z", search_term="BERLIN", user_id="u3"),
]
BROKEN_EVENTS = {"b1": "invalid_image_id", "b2": "invalid_search_term", "b3": "invalid_image_id"}

DELIVERIES = (
    {"images": DELIVERY_1_IMAGES, "user_events": DELIVERY_1_EVENTS},
    {"images": DELIVERY_2_IMAGES, "user_events": DELIVERY_2_EVENTS},
)


def assert_images_processed_conserved(harness: Any) -> None:
    """Issue 15's invariant: summed over days and sources, rpt_images_processed_daily is every
    staged image record, valid plus rejected (``harness``: a conftest.PipelineHarness)."""
    reported = harness.query(
        "select coalesce(sum(records_received), 0), coalesce(sum(records_valid), 0), "
        "coalesce(sum(records_rejected), 0) from reporting.rpt_images_processed_daily"
    )
    staged = harness.query(
        "select count(*), count(*) filter (where rejection_reason is null), "
        "count(*) filter (where rejection_reason is not null) from staging.stg_images"
    )
    assert reported == staged, f"rpt_images_processed_daily {reported} != stg_images {staged}"
    assert reported[0][0] == reported[0][1] + reported[0][2]


def assert_duplicate_images_current(harness: Any) -> None:
    """rpt_duplicate_images, built incrementally by hotel scope, equals the groups computed here
    from scratch out of the current images and main images: every group of two or more active
    images of a hotel sharing a hash, its representative the hotel's main image when in the
    group, else the most pixels, then the lowest image id."""
    images = harness.query(
        "select hotel_id, image_hash, image_id, width, height "
        "from staging.int_images_latest where is_active"
    )
    main_image = dict(harness.query("select hotel_id, image_id from marts.fct_main_image_snapshot"))
    groups: dict[tuple[int, str], list[tuple[int, int, int]]] = {}
    for hotel_id, image_hash, image_id, width, height in images:
        groups.setdefault((hotel_id, image_hash), []).append((image_id, width, height))
    expected = []
    for (hotel_id, image_hash), members in groups.items():
        if len(members) < 2:
            continue
        representative = min(
            members,
            key=lambda m: (main_image.get(hotel_id) != m[0], -(m[1] * m[2]), m[0]),
        )[0]
        for image_id, _, _ in members:
            expected.append((hotel_id, image_hash, image_id, len(members), representative,
                             image_id == representative, main_image.get(hotel_id) == image_id))
    reported = harness.query(
        "select hotel_id, image_hash, image_id, group_size, representative_image_id, "
        "is_representative, is_current_main_image from reporting.rpt_duplicate_images"
    )
    assert sorted(reported) == sorted(expected), (
        f"rpt_duplicate_images: {sorted(reported)} != {sorted(expected)}"
    )
