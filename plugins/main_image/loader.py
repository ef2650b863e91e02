"""Land -> raw: copy landing files into the raw tables, one row per input line (ELT).

No record is validated here: every line is stored with its text, its file and its line number,
and dbt's staging models decide what is valid. A file whose content (SHA-256) was already
loaded for the same feed is skipped, so re-delivered files change nothing. Each file is loaded
in one transaction with its manifest row: a crash leaves a file either fully loaded or not at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from main_image.settings import FEEDS
from main_image.warehouse import scalar

#: Lines are inserted in batches of this many bytes of input.
CHUNK_BYTES = 64 * 1024 * 1024

Progress = Callable[[str], None]


@dataclass(frozen=True)
class LoadedFile:
    feed: str
    path: Path
    file_seq: int | None  # None when skipped
    line_count: int
    skipped: bool


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


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
    sha256 = file_sha256(path)
    if _already_loaded(con, feed, sha256):
        return LoadedFile(feed, path, None, 0, skipped=True)

    con.begin()
    try:
        file_seq = scalar(con, "select coalesce(max(file_seq), 0) + 1 from raw.load_manifest")
        loaded_at = scalar(con, "select now()::timestamp")
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
                [str(path), run_id, invocation_seq, loaded_at],
            )
            con.unregister("line_batch")
            line_count += len(lines)
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
                sha256,
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
