"""The generator's entry point: ``generate(config, out_dir)``, block by block."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np

from main_image.dev.generate import config as knobs
from main_image.dev.generate.config import (
    EVENTS_PER_HOTEL,
    MAX_EVENTS_PER_DELIVERY,
    PROGRESS_EVERY_HOTELS,
    GenerateConfig,
    GenerateResult,
)
from main_image.dev.generate.deliveries import (
    FollowUp,
    first_delivery,
    follow_up,
    plan_follow_ups,
    start_block,
)
from main_image.dev.generate.lines import Tables
from main_image.dev.generate.streams import Analytics
from main_image.dev.generate.writer import Sink


def _blocks(hotels: int) -> Iterator[tuple[int, int, int]]:
    """(block index, first hotel id, number of hotels) for hotels 1..hotels."""
    for index, first in enumerate(range(1, hotels + 1, knobs.HOTELS_PER_BLOCK)):
        yield index, first, min(knobs.HOTELS_PER_BLOCK, hotels + 1 - first)


def _generate_block(
    config: GenerateConfig, tables: Tables, plans: list[FollowUp], index: int, first: int,
    size: int, sink: Sink,
) -> None:
    rng = np.random.default_rng([config.seed, index])
    anchors = np.array([p.anchor for p in plans if first <= p.anchor < first + size], np.int64)
    analytics = Analytics.for_block(config.seed, index) if config.analytics else None
    block = start_block(rng, first, size, anchors, analytics)
    rate = min(EVENTS_PER_HOTEL, MAX_EVENTS_PER_DELIVERY / config.hotels)
    sink.write(rng, 0, first_delivery(block, tables, rate))
    if analytics is not None:  # the extra lines, after the main ones, with their own stream
        sink.write(analytics.rng, 0, analytics.take())
    for k, plan in enumerate(plans, start=1):
        sink.write(rng, k, follow_up(block, tables, plan, as_of_day=k, rate=rate))
        if analytics is not None:
            sink.write(analytics.rng, k, analytics.take())


def generate(
    config: GenerateConfig, out_dir: Path, progress: Callable[[str], None] | None = None
) -> GenerateResult:
    """Write ``config.deliveries`` deliveries of landing data under ``out_dir``."""
    out_dir = Path(out_dir)
    width = max(2, len(str(config.deliveries)))
    delivery_dirs = [out_dir / f"delivery-{k:0{width}d}" for k in range(1, config.deliveries + 1)]
    for folder in delivery_dirs:
        folder.mkdir(parents=True, exist_ok=True)
    tables = Tables.build(config)
    plans = plan_follow_ups(config)
    sink = Sink.for_deliveries(delivery_dirs, config)
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


def _progress_message(sink: Sink, hotels_done: int, hotels: int) -> str:
    counts = ", ".join(f"{feed}: {n:,} lines" for feed, n in sink.submitted.items())
    return f"hotels {hotels_done:,}/{hotels:,}; {counts}"

