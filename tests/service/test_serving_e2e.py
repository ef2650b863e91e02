"""End to end through the API (issue 13): a run publishes into the service's serving copy; the
frontend looks a hotel up (image, score terms, margin) and polls the change feed; an admin sets
an override, the next run applies it (one `updated` change); the override's image is
deactivated, the run after falls back to automatic selection (one more `updated`).

The real pipeline (loader, dbt on DuckDB, exports, the serving publication) runs on the
service's landing zone, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from main_image.landing import discover_files

from . import imagegen
from .conftest import FRONTEND, admin

pytestmark = pytest.mark.slow
HOTEL = 5151


def frontend() -> dict[str, str]:
    return {"Authorization": f"Bearer {FRONTEND}"}


def run(service: Any, number: int) -> Path:
    """One pipeline run over the landing zone, publishing into the service's database; returns
    the run's changes export."""
    from main_image.pipeline import OutputPaths, run_pipeline
    from main_image.runs import RunParameters

    out = service.root / "exports" / str(number)
    outputs = OutputPaths(out / "changes.jsonl", out / "snapshot.jsonl", out / "metrics.json")
    run_pipeline(
        service.root / "warehouse.duckdb",
        RunParameters(run_id=f"serving-{number}", as_of=datetime.now(UTC).date()),
        discover_files(service.landing),
        outputs,
        dbt_command="run",
        reuse_manifest=True,
        serving_url=service.svc.settings.database_url,
    )
    return outputs.changes


def feed(service: Any, after: str | None = None, limit: int | None = None) -> dict[str, Any]:
    params = {key: value for key, value in (("after", after), ("limit", limit)) if value}
    response = service.client.get("/v1/changes", params=params, headers=frontend())
    assert response.status_code == 200, response.text
    return response.json()


def main_image(service: Any, hotel_id: int = HOTEL) -> dict[str, Any]:
    response = service.client.get(f"/v1/hotels/{hotel_id}/main-image", headers=frontend())
    assert response.status_code == 200, response.text
    return response.json()


