"""Write the run's outputs in the SPEC §5 shapes (JSON Lines, like the main_images feed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from main_image.settings import FEEDS


def _copy_jsonl(con: duckdb.DuckDBPyConnection, query: str, params: list[Any], path: Path) -> int:
    """Write the rows of `query` (columns hotel_id, image_id, cdn_url, in the query's order) as
    one ``{"key": {"hotel_id"}, "value": {"image_id", "cdn_url"} | null}`` object per line.

    DuckDB writes the file itself (COPY ... FORMAT json): no row crosses into Python, so a
    snapshot of millions of hotels costs seconds. Returns the number of records written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    target = str(path).replace("'", "''")
    copy = f"""
        copy (
            select
                {{'hotel_id': hotel_id}} as key,
                case
                    when image_id is not null then {{'image_id': image_id, 'cdn_url': cdn_url}}
                end as value
            from ({query}) as rows (hotel_id, image_id, cdn_url)
        ) to '{target}' (format json)
    """
    written = con.execute(copy, params).fetchone()
    return int(written[0]) if written else 0


#: The change records a run exports (parameters: run_id, invocation_seq, after_seq): the
#: run's own, plus those of earlier attempts whose export never happened (a crash after dbt),
#: leaving out attempts up to ``after_seq`` (already exported by a later run when an old run
#: is re-run), in the order they were emitted. Portable SQL: the BigQuery path runs it too.
CHANGES_QUERY = """
    select hotel_id, image_id, cdn_url
    from marts.fct_main_image_changes
    where (
            run_id = ?
            or invocation_seq in (
                select invocation_seq from raw.pipeline_runs
                where exported_at is null and invocation_seq <= ?
            )
        )
        and invocation_seq > ?
    order by invocation_seq, hotel_id
"""


def export_changes(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    run_id: str,
    invocation_seq: int,
    after_seq: int = 0,
) -> int:
    """Write the run's change records (see ``CHANGES_QUERY``); returns how many."""
    return _copy_jsonl(con, CHANGES_QUERY, [run_id, invocation_seq, after_seq], path)


def export_snapshot(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    query = """
        select hotel_id, image_id, cdn_url
        from marts.fct_main_image_snapshot
        order by hotel_id
    """
    return _copy_jsonl(con, query, [], path)


def run_metrics(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any]:
    """The run's metrics object (SPEC §5)."""
    cursor = con.execute("select * from reporting.rpt_run_metrics where run_id = ?", [run_id])
    rows = cursor.fetchall()
    if not rows:
        raise LookupError(f"no metrics for run {run_id!r}")
    columns = [description[0] for description in cursor.description]
    return metrics_object(dict(zip(columns, rows[0], strict=True)))


def metrics_object(record: dict[str, Any]) -> dict[str, Any]:
    """The SPEC §5 metrics object of a reporting.rpt_run_metrics row (any engine)."""
    return {
        "run_id": record["run_id"],
        "as_of": record["as_of"].isoformat(),
        "scoring_version": record["scoring_version"],
        "images_processed": record["images_processed"],
        "hotels_with_images": record["hotels_with_images"],
        "main_images": {
            "new": record["main_images_new"],
            "updated": record["main_images_updated"],
            "deleted": record["main_images_deleted"],
        },
        "rejected_records": {feed: record[f"rejected_{feed}"] for feed in FEEDS},
    }


def export_metrics(metrics: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(metrics) + "\n", encoding="utf-8")
