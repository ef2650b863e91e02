"""Publishing into the serving copy: the image service's database (contract §7).

After a run's files are published, ``publish_serving`` brings the service's tables up to the
warehouse in one transaction:

* ``serving_changes``: every published run's changes, in the order of its changes export
  (``exports.SERVING_CHANGES_QUERY``, the same rule and order as the file). A run's changes are
  keyed by (run id, line of the export), so publishing a run again, or a cleared and re-run
  Airflow run, adds only the lines that are new (a later attempt that emitted more appends
  them); ``change_id`` numbers them in the order they were copied, the frontend's cursor.
* ``serving_main_images`` and ``serving_candidates``: the rows of
  ``marts.fct_main_image_explanations`` written by attempts after the last one copied (the
  hotels those runs recomputed): main image, score terms, margin and candidates. A hotel left
  without a main image is removed.

Every published run that is not fully copied is copied, oldest first, so a crash between the
files and this step (or a database that was down) is caught up by the next publication; and
nothing here reads more than what changed. The service never opens the warehouse.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from main_image.engines.base import Warehouse
from main_image.exports import SERVING_CHANGES_QUERY
from main_image.settings import Progress

#: Rows per statement when copying (a bound on parameters per statement on both databases).
BATCH = 500
EXPLANATIONS_WATERMARK = "explanations"
WAREHOUSE_IDENTITY = "warehouse"
SERVING_TABLES = ("serving_changes", "serving_runs", "serving_main_images", "serving_candidates",
                  "serving_state")  # fmt: skip

EXPLANATIONS_QUERY = """
    select hotel_id, image_id, cdn_url, selection_source, score, score_terms, margin,
           candidate_image_ids, scoring_version, run_id, as_of, invocation_seq
    from marts.fct_main_image_explanations
    where invocation_seq > ?
    order by hotel_id
"""

PUBLISHED_RUNS_QUERY = """
    select run_id, max(invocation_seq) as invocation_seq
    from raw.pipeline_runs
    where exported_at is not null
    group by run_id
    order by max(invocation_seq)
