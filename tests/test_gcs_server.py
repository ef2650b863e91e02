"""The fake-gcs-server fixture itself: the calls main_image makes on gs:// work through the
official client (listing by prefix, reading, resumable text writes, a missing object)."""

from __future__ import annotations

from pathlib import Path

import pytest
from gcs_server import GcsServer, upload_delivery


def test_objects_written_listed_and_read_back(gcs_server: GcsServer, tmp_path: Path) -> None:
    from google.api_core.exceptions import NotFound

    client = gcs_server.client()
    bucket = gcs_server.new_bucket(client)
    with client.bucket(bucket).blob("exports/run-1/changes.jsonl").open("w") as handle:
        handle.write('{"hotel_id":1}\n' * 3)  # no size: a resumable upload, as the exports do
    delivery = tmp_path / "delivery-01"
    (delivery / "images").mkdir(parents=True)
    (delivery / "images" / "part-00000.jsonl").write_bytes(b'{"image_id":1000}\n')
    assert upload_delivery(client, delivery, bucket, "feeds") == [
        f"gs://{bucket}/feeds/images/delivery-01-part-00000.jsonl"
    ]
    names = [blob.name for blob in client.list_blobs(bucket, prefix="feeds/")]
    assert names == ["feeds/images/delivery-01-part-00000.jsonl"]
    with client.bucket(bucket).blob("exports/run-1/changes.jsonl").open("rb") as handle:
        assert handle.read() == b'{"hotel_id":1}\n' * 3
    with pytest.raises(NotFound):
        client.bucket(bucket).blob("exports/missing.jsonl").download_as_bytes()


def test_buckets_are_separate(gcs_server: GcsServer) -> None:
    client = gcs_server.client()
    first, second = gcs_server.new_bucket(client), gcs_server.new_bucket(client)
    client.bucket(first).blob("a.txt").upload_from_string(b"a")
    assert [blob.name for blob in client.list_blobs(second)] == []
