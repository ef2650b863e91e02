"""What every warehouse engine shares: the raw layer's tables, the run registry, the landing
loop and the exports' queries, written once.

An engine (``engines.duckdb``, ``engines.bigquery``) subclasses ``Warehouse`` and supplies only
what differs: how SQL runs (``fetchall``, ``execute``), how one file is landed (``load_file``),
how the rows of an export query are written (``write_main_image_rows``), its type and storage
clauses and the SQL of "now". Statements here use ``raw.x`` / ``marts.x`` / ``reporting.x``
names and ``?`` parameters; BigQuery qualifies the names with its project and dataset prefix.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from main_image import faults, fileio
from main_image.runs import RunParameters
from main_image.settings import FEEDS, LOADED_FEEDS, Progress


@dataclass(frozen=True)
class LoadedFile:
    """One landing file, as the loader left it."""

    feed: str
    path: Path | str  # a Path for a local file, the URI itself for a GCS object
    file_seq: int | None  # None when skipped
    line_count: int
    skipped: bool
    reader: str | None = None  # DuckDB: text | csv | python; None when skipped


#: (column, type) of the raw layer's tables; types are BigQuery's names, which DuckDB accepts.
RAW_LINE_COLUMNS = (
    ("file_seq", "INT64 NOT NULL"),
    ("line_number", "INT64 NOT NULL"),
    ("file_name", "STRING NOT NULL"),
    ("line", "STRING"),
    ("run_id", "STRING NOT NULL"),
    ("invocation_seq", "INT64 NOT NULL"),
    ("loaded_at", "TIMESTAMP NOT NULL"),
    # what the loader found wrong with the line, else NULL (staging rejects it with this code,
    # contract §2): 'invalid_encoding' (not UTF-8: ``line`` holds its bytes in lowercase hex),
    # 'duplicate_key' (BigQuery's loader only; DuckDB's staging finds these itself)
    ("line_defect", "STRING"),
)
#: Lines of a raw table created before the column existed gain it (``line_defect``).
RAW_LINE_ADDED_COLUMNS = (("line_defect", "STRING"),)
MANIFEST_COLUMNS = (
    ("file_seq", "INT64 NOT NULL"),
    ("feed", "STRING NOT NULL"),
    ("file_name", "STRING NOT NULL"),
    ("content_sha256", "STRING NOT NULL"),
    ("line_count", "INT64 NOT NULL"),
    ("byte_count", "INT64 NOT NULL"),
    ("run_id", "STRING NOT NULL"),
    ("invocation_seq", "INT64 NOT NULL"),
    ("loaded_at", "TIMESTAMP NOT NULL"),
)
PIPELINE_RUNS_COLUMNS = (
    ("invocation_seq", "INT64 NOT NULL"),
    ("run_id", "STRING NOT NULL"),
    ("as_of", "DATE NOT NULL"),
    ("scoring_version", "STRING NOT NULL"),
    ("tag_version_pin", "STRING"),
    ("obiq_version_pin", "STRING"),
    ("full_refresh", "BOOL NOT NULL"),
    ("file_seq_watermark", "INT64"),
    ("started_at", "TIMESTAMP NOT NULL"),
    ("selection_completed_at", "TIMESTAMP"),
    ("exported_at", "TIMESTAMP"),
)
#: One row per attempt that began writing its exports (exports.publish): where its three files
#: go and the metrics they end with, so that the next attempt can finish a publication a crash
#: interrupted after its files were written (``written_at``) and mark it exported.
PUBLICATIONS_COLUMNS = (
    ("invocation_seq", "INT64 NOT NULL"),
    ("run_id", "STRING NOT NULL"),
    ("changes_location", "STRING NOT NULL"),
    ("snapshot_location", "STRING NOT NULL"),
    ("metrics_location", "STRING NOT NULL"),
    ("metrics", "STRING NOT NULL"),
    ("started_at", "TIMESTAMP NOT NULL"),
    ("written_at", "TIMESTAMP"),
)


def create_table(
    name: str, columns: Sequence[tuple[str, str]], extra: Mapping[str, str], suffix: str = ""
) -> str:
    """``create table if not exists``; ``extra`` appends an engine's clause to a column."""
    body = ",\n    ".join(f"{column} {kind}{extra.get(column, '')}" for column, kind in columns)
    return f"create table if not exists {name} (\n    {body}\n){suffix}"


