"""The embedded DuckDB warehouse: ``base.Warehouse`` over a connection to the file.

The raw layer and ``raw.pipeline_runs`` belong to the loader and the drivers; everything else is
built by dbt. DuckDB allows one writing process per file, so callers open the file, do their
work and close it before dbt runs (``DuckDBWarehouse.connect``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import duckdb

from main_image.engines.base import RAW_LINE_ADDED_COLUMNS, LoadedFile, Warehouse
from main_image.engines.duckdb import loader
from main_image.engines.duckdb.config import duckdb_config, raw_line_compression
from main_image.settings import LOADED_FEEDS


class DuckDBWarehouse(Warehouse):
    """The ``Warehouse`` calls over an open connection to the DuckDB file."""

    engine: ClassVar[str] = "duckdb"
    now_sql: ClassVar[str] = "now()::timestamp"

    def __init__(
        self, con: duckdb.DuckDBPyConnection, compression: str = "uncompressed"
    ) -> None:
        self.con = con
        self.compression = compression

    @classmethod
    @contextmanager
    def connect(cls, path: Path, read_only: bool = False) -> Iterator[DuckDBWarehouse]:
        """Open the warehouse file (created with its raw layer if missing), close it after."""
        with connect(path, read_only=read_only) as con:
            yield cls(con)

    # -- SQL --------------------------------------------------------------------------------

    def fetchall(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        return self.con.execute(sql, list(params or [])).fetchall()

    def fetch_dicts(self, sql: str, params: Sequence[Any] | None = None) -> list[dict]:
        cursor = self.con.execute(sql, list(params or []))
        columns = [description[0] for description in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self.con.execute(sql, list(params or []))

    # -- the raw layer ----------------------------------------------------------------------

    def column_clauses(self, table: str) -> dict[str, str]:
        if table == "lines":
            return {"line": " using compression uncompressed"} if (
                self.compression == "uncompressed") else {}
        key = {"load_manifest": "file_seq", "pipeline_runs": "invocation_seq",
               "pipeline_publications": "invocation_seq"}[table]
        return {key: " primary key"}

    def ensure_raw_layer(self) -> None:
        self.execute("create schema if not exists raw")
        super().ensure_raw_layer()
        for feed in LOADED_FEEDS:  # raw tables of an older version gain the newer columns
            for column, kind in RAW_LINE_ADDED_COLUMNS:
                self.execute(f"alter table raw.{feed} add column if not exists {column} {kind}")

    # -- landing and exports ----------------------------------------------------------------

    def load_file(
        self, feed: str, source: Path | str, run_id: str, invocation_seq: int
    ) -> LoadedFile:
        return loader.load_file(self.con, feed, Path(source), run_id, invocation_seq)

    def write_main_image_rows(self, query: str, params: Sequence[Any], target: Path | str) -> int:
        """DuckDB writes the file itself (COPY ... FORMAT json): no row crosses into Python, so
        a snapshot of millions of hotels costs seconds. Local paths only."""
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        quoted = str(path).replace("'", "''")
        written = self.con.execute(
            f"""
            copy (
                select
                    {{'hotel_id': hotel_id}} as key,
                    case
                        when image_id is not null then {{'image_id': image_id, 'cdn_url': cdn_url}}
                    end as value
                from ({query}) as rows (hotel_id, image_id, cdn_url)
            ) to '{quoted}' (format json)
            """,
            list(params),
        ).fetchone()
        return int(written[0]) if written else 0


def raw_ddl(compression: str = "uncompressed") -> list[str]:
    """The raw layer's statements (tables created when missing) with the given line storage."""
    return [
        "create schema if not exists raw",
        *DuckDBWarehouse(None, compression).raw_table_ddl(),  # type: ignore[arg-type]
    ]


#: The raw layer with the default storage of the lines.
RAW_DDL = raw_ddl()


@contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse file (created with its raw layer if missing) and close it afterwards."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only, config=duckdb_config())
    try:
        if not read_only:
            DuckDBWarehouse(con, raw_line_compression()).ensure_raw_layer()
        yield con
    finally:
        con.close()
