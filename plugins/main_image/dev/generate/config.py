"""The generator's knobs: sizes, probabilities, value tables, and its configuration."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

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

Delivery = dict[str, list[np.ndarray]]  # feed -> line matrices of a block in a delivery


@dataclass(frozen=True)
class GenerateConfig:
    hotels: int
    seed: int = 42
    deliveries: int = 2  # number of deliveries (>= 1)
    change_fraction: float = 0.01  # fraction of hotels touched by each follow-up delivery
    malformed_rate: float = 0.001  # fraction of lines per feed written malformed
    start_date: date = date(2024, 7, 1)  # as_of of delivery 1; delivery k is start + (k-1) days
    #: the optional fields of the analytics marts (image source, channel, format, camera, GPS;
    #: search events, searched terms, re-delivered events), from streams of their own: False
    #: writes exactly what the generator wrote before they existed
    analytics: bool = True

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


