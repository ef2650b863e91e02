"""The image service's parts on their own: settings, link tokens, image inspection, the
migrations, and `main-image serve` as a real process."""

from __future__ import annotations

import io
import os
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from main_image.service import auth, imaging
from main_image.service.settings import SettingsError, from_env
from PIL import Image

from . import imagegen

REPO = Path(__file__).resolve().parents[2]
SECRETS = {
    "MAIN_IMAGE_ADMIN_TOKEN": "a" * 32,
    "MAIN_IMAGE_FRONTEND_TOKEN": "f" * 32,
    "MAIN_IMAGE_LINK_SECRET": "s" * 32,
}


def test_production_refuses_to_start_without_secrets() -> None:
    with pytest.raises(SettingsError) as error:
        from_env({"MAIN_IMAGE_ADMIN_TOKEN": "a" * 32})
    assert "MAIN_IMAGE_FRONTEND_TOKEN, MAIN_IMAGE_LINK_SECRET" in str(error.value)
    with pytest.raises(SettingsError, match="at least 16"):
        from_env({**SECRETS, "MAIN_IMAGE_LINK_SECRET": "short"})
    with pytest.raises(SettingsError, match="MAIN_IMAGE_IMAGE_ID_MIN"):
        from_env({**SECRETS, "MAIN_IMAGE_IMAGE_ID_MIN": "10"})
    with pytest.raises(SettingsError, match="MAIN_IMAGE_MAX_FILE_BYTES must be an integer"):
        from_env({**SECRETS, "MAIN_IMAGE_MAX_FILE_BYTES": "big"})


def test_settings_from_the_environment() -> None:
    settings = from_env(
        {
            **SECRETS,
            "MAIN_IMAGE_DATABASE_URL": "postgresql+psycopg://u@db/x",
            "MAIN_IMAGE_BLOB_URI": "gs://images/blobs",
            "MAIN_IMAGE_LANDING_URI": "gs://landing",
            "MAIN_IMAGE_PUBLIC_BASE_URL": "https://img.example.com/",
        }
    )
    assert settings.max_file_bytes == 20 * 1024 * 1024
    assert settings.cdn_url(1234) == "https://img.example.com/v1/images/1234"
    assert settings.landing_uri == "gs://landing" and settings.blob_uri == "gs://images/blobs"
    local = from_env({**SECRETS, "MAIN_IMAGE_LANDING_DIR": "/tmp/landing"})
    assert local.landing_uri == "/tmp/landing"


def test_link_tokens() -> None:
    claims = auth.LinkClaims("id1", 7, "partner", datetime(2030, 1, 1, tzinfo=UTC), 5)
    token = auth.sign_link("secret-one-0123456", claims)
    assert auth.verify_link("secret-one-0123456", token) == claims
    with pytest.raises(auth.InvalidToken):
        auth.verify_link("secret-two-0123456", token)
    payload, signature = token.split(".")
    other = auth.sign_link("secret-one-0123456", claims.__class__("id1", 8, "partner",
                           claims.expires_at, 5))  # fmt: skip
    with pytest.raises(auth.InvalidToken):  # another hotel's payload with this signature
        auth.verify_link("secret-one-0123456", f"{other.split('.')[0]}.{signature}")
    for junk in ("", ".", "a.b", "é.é", f"{payload}."):
        with pytest.raises(auth.InvalidToken):
            auth.verify_link("secret-one-0123456", junk)


def inspect_bytes(tmp_path: Path, data: bytes, max_pixels: int = 50_000_000):
    path = tmp_path / "image"
    path.write_bytes(data)
    return imaging.inspect(path, max_pixels)


def test_exif_and_gps(tmp_path: Path) -> None:
    info = inspect_bytes(tmp_path, imagegen.jpeg(gps=(-33.8568, -151.2153)))
    assert (info.gps_lat, info.gps_lon) == (pytest.approx(-33.8568, abs=1e-4),
                                            pytest.approx(-151.2153, abs=1e-4))  # fmt: skip
    assert info.taken_at == datetime(2024, 6, 1, 12, 30, tzinfo=UTC)
    bare = inspect_bytes(tmp_path, imagegen.jpeg(make=None, model=None, taken=None, gps=None))
    assert (bare.camera_make, bare.camera_model, bare.taken_at, bare.gps_lat) == (None,) * 4


