"""What the CDN fronts: the bytes of an image, no credentials."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Response
from fastapi.responses import StreamingResponse

from main_image.service import catalog
from main_image.service.routers.deps import Services, services
from main_image.service.schemas import MAX_ID, errors

router = APIRouter(prefix="/v1", tags=["public"])
ImageId = Annotated[int, Path(ge=1, le=MAX_ID)]
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")


@router.get(
    "/images/{image_id}",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "the image's bytes",
            "content": {
                kind: {"schema": {"type": "string", "format": "binary"}} for kind in IMAGE_TYPES
            },
        },
        304: {"description": "not modified (If-None-Match matched the ETag)"},
        **errors(404),
    },
    summary="An image's bytes, with their Content-Type and ETag",
)
def image_bytes(
    image_id: ImageId,
    svc: Annotated[Services, Depends(services)],
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    image = catalog.get_image(svc.factory, image_id)
    if image is None:
        raise HTTPException(404, "no such image")
    etag = f'"{image.content_sha256}"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=31536000, immutable"}
    if if_none_match and etag in {tag.strip() for tag in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    try:
        chunks = svc.blobs.stream(image.content_sha256)
    except FileNotFoundError:
        raise HTTPException(404, "the image's bytes are missing from the blob store") from None
    headers["Content-Length"] = str(image.file_size_bytes)
    return StreamingResponse(chunks, media_type=image.mime_type, headers=headers)
