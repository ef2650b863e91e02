"""DuckDB landing: copy landing files into the raw tables, one row per input line (ELT).

No record is validated here: every line is stored with its text, its file and its line number,
and dbt's staging models decide what is valid. A file whose content (SHA-256) was already
loaded for the same feed is skipped, so re-delivered files change nothing. Each file is loaded
in one transaction with its manifest row: a crash leaves a file either fully loaded or not at all.

Speed: DuckDB reads the file while a second thread hashes it (SHA-256 and a count of the
lines, in one pass over the bytes). Three readers give the same rows, the first that applies wins:

* ``text``: files up to ``WHOLE_FILE_MAX_BYTES`` are read whole (read_text) and split on "\n" in
  DuckDB, as the Python reader splits them: carriage returns and NUL bytes stay in the line,
  an empty line is an empty line, a last line without "\n" is a line;
* ``csv``: larger files without the few bytes DuckDB's CSV reader treats differently from a
  plain split on "\n" (carriage returns, NUL, the \x01 used as the never-occurring delimiter, a
  UTF-8 byte-order mark) are read by read_csv (one VARCHAR column, no quoting), which numbers
  lines in file order;
* ``python``: everything else (invalid UTF-8, which both DuckDB readers refuse, gzip files, or
  a line count that differs from the hashing pass's) is split on "\n" in Python. A line that is
  not UTF-8 is stored as the hex of its bytes with ``line_defect = 'invalid_encoding'``
  (staging rejects it so; no replacement character is ever stored as text).

Two rules of contract §2 hold for every reader: a UTF-8 byte-order mark at the start of a file
is not part of its first line, and a ``.gz`` file is decompressed (its content, not the
compressed bytes, is what is hashed and counted: the same content delivered plain and gzipped is
loaded once).

The DuckDB readers fill a temporary table while the file is hashed; the lines are only inserted
into the raw table once the hash shows the file is new, in the transaction that records it in
the manifest (a re-delivered file is thus read by DuckDB too, at the same time as it is hashed,
before it is skipped).
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import duckdb
import pyarrow as pa

from main_image.engines.base import LoadedFile
from main_image.engines.duckdb.config import raw_line_compression
from main_image.settings import LOADED_FEEDS

#: Lines are inserted in batches of this many bytes of input.
CHUNK_BYTES = 64 * 1024 * 1024

#: Files up to this size are read whole by DuckDB (the ``text`` reader): the file's text and its
#: lines are in memory at once, about three times the file's size.
WHOLE_FILE_MAX_BYTES = 1024 * 1024 * 1024

#: The readers, in the order they are tried (see the module's docstring).
READERS = ("text", "csv", "python")

#: Bytes after which DuckDB's CSV reader would not give back the exact "\n"-split lines.
_CSV_UNSAFE_BYTES = (b"\r", b"\x00", b"\x01")
_UTF8_BOM = b"\xef\xbb\xbf"
#: read_text and read_csv expand these in a path (a file name holding one takes the Python path)
_GLOB_CHARS = "*?[{"
#: read_csv options that return every line of a file as it is (blank lines as NULL).
_CSV_LINE_OPTIONS = (
    "delim = '\x01', quote = '', escape = '', header = false, auto_detect = false, "
    "new_line = '\\n', columns = {'line': 'VARCHAR'}, max_line_size = 67108864"
)



def scalar(con: duckdb.DuckDBPyConnection, query: str, params: list[Any] | None = None) -> Any:
    """The first column of the first row of `query` (None when it returns no row)."""
    rows = con.execute(query, params or []).fetchall()
    return rows[0][0] if rows else None


def _forced_compression(con: duckdb.DuckDBPyConnection, feed: str) -> str | None:
    """A raw table created without the storage clause of its lines (by an older version, see
    config.raw_line_compression) gets them uncompressed by forcing it during the insert."""
    if raw_line_compression() != "uncompressed":
        return None
    ddl = scalar(
        con,
        "select sql from duckdb_tables() where schema_name = 'raw' and table_name = ?",
        [feed],
    )
    return None if "using compression" in str(ddl).lower() else "uncompressed"


def file_sha256(path: Path) -> str:
    return scan_file(path).sha256


@dataclass(frozen=True)
class FileScan:
    sha256: str
    line_count: int  # lines as iter_line_batches counts them
    csv_safe: bool  # DuckDB's CSV reader gives back exactly the same lines
    byte_count: int = 0  # of the content (decompressed)


def is_gzip(path: Path | str) -> bool:
    """A ``.gz`` landing file (decompressed transparently, contract §2)."""
    return str(path).endswith(".gz")


def open_content(path: Path) -> IO[bytes]:
    """The file's content as bytes: decompressed when it is a ``.gz`` file."""
    return gzip.open(path, "rb") if is_gzip(path) else path.open("rb")


