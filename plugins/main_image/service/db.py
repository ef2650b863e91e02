"""The metadata store: SQLAlchemy 2 models, engine and sessions, image id allocation.

The schema is created and changed only by the Alembic revisions in ``migrations/``; the models
here describe it for queries. SQLite (the default, one file) and PostgreSQL (production) run
the same code; the tests run the whole suite on both.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    create_engine,
    event,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

#: BIGINT everywhere, but INTEGER PRIMARY KEY on SQLite so that it autoincrements.
Id = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    pass


class Image(Base):
    __tablename__ = "images"

    image_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hotel_id: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16), default="upload")
    link_id: Mapped[str | None] = mapped_column(String(32))
    content_sha256: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(16))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    mime_type: Mapped[str] = mapped_column(String(32))
    file_size_bytes: Mapped[int] = mapped_column(BigInteger)
    camera_make: Mapped[str | None] = mapped_column(String(200))
    camera_model: Mapped[str | None] = mapped_column(String(200))
    taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    gps_lat: Mapped[float | None] = mapped_column(Float)
    gps_lon: Mapped[float | None] = mapped_column(Float)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_images_hotel_id_image_id", "hotel_id", "image_id"),
        Index(
            "uq_images_live_hotel_content",
            "hotel_id",
            "content_sha256",
            unique=True,
            sqlite_where=text("deleted_at IS NULL"),
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )


class UploadLink(Base):
    __tablename__ = "upload_links"

    link_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    hotel_id: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    max_files: Mapped[int] = mapped_column(Integer)
    files_used: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OutboxRecord(Base):
    """An ``images`` feed record written in the transaction of its change, until drained."""

    __tablename__ = "outbox"
    #: Outbox ids name the landing files, so they are never reused, even after every row was
    #: drained (SQLite reuses the largest rowid + 1 without AUTOINCREMENT).
    __table_args__: ClassVar[dict[str, bool]] = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    image_id: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IdAllocator(Base):
    __tablename__ = "id_allocator"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_id: Mapped[int] = mapped_column(BigInteger)
    max_id: Mapped[int] = mapped_column(BigInteger)


class StatsFormat(Base):
    __tablename__ = "stats_formats"

    mime_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    images: Mapped[int] = mapped_column(BigInteger, default=0)


class StatsCamera(Base):
    __tablename__ = "stats_cameras"

    camera_model: Mapped[str] = mapped_column(String(200), primary_key=True)
    images: Mapped[int] = mapped_column(BigInteger, default=0)


class StatsDay(Base):
    __tablename__ = "stats_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    uploads: Mapped[int] = mapped_column(BigInteger, default=0)



class ServingMainImage(Base):
    """The serving copy of a hotel's published main image and why it won (one row per hotel)."""

    __tablename__ = "serving_main_images"

    hotel_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    image_id: Mapped[int] = mapped_column(BigInteger)
    cdn_url: Mapped[str] = mapped_column(Text)
    selection_source: Mapped[str | None] = mapped_column(String(16))
    score: Mapped[float | None] = mapped_column(Float)
    score_terms: Mapped[str | None] = mapped_column(Text)  # a JSON object
    margin: Mapped[float | None] = mapped_column(Float)
    scoring_version: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str] = mapped_column(String(250))
    as_of: Mapped[date] = mapped_column(Date)
    invocation_seq: Mapped[int] = mapped_column(BigInteger)


class ServingCandidate(Base):
    """Every image the serving copy has seen as a candidate, and whether it still is one."""

    __tablename__ = "serving_candidates"

    image_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hotel_id: Mapped[int] = mapped_column(BigInteger)
    image_rank: Mapped[int | None] = mapped_column(Integer)  # null: no longer a candidate

    __table_args__ = (Index("ix_serving_candidates_hotel_id", "hotel_id"),)


class ServingChange(Base):
    """The change log the frontend polls: change_id is the emission order (the cursor)."""

    __tablename__ = "serving_changes"
    __table_args__: ClassVar[tuple[object, ...]] = (
        Index("uq_serving_changes_run_position", "run_id", "run_position", unique=True),
        {"sqlite_autoincrement": True},
    )

    change_id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(250))
    run_position: Mapped[int] = mapped_column(Integer)  # its line in the run's changes export
    change_type: Mapped[str] = mapped_column(String(16))
    hotel_id: Mapped[int] = mapped_column(BigInteger)
    image_id: Mapped[int | None] = mapped_column(BigInteger)
    cdn_url: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ServingRun(Base):
    """How far each published run is copied: its changes (a count) and its latest attempt."""

    __tablename__ = "serving_runs"

    run_id: Mapped[str] = mapped_column(String(250), primary_key=True)
    invocation_seq: Mapped[int] = mapped_column(BigInteger)
    changes: Mapped[int] = mapped_column(Integer)
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ServingState(Base):
    """Named watermarks of the serving copy (``explanations``: the last attempt copied;
    ``warehouse``: which warehouse it is a copy of, its first run and when it started)."""

    __tablename__ = "serving_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    invocation_seq: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[str | None] = mapped_column(String(500))


class OverrideAudit(Base):
    """Every override set or cleared through the API: who, when, what, from which address."""

    __tablename__ = "override_audit"
    __table_args__: ClassVar[dict[str, bool]] = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    hotel_id: Mapped[int] = mapped_column(BigInteger, index=True)
    image_id: Mapped[int | None] = mapped_column(BigInteger)  # null: cleared
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    landing_file: Mapped[str] = mapped_column(Text)

def utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything stored is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def now() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(connection, _record) -> None:  # WAL: readers never wait for the writer
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        connect_args={"options": "-c timezone=UTC"} if url.startswith("postgresql") else {},
    )


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session, session.begin():
        yield session


class IdRangeExhausted(RuntimeError):
    pass


def ensure_id_range(factory: sessionmaker[Session], minimum: int, maximum: int) -> None:
    """Create or widen the image id range; ids already handed out are never handed out again."""
    with transaction(factory) as session:
        row = session.get(IdAllocator, "images")
        if row is None:
            session.add(IdAllocator(name="images", next_id=minimum, max_id=maximum))
        else:
            row.next_id = max(row.next_id, minimum)
            row.max_id = maximum


def allocate_ids(factory: sessionmaker[Session], count: int) -> list[int]:
    """`count` fresh image ids, in a short transaction of their own (gaps are harmless)."""
    with transaction(factory) as session:
        statement = (
            update(IdAllocator)
            .where(IdAllocator.name == "images")
            .where(IdAllocator.next_id + count - 1 <= IdAllocator.max_id)
            .values(next_id=IdAllocator.next_id + count)
            .returning(IdAllocator.next_id)
        )
        after = session.execute(statement).scalar_one_or_none()
    if after is None:
        raise IdRangeExhausted("the configured image id range is used up")
    return list(range(after - count, after))


def table_names() -> list[str]:
    return list(Base.metadata.tables)


def live_image(session: Session, image_id: int, lock: bool = False) -> Image | None:
    """The image unless deleted; `lock` holds its row until commit (PostgreSQL), so concurrent
    changes of one image are serialized and their feed records keep their order."""
    query = select(Image).where(Image.image_id == image_id, Image.deleted_at.is_(None))
    return session.scalars(query.with_for_update() if lock else query).one_or_none()
