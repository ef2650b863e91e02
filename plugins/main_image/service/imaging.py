"""What the bytes say about an image: Pillow decodes and verifies them, whatever the file's
name or declared type.

Only JPEG, PNG, WebP and GIF are accepted. The pixel count is checked from the header before
anything is decoded (decompression bombs), the whole image is then decoded (truncated files
fail), and a 64-bit difference hash (dHash, 16 lowercase hex characters) is the feed's
``hash``. JPEGs are decoded at a reduced scale for the hash (``draft``), so a 20 MB photo does
not need its full-size bitmap in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

from PIL import ExifTags, Image, ImageFile

MIME_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
HASH_SIZE = 8
EXIF_IFD = 0x8769
GPS_IFD = 0x8825
ImageFile.LOAD_TRUNCATED_IMAGES = False


class NotAnImage(ValueError):
    """The bytes are not a decodable JPEG, PNG, WebP or GIF (the reason is the message)."""


@dataclass(frozen=True)
class ImageInfo:
    mime_type: str
    width: int
    height: int
    hash: str
    camera_make: str | None = None
    camera_model: str | None = None
    taken_at: datetime | None = None
    gps_lat: float | None = None
    gps_lon: float | None = None


def _open(path: Path, max_pixels: int) -> Image.Image:
    image = Image.open(path, formats=list(MIME_TYPES))
    width, height = image.size
    if width * height > max_pixels:
        raise NotAnImage(f"{width}x{height} pixels is over the limit of {max_pixels:,}")
    return image


def dhash(image: Image.Image) -> str:
    """64-bit difference hash: is each pixel of a 9x8 greyscale thumbnail brighter than its
    right neighbour; row-major, most significant bit first."""
    small = image.convert("L").resize((HASH_SIZE + 1, HASH_SIZE), Image.Resampling.LANCZOS)
    pixels = small.tobytes()
    bits = 0
    for row in range(HASH_SIZE):
        for col in range(HASH_SIZE):
            left = pixels[row * (HASH_SIZE + 1) + col]
            right = pixels[row * (HASH_SIZE + 1) + col + 1]
            bits = (bits << 1) | (left > right)
    return f"{bits:016x}"


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    cleaned = "".join(ch for ch in value if ch.isprintable()).strip()
    return cleaned[:200] or None


def _taken_at(value: Any) -> datetime | None:
    text = _text(value)
    if not text:
        return None
    try:
        return datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _degrees(dms: Any, ref: Any, limit: float) -> float | None:
    """(degrees, minutes, seconds) rationals + N/S/E/W -> signed decimal degrees, or None."""
    try:
        degrees, minutes, seconds = (float(Fraction(str(part))) for part in dms)
    except (TypeError, ValueError, ZeroDivisionError):
        try:
            degrees, minutes, seconds = (float(part) for part in dms)
        except (TypeError, ValueError, ZeroDivisionError):
            return None
    reference = _text(ref)
    if reference is None or reference.upper() not in ("N", "S", "E", "W"):
        return None
    if not (0 <= minutes < 60 and 0 <= seconds < 60):
        return None
    value = degrees + minutes / 60 + seconds / 3600
    if value != value or not 0 <= value <= limit:  # NaN or out of range
        return None
    return round(-value if reference.upper() in ("S", "W") else value, 7)


def _exif(image: Image.Image) -> dict[str, Any]:
    try:
        exif = image.getexif()
        details = exif.get_ifd(EXIF_IFD)
        gps = exif.get_ifd(GPS_IFD)
    except Exception:  # malformed EXIF is no metadata, not a bad image
        return {}
    tags = ExifTags.Base
    gps_tags = ExifTags.GPS
    return {
        "camera_make": _text(exif.get(tags.Make)),
        "camera_model": _text(exif.get(tags.Model)),
        "taken_at": _taken_at(details.get(tags.DateTimeOriginal) or exif.get(tags.DateTime)),
        "gps_lat": _degrees(gps.get(gps_tags.GPSLatitude), gps.get(gps_tags.GPSLatitudeRef), 90),
        "gps_lon": _degrees(gps.get(gps_tags.GPSLongitude), gps.get(gps_tags.GPSLongitudeRef), 180),
    }


def inspect(path: Path, max_pixels: int) -> ImageInfo:
    """Decode and describe the image at `path`; raises NotAnImage for anything else."""
    try:
        with _open(path, max_pixels) as image:
            image.verify()  # structure and checksums (PNG CRCs) without decoding
        with _open(path, max_pixels) as image:
            fmt, (width, height) = image.format, image.size
            metadata = _exif(image)
            if fmt == "JPEG":
                image.draft("RGB", (HASH_SIZE * 8, HASH_SIZE * 8))
            image.load()  # every byte decoded: truncated data fails here
            digest = dhash(image)
    except NotAnImage:
        raise
    except Image.DecompressionBombError as error:
        raise NotAnImage(str(error)) from None
    except Exception as error:  # UnidentifiedImageError, OSError, SyntaxError, struct.error ...
        raise NotAnImage(
            f"not a decodable JPEG, PNG, WebP or GIF ({type(error).__name__})"
        ) from None
    if fmt not in MIME_TYPES or width < 1 or height < 1:
        raise NotAnImage(f"unsupported image format {fmt}")
    return ImageInfo(MIME_TYPES[fmt], width, height, digest, **metadata)
