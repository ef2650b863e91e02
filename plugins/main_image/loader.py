"""Land -> raw: copy landing files into the raw tables, one row per input line (ELT).

No record is validated here: every line is stored with its text, its file and its line number,
and dbt's staging models decide what is valid. A file whose content (SHA-256) was already
loaded for the same feed is skipped, so re-delivered files change nothing. Each file is loaded
in one transaction with its manifest row: a crash leaves a file either fully loaded or not at all.

Speed: one pass over the bytes computes the SHA-256, counts the lines and looks for the few
bytes DuckDB's CSV reader would treat differently from a plain split on "\n" (carriage
returns, NUL, the \x01 used as the never-occurring delimiter, a UTF-8 byte-order mark). Files
without them are read by DuckDB itself (read_csv, one VARCHAR column, no quoting), which keeps
blank lines as lines and numbers lines in file order; the line count is checked against the
scan. Anything else (those bytes, invalid UTF-8, a count that differs) takes the Python path,
which splits on "\n" and decodes with replacement characters: both give the same rows.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from main_image.settings import FEEDS
from main_image.warehouse import scalar

#: Lines are inserted in batches of this many bytes of input.
CHUNK_BYTES = 64 * 1024 * 1024

#: Bytes after which DuckDB's CSV reader would not give back the exact "\n"-split lines.
_CSV_UNSAFE_BYTES = (b"\r", b"\x00", b"\x01")
_UTF8_BOM = b"\xef\xbb\xbf"
#: read_csv expands these in a path (a file name holding one takes the Python path)
_GLOB_CHARS = "*?[{"
#: read_csv options that return every line of a file as it is (blank lines as NULL).
_CSV_LINE_OPTIONS = (
    "delim = '\x01', quote = '', escape = '', header = false, auto_detect = false, "
    "new_line = '\\n', columns = {'line': 'VARCHAR'}, max_line_size = 67108864"
)

Progress = Callable[[str], None]


def raw_compression() -> str:
    """How DuckDB stores the raw lines: `uncompressed` (default) writes them ~3x faster than
    DuckDB's automatic choice (which analyses every column with every method) for ~3x the disk
    space of the raw layer; MAIN_IMAGE_RAW_COMPRESSION=auto keeps the raw layer compact."""
    value = os.environ.get("MAIN_IMAGE_RAW_COMPRESSION", "uncompressed").strip().lower()
    if value not in {"uncompressed", "auto", "zstd", "fsst", "dictionary"}:
        raise ValueError(f"MAIN_IMAGE_RAW_COMPRESSION must be uncompressed or auto, not {value!r}")
    return value


@dataclass(frozen=True)
class LoadedFile:
    feed: str
    path: Path
    file_seq: int | None  # None when skipped
    line_count: int
    skipped: bool


def file_sha256(path: Path) -> str:
    return scan_file(path).sha256


@dataclass(frozen=True)
class FileScan:
    sha256: str
    line_count: int  # lines as iter_line_batches counts them
    csv_safe: bool  # DuckDB's CSV reader gives back exactly the same lines


def scan_file(path: Path) -> FileScan:
    """One pass over the file: content hash, line count, and whether the fast path applies."""
    digest = hashlib.sha256()
    newlines = 0
    unsafe = False
    first = True
    last = b""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
            newlines += chunk.count(b"\n")
            if not unsafe:
                unsafe = any(byte in chunk for byte in _CSV_UNSAFE_BYTES)
            if first:
                # a BOM split across reads is impossible: reads return CHUNK_BYTES at a time
                unsafe = unsafe or chunk.startswith(_UTF8_BOM)
                first = False
            last = chunk[-1:]
    line_count = newlines + (1 if last not in (b"", b"\n") else 0)
    return FileScan(digest.hexdigest(), line_count, not unsafe)


def iter_line_batches(path: Path) -> Iterator[list[str]]:
    """The file's lines, in order, in batches; a final newline does not start a line."""
    remainder = b""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            data = remainder + chunk
            cut = data.rfind(b"\n")
            if cut < 0:
                remainder = data
                continue
            remainder = data[cut + 1 :]
            yield data[:cut].decode("utf-8", errors="replace").split("\n")
    if remainder:
        yield [remainder.decode("utf-8", errors="replace")]


def _already_loaded(con: duckdb.DuckDBPyConnection, feed: str, sha256: str) -> bool:
    found = scalar(
        con,
        "select count(*) from raw.load_manifest where feed = ? and content_sha256 = ?",
        [feed, sha256],
    )
    return bool(found)


