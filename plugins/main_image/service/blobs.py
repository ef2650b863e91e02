"""Content-addressed blob stores: each image's bytes stored once under their SHA-256.

Objects are written once and never overwritten: the local store links a finished temporary
file into place (``os.link`` fails if the name exists), the GCS store uploads with the
create-only precondition ``if_generation_match=0``. Two uploads of the same bytes racing each
other both succeed; the second one simply finds the object there.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHUNK = 1024 * 1024


def split_gs_uri(uri: str) -> tuple[str, str]:
    """``gs://bucket/some/prefix`` -> (``bucket``, ``some/prefix``)."""
    bucket, _, prefix = uri.removeprefix("gs://").partition("/")
    if not bucket:
        raise ValueError(f"not a gs:// URI with a bucket: {uri!r}")
    return bucket, prefix.strip("/")


def gcs_client() -> Any:
    """The production client, or an anonymous one when STORAGE_EMULATOR_HOST is set."""
    from google.cloud import storage

    if os.environ.get("STORAGE_EMULATOR_HOST"):
        from google.auth.credentials import AnonymousCredentials

        return storage.Client(project="local", credentials=AnonymousCredentials())
    return storage.Client()


class BlobStore(ABC):
    """Bytes by SHA-256 (64 lowercase hex characters)."""

    @staticmethod
    def key(sha256: str) -> str:
        return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"

    @abstractmethod
    def exists(self, sha256: str) -> bool: ...

    @abstractmethod
    def put(self, sha256: str, path: Path) -> bool:
        """Store the file's bytes under `sha256` unless present; True when written now."""

    @abstractmethod
    def stream(self, sha256: str) -> Iterator[bytes]:
        """The stored bytes in chunks; FileNotFoundError when absent."""


class LocalBlobStore(BlobStore):
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        return self.root / self.key(sha256)

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def put(self, sha256: str, path: Path) -> bool:
        target = self.path(sha256)
        if target.is_file():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, aside = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        os.close(handle)
        try:
            shutil.copyfile(path, aside)
            os.link(aside, target)  # create-only: never replaces an existing object
            return True
        except FileExistsError:
            return False
        finally:
            os.unlink(aside)

    def stream(self, sha256: str) -> Iterator[bytes]:
        handle = self.path(sha256).open("rb")  # raises FileNotFoundError before streaming

        def chunks() -> Iterator[bytes]:
            with handle:
                while chunk := handle.read(CHUNK):
                    yield chunk

        return chunks()


class GcsBlobStore(BlobStore):
    def __init__(self, uri: str, client: Any = None) -> None:
        self.bucket_name, self.prefix = split_gs_uri(uri)
        self.client = client or gcs_client()
        self.bucket = self.client.bucket(self.bucket_name)

    def _blob(self, sha256: str) -> Any:
        name = self.key(sha256)
        return self.bucket.blob(f"{self.prefix}/{name}" if self.prefix else name)

    def exists(self, sha256: str) -> bool:
        return self._blob(sha256).exists()

    def put(self, sha256: str, path: Path) -> bool:
        from google.api_core.exceptions import PreconditionFailed

        blob = self._blob(sha256)
        if blob.exists():
            return False
        try:
            blob.upload_from_filename(str(path), if_generation_match=0)
            return True
        except PreconditionFailed:  # written meanwhile by another upload of the same bytes
            return False

    def stream(self, sha256: str) -> Iterator[bytes]:
        from google.api_core.exceptions import NotFound

        blob = self._blob(sha256)
        try:
            reader = blob.open("rb", chunk_size=CHUNK)
            first = reader.read(CHUNK)  # a missing object fails here, before the response
        except NotFound:
            raise FileNotFoundError(sha256) from None

        def chunks() -> Iterator[bytes]:
            with reader:
                chunk = first
                while chunk:
                    yield chunk
                    chunk = reader.read(CHUNK)

        return chunks()


def open_store(uri: str) -> BlobStore:
    return GcsBlobStore(uri) if uri.startswith("gs://") else LocalBlobStore(uri)
