"""The landing zone as the lander sees it: write aside, then rename; list the landed ranges.

A file is written under a hidden temporary name (the loader ignores names starting with ".")
and renamed when whole, so a run never loads half a file. A crash before the rename leaves
only the temporary file; the lander that next owns the partition removes it
(``remove_temp``): a partition has one owner in the group, so no live lander is writing it.

Two engines with the same interface: ``LocalLanding`` (a folder; ``os.replace`` is atomic)
and ``GcsLanding`` (``gs://bucket[/prefix]``: the object is uploaded under the temporary name,
then copied to its name and the temporary object deleted; readers only ever see whole objects).
"""

from __future__ import annotations

import os
import uuid
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from main_image.stream import naming


class Landing(ABC):
    """A landing zone root; ``folder`` is relative to it (``images/stream``, ...)."""

    @abstractmethod
    def names(self, folder: str) -> list[str]:
        """The file names directly in ``folder`` (hidden ones included), any order."""

    @abstractmethod
    def read(self, folder: str, name: str) -> bytes: ...

    @abstractmethod
    def _write_temp(self, folder: str, temp: str, data: bytes) -> None: ...

    @abstractmethod
    def _rename(self, folder: str, temp: str, name: str) -> None: ...

    @abstractmethod
    def remove(self, folder: str, name: str) -> None: ...

    @abstractmethod
    def location(self, folder: str, name: str) -> str: ...

    def write(self, folder: str, name: str, data: bytes) -> str:
        """Write ``data`` as ``folder/name``: aside under a hidden name, then renamed."""
        temp = naming.temp_name(name, f"{os.getpid()}-{uuid.uuid4().hex[:8]}")
        self._write_temp(folder, temp, data)
        self._rename(folder, temp, name)
        return self.location(folder, name)

    def landed_ranges(self, topic: str, partition: int) -> list[naming.LandedRange]:
        prefix = naming.partition_prefix(topic, partition)
        ranges = [
            parsed
            for name in self.names(naming.STREAM_FOLDER)
            if name.startswith(prefix) and (parsed := naming.parse_name(name)) is not None
        ]
        return sorted(ranges)

    def remove_temp(self, topic: str, partition: int) -> int:
        """Remove the temporary files a crashed writer of this partition left behind."""
        stale = [
            name
            for name in self.names(naming.STREAM_FOLDER)
            if naming.is_temp_of(name, topic, partition)
        ]
        for name in stale:
            self.remove(naming.STREAM_FOLDER, name)
        return len(stale)


class LocalLanding(Landing):
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _dir(self, folder: str) -> Path:
        return self.root / folder

    def names(self, folder: str) -> list[str]:
        directory = self._dir(folder)
        return [entry.name for entry in os.scandir(directory)] if directory.is_dir() else []

    def read(self, folder: str, name: str) -> bytes:
        return (self._dir(folder) / name).read_bytes()

    def _write_temp(self, folder: str, temp: str, data: bytes) -> None:
        directory = self._dir(folder)
        directory.mkdir(parents=True, exist_ok=True)
        with (directory / temp).open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    def _rename(self, folder: str, temp: str, name: str) -> None:
        directory = self._dir(folder)
        os.replace(directory / temp, directory / name)
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)  # the rename survives a power loss before the commit
        finally:
            os.close(descriptor)

    def remove(self, folder: str, name: str) -> None:
        (self._dir(folder) / name).unlink(missing_ok=True)

    def location(self, folder: str, name: str) -> str:
        return str(self._dir(folder) / name)


class GcsLanding(Landing):
    def __init__(self, uri: str, client: Any = None) -> None:
        if not uri.startswith("gs://"):
            raise ValueError(f"not a gs:// URI: {uri!r}")
        bucket, _, prefix = uri[len("gs://") :].partition("/")
        if not bucket:
            raise ValueError(f"no bucket in {uri!r}")
        if client is None:
            from google.cloud import storage

            client = storage.Client()
        self.client = client
        self.bucket = client.bucket(bucket)
        self.prefix = prefix.strip("/")

    def _key(self, folder: str, name: str = "") -> str:
        parts = [part for part in (self.prefix, folder) if part]
        return "/".join(parts) + "/" + name

    def names(self, folder: str) -> list[str]:
        base = self._key(folder)
        return [
            blob.name[len(base) :]
            for blob in self.client.list_blobs(self.bucket, prefix=base)
            if "/" not in blob.name[len(base) :]
        ]

    def read(self, folder: str, name: str) -> bytes:
        return self.bucket.blob(self._key(folder, name)).download_as_bytes()

    def _write_temp(self, folder: str, temp: str, data: bytes) -> None:
        self.bucket.blob(self._key(folder, temp)).upload_from_string(
            data, content_type="application/x-ndjson"
        )

    def _rename(self, folder: str, temp: str, name: str) -> None:
        source = self.bucket.blob(self._key(folder, temp))
        self.bucket.copy_blob(source, self.bucket, self._key(folder, name))
        source.delete()

    def remove(self, folder: str, name: str) -> None:
        blob = self.bucket.blob(self._key(folder, name))
        if blob.exists():
            blob.delete()

    def location(self, folder: str, name: str) -> str:
        return f"gs://{self.bucket.name}/{self._key(folder, name)}"


def open_landing(landing: str, client: Any = None) -> Landing:
    """A landing zone from a local folder or a ``gs://`` URI."""
    if landing.startswith("gs://"):
        return GcsLanding(landing, client)
    return LocalLanding(Path(landing))
