"""Synthetic landing-zone data for the main-image pipeline (SPEC §2).

``generate(GenerateConfig(hotels=...), out_dir)`` writes one folder per delivery::

    OUT/delivery-01/<feed>/part-00000.jsonl   (feed: images, image_tags, obiq_scores,
    OUT/delivery-02/...                         main_images, admin_overrides, user_events)

How the data is shaped
----------------------
* Hotels are ``1..hotels``. Images per hotel are long-tailed (floored lognormal, capped at
  20,000; ~5 % of hotels have none).
* An image is identified by (hotel, ordinal); its ``image_id`` is a scrambled, collision-free
  function of that pair (see ``image_ids``), always in ``[1000, 1000 + 2**40)``.
* Delivery 1 holds every hotel's initial images, the tags of ~35 % of them (the rest arrive
  late), quality scores and the frontend's current ``main_images``.
* Each follow-up delivery *touches* ``change_fraction`` of the hotels: new images,
  re-delivered images (deactivations, reactivations, new URLs, identical re-sends), the
  late tags of earlier images, second tag records (``v5-0-0``), new scores (``v2``) and
  admin overrides. One *anchor* hotel per follow-up always gets a deactivation, late tags
  and an override, so delivery 2 always demonstrates all three.
* ``user_events`` arrive in every delivery for all hotels that have images.
* Malformed lines are *extra* lines: a defective copy of a valid record, written right after
  it (a string id, a 20-char hash, a URL without scheme, truncated JSON, ...). Every record
  the generator means to deliver is therefore also present once as a valid line.

Files: a feed's file is cut into ``part-00000.jsonl``, ``part-00001.jsonl``, ... once it
holds ~``MAX_LINES_PER_PART`` lines (cuts fall between blocks of hotels); a feed with
nothing to deliver has no folder. Read every ``*.jsonl`` of a feed folder in name order.

Speed: every attribute is drawn with numpy for a block of hotels at once, lines are built
as byte matrices (see ``_Lines``) and written by a background thread. Randomness is seeded
per block of ``HOTELS_PER_BLOCK`` hotels, so the output depends only on the config.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import BinaryIO

import numpy as np

FEEDS = ("images", "image_tags", "obiq_scores", "main_images", "admin_overrides", "user_events")

HOTELS_PER_BLOCK = 2_000  # unit of randomness (changing it changes the output); small
# blocks keep numpy's buffers below glibc's mmap threshold, so their pages are reused
MAX_LINES_PER_PART = 2_000_000
MIN_LINES_FOR_MALFORMED = 100  # a part this long gets at least one malformed line
MAX_PENDING_WRITES = 24  # line matrices waiting for the writer thread
PROGRESS_EVERY_HOTELS = 100_000

# --- image ids -------------------------------------------------------------------------------
MIN_IMAGE_ID = 1000
ORDINAL_BITS = 15
UNKNOWN_ORDINAL = (1 << ORDINAL_BITS) - 1  # never a real image: used for "other" main images
MAX_HOTELS = (1 << (40 - ORDINAL_BITS)) - 1
_ID_MASK = np.uint64((1 << 40) - 1)
_ID_MULTIPLIER = np.uint64(0x9E3779B97F)  # odd, so multiplication modulo 2**40 is a bijection

# --- images per hotel and image attributes ---------------------------------------------------
P_HOTEL_WITHOUT_IMAGES = 0.05
IMAGES_LOG_MEAN, IMAGES_LOG_SIGMA = 2.1, 1.5  # median ~8, mean ~24 images per hotel
MAX_IMAGES_PER_HOTEL = 20_000
P_INACTIVE = 0.03
P_TIMESTAMP = 0.10  # created_at as a full timestamp instead of a date
P_FUTURE = 0.003
MAX_AGE_DAYS = 15 * 365
FUTURE_DAYS = 60  # the latest "future" created_at, in days after as_of
RECENT_DAYS = 60  # images of follow-up deliveries were created this many days before as_of at most
P_DUPLICATE_HASH = 0.005

COMMON_SIZES = np.array(
    [(640, 480), (800, 533), (800, 600), (1024, 683), (1024, 768), (1280, 720), (1280, 960),
     (1600, 1067), (1600, 1200), (1920, 1080), (2048, 1365), (2048, 1536), (2560, 1440),
     (3000, 2000), (3264, 2448), (4000, 3000)]
)
TINY_SIZES = np.array([(100, 75), (120, 90), (150, 100), (200, 150), (320, 240), (400, 300)])
EXTREME_SIZES = np.array([(6000, 1000), (5000, 800), (4000, 600), (300, 1500), (200, 1200)])
ZERO_SIZES = np.array([(0, 0), (0, 480), (640, 0)])
P_TINY, P_EXTREME, P_ZERO_SIZE, P_PORTRAIT, P_RESIZED = 0.03, 0.01, 0.003, 0.12, 0.25

# --- tags and scores -------------------------------------------------------------------------
TAGS = ("swimming-pool", "building", "bedroom", "beach", "living-room", "restaurant", "bar",
        "reception", "food-drinks", "kids-area", "gym", "kitchenette-kitchen", "bathroom",
        "parking", "garden")
TAG_WEIGHTS = np.array([6, 10, 20, 3, 6, 8, 4, 5, 7, 2, 3, 5, 15, 3, 3], dtype=float)
TAG_VERSIONS = ("v4-0-0", "v5-0-0")
MAX_TAGS_PER_RECORD = 6
P_TAGS_ON_TIME = 0.35  # tags in the same delivery as the image
P_NEVER_TAGGED = 0.05
P_EMPTY_TAGS = 0.03
P_RETAG_V5 = 0.25  # per already-tagged image of a touched hotel
P_SCORED = 0.85
P_LATE_SCORE = 0.8
P_RESCORE_V2 = 0.3
PENDING, TAGGED, NEVER = 0, 1, 2

# --- follow-up deliveries --------------------------------------------------------------------
NEW_IMAGES_MEAN = 2.0
P_DEACTIVATE, P_REACTIVATE, P_NEW_URL, P_RESEND = 0.05, 0.10, 0.05, 0.02
P_OVERRIDE, P_CLEAR_OVERRIDE = 0.15, 0.02
ADMINS = ("ops@example.com", "content@example.com", "qa@example.com")

# --- main images and user events -------------------------------------------------------------
P_MAIN_IMAGE, P_MAIN_IMAGE_NO_IMAGES, P_MAIN_OTHER_ID, P_MAIN_NULL = 0.30, 0.20, 0.10, 0.02
EVENTS_PER_HOTEL = 2.0
MAX_EVENTS_PER_DELIVERY = 2_000_000
EVENT_TYPES = ("impression", "click", "report")
EVENT_TYPE_WEIGHTS = np.array([0.85, 0.14, 0.01])
SEARCH_TERMS = ("berlin", "paris", "london", "rome", "madrid", "barcelona", "amsterdam",
                "vienna", "prague", "lisbon", "new york", "beach hotel", "spa", "family hotel",
                "hotel with pool", "city centre", "airport hotel", "ski resort")


@dataclass(frozen=True)
class GenerateConfig:
    hotels: int
    seed: int = 42
    deliveries: int = 2  # number of deliveries (>= 1)
    change_fraction: float = 0.01  # fraction of hotels touched by each follow-up delivery
    malformed_rate: float = 0.001  # fraction of lines per feed written malformed
    start_date: date = date(2024, 7, 1)  # as_of of delivery 1; delivery k is start + (k-1) days

    def __post_init__(self) -> None:
        if not 0 <= self.hotels <= MAX_HOTELS:
            raise ValueError(f"hotels must be in 0..{MAX_HOTELS}")
        if self.deliveries < 1:
            raise ValueError("deliveries must be >= 1")
        if not 0.0 <= self.change_fraction <= 1.0:
            raise ValueError("change_fraction must be in [0, 1]")
        if not 0.0 <= self.malformed_rate <= 1.0:
            raise ValueError("malformed_rate must be in [0, 1]")


@dataclass(frozen=True)
class GenerateResult:
    out_dir: Path
    deliveries: list[Path]  # out_dir/"delivery-01", ...
    as_of_dates: list[date]
    lines: dict[str, int]  # feed -> total lines written (all deliveries, malformed included)
    malformed: dict[str, int] = field(default_factory=dict)  # feed -> malformed lines written


def image_ids(hotel: np.ndarray, ordinal: np.ndarray) -> np.ndarray:
    """Unique, random-looking image id of (hotel, ordinal): ``1000 + (seq * odd) mod 2**40``."""
    seq = (hotel.astype(np.uint64) - np.uint64(1)) << np.uint64(ORDINAL_BITS)
    seq |= ordinal.astype(np.uint64)
    return ((seq * _ID_MULTIPLIER) & _ID_MASK).astype(np.int64) + MIN_IMAGE_ID


# =============================================================================================
# Building lines as byte matrices
#
# A feed's lines for a whole block are built column-wise: every field is rendered into a
# fixed number of byte columns of a (lines x bytes) uint8 matrix. Values shorter than their
# field (the number 42 in an 8-digit field, "true" in a 5-letter field) are padded with NUL
# bytes, and rendering drops every NUL byte. Much faster than one str.format call per line.
# =============================================================================================


def _byte_table(values: list[str]) -> np.ndarray:
    """The strings as rows of a NUL-padded (len(values), longest) uint8 matrix."""
    width = max(len(value) for value in values)
    padded = b"".join(value.encode().ljust(width, b"\0") for value in values)
    return np.frombuffer(padded, dtype=np.uint8).reshape(len(values), width)


def _words(values: list[str]) -> np.ndarray:
    """4-byte strings as uint32 words; viewing words back as uint8 gives the bytes again."""
    return np.frombuffer("".join(values).encode(), dtype=np.uint32)


_HEX_WORDS = _words([f"{i:04x}" for i in range(1 << 16)])
# four decimal digits: zero-filled (0..9999), leading group (10000..19999: " 42" with NULs), empty
_DIGIT_WORDS = _words(
    [f"{i:04d}" for i in range(10_000)]
    + [f"{i:4d}".replace(" ", "\0") for i in range(10_000)]
    + ["\0" * 4]
)
_LEADING, _EMPTY = 10_000, 20_000
_BOOLEANS = _byte_table(["false", "true"])
_COMMA_OR_NOTHING = _byte_table(["\0", ","])
_NULL = np.frombuffer(b"null", dtype=np.uint8)


@dataclass(frozen=True)
class _Chunk:
    """Rendered lines (each ending with a newline) ready to be appended to a file."""

    data: bytes
    lines: int
    malformed: int = 0


class _Lines:
    """Builder of ``n`` lines, one field after the other (see the section comment)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._columns: list[np.ndarray] = []

    def text(self, constant: str) -> _Lines:
        row = np.frombuffer(constant.encode(), dtype=np.uint8)
        self._columns.append(np.broadcast_to(row, (self.n, len(row))))
        return self

    def integer(self, values: np.ndarray, digits: int) -> _Lines:
        """Non-negative integers of at most ``digits`` digits, in groups of four digits."""
        values = values.astype(np.int64)
        if len(values) and (values.min() < 0 or values.max() >= 10**digits):
            raise ValueError(f"integer out of range for {digits} digits")
        groups = -(-digits // 4)
        index = np.empty((len(values), groups), dtype=np.int64)
        for g in range(groups):
            scale = 10 ** (4 * (groups - 1 - g))
            group = values // scale % 10_000
            is_leading = (values >= scale) | (g == groups - 1)  # the number 0 keeps its "0"
            leading = np.where(is_leading, group + _LEADING, _EMPTY)
            index[:, g] = np.where(values >= scale * 10_000, group, leading)
        self._columns.append(_DIGIT_WORDS[index].view(np.uint8))
        return self

    def hex(self, values: np.ndarray, digits: int = 16) -> _Lines:
        """The last ``digits`` lowercase hex digits of uint64 values, zero-filled."""
        quarters = values.astype(">u8").view(">u2").reshape(-1, 4).astype(np.intp)
        self._columns.append(_HEX_WORDS[quarters].view(np.uint8)[:, 16 - digits :])
        return self

    def pick(self, table: np.ndarray, index: np.ndarray) -> _Lines:
        """Row ``index[i]`` of a ``_byte_table`` for line i."""
        self._columns.append(table[index])
        return self

    def raw(self, matrix: np.ndarray) -> _Lines:
        self._columns.append(matrix)
        return self

    def matrix(self) -> np.ndarray:
        if not self._columns:
            return np.zeros((self.n, 0), dtype=np.uint8)
        return np.concatenate(self._columns, axis=1)

    def lines(self) -> np.ndarray:
        """The finished line matrix: one row per line, ending with a newline."""
        return self.text("\n").matrix()


def _squeeze(matrix: np.ndarray) -> bytes:
    """The bytes of a line matrix without its NUL padding."""
    return matrix[matrix != 0].tobytes()


def _or_null(matrix: np.ndarray, null: np.ndarray) -> np.ndarray:
    """Replace the rows where ``null`` is true by the JSON literal null."""
    matrix[null] = 0
    matrix[null, : len(_NULL)] = _NULL
    return matrix


@functools.cache
def _fixed_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The tables that do not depend on the config: times of day, scores, tag entries."""
    times = [f"T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}Z" for s in range(86_400)]
    scores = [f"{p / 100:.2f}" for p in range(101)]
    entries = [
        f'{{"tag":"{tag}","version":"{version}","probability":{probability}}}'
        for version in TAG_VERSIONS
        for tag in TAGS
        for probability in scores
    ]
    return _byte_table([*times, "\0"]), _byte_table(scores), _byte_table([*entries, "\0"])


@dataclass(frozen=True)
class _Tables:
    """Byte tables of the strings that repeat: dates, times of day, scores, tag entries."""

    first_day: int  # day offset (relative to start_date) of dates[0]
    dates: np.ndarray  # "YYYY-MM-DD"
    times: np.ndarray  # "THH:MM:SSZ" per second of the day; the last row (index -1) is empty
    scores: np.ndarray  # "0.00" .. "1.00"
    tag_entries: np.ndarray  # {"tag":..,"version":..,"probability":..}; last row empty

    @classmethod
    def build(cls, config: GenerateConfig) -> _Tables:
        first = -MAX_AGE_DAYS - 1
        last = config.deliveries + FUTURE_DAYS + 1
        dates = [(config.start_date + timedelta(days=d)).isoformat() for d in range(first, last)]
        return cls(first, _byte_table(dates), *_fixed_tables())

    def date_index(self, day_offsets: np.ndarray) -> np.ndarray:
        return day_offsets - self.first_day

    def timestamp(self, lines: _Lines, day_offsets: np.ndarray, seconds: np.ndarray) -> _Lines:
        """Append "YYYY-MM-DD" plus "THH:MM:SSZ" where ``seconds >= 0`` (-1: date only)."""
        lines.pick(self.dates, self.date_index(day_offsets))
        return lines.pick(self.times, seconds)

    @staticmethod
    def tag_entry_index(version: int, tag: np.ndarray, probability: np.ndarray) -> np.ndarray:
        """Row of ``tag_entries`` for a version index, tag index and probability in %."""
        return (version * len(TAGS) + tag) * 101 + probability


# =============================================================================================
# Image state of one block of hotels
# =============================================================================================


@dataclass
class _Images:
    """Columns of every image of a block, in creation order (one row per image)."""

    hotel: np.ndarray
    ordinal: np.ndarray
    width: np.ndarray
    height: np.ndarray
    created_day: np.ndarray  # offset in days from start_date
    created_second: np.ndarray  # -1: created_at is a plain date
    active: np.ndarray
    url_a: np.ndarray  # the URL is ".../<url_a><url_b>.jpg"
    url_b: np.ndarray
    hash: np.ndarray
    tag_state: np.ndarray  # PENDING, TAGGED or NEVER
    has_v5: np.ndarray
    score_version: np.ndarray  # 0: no score yet

    def append(self, other: _Images) -> None:
        for column in dataclasses.fields(self):
            name = column.name
            setattr(self, name, np.concatenate([getattr(self, name), getattr(other, name)]))

    def ids(self, rows: np.ndarray) -> np.ndarray:
        return image_ids(self.hotel[rows], self.ordinal[rows])


@dataclass
class _Block:
    """Hotels ``first_hotel .. first_hotel + size - 1`` and everything drawn for them so far."""

    first_hotel: int
    size: int
    rng: np.random.Generator
    images: _Images
    image_count: np.ndarray  # per hotel of the block: ordinals handed out so far

    def local(self, hotels: np.ndarray) -> np.ndarray:
        return hotels - self.first_hotel


def _random_u64(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, np.iinfo(np.uint64).max, size=n, dtype=np.uint64, endpoint=True)


def _ragged_arange(counts: np.ndarray) -> np.ndarray:
    """[0..c0-1, 0..c1-1, ...] for counts [c0, c1, ...]."""
    starts = np.cumsum(counts) - counts
    return np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(starts, counts)


def _draw_image_counts(rng: np.random.Generator, n: int) -> np.ndarray:
    counts = np.floor(rng.lognormal(IMAGES_LOG_MEAN, IMAGES_LOG_SIGMA, n)).astype(np.int64)
    counts[rng.random(n) < P_HOTEL_WITHOUT_IMAGES] = 0
    return np.minimum(counts, MAX_IMAGES_PER_HOTEL)


def _draw_sizes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    sizes = COMMON_SIZES[rng.integers(0, len(COMMON_SIZES), n)].copy()
    resized = rng.random(n) < P_RESIZED
    sizes[resized] = (sizes[resized] * rng.uniform(0.5, 1.0, (int(resized.sum()), 1))).astype(int)
    portrait = rng.random(n) < P_PORTRAIT
    sizes[portrait] = sizes[portrait][:, ::-1]
    kind = rng.random(n)
    for table, low, high in (
        (TINY_SIZES, 0.0, P_TINY),
        (EXTREME_SIZES, P_TINY, P_TINY + P_EXTREME),
        (ZERO_SIZES, P_TINY + P_EXTREME, P_TINY + P_EXTREME + P_ZERO_SIZE),
    ):
        chosen = (kind >= low) & (kind < high)
        sizes[chosen] = table[rng.integers(0, len(table), int(chosen.sum()))]
    return sizes[:, 0], sizes[:, 1]


def _draw_created(
    rng: np.random.Generator, n: int, as_of_day: int, recent: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Creation day offsets: old and spread over 15 years, or (``recent``) within ~2 months."""
    if recent:
        age = rng.integers(0, RECENT_DAYS, n)
    else:
        age = np.minimum(rng.exponential(900.0, n), MAX_AGE_DAYS).astype(np.int64)
        spread = rng.random(n) < 0.15
        age[spread] = rng.integers(0, MAX_AGE_DAYS, int(spread.sum()))
    day = as_of_day - age
    future = rng.random(n) < P_FUTURE
    day[future] = as_of_day + rng.integers(1, FUTURE_DAYS, int(future.sum()))
    second = np.where(rng.random(n) < P_TIMESTAMP, rng.integers(0, 86_400, n), -1)
    return day, second


def _new_images(
    rng: np.random.Generator, hotel: np.ndarray, ordinal: np.ndarray, as_of_day: int, recent: bool
) -> _Images:
    n = len(hotel)
    width, height = _draw_sizes(rng, n)
    created_day, created_second = _draw_created(rng, n, as_of_day, recent)
    hashes = _random_u64(rng, n)
    duplicate = np.flatnonzero(rng.random(n) < P_DUPLICATE_HASH)
    duplicate = duplicate[(duplicate > 0) & (hotel[duplicate] == hotel[duplicate - 1])]
    hashes[duplicate] = hashes[duplicate - 1]  # the same picture delivered twice
    state = rng.random(n)
    return _Images(
        hotel=hotel,
        ordinal=ordinal,
        width=width,
        height=height,
        created_day=created_day,
        created_second=created_second,
        active=rng.random(n) >= P_INACTIVE,
        url_a=_random_u64(rng, n),
        url_b=_random_u64(rng, n),
        hash=hashes,
        tag_state=np.where(
            state < P_TAGS_ON_TIME, TAGGED, np.where(state < 1 - P_NEVER_TAGGED, PENDING, NEVER)
        ).astype(np.int8),
        has_v5=np.zeros(n, dtype=bool),
        score_version=np.where(rng.random(n) < P_SCORED, 1, 0).astype(np.int8),
    )


# =============================================================================================
# The lines of each feed
# =============================================================================================

HOTEL_DIGITS, IMAGE_ID_DIGITS, SIZE_DIGITS = 8, 13, 4
CDN_PREFIX = "https://cdn.example.com/images/"


def _image_rows(tables: _Tables, images: _Images, rows: np.ndarray) -> np.ndarray:
    lines = _Lines(len(rows))
    lines.text('{"hotel_id":').integer(images.hotel[rows], HOTEL_DIGITS)
    lines.text(',"image_id":').integer(images.ids(rows), IMAGE_ID_DIGITS)
    lines.text(f',"cdn_url":"{CDN_PREFIX}').hex(images.url_a[rows]).hex(images.url_b[rows])
    lines.text('.jpg","width":').integer(images.width[rows], SIZE_DIGITS)
    lines.text(',"height":').integer(images.height[rows], SIZE_DIGITS)
    lines.text(',"created_at":"')
    tables.timestamp(lines, images.created_day[rows], images.created_second[rows])
    lines.text('","is_active":').pick(_BOOLEANS, images.active[rows].astype(np.int64))
    lines.text(',"hash":"').hex(images.hash[rows]).text('"}')
    return lines.lines()


def _tag_rows(
    rng: np.random.Generator, tables: _Tables, ids: np.ndarray, version: int
) -> np.ndarray:
    """One record per image id: 1..6 distinct tags of one model version (a few empty)."""
    n = len(ids)
    tag_count = np.minimum(1 + rng.poisson(1.5, n), MAX_TAGS_PER_RECORD)
    tag_count[rng.random(n) < P_EMPTY_TAGS] = 0
    # weighted sampling without replacement: the smallest Exp(1)/weight keys win
    keys = rng.exponential(size=(n, len(TAGS))) / TAG_WEIGHTS
    tags = np.argsort(keys, axis=1)[:, :MAX_TAGS_PER_RECORD]
    probability = np.rint(100 * np.sqrt(rng.random((n, MAX_TAGS_PER_RECORD)))).astype(np.int64)
    entry = tables.tag_entry_index(version, tags, probability)

    lines = _Lines(n).text('{"image_id":').integer(ids, IMAGE_ID_DIGITS).text(',"tags":[')
    for slot in range(MAX_TAGS_PER_RECORD):
        used = tag_count > slot
        if slot > 0:
            lines.pick(_COMMA_OR_NOTHING, used.astype(np.int64))
        lines.pick(tables.tag_entries, np.where(used, entry[:, slot], -1))
    return lines.text("]}").lines()


def _score_rows(
    rng: np.random.Generator, tables: _Tables, ids: np.ndarray, version: str
) -> np.ndarray:
    score = np.rint(100 * rng.beta(4.0, 2.0, len(ids))).astype(np.int64)
    lines = _Lines(len(ids)).text('{"image_id":').integer(ids, IMAGE_ID_DIGITS)
    lines.text(',"obiq_score":').pick(tables.scores, score)
    return lines.text(f',"version":"{version}"}}').lines()


def _event_rows(block: _Block, tables: _Tables, as_of_day: int, rate: float) -> np.ndarray:
    """About ``rate`` events per hotel with images, during the day before ``as_of``."""
    rng, counts = block.rng, block.image_count
    local = np.repeat(np.arange(block.size), rng.poisson(rate, block.size) * (counts > 0))
    n = len(local)
    hotel = local + block.first_hotel
    ordinal = (rng.random(n) * counts[local]).astype(np.int64)
    a, b = _random_u64(rng, n), _random_u64(rng, n)
    kind = rng.choice(len(EVENT_TYPES), n, p=EVENT_TYPE_WEIGHTS)
    second = rng.integers(0, 86_400, n)
    term = rng.integers(0, len(SEARCH_TERMS), n)
    user = rng.integers(0, 1 << 40, n).astype(np.uint64)

    lines = _Lines(n).text('{"event_id":"')
    lines.hex(a >> np.uint64(32), 8).text("-").hex(a >> np.uint64(16), 4).text("-").hex(a, 4)
    lines.text("-").hex(b >> np.uint64(48), 4).text("-").hex(b, 12)
    lines.text('","event_type":"').pick(_EVENT_TYPES, kind).text('","occurred_at":"')
    tables.timestamp(lines, np.full(n, as_of_day - 1), second)
    lines.text('","hotel_id":').integer(hotel, HOTEL_DIGITS)
    lines.text(',"image_id":').integer(image_ids(hotel, ordinal), IMAGE_ID_DIGITS)
    lines.text(',"search_term":"').pick(_SEARCH_TERMS, term)
    return lines.text('","user_id":"u').hex(user, 10).text('"}').lines()


def _override_rows(
    rng: np.random.Generator, tables: _Tables, hotel: np.ndarray, image_id: np.ndarray,
    as_of_day: int,
) -> np.ndarray:
    """``image_id`` -1 means a clear (``null``); set_at is during the day before as_of."""
    n = len(hotel)
    image = _Lines(n).integer(np.maximum(image_id, 0), IMAGE_ID_DIGITS).matrix()
    lines = _Lines(n).text('{"hotel_id":').integer(hotel, HOTEL_DIGITS)
    lines.text(',"image_id":').raw(_or_null(image, image_id < 0))
    lines.text(',"set_by":"').pick(_ADMINS, rng.integers(0, len(ADMINS), n))
    lines.text('","set_at":"')
    tables.timestamp(lines, np.full(n, as_of_day - 1), rng.integers(0, 86_400, n))
    return lines.text('"}').lines()


_EVENT_TYPES = _byte_table(list(EVENT_TYPES))
_SEARCH_TERMS = _byte_table(list(SEARCH_TERMS))
_ADMINS = _byte_table(list(ADMINS))


# =============================================================================================
# Malformed lines: each defect breaks one SPEC §2 rule (or is not JSON at all)
# =============================================================================================


def _truncate(line: str) -> str:
    return line[: len(line) // 2]


def _sub(pattern: str, replacement: str) -> Callable[[str], str | None]:
    regex = re.compile(pattern)

    def defect(line: str) -> str | None:
        broken, count = regex.subn(replacement, line, count=1)
        return broken if count else None  # None: defect not applicable to this line

    return defect


def _mixed_versions(line: str) -> str | None:
    """Give the last tag of a record with several tags another version."""
    head, found, tail = line.rpartition('"version":"v')
    if not found or '"version":"v' not in head:
        return None
    _, quote, rest = tail.partition('"')
    return head + '"version":"v9-9-9' + quote + rest


DEFECTS: dict[str, tuple[Callable[[str], str | None], ...]] = {
    "images": (
        _sub(r'"image_id":(\d+)', r'"image_id":"\1"'),
        _sub(r'"hash":"([0-9a-f]{16})"', r'"hash":"\g<1>0f0f"'),
        _sub(r'"cdn_url":"https://', '"cdn_url":"'),
        _sub(r'"created_at":"[^"]*"', '"created_at":"2023-13-45"'),
        _sub(r'"hotel_id":', '"hotel_id":-'),
        _sub(r'"is_active":(true|false)', '"is_active":"yes"'),
        _truncate,
    ),
    "image_tags": (
        _sub(r'"probability":[0-9.]+', '"probability":1.5'),
        _sub(r'"version":"v\d+-\d+-\d+"', '"version":"4.0"'),
        _sub(r'"tag":"[^"]*"', '"tag":""'),
        _mixed_versions,
        _sub(r'"image_id":\d+', '"image_id":999'),
        _truncate,
    ),
    "obiq_scores": (
        _sub(r'"obiq_score":[0-9.]+', '"obiq_score":1.7'),
        _sub(r'"obiq_score":[0-9.]+', '"obiq_score":-0.2'),
        _sub(r'"version":"[^"]*"', '"version":""'),
        _truncate,
    ),
    "main_images": (_sub(r'"key":\{"hotel_id":\d+\}', '"key":{}'), _truncate),
    "admin_overrides": (
        _sub(r'"set_by":"[^"]*"', '"set_by":""'),
        _sub(r'"set_at":"[^"]*"', '"set_at":"yesterday"'),
        _truncate,
    ),
    "user_events": (_sub(r'"event_type":"[^"]*"', '"event_type":"purchase"'), _truncate),
}


def _corrupt(feed: str, line: str, kind: int) -> str:
    broken = DEFECTS[feed][kind](line)
    return _truncate(line) if broken is None else broken


@dataclass(frozen=True)
class _Malformed:
    """Which lines of a line matrix get a defective copy (and which defect), drawn up front."""

    positions: list[int]
    kinds: list[int]

    @classmethod
    def draw(cls, rng: np.random.Generator, feed: str, lines: int, rate: float) -> _Malformed:
        count = int(rng.binomial(lines, rate)) if rate > 0 else 0
        if count == 0:
            return cls([], [])
        positions = np.sort(rng.choice(lines, count, replace=False)).tolist()
        return cls(positions, rng.integers(0, len(DEFECTS[feed]), count).tolist())


def _render(feed: str, matrix: np.ndarray, malformed: _Malformed) -> _Chunk:
    """The bytes of a line matrix, with a defective copy right after each chosen line."""
    pieces: list[bytes] = []
    previous = 0
    for position, kind in zip(malformed.positions, malformed.kinds, strict=True):
        pieces.append(_squeeze(matrix[previous : position + 1]))
        line = _squeeze(matrix[position]).decode().rstrip("\n")
        pieces.append(_corrupt(feed, line, kind).encode() + b"\n")
        previous = position + 1
    pieces.append(_squeeze(matrix[previous:]))
    count = len(malformed.positions)
    return _Chunk(b"".join(pieces), len(matrix) + count, count)


# =============================================================================================
# Delivery 1 and follow-up deliveries of one block
# =============================================================================================


@dataclass(frozen=True)
class _FollowUp:
    """Hotels touched by one follow-up delivery (sorted) and its anchor hotel."""

    touched: np.ndarray
    anchor: int


def _plan_follow_ups(config: GenerateConfig) -> list[_FollowUp]:
    """Per follow-up delivery: ``change_fraction`` of the hotels (at least one), drawn globally."""
    plans = []
    for k in range(2, config.deliveries + 1):
        if config.hotels == 0:
            plans.append(_FollowUp(np.zeros(0, dtype=np.int64), 0))
            continue
        rng = np.random.default_rng([config.seed, 1_000_003, k])
        n = min(config.hotels, max(1, round(config.change_fraction * config.hotels)))
        touched = rng.choice(config.hotels, n, replace=False).astype(np.int64) + 1
        plans.append(_FollowUp(np.sort(touched), int(touched[0])))
    return plans


Delivery = dict[str, list[np.ndarray]]  # feed -> line matrices of a block in a delivery


def _start_block(
    rng: np.random.Generator, first_hotel: int, size: int, anchors: np.ndarray
) -> _Block:
    """Draw the initial images of hotels ``first_hotel ..``; anchors get >= 3 images."""
    counts = _draw_image_counts(rng, size)
    local_anchors = anchors - first_hotel
    counts[local_anchors] = np.maximum(counts[local_anchors], 3)
    hotel = np.repeat(np.arange(size, dtype=np.int64) + first_hotel, counts)
    images = _new_images(rng, hotel, _ragged_arange(counts), as_of_day=0, recent=False)
    is_anchor = np.isin(hotel, anchors)
    images.tag_state[is_anchor] = PENDING  # the anchor's tags arrive in its follow-up delivery
    images.active[is_anchor & (images.ordinal < 2)] = True
    return _Block(first_hotel, size, rng, images, counts)


def _first_delivery(block: _Block, tables: _Tables, rate: float) -> Delivery:
    """Delivery 1: all initial images (shuffled), on-time tags, scores, main images, events."""
    rng, images = block.rng, block.images
    rows = rng.permutation(len(images.hotel))
    tagged = np.flatnonzero(images.tag_state == TAGGED)
    scored = np.flatnonzero(images.score_version > 0)
    return {
        "images": [_image_rows(tables, images, rows)],
        "image_tags": [_tag_rows(rng, tables, images.ids(tagged), version=0)],
        "obiq_scores": [_score_rows(rng, tables, images.ids(scored), "v1")],
        "main_images": [_main_image_rows(block)],
        "user_events": [_event_rows(block, tables, 0, rate)],
    }


def _main_image_rows(block: _Block) -> np.ndarray:
    """The frontend's current main images: mostly an image of the hotel, some unknown ids."""
    rng, counts, images = block.rng, block.image_count, block.images
    u = rng.random(block.size)
    chosen = np.where(counts > 0, u < P_MAIN_IMAGE, u < P_MAIN_IMAGE_NO_IMAGES)
    local = np.flatnonzero(chosen)
    n = len(local)
    ordinal = (rng.random(n) * counts[local]).astype(np.int64)
    unknown = (counts[local] == 0) | (rng.random(n) < P_MAIN_OTHER_ID)
    ordinal[unknown] = UNKNOWN_ORDINAL
    url_a, url_b = _random_u64(rng, n), _random_u64(rng, n)  # kept for unknown ids
    row = ((np.cumsum(counts) - counts)[local] + ordinal)[~unknown]  # images are hotel-sorted
    url_a[~unknown], url_b[~unknown] = images.url_a[row], images.url_b[row]
    hotel = local + block.first_hotel
    value = _Lines(n).text('{"image_id":').integer(image_ids(hotel, ordinal), IMAGE_ID_DIGITS)
    value.text(f',"cdn_url":"{CDN_PREFIX}').hex(url_a).hex(url_b).text('.jpg"}')
    null = rng.random(n) < P_MAIN_NULL
    lines = _Lines(n).text('{"key":{"hotel_id":').integer(hotel, HOTEL_DIGITS)
    return lines.text('},"value":').raw(_or_null(value.matrix(), null)).text("}").lines()


def _follow_up(
    block: _Block, tables: _Tables, plan: _FollowUp, as_of_day: int, rate: float
) -> Delivery:
    """A follow-up delivery: changes for the touched hotels of the block, plus user events."""
    lo, hi = np.searchsorted(plan.touched, [block.first_hotel, block.first_hotel + block.size])
    touched = block.local(plan.touched[lo:hi])
    in_block = block.first_hotel <= plan.anchor < block.first_hotel + block.size
    anchor = plan.anchor - block.first_hotel if in_block else -1
    is_touched = np.zeros(block.size, dtype=bool)
    is_touched[touched] = True

    old = np.flatnonzero(is_touched[block.local(block.images.hotel)])
    was_pending = old[block.images.tag_state[old] == PENDING]
    was_tagged = old[(block.images.tag_state[old] == TAGGED) & ~block.images.has_v5[old]]
    changed = _change_images(block, old, anchor)
    new = _add_images(block, touched, as_of_day)
    images, rng = block.images, block.rng

    retag = was_tagged[rng.random(len(was_tagged)) < P_RETAG_V5]
    images.has_v5[retag] = True
    v4_tagged = np.concatenate([was_pending, new[images.tag_state[new] == TAGGED]])
    images.tag_state[was_pending] = TAGGED
    rescore = _rescore(block, old, new)

    delivered = np.concatenate([changed, new])
    return {
        "images": [_image_rows(tables, images, delivered[rng.permutation(len(delivered))])],
        "image_tags": [
            _tag_rows(rng, tables, images.ids(v4_tagged), version=0),
            _tag_rows(rng, tables, images.ids(retag), version=1),
        ],
        "obiq_scores": [
            _score_rows(rng, tables, images.ids(rescore[0]), "v1"),
            _score_rows(rng, tables, images.ids(rescore[1]), "v2"),
        ],
        "admin_overrides": [_overrides(block, tables, touched, anchor, as_of_day)],
        "user_events": [_event_rows(block, tables, as_of_day, rate)],
    }


def _change_images(block: _Block, old: np.ndarray, anchor: int) -> np.ndarray:
    """Deactivate, reactivate, re-URL or re-send some earlier images; returns changed rows."""
    images, rng = block.images, block.rng
    u = rng.random((4, len(old)))
    active = images.active[old]
    deactivate = active & (u[0] < P_DEACTIVATE)
    reactivate = ~active & (u[1] < P_REACTIVATE)
    new_url = active & ~deactivate & (u[2] < P_NEW_URL)
    resend = u[3] < P_RESEND
    at_anchor = block.local(images.hotel[old]) == anchor
    deactivate |= at_anchor & (images.ordinal[old] == 0)  # always one deactivation
    keep = at_anchor & (images.ordinal[old] == 1)  # the anchor's override target stays active
    deactivate &= ~keep
    reactivate |= keep & ~active

    images.active[old[deactivate]] = False
    images.active[old[reactivate]] = True
    rows = old[new_url]
    images.url_a[rows] = _random_u64(rng, len(rows))
    images.url_b[rows] = _random_u64(rng, len(rows))
    return old[deactivate | reactivate | new_url | resend]


def _add_images(block: _Block, touched: np.ndarray, as_of_day: int) -> np.ndarray:
    """Append new images for the touched hotels; returns their rows."""
    counts = block.image_count
    room = np.maximum(UNKNOWN_ORDINAL - counts[touched], 0)
    n_new = np.minimum(block.rng.poisson(NEW_IMAGES_MEAN, len(touched)), room)
    ordinal = _ragged_arange(n_new) + np.repeat(counts[touched], n_new)
    hotel = np.repeat(touched, n_new) + block.first_hotel
    first_row = len(block.images.hotel)
    block.images.append(_new_images(block.rng, hotel, ordinal, as_of_day, recent=True))
    counts[touched] += n_new
    return np.arange(first_row, first_row + len(hotel))


def _rescore(block: _Block, old: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows getting a v1 score (new images, late scores) and rows getting a v2 score."""
    images, rng = block.images, block.rng
    version = images.score_version[old]
    late = old[(version == 0) & (rng.random(len(old)) < P_LATE_SCORE)]
    v2 = old[(version == 1) & (rng.random(len(old)) < P_RESCORE_V2)]
    images.score_version[late] = 1
    images.score_version[v2] = 2
    return np.concatenate([late, new[images.score_version[new] > 0]]), v2


def _overrides(
    block: _Block, tables: _Tables, touched: np.ndarray, anchor: int, as_of_day: int
) -> np.ndarray:
    """Overrides to a random active image for some touched hotels, and a few clears."""
    images, rng = block.images, block.rng
    u = rng.random((2, len(touched)))
    wants = touched[(u[0] < P_OVERRIDE) | (touched == anchor)]
    clears = touched[(u[0] >= P_OVERRIDE) & (u[1] < P_CLEAR_OVERRIDE) & (touched != anchor)]
    wanted = np.zeros(block.size, dtype=bool)
    wanted[wants] = True
    candidates = np.flatnonzero(images.active & wanted[block.local(images.hotel)])
    local = block.local(images.hotel[candidates])
    preferred = (local == anchor) & (images.ordinal[candidates] == 1)
    order = np.lexsort((rng.random(len(candidates)), ~preferred, local))
    candidates, local = candidates[order], local[order]
    first = np.flatnonzero(np.r_[True, local[1:] != local[:-1]]) if len(local) else local
    target = candidates[first]
    hotel = np.concatenate([images.hotel[target], clears + block.first_hotel])
    image_id = np.concatenate([images.ids(target), np.full(len(clears), -1)])
    return _override_rows(rng, tables, hotel, image_id, as_of_day)


# =============================================================================================
# Writing files
# =============================================================================================


class _PartWriter:
    """One feed of one delivery: ``part-00000.jsonl``, ``part-00001.jsonl``, ... (lazily)."""

    def __init__(self, folder: Path, ensure_malformed: bool) -> None:
        self.folder = folder
        self.ensure_malformed = ensure_malformed
        self.lines = 0  # in finished parts
        self.malformed = 0
        self._part = 0
        self._file: BinaryIO | None = None
        self._part_lines = 0
        self._part_malformed = 0
        self._last_line = b""

    def write(self, chunk: _Chunk) -> None:
        if chunk.lines == 0:
            return
        if self._part_lines and self._part_lines + chunk.lines > MAX_LINES_PER_PART:
            self._finish_part()
        if self._file is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            path = self.folder / f"part-{self._part:05d}.jsonl"
            self._file = open(path, "wb", buffering=1 << 22)  # noqa: SIM115 - closed in _finish_part
        self._file.write(chunk.data)
        self._part_lines += chunk.lines
        self._part_malformed += chunk.malformed
        self._last_line = chunk.data[chunk.data.rfind(b"\n", 0, len(chunk.data) - 1) + 1 : -1]

    def close(self) -> None:
        if self._file is not None:
            self._finish_part()

    def _finish_part(self) -> None:
        """Close the current part; a long part without any malformed line gets one."""
        assert self._file is not None
        if (
            self.ensure_malformed
            and self._part_malformed == 0
            and self._part_lines >= MIN_LINES_FOR_MALFORMED
        ):
            self._file.write(_truncate(self._last_line.decode()).encode() + b"\n")
            self._part_lines += 1
            self._part_malformed += 1
        self._file.close()
        self._file = None
        self.lines += self._part_lines
        self.malformed += self._part_malformed
        self._part += 1
        self._part_lines = self._part_malformed = 0


class _Sink:
    """All part writers of a run, keyed by (delivery index, feed).

    Rendering and writing happen on one background thread (numpy and file writes release
    the GIL), in submission order, while the main thread draws the next block.
    """

    def __init__(self, delivery_dirs: list[Path], config: GenerateConfig) -> None:
        self.rate = config.malformed_rate
        self.writers = {
            (d, feed): _PartWriter(folder / feed, ensure_malformed=self.rate > 0)
            for d, folder in enumerate(delivery_dirs)
            for feed in FEEDS
        }
        self.submitted = dict.fromkeys(FEEDS, 0)  # lines handed over so far, for progress
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="generate-writer")
        self._pending: deque[Future[None]] = deque()

    def write(self, rng: np.random.Generator, delivery: int, lines: Delivery) -> None:
        for feed in FEEDS:  # a fixed order keeps the random stream deterministic
            for matrix in lines.get(feed, []):
                malformed = _Malformed.draw(rng, feed, len(matrix), self.rate)
                writer = self.writers[delivery, feed]
                self._pending.append(self._thread.submit(_write, writer, feed, matrix, malformed))
                self.submitted[feed] += len(matrix) + len(malformed.positions)
        while len(self._pending) > MAX_PENDING_WRITES:
            self._pending.popleft().result()  # bounded memory; re-raises a writer error

    def close(self) -> None:
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._thread.shutdown(wait=True, cancel_futures=True)
            for writer in self.writers.values():
                writer.close()

    def totals(self, attribute: str) -> dict[str, int]:
        totals = dict.fromkeys(FEEDS, 0)
        for (_, feed), writer in self.writers.items():
            totals[feed] += getattr(writer, attribute)
        return totals


def _write(writer: _PartWriter, feed: str, matrix: np.ndarray, malformed: _Malformed) -> None:
    writer.write(_render(feed, matrix, malformed))


# =============================================================================================
# Entry point
# =============================================================================================


def _blocks(hotels: int) -> Iterator[tuple[int, int, int]]:
    """(block index, first hotel id, number of hotels) for hotels 1..hotels."""
    for index, first in enumerate(range(1, hotels + 1, HOTELS_PER_BLOCK)):
        yield index, first, min(HOTELS_PER_BLOCK, hotels + 1 - first)


def _generate_block(
    config: GenerateConfig, tables: _Tables, plans: list[_FollowUp], index: int, first: int,
    size: int, sink: _Sink,
) -> None:
    rng = np.random.default_rng([config.seed, index])
    anchors = np.array([p.anchor for p in plans if first <= p.anchor < first + size], np.int64)
    block = _start_block(rng, first, size, anchors)
    rate = min(EVENTS_PER_HOTEL, MAX_EVENTS_PER_DELIVERY / config.hotels)
    sink.write(rng, 0, _first_delivery(block, tables, rate))
    for k, plan in enumerate(plans, start=1):
        sink.write(rng, k, _follow_up(block, tables, plan, as_of_day=k, rate=rate))


def generate(
    config: GenerateConfig, out_dir: Path, progress: Callable[[str], None] | None = None
) -> GenerateResult:
    """Write ``config.deliveries`` deliveries of landing data under ``out_dir``."""
    out_dir = Path(out_dir)
    width = max(2, len(str(config.deliveries)))
    delivery_dirs = [out_dir / f"delivery-{k:0{width}d}" for k in range(1, config.deliveries + 1)]
    for folder in delivery_dirs:
        folder.mkdir(parents=True, exist_ok=True)
    tables = _Tables.build(config)
    plans = _plan_follow_ups(config)
    sink = _Sink(delivery_dirs, config)
    try:
        for index, first, size in _blocks(config.hotels):
            _generate_block(config, tables, plans, index, first, size, sink)
            done = first + size - 1
            report = done % PROGRESS_EVERY_HOTELS == 0 or done == config.hotels
            if progress is not None and report:
                progress(_progress_message(sink, done, config.hotels))
    finally:
        sink.close()
    result = GenerateResult(
        out_dir=out_dir,
        deliveries=delivery_dirs,
        as_of_dates=[config.start_date + timedelta(days=k) for k in range(config.deliveries)],
        lines=sink.totals("lines"),
        malformed=sink.totals("malformed"),
    )
    if progress is not None:
        progress("done: " + ", ".join(f"{feed} {n:,}" for feed, n in result.lines.items()))
    return result


def _progress_message(sink: _Sink, hotels_done: int, hotels: int) -> str:
    counts = ", ".join(f"{feed}: {n:,} lines" for feed, n in sink.submitted.items())
    return f"hotels {hotels_done:,}/{hotels:,}; {counts}"