def test_malformed_gps_is_none(tmp_path: Path) -> None:
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "X", (1.0, 2.0, 3.0)  # not N or S
    gps[3], gps[4] = "E", (200.0, 0.0, 0.0)  # beyond 180
    exif.get_ifd(0x8769)[0x9003] = "not a date"
    out = io.BytesIO()
    imagegen.photo(64, 48, 1).save(out, "JPEG", exif=exif)
    info = inspect_bytes(tmp_path, out.getvalue())
    assert (info.gps_lat, info.gps_lon, info.taken_at) == (None, None, None)


def test_formats_hash_and_guards(tmp_path: Path) -> None:
    for fmt, mime in (("PNG", "image/png"), ("WEBP", "image/webp"), ("GIF", "image/gif")):
        info = inspect_bytes(tmp_path, imagegen.encoded(fmt))
        assert info.mime_type == mime and (info.width, info.height) == (320, 240)
        assert len(info.hash) == 16 and info.hash == info.hash.lower()
    a = inspect_bytes(tmp_path, imagegen.jpeg(seed=1, quality=90)).hash
    b = inspect_bytes(tmp_path, imagegen.jpeg(seed=1, quality=60)).hash
    c = inspect_bytes(tmp_path, imagegen.jpeg(seed=2)).hash
    distance = lambda x, y: bin(int(x, 16) ^ int(y, 16)).count("1")  # noqa: E731
    assert distance(a, b) <= 6 < distance(a, c)  # re-encoding keeps the perceptual hash
    with pytest.raises(imaging.NotAnImage, match="pixels"):
        inspect_bytes(tmp_path, imagegen.jpeg(), max_pixels=1000)
    png = imagegen.encoded("PNG")
    with pytest.raises(imaging.NotAnImage):
        inspect_bytes(tmp_path, png[:-200])  # truncated
    corrupt = bytearray(png)
    corrupt[len(png) // 2] ^= 0xFF
    with pytest.raises(imaging.NotAnImage):
        inspect_bytes(tmp_path, bytes(corrupt))  # a checksum that does not match


def test_migrations_match_the_models(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from main_image.service import db, migrations

    engine = db.make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    migrations.upgrade(engine)
    migrations.upgrade(engine)  # idempotent
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.Base.metadata)
    assert diff == []


def test_ids_come_from_the_configured_range(tmp_path: Path) -> None:
    from main_image.service import db, migrations

    engine = db.make_engine(f"sqlite:///{tmp_path / 'ids.db'}")
    migrations.upgrade(engine)
    factory = db.session_factory(engine)
    db.ensure_id_range(factory, 5000, 5002)
    assert db.allocate_ids(factory, 2) == [5000, 5001]
    db.ensure_id_range(factory, 5000, 5002)  # restarting never hands out an id twice
    assert db.allocate_ids(factory, 1) == [5002]
    with pytest.raises(db.IdRangeExhausted):
        db.allocate_ids(factory, 1)


def test_serve_starts_and_answers(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO / "plugins"),
        **SECRETS,
        "MAIN_IMAGE_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
        "MAIN_IMAGE_BLOB_URI": str(tmp_path / "blobs"),
        "MAIN_IMAGE_LANDING_DIR": str(tmp_path / "landing"),
    }
    command = [sys.executable, "-m", "main_image.cli", "serve", "--host", "127.0.0.1"]
    missing = subprocess.run(
        [*command, "--port", "0"],
        env={k: v for k, v in env.items() if k != "MAIN_IMAGE_LINK_SECRET"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 2
    assert (
        missing.stderr.strip()
        .splitlines()[-1]
        .endswith("missing secret(s): MAIN_IMAGE_LINK_SECRET (no defaults)")
    )
    # port 0: the server binds a free port and says which (no race with other processes)
    process = subprocess.Popen(
        [*command, "--port", "0"], env=env, stderr=subprocess.PIPE, text=True
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in process.stderr], daemon=True
    ).start()
    try:
        deadline, url = time.monotonic() + 120, None
        while url is None and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                assert process.poll() is None, "main-image serve exited"
                continue
            found = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", line)
            url = found.group(1) if found else None
        assert url, "main-image serve did not report its address"
        with urllib.request.urlopen(f"{url}/docs", timeout=10) as docs:
            assert docs.status == 200
        request = urllib.request.Request(
            f"{url}/v1/stats",
            headers={"Authorization": f"Bearer {SECRETS['MAIN_IMAGE_ADMIN_TOKEN']}"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert (tmp_path / "db.sqlite").is_file()
