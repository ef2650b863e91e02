"""BigQuery: the production warehouse (and the local BigQuery API emulator in tests).

``BigQueryWarehouse`` is the ``engines.Warehouse`` of the DAG's tasks when the dbt target is
``bigquery`` (or ``bq_emulator``): the same steps as on the DuckDB file,

    register the attempt -> land files (raw, load jobs) -> dbt build --target bigquery (Cosmos)
    -> mark selection completed -> export changes / snapshot / metrics -> mark exported

* Datasets ``<prefix>raw``, ``<prefix>staging``, ``<prefix>marts``, ``<prefix>reporting`` are
  created by terraform/ in production (this module only creates ``<prefix>raw``'s tables, and
  the dataset itself when it is missing, e.g. on the emulator). dbt builds everything else.
* Raw tables have the columns of ``warehouse.RAW_DDL``; a feed's table is partitioned by the
  load day (``DATE(loaded_at)``) and clustered by ``file_seq``, so the staging models read only
  the partitions loaded since their watermark.
* Landing (``load_file``): the file is streamed once (local path or ``gs://`` object) to hash
  it (SHA-256, as the DuckDB loader) and to number its lines; a file whose content was loaded
  before for the feed is skipped. New files go through a load job (NDJSON of line_number/line)
  into a temporary table, then one multi-statement transaction inserts the lines into
  ``raw.<feed>`` and the manifest row: a file is loaded completely or not at all. BigQuery load
  jobs straight from GCS cannot be used for the lines themselves: they neither keep the file's
  line order nor give line numbers (see docs/bigquery.md).
* Exports: queries, written as JSON Lines to a local path or a ``gs://`` URI.

``BigQueryWarehouse`` also runs the DuckDB SQL of the driver and the DAG unchanged where it is
portable: ``fetchall``/``scalar``/``execute`` take ``raw.x``/``marts.x`` names and ``?``
parameters and qualify them for BigQuery (see ``qualify``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from main_image.bq_config import (  # noqa: F401 - re-exported: bq.BigQueryConfig, ...
    DEFAULT_LOCATION,
    EMULATOR_TARGET,
    LAYERS,
    PRODUCTION_TARGET,
    BigQueryConfig,
)
from main_image.exports import CHANGES_QUERY, metrics_object
from main_image.loader import LoadedFile
from main_image.settings import FEEDS
from main_image.warehouse import RunParameters

Progress = Callable[[str], None]

#: Write buffer of the temporary NDJSON file.
SPOOL_BYTES = 64 * 1024 * 1024
#: Landing files of a feed folder / prefix (as main_image.landing).
LANDING_SUFFIXES = (".jsonl", ".ndjson", ".json")


# --- SQL helpers ---------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LAYER_REFERENCE = re.compile(r"(?<![\w.`])(raw|staging|marts|reporting)\.([A-Za-z_][A-Za-z0-9_]*)")


def sql_literal(value: Any) -> str:
    """A GoogleSQL literal (for scripts, where the emulator does not bind parameters)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=UTC)
        micros = (stamp - _EPOCH) // timedelta(microseconds=1)
        return f"TIMESTAMP_MICROS({micros})"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    text = str(value)
    escaped = (
        text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r")
    )
    return f"'{escaped}'"


def _parameter(value: Any) -> Any:
    from google.cloud import bigquery

    if isinstance(value, bool):
        kind = "BOOL"
    elif isinstance(value, int):
        kind = "INT64"
    elif isinstance(value, float):
        kind = "FLOAT64"
    elif isinstance(value, datetime):
        kind = "TIMESTAMP"
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, date):
        kind = "DATE"
    else:
        kind = "STRING"
        value = None if value is None else str(value)
    return bigquery.ScalarQueryParameter(None, kind, value)


def _now() -> datetime:
    """The load time (microseconds: BigQuery's TIMESTAMP precision)."""
    return datetime.now(UTC)


# --- landing sources -----------------------------------------------------------------------


def is_gcs_uri(source: Any) -> bool:
    return isinstance(source, str) and source.startswith("gs://")


