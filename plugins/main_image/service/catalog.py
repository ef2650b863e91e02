"""The image catalog's operations: links, uploads, reads, deactivation and deletion.

Each change commits the image row, its outbox feed record and the stats counters in one
transaction. Blobs are written before that transaction: a crash in between leaves an
unreferenced blob (harmless, content-addressed), never a row without its bytes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from main_image.service import outbox, stats
from main_image.service.auth import InvalidToken, LinkClaims, sign_link, verify_link
from main_image.service.blobs import BlobStore
from main_image.service.db import Image, UploadLink, allocate_ids, live_image, now, transaction, utc
from main_image.service.imaging import ImageInfo
from main_image.service.settings import Settings
from main_image.service.streaming import ReceivedFile


class LinkRefused(Exception):
    """An upload link that cannot be used: `status` is 401 (not ours) or 410 (gone)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


@dataclass(frozen=True)
class Stored:
    image: Image
    duplicate: bool


def create_link(
    factory: sessionmaker[Session],
    settings: Settings,
    hotel_id: int,
    source: str,
    expires_in_seconds: int,
    max_files: int | None,
) -> tuple[str, LinkClaims]:
    created = now()
    claims = LinkClaims(
        link_id=secrets.token_hex(16),
        hotel_id=hotel_id,
        source=source,
        expires_at=(created + timedelta(seconds=expires_in_seconds)).replace(microsecond=0),
        max_files=max_files or settings.default_link_max_files,
    )
    with transaction(factory) as session:
        session.add(
            UploadLink(
                link_id=claims.link_id,
                hotel_id=claims.hotel_id,
                source=claims.source,
                expires_at=claims.expires_at,
                max_files=claims.max_files,
                files_used=0,
                created_at=created,
            )
        )
    return sign_link(settings.link_secret, claims), claims


def check_link(factory: sessionmaker[Session], settings: Settings, token: str) -> LinkClaims:
    """The link's claims if it can still take files; LinkRefused otherwise."""
    try:
        claims = verify_link(settings.link_secret, token)
    except InvalidToken:
        raise LinkRefused(401, "invalid upload link") from None
    with factory() as session:
        link = session.get(UploadLink, claims.link_id)
    if link is None:
        raise LinkRefused(401, "unknown upload link")
    if utc(link.expires_at) <= now():
        raise LinkRefused(410, "the upload link has expired")
    if link.files_used >= link.max_files:
        raise LinkRefused(410, "the upload link is used up")
    return claims


def reserve(factory: sessionmaker[Session], claims: LinkClaims, count: int) -> None:
    """Take `count` files from the link's budget atomically (all or none)."""
    with transaction(factory) as session:
        taken = session.execute(
            update(UploadLink)
            .where(UploadLink.link_id == claims.link_id)
            .where(UploadLink.files_used + count <= UploadLink.max_files)
            .where(UploadLink.expires_at > now())
            .values(files_used=UploadLink.files_used + count)
        ).rowcount
    if not taken:
        raise LinkRefused(410, f"the upload link cannot take {count} more file(s)")


def _existing(session: Session, hotel_id: int, sha256: str) -> Image | None:
    return session.scalars(
        select(Image).where(
            Image.hotel_id == hotel_id,
            Image.content_sha256 == sha256,
            Image.deleted_at.is_(None),
        )
    ).one_or_none()


def store_upload(
    factory: sessionmaker[Session],
    settings: Settings,
    blobs: BlobStore,
    claims: LinkClaims,
    received: ReceivedFile,
    info: ImageInfo,
) -> Stored:
    """One accepted file: the existing image of the hotel, or a new one."""
    with factory() as session:
        found = _existing(session, claims.hotel_id, received.sha256)
    if found is not None:
        return Stored(found, duplicate=True)
    blobs.put(received.sha256, received.path)
    (image_id,) = allocate_ids(factory, 1)
    image = Image(
        image_id=image_id,
        hotel_id=claims.hotel_id,
        source=claims.source,
        channel="upload",
        link_id=claims.link_id,
        content_sha256=received.sha256,
        hash=info.hash,
        width=info.width,
        height=info.height,
        mime_type=info.mime_type,
        file_size_bytes=received.size,
        camera_make=info.camera_make,
        camera_model=info.camera_model,
        taken_at=info.taken_at,
        gps_lat=info.gps_lat,
        gps_lon=info.gps_lon,
        uploaded_at=now(),
        is_active=True,
    )
    try:
        with transaction(factory) as session:
            session.add(image)
            stats.count_new(session, image)
            outbox.enqueue(session, image, settings.cdn_url(image_id))
    except IntegrityError:  # the same bytes for the same hotel, committed meanwhile
        with factory() as session:
            found = _existing(session, claims.hotel_id, received.sha256)
        if found is None:
            raise
        return Stored(found, duplicate=True)
    return Stored(image, duplicate=False)


def get_image(factory: sessionmaker[Session], image_id: int) -> Image | None:
    with factory() as session:
        return live_image(session, image_id)


def hotel_images(
    factory: sessionmaker[Session], hotel_id: int, limit: int, after: int | None
) -> tuple[list[Image], int | None]:
    """A page of the hotel's images by id; the second value is the next page's cursor."""
    query = select(Image).where(Image.hotel_id == hotel_id, Image.deleted_at.is_(None))
    if after is not None:
        query = query.where(Image.image_id > after)
    with factory() as session:
        rows = session.scalars(query.order_by(Image.image_id).limit(limit + 1)).all()
    page = list(rows[:limit])
    return page, (page[-1].image_id if len(rows) > limit else None)


def set_active(
    factory: sessionmaker[Session], settings: Settings, image_id: int, is_active: bool
) -> Image | None:
    with transaction(factory) as session:
        image = live_image(session, image_id, lock=True)
        if image is None:
            return None
        if image.is_active != is_active:
            image.is_active = is_active
            outbox.enqueue(session, image, settings.cdn_url(image_id))
        return image


def delete_image(factory: sessionmaker[Session], settings: Settings, image_id: int) -> bool:
    """Soft delete: the row stays (ids are never reused), the feed says inactive."""
    with transaction(factory) as session:
        image = live_image(session, image_id, lock=True)
        if image is None:
            return False
        image.is_active = False
        image.deleted_at = datetime.now(UTC)
        stats.count_deleted(session, image)
        outbox.enqueue(session, image, settings.cdn_url(image_id))
    return True
