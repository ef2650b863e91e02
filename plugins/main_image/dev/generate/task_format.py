"""The original task's format: ``images.jsonl``, ``image_tags.jsonl`` and ``main_images.jsonl``
in one folder, nothing else (``main-image generate --format task``).

The same shape as the task's public example data: images with a plain ``created_at`` date and
no optional fields, one ``v4-0-0`` tag record for most images (some empty), the frontend's
current main images as ``{"key": {...}, "value": {...} | null}``. About 12 images per hotel
(100,000 hotels: about 1.22 million images), long-tailed as in ``images``. Streamed block by
block with the byte-matrix renderer: 300,000 hotels take well under a minute on two cores.
Malformed lines (``malformed_rate``) are extra defective copies, as in the delivery format.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from main_image.dev.generate import config as knobs
from main_image.dev.generate.config import (
    IMAGES_LOG_SIGMA,
    MAX_HOTELS,
    MAX_IMAGES_PER_HOTEL,
    P_HOTEL_WITHOUT_IMAGES,
    PROGRESS_EVERY_HOTELS,
    GenerateConfig,
)
from main_image.dev.generate.deliveries import main_image_rows
from main_image.dev.generate.feeds import (
    SIZE_DIGITS,
    image_head,
    tag_rows,
)
from main_image.dev.generate.images import Block, Images, new_images, ragged_arange
from main_image.dev.generate.lines import BOOLEANS, Tables
from main_image.dev.generate.writer import Sink

TASK_FEEDS = ("images", "image_tags", "main_images")
TASK_STREAM = 3_000_017  # block stream: default_rng([seed, block, TASK_STREAM])
IMAGES_PER_HOTEL = 12.2  # mean, hotels without images included
P_TAG_RECORD = 0.95  # images with a tag record (the rest are never tagged)
MAX_TAGS, P_EMPTY = 2, 0.28  # the example data: one tag per record, or none


@dataclass(frozen=True)
class TaskResult:
    out_dir: Path
    files: dict[str, Path]  # feed -> out_dir/<feed>.jsonl
    lines: dict[str, int]
    malformed: dict[str, int]


def _image_counts(rng: np.random.Generator, n: int) -> np.ndarray:
    """Floored lognormal counts whose mean over all hotels is ``IMAGES_PER_HOTEL``."""
    mean_with_images = IMAGES_PER_HOTEL / (1 - P_HOTEL_WITHOUT_IMAGES) + 0.5  # floor loses ~0.5
    mu = math.log(mean_with_images) - IMAGES_LOG_SIGMA**2 / 2
    counts = np.floor(rng.lognormal(mu, IMAGES_LOG_SIGMA, n)).astype(np.int64)
    counts[rng.random(n) < P_HOTEL_WITHOUT_IMAGES] = 0
    return np.minimum(counts, MAX_IMAGES_PER_HOTEL)


def _task_image_rows(tables: Tables, images: Images, rows: np.ndarray) -> np.ndarray:
    """Image lines in the example data's key order, ``created_at`` a plain date."""
    lines = image_head(images, rows)
    lines.text(',"height":').integer(images.height[rows], SIZE_DIGITS)
    lines.text(',"width":').integer(images.width[rows], SIZE_DIGITS)
    lines.text(',"is_active":').pick(BOOLEANS, images.active[rows].astype(np.int64))
    lines.text(',"created_at":"').pick(tables.dates, tables.date_index(images.created_day[rows]))
    return lines.text('","hash":"').hex(images.hash[rows]).text('"}').lines()


def _block_lines(rng: np.random.Generator, tables: Tables, first: int, size: int
                 ) -> dict[str, list[np.ndarray]]:
    counts = _image_counts(rng, size)
    hotel = np.repeat(np.arange(size, dtype=np.int64) + first, counts)
    images = new_images(rng, hotel, ragged_arange(counts), as_of_day=0, recent=False)
    block = Block(first, size, rng, images, counts)
    rows = rng.permutation(len(hotel))
    tagged = rows[rng.random(len(rows)) < P_TAG_RECORD]
    return {
        "images": [_task_image_rows(tables, images, rows)],
        "image_tags": [tag_rows(rng, tables, images.ids(tagged), 0, MAX_TAGS, P_EMPTY)],
        "main_images": [main_image_rows(block)],
    }


def generate_task(
    hotels: int, out_dir: Path, seed: int = 42, malformed_rate: float = 0.001,
    start_date: date = date(2024, 7, 1), progress: Callable[[str], None] | None = None,
) -> TaskResult:
    """Write the task's three files for hotels ``1..hotels`` into ``out_dir``."""
    if not 0 <= hotels <= MAX_HOTELS:
        raise ValueError(f"hotels must be in 0..{MAX_HOTELS}")
    config = GenerateConfig(hotels=hotels, seed=seed, deliveries=1,
                            malformed_rate=malformed_rate, start_date=start_date)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = Tables.build(config)
    sink = Sink.flat(out_dir, TASK_FEEDS, malformed_rate)
    try:
        for index, first in enumerate(range(1, hotels + 1, knobs.HOTELS_PER_BLOCK)):
            size = min(knobs.HOTELS_PER_BLOCK, hotels + 1 - first)
            rng = np.random.default_rng([seed, index, TASK_STREAM])
            sink.write(rng, 0, _block_lines(rng, tables, first, size))
            done = first + size - 1
            if progress is not None and (done % PROGRESS_EVERY_HOTELS == 0 or done == hotels):
                progress(f"hotels {done:,}/{hotels:,}; images: {sink.submitted['images']:,} lines")
    finally:
        sink.close()
    lines, malformed = sink.totals("lines"), sink.totals("malformed")
    return TaskResult(
        out_dir=out_dir,
        files={feed: out_dir / f"{feed}.jsonl" for feed in TASK_FEEDS},
        lines={feed: lines[feed] for feed in TASK_FEEDS},
        malformed={feed: malformed[feed] for feed in TASK_FEEDS},
    )
