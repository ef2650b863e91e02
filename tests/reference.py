"""An independent, deliberately plain Python reading of docs/contract.md, used as the tests' oracle.

It knows nothing of dbt or the warehouse: given every input line in landing order and a date,
it computes what one full rebuild must select. Keep it obvious rather than fast.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

TAG_PRIORITY = {
    "swimming-pool": 1.00,
    "building": 0.95,
    "bedroom": 0.90,
    "beach": 0.85,
    "living-room": 0.70,
    "restaurant": 0.60,
    "bar": 0.55,
    "reception": 0.50,
    "food-drinks": 0.45,
    "kids-area": 0.40,
    "gym": 0.35,
    "kitchenette-kitchen": 0.30,
    "bathroom": 0.20,
}
DEFAULT_TAG_PRIORITY = 0.25
ISO = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[-+]\d{2}:?\d{2})?)?$", re.ASCII
)
TAG_VERSION = re.compile(r"^v\d+-\d+-\d+$", re.ASCII)
_NO_SPACE = r"\t\n\v\f\r \x00-\x1f\x7f"  # RE2's [:space:] and [:cntrl:]
_PORT = r"(6553[0-5]|655[0-2]\d|65[0-4]\d{2}|6[0-4]\d{3}|[1-5]\d{4}|[1-9]\d{0,3})"
URL = re.compile(
    rf"(?i:https?)://([^/?#@{_NO_SPACE}]*@)?([^\[\]/?#@:{_NO_SPACE}]+|\[[0-9a-fA-F:.]+\])"
    rf"(:{_PORT})?([/?#][^{_NO_SPACE}]*)?"
)
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
HASH = re.compile(r"^[0-9a-f]{16}$")


def is_int(value: object) -> bool:
    """A JSON integer that fits 64 bits (a bigger one is rejected, never rounded)."""
    return isinstance(value, int) and not isinstance(value, bool) and (
        INT64_MIN <= value <= INT64_MAX)


def is_url(value: object) -> bool:
    return isinstance(value, str) and URL.fullmatch(value) is not None


def version_parts_fit(version: str) -> bool:
    """False for a numeric version ("v1-2-3", "2.1") with a part beyond 64 bits."""
    match = re.fullmatch(r"v?(\d+)(?:[-.](\d+))?(?:[-.](\d+))?", version, re.ASCII)
    return match is None or all(int(part or 0) <= INT64_MAX for part in match.groups())


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_timestamp(value: object) -> datetime | None:
    """UTC naive datetime of an ISO date/timestamp string, None when invalid."""
    if not isinstance(value, str) or not ISO.fullmatch(value):
        return None
    text = value
    offset = timedelta(0)
    match = re.search(r"([-+])(\d{2}):?(\d{2})$", text, re.ASCII) if len(text) > 10 else None
    if match:
        sign = -1 if match.group(1) == "-" else 1
        if int(match.group(3)) > 59:
            return None
        offset = sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
        if abs(offset) > timedelta(hours=18) or (offset and text[:4] in ("0001", "9999")):
            return None  # beyond +-18:00; or a UTC time that may leave the years 1 to 9999
        text = text[: match.start()]
    text = text.rstrip("Z").replace("T", " ")
    if len(text) == 16:
        text += ":00"
    if "." in text:  # python takes at most 6 fraction digits
        head, fraction = text.split(".")
        text = f"{head}.{fraction[:6]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed - offset


class DuplicateKey(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    record = dict(pairs)
    if len(record) != len(pairs):
        raise DuplicateKey("duplicate key")
    return record


def parse_line(line: str) -> dict | None:
    """The line's object; None when it is not JSON, not an object, or has a duplicated key at
    any depth (contract §2). NaN and Infinity are not JSON."""
    try:
        record = json.loads(line, object_pairs_hook=_no_duplicate_keys,
                            parse_constant=_not_json)
    except (ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) else None


def _not_json(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def image_is_valid(record: dict | None) -> bool:
    if record is None:
        return False
    hotel_id, image_id = record.get("hotel_id"), record.get("image_id")
    width, height = record.get("width"), record.get("height")
    return (
        is_int(hotel_id)
        and hotel_id >= 1
        and is_int(image_id)
        and image_id >= 1000
        and is_url(record.get("cdn_url"))
        and is_int(width)
        and width >= 0
        and is_int(height)
        and height >= 0
        and parse_timestamp(record.get("created_at")) is not None
        and isinstance(record.get("is_active"), bool)
        and isinstance(record.get("hash"), str)
        and HASH.fullmatch(record["hash"]) is not None
    )


def tags_record_is_valid(record: dict | None) -> bool:
    if record is None:
        return False
    image_id, tags = record.get("image_id"), record.get("tags")
    if not (is_int(image_id) and image_id >= 1000 and isinstance(tags, list)):
        return False
    versions = set()
    for tag in tags:
        if not isinstance(tag, dict):
            return False
        name, version, probability = tag.get("tag"), tag.get("version"), tag.get("probability")
        if not (isinstance(name, str) and name):
            return False
        if not (isinstance(version, str) and TAG_VERSION.fullmatch(version)):
            return False
        if not version_parts_fit(version):
            return False
        if not (is_number(probability) and 0 <= probability <= 1):
            return False
        versions.add(version)
    return len(versions) <= 1


def main_image_is_valid(record: dict | None) -> bool:
    if record is None or not isinstance(record.get("key"), dict):
        return False
    hotel_id = record["key"].get("hotel_id")
    if not (is_int(hotel_id) and hotel_id >= 1) or "value" not in record:
        return False
    value = record["value"]
    if value is None:
        return True
    return (
        isinstance(value, dict)
        and is_int(value.get("image_id"))
        and value["image_id"] >= 1000
        and is_url(value.get("cdn_url"))
    )


def override_is_valid(record: dict | None) -> bool:
    if record is None or "image_id" not in record:
        return False
    hotel_id, image_id = record.get("hotel_id"), record["image_id"]
    return (
        is_int(hotel_id)
        and hotel_id >= 1
        and (image_id is None or (is_int(image_id) and image_id >= 1000))
        and isinstance(record.get("set_by"), str)
        and record["set_by"] != ""
        and parse_timestamp(record.get("set_at")) is not None
    )


def version_key(version: str) -> tuple:
    match = re.fullmatch(r"v?(\d+)(?:[-.](\d+))?(?:[-.](\d+))?", version, re.ASCII)
    if not match:
        return (-1, -1, -1, version)
    return (*(int(part or 0) for part in match.groups()), version)


def score_v1(width: int, height: int, created: date, as_of: date, priority: float | None) -> float:
    resolution = width * height
    s_res = (
        0.0
        if resolution <= 0
        else min(
            1.0, (math.log(resolution) - math.log(160000)) / (math.log(2073600) - math.log(160000))
        )
    )
    s_ar = 0.0 if height == 0 else (1.0 if 0.3 <= width / height <= 4.65 else 0.0)
    s_fresh = max(0.0, min(1.0, 1 - (as_of - created).days / 3650))
    s_tag = 0.0 if priority is None else priority
    return (6 * s_res + 2 * s_ar + 2 * s_fresh + 3 * s_tag) / 13


#: Scoring v2 (docs/contract.md, "Scoring v2"), written out again here on purpose.
OBIQ_NEUTRAL = 0.5
ENGAGEMENT_WINDOW_DAYS = 28
CTR_PRIOR = 0.1
CTR_PRIOR_IMPRESSIONS = 20
REPORT_MIN_USERS = 2
REPORT_PENALTY = 0.25


@dataclass
class Engagement:
    impressions: int = 0
    clicks: int = 0
    reporting_users: set = field(default_factory=set)


def score_v2(
    width: int,
    height: int,
    created: date,
    as_of: date,
    priority: float | None,
    obiq: float | None,
    engagement: Engagement,
) -> float:
    v1_weighted = 13 * score_v1(width, height, created, as_of, priority)
    s_obiq = OBIQ_NEUTRAL if obiq is None else obiq
    ctr = (engagement.clicks + CTR_PRIOR * CTR_PRIOR_IMPRESSIONS) / (
        engagement.impressions + CTR_PRIOR_IMPRESSIONS
    )
    s_ctr = ctr / (ctr + CTR_PRIOR)
    s_report = 1.0 if len(engagement.reporting_users) >= REPORT_MIN_USERS else 0.0
    return (v1_weighted + 4 * s_obiq + 3 * s_ctr) / 20 - REPORT_PENALTY * s_report


def obiq_is_valid(record: dict | None) -> bool:
    if record is None:
        return False
    image_id, score, version = (
        record.get("image_id"),
        record.get("obiq_score"),
        record.get("version"),
    )
    return (
        is_int(image_id)
        and image_id >= 1000
        and is_number(score)
        and 0 <= score <= 1
        and isinstance(version, str)
        and version != ""
        and version_parts_fit(version)
    )


def active_obiq_scores(lines: list[str]) -> dict[int, float]:
    """Latest record per (image, version); the highest version is active."""
    latest: dict[tuple[int, str], float] = {}
    for line in lines:
        record = parse_line(line)
        if obiq_is_valid(record):
            latest[(record["image_id"], record["version"])] = record["obiq_score"]
    best: dict[int, tuple] = {}
    for (image_id, version), score in latest.items():
        key = version_key(version)
        if image_id not in best or key > best[image_id][0]:
            best[image_id] = (key, score)
    return {image_id: score for image_id, (_, score) in best.items()}


def engagement_in_window(lines: list[str], as_of: date) -> dict[int, Engagement]:
    """Events of the days [as_of - window, as_of), each event id counted once (first line)."""
    seen: set[str] = set()
    result: dict[int, Engagement] = {}
    for line in lines:
        record = parse_line(line)
        if record is None:
            continue
        event_id, kind = record.get("event_id"), record.get("event_type")
        image_id, hotel_id = record.get("image_id"), record.get("hotel_id")
        occurred = parse_timestamp(record.get("occurred_at"))
        if not (isinstance(event_id, str) and event_id and occurred is not None):
            continue
        if kind not in ("impression", "click", "report") or not is_int(image_id):
            continue
        if not (is_int(hotel_id) and hotel_id >= 1) or event_id in seen:
            continue
        seen.add(event_id)
        if not as_of - timedelta(days=ENGAGEMENT_WINDOW_DAYS) <= occurred.date() < as_of:
            continue
        engagement = result.setdefault(image_id, Engagement())
        if kind == "impression":
            engagement.impressions += 1
        elif kind == "click":
            engagement.clicks += 1
        else:
            engagement.reporting_users.add(record.get("user_id"))
    for engagement in result.values():
        engagement.reporting_users.discard(None)
    return result


@dataclass
class Selection:
    image_id: int
    cdn_url: str
    score: float
    source: str


@dataclass
class Inputs:
    """Every input line of every feed, in landing order."""

    images: list[str] = field(default_factory=list)
    image_tags: list[str] = field(default_factory=list)
    main_images: list[str] = field(default_factory=list)
    admin_overrides: list[str] = field(default_factory=list)
    obiq_scores: list[str] = field(default_factory=list)
    user_events: list[str] = field(default_factory=list)


def select_main_images(
    inputs: Inputs,
    as_of: date,
    tag_version_pin: str | None = None,
    scoring_version: str = "v1",
) -> dict[int, Selection]:
    """What a full rebuild selects for every hotel with a candidate (scoring v1 or v2)."""
    if scoring_version not in ("v1", "v2"):
        raise ValueError(f"the reference knows v1 and v2, not {scoring_version!r}")
    obiq = active_obiq_scores(inputs.obiq_scores)
    engagement = engagement_in_window(inputs.user_events, as_of)
    latest_image: dict[int, dict] = {}
    for line in inputs.images:
        record = parse_line(line)
        if image_is_valid(record):
            latest_image[record["image_id"]] = record

    tag_records: dict[tuple[int, str], list[dict]] = {}
    for line in inputs.image_tags:
        record = parse_line(line)
        if tags_record_is_valid(record) and record["tags"]:
            key = (record["image_id"], record["tags"][0]["version"])
            tag_records[key] = record["tags"]  # a later record replaces the earlier one

    top_tag: dict[int, str] = {}
    best_version: dict[int, str] = {}
    for (image_id, version), tags in tag_records.items():
        if tag_version_pin is not None and version != tag_version_pin:
            continue
        if image_id in best_version and version_key(best_version[image_id]) > version_key(version):
            continue
        best_version[image_id] = version
        top_tag[image_id] = sorted(tags, key=lambda tag: (-tag["probability"], tag["tag"]))[0][
            "tag"
        ]

    overrides: dict[int, tuple[datetime, int, int | None]] = {}
    for position, line in enumerate(inputs.admin_overrides):
        record = parse_line(line)
        if not override_is_valid(record):
            continue
        key = (parse_timestamp(record["set_at"]), position, record["image_id"])
        if record["hotel_id"] not in overrides or key[:2] > overrides[record["hotel_id"]][:2]:
            overrides[record["hotel_id"]] = key

    candidates: dict[int, list[tuple]] = {}
    for image_id, record in latest_image.items():
        if not record["is_active"]:
            continue
        created_at = parse_timestamp(record["created_at"])
        tag = top_tag.get(image_id)
        priority = None if tag is None else TAG_PRIORITY.get(tag, DEFAULT_TAG_PRIORITY)
        if scoring_version == "v2":
            score = score_v2(
                record["width"],
                record["height"],
                created_at.date(),
                as_of,
                priority,
                obiq.get(image_id),
                engagement.get(image_id, Engagement()),
            )
        else:
            score = score_v1(record["width"], record["height"], created_at.date(), as_of, priority)
        candidates.setdefault(record["hotel_id"], []).append(
            (score, created_at, image_id, record["cdn_url"])
        )

    selection: dict[int, Selection] = {}
    for hotel_id, images in candidates.items():
        # score descending, then created_at descending, then image_id ascending
        ranked = sorted(images, key=lambda item: item[2])
        ranked.sort(key=lambda item: item[1], reverse=True)
        ranked.sort(key=lambda item: item[0], reverse=True)
        score, _, image_id, url = ranked[0]
        source = "auto"
        override = overrides.get(hotel_id)
        if override and override[2] is not None:
            for candidate in images:
                if candidate[2] == override[2]:
                    score, _, image_id, url = candidate
                    source = "admin"
        selection[hotel_id] = Selection(image_id, url, score, source)
    return selection


def apply_changes(state: dict[int, tuple[int, str]], lines: list[str]) -> None:
    """Apply main_images-shaped records (feed lines or a changes export) to `state`."""
    for line in lines:
        record = parse_line(line)
        if not main_image_is_valid(record):
            continue
        hotel_id = record["key"]["hotel_id"]
        if record["value"] is None:
            state.pop(hotel_id, None)
        else:
            state[hotel_id] = (record["value"]["image_id"], record["value"]["cdn_url"])
