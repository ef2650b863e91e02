"""End to end: partner uploads through a link become the hotel's main image on the next run,
and a deleted main image is replaced on the run after.

The service (SQLite) drains its outbox into a landing zone; the real pipeline (loader, dbt on
DuckDB, exports) lands it. The uploads: three JPEGs with EXIF of different sizes, one of them
again (a duplicate), a PNG without EXIF, and a text file named .jpg (415)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from main_image.landing import discover_files

from . import imagegen
from .conftest import admin

pytestmark = pytest.mark.slow


def run(root: Path, landing: Path, number: int) -> dict[int, dict]:
    """One pipeline run over everything in the landing zone; the snapshot by hotel."""
    from main_image.pipeline import OutputPaths, run_pipeline
    from main_image.runs import RunParameters

    out = root / "exports" / str(number)
    outputs = OutputPaths(out / "changes.jsonl", out / "snapshot.jsonl", out / "metrics.json")
    params = RunParameters(run_id=f"e2e-{number}", as_of=datetime.now(UTC).date())
    run_pipeline(
        root / "warehouse.duckdb",
        params,
        discover_files(landing),
        outputs,
        dbt_command="run",
        reuse_manifest=True,
    )
    snapshot = [json.loads(line) for line in outputs.snapshot.read_text().splitlines()]
    return {row["key"]["hotel_id"]: row["value"] for row in snapshot}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_uploaded_image_becomes_main_and_is_replaced_when_deleted(service) -> None:
    hotel = 4242
    token = service.link(hotel_id=hotel, max_files=10)["token"]
    large = imagegen.jpeg(1600, 1200, seed=1, model="EOS R5")
    medium = imagegen.jpeg(1024, 768, seed=2, model="X-T5", make="Fujifilm")
    small = imagegen.jpeg(640, 480, seed=3, model="iPhone 15", make="Apple")
    png = imagegen.encoded("PNG", 400, 300, seed=4)
    response = service.upload(
        token,
        ("large.jpg", large, "image/jpeg"),
        ("medium.jpg", medium, "image/jpeg"),
        ("small.jpg", small, "image/jpeg"),
        ("medium-again.jpg", medium, "image/jpeg"),
        ("plain.png", png, "image/png"),
    )
    assert response.status_code == 201, response.text
    images = response.json()["images"]
    assert [image["duplicate"] for image in images] == [False, False, False, True, False]
    assert images[3]["image_id"] == images[1]["image_id"]
    text = service.upload(token, ("holiday.jpg", b"this is not a photo\n" * 50, "image/jpeg"))
    assert text.status_code == 415
    png_meta = service.client.get(f"/v1/images/{images[4]['image_id']}/metadata", headers=admin())
    assert png_meta.json()["camera_model"] is None and png_meta.json()["gps_lat"] is None

    assert service.drain() == 4
    first = run(service.root, service.landing, 1)
    assert first[hotel]["image_id"] == images[0]["image_id"]  # the largest photo wins
    assert first[hotel]["cdn_url"] == f"http://testserver/v1/images/{images[0]['image_id']}"

    deleted = service.client.delete(f"/v1/images/{images[0]['image_id']}", headers=admin())
    assert deleted.status_code == 204
    assert service.drain() == 1
    second = run(service.root, service.landing, 2)
    assert second[hotel]["image_id"] == images[1]["image_id"]  # the next best is elected
    changes = (service.root / "exports" / "2" / "changes.jsonl").read_text().splitlines()
    assert [json.loads(line)["key"]["hotel_id"] for line in changes] == [hotel]