_INSERT_RUN = """
    insert into raw.pipeline_runs (
        invocation_seq, run_id, as_of, scoring_version, tag_version_pin, obiq_version_pin,
        full_refresh, started_at
    ) values (?, ?, ?, ?, ?, ?, ?, {now})
"""
SNAPSHOT_QUERY = """
    select hotel_id, image_id, cdn_url
    from marts.fct_main_image_snapshot
    order by hotel_id
"""


class Warehouse(ABC):
    """The raw layer, the run registry, landing and the exports of one warehouse."""

    engine: ClassVar[str]
    #: SQL of the current time as a TIMESTAMP (UTC).
    now_sql: ClassVar[str]
    storage_client: Any = None

    # -- SQL (engine-specific) --------------------------------------------------------------

    @abstractmethod
    def fetchall(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]: ...

    @abstractmethod
    def fetch_dicts(self, sql: str, params: Sequence[Any] | None = None) -> list[dict]: ...

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None: ...

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """The first column of the first row (None when there is no row)."""
        rows = self.fetchall(sql, params)
        return rows[0][0] if rows else None

    # -- the raw layer ----------------------------------------------------------------------

    def raw_table_ddl(self) -> list[str]:
        """The raw layer's tables; engines add their clauses through the three hooks."""
        return [
            *(
                create_table(f"raw.{feed}", RAW_LINE_COLUMNS, self.column_clauses("lines"),
                             self.table_suffix("lines", feed))
                for feed in LOADED_FEEDS
            ),
            create_table("raw.load_manifest", MANIFEST_COLUMNS,
                         self.column_clauses("load_manifest"), self.table_suffix("load_manifest")),
            create_table("raw.pipeline_runs", PIPELINE_RUNS_COLUMNS,
                         self.column_clauses("pipeline_runs"), self.table_suffix("pipeline_runs")),
            create_table("raw.pipeline_publications", PUBLICATIONS_COLUMNS,
                         self.column_clauses("pipeline_publications"),
                         self.table_suffix("pipeline_publications")),
        ]  # fmt: skip

    def column_clauses(self, table: str) -> dict[str, str]:
        """Clauses appended to columns of ``table`` (``lines``: any feed's table)."""
        return {}

    def table_suffix(self, table: str, feed: str = "") -> str:
        """Clauses after the column list (partitioning, clustering, options)."""
        return ""

    def ensure_raw_layer(self) -> None:
        for statement in self.raw_table_ddl():
            self.execute(statement)

    # -- the run registry -------------------------------------------------------------------

    def start_invocation(self, params: RunParameters) -> int:
        """Register a new attempt of a run and return its invocation_seq (one writer at a time:
        the CLI's lock and the DAG's one-slot pool serialise attempts)."""
        seq = int(self.scalar("select coalesce(max(invocation_seq), 0) + 1 from raw.pipeline_runs"))
        self.execute(_INSERT_RUN.format(now=self.now_sql), [
            seq, params.run_id, params.as_of, params.scoring_version,
            params.tag_version_pin, params.obiq_version_pin, params.full_refresh,
        ])  # fmt: skip
        return seq

    def record_watermark(self, invocation_seq: int) -> int:
        """Record the highest file_seq loaded so far as the attempt's landing watermark."""
        watermark = int(self.scalar("select coalesce(max(file_seq), 0) from raw.load_manifest"))
        self.execute(
            "update raw.pipeline_runs set file_seq_watermark = ? where invocation_seq = ?",
            [watermark, invocation_seq],
        )
        return watermark

    def mark_selection_completed(self, invocation_seq: int) -> None:
        """dbt finished: the next run's scope starts from this attempt's watermark."""
        self.execute(
            f"update raw.pipeline_runs set selection_completed_at = {self.now_sql} "
            "where invocation_seq = ? and selection_completed_at is null",
            [invocation_seq],
        )

    def mark_exported(self, invocation_seq: int) -> None:
        self.execute(
            f"update raw.pipeline_runs set exported_at = {self.now_sql} where invocation_seq = ?",
            [invocation_seq],
        )

    def record_publication(self, invocation_seq: int, run_id: str, locations: Sequence[str],
                           metrics: str) -> None:
        """The attempt begins writing its exports to ``locations`` (changes, snapshot, metrics)."""
        self.execute("delete from raw.pipeline_publications where invocation_seq = ?",
                     [invocation_seq])
        self.execute(
            "insert into raw.pipeline_publications (invocation_seq, run_id, changes_location, "
            f"snapshot_location, metrics_location, metrics, started_at) values (?, ?, ?, ?, ?, ?, "
            f"{self.now_sql})",
            [invocation_seq, run_id, *locations, metrics],
        )

    def mark_publication_written(self, invocation_seq: int) -> None:
        """Every file of the attempt's exports is written (aside): only renames are left."""
        self.execute(
            f"update raw.pipeline_publications set written_at = {self.now_sql} "
            "where invocation_seq = ?",
            [invocation_seq],
        )

    def interrupted_publications(self) -> list[dict[str, Any]]:
        """The publications begun by attempts that were never marked exported, after the last
        attempt that was (an older one was superseded: its files may have been rewritten)."""
        return self.fetch_dicts(
            "select publications.* from raw.pipeline_publications as publications "
            "inner join raw.pipeline_runs as runs "
            "on publications.invocation_seq = runs.invocation_seq "
            "where runs.exported_at is null and runs.invocation_seq > (select "
            "coalesce(max(invocation_seq), 0) from raw.pipeline_runs where exported_at is not null)"
            " order by publications.invocation_seq"
        )

    def latest_attempt(self) -> tuple[int, str, Any] | None:
        """(invocation_seq, run_id, exported_at) of the latest attempt, None before the first."""
        rows = self.fetchall(
            "select invocation_seq, run_id, exported_at from raw.pipeline_runs "
            "order by invocation_seq desc limit 1"
        )
        return (int(rows[0][0]), rows[0][1], rows[0][2]) if rows else None

    def latest_completed_as_of(self) -> date | None:
        return self.scalar(
            "select as_of from raw.pipeline_runs where selection_completed_at is not null "
            "order by invocation_seq desc limit 1"
        )

    # -- landing ----------------------------------------------------------------------------

    @abstractmethod
    def load_file(
        self, feed: str, source: Path | str, run_id: str, invocation_seq: int
    ) -> LoadedFile: ...

    def load_feeds(
        self,
        files_by_feed: Mapping[str, Sequence[Path | str]],
        run_id: str,
        invocation_seq: int,
        progress: Progress | None = None,
    ) -> list[LoadedFile]:
        """Load every file, feed by feed (contract order) and by path within a feed."""
        loaded: list[LoadedFile] = []
        for feed in LOADED_FEEDS:
            for source in sorted(files_by_feed.get(feed, []), key=_landing_order):
                result = self.load_file(feed, source, run_id, invocation_seq)
                loaded.append(result)
                if progress:
                    progress(_landed_message(result, source))
                faults.reached(f"land-{len(loaded)}")
        return loaded

    # -- exports ----------------------------------------------------------------------------

    @abstractmethod
    def write_main_image_rows(
        self, query: str, params: Sequence[Any], target: Path | str
    ) -> int:
        """Write the rows of ``query`` (hotel_id, image_id, cdn_url) as one contract §5 object per
        line to ``target``; returns how many."""

    def export_snapshot(self, target: Path | str) -> int:
        return self.write_main_image_rows(SNAPSHOT_QUERY, [], target)

    def run_metrics(self, run_id: str) -> dict[str, Any]:
        """The run's metrics object (contract §5)."""
        rows = self.fetch_dicts(
            "select * from reporting.rpt_run_metrics where run_id = ?", [run_id]
        )
        if not rows:
            raise LookupError(f"no metrics for run {run_id!r}")
        return metrics_object(rows[0])

    def write_metrics(self, metrics: dict[str, Any], target: Path | str) -> None:
        with fileio.open_write(target, self.storage_client) as handle:
            handle.write(json.dumps(metrics) + "\n")


def _landing_order(source: Path | str) -> Any:
    return str(source) if fileio.is_gcs_uri(source) else Path(source)


def _landed_message(result: LoadedFile, source: Path | str) -> str:
    name = str(source).rsplit("/", 1)[-1]
    if result.skipped:
        return f"land {result.feed}: {name} skipped (content loaded before)"
    reader = f" ({result.reader} reader)" if result.reader else ""
    return f"land {result.feed}: {name} -> {result.line_count:,} lines{reader}"


def metrics_object(record: Mapping[str, Any]) -> dict[str, Any]:
    """The contract §5 metrics object of a reporting.rpt_run_metrics row (any engine)."""
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
