"""Search sessions for the analytics marts: ``search`` events, the term each impression, click
and report was shown for, and events delivered twice.

A user searches for a term (Zipf-like: a few cities and themes dominate, a long tail of
combinations), then sees, clicks or reports an image of a hotel; the impression, click or
report carries the term as typed (a few in capitals or with spaces around, so that
normalisation matters). Reports always come from a result page, so they always carry the term.
Some searches lead to nothing the feed records. About 1 % of the events are delivered a second
time (the same line, the same ``event_id``): at-least-once delivery.

Drawn from the block's analytics stream (``streams.Analytics``); the main stream's events keep
every other field. Search events carry no hotel and no image (``null``).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from main_image.dev.generate.config import EVENT_TYPES, SEARCH_TERMS
from main_image.dev.generate.feeds import Events, event_id, event_rows
from main_image.dev.generate.images import random_u64
from main_image.dev.generate.lines import Lines, Tables, byte_table
from main_image.dev.generate.streams import Analytics, pick, zipf_weights

CITIES = ("berlin", "paris", "london", "rome", "madrid", "barcelona", "amsterdam", "vienna",
          "prague", "lisbon", "new york", "munich", "milan", "venice", "florence", "dublin",
          "budapest", "copenhagen", "athens", "istanbul", "dubai", "tokyo", "bangkok",
          "singapore", "sydney", "miami", "las vegas", "los angeles", "chicago", "toronto",
          "cape town", "marrakech", "bali", "hamburg", "edinburgh", "stockholm", "oslo",
          "mexico city", "san francisco", "rio de janeiro")
THEMES = ("hotel {}", "{} hotel", "{} city centre", "cheap hotel {}", "{} spa",
          "{} beach hotel", "{} airport hotel", "family hotel {}", "{} hotel with pool")
TERM_EXPONENT, TERM_OFFSET = 1.05, 2.7  # Zipf-Mandelbrot over the terms by rank
#: how a term is typed: as is, Capitalised Words, UPPER CASE, with spaces around
VARIANT_WEIGHTS = np.array([0.90, 0.05, 0.02, 0.03])
P_EVENT_WITH_TERM = 0.75  # impressions and clicks after a search (reports: always)
P_SEARCH_ONLY = 0.6  # searches per event that lead to nothing recorded
MAX_SEARCH_LAG_SECONDS = 900  # a search comes this long before what it shows, at most
P_REDELIVERED = 0.01


@functools.cache
def terms() -> tuple[str, ...]:
    """Every search term, most frequent rank first: cities and themes, then combinations."""
    combined = [theme.format(city) for theme in THEMES for city in CITIES]
    plain = [*CITIES, *(t for t in SEARCH_TERMS if t not in CITIES)]
    return tuple(dict.fromkeys([*plain, *combined]))


def typed_variants(term: str) -> tuple[str, str, str, str]:
    return term, term.title(), term.upper(), f" {term} "


@functools.cache
def _term_table() -> np.ndarray:
    """Row ``rank * 4 + variant``: the term as typed."""
    return byte_table([variant for term in terms() for variant in typed_variants(term)])


@functools.cache
def term_weights() -> np.ndarray:
    return zipf_weights(len(terms()), TERM_EXPONENT, TERM_OFFSET)


def draw_terms(rng: np.random.Generator, n: int) -> np.ndarray:
    """Rows of the term table: a Zipf-like term, typed one of four ways."""
    rank = pick(term_weights(), rng.random(n))
    return rank * len(VARIANT_WEIGHTS) + pick(VARIANT_WEIGHTS, rng.random(n))


def _search_rows(tables: Tables, analytics: Analytics, day: int, second: np.ndarray,
                 term: np.ndarray, user: np.ndarray) -> np.ndarray:
    n = len(term)
    a, b = random_u64(analytics.rng, n), random_u64(analytics.rng, n)
    lines = event_id(Lines(n).text('{"event_id":"'), a, b)
    lines.text('","event_type":"search","occurred_at":"')
    tables.timestamp(lines, np.full(n, day), second)
    lines.text('","hotel_id":null,"image_id":null,"search_term":"').pick(_term_table(), term)
    return lines.text('","user_id":"u').hex(user, 10).text('"}').lines()


def _redelivered(rng: np.random.Generator, matrix: np.ndarray) -> np.ndarray:
    return matrix[rng.random(len(matrix)) < P_REDELIVERED]


def session_event_rows(tables: Tables, analytics: Analytics, events: Events) -> np.ndarray:
    """The event lines with the searched terms; the searches and the second deliveries go to
    ``analytics`` (written after the block's main lines)."""
    rng, n = analytics.rng, len(events.hotel)
    has_term = rng.random(n) < P_EVENT_WITH_TERM
    has_term |= events.kind == EVENT_TYPES.index("report")
    term = np.where(has_term, draw_terms(rng, n), -1)
    shown = event_rows(tables, dataclasses.replace(events, term=term, terms=_term_table()))

    after = np.flatnonzero(has_term)
    lag = rng.integers(1, MAX_SEARCH_LAG_SECONDS, len(after))
    alone = int(rng.binomial(n, P_SEARCH_ONLY))
    users = rng.integers(0, 1 << 40, alone).astype(np.uint64)
    second = np.concatenate([np.maximum(events.second[after] - lag, 0),
                             rng.integers(0, 86_400, alone)])
    searched = np.concatenate([term[after], draw_terms(rng, alone)])
    user = np.concatenate([events.user[after], users])
    searches = _search_rows(tables, analytics, events.day, second, searched, user)

    analytics.add("user_events", searches)
    analytics.add("user_events", _redelivered(rng, shown))
    analytics.add("user_events", _redelivered(rng, searches))
    return shown
