"""Malformed lines: each defect breaks one contract §2 rule (or is not JSON at all)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from main_image.dev.generate.lines import Chunk, squeeze


def truncate(line: str) -> str:
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


#: (feed, regular expression, replacement): the first match is replaced; a feed's defects are
#: numbered in this order, and each feed also gets ``_mixed_versions`` (tags, after the third) and
#: ``truncate`` (last: not JSON at all).
_SUBSTITUTIONS = (
    ("images", r'"image_id":(\d+)', r'"image_id":"\1"'),
    ("images", r'"hash":"([0-9a-f]{16})"', r'"hash":"\g<1>0f0f"'),
    ("images", r'"cdn_url":"https://', '"cdn_url":"'),
    ("images", r'"created_at":"[^"]*"', '"created_at":"2023-13-45"'),
    ("images", r'"hotel_id":', '"hotel_id":-'),
    ("images", r'"is_active":(true|false)', '"is_active":"yes"'),
    ("image_tags", r'"probability":[0-9.]+', '"probability":1.5'),
    ("image_tags", r'"version":"v\d+-\d+-\d+"', '"version":"4.0"'),
    ("image_tags", r'"tag":"[^"]*"', '"tag":""'),
    ("image_tags", r'"image_id":\d+', '"image_id":999'),
    ("obiq_scores", r'"obiq_score":[0-9.]+', '"obiq_score":1.7'),
    ("obiq_scores", r'"obiq_score":[0-9.]+', '"obiq_score":-0.2'),
    ("obiq_scores", r'"version":"[^"]*"', '"version":""'),
    ("main_images", r'"key":\{"hotel_id":\d+\}', '"key":{}'),
    ("admin_overrides", r'"set_by":"[^"]*"', '"set_by":""'),
    ("admin_overrides", r'"set_at":"[^"]*"', '"set_at":"yesterday"'),
    ("user_events", r'"event_type":"[^"]*"', '"event_type":"purchase"'),
)

Defect = Callable[[str], str | None]


def _defects() -> dict[str, tuple[Defect, ...]]:
    """Every feed's defects, in the order their kind numbers refer to."""
    defects: dict[str, list[Defect]] = {}
    for feed, pattern, replacement in _SUBSTITUTIONS:
        defects.setdefault(feed, []).append(_sub(pattern, replacement))
    defects["image_tags"].insert(3, _mixed_versions)
    return {feed: (*found, truncate) for feed, found in defects.items()}


DEFECTS = _defects()


def _corrupt(feed: str, line: str, kind: int) -> str:
    broken = DEFECTS[feed][kind](line)
    return truncate(line) if broken is None else broken


@dataclass(frozen=True)
class Malformed:
    """Which lines of a line matrix get a defective copy (and which defect), drawn up front."""

    positions: list[int]
    kinds: list[int]

    @classmethod
    def draw(cls, rng: np.random.Generator, feed: str, lines: int, rate: float) -> Malformed:
        count = int(rng.binomial(lines, rate)) if rate > 0 else 0
        if count == 0:
            return cls([], [])
        positions = np.sort(rng.choice(lines, count, replace=False)).tolist()
        return cls(positions, rng.integers(0, len(DEFECTS[feed]), count).tolist())


def render(feed: str, matrix: np.ndarray, malformed: Malformed) -> Chunk:
    """The bytes of a line matrix, with a defective copy right after each chosen line."""
    pieces: list[bytes] = []
    previous = 0
    for position, kind in zip(malformed.positions, malformed.kinds, strict=True):
        pieces.append(squeeze(matrix[previous : position + 1]))
        line = squeeze(matrix[position]).decode().rstrip("\n")
        pieces.append(_corrupt(feed, line, kind).encode() + b"\n")
        previous = position + 1
    pieces.append(squeeze(matrix[previous:]))
    count = len(malformed.positions)
    return Chunk(b"".join(pieces), len(matrix) + count, count)


