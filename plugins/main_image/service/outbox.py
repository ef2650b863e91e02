"""Into the pipeline: every catalog change is an ``images`` feed record (contract §2, §7).

The record is written to the ``outbox`` table in the same transaction as the change, so a
crash can never keep one without the other. A drainer moves records, oldest first, into the
landing zone's ``images/`` folder as NDJSON files named by the outbox id range they hold
(``service-outbox-<first>-<last>.jsonl``, zero-padded so they sort in change order), and
deletes them from the table only after the file is whole. A file appears whole: the local
writer writes it aside and renames it; the GCS writer uploads one object (atomic) with the
create-only precondition. A crash after the file and before the delete drains the same records
again: the same name and bytes (skipped by the precondition, or by the loader's content hash),
or, when more records arrived, a wider file that repeats states, which the pipeline's latest
record per image reads the same way.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from main_image.service.blobs import gcs_client, split_gs_uri
from main_image.service.db import Image, OutboxRecord, now, transaction, utc

FEED = "images"
log = logging.getLogger("main_image.service.outbox")


def _iso(value: Any) -> str | None:
    value = utc(value)
    return value.isoformat().replace("+00:00", "Z") if value else None


def feed_record(image: Image, cdn_url: str) -> dict[str, Any]:
    """The image's current state as an ``images`` feed line."""
    return {
        "hotel_id": image.hotel_id,
        "image_id": image.image_id,
        "cdn_url": cdn_url,
        "width": image.width,
        "height": image.height,
        "created_at": _iso(image.uploaded_at),
        "is_active": bool(image.is_active and image.deleted_at is None),
        "hash": image.hash,
        "source": image.source,
        "channel": image.channel,
        "uploaded_at": _iso(image.uploaded_at),
        "mime_type": image.mime_type,
        "file_size_bytes": image.file_size_bytes,
        "camera_make": image.camera_make,
        "camera_model": image.camera_model,
        "gps_lat": image.gps_lat,
        "gps_lon": image.gps_lon,
    }


def enqueue(session: Session, image: Image, cdn_url: str) -> None:
    payload = json.dumps(feed_record(image, cdn_url), separators=(",", ":"), ensure_ascii=False)
    session.add(OutboxRecord(image_id=image.image_id, payload=payload, created_at=now()))


class LandingWriter(ABC):
    @abstractmethod
    def write(self, name: str, data: bytes, feed: str = FEED) -> None:
        """Make ``<landing>/<feed>/<name>`` appear whole; an existing file is left as it is."""


class LocalLanding(LandingWriter):
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def write(self, name: str, data: bytes, feed: str = FEED) -> None:
        folder = self.root / feed
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        aside = folder / f".{name}.partial"  # hidden: the loader ignores it
        with aside.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(aside, target)


class GcsLanding(LandingWriter):
    def __init__(self, uri: str, client: Any = None) -> None:
        bucket, self.prefix = split_gs_uri(uri)
        self.bucket = (client or gcs_client()).bucket(bucket)

    def write(self, name: str, data: bytes, feed: str = FEED) -> None:
        from google.api_core.exceptions import PreconditionFailed

        path = "/".join(part for part in (self.prefix, feed, name) if part)
        with contextlib.suppress(PreconditionFailed):  # drained before a crash: same records
            self.bucket.blob(path).upload_from_string(
                data, content_type="application/x-ndjson", if_generation_match=0
            )


def open_landing(uri: str) -> LandingWriter:
    return GcsLanding(uri) if uri.startswith("gs://") else LocalLanding(uri)


def file_name(first: int, last: int) -> str:
    return f"service-outbox-{first:016d}-{last:016d}.jsonl"


_drain_lock = threading.Lock()


def drain(factory: sessionmaker[Session], writer: LandingWriter, batch_size: int = 5000) -> int:
    """Move every committed outbox record into landing files; returns how many were moved."""
    moved = 0
    with _drain_lock:
        while True:
            with transaction(factory) as session:
                query = select(OutboxRecord).order_by(OutboxRecord.id).limit(batch_size)
                if session.get_bind().dialect.name == "postgresql":
                    query = query.with_for_update(skip_locked=True)  # one drainer per row
                records = session.scalars(query).all()
                if not records:
                    return moved
                data = "".join(f"{record.payload}\n" for record in records).encode()
                writer.write(file_name(records[0].id, records[-1].id), data)
                ids = [record.id for record in records]
                session.execute(delete(OutboxRecord).where(OutboxRecord.id.in_(ids)))
            moved += len(records)
            log.info("outbox: %d records -> landing", len(records))


class Drainer:
    """A background thread draining the outbox every `interval` seconds (and on `poke`)."""

    def __init__(
        self, factory: sessionmaker[Session], writer: LandingWriter, interval: float, batch: int
    ) -> None:
        self.factory, self.writer, self.interval, self.batch = factory, writer, interval, batch
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-drainer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                drain(self.factory, self.writer, self.batch)
            except Exception:  # the landing zone may be down: the records wait in the table
                log.exception("outbox: drain failed; will retry")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        try:
            drain(self.factory, self.writer, self.batch)  # what was committed before shutdown
        except Exception:
            log.exception("outbox: final drain failed; records stay in the table")
