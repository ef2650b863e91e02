"""The outbox: nothing lost when the landing zone fails or the process dies between the file
and the delete; the background drainer; racing duplicate uploads make one image."""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path

from main_image.service import outbox

from . import imagegen
from .conftest import admin


class FailingLanding(outbox.LandingWriter):
    def write(self, name: str, data: bytes) -> None:
        raise OSError("landing zone unavailable")


class CrashAfterWrite(outbox.LandingWriter):
    """Writes the file, then 'dies' before the outbox rows are deleted."""

    def __init__(self, inner: outbox.LandingWriter) -> None:
        self.inner = inner

    def write(self, name: str, data: bytes) -> None:
        self.inner.write(name, data)
        raise SystemExit("killed after the file was written")


def upload(service, seed: int, hotel_id: int = 7) -> int:
    token = service.link(hotel_id=hotel_id)["token"]
    answer = service.upload(token, ("a.jpg", imagegen.jpeg(64, 48, seed=seed), "image/jpeg"))
    assert answer.status_code == 201, answer.text
    return answer.json()["images"][0]["image_id"]


def files(service) -> list[Path]:
    return sorted((service.landing / "images").glob("*.jsonl"))


def test_a_failed_landing_keeps_the_records(service) -> None:
    upload(service, 1)
    factory = service.svc.factory
    with contextlib.suppress(OSError):
        outbox.drain(factory, FailingLanding())
    assert files(service) == []
    assert service.drain() == 1  # still there, drained once the landing zone is back


def test_a_crash_after_the_file_redrains_the_same_file(service) -> None:
    first = upload(service, 1)
    factory, landing = service.svc.factory, service.svc.landing
    with contextlib.suppress(SystemExit):
        outbox.drain(factory, CrashAfterWrite(landing))
    (written,) = files(service)
    before = written.read_bytes()
    assert service.drain() == 1  # the rows were not deleted: drained again, same name
    (again,) = files(service)
    assert again == written and again.read_bytes() == before
    assert json.loads(before)["image_id"] == first
    assert not list((service.landing / "images").glob(".*"))


def test_the_background_drainer(make_service) -> None:
    service = make_service(outbox_interval_seconds=0.05)
    image_id = upload(service, 2)
    drainer = outbox.Drainer(service.svc.factory, service.svc.landing, 0.05, 100)
    drainer.start()
    service.client.delete(f"/v1/images/{image_id}", headers=admin())
    drainer.stop()  # stops, then drains what was committed
    records = [
        json.loads(line) for path in files(service) for line in path.read_text().splitlines()
    ]
    assert [r["is_active"] for r in records if r["image_id"] == image_id] == [True, False]


def test_racing_duplicates_make_one_image(service) -> None:
    data = imagegen.jpeg(64, 48, seed=5)
    tokens = [service.link(hotel_id=9)["token"] for _ in range(4)]
    answers: list = []

    def go(token: str) -> None:
        answers.append(service.upload(token, ("a.jpg", data, "image/jpeg")))

    threads = [threading.Thread(target=go, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    images = [answer.json()["images"][0] for answer in answers]
    assert all(answer.status_code == 201 for answer in answers)
    assert len({image["image_id"] for image in images}) == 1
    assert sorted(image["duplicate"] for image in images) == [False, True, True, True]
    assert service.drain() == 1


def test_outbox_ids_are_never_reused(service) -> None:
    """File names come from outbox ids: after a drain empties the table, the next record
    must not get id 1 again (it would replace, or on GCS be refused as, the first file)."""
    upload(service, 1)
    assert service.drain() == 1
    upload(service, 2)
    assert service.drain() == 1
    names = [path.name for path in files(service)]
    assert len(names) == 2 and len(set(names)) == 2
    ids = [json.loads(path.read_text())["image_id"] for path in files(service)]
    assert len(set(ids)) == 2
