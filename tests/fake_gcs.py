"""A google.cloud.storage.Client stand-in over local folders, for the gs:// paths of the tests
(there is no GCS emulator here): bucket name -> folder."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any


class FakeStorage:
    """The three calls main_image makes: ``list_blobs``, ``bucket(b).blob(n).open(mode)``.
    Reading a missing object raises FileNotFoundError (the real client: NotFound)."""

    def __init__(self, buckets: dict[str, Path]) -> None:
        self.buckets = buckets

    def list_blobs(self, bucket: str, prefix: str = "") -> list[Any]:
        root = self.buckets[bucket]
        files = (path for path in root.rglob("*") if path.is_file())
        names = sorted(path.relative_to(root).as_posix() for path in files)
        return [SimpleNamespace(name=name) for name in names if name.startswith(prefix)]

    def bucket(self, bucket: str) -> Any:
        root = self.buckets[bucket]

        def blob(name: str) -> Any:
            def open_blob(mode: str = "rb", **kwargs: Any) -> Any:
                path = root / name
                if "w" in mode:
                    path.parent.mkdir(parents=True, exist_ok=True)
                return path.open(mode, **kwargs)

            return SimpleNamespace(open=open_blob)

        return SimpleNamespace(blob=blob)