def _read_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    """Reads of CHUNK_BYTES (a gzip stream may return less per read: fill each chunk)."""
    while chunk := handle.read(CHUNK_BYTES):
        while len(chunk) < CHUNK_BYTES and (more := handle.read(CHUNK_BYTES - len(chunk))):
            chunk += more
        yield chunk


def scan_file(path: Path) -> FileScan:
    """One pass over the content: hash, byte and line counts, and whether read_csv applies.

    The hash covers every byte (a BOM too); the lines are counted without a leading BOM."""
    digest = hashlib.sha256()
    newlines = 0
    byte_count = 0
    unsafe = is_gzip(path)  # DuckDB's readers get the compressed bytes: Python reads these
    first = True
    last = b""
    with open_content(path) as handle:
        for chunk in _read_chunks(handle):
            digest.update(chunk)
            byte_count += len(chunk)
            newlines += chunk.count(b"\n")
            if not unsafe:
                unsafe = any(byte in chunk for byte in _CSV_UNSAFE_BYTES)
            if first:
                # a BOM split across reads is impossible: reads return CHUNK_BYTES at a time
                if chunk.startswith(_UTF8_BOM):
                    unsafe = True
                    chunk = chunk[len(_UTF8_BOM) :]
                first = False
            if chunk:
                last = chunk[-1:]
    line_count = newlines + (1 if last not in (b"", b"\n") else 0)
    return FileScan(digest.hexdigest(), line_count, not unsafe, byte_count)


def decode_lines(raw_lines: list[bytes]) -> tuple[list[str], list[str | None]]:
    """Each line's text, or the hex of its bytes when it is not UTF-8 (``invalid_encoding``)."""
    try:
        return b"\n".join(raw_lines).decode("utf-8").split("\n"), [None] * len(raw_lines)
    except UnicodeDecodeError:
        pass
    texts: list[str] = []
    encodings: list[str | None] = []
    for raw_line in raw_lines:
        try:
            texts.append(raw_line.decode("utf-8"))
            encodings.append(None)
        except UnicodeDecodeError:
            texts.append(raw_line.hex())
            encodings.append("invalid_encoding")
    return texts, encodings


def iter_line_batches(path: Path) -> Iterator[tuple[list[str], list[str | None]]]:
    """The content's lines, in order, in batches (texts, encodings); a final newline does not
    start a line; a leading BOM is not part of the first line."""
    remainder = b""
    first = True
    with open_content(path) as handle:
        for chunk in _read_chunks(handle):
            if first:
                chunk = chunk.removeprefix(_UTF8_BOM)
                first = False
            data = remainder + chunk
            cut = data.rfind(b"\n")
            if cut < 0:
                remainder = data
                continue
            remainder = data[cut + 1 :]
            yield decode_lines(data[:cut].split(b"\n"))
    if remainder:
        yield decode_lines([remainder])


def _manifest_has(con: duckdb.DuckDBPyConnection, feed: str, column: str, value: Any) -> bool:
    """True when raw.load_manifest records a file of `feed` with this `column` value
    (`content_sha256`: the content was loaded; `byte_count`: a file of the same size was)."""
    if column not in ("content_sha256", "byte_count"):
        raise ValueError(f"not a manifest key: {column!r}")
    found = scalar(
        con,
        f"select count(*) from raw.load_manifest where feed = ? and {column} = ?",
        [feed, value],
    )
    return bool(found)


def load_file(
    con: duckdb.DuckDBPyConnection,
    feed: str,
    path: Path,
    run_id: str,
    invocation_seq: int,
    readers: tuple[str, ...] = READERS,
) -> LoadedFile:
    """Load one file of `feed` into raw.<feed> unless its content was loaded before.

    `readers` restricts the readers tried (tests compare them); "python" always applies."""
    if feed not in LOADED_FEEDS:
        raise ValueError(f"unknown feed {feed!r}; expected one of {', '.join(LOADED_FEEDS)}")
    unknown = set(readers) - set(READERS)
    if unknown:
        raise ValueError(f"unknown readers {sorted(unknown)}; expected some of {READERS}")
    try:
        if is_gzip(path) or _manifest_has(con, feed, "byte_count", path.stat().st_size):
            # probably a re-delivery (every run finds the files of earlier deliveries again):
            # hash first, and read nothing into DuckDB when the content is known
            scan = scan_file(path)
            if _manifest_has(con, feed, "content_sha256", scan.sha256):
                return LoadedFile(feed, path, None, 0, skipped=True)
            staged_by = None if is_gzip(path) else _stage_lines_duckdb(con, path, readers)
        else:
            with ThreadPoolExecutor(max_workers=1) as pool:
                scanning = pool.submit(scan_file, path)
                staged_by = _stage_lines_duckdb(con, path, readers)
                scan = scanning.result()
            if _manifest_has(con, feed, "content_sha256", scan.sha256):
                return LoadedFile(feed, path, None, 0, skipped=True)
        if staged_by == "csv" and not scan.csv_safe:
            staged_by = None  # read_csv may have read some bytes differently
        if staged_by is not None:
            staged_lines = int(scalar(con, f"select count(*) from {_STAGED_LINES}"))
            if staged_lines == scan.line_count:
                return _load_in_transaction(
                    con, feed, path, run_id, invocation_seq, scan, staged_by,
                    _insert_staged_lines,
                )
        return _load_in_transaction(
            con, feed, path, run_id, invocation_seq, scan, "python", _insert_lines_python
        )
    finally:
        con.execute(f"drop table if exists {_STAGED_LINES}")


