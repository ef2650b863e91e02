"""Admins and the frontend: explained main images, the change feed (reader token) and
overrides (admin token), all from the serving copy the pipeline's publication writes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from main_image.service import serving
from main_image.service.auth import require_admin, require_reader
from main_image.service.routers.deps import Services, services
from main_image.service.schemas import (
    MAX_ID,
    PRINTABLE,
    Change,
    ChangeKey,
    ChangePage,
    ChangeValue,
    MainImage,
    Override,
    OverrideRequest,
    errors,
)

readers = APIRouter(prefix="/v1", tags=["frontend"], dependencies=[Depends(require_reader)])
overrides = APIRouter(prefix="/v1", tags=["admin"], dependencies=[Depends(require_admin)])
HotelPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Svc = Annotated[Services, Depends(services)]


@readers.get(
    "/hotels/{hotel_id}/main-image",
    response_model=MainImage,
    responses=errors(401, 404, 422),
    summary="A hotel's main image, with the terms of its score and its margin",
)
def get_main_image(hotel_id: HotelPath, svc: Svc) -> MainImage:
    with svc.factory() as session:
        found = serving.main_image(session, hotel_id)
    if found is None:
        raise HTTPException(404, f"hotel {hotel_id} has no main image")
    row, candidates = found
    return MainImage(
        hotel_id=row.hotel_id,
        image_id=row.image_id,
        cdn_url=row.cdn_url,
        selection_source=row.selection_source,
        score=row.score,
        scoring_version=row.scoring_version,
        run_id=row.run_id,
        as_of=row.as_of,
        score_terms=serving.score_terms(row),
        margin=row.margin,
        candidate_image_ids=candidates,
    )


@readers.get(
    "/changes",
    response_model=ChangePage,
    responses=errors(400, 401, 422),
    summary="Every main-image change in emission order, a page at a time",
    description=(
        "Poll with the `next_cursor` of the previous page as `after` (none: from the start). "
        "Each change is delivered exactly once to a client that keeps its cursor. "
        f"`limit`: default {serving.DEFAULT_CHANGES_LIMIT}, at most {serving.MAX_CHANGES_LIMIT}."
    ),
)
def list_changes(
    svc: Svc,
    after: Annotated[
        str | None, Query(max_length=64, description="an opaque cursor (next_cursor)")
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=serving.MAX_CHANGES_LIMIT)
    ] = serving.DEFAULT_CHANGES_LIMIT,
) -> ChangePage:
    try:
        position = serving.decode_cursor(after)
    except serving.BadCursor:
        raise HTTPException(400, "bad cursor: pass a next_cursor this service returned") from None
    with svc.factory() as session:
        rows = serving.changes_after(session, position, limit)
    changes = [
        Change(
            change_id=row.change_id,
            run_id=row.run_id,
            change_type=row.change_type,
            key=ChangeKey(hotel_id=row.hotel_id),
            value=None if row.image_id is None else ChangeValue(
                image_id=row.image_id, cdn_url=row.cdn_url or ""),
        )
        for row in rows
    ]  # fmt: skip
    last = rows[-1].change_id if rows else position
    return ChangePage(changes=changes, next_cursor=serving.encode_cursor(last))


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


async def _record(
    svc: Services, request: Request, hotel_id: int, image_id: int | None, set_by: str
) -> Override:
    try:
        record = await run_in_threadpool(
            serving.record_override,
            svc.factory,
            svc.landing,
            hotel_id,
            image_id,
            set_by,
            _client(request),
        )
    except serving.OverrideRejected as rejected:
        raise HTTPException(rejected.status, rejected.detail) from None
    return Override(
        hotel_id=record.hotel_id,
        image_id=record.image_id,
        set_by=record.set_by,
        set_at=record.set_at,
    )


@overrides.put(
    "/hotels/{hotel_id}/main-image-override",
    status_code=202,
    response_model=Override,
    responses=errors(401, 404, 422),
    summary="Set a hotel's main image by hand (applied by the next pipeline run)",
)
async def put_override(
    hotel_id: HotelPath, body: OverrideRequest, svc: Svc, request: Request
) -> Override:
    return await _record(svc, request, hotel_id, body.image_id, body.set_by)


@overrides.delete(
    "/hotels/{hotel_id}/main-image-override",
    status_code=202,
    response_model=Override,
    responses=errors(401, 404, 422),
    summary="Clear a hotel's override (automatic selection at the next pipeline run)",
)
async def delete_override(
    hotel_id: HotelPath,
    svc: Svc,
    request: Request,
    set_by: Annotated[
        str, Query(min_length=1, max_length=200, pattern=PRINTABLE, description="who clears it")
    ] = "admin-api",
) -> Override:
    return await _record(svc, request, hotel_id, None, set_by)
