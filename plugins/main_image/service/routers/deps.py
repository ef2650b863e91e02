"""What every router needs from the application: its services, and the metadata response."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import Request
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from main_image.service.blobs import BlobStore
from main_image.service.db import Image, utc
from main_image.service.outbox import LandingWriter
from main_image.service.schemas import ImageMetadata
from main_image.service.settings import Settings


@dataclass
class Services:
    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    blobs: BlobStore
    landing: LandingWriter
    tmp_dir: Path


def services(request: Request) -> Services:
    return request.app.state.services


def metadata(image: Image, settings: Settings) -> ImageMetadata:
    return ImageMetadata(
        image_id=image.image_id,
        hotel_id=image.hotel_id,
        source=image.source,
        channel=image.channel,
        content_sha256=image.content_sha256,
        hash=image.hash,
        width=image.width,
        height=image.height,
        mime_type=image.mime_type,
        file_size_bytes=image.file_size_bytes,
        camera_make=image.camera_make,
        camera_model=image.camera_model,
        taken_at=utc(image.taken_at),
        gps_lat=image.gps_lat,
        gps_lon=image.gps_lon,
        uploaded_at=utc(image.uploaded_at),
        is_active=image.is_active,
        cdn_url=settings.cdn_url(image.image_id),
    )
