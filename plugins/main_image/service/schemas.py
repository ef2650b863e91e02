"""Pydantic models of every request and response body (the OpenAPI document's schemas).

Request bodies are strict: a string is not a number and "true" is not a boolean, so what the
schema calls invalid is answered 422, never accepted by coercion.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: Ids are at most 2**53 - 1, the largest integer every JSON client reads exactly.
MAX_ID = 2**53 - 1
THIRTY_DAYS = 30 * 24 * 3600


HotelId = Annotated[int, Field(ge=1, le=MAX_ID)]
#: printable text, not only spaces (who delivers images, who sets an override)
PRINTABLE = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"


def json_integer(value: Any) -> Any:
    """7 and 7.0 are the same JSON number; "7" and true are not numbers."""
    if isinstance(value, str | bool):
        raise ValueError("must be a JSON integer")
    return value


def json_text(value: Any) -> Any:
    """A JSON string that a database can store: "7" is text, 7 is not; a lone surrogate
    (\\ud800, valid JSON) is no UTF-8."""
    if not isinstance(value, str):
        raise ValueError("must be a JSON string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value
Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class Error(BaseModel):
    """Every 4xx answer: one readable message, or FastAPI's list of validation errors."""

    detail: str | list[dict[str, Any]]


class UploadLinkRequest(BaseModel):
    hotel_id: HotelId
    source: Annotated[
        str,
        Field(
            min_length=1,
            max_length=200,
            pattern=PRINTABLE,
            description="who delivers the images: printable text, not only spaces",
        ),
    ]
    expires_in_seconds: Annotated[int, Field(gt=0, le=THIRTY_DAYS)]
    max_files: Annotated[int, Field(ge=1, le=10_000)] | None = None

    @field_validator("hotel_id", "expires_in_seconds", "max_files", mode="before")
    @classmethod
    def json_integer(cls, value: Any) -> Any:
        return json_integer(value)

    @field_validator("source", mode="before")
    @classmethod
    def json_string(cls, value: Any) -> Any:
        return json_text(value)


class UploadLink(BaseModel):
    upload_url: str
    token: str
    expires_at: datetime
    max_files: int


class UploadedImage(BaseModel):
    image_id: int
    hotel_id: int
    content_sha256: Sha256
    duplicate: bool
    width: int
    height: int
    mime_type: str
    file_size_bytes: int


class UploadResult(BaseModel):
    images: list[UploadedImage]


class ImageMetadata(BaseModel):
    image_id: int
    hotel_id: int
    source: str
    channel: str
    content_sha256: Sha256
    hash: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]
    width: int
    height: int
    mime_type: str
    file_size_bytes: int
    camera_make: str | None
    camera_model: str | None
    taken_at: datetime | None
    gps_lat: float | None
    gps_lon: float | None
    uploaded_at: datetime
    is_active: bool
    cdn_url: str


class ImagePage(BaseModel):
    images: list[ImageMetadata]
    next_cursor: str | None


class ActiveUpdate(BaseModel):
    model_config = ConfigDict(strict=True)

    is_active: bool


class CameraCount(BaseModel):
    camera_model: str
    images: int


class DayCount(BaseModel):
    date: date
    uploads: int


class Stats(BaseModel):
    formats: dict[str, int]
    most_popular_format: str | None
    top_cameras: list[CameraCount]
    uploads_per_day: list[DayCount]


class MainImage(BaseModel):
    """A hotel's published main image and why it won (from the serving copy)."""

    hotel_id: int
    image_id: int
    cdn_url: str
    selection_source: Annotated[
        str | None, Field(description="auto (rank 1), admin (an override) or feed")
    ]
    score: float | None
    scoring_version: str
    run_id: Annotated[str, Field(description="the run that last recomputed the hotel")]
    as_of: Annotated[date, Field(description="the date score and terms were computed for")]
    score_terms: Annotated[
        dict[str, float | None] | None,
        Field(description="the scoring version's terms of the score (s_res, s_ar, s_fresh, "
              "s_tag for v1)"),
    ]
    margin: Annotated[
        float | None,
        Field(description="score minus the best other candidate's; null when alone"),
    ]
    candidate_image_ids: Annotated[
        list[int], Field(description="the hotel's candidates, best first")
    ]


class OverrideRequest(BaseModel):
    image_id: Annotated[int, Field(ge=1, le=MAX_ID)]
    set_by: Annotated[
        str,
        Field(
            min_length=1,
            max_length=200,
            pattern=PRINTABLE,
            description="who sets it: printable text, not only spaces",
        ),
    ]

    @field_validator("image_id", mode="before")
    @classmethod
    def json_integer(cls, value: Any) -> Any:
        return json_integer(value)

    @field_validator("set_by", mode="before")
    @classmethod
    def json_string(cls, value: Any) -> Any:
        return json_text(value)


class Override(BaseModel):
    """An override as recorded in the landing zone; the next pipeline run applies it."""

    hotel_id: int
    image_id: Annotated[int | None, Field(description="null: the override is cleared")]
    set_by: str
    set_at: datetime
    applies: Annotated[str, Field(description="when it takes effect")] = "at the next run"


class ChangeKey(BaseModel):
    hotel_id: int


class ChangeValue(BaseModel):
    image_id: int
    cdn_url: str


class Change(BaseModel):
    change_id: Annotated[int, Field(description="emission order, increasing")]
    run_id: str
    change_type: Annotated[str, Field(description="new, updated or deleted")]
    key: ChangeKey
    value: Annotated[ChangeValue | None, Field(description="null for deleted")]


class ChangePage(BaseModel):
    changes: list[Change]
    next_cursor: Annotated[
        str, Field(description="pass as `after` to get what follows (also when this page is "
                   "empty: poll with it)")
    ]


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The documented error answers of an operation (all with the `Error` body)."""
    return {code: {"model": Error} for code in codes}