def _split_gcs_uri(uri: str) -> tuple[str, str]:
    bucket, _, name = uri[len("gs://") :].partition("/")
    return bucket, name


@contextlib.contextmanager
def open_source(source: Path | str, storage_client: Any = None) -> Iterator[IO[bytes]]:
    """A landing file (a local path or a ``gs://bucket/object`` URI), opened for reading."""
    if is_gcs_uri(source):
        from google.cloud import storage

        bucket, name = _split_gcs_uri(str(source))
        client = storage_client or storage.Client()
        with client.bucket(bucket).blob(name).open("rb") as handle:
            yield handle
    else:
        with Path(source).open("rb") as handle:
            yield handle


def discover_gcs_files(landing_uri: str, storage_client: Any = None) -> dict[str, list[str]]:
    """Every landing object of every feed under ``gs://bucket[/prefix]/<feed>/``, in landing
    order (name order within a feed); hidden names and other suffixes are ignored, as in
    ``main_image.landing.discover_files``."""
    from google.cloud import storage

    client = storage_client or storage.Client()
    bucket, prefix = _split_gcs_uri(landing_uri.rstrip("/"))
    found: dict[str, list[str]] = {feed: [] for feed in FEEDS}
    for feed in FEEDS:
        folder = f"{prefix}/{feed}/" if prefix else f"{feed}/"
        names = []
        for blob in client.list_blobs(bucket, prefix=folder):
            relative = blob.name[len(folder) :]
            if not relative or relative.endswith("/"):
                continue
            if any(part.startswith(".") for part in relative.split("/")):
                continue
            if not relative.endswith(LANDING_SUFFIXES):
                continue
            names.append(relative)
        found[feed] = [f"gs://{bucket}/{folder}{name}" for name in sorted(names)]
    return found


@dataclass
class _NumberedLines:
    """A landing file read once: its hash, size, line count and its lines as NDJSON rows in a
    temporary file (removed by ``close``)."""

    sha256: str
    byte_count: int
    line_count: int
    ndjson_path: Path

    def close(self) -> None:
        self.ndjson_path.unlink(missing_ok=True)


def _number_lines(handle: IO[bytes]) -> _NumberedLines:
    """Hash the file and write one ``{"line_number": n, "line": "..."}`` row per line.

    Lines are split as the DuckDB loader splits them: on b"\\n", a final newline does not start
    a line, bytes that are not UTF-8 become U+FFFD, anything else (a "\\r") is kept."""
    digest = hashlib.sha256()
    descriptor, name = tempfile.mkstemp(prefix="main-image-load-", suffix=".ndjson")
    byte_count = 0
    line_count = 0
    with os.fdopen(descriptor, "wb", buffering=SPOOL_BYTES) as out:
        for raw_line in iter(handle.readline, b""):
            digest.update(raw_line)
            byte_count += len(raw_line)
            line_count += 1
            text = raw_line[:-1] if raw_line.endswith(b"\n") else raw_line
            row = {"line_number": line_count, "line": text.decode("utf-8", errors="replace")}
            out.write(json.dumps(row, ensure_ascii=False).encode("utf-8") + b"\n")
    return _NumberedLines(digest.hexdigest(), byte_count, line_count, Path(name))


# --- the warehouse -------------------------------------------------------------------------


def _raw_line_columns() -> str:
    return """
        file_seq INT64 NOT NULL,
        line_number INT64 NOT NULL,
        file_name STRING NOT NULL,
        line STRING,
        run_id STRING NOT NULL,
        invocation_seq INT64 NOT NULL,
        loaded_at TIMESTAMP NOT NULL
    """


