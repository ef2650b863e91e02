"""The image state of one block of hotels, and how new images are drawn."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from main_image.dev.generate.config import (
    COMMON_SIZES,
    EXTREME_SIZES,
    FUTURE_DAYS,
    IMAGES_LOG_MEAN,
    IMAGES_LOG_SIGMA,
    MAX_AGE_DAYS,
    MAX_IMAGES_PER_HOTEL,
    NEVER,
    P_DUPLICATE_HASH,
    P_EXTREME,
    P_FUTURE,
    P_HOTEL_WITHOUT_IMAGES,
    P_INACTIVE,
    P_NEVER_TAGGED,
    P_PORTRAIT,
    P_RESIZED,
    P_SCORED,
    P_TAGS_ON_TIME,
    P_TIMESTAMP,
    P_TINY,
    P_ZERO_SIZE,
    PENDING,
    RECENT_DAYS,
    TAGGED,
    TINY_SIZES,
    ZERO_SIZES,
    image_ids,
)
from main_image.dev.generate.streams import Analytics


@dataclass
class Images:
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
    delivered_day: np.ndarray  # as_of day offset of the delivery that first carried the image

    def append(self, other: Images) -> None:
        for column in dataclasses.fields(self):
            name = column.name
            setattr(self, name, np.concatenate([getattr(self, name), getattr(other, name)]))

    def ids(self, rows: np.ndarray) -> np.ndarray:
        return image_ids(self.hotel[rows], self.ordinal[rows])


@dataclass
class Block:
    """Hotels ``first_hotel .. first_hotel + size - 1`` and everything drawn for them so far."""

    first_hotel: int
    size: int
    rng: np.random.Generator
    images: Images
    image_count: np.ndarray  # per hotel of the block: ordinals handed out so far
    analytics: Analytics | None = None  # the analytics fields' streams (None: not written)

    def local(self, hotels: np.ndarray) -> np.ndarray:
        return hotels - self.first_hotel


def random_u64(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, np.iinfo(np.uint64).max, size=n, dtype=np.uint64, endpoint=True)


def ragged_arange(counts: np.ndarray) -> np.ndarray:
    """[0..c0-1, 0..c1-1, ...] for counts [c0, c1, ...]."""
    starts = np.cumsum(counts) - counts
    return np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(starts, counts)


def draw_image_counts(rng: np.random.Generator, n: int) -> np.ndarray:
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


def new_images(
    rng: np.random.Generator, hotel: np.ndarray, ordinal: np.ndarray, as_of_day: int, recent: bool
) -> Images:
    n = len(hotel)
    width, height = _draw_sizes(rng, n)
    created_day, created_second = _draw_created(rng, n, as_of_day, recent)
    hashes = random_u64(rng, n)
    duplicate = np.flatnonzero(rng.random(n) < P_DUPLICATE_HASH)
    duplicate = duplicate[(duplicate > 0) & (hotel[duplicate] == hotel[duplicate - 1])]
    hashes[duplicate] = hashes[duplicate - 1]  # the same picture delivered twice
    state = rng.random(n)
    return Images(
        hotel=hotel,
        ordinal=ordinal,
        width=width,
        height=height,
        created_day=created_day,
        created_second=created_second,
        active=rng.random(n) >= P_INACTIVE,
        url_a=random_u64(rng, n),
        url_b=random_u64(rng, n),
        hash=hashes,
        tag_state=np.where(
            state < P_TAGS_ON_TIME, TAGGED, np.where(state < 1 - P_NEVER_TAGGED, PENDING, NEVER)
        ).astype(np.int8),
        has_v5=np.zeros(n, dtype=bool),
        score_version=np.where(rng.random(n) < P_SCORED, 1, 0).astype(np.int8),
        delivered_day=np.full(n, as_of_day, dtype=np.int64),
    )


