"""The lines of each feed, rendered for a block at once (see ``lines``)."""

from __future__ import annotations

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


def image_rows(tables: Tables, images: Images, rows: np.ndarray) -> np.ndarray:
    lines = Lines(len(rows))
    lines.text('{"hotel_id":').integer(images.hotel[rows], HOTEL_DIGITS)
    lines.text(',"image_id":').integer(images.ids(rows), IMAGE_ID_DIGITS)
    lines.text(f',"cdn_url":"{CDN_PREFIX}').hex(images.url_a[rows]).hex(images.url_b[rows])
    lines.text('.jpg","width":').integer(images.width[rows], SIZE_DIGITS)
    lines.text(',"height":').integer(images.height[rows], SIZE_DIGITS)
    lines.text(',"created_at":"')
    tables.timestamp(lines, images.created_day[rows], images.created_second[rows])
    lines.text('","is_active":').pick(BOOLEANS, images.active[rows].astype(np.int64))
    lines.text(',"hash":"').hex(images.hash[rows]).text('"}')
    return lines.lines()


def tag_rows(
    rng: np.random.Generator, tables: Tables, ids: np.ndarray, version: int
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

    lines = Lines(n).text('{"image_id":').integer(ids, IMAGE_ID_DIGITS).text(',"tags":[')
    for slot in range(MAX_TAGS_PER_RECORD):
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


def event_rows(block: Block, tables: Tables, as_of_day: int, rate: float) -> np.ndarray:
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

    lines = Lines(n).text('{"event_id":"')
    lines.hex(a >> np.uint64(32), 8).text("-").hex(a >> np.uint64(16), 4).text("-").hex(a, 4)
    lines.text("-").hex(b >> np.uint64(48), 4).text("-").hex(b, 12)
    lines.text('","event_type":"').pick(EVENT_TYPE_TABLE, kind).text('","occurred_at":"')
    tables.timestamp(lines, np.full(n, as_of_day - 1), second)
    lines.text('","hotel_id":').integer(hotel, HOTEL_DIGITS)
    lines.text(',"image_id":').integer(image_ids(hotel, ordinal), IMAGE_ID_DIGITS)
    lines.text(',"search_term":"').pick(SEARCH_TERM_TABLE, term)
    return lines.text('","user_id":"u').hex(user, 10).text('"}').lines()


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