@dataclass
class BigQueryWarehouse:
    """The raw layer, the run registry and the exports on BigQuery (see the module doc)."""

    config: BigQueryConfig
    client: Any = None
    storage_client: Any = None
    _ready: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        if self.client is None:
            self.client = self.config.client()

    # -- SQL --------------------------------------------------------------------------------

    def qualify(self, sql: str) -> str:
        """`raw.x`, `staging.x`, `marts.x`, `reporting.x` -> `project.<prefix><layer>.x`."""
        return _LAYER_REFERENCE.sub(
            lambda match: self.config.table(match.group(1), match.group(2)), sql
        )

    def _run(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        from google.cloud import bigquery

        job_config = bigquery.QueryJobConfig(
            query_parameters=[_parameter(value) for value in params or []]
        )
        return self.client.query(self.qualify(sql), job_config=job_config).result()

    def fetchall(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        return [tuple(row.values()) for row in self._run(sql, params)]

    def fetch_dicts(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        return [dict(row.items()) for row in self._run(sql, params)]

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        rows = self.fetchall(sql, params)
        return rows[0][0] if rows else None

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self._run(sql, params)

    # -- the raw layer ----------------------------------------------------------------------

    def ensure_raw_layer(self) -> None:
        """Create ``<prefix>raw`` (when missing) and its tables (when missing)."""
        if self._ready:
            return
        from google.api_core.exceptions import NotFound
        from google.cloud import bigquery

        dataset_id = f"{self.config.project}.{self.config.dataset('raw')}"
        try:
            self.client.get_dataset(dataset_id)
        except NotFound:  # terraform creates it in production; the emulator starts empty
            dataset = bigquery.Dataset(dataset_id)
            dataset.location = self.config.location
            self.client.create_dataset(dataset, exists_ok=True)
        require = "true" if self.config.raw_require_partition_filter else "false"
        statements = [
            f"""
            create table if not exists raw.{feed} ({_raw_line_columns()})
            partition by date(loaded_at)
            cluster by file_seq
            options (
                require_partition_filter = {require},
                description = 'Lines of the {feed} feed, one row per input line (main_image loader)'
            )
            """
            for feed in FEEDS
        ]
        statements += [
            """
            create table if not exists raw.load_manifest (
                file_seq INT64 NOT NULL,
                feed STRING NOT NULL,
                file_name STRING NOT NULL,
                content_sha256 STRING NOT NULL,
                line_count INT64 NOT NULL,
                byte_count INT64 NOT NULL,
                run_id STRING NOT NULL,
                invocation_seq INT64 NOT NULL,
                loaded_at TIMESTAMP NOT NULL
            )
            cluster by feed, content_sha256
            """,
            """
            create table if not exists raw.pipeline_runs (
                invocation_seq INT64 NOT NULL,
                run_id STRING NOT NULL,
                as_of DATE NOT NULL,
                scoring_version STRING NOT NULL,
                tag_version_pin STRING,
                obiq_version_pin STRING,
                full_refresh BOOL NOT NULL,
                file_seq_watermark INT64,
                started_at TIMESTAMP NOT NULL,
                selection_completed_at TIMESTAMP,
                exported_at TIMESTAMP
            )
            """,
        ]
        # the option follows the configuration also for tables created earlier
        statements += [
            f"alter table raw.{feed} set options (require_partition_filter = {require})"
            for feed in FEEDS
        ]
        for statement in statements:
            self.execute(statement)
        self._ready = True

    # -- the run registry (the same statements as main_image.warehouse) --------------------

    def start_invocation(self, params: RunParameters) -> int:
        """Register a new attempt of a run and return its invocation_seq (one writer at a time:
        the DAG's pool serialises attempts, as for DuckDB)."""
        self.ensure_raw_layer()
        seq = int(self.scalar("select coalesce(max(invocation_seq), 0) + 1 from raw.pipeline_runs"))
        self.execute(
            """
            insert into raw.pipeline_runs (
                invocation_seq, run_id, as_of, scoring_version, tag_version_pin, obiq_version_pin,
                full_refresh, started_at
            ) values (?, ?, ?, ?, ?, ?, ?, current_timestamp())
            """,
            [
                seq, params.run_id, params.as_of, params.scoring_version,
                params.tag_version_pin, params.obiq_version_pin, params.full_refresh,
            ],
        )  # fmt: skip
        return seq

    def record_watermark(self, invocation_seq: int) -> int:
        watermark = int(self.scalar("select coalesce(max(file_seq), 0) from raw.load_manifest"))
        self.execute(
            "update raw.pipeline_runs set file_seq_watermark = ? where invocation_seq = ?",
            [watermark, invocation_seq],
        )
        return watermark

    def mark_selection_completed(self, invocation_seq: int) -> None:
        self.execute(
            "update raw.pipeline_runs set selection_completed_at = current_timestamp() "
            "where invocation_seq = ?",
            [invocation_seq],
        )

    def mark_exported(self, invocation_seq: int) -> None:
        self.execute(
            "update raw.pipeline_runs set exported_at = current_timestamp() "
            "where invocation_seq = ?",
            [invocation_seq],
        )

    def latest_completed_as_of(self) -> date | None:
        return self.scalar(
            "select as_of from raw.pipeline_runs where selection_completed_at is not null "
            "order by invocation_seq desc limit 1"
        )

    # -- landing ----------------------------------------------------------------------------

    def _already_loaded(self, feed: str, sha256: str) -> bool:
        found = self.scalar(
            "select count(*) from raw.load_manifest where feed = ? and content_sha256 = ?",
            [feed, sha256],
        )
        return bool(found)

    def load_file(
        self, feed: str, source: Path | str, run_id: str, invocation_seq: int
    ) -> LoadedFile:
        """Load one file of `feed` (a path or a gs:// URI) into raw.<feed> unless its content
        was loaded before; the lines and the manifest row are committed together."""
        if feed not in FEEDS:
            raise ValueError(f"unknown feed {feed!r}; expected one of {', '.join(FEEDS)}")
        self.ensure_raw_layer()
        with open_source(source, self.storage_client) as handle:
            numbered = _number_lines(handle)
        # LoadedFile.path: a Path for a local file, the URI itself for a GCS object
        path_for_result: Any = source if is_gcs_uri(source) else Path(source)
        lines_table: str | None = None
        try:
            if self._already_loaded(feed, numbered.sha256):
                return LoadedFile(feed, path_for_result, None, 0, skipped=True)
            next_seq, last_loaded_at = self.fetchall(
                "select coalesce(max(file_seq), 0) + 1, max(loaded_at) from raw.load_manifest"
            )[0]
            file_seq = int(next_seq)
            # loaded_at never decreases with file_seq (the clocks of two workers may): the
            # staging watermark reads only the partitions from the last completed file on
            loaded_at = max(_now(), last_loaded_at) if last_loaded_at else _now()
            insert_lines = ""
            if numbered.line_count:
                lines_table = self._load_lines(feed, file_seq, numbered)
                insert_lines = f"""
                insert into {self.config.table("raw", feed)}
                    (file_seq, line_number, file_name, line, run_id, invocation_seq, loaded_at)
                select
                    {sql_literal(file_seq)}, line_number, {sql_literal(str(source))}, line,
                    {sql_literal(run_id)}, {sql_literal(invocation_seq)}, {sql_literal(loaded_at)}
                from `{lines_table}`;
                """
            manifest_row = ", ".join(
                sql_literal(value)
                for value in (
                    file_seq, feed, str(source), numbered.sha256, numbered.line_count,
                    numbered.byte_count, run_id, invocation_seq, loaded_at,
                )
            )  # fmt: skip
            # One transaction: the lines and the manifest row, or nothing. (Values are literals:
            # the emulator does not bind parameters in multi-statement scripts.)
            self.client.query(
                f"""
                begin transaction;
                {insert_lines}
                insert into {self.config.table("raw", "load_manifest")} (
                    file_seq, feed, file_name, content_sha256, line_count, byte_count,
                    run_id, invocation_seq, loaded_at
                ) values ({manifest_row});
                commit transaction;
                """
            ).result()
        finally:
            numbered.close()
            if lines_table is not None:
                self.client.delete_table(lines_table, not_found_ok=True)
        return LoadedFile(feed, path_for_result, file_seq, numbered.line_count, skipped=False)

    def _load_lines(self, feed: str, file_seq: int, numbered: _NumberedLines) -> str:
        """Load job: the numbered lines into a temporary table of the raw dataset (it expires
        after a day should this process die before dropping it); returns its id."""
        from google.cloud import bigquery

        table_id = (
            f"{self.config.project}.{self.config.dataset('raw')}"
            f"._load_{feed}_{file_seq}_{uuid.uuid4().hex[:8]}"
        )
        schema = [
            bigquery.SchemaField("line_number", "INT64", mode="REQUIRED"),
            bigquery.SchemaField("line", "STRING"),
        ]
        table = bigquery.Table(table_id, schema=schema)
        table.expires = _now() + timedelta(days=1)
        self.client.create_table(table)
        job_config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
            write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
            schema=schema,
            max_bad_records=0,
        )
        # No `size`: a resumable upload (the emulator rejects multipart uploads).
        with numbered.ndjson_path.open("rb") as ndjson:
            self.client.load_table_from_file(ndjson, table_id, job_config=job_config).result()
        return table_id

    def load_feeds(
        self,
        files_by_feed: Mapping[str, Sequence[Path | str]],
        run_id: str,
        invocation_seq: int,
        progress: Progress | None = None,
    ) -> list[LoadedFile]:
        """Load every file, feed by feed (SPEC order) and by name within a feed."""
        loaded: list[LoadedFile] = []
        for feed in FEEDS:
            for source in sorted(files_by_feed.get(feed, []), key=str):
                result = self.load_file(feed, source, run_id, invocation_seq)
                loaded.append(result)
                if progress:
                    name = str(source).rsplit("/", 1)[-1]
                    if result.skipped:
                        progress(f"land {feed}: {name} skipped (content loaded before)")
                    else:
                        progress(f"land {feed}: {name} -> {result.line_count:,} lines")
        return loaded

    # -- exports (the shapes of main_image.exports) -----------------------------------------

    def export_changes(
        self, target: Path | str, run_id: str, invocation_seq: int, after_seq: int = 0
    ) -> int:
        """As ``exports.export_changes``: the run's changes plus unexported attempts' changes,
        only those of attempts after ``after_seq``."""
        rows = self.fetchall(CHANGES_QUERY, [run_id, invocation_seq, after_seq])
        return write_main_image_lines(rows, target, self.storage_client)

    def export_snapshot(self, target: Path | str) -> int:
        rows = self.fetchall(
            "select hotel_id, image_id, cdn_url from marts.fct_main_image_snapshot "
            "order by hotel_id"
        )
        return write_main_image_lines(rows, target, self.storage_client)

    def run_metrics(self, run_id: str) -> dict[str, Any]:
        rows = self.fetch_dicts(
            "select * from reporting.rpt_run_metrics where run_id = ?", [run_id]
        )
        if not rows:
            raise LookupError(f"no metrics for run {run_id!r}")
        return metrics_object(rows[0])


@contextlib.contextmanager
def open_output(target: Path | str, storage_client: Any = None) -> Iterator[IO[str]]:
    """A text file to write: a local path (parents created) or a gs:// URI."""
    if is_gcs_uri(target):
        from google.cloud import storage

        bucket, name = _split_gcs_uri(str(target))
        client = storage_client or storage.Client()
        with client.bucket(bucket).blob(name).open("w", encoding="utf-8") as handle:
            yield handle
    else:
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as handle:
            yield handle


def write_main_image_lines(
    rows: Sequence[tuple[int, int | None, str | None]],
    target: Path | str,
    storage_client: Any = None,
) -> int:
    """One ``{"key": {"hotel_id"}, "value": {...} | null}`` object per line (SPEC §5)."""
    with open_output(target, storage_client) as handle:
        for hotel_id, image_id, cdn_url in rows:
            value = None if image_id is None else {"image_id": image_id, "cdn_url": cdn_url}
            handle.write(json.dumps({"key": {"hotel_id": hotel_id}, "value": value}) + "\n")
    return len(rows)


def write_metrics(metrics: dict[str, Any], target: Path | str, storage_client: Any = None) -> None:
    with open_output(target, storage_client) as handle:
        handle.write(json.dumps(metrics) + "\n")


# --- dbt ----------------------------------------------------------------------------------


@contextlib.contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the block (dbt reads profiles.yml from the environment)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