"""


class ServingCopyMismatch(RuntimeError):
    """The serving copy was written from another warehouse (its first run differs)."""


@dataclass(frozen=True)
class ServingPublished:
    runs: int  # runs whose changes were (partly) copied this time
    changes: int  # change records added to the change log
    hotels: int  # hotels whose main image row was written or removed
    seconds: float


def _engine(database_url: str) -> Engine:
    from main_image.service import db, migrations

    if database_url.startswith("sqlite:///"):
        from pathlib import Path

        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = db.make_engine(database_url)
    migrations.upgrade(engine)  # the pipeline may publish before the service ever started
    return engine


def publish_serving(
    wh: Warehouse, database_url: str, progress: Progress | None = None
) -> ServingPublished:
    """Copy what the serving copy lacks from the warehouse, in one transaction."""
    started = time.perf_counter()
    engine = _engine(database_url)
    try:
        with Session(engine) as session, session.begin():
            _check_identity(session, wh, database_url)
            runs, changes = _copy_changes(session, wh)
            hotels = _copy_explanations(session, wh)
    finally:
        engine.dispose()
    result = ServingPublished(runs, changes, hotels, time.perf_counter() - started)
    if progress:
        progress(
            f"serving copy: {changes:,} changes of {runs} run(s), {hotels:,} hotels' main "
            f"images -> {_redacted(database_url)} in {result.seconds:.2f}s"
        )
    return result


def reset_serving_copy(database_url: str) -> None:
    """Empty the serving copy (not the catalog, nor the override audit): for a warehouse built
    again from scratch, as the demo does. The frontend must then read the feed from the start."""
    from sqlalchemy import text

    engine = _engine(database_url)
    try:
        with engine.begin() as connection:
            for table in SERVING_TABLES:
                connection.execute(text(f"delete from {table}"))  # nosec B608: fixed table names
    finally:
        engine.dispose()


def _check_identity(session: Session, wh: Warehouse, database_url: str) -> None:
    """Refuse to mix two warehouses in one serving copy: the change log's positions and the
    watermarks are a warehouse's. The identity is the first run's id and start time."""
    from main_image.service.db import ServingState

    first = wh.fetchall("select run_id, started_at from raw.pipeline_runs where invocation_seq = 1")
    identity = f"{first[0][0]} started {first[0][1]}" if first else "empty"
    state = session.get(ServingState, WAREHOUSE_IDENTITY)
    if state is None:
        session.add(ServingState(name=WAREHOUSE_IDENTITY, invocation_seq=0, value=identity))
    elif state.value != identity:
        raise ServingCopyMismatch(
            f"the serving copy in {_redacted(database_url)} was published from another "
            f"warehouse (first run {state.value}; this one: {identity}): give this warehouse "
            "its own database, or empty the copy (main_image.serving_publish.reset_serving_copy)"
        )


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _copy_changes(session: Session, wh: Warehouse) -> tuple[int, int]:
    from main_image.service.db import ServingChange, ServingRun, now

    copied = {row.run_id: row for row in session.scalars(select(ServingRun))}
    runs = changes = 0
    for run_id, invocation_seq in wh.fetchall(PUBLISHED_RUNS_QUERY):
        known = copied.get(run_id)
        if known is not None and known.invocation_seq >= invocation_seq:
            continue
        records = wh.fetchall(SERVING_CHANGES_QUERY, [invocation_seq, invocation_seq, run_id])
        start = known.changes if known is not None else 0
        stamp = now()
        fresh = [
            {"run_id": run_id, "run_position": position, "change_type": change_type,
             "hotel_id": hotel_id, "image_id": image_id, "cdn_url": cdn_url,
             "published_at": stamp}
            for position, (change_type, hotel_id, image_id, cdn_url)
            in enumerate(records[start:], start=start)
        ]  # fmt: skip
        for chunk in _chunks(fresh):
            session.execute(ServingChange.__table__.insert(), chunk)
        if known is None:
            session.add(
                ServingRun(
                    run_id=run_id,
                    invocation_seq=invocation_seq,
                    changes=len(records),
                    synced_at=stamp,
                )
            )
        else:
            known.invocation_seq, known.changes, known.synced_at = (
                invocation_seq,
                max(known.changes, len(records)),
                stamp,
            )
        runs += 1
        changes += len(fresh)
    return runs, changes


def _copy_explanations(session: Session, wh: Warehouse) -> int:
    from main_image.service.db import ServingState

    state = session.get(ServingState, EXPLANATIONS_WATERMARK)
    after = state.invocation_seq if state is not None else 0
    rows = wh.fetchall(EXPLANATIONS_QUERY, [after])
    if not rows:
        return 0
    for chunk in _chunks(rows):
        _write_hotels(session, chunk)
    if len(rows) >= ANALYZE_AFTER_HOTELS:
        _analyze(session)
    latest = max(row[11] for row in rows)
    if state is None:
        session.add(ServingState(name=EXPLANATIONS_WATERMARK, invocation_seq=latest))
    else:
        state.invocation_seq = max(after, latest)
    return len(rows)


def _write_hotels(session: Session, rows: Sequence[tuple]) -> None:
    from main_image.service.db import ServingCandidate, ServingMainImage

    hotel_ids = [row[0] for row in rows]
    session.execute(delete(ServingMainImage).where(ServingMainImage.hotel_id.in_(hotel_ids)))
    session.execute(
        update(ServingCandidate)
        .where(ServingCandidate.hotel_id.in_(hotel_ids))
        .values(image_rank=None)
    )
    main_images, candidates = [], []
    for (hotel_id, image_id, cdn_url, source, score, terms, margin, candidate_ids, version,
         run_id, as_of, invocation_seq) in rows:  # fmt: skip
        for rank, candidate in enumerate(_ids(candidate_ids), start=1):
            candidates.append({"image_id": candidate, "hotel_id": hotel_id, "image_rank": rank})
        if image_id is None:
            continue
        main_images.append({
            "hotel_id": hotel_id, "image_id": image_id, "cdn_url": cdn_url,
            "selection_source": source, "score": score, "score_terms": _terms(terms),
            "margin": margin, "scoring_version": version, "run_id": run_id,
            "as_of": _date(as_of), "invocation_seq": invocation_seq,
        })  # fmt: skip
    if main_images:
        session.execute(ServingMainImage.__table__.insert(), main_images)
    if candidates:
        _upsert_candidates(session, candidates)


def _upsert_candidates(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert or move candidates (an image id keeps one row: its latest hotel and rank)."""
    from main_image.service.db import ServingCandidate

    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(ServingCandidate)
    statement = statement.on_conflict_do_update(
        index_elements=[ServingCandidate.image_id],
        set_={"hotel_id": statement.excluded.hotel_id, "image_rank": statement.excluded.image_rank},
    )
    session.execute(statement, rows)


#: A copy of at least this many hotels (the initial copy, a full rebuild) ends with ANALYZE on
#: PostgreSQL: without statistics (autovacuum analyzes only some time after the commit) the
#: planner scans all of serving_candidates for each batch of the next publication's
#: ``hotel_id in (...)`` (benchmarks/serving.py: 1% of 1M hotels took 7.7 s, 2.1 s after it).
ANALYZE_AFTER_HOTELS = 100_000


def _analyze(session: Session) -> None:
    """Fresh planner statistics, in the copy's transaction (ANALYZE counts its own rows)."""
    from sqlalchemy import text

    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE serving_main_images, serving_candidates, serving_changes"))


def _ids(text: str | None) -> Iterator[int]:
    if text:
        yield from (int(part) for part in text.split(",") if part)


def _terms(terms: Any) -> str | None:
    """The terms as compact JSON text (BigQuery may hand back a parsed object)."""
    if terms is None:
        return None
    value = json.loads(terms) if isinstance(terms, str) else terms
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _chunks(rows: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]
