"""BigQuery landing: one file (a local path or a ``gs://`` object) into ``raw.<feed>``.

The file is streamed once to hash it (SHA-256, as the DuckDB loader) and to number its lines; a
file whose content was loaded before for the feed is skipped. New files go through a load job
(NDJSON of line_number/line) into a temporary table, then one multi-statement transaction
inserts the lines into ``raw.<feed>`` and the manifest row: a file is loaded completely or not
at all. BigQuery load jobs straight from GCS cannot be used for the lines themselves: they
neither keep the file's line order nor give line numbers (see docs/bigquery.md).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from main_image import fileio
from main_image.engines.base import LoadedFile
from main_image.settings import LOADED_FEEDS

if TYPE_CHECKING:
    from main_image.engines.bigquery.warehouse import BigQueryWarehouse

#: Write buffer of the temporary NDJSON file.
SPOOL_BYTES = 64 * 1024 * 1024

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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


def now() -> datetime:
    """The load time (microseconds: BigQuery's TIMESTAMP precision)."""
    return datetime.now(UTC)


@dataclass
class NumberedLines:
    """A landing file read once: its hash, size, line count and its lines as NDJSON rows in a
    temporary file (removed by ``close``)."""

    sha256: str
    byte_count: int
    line_count: int
    ndjson_path: Path

    def close(self) -> None:
        self.ndjson_path.unlink(missing_ok=True)


_UTF8_BOM = b"\xef\xbb\xbf"


def number_lines(handle: IO[bytes]) -> NumberedLines:
    """Hash the content and write one ``{"line_number": n, "line": "..."}`` row per line.

    Lines are split as the DuckDB loader splits them: on b"\\n", a final newline does not start
    a line, a leading byte-order mark is not part of the first line, a line that is not UTF-8 is
    kept as the hex of its bytes (``"line_defect": "invalid_encoding"``), and a line whose
    object repeats a key is marked ``"line_defect": "duplicate_key"`` (BigQuery SQL cannot tell:
    PARSE_JSON keeps one of the values); anything else (a "\\r") is kept."""
    digest = hashlib.sha256()
    descriptor, name = tempfile.mkstemp(prefix="main-image-load-", suffix=".ndjson")
    byte_count = 0
    line_count = 0
    with os.fdopen(descriptor, "wb", buffering=SPOOL_BYTES) as out:
        for raw_line in iter(handle.readline, b""):
            digest.update(raw_line)
            byte_count += len(raw_line)
            text = raw_line[:-1] if raw_line.endswith(b"\n") else raw_line
            if byte_count == len(raw_line):  # the file's first line
                text = text.removeprefix(_UTF8_BOM)
                if not text and not raw_line.endswith(b"\n"):
                    continue  # a file holding only a BOM has no line
            line_count += 1
            row: dict[str, Any] = {"line_number": line_count}
            try:
                row["line"] = text.decode("utf-8")
            except UnicodeDecodeError:
                row["line"] = text.hex()
                row["line_defect"] = "invalid_encoding"
            else:
                if has_duplicate_key(row["line"]):
                    row["line_defect"] = "duplicate_key"
            out.write(json.dumps(row, ensure_ascii=False).encode("utf-8") + b"\n")
    return NumberedLines(digest.hexdigest(), byte_count, line_count, Path(name))


class _DuplicateKey(ValueError):
    pass


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    record = dict(pairs)
    if len(record) != len(pairs):
        raise _DuplicateKey
    return record


def has_duplicate_key(line: str) -> bool:
    """True when the line is JSON with an object that repeats a key, at any depth. Only lines
    with two keys or more are parsed (``":`` ends every key of a line without whitespace before
    its colon; a line with such whitespace is parsed too)."""
    if line.count('":') < 2 and '" ' not in line and '"\t' not in line and '"\r' not in line:
        return False
    try:
        json.loads(line, object_pairs_hook=_unique_pairs)
    except _DuplicateKey:
        return True
    except (ValueError, RecursionError):
        return False  # not JSON: staging rejects it as invalid_json
    return False


@contextlib.contextmanager
def open_content(source: Path | str, storage_client: Any) -> Iterator[IO[bytes]]:
    """The landing file's content: decompressed when it is a ``.gz`` file (contract §2)."""
    with fileio.open_read(source, storage_client) as handle:
        if str(source).endswith(".gz"):
            with gzip.GzipFile(fileobj=handle, mode="rb") as content:
                yield content
        else:
            yield handle


def load_file(
    wh: BigQueryWarehouse, feed: str, source: Path | str, run_id: str, invocation_seq: int
) -> LoadedFile:
    """Load one file of `feed` into raw.<feed> unless its content was loaded before; the lines
    and the manifest row are committed together."""
    if feed not in LOADED_FEEDS:
        raise ValueError(f"unknown feed {feed!r}; expected one of {', '.join(LOADED_FEEDS)}")
    wh.ensure_raw_layer()
    with open_content(source, wh.storage_client) as handle:
        numbered = number_lines(handle)
    path_for_result: Any = source if fileio.is_gcs_uri(source) else Path(source)
    lines_table: str | None = None
    try:
        if wh.scalar(
            "select count(*) from raw.load_manifest where feed = ? and content_sha256 = ?",
            [feed, numbered.sha256],
        ):
            return LoadedFile(feed, path_for_result, None, 0, skipped=True)
        next_seq, last_loaded_at = wh.fetchall(
            "select coalesce(max(file_seq), 0) + 1, max(loaded_at) from raw.load_manifest"
        )[0]
        file_seq = int(next_seq)
        # loaded_at never decreases with file_seq (the clocks of two workers may): the staging
        # watermark reads only the partitions from the last completed file on
        loaded_at = max(now(), last_loaded_at) if last_loaded_at else now()
        if numbered.line_count:
            lines_table = load_lines(wh, feed, file_seq, numbered)
        row = (file_seq, feed, str(source), numbered.sha256, numbered.line_count,
               numbered.byte_count, run_id, invocation_seq, loaded_at)  # fmt: skip
        wh.client.query(_load_script(wh, feed, row, lines_table)).result()
    finally:
        numbered.close()
        if lines_table is not None:
            wh.client.delete_table(lines_table, not_found_ok=True)
    return LoadedFile(feed, path_for_result, file_seq, numbered.line_count, skipped=False)


def _load_script(
    wh: BigQueryWarehouse, feed: str, row: tuple[Any, ...], lines_table: str | None
) -> str:
    """One transaction: the lines and the manifest row, or nothing. (Values are literals: the
    emulator does not bind parameters in multi-statement scripts.)"""
    file_seq, _, file_name, _, _, _, run_id, invocation_seq, loaded_at = row
    insert_lines = ""
    if lines_table is not None:
        insert_lines = f"""
        insert into {wh.config.table("raw", feed)} (
            file_seq, line_number, file_name, line, run_id, invocation_seq, loaded_at,
            line_defect
        )
        select
            {sql_literal(file_seq)}, line_number, {sql_literal(file_name)}, line,
            {sql_literal(run_id)}, {sql_literal(invocation_seq)}, {sql_literal(loaded_at)},
            line_defect
        from `{lines_table}`;
        """
    return f"""
        begin transaction;
        {insert_lines}
        insert into {wh.config.table("raw", "load_manifest")} (
            file_seq, feed, file_name, content_sha256, line_count, byte_count,
            run_id, invocation_seq, loaded_at
        ) values ({", ".join(sql_literal(value) for value in row)});
        commit transaction;
    """


def load_lines(wh: BigQueryWarehouse, feed: str, file_seq: int, numbered: NumberedLines) -> str:
    """Load job: the numbered lines into a temporary table of the raw dataset (it expires
    after a day should this process die before dropping it); returns its id."""
    from google.cloud import bigquery

    table_id = (
        f"{wh.config.project}.{wh.config.dataset('raw')}"
        f"._load_{feed}_{file_seq}_{uuid.uuid4().hex[:8]}"
    )
    schema = [
        bigquery.SchemaField("line_number", "INT64", mode="REQUIRED"),
        bigquery.SchemaField("line", "STRING"),
        bigquery.SchemaField("line_defect", "STRING"),
    ]
    table = bigquery.Table(table_id, schema=schema)
    table.expires = now() + timedelta(days=1)
    wh.client.create_table(table)
    job_config = bigquery.LoadJobConfig(
        source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
        write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
        schema=schema,
        max_bad_records=0,
    )
    # No `size`: a resumable upload (the emulator rejects multipart uploads).
    with numbered.ndjson_path.open("rb") as ndjson:
        wh.client.load_table_from_file(ndjson, table_id, job_config=job_config).result()
    return table_id
