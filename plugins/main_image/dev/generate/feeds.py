"""The lines of each feed, rendered for a block at once (see ``lines``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from main_image.dev.generate.config import (
    ADMINS,
    EVENT_TYPE_WEIGHTS,
    EVENT_TYPES,
    MAX_TAGS_PER_RECORD,
    P_EMPTY_TAGS,
    SEARCH_TERMS,
    TAG_WEIGHTS,
    TAGS,
    image_ids,
)
from main_image.dev.generate.image_fields import append_image_fields
from main_image.dev.generate.images import Block, Images, random_u64
from main_image.dev.generate.lines import (
    BOOLEANS,
    COMMA_OR_NOTHING,
    Lines,
    Tables,
    byte_table,
    or_null,
)

HOTEL_DIGITS, IMAGE_ID_DIGITS, SIZE_DIGITS = 8, 13, 4
CDN_PREFIX = "https://cdn.example.com/images/"


def image_head(images: Images, rows: np.ndarray) -> Lines:
    """``{"hotel_id":..,"image_id":..,"cdn_url":".."``: how every image line starts."""
    lines = Lines(len(rows))
    lines.text('{"hotel_id":').integer(images.hotel[rows], HOTEL_DIGITS)
    lines.text(',"image_id":').integer(images.ids(rows), IMAGE_ID_DIGITS)
    lines.text(f',"cdn_url":"{CDN_PREFIX}').hex(images.url_a[rows]).hex(images.url_b[rows])
    return lines.text('.jpg"')


def image_rows(
    tables: Tables, images: Images, rows: np.ndarray, analytics_seed: int | None = None
) -> np.ndarray:
    """The image lines of ``rows``; with ``analytics_seed``, the optional analytics fields too."""
    lines = image_head(images, rows)
    lines.text(',"width":').integer(images.width[rows], SIZE_DIGITS)
    lines.text(',"height":').integer(images.height[rows], SIZE_DIGITS)
    lines.text(',"created_at":"')
    tables.timestamp(lines, images.created_day[rows], images.created_second[rows])
    lines.text('","is_active":').pick(BOOLEANS, images.active[rows].astype(np.int64))
    lines.text(',"hash":"').hex(images.hash[rows]).text('"')
    if analytics_seed is not None:
        append_image_fields(lines, tables, images, rows, analytics_seed)
    return lines.text("}").lines()


def tag_rows(
    rng: np.random.Generator, tables: Tables, ids: np.ndarray, version: int,
    max_tags: int = MAX_TAGS_PER_RECORD, p_empty: float = P_EMPTY_TAGS,
) -> np.ndarray:
    """One record per image id: 1..``max_tags`` distinct tags of one model version (a share
    ``p_empty`` of the records empty)."""
    n = len(ids)
    tag_count = np.minimum(1 + rng.poisson(1.5, n), max_tags)
    tag_count[rng.random(n) < p_empty] = 0
    # weighted sampling without replacement: the smallest Exp(1)/weight keys win
    keys = rng.exponential(size=(n, len(TAGS))) / TAG_WEIGHTS
    tags = np.argsort(keys, axis=1)[:, :max_tags]
    probability = np.rint(100 * np.sqrt(rng.random((n, max_tags)))).astype(np.int64)
    entry = tables.tag_entry_index(version, tags, probability)

    lines = Lines(n).text('{"image_id":').integer(ids, IMAGE_ID_DIGITS).text(',"tags":[')
    for slot in range(max_tags):
        used = tag_count > slot
        if slot > 0:
            lines.pick(COMMA_OR_NOTHING, used.astype(np.int64))
        lines.pick(tables.tag_entries, np.where(used, entry[:, slot], -1))
    return lines.text("]}").lines()


def score_rows(
    rng: np.random.Generator, tables: Tables, ids: np.ndarray, version: str
) -> np.ndarray:
    score = np.rint(100 * rng.beta(4.0, 2.0, len(ids))).astype(np.int64)
    lines = Lines(len(ids)).text('{"image_id":').integer(ids, IMAGE_ID_DIGITS)
    lines.text(',"obiq_score":').pick(tables.scores, score)
    return lines.text(f',"version":"{version}"}}').lines()


@dataclass
class Events:
    """The impressions, clicks and reports of a block for one delivery (main stream)."""

    day: int  # day offset of every event (the day before the delivery's as_of)
    hotel: np.ndarray
    image_id: np.ndarray
    id_a: np.ndarray  # the event id is a UUID made of these two words
    id_b: np.ndarray
    kind: np.ndarray  # index into EVENT_TYPES
    second: np.ndarray
    term: np.ndarray  # index into ``terms``, -1: no search term (null)
    user: np.ndarray
    terms: np.ndarray = field(default_factory=lambda: SEARCH_TERM_TABLE)


def draw_events(block: Block, as_of_day: int, rate: float) -> Events:
    """About ``rate`` events per hotel with images, during the day before ``as_of``."""
    rng, counts = block.rng, block.image_count
    local = np.repeat(np.arange(block.size), rng.poisson(rate, block.size) * (counts > 0))
    n = len(local)
    hotel = local + block.first_hotel
    ordinal = (rng.random(n) * counts[local]).astype(np.int64)
    a, b = random_u64(rng, n), random_u64(rng, n)
    kind = rng.choice(len(EVENT_TYPES), n, p=EVENT_TYPE_WEIGHTS)
    second = rng.integers(0, 86_400, n)
    term = rng.integers(0, len(SEARCH_TERMS), n)
    user = rng.integers(0, 1 << 40, n).astype(np.uint64)
    return Events(as_of_day - 1, hotel, image_ids(hotel, ordinal), a, b, kind, second, term, user)


def event_id(lines: Lines, a: np.ndarray, b: np.ndarray) -> Lines:
    """A UUID-shaped event id from two random words."""
    lines.hex(a >> np.uint64(32), 8).text("-").hex(a >> np.uint64(16), 4).text("-").hex(a, 4)
    return lines.text("-").hex(b >> np.uint64(48), 4).text("-").hex(b, 12)


def quoted_or_null(table: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``"<row>"`` of a byte table per line, ``null`` where ``index`` is -1."""
    matrix = Lines(len(index)).text('"').pick(table, index).text('"').matrix().copy()
    return or_null(matrix, index < 0)


def event_rows(tables: Tables, events: Events) -> np.ndarray:
    n = len(events.hotel)
    lines = event_id(Lines(n).text('{"event_id":"'), events.id_a, events.id_b)
    lines.text('","event_type":"').pick(EVENT_TYPE_TABLE, events.kind).text('","occurred_at":"')
    tables.timestamp(lines, np.full(n, events.day), events.second)
    lines.text('","hotel_id":').integer(events.hotel, HOTEL_DIGITS)
    lines.text(',"image_id":').integer(events.image_id, IMAGE_ID_DIGITS)
    lines.text(',"search_term":').raw(quoted_or_null(events.terms, events.term))
    return lines.text(',"user_id":"u').hex(events.user, 10).text('"}').lines()


def override_rows(
    rng: np.random.Generator, tables: Tables, hotel: np.ndarray, image_id: np.ndarray,
    as_of_day: int,
) -> np.ndarray:
    """``image_id`` -1 means a clear (``null``); set_at is during the day before as_of."""
    n = len(hotel)
    image = Lines(n).integer(np.maximum(image_id, 0), IMAGE_ID_DIGITS).matrix()
    lines = Lines(n).text('{"hotel_id":').integer(hotel, HOTEL_DIGITS)
    lines.text(',"image_id":').raw(or_null(image, image_id < 0))
    lines.text(',"set_by":"').pick(ADMIN_TABLE, rng.integers(0, len(ADMINS), n))
    lines.text('","set_at":"')
    tables.timestamp(lines, np.full(n, as_of_day - 1), rng.integers(0, 86_400, n))
    return lines.text('"}').lines()


EVENT_TYPE_TABLE = byte_table(list(EVENT_TYPES))
SEARCH_TERM_TABLE = byte_table(list(SEARCH_TERMS))
ADMIN_TABLE = byte_table(list(ADMINS))


