"""Building JSON lines as byte matrices (the generator's speed lies here).

A feed's lines for a whole block are built column-wise: every field is rendered into a
fixed number of byte columns of a (lines x bytes) uint8 matrix. Values shorter than their
field (the number 42 in an 8-digit field, "true" in a 5-letter field) are padded with NUL
bytes, and rendering drops every NUL byte. Much faster than one str.format call per line.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from main_image.dev.generate.config import (
    FUTURE_DAYS,
    MAX_AGE_DAYS,
    TAG_VERSIONS,
    TAGS,
    GenerateConfig,
)


def byte_table(values: list[str]) -> np.ndarray:
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
BOOLEANS = byte_table(["false", "true"])
COMMA_OR_NOTHING = byte_table(["\0", ","])
_NULL = np.frombuffer(b"null", dtype=np.uint8)


@dataclass(frozen=True)
class Chunk:
    """Rendered lines (each ending with a newline) ready to be appended to a file."""

    data: bytes
    lines: int
    malformed: int = 0


class Lines:
    """Builder of ``n`` lines, one field after the other (see the section comment)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self._columns: list[np.ndarray] = []

    def text(self, constant: str) -> Lines:
        row = np.frombuffer(constant.encode(), dtype=np.uint8)
        self._columns.append(np.broadcast_to(row, (self.n, len(row))))
        return self

    def integer(self, values: np.ndarray, digits: int) -> Lines:
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

    def hex(self, values: np.ndarray, digits: int = 16) -> Lines:
        """The last ``digits`` lowercase hex digits of uint64 values, zero-filled."""
        quarters = values.astype(">u8").view(">u2").reshape(-1, 4).astype(np.intp)
        self._columns.append(_HEX_WORDS[quarters].view(np.uint8)[:, 16 - digits :])
        return self

    def pick(self, table: np.ndarray, index: np.ndarray) -> Lines:
        """Row ``index[i]`` of a ``byte_table`` for line i."""
        self._columns.append(table[index])
        return self

    def raw(self, matrix: np.ndarray) -> Lines:
        self._columns.append(matrix)
        return self

    def matrix(self) -> np.ndarray:
        if not self._columns:
            return np.zeros((self.n, 0), dtype=np.uint8)
        return np.concatenate(self._columns, axis=1)

    def lines(self) -> np.ndarray:
        """The finished line matrix: one row per line, ending with a newline."""
        return self.text("\n").matrix()


def squeeze(matrix: np.ndarray) -> bytes:
    """The bytes of a line matrix without its NUL padding."""
    return matrix[matrix != 0].tobytes()


def or_null(matrix: np.ndarray, null: np.ndarray) -> np.ndarray:
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
    return byte_table([*times, "\0"]), byte_table(scores), byte_table([*entries, "\0"])


@dataclass(frozen=True)
class Tables:
    """Byte tables of the strings that repeat: dates, times of day, scores, tag entries."""

    first_day: int  # day offset (relative to start_date) of dates[0]
    dates: np.ndarray  # "YYYY-MM-DD"
    times: np.ndarray  # "THH:MM:SSZ" per second of the day; the last row (index -1) is empty
    scores: np.ndarray  # "0.00" .. "1.00"
    tag_entries: np.ndarray  # {"tag":..,"version":..,"probability":..}; last row empty

    @classmethod
    def build(cls, config: GenerateConfig) -> Tables:
        first = -MAX_AGE_DAYS - 1
        last = config.deliveries + FUTURE_DAYS + 1
        dates = [(config.start_date + timedelta(days=d)).isoformat() for d in range(first, last)]
        return cls(first, byte_table(dates), *_fixed_tables())

    def date_index(self, day_offsets: np.ndarray) -> np.ndarray:
        return day_offsets - self.first_day

    def timestamp(self, lines: Lines, day_offsets: np.ndarray, seconds: np.ndarray) -> Lines:
        """Append "YYYY-MM-DD" plus "THH:MM:SSZ" where ``seconds >= 0`` (-1: date only)."""
        lines.pick(self.dates, self.date_index(day_offsets))
        return lines.pick(self.times, seconds)

    @staticmethod
    def tag_entry_index(version: int, tag: np.ndarray, probability: np.ndarray) -> np.ndarray:
        """Row of ``tag_entries`` for a version index, tag index and probability in %."""
        return (version * len(TAGS) + tag) * 101 + probability


