"""Contract tests of contract §7's partners-and-catalog table: every row, its status codes.

Each test runs on SQLite and on PostgreSQL (the ``database_url`` fixture)."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from main_image.service.db import UploadLink, now, transaction
from main_image.service.settings import DEFAULT_ID_MIN
from sqlalchemy import update

from . import imagegen
from .conftest import admin

JPEG = imagegen.jpeg(seed=1)
PNG = imagegen.encoded("PNG", seed=2)


def jpg(data: bytes = JPEG, name: str = "a.jpg") -> tuple[str, bytes, str]:
    return (name, data, "image/jpeg")


# ------------------------------------------------------------------ POST /v1/upload-links


def test_create_link(service) -> None:
    link = service.link(hotel_id=7, max_files=3)
    assert link["max_files"] == 3
    assert link["upload_url"] == f"http://testserver/v1/uploads/{link['token']}"
    assert link["expires_at"].startswith(str(now().year))
    assert service.link(hotel_id=8)["max_files"] == 100  # the default budget


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}])
def test_create_link_needs_the_admin_token(service, headers) -> None:
    body = {"hotel_id": 7, "source": "p", "expires_in_seconds": 60}
    response = service.client.post("/v1/upload-links", json=body, headers=headers)
    assert response.status_code == 401
    assert "detail" in response.json()


def test_frontend_token_is_not_admin(service) -> None:
    from .conftest import FRONTEND

    body = {"hotel_id": 7, "source": "p", "expires_in_seconds": 60}
    headers = {"Authorization": f"Bearer {FRONTEND}"}
    assert service.client.post("/v1/upload-links", json=body, headers=headers).status_code == 401


@pytest.mark.parametrize(
    "change",
    [
        {"hotel_id": 0},
        {"expires_in_seconds": 0},
        {"expires_in_seconds": 30 * 86400 + 1},
        {"hotel_id": "7"},
        {"max_files": 0},
        {"source": ""},
        {"source": "   "},
        {"source": "a\u0000b"},
        {"source": "\ud800x"},
    ],
    ids=["hotel0", "expiry0", "expiry31d", "hotel-string", "files0", "empty", "spaces", "nul",
         "surrogate"],
)  # fmt: skip
def test_create_link_bad_body(service, change) -> None:
    body = json.dumps({"hotel_id": 7, "source": "p", "expires_in_seconds": 60, **change})
    headers = {**admin(), "Content-Type": "application/json"}
    response = service.client.post("/v1/upload-links", content=body, headers=headers)
    assert response.status_code == 422, response.text


def test_thirty_days_is_allowed(service) -> None:
    assert service.link(expires_in_seconds=30 * 86400)["token"]


# ------------------------------------------------------------------ POST /v1/uploads/{token}


def test_upload_one_and_many(service) -> None:
    token = service.link(hotel_id=7)["token"]
    response = service.upload(token, jpg())
    assert response.status_code == 201, response.text
    (image,) = response.json()["images"]
    assert image == {
        "image_id": image["image_id"],
        "hotel_id": 7,
        "content_sha256": hashlib.sha256(JPEG).hexdigest(),
        "duplicate": False,
        "width": 640,
        "height": 480,
        "mime_type": "image/jpeg",
        "file_size_bytes": len(JPEG),
    }
    assert image["image_id"] >= DEFAULT_ID_MIN >= 1000
    many = service.upload(token, ("b.png", PNG, "image/png"), jpg(imagegen.jpeg(seed=3)))
    assert many.status_code == 201
    ids = [item["image_id"] for item in many.json()["images"]]
    assert len({*ids, image["image_id"]}) == 3


def test_duplicates_same_hotel_and_other_hotel(service) -> None:
    first = service.upload(service.link(hotel_id=7)["token"], jpg()).json()["images"][0]
    again = service.upload(service.link(hotel_id=7)["token"], jpg(name="x.jpg"))
    assert again.status_code == 201
    assert again.json()["images"][0] == {**first, "duplicate": True}
    other = service.upload(service.link(hotel_id=9)["token"], jpg()).json()["images"][0]
    assert other["duplicate"] is False and other["image_id"] != first["image_id"]
    assert other["content_sha256"] == first["content_sha256"]
    blobs = [p for p in (service.root / "blobs").rglob("*") if p.is_file()]
    assert len(blobs) == 1  # one blob shared by both hotels
    assert service.drain() == 2  # the duplicate wrote nothing new


def test_forged_and_unknown_tokens_are_401(service) -> None:
    from main_image.service.auth import LinkClaims, sign_link

    token = service.link()["token"]
    payload, signature = token.split(".")
    forged = f"{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    assert service.upload(forged, jpg()).status_code == 401
    assert service.upload("not-a-token", jpg()).status_code == 401
    other_secret = sign_link(
        "another-secret-0123456789", LinkClaims("abc", 7, "p", now() + timedelta(hours=1), 5)
    )
    assert service.upload(other_secret, jpg()).status_code == 401
    from .conftest import SECRET

    unknown = sign_link(SECRET, LinkClaims("f" * 32, 7, "p", now() + timedelta(hours=1), 5))
    assert service.upload(unknown, jpg()).status_code == 401


def test_expired_link_is_410(service) -> None:
    link = service.link()
    with transaction(service.svc.factory) as session:
        session.execute(update(UploadLink).values(expires_at=now() - timedelta(seconds=1)))
    response = service.upload(link["token"], jpg())
    assert response.status_code == 410
    assert "expired" in response.json()["detail"]


def test_used_up_link_is_410(service) -> None:
    token = service.link(max_files=2)["token"]
    assert service.upload(token, jpg()).status_code == 201
    too_many = service.upload(token, jpg(imagegen.jpeg(seed=5)), jpg(imagegen.jpeg(seed=6)))
    assert too_many.status_code == 410  # all or nothing: 2 files, 1 left
    assert service.upload(token, jpg(imagegen.jpeg(seed=5))).status_code == 201
    assert service.upload(token, jpg(imagegen.jpeg(seed=7))).status_code == 410


def test_file_over_the_limit_is_413(make_service) -> None:
    service = make_service(max_file_bytes=50_000)
    big = imagegen.jpeg(1200, 900, seed=4, quality=95)
    assert len(big) > 50_000
    token = service.link()["token"]
    response = service.upload(token, jpg(big))
    assert response.status_code == 413
    assert "50,000" in response.json()["detail"]
    assert not list(service.svc.tmp_dir.iterdir())  # the partial temporary file is gone
    assert (
        service.upload(token, ("s.png", imagegen.encoded("PNG", 40, 30), "image/png")).status_code
        == 201
    )


def test_request_over_the_limit_is_413(make_service) -> None:
    service = make_service(max_request_bytes=100_000)
    token = service.link()["token"]
    response = service.upload(token, jpg(), jpg(imagegen.jpeg(seed=9)))
    assert response.status_code == 413


@pytest.mark.parametrize(
    "data",
    [b"just some text, renamed\n" * 10, JPEG[: len(JPEG) // 2], b"\x89PNG\r\n\x1a\n" + b"0" * 100,
     imagegen.encoded("BMP")],
    ids=["text", "truncated-jpeg", "png-signature-only", "bmp"],
)  # fmt: skip
def test_not_an_image_is_415(service, data) -> None:
    token = service.link()["token"]
    response = service.upload(token, jpg(data, "photo.jpg"))
    assert response.status_code == 415
    assert "photo.jpg" in response.json()["detail"]
    assert service.drain() == 0


def test_one_bad_file_refuses_the_whole_request(service) -> None:
    token = service.link(max_files=2)["token"]
    response = service.upload(token, jpg(), jpg(b"text", "notes.jpg"))
    assert response.status_code == 415
    assert service.drain() == 0
    assert service.upload(token, jpg(), jpg(imagegen.jpeg(seed=2))).status_code == 201


def test_decompression_bomb_is_415(make_service) -> None:
    service = make_service(max_image_pixels=100_000)
    response = service.upload(service.link()["token"], jpg())  # 640x480 = 307,200 pixels
    assert response.status_code == 415
    assert "pixels" in response.json()["detail"]


def test_no_files_is_422(service) -> None:
    token = service.link()["token"]
    assert service.client.post(f"/v1/uploads/{token}").status_code == 422
    other = service.client.post(
        f"/v1/uploads/{token}", data={"x": "1"}, files=[("other", ("a", b"a"))]
    )
    assert other.status_code == 422
    assert service.client.post(f"/v1/uploads/{token}", json={"files": []}).status_code == 422


# ------------------------------------------------------------------ GET /v1/images/{id}


def uploaded(service, data: bytes = JPEG, hotel_id: int = 7) -> int:
    response = service.upload(service.link(hotel_id=hotel_id)["token"], jpg(data))
    assert response.status_code == 201, response.text
    return response.json()["images"][0]["image_id"]


def test_image_bytes(service) -> None:
    image_id = uploaded(service)
    response = service.client.get(f"/v1/images/{image_id}")
    assert response.status_code == 200
    assert response.content == JPEG
    assert response.headers["content-type"] == "image/jpeg"
    etag = response.headers["etag"]
    assert etag == f'"{hashlib.sha256(JPEG).hexdigest()}"'
    cached = service.client.get(f"/v1/images/{image_id}", headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert service.client.get("/v1/images/123456").status_code == 404


# ------------------------------------------------------------------ metadata, list, patch, delete


def test_metadata(service) -> None:
    image_id = uploaded(service)
    assert service.client.get(f"/v1/images/{image_id}/metadata").status_code == 401
    assert service.client.get("/v1/images/99999/metadata", headers=admin()).status_code == 404
    body = service.client.get(f"/v1/images/{image_id}/metadata", headers=admin()).json()
    assert body["camera_make"] == "Canon" and body["camera_model"] == "EOS R5"
    assert body["taken_at"].startswith("2024-06-01T12:30:00")
    assert body["gps_lat"] == pytest.approx(48.8584, abs=1e-4)
    assert body["gps_lon"] == pytest.approx(2.2945, abs=1e-4)
    assert len(body["hash"]) == 16 and int(body["hash"], 16) >= 0
    assert body["channel"] == "upload" and body["source"] == "partner-a"
    assert body["is_active"] is True
    assert body["cdn_url"] == f"http://testserver/v1/images/{image_id}"


def test_hotel_images_pages(service) -> None:
    token = service.link(hotel_id=7)["token"]
    for seed in range(5):
        service.upload(token, jpg(imagegen.jpeg(64, 48, seed=seed)))
    uploaded(service, hotel_id=8)
    assert service.client.get("/v1/hotels/7/images").status_code == 401
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = service.client.get("/v1/hotels/7/images", params=params, headers=admin()).json()
        seen += [image["image_id"] for image in page["images"]]
        assert all(image["hotel_id"] == 7 for image in page["images"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and seen == sorted(seen)
    bad = service.client.get("/v1/hotels/7/images", params={"cursor": "x"}, headers=admin())
    assert bad.status_code == 422
    empty = service.client.get("/v1/hotels/12345/images", headers=admin()).json()
    assert empty == {"images": [], "next_cursor": None}


def test_patch_is_active(service) -> None:
    image_id = uploaded(service)
    url = f"/v1/images/{image_id}"
    assert service.client.patch(url, json={"is_active": False}).status_code == 401
    assert (
        service.client.patch(
            "/v1/images/99999", json={"is_active": False}, headers=admin()
        ).status_code
        == 404
    )
    assert service.client.patch(url, json={"is_active": "no"}, headers=admin()).status_code == 422
    response = service.client.patch(url, json={"is_active": False}, headers=admin())
    assert response.status_code == 200 and response.json()["is_active"] is False
    service.client.patch(url, json={"is_active": False}, headers=admin())  # no change, no record
    service.drain()
    records = landing_records(service)
    assert [r["is_active"] for r in records if r["image_id"] == image_id] == [True, False]


def test_delete(service) -> None:
    image_id = uploaded(service)
    url = f"/v1/images/{image_id}"
    assert service.client.delete(url).status_code == 401
    assert service.client.delete("/v1/images/99999", headers=admin()).status_code == 404
    assert service.client.delete(url, headers=admin()).status_code == 204
    assert service.client.delete(url, headers=admin()).status_code == 404
    assert service.client.get(url).status_code == 404
    assert service.client.get(f"{url}/metadata", headers=admin()).status_code == 404
    # the same bytes uploaded again make a new image
    assert uploaded(service) != image_id


def landing_records(service) -> list[dict]:
    files = sorted((service.landing / "images").glob("*.jsonl"))
    return [json.loads(line) for path in files for line in path.read_text().splitlines()]


def test_feed_records_are_valid_images_lines(service) -> None:
    image_id = uploaded(service)
    service.upload(service.link(hotel_id=9)["token"], ("p.png", PNG, "image/png"))
    service.client.delete(f"/v1/images/{image_id}", headers=admin())
    assert service.drain() == 3
    assert not list((service.landing / "images").glob(".*"))  # nothing left aside
    records = landing_records(service)
    first = records[0]
    assert set(first) >= {"hotel_id", "image_id", "cdn_url", "width", "height", "created_at",
                          "is_active", "hash", "source", "channel", "mime_type"}  # fmt: skip
    assert first["channel"] == "upload" and first["is_active"] is True
    assert records[-1]["image_id"] == image_id and records[-1]["is_active"] is False
    assert records[1]["camera_model"] is None and records[1]["gps_lat"] is None
    assert service.drain() == 0


# ------------------------------------------------------------------ GET /v1/stats


def test_stats(service) -> None:
    assert service.client.get("/v1/stats").status_code == 401
    empty = service.client.get("/v1/stats", headers=admin()).json()
    assert empty["formats"] == {} and empty["most_popular_format"] is None
    assert len(empty["uploads_per_day"]) == 30
    token = service.link(hotel_id=7)["token"]
    service.upload(token, jpg(imagegen.jpeg(64, 48, seed=1, model="A")))
    service.upload(token, jpg(imagegen.jpeg(64, 48, seed=2, model="B")))
    service.upload(token, jpg(imagegen.jpeg(64, 48, seed=3, model="B")))
    service.upload(token, ("p.png", PNG, "image/png"))
    stats = service.client.get("/v1/stats", headers=admin()).json()
    assert stats["formats"] == {"image/jpeg": 3, "image/png": 1}
    assert stats["most_popular_format"] == "image/jpeg"
    assert stats["top_cameras"] == [
        {"camera_model": "B", "images": 2},
        {"camera_model": "A", "images": 1},
    ]
    days = stats["uploads_per_day"]
    assert days[-1] == {"date": now().date().isoformat(), "uploads": 4}
    assert sum(day["uploads"] for day in days) == 4
    assert [d["date"] for d in days] == sorted(d["date"] for d in days)


def test_stats_rebuild_matches_the_running_counts(service) -> None:
    from main_image.service import stats

    token = service.link(hotel_id=7)["token"]
    ids = [
        service.upload(token, jpg(imagegen.jpeg(64, 48, seed=s, model=f"M{s % 2}"))).json()[
            "images"][0]["image_id"]
        for s in range(4)
    ]  # fmt: skip
    service.client.delete(f"/v1/images/{ids[0]}", headers=admin())
    before = service.client.get("/v1/stats", headers=admin()).json()
    with transaction(service.svc.factory) as session:
        stats.rebuild(session)
    assert service.client.get("/v1/stats", headers=admin()).json() == before
