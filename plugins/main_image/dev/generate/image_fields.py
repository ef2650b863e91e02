"""The optional image fields of the analytics marts (docs/contract.md, feeds): ``source``,
``channel``, ``uploaded_at``, ``mime_type``, ``file_size_bytes``, ``camera_make``,
``camera_model``, ``gps_lat``, ``gps_lon``.

Every value is a function of the seed and the image id (or hotel id) through the
counter-based stream of ``streams``: an image re-delivered later carries the same values, and
the main stream is never touched. Absent camera data and GPS are written as ``null``.
"""

from __future__ import annotations

import functools

import numpy as np

from main_image.dev.generate.images import Images
from main_image.dev.generate.lines import Lines, Tables, byte_table, or_null
from main_image.dev.generate.streams import pick, uniforms, zipf_weights

# --- sources and channels: a long tail of customers ------------------------------------------
NAMED_SOURCES = ("hotel-direct", "chain-connect", "photo-agency", "ota-feed", "channel-manager")
SOURCES = 400  # the rest are customer-0006 .. customer-0400
SOURCE_EXPONENT, SOURCE_OFFSET = 1.1, 1.0
P_HOTEL_SOURCE = 0.7  # an image comes from its hotel's main source, else from any source
CHANNELS = ("upload", "stream", "feed")
CHANNEL_WEIGHTS = np.array([0.5, 0.15, 0.35])
P_PRIMARY_CHANNEL = 0.85  # a source delivers mostly through one channel

# --- formats ---------------------------------------------------------------------------------
MIME_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic", "image/gif")
MIME_WEIGHTS = np.array([0.80, 0.09, 0.07, 0.03, 0.01])
#: bytes per pixel of each format: low + spread * u**2
BYTES_PER_PIXEL = np.array([(0.08, 0.45), (0.9, 2.2), (0.06, 0.25), (0.05, 0.2), (0.3, 0.6)])
MIN_FILE_BYTES, HEADER_BYTES = 1_000, 600
MAX_UPLOAD_LAG_DAYS = 400  # an initial image was uploaded within this many days of its creation

# --- cameras: (make, [models, most common first], weight of the make) ------------------------
CAMERAS = (
    ("Apple", ("iPhone 13", "iPhone 14 Pro", "iPhone 12", "iPhone 15 Pro", "iPhone 11",
               "iPhone SE"), 0.26),
    ("Canon", ("Canon EOS 5D Mark IV", "Canon EOS 80D", "Canon EOS R6", "Canon EOS 6D",
               "Canon PowerShot G7 X"), 0.20),
    ("NIKON CORPORATION", ("NIKON D750", "NIKON D850", "NIKON Z 6", "NIKON D7500"), 0.14),
    ("Samsung", ("SM-G991B", "SM-S911B", "SM-A525F", "SM-G973F"), 0.12),
    ("SONY", ("ILCE-7M3", "ILCE-7RM4", "DSC-RX100M5", "ILCE-6400"), 0.12),
    ("FUJIFILM", ("X-T4", "X100V", "X-T30"), 0.05),
    ("Google", ("Pixel 7", "Pixel 6a"), 0.04),
    ("Panasonic", ("DC-GH5", "DMC-LX100"), 0.03),
    ("OLYMPUS IMAGING CORP.", ("E-M10MarkII",), 0.02),
    ("DJI", ("FC3582", "FC7303"), 0.02),
)
PHONE_MAKES = ("Apple", "Samsung", "Google", "DJI")  # they usually write GPS
P_CAMERA = {"image/jpeg": 0.7, "image/heic": 0.95}  # other formats: P_CAMERA_OTHER
P_CAMERA_OTHER = 0.05
P_GPS_PHONE, P_GPS_CAMERA = 0.6, 0.1
GPS_SPREAD_DEGREES = 0.01  # images are taken around their hotel

# salts of the per-image stream: one per drawn quantity
(_SOURCE, _HOTEL_SOURCE, _SOURCE_CHOICE, _CHANNEL, _OTHER_CHANNEL, _CHANNEL_CHOICE, _MIME, _BPP,
 _SMALL_FILE, _CAMERA, _HAS_CAMERA, _GPS, _LAT, _LON, _SPREAD, _UPLOAD_DAY,
 _UPLOAD_SECOND) = range(101, 118)


@functools.cache
def _tables() -> dict[str, np.ndarray]:
    sources = [*NAMED_SOURCES, *(f"customer-{r:04d}" for r in range(len(NAMED_SOURCES) + 1,
                                                                      SOURCES + 1))]
    models = [(make, model) for make, names, _ in CAMERAS for model in names]
    return {
        "source": byte_table(sources),
        "channel": byte_table(list(CHANNELS)),
        "mime": byte_table(list(MIME_TYPES)),
        "make": byte_table([make for make, _ in models]),
        "model": byte_table([model for _, model in models]),
        "sign": byte_table(["\0", "-"]),
        "fraction": byte_table([f"{i:04d}" for i in range(10_000)]),
    }


@functools.cache
def camera_weights() -> np.ndarray:
    """Probability of each (make, model): the make's weight, Zipf-like within the make."""
    return np.concatenate(
        [weight * zipf_weights(len(models), 1.0, 0.5) for _, models, weight in CAMERAS]
    )


def _quoted(table: np.ndarray, index: np.ndarray, null: np.ndarray | None = None) -> np.ndarray:
    matrix = Lines(len(index)).text('"').pick(table, index).text('"').matrix().copy()
    return matrix if null is None else or_null(matrix, null)


