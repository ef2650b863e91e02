"""The serving copy, read side: main images with their explanation, the change feed and
overrides (contract §7, admins and the frontend).

The tables are written only by the pipeline's publication (main_image/serving_publish.py); the
service reads them and never opens the warehouse, so it answers while a run is in flight.
An override is not applied here: it becomes an ``admin_overrides`` feed record in the landing
zone (a file that appears whole) and an audit row, and the next run applies it.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from main_image.service.db import (
    OverrideAudit,
    ServingCandidate,
    ServingChange,
    ServingMainImage,
    live_image,
    now,
    transaction,
)
from main_image.service.outbox import LandingWriter

OVERRIDES_FEED = "admin_overrides"
#: Page sizes of GET /v1/changes.
DEFAULT_CHANGES_LIMIT = 1000
MAX_CHANGES_LIMIT = 10_000
_CURSOR_PREFIX = "c1:"


class BadCursor(ValueError):
    """Not a cursor this service handed out."""


def encode_cursor(change_id: int) -> str:
    """Opaque to clients; stable across runs (it names a position in the change log)."""
    raw = f"{_CURSOR_PREFIX}{change_id}".encode("ascii")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str | None) -> int:
    if cursor is None or cursor == "":
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadCursor(cursor) from None
    number = text.removeprefix(_CURSOR_PREFIX)
    if not text.startswith(_CURSOR_PREFIX) or not number.isdigit() or len(number) > 18:
        raise BadCursor(cursor)
    return int(number)


def main_image(session: Session, hotel_id: int) -> tuple[ServingMainImage, list[int]] | None:
    row = session.get(ServingMainImage, hotel_id)
    if row is None:
        return None
    candidates = session.scalars(
        select(ServingCandidate.image_id)
        .where(ServingCandidate.hotel_id == hotel_id, ServingCandidate.image_rank.is_not(None))
        .order_by(ServingCandidate.image_rank)
    ).all()
    return row, list(candidates)


def score_terms(row: ServingMainImage) -> dict[str, float | None] | None:
    return json.loads(row.score_terms) if row.score_terms else None


def changes_after(session: Session, after: int, limit: int) -> list[ServingChange]:
    return list(session.scalars(
        select(ServingChange)
        .where(ServingChange.change_id > after)
        .order_by(ServingChange.change_id)
        .limit(limit)
    ))  # fmt: skip


class OverrideRejected(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


@dataclass(frozen=True)
class OverrideRecord:
    hotel_id: int
    image_id: int | None
    set_by: str
    set_at: datetime


def check_override(session: Session, hotel_id: int, image_id: int) -> None:
    """404 unknown image; 422 an image of another hotel, or inactive (contract §7). The catalog
    knows uploaded images; the serving copy knows every image a run ranked."""
    uploaded = live_image(session, image_id)
    candidate = session.get(ServingCandidate, image_id)
    if uploaded is None and candidate is None:
        raise OverrideRejected(404, f"unknown image {image_id}")
    owner = uploaded.hotel_id if uploaded is not None else candidate.hotel_id  # type: ignore[union-attr]
    if owner != hotel_id:
        raise OverrideRejected(422, f"image {image_id} belongs to hotel {owner}, not {hotel_id}")
    if uploaded is not None and not uploaded.is_active:
        raise OverrideRejected(422, f"image {image_id} is inactive")
    if uploaded is None and candidate is not None and candidate.image_rank is None:
        raise OverrideRejected(422, f"image {image_id} is inactive (no longer a candidate)")


def override_in_effect(session: Session, hotel_id: int) -> bool:
    """An override is set when the latest one made through the API sets an image, or (none made
    here) the published main image was chosen by an override from the feed."""
    latest = session.scalars(
        select(OverrideAudit)
        .where(OverrideAudit.hotel_id == hotel_id)
        .order_by(OverrideAudit.id.desc())
        .limit(1)
    ).first()
    if latest is not None:
        return latest.image_id is not None
    served = session.get(ServingMainImage, hotel_id)
    return served is not None and served.selection_source == "admin"


def record_override(
    factory: sessionmaker[Session],
    landing: LandingWriter,
    hotel_id: int,
    image_id: int | None,
    set_by: str,
    remote_addr: str | None,
) -> OverrideRecord:
    """Validate, write the ``admin_overrides`` record into the landing zone and audit it, in one
    transaction: the audit row commits only once the file is whole (a failed write leaves
    neither). The file name is unique, so a retried request never replaces another's file."""
    with transaction(factory) as session:
        if image_id is None:
            if not override_in_effect(session, hotel_id):
                raise OverrideRejected(404, f"hotel {hotel_id} has no override set")
        else:
            check_override(session, hotel_id, image_id)
        set_at = now()
        stamp = set_at.strftime("%Y%m%dT%H%M%S%fZ")
        name = f"service-override-{stamp}-{uuid.uuid4().hex}.jsonl"
        record = {
            "hotel_id": hotel_id,
            "image_id": image_id,
            "set_by": set_by,
            "set_at": set_at.isoformat().replace("+00:00", "Z"),
        }
        session.add(
            OverrideAudit(
                hotel_id=hotel_id,
                image_id=image_id,
                set_by=set_by,
                set_at=set_at,
                remote_addr=remote_addr,
                landing_file=name,
            )
        )
        session.flush()
        data = (json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
        landing.write(name, data, feed=OVERRIDES_FEED)
    return OverrideRecord(hotel_id, image_id, set_by, set_at)