def load_file(
    con: duckdb.DuckDBPyConnection,
    feed: str,
    path: Path,
    run_id: str,
    invocation_seq: int,
) -> LoadedFile:
    """Load one file of `feed` into raw.<feed> unless its content was loaded before."""
    if feed not in FEEDS:
        raise ValueError(f"unknown feed {feed!r}; expected one of {', '.join(FEEDS)}")
    scan = scan_file(path)
    if _already_loaded(con, feed, scan.sha256):
        return LoadedFile(feed, path, None, 0, skipped=True)
    if scan.csv_safe and not any(char in str(path) for char in _GLOB_CHARS):
        try:
            return _load_in_transaction(
                con, feed, path, run_id, invocation_seq, scan, _insert_lines_duckdb
            )
        except (duckdb.Error, _LineCountMismatch):
            pass  # e.g. invalid UTF-8: the Python path decodes it with replacement characters
    return _load_in_transaction(con, feed, path, run_id, invocation_seq, scan, _insert_lines_python)


class _LineCountMismatch(Exception):
    """DuckDB's reader did not return the lines the scan counted (never expected)."""


def _insert_lines_python(
    con: duckdb.DuckDBPyConnection,
    feed: str,
    path: Path,
    file_seq: int,
    params: list[Any],
    expected_lines: int,
) -> int:
    del expected_lines  # the lines are whatever the file holds when it is read
    line_count = 0
    for lines in iter_line_batches(path):
        batch = pa.table(
            {
                "file_seq": pa.array([file_seq] * len(lines), pa.int64()),
                "line_number": pa.array(
                    range(line_count + 1, line_count + len(lines) + 1), pa.int64()
                ),
                "line": pa.array(lines, pa.string()),
            }
        )
        con.register("line_batch", batch)
        con.execute(
            f"""
            insert into raw.{feed}
                (file_seq, line_number, file_name, line, run_id, invocation_seq, loaded_at)
            select file_seq, line_number, ?, line, ?, ?, ?
            from line_batch
            """,
            params,
        )
        con.unregister("line_batch")
        line_count += len(lines)
    return line_count


def _insert_lines_duckdb(
    con: duckdb.DuckDBPyConnection,
    feed: str,
    path: Path,
    file_seq: int,
    params: list[Any],
    expected_lines: int,
) -> int:
    """read_csv numbers the lines in file order (row_number over the ordered scan, which runs
    on one thread); the insert into the raw table, which compresses, then runs in parallel."""
    source = str(path).replace("'", "''")
    con.execute("set preserve_insertion_order = true")
    compression = raw_compression()
    con.execute(
        f"""
        create or replace temp table _landing_lines as
        select row_number() over () as line_number, coalesce(line, '') as line
        from read_csv('{source}', {_CSV_LINE_OPTIONS})
        """
    )
    try:
        con.execute(f"set force_compression = '{compression}'")
        con.execute(
            f"""
            insert into raw.{feed}
                (file_seq, line_number, file_name, line, run_id, invocation_seq, loaded_at)
            select ?, line_number, ?, line, ?, ?, ?
            from _landing_lines
            """,
            [file_seq, *params],
        )
        line_count = int(scalar(con, "select count(*) from _landing_lines"))
    finally:
        con.execute("reset force_compression")
        con.execute("drop table if exists _landing_lines")
    if line_count != expected_lines:
        raise _LineCountMismatch(f"{path}: {line_count} lines read, {expected_lines} counted")
    return line_count


def _load_in_transaction(
    con: duckdb.DuckDBPyConnection,
    feed: str,
    path: Path,
    run_id: str,
    invocation_seq: int,
    scan: FileScan,
    insert_lines: Callable[..., int],
) -> LoadedFile:
    con.begin()
    try:
        file_seq = scalar(con, "select coalesce(max(file_seq), 0) + 1 from raw.load_manifest")
        loaded_at = scalar(con, "select now()::timestamp")
        line_count = insert_lines(
            con, feed, path, file_seq, [str(path), run_id, invocation_seq, loaded_at],
            scan.line_count,
        )
        con.execute(
            """
            insert into raw.load_manifest (
                file_seq, feed, file_name, content_sha256, line_count, byte_count,
                run_id, invocation_seq, loaded_at
            ) values (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                file_seq,
                feed,
                str(path),
                scan.sha256,
                line_count,
                path.stat().st_size,
                run_id,
                invocation_seq,
                loaded_at,
            ],
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return LoadedFile(feed, path, int(file_seq), line_count, skipped=False)


def load_feeds(
    con: duckdb.DuckDBPyConnection,
    files_by_feed: dict[str, list[Path]],
    run_id: str,
    invocation_seq: int,
    progress: Progress | None = None,
) -> list[LoadedFile]:
    """Load every file, feed by feed (SPEC order) and by path within a feed."""
    loaded: list[LoadedFile] = []
    for feed in FEEDS:
        for path in sorted(files_by_feed.get(feed, [])):
            result = load_file(con, feed, path, run_id, invocation_seq)
            loaded.append(result)
            if progress:
                if result.skipped:
                    progress(f"land {feed}: {path.name} skipped (content loaded before)")
                else:
                    progress(f"land {feed}: {path.name} -> {result.line_count:,} lines")
    return loaded
