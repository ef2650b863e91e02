"""Random streams of the analytics fields, apart from the main stream.

The fields the pipeline has always read (ids, sizes, dates, hashes, tags, scores, events) come
from the main stream, one ``numpy`` generator per block of hotels. The optional fields of the
analytics marts (an image's source, channel, format, camera, GPS; search sessions; re-delivered
events) are drawn from separate streams seeded from the same seed, so that switching them on
leaves every value of the main stream exactly as it was:

* per image: a counter-based stream, ``uniforms(seed, salt, image_ids)``: the same image gets
  the same source, camera, ... in every delivery that carries it, whatever the block layout;
* per block: ``Analytics.rng``, for what varies in number (search events, duplicates). It also
  draws the malformed copies of those extra lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ANALYTICS_STREAM = 2_000_029  # the block stream is default_rng([seed, block, ANALYTICS_STREAM])

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)


def _splitmix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijection of uint64 that scrambles every bit."""
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX_1
    z = (z ^ (z >> np.uint64(27))) * _MIX_2
    return z ^ (z >> np.uint64(31))


def uniforms(seed: int, salt: int, keys: np.ndarray) -> np.ndarray:
    """A uniform [0, 1) value per key, independent across salts and seeds."""
    base = _splitmix(np.array([seed & ((1 << 64) - 1)], dtype=np.uint64))[0]
    base = _splitmix(np.array([base ^ np.uint64(salt)], dtype=np.uint64))[0]
    with np.errstate(over="ignore"):
        mixed = _splitmix(keys.astype(np.uint64) ^ base)
    return (mixed >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def zipf_weights(n: int, exponent: float, offset: float = 0.0) -> np.ndarray:
    """Zipf-Mandelbrot probabilities of ranks 1..n: ``1 / (rank + offset) ** exponent``."""
    weights = 1.0 / (np.arange(1, n + 1) + offset) ** exponent
    return weights / weights.sum()


def pick(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index drawn with ``weights`` for each uniform ``u`` (inverse of the CDF)."""
    cdf = np.cumsum(weights)
    return np.minimum(np.searchsorted(cdf, u * cdf[-1], side="right"), len(weights) - 1)


@dataclass
class Analytics:
    """The analytics streams of one block, and the extra lines drawn for it so far."""

    seed: int
    rng: np.random.Generator
    extra: dict[str, list[np.ndarray]] = field(default_factory=dict)

    @classmethod
    def for_block(cls, seed: int, block: int) -> Analytics:
        return cls(seed, np.random.default_rng([seed, block, ANALYTICS_STREAM]))

    def add(self, feed: str, matrix: np.ndarray) -> None:
        self.extra.setdefault(feed, []).append(matrix)

    def take(self) -> dict[str, list[np.ndarray]]:
        """The extra lines of the delivery just drawn (written after its main lines)."""
        extra, self.extra = self.extra, {}
        return extra
