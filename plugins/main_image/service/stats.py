"""GET /v1/stats from three summary tables, kept in the transaction of every change.

``stats_formats`` (live images per MIME type), ``stats_cameras`` (live images per camera
model) and ``stats_days`` (uploads per UTC day) have one row per format, model or day, so the
endpoint reads a few hundred rows whatever the size of the catalog (docs/performance.md has
the figures at 1M images). Rows are updated in a fixed order (day, format, camera), so
concurrent uploads never deadlock. `rebuild` recomputes them from ``images`` (a repair tool).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from main_image.service.db import Image, StatsCamera, StatsDay, StatsFormat, utc

TOP_CAMERAS = 10
DAYS = 30


def _bump(session: Session, model: type, key: str, value: Any, column: str, delta: int) -> None:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(model).values({key: value, column: max(delta, 0)})
    statement = statement.on_conflict_do_update(
        index_elements=[key], set_={column: getattr(model, column) + delta}
    )
    session.execute(statement)


def count_new(session: Session, image: Image) -> None:
    session.flush()
    _bump(session, StatsDay, "day", utc(image.uploaded_at).date(), "uploads", 1)
    _bump(session, StatsFormat, "mime_type", image.mime_type, "images", 1)
    if image.camera_model:
        _bump(session, StatsCamera, "camera_model", image.camera_model, "images", 1)


def count_deleted(session: Session, image: Image) -> None:
    """A deleted image leaves the format and camera counts; its upload day keeps it."""
    _bump(session, StatsFormat, "mime_type", image.mime_type, "images", -1)
    if image.camera_model:
        _bump(session, StatsCamera, "camera_model", image.camera_model, "images", -1)


def read(session: Session, today: date) -> dict[str, Any]:
    formats = {
        mime: int(n)
        for mime, n in session.execute(
            select(StatsFormat.mime_type, StatsFormat.images)
            .where(StatsFormat.images > 0)
            .order_by(StatsFormat.mime_type)
        )
    }
    cameras = session.execute(
        select(StatsCamera.camera_model, StatsCamera.images)
        .where(StatsCamera.images > 0)
        .order_by(StatsCamera.images.desc(), StatsCamera.camera_model)
        .limit(TOP_CAMERAS)
    ).all()
    first = today - timedelta(days=DAYS - 1)
    per_day = dict(
        session.execute(
            select(StatsDay.day, StatsDay.uploads).where(StatsDay.day.between(first, today))
        ).all()
    )
    most_popular = min(formats, key=lambda mime: (-formats[mime], mime)) if formats else None
    return {
        "formats": formats,
        "most_popular_format": most_popular,
        "top_cameras": [{"camera_model": m, "images": int(n)} for m, n in cameras],
        "uploads_per_day": [
            {"date": day, "uploads": int(per_day.get(day, 0))}
            for day in (first + timedelta(days=offset) for offset in range(DAYS))
        ],
    }


def rebuild(session: Session) -> None:
    """Recompute the summary tables from the catalog (after a bulk import, or to repair)."""
    for model in (StatsDay, StatsFormat, StatsCamera):
        session.execute(delete(model))
    live = Image.deleted_at.is_(None)
    day = func.date(Image.uploaded_at)
    days = session.execute(select(day, func.count()).group_by(day)).all()
    session.add_all(StatsDay(day=_as_date(d), uploads=n) for d, n in days)
    formats = session.execute(
        select(Image.mime_type, func.count()).where(live).group_by(Image.mime_type)
    ).all()
    session.add_all(StatsFormat(mime_type=m, images=n) for m, n in formats)
    cameras = session.execute(
        select(Image.camera_model, func.count())
        .where(live, Image.camera_model.is_not(None))
        .group_by(Image.camera_model)
    ).all()
    session.add_all(StatsCamera(camera_model=m, images=n) for m, n in cameras)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