#: The temporary table the DuckDB readers fill (line_number, line).
_STAGED_LINES = "_landing_lines"


def _stage_lines_duckdb(
    con: duckdb.DuckDBPyConnection, path: Path, readers: tuple[str, ...]
) -> str | None:
    """Read the file's lines into the temporary table with the first DuckDB reader that
    applies and succeeds; returns its name, or None (the Python reader then loads the file)."""
    if any(char in str(path) for char in _GLOB_CHARS):
        return None
    source = str(path).replace("'", "''")
    size = path.stat().st_size
    attempts = []
    if "text" in readers and size <= WHOLE_FILE_MAX_BYTES:
        # string_split keeps the empty string after a final "\n" (and of an empty file): it is
        # not a line
        attempts.append(("text", f"""
            select line_number, line
            from (
                select
                    generate_subscripts(lines, 1) as line_number,
                    unnest(lines) as line,
                    len(lines) as line_total
                from (
                    select string_split(
                        case
                            when starts_with(content, chr(65279)) then substr(content, 2)
                            else content
                        end,
                        chr(10)
                    ) as lines
                    from read_text('{source}')
                )
            )
            where not (line_number = line_total and line = '')
        """))
    if "csv" in readers:
        # row_number over the ordered scan (preserve_insertion_order) numbers the lines in file
        # order; a blank line is read as NULL
        attempts.append(("csv", f"""
            select row_number() over () as line_number, coalesce(line, '') as line
            from read_csv('{source}', {_CSV_LINE_OPTIONS})
        """))
    for reader, query in attempts:
        try:
            con.execute("set preserve_insertion_order = true")
            con.execute(f"create or replace temp table {_STAGED_LINES} as {query}")
            return reader
        except duckdb.Error:
            pass  # e.g. invalid UTF-8, refused by both readers
    return None


def _insert_staged_lines(con: duckdb.DuckDBPyConnection, feed: str, path: Path, file_seq: int,
                         params: list[Any]) -> int:
    """Insert the lines a DuckDB reader staged."""
    del path  # already read
    inserted = con.execute(
        f"""
        insert into raw.{feed}
            (file_seq, line_number, file_name, line, run_id, invocation_seq, loaded_at)
        select ?, line_number, ?, line, ?, ?, ?
        from {_STAGED_LINES}
        """,
        [file_seq, *params],
    ).fetchone()
    return int(inserted[0]) if inserted else 0


def _insert_lines_python(con: duckdb.DuckDBPyConnection, feed: str, path: Path, file_seq: int,
                         params: list[Any]) -> int:
    """Insert the file's lines, split and decoded in Python, in Arrow batches."""
    line_count = 0
    for lines, encodings in iter_line_batches(path):
        batch = pa.table(
            {
                "file_seq": pa.array([file_seq] * len(lines), pa.int64()),
                "line_number": pa.array(
                    range(line_count + 1, line_count + len(lines) + 1), pa.int64()
                ),
                "line": pa.array(lines, pa.string()),
                "line_defect": pa.array(encodings, pa.string()),
            }
        )
        con.register("line_batch", batch)
        con.execute(
            f"""
            insert into raw.{feed} (
                file_seq, line_number, file_name, line, run_id, invocation_seq, loaded_at,
                line_defect
            )
            select file_seq, line_number, ?, line, ?, ?, ?, line_defect
            from line_batch
            """,
            params,
        )
        con.unregister("line_batch")
        line_count += len(lines)
    return line_count


def _load_in_transaction(
    con: duckdb.DuckDBPyConnection,
    feed: str,
    path: Path,
    run_id: str,
    invocation_seq: int,
    scan: FileScan,
    reader: str,
    insert_lines: Callable[..., int],
) -> LoadedFile:
    forced = _forced_compression(con, feed)
    if forced:
        con.execute(f"set force_compression = '{forced}'")
    con.begin()
    try:
        file_seq = scalar(con, "select coalesce(max(file_seq), 0) + 1 from raw.load_manifest")
        loaded_at = scalar(con, "select now()::timestamp")
        line_count = insert_lines(
            con, feed, path, file_seq, [str(path), run_id, invocation_seq, loaded_at]
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
                scan.byte_count,
                run_id,
                invocation_seq,
                loaded_at,
            ],
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        if forced:
            con.execute("reset force_compression")
    return LoadedFile(feed, path, int(file_seq), line_count, skipped=False, reader=reader)