def _degrees(values: np.ndarray, null: np.ndarray) -> np.ndarray:
    """Decimal degrees with four decimals (about 11 m), ``null`` where asked."""
    tables = _tables()
    units = np.rint(np.abs(values) * 10_000).astype(np.int64)
    lines = Lines(len(values)).pick(tables["sign"], (values < 0).astype(np.int64))
    lines.integer(units // 10_000, 3).text(".").pick(tables["fraction"], units % 10_000)
    return or_null(lines.matrix().copy(), null)


def sources(seed: int, hotel: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Source index of each image: mostly its hotel's main source; both Zipf-like."""
    weights = zipf_weights(SOURCES, SOURCE_EXPONENT, SOURCE_OFFSET)
    own = pick(weights, uniforms(seed, _HOTEL_SOURCE, hotel))
    other = pick(weights, uniforms(seed, _SOURCE, ids))
    return np.where(uniforms(seed, _SOURCE_CHOICE, ids) < P_HOTEL_SOURCE, own, other)


def channels(seed: int, source: np.ndarray, ids: np.ndarray) -> np.ndarray:
    primary = pick(CHANNEL_WEIGHTS, uniforms(seed, _CHANNEL, source))
    other = (uniforms(seed, _OTHER_CHANNEL, ids) * len(CHANNELS)).astype(np.int64)
    return np.where(uniforms(seed, _CHANNEL_CHOICE, ids) < P_PRIMARY_CHANNEL, primary, other)


def file_sizes(seed: int, mime: np.ndarray, ids: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    low, spread = BYTES_PER_PIXEL[mime, 0], BYTES_PER_PIXEL[mime, 1]
    per_pixel = low + spread * uniforms(seed, _BPP, ids) ** 2
    small = MIN_FILE_BYTES + (uniforms(seed, _SMALL_FILE, ids) * 4_000).astype(np.int64)
    return np.maximum((pixels * per_pixel).astype(np.int64) + HEADER_BYTES, small)


def cameras(seed: int, mime: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """(make, model) row of each image, -1 without camera data."""
    p_camera = np.full(len(ids), P_CAMERA_OTHER)
    for name, p in P_CAMERA.items():
        p_camera[mime == MIME_TYPES.index(name)] = p
    camera = pick(camera_weights(), uniforms(seed, _CAMERA, ids))
    return np.where(uniforms(seed, _HAS_CAMERA, ids) < p_camera, camera, -1)


def gps(seed: int, camera: np.ndarray, hotel: np.ndarray, ids: np.ndarray
        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Latitude, longitude and "no GPS" of each image: near its hotel, mostly from phones."""
    makes = np.array([make in PHONE_MAKES for make, models, _ in CAMERAS for _ in models])
    p_gps = np.where(makes[np.maximum(camera, 0)], P_GPS_PHONE, P_GPS_CAMERA)
    absent = (camera < 0) | (uniforms(seed, _GPS, ids) >= p_gps)
    spread = GPS_SPREAD_DEGREES * (2 * uniforms(seed, _SPREAD, ids) - 1)
    lat = -45.0 + 110.0 * uniforms(seed, _LAT, hotel) + spread
    lon = -179.9 + 359.8 * uniforms(seed, _LON, hotel) + spread
    return lat, lon, absent


def uploads(seed: int, images: Images, rows: np.ndarray, ids: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Upload day and second: the day before the delivery that first carried the image, or for
    the initial images, within ``MAX_UPLOAD_LAG_DAYS`` of their creation (never later)."""
    delivered = images.delivered_day[rows]
    lag = (uniforms(seed, _UPLOAD_DAY, ids) ** 3 * MAX_UPLOAD_LAG_DAYS).astype(np.int64)
    initial = np.minimum(images.created_day[rows] + lag, delivered - 1)
    day = np.where(delivered > 0, delivered - 1, initial)
    return day, (uniforms(seed, _UPLOAD_SECOND, ids) * 86_400).astype(np.int64)


def append_image_fields(lines: Lines, tables: Tables, images: Images, rows: np.ndarray,
                        seed: int) -> Lines:
    """Append ``,"source":...`` .. ``,"gps_lon":...`` to the image lines of ``rows``."""
    table = _tables()
    hotel, ids = images.hotel[rows], images.ids(rows)
    source = sources(seed, hotel, ids)
    mime = pick(MIME_WEIGHTS, uniforms(seed, _MIME, ids))
    pixels = images.width[rows].astype(np.int64) * images.height[rows]
    camera = cameras(seed, mime, ids)
    lat, lon, no_gps = gps(seed, camera, hotel, ids)
    upload_day, upload_second = uploads(seed, images, rows, ids)

    lines.text(',"source":').raw(_quoted(table["source"], source))
    lines.text(',"channel":').raw(_quoted(table["channel"], channels(seed, source, ids)))
    lines.text(',"uploaded_at":"')
    tables.timestamp(lines, upload_day, upload_second).text('"')
    lines.text(',"mime_type":').raw(_quoted(table["mime"], mime))
    lines.text(',"file_size_bytes":').integer(file_sizes(seed, mime, ids, pixels), 10)
    lines.text(',"camera_make":').raw(_quoted(table["make"], camera, camera < 0))
    lines.text(',"camera_model":').raw(_quoted(table["model"], camera, camera < 0))
    lines.text(',"gps_lat":').raw(_degrees(lat, no_gps))
    return lines.text(',"gps_lon":').raw(_degrees(lon, no_gps))
