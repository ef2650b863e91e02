"""The embedded DuckDB warehouse: the raw layer's tables and the run registry.

The raw layer and ``raw.pipeline_runs`` belong to the loader and the driver; everything else is
built by dbt. DuckDB allows one writing process per file, so callers open a connection, do their
work and close it before dbt runs (see ``connect``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from main_image.settings import FEEDS


def raw_line_compression() -> str:
    """How DuckDB stores the text of the raw lines (MAIN_IMAGE_RAW_COMPRESSION), fixed when the
    raw tables are created: `uncompressed` (default) writes them several times faster than
    DuckDB's automatic choice, which analyses the text with every method, for ~3x the disk space
    of the raw layer; `auto` keeps the raw layer compact. The other columns are compressed
    (their values repeat within a file)."""
    value = os.environ.get("MAIN_IMAGE_RAW_COMPRESSION", "uncompressed").strip().lower()
    if value not in {"uncompressed", "auto"}:
        raise ValueError(f"MAIN_IMAGE_RAW_COMPRESSION must be uncompressed or auto, not {value!r}")
    return value


def raw_line_columns(compression: str = "uncompressed") -> str:
    storage = " using compression uncompressed" if compression == "uncompressed" else ""
    return f"""
    file_seq bigint not null,
    line_number bigint not null,
    file_name varchar not null,
    line varchar{storage},
    run_id varchar not null,
    invocation_seq bigint not null,
    loaded_at timestamp not null
"""


def raw_ddl(compression: str = "uncompressed") -> list[str]:
    """The raw layer's tables (created when missing)."""
    return [
        "create schema if not exists raw",
        *(
            f"create table if not exists raw.{feed} ({raw_line_columns(compression)})"
            for feed in FEEDS
        ),
        *_REGISTRY_DDL,
    ]


_REGISTRY_DDL = [
    """
    create table if not exists raw.load_manifest (
        file_seq bigint primary key,
        feed varchar not null,
        file_name varchar not null,
        content_sha256 varchar not null,
        line_count bigint not null,
        byte_count bigint not null,
        run_id varchar not null,
        invocation_seq bigint not null,
        loaded_at timestamp not null
    )
    """,
    """
    create table if not exists raw.pipeline_runs (
        invocation_seq bigint primary key,
        run_id varchar not null,
        as_of date not null,
        scoring_version varchar not null,
        tag_version_pin varchar,
        obiq_version_pin varchar,
        full_refresh boolean not null,
        file_seq_watermark bigint,
        started_at timestamp not null,
        selection_completed_at timestamp,
        exported_at timestamp
    )
    """,
]

#: The raw layer with the default storage of the lines.
RAW_DDL = raw_ddl()


@dataclass(frozen=True)
class RunParameters:
    """What a run is asked to do; recorded in ``raw.pipeline_runs``."""

    run_id: str
    as_of: date
    scoring_version: str = "v1"
    tag_version_pin: str | None = None
    obiq_version_pin: str | None = None
    full_refresh: bool = False
    #: a scoring version ranked beside the active one, reported in rpt_scoring_shadow only
    shadow_scoring_version: str | None = None


def scalar(con: duckdb.DuckDBPyConnection, query: str, params: list[Any] | None = None) -> Any:
    """The first column of the first row of `query` (None when it returns no row)."""
    rows = con.execute(query, params or []).fetchall()
    return rows[0][0] if rows else None


def duckdb_config() -> dict[str, str]:
    """The memory limit, threads and spill folder of dbt's DuckDB target (profiles.yml reads the
    same environment variables), so the loader and the exports stay within the same bounds."""
    config = {
        "memory_limit": os.environ.get("MAIN_IMAGE_DUCKDB_MEMORY_LIMIT", "8GB"),
        "threads": os.environ.get("MAIN_IMAGE_DUCKDB_THREADS", "2"),
    }
    if os.environ.get("MAIN_IMAGE_DUCKDB_TEMP_DIR"):
        config["temp_directory"] = os.environ["MAIN_IMAGE_DUCKDB_TEMP_DIR"]
    return config


@contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse file (created with its raw layer if missing) and close it afterwards."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only, config=duckdb_config())
    try:
        if not read_only:
            for statement in raw_ddl(raw_line_compression()):
                con.execute(statement)
        yield con
    finally:
        con.close()


def start_invocation(con: duckdb.DuckDBPyConnection, params: RunParameters) -> int:
    """Register a new attempt of a run and return its invocation_seq."""
    seq = scalar(con, "select coalesce(max(invocation_seq), 0) + 1 from raw.pipeline_runs")
    con.execute(
        """
        insert into raw.pipeline_runs (
            invocation_seq, run_id, as_of, scoring_version, tag_version_pin, obiq_version_pin,
            full_refresh, started_at
        ) values (?, ?, ?, ?, ?, ?, ?, now()::timestamp)
        """,
        [
            seq,
            params.run_id,
            params.as_of,
            params.scoring_version,
            params.tag_version_pin,
            params.obiq_version_pin,
            params.full_refresh,
        ],
    )
    return int(seq)


def record_watermark(con: duckdb.DuckDBPyConnection, invocation_seq: int) -> int:
    """Record the highest file_seq loaded so far as the attempt's landing watermark."""
    watermark = scalar(con, "select coalesce(max(file_seq), 0) from raw.load_manifest")
    con.execute(
        "update raw.pipeline_runs set file_seq_watermark = ? where invocation_seq = ?",
        [watermark, invocation_seq],
    )
    return int(watermark)


def mark_selection_completed(con: duckdb.DuckDBPyConnection, invocation_seq: int) -> None:
    """dbt finished: the next run's scope starts from this attempt's watermark."""
    con.execute(
        "update raw.pipeline_runs set selection_completed_at = now()::timestamp "
        "where invocation_seq = ?",
        [invocation_seq],
    )


def mark_exported(con: duckdb.DuckDBPyConnection, invocation_seq: int) -> None:
    con.execute(
        "update raw.pipeline_runs set exported_at = now()::timestamp where invocation_seq = ?",
        [invocation_seq],
    )
