"""Generated test images: JPEGs with EXIF (camera, capture time, GPS), PNGs without."""

from __future__ import annotations

import io
import random

from PIL import Image


def photo(width: int, height: int, seed: int) -> Image.Image:
    """A noisy gradient, different per seed (so perceptual hashes differ)."""
    rng = random.Random(seed)
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    tint = Image.new("RGB", (width, height), tuple(rng.randrange(256) for _ in range(3)))
    image = Image.blend(image, tint, 0.5)
    if seed % 2:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if seed % 3 == 0:
        image = image.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    # seeded noise (Image.effect_noise draws from an unseeded generator: hashes would vary)
    noise = Image.frombytes("L", (width, height), rng.randbytes(width * height)).convert("RGB")
    return Image.blend(image, noise, 0.25)


def jpeg(
    width: int = 640,
    height: int = 480,
    seed: int = 0,
    make: str | None = "Canon",
    model: str | None = "EOS R5",
    taken: str | None = "2024:06:01 12:30:00",
    gps: tuple[float, float] | None = (48.8584, 2.2945),
    quality: int = 85,
) -> bytes:
    exif = Image.Exif()
    if make:
        exif[0x010F] = make
    if model:
        exif[0x0110] = model
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken
    if gps:
        lat, lon = gps
        ifd = exif.get_ifd(0x8825)
        ifd[1], ifd[2] = ("N" if lat >= 0 else "S"), _dms(abs(lat))
        ifd[3], ifd[4] = ("E" if lon >= 0 else "W"), _dms(abs(lon))
    out = io.BytesIO()
    photo(width, height, seed).save(out, "JPEG", quality=quality, exif=exif)
    return out.getvalue()


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round((value - degrees - minutes / 60) * 3600, 4)
    return (float(degrees), float(minutes), seconds)


def encoded(fmt: str, width: int = 320, height: int = 240, seed: int = 1) -> bytes:
    out = io.BytesIO()
    image = photo(width, height, seed)
    image.save(out, fmt) if fmt != "GIF" else image.convert("P").save(out, fmt)
    return out.getvalue()
