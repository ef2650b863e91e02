"""File I/O for local paths and ``gs://bucket/name`` URIs, one interface for the loader, the
exports and the landing zone.

* ``open_read`` / ``open_write``: a binary reader, a text writer (local parents are created);
* ``exists``, ``list_files`` (every file under a folder or prefix, relative names, sorted);
* ``write_aside``: a set of files appears whole: locally each is written under a hidden name
  beside it and all are renamed into place in the given order once written (the last one, e.g.
  ``metrics.json``, marks the set complete); on GCS an object appears whole when its upload
  finishes, so they are uploaded in the same order.

The Google client is imported only when a ``gs://`` URI is used; ``storage_client`` is a
``google.cloud.storage.Client`` (None: one with Application Default Credentials).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

GCS_SCHEME = "gs://"


def is_gcs_uri(location: Any) -> bool:
    return isinstance(location, str) and location.startswith(GCS_SCHEME)


def split_gcs_uri(uri: str) -> tuple[str, str]:
    """``gs://bucket/a/b`` -> (``bucket``, ``a/b``)."""
    bucket, _, name = uri[len(GCS_SCHEME) :].partition("/")
    return bucket, name


def _client(storage_client: Any) -> Any:
    if storage_client is not None:
        return storage_client
    from google.cloud import storage

    return storage.Client()


def _blob(uri: str, storage_client: Any) -> Any:
    bucket, name = split_gcs_uri(uri)
    return _client(storage_client).bucket(bucket).blob(name)


@contextlib.contextmanager
def open_read(location: Path | str, storage_client: Any = None) -> Iterator[IO[bytes]]:
    """A file to read, as bytes."""
    if is_gcs_uri(location):
        with _blob(str(location), storage_client).open("rb") as handle:
            yield handle
    else:
        with Path(location).open("rb") as handle:
            yield handle


def read_text(location: Path | str, storage_client: Any = None) -> str:
    with open_read(location, storage_client) as handle:
        return handle.read().decode("utf-8")


@contextlib.contextmanager
def open_write(location: Path | str, storage_client: Any = None) -> Iterator[IO[str]]:
    """A text file to write (UTF-8): a local path (parents created) or a gs:// URI."""
    if is_gcs_uri(location):
        with _blob(str(location), storage_client).open("w", encoding="utf-8") as handle:
            yield handle
    else:
        path = Path(location)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as handle:
            yield handle


def exists(location: Path | str, storage_client: Any = None) -> bool:
    if not is_gcs_uri(location):
        return Path(location).is_file()
    blob = _blob(str(location), storage_client)
    if hasattr(blob, "exists"):  # google.cloud.storage.Blob
        return bool(blob.exists())
    try:  # a client stand-in that can only open objects
        with blob.open("rb"):
            return True
    except FileNotFoundError:
        return False


def count_lines(location: Path | str, storage_client: Any = None) -> int:
    with open_read(location, storage_client) as handle:
        return sum(1 for _ in handle)


def list_files(folder: Path | str, storage_client: Any = None) -> list[str]:
    """Every file below ``folder`` (a local folder or a gs:// prefix), as names relative to it
    with '/' separators, sorted. A missing folder has no file."""
    if is_gcs_uri(folder):
        bucket, prefix = split_gcs_uri(str(folder).rstrip("/"))
        prefix = f"{prefix}/" if prefix else ""
        names = (
            blob.name[len(prefix) :] for blob in _client(storage_client).list_blobs(
                bucket, prefix=prefix)
        )  # fmt: skip
        return sorted(name for name in names if name and not name.endswith("/"))
    root = Path(folder)
    if not root.is_dir():
        return []
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())


def join(folder: Path | str, name: str) -> str:
    return f"{str(folder).rstrip('/')}/{name}"


Writer = Callable[[str], Any]

#: Hidden siblings of the files ``write_aside`` is writing: ``.<name>.partial-<tag>``.
_ASIDE = ".{name}.partial-{tag}"


def aside_path(location: str, tag: str) -> Path:
    """The hidden sibling ``write_aside`` writes a local file under before renaming it."""
    path = Path(location)
    return path.with_name(_ASIDE.format(name=path.name, tag=tag))


def write_aside(files: Sequence[tuple[str, Writer]], tag: str = "0",
                on_step: Callable[[str, int], None] | None = None) -> dict[str, Any]:
    """Write the files so that each appears whole, in the given order (last: the one that marks
    the set complete, e.g. ``metrics.json``).

    ``files``: (location, writer); each writer gets the location to write and returns a result
    (kept by location). Locally each writes a hidden sibling ``.<name>.partial-<tag>`` (those an
    earlier attempt left are removed first) and all are renamed into place, in order, once all
    are written. On GCS each object is uploaded in order (an object appears whole when its
    upload completes). ``on_step(step, index)`` is called after each file is ``written`` (aside),
    once ``all-written`` (index -1) and after each is ``renamed`` (the exports record and fault
    hooks)."""
    step = on_step or (lambda _step, _index: None)
    if all(is_gcs_uri(location) for location, _ in files):
        results = {}
        for index, (location, write) in enumerate(files):
            results[location] = write(location)
            step("written", index)
            step("renamed", index)
        return results
    if any(is_gcs_uri(location) for location, _ in files):
        raise ValueError("write_aside: all files local or all on gs://, not a mix")
    asides = []
    for location, _ in files:
        path = Path(location)
        path.parent.mkdir(parents=True, exist_ok=True)
        for leftover in path.parent.glob(_ASIDE.format(name=path.name, tag="*")):
            leftover.unlink(missing_ok=True)
        asides.append(aside_path(location, tag))
    results = {}
    try:
        for index, ((location, write), aside) in enumerate(zip(files, asides, strict=True)):
            results[location] = write(str(aside))
            step("written", index)
    except BaseException:
        for aside in asides:
            aside.unlink(missing_ok=True)
        raise
    step("all-written", -1)
    for index, ((location, _), aside) in enumerate(zip(files, asides, strict=True)):
        aside.replace(location)
        step("renamed", index)
    return results
