"""The FastAPI application: `create_app(settings)` wires the stores, migrations and drainer."""

from __future__ import annotations

import json
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError

from main_image.service import db, migrations, outbox
from main_image.service.blobs import BlobStore, open_store
from main_image.service.routers import admin, admin_page, partners, public, serving
from main_image.service.routers.deps import Services
from main_image.service.settings import Settings

DESCRIPTION = """Partners upload hotel images through signed, expiring links; each image is
stored once (by SHA-256), described from its own bytes, and handed to the main-image pipeline
as an `images` feed record. Admin routes need `Authorization: Bearer <admin token>`."""


def build_services(
    settings: Settings,
    blobs: BlobStore | None = None,
    landing: outbox.LandingWriter | None = None,
) -> Services:
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    engine = db.make_engine(settings.database_url)
    if settings.auto_migrate:
        migrations.upgrade(engine)
    factory = db.session_factory(engine)
    db.ensure_id_range(factory, settings.image_id_min, settings.image_id_max)
    tmp_dir = Path(tempfile.mkdtemp(prefix="main-image-uploads-"))
    return Services(
        settings=settings,
        engine=engine,
        factory=factory,
        blobs=blobs or open_store(settings.blob_uri),
        landing=landing or outbox.open_landing(settings.landing_uri),
        tmp_dir=tmp_dir,
    )


def create_app(
    settings: Settings,
    blobs: BlobStore | None = None,
    landing: outbox.LandingWriter | None = None,
) -> FastAPI:
    """The application; the outbox drainer runs while it is served (interval > 0)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc: Services = app.state.services
        drainer = None
        if settings.outbox_interval_seconds > 0:
            drainer = outbox.Drainer(
                svc.factory,
                svc.landing,
                settings.outbox_interval_seconds,
                settings.outbox_batch_size,
            )
            drainer.start()
        try:
            yield
        finally:
            if drainer is not None:
                drainer.stop()
            svc.engine.dispose()

    app = FastAPI(
        title="main-image service",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.services = build_services(settings, blobs, landing)
    for router in (public.router, partners.router, admin.router, serving.readers,
                   serving.overrides, admin_page.router):
        app.include_router(router)
    app.add_exception_handler(RequestValidationError, validation_error)
    return app


async def validation_error(_request: Request, error: Exception) -> Response:
    """FastAPI's 422 body, rendered ASCII-safe: the echoed input may hold a lone surrogate
    ("\\ud800" is valid JSON but no UTF-8), which the default handler cannot encode (a 500)."""
    assert isinstance(error, RequestValidationError)
    body = json.dumps({"detail": jsonable_encoder(error.errors())}, ensure_ascii=True)
    return Response(body, status_code=422, media_type="application/json")
