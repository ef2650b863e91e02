"""Partners: uploads through a signed link (the link's token is the credential)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from starlette.concurrency import run_in_threadpool

from main_image.service import catalog, imaging, streaming
from main_image.service.db import IdRangeExhausted
from main_image.service.routers.deps import Services, services
from main_image.service.schemas import UploadedImage, UploadResult, errors

router = APIRouter(prefix="/v1", tags=["partners"])
Token = Annotated[str, Path(min_length=1, max_length=2048)]
MULTIPART = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["files"],
                    "properties": {
                        "files": {
                            "type": "array",
                            "minItems": 1,
                            "items": {"type": "string", "format": "binary"},
                        }
                    },
                }
            }
        },
    }
}


def _inspect_all(svc: Services, received: list[streaming.ReceivedFile]) -> list[imaging.ImageInfo]:
    infos = []
    for number, item in enumerate(received, start=1):
        try:
            infos.append(imaging.inspect(item.path, svc.settings.max_image_pixels))
        except imaging.NotAnImage as error:
            name = f" ({item.filename})" if item.filename else ""
            raise HTTPException(415, f"file {number}{name}: {error}") from None
    return infos


def _store_all(svc: Services, claims, received, infos) -> list[UploadedImage]:
    catalog.reserve(svc.factory, claims, len(received))
    results = []
    for item, info in zip(received, infos, strict=True):
        stored = catalog.store_upload(svc.factory, svc.settings, svc.blobs, claims, item, info)
        image = stored.image
        results.append(
            UploadedImage(
                image_id=image.image_id,
                hotel_id=image.hotel_id,
                content_sha256=image.content_sha256,
                duplicate=stored.duplicate,
                width=image.width,
                height=image.height,
                mime_type=image.mime_type,
                file_size_bytes=image.file_size_bytes,
            )
        )
    return results


@router.post(
    "/uploads/{token}",
    status_code=201,
    response_model=UploadResult,
    openapi_extra=MULTIPART,
    responses=errors(401, 410, 413, 415, 422, 503),
    summary="Upload one or many images (multipart field `files`) through an upload link",
    description="All files of a request are accepted or none: one file that is not a real "
    "JPEG, PNG, WebP or GIF refuses the request (415). Each file counts against the link's "
    "budget; the same bytes uploaded again for the hotel return the existing image "
    "(`duplicate: true`).",
)
async def upload(
    token: Token, request: Request, svc: Annotated[Services, Depends(services)]
) -> UploadResult:
    settings = svc.settings
    try:
        claims = await run_in_threadpool(catalog.check_link, svc.factory, settings, token)
    except catalog.LinkRefused as refused:
        raise HTTPException(refused.status, refused.detail) from None
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.max_request_bytes:
        raise HTTPException(413, f"the request is over {settings.max_request_bytes:,} bytes")
    try:
        received = await streaming.receive(
            request.stream(),
            request.headers.get("content-type"),
            svc.tmp_dir,
            settings.max_file_bytes,
            settings.max_request_bytes,
            settings.max_files_per_request,
        )
    except streaming.TooLarge as error:
        raise HTTPException(413, str(error)) from None
    except streaming.BadUpload as error:
        raise HTTPException(422, str(error)) from None
    try:
        infos = await run_in_threadpool(_inspect_all, svc, received)
        images = await run_in_threadpool(_store_all, svc, claims, received, infos)
    except catalog.LinkRefused as refused:
        raise HTTPException(refused.status, refused.detail) from None
    except IdRangeExhausted as error:  # an operator must widen MAIN_IMAGE_IMAGE_ID_MAX
        raise HTTPException(503, str(error)) from None
    finally:
        streaming.discard(received)
    return UploadResult(images=images)
