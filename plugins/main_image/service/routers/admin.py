"""Admins: upload links, the catalog (metadata, listing, deactivation, deletion), stats."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response
from starlette.concurrency import run_in_threadpool

from main_image.service import catalog, stats
from main_image.service.auth import require_admin
from main_image.service.db import now
from main_image.service.routers.deps import Services, metadata, services
from main_image.service.schemas import (
    MAX_ID,
    ActiveUpdate,
    ImageMetadata,
    ImagePage,
    Stats,
    UploadLink,
    UploadLinkRequest,
    errors,
)

router = APIRouter(prefix="/v1", tags=["admin"], dependencies=[Depends(require_admin)])
ImageId = Annotated[int, Path(ge=1, le=MAX_ID)]
HotelPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Svc = Annotated[Services, Depends(services)]


@router.post(
    "/upload-links",
    status_code=201,
    response_model=UploadLink,
    responses=errors(401, 422),
    summary="Create a signed, expiring upload link for a hotel",
)
def create_upload_link(body: UploadLinkRequest, svc: Svc) -> UploadLink:
    token, claims = catalog.create_link(
        svc.factory,
        svc.settings,
        body.hotel_id,
        body.source,
        body.expires_in_seconds,
        body.max_files,
    )
    return UploadLink(
        upload_url=f"{svc.settings.base_url}/v1/uploads/{token}",
        token=token,
        expires_at=claims.expires_at,
        max_files=claims.max_files,
    )


@router.get(
    "/images/{image_id}/metadata",
    response_model=ImageMetadata,
    responses=errors(401, 404, 422),
    summary="Everything the catalog knows about an image",
)
def image_metadata(image_id: ImageId, svc: Svc) -> ImageMetadata:
    image = catalog.get_image(svc.factory, image_id)
    if image is None:
        raise HTTPException(404, "no such image")
    return metadata(image, svc.settings)


def _cursor(text: str | None) -> int | None:
    if text is None:
        return None
    return int(text)  # the Query pattern admits only digits


@router.get(
    "/hotels/{hotel_id}/images",
    response_model=ImagePage,
    responses=errors(401, 422),
    summary="A hotel's images, by image id, a page at a time",
)
def list_hotel_images(
    hotel_id: HotelPath,
    svc: Svc,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[
        str | None,
        Query(pattern=r"^[0-9]{1,16}$", description="the next_cursor of the previous page"),
    ] = None,
) -> ImagePage:
    page, after = catalog.hotel_images(svc.factory, hotel_id, limit, _cursor(cursor))
    return ImagePage(
        images=[metadata(image, svc.settings) for image in page],
        next_cursor=None if after is None else str(after),
    )


@router.patch(
    "/images/{image_id}",
    response_model=ImageMetadata,
    responses=errors(401, 404, 422),
    summary="Activate or deactivate an image (the next pipeline run applies it)",
)
def update_image(image_id: ImageId, body: ActiveUpdate, svc: Svc) -> ImageMetadata:
    image = catalog.set_active(svc.factory, svc.settings, image_id, body.is_active)
    if image is None:
        raise HTTPException(404, "no such image")
    return metadata(image, svc.settings)


@router.delete(
    "/images/{image_id}",
    status_code=204,
    response_class=Response,
    responses=errors(401, 404, 422),
    summary="Delete an image from the catalog (the next pipeline run replaces it if main)",
)
def delete_image(image_id: ImageId, svc: Svc) -> Response:
    if not catalog.delete_image(svc.factory, svc.settings, image_id):
        raise HTTPException(404, "no such image")
    return Response(status_code=204)


@router.get(
    "/stats",
    response_model=Stats,
    responses=errors(401),
    summary="Formats, top cameras and uploads per day (the last 30 days)",
)
async def get_stats(svc: Svc) -> Stats:
    def read() -> Stats:
        with svc.factory() as session:
            return Stats.model_validate(stats.read(session, now().date()))

    return await run_in_threadpool(read)