def test_override_through_the_api_then_automatic_selection_again(service) -> None:
    token = service.link(hotel_id=HOTEL, max_files=10)["token"]
    photos = [
        imagegen.jpeg(2000, 1200, seed=11),
        imagegen.jpeg(1024, 768, seed=12),
        imagegen.jpeg(640, 480, seed=13),
    ]
    uploaded = service.upload(token, *[(f"p{i}.jpg", data, "image/jpeg")
                                       for i, data in enumerate(photos)])  # fmt: skip
    assert uploaded.status_code == 201, uploaded.text
    large, medium, small = (image["image_id"] for image in uploaded.json()["images"])
    other = service.upload(service.link(hotel_id=HOTEL + 1)["token"],
                           ("x.jpg", imagegen.jpeg(800, 600, seed=14), "image/jpeg"))
    other_image = other.json()["images"][0]["image_id"]
    assert service.drain() == 4
    assert service.client.get(f"/v1/hotels/{HOTEL}/main-image", headers=frontend()).status_code \
        == 404  # nothing published yet  # fmt: skip

    first = run(service, 1)
    explained = main_image(service)
    assert explained["image_id"] == large and explained["selection_source"] == "auto"
    assert explained["candidate_image_ids"] == [large, medium, small]
    terms = explained["score_terms"]
    assert set(terms) == {"s_res", "s_ar", "s_fresh", "s_tag"} and terms["s_res"] == 1.0
    weighted = (6 * terms["s_res"] + 2 * terms["s_ar"] + 2 * terms["s_fresh"]
                + 3 * terms["s_tag"]) / 13  # fmt: skip
    assert explained["score"] == pytest.approx(weighted)  # the terms recombine into the score
    assert explained["margin"] > 0 and explained["scoring_version"] == "v1"
    page = feed(service)
    assert [c["key"]["hotel_id"] for c in page["changes"]] == [HOTEL, HOTEL + 1]
    assert [json.loads(line) for line in first.read_text().splitlines()] == [
        {"key": c["key"], "value": c["value"]} for c in page["changes"]
    ]  # the feed holds what the changes export holds
    cursor = page["next_cursor"]
    assert feed(service, cursor)["changes"] == []  # polling again: nothing twice

    # the override's errors, then the override itself
    url = f"/v1/hotels/{HOTEL}/main-image-override"
    body = {"image_id": small, "set_by": "alice"}
    assert service.client.put(url, json=body).status_code == 401
    assert service.client.put(url, json=body, headers=frontend()).status_code == 401
    assert service.client.put(url, json={**body, "image_id": 999_999_999},
                              headers=admin()).status_code == 404
    assert service.client.put(url, json={**body, "image_id": other_image},
                              headers=admin()).status_code == 422
    assert service.client.delete(url, headers=admin()).status_code == 404  # none set yet
    accepted = service.client.put(url, json=body, headers=admin())
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["image_id"] == small and accepted.json()["set_by"] == "alice"
    records = [json.loads(line) for path in (service.landing / "admin_overrides").glob("*.jsonl")
               for line in path.read_text().splitlines()]  # fmt: skip
    assert records == [{"hotel_id": HOTEL, "image_id": small, "set_by": "alice",
                        "set_at": accepted.json()["set_at"].replace("+00:00", "Z")}]
    assert main_image(service)["image_id"] == large  # applied by the next run, not now

    run(service, 2)
    overridden = main_image(service)
    assert overridden["image_id"] == small and overridden["selection_source"] == "admin"
    assert overridden["margin"] < 0  # chosen over two better-scored candidates
    page = feed(service, cursor)
    assert [(c["change_type"], c["key"]["hotel_id"], c["value"]["image_id"])
            for c in page["changes"]] == [("updated", HOTEL, small)]  # fmt: skip
    cursor = page["next_cursor"]

    # the override's image is deactivated in the catalog: the next run selects automatically
    patched = service.client.patch(f"/v1/images/{small}", json={"is_active": False},
                                   headers=admin())  # fmt: skip
    assert patched.status_code == 200
    assert service.client.put(url, json=body, headers=admin()).status_code == 422  # inactive
    assert service.drain() == 1
    run(service, 3)
    back = main_image(service)
    assert back["image_id"] == large and back["selection_source"] == "auto"
    assert back["candidate_image_ids"] == [large, medium]
    page = feed(service, cursor)
    assert [(c["change_type"], c["value"]["image_id"]) for c in page["changes"]] == [
        ("updated", large)
    ]
    # clearing the override (still the latest one set through the API) is accepted
    cleared = service.client.delete(url, params={"set_by": "bob"}, headers=admin())
    assert cleared.status_code == 202 and cleared.json()["image_id"] is None

    # the audit keeps who, when, what and from where
    from main_image.service.db import OverrideAudit
    from sqlalchemy import select

    with service.svc.factory() as session:
        audit = session.scalars(select(OverrideAudit).order_by(OverrideAudit.id)).all()
    assert [(row.image_id, row.set_by) for row in audit] == [(small, "alice"), (None, "bob")]
    assert all(row.remote_addr for row in audit)

    # a run with nothing new changes nothing, and the whole feed pages the same
    run(service, 4)
    everything = feed(service)["changes"]
    assert len(everything) == 4 and [c["change_id"] for c in everything] == sorted(
        c["change_id"] for c in everything)  # fmt: skip
    paged, after = [], None
    while True:
        page = feed(service, after, limit=1)
        if not page["changes"]:
            break
        paged += page["changes"]
        after = page["next_cursor"]
    assert paged == everything


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_bad_cursors_and_limits_are_4xx(service) -> None:
    for cursor in ("zzz", "Yzo=", "MTIz", "YzE6LTE", "%%%"):
        response = service.client.get("/v1/changes", params={"after": cursor}, headers=frontend())
        assert response.status_code == 400, (cursor, response.text)
    for limit in (0, 10_001, -1):
        response = service.client.get("/v1/changes", params={"limit": limit}, headers=frontend())
        assert response.status_code == 422
    assert service.client.get("/v1/changes").status_code == 401
    empty = feed(service)
    assert empty["changes"] == [] and feed(service, empty["next_cursor"])["changes"] == []
