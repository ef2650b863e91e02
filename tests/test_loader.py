"""The loader's readers: DuckDB's (`text`, `csv`) and the Python one give the same raw rows.

Every nasty file is loaded once per reader into its own warehouse; the raw rows (line number,
exact text and encoding) must be the Python reader's, which splits on "\\n", drops a leading
byte-order mark and keeps a line that is not UTF-8 as the hex of its bytes. A reader that
cannot give the same rows must hand the file on (`reader` names the one that loaded it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from main_image.engines.duckdb import loader, warehouse

LONG_LINE = b'{"pad": "' + b"x" * (1024 * 1024) + b'"}'

NASTY_FILES: dict[str, bytes] = {
    "plain": b'{"a": 1}\n{"b": 2}\n',
    "empty_file": b"",
    "only_a_newline": b"\n",
    "empty_lines": b'\n\n{"a": 1}\n\n\n{"b": 2}\n\n',
    "no_trailing_newline": b'{"a": 1}\n{"b": 2}',
    "newline_then_text": b"\nx",
    "crlf": b'{"a": 1}\r\n{"b": 2}\r\n\r\n',
    "cr_alone": b'a\rb\nc\r',
    "crlf_no_trailing_newline": b'{"a": 1}\r\n{"b": 2}',
    "invalid_utf8": b'{"a": 1}\n{"b": "\xff\xfe"}\n{"c": 3}\n',
    "invalid_utf8_truncated_last_line": b'{"a": 1}\n{"b": "\xc3',
    "quotes_tabs_commas_backslashes": (
        b'"a,b"\t\\x\\\n\'q\'\t,\n"unterminated\n{"s": "\\"q\\" \\\\ \\t \\u00e9"}\n,,,\n'
    ),
    "delimiter_byte_and_nul": b"a\x01b\nc\x00d\n",
    "byte_order_mark": b'\xef\xbb\xbf{"a": 1}\n{"b": 2}\n',
    "multibyte_utf8": '{"city": "Zürich €"}\n{"emoji": "😀"}\n'.encode(),
    "whitespace_lines": b"  \n\t\n \t \n",
    "one_mb_line": LONG_LINE + b"\n" + LONG_LINE,
}


def raw_rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select file_seq, line_number, file_name, line, run_id, invocation_seq, line_defect"
        " from raw.images order by line_number"
    ).fetchall()


@pytest.fixture
def connect(tmp_path: Path) -> Iterator:
    opened: list[duckdb.DuckDBPyConnection] = []

    def open_warehouse(name: str) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(str(tmp_path / f"{name}.duckdb"))
        for statement in warehouse.RAW_DDL:
            con.execute(statement)
        opened.append(con)
        return con

    yield open_warehouse
    for con in opened:
        con.close()


def load(connect, name: str, path: Path, readers: tuple[str, ...]):
    con = connect(name)
    loaded = loader.load_file(con, "images", path, "run-1", 1, readers=readers)
    return loaded, raw_rows(con)


@pytest.mark.parametrize("name", sorted(NASTY_FILES))
def test_every_reader_gives_the_python_readers_rows(name: str, tmp_path: Path, connect) -> None:
    path = tmp_path / f"{name}.jsonl"
    path.write_bytes(NASTY_FILES[name])
    python, python_rows = load(connect, "python", path, ("python",))
    batches = list(loader.iter_line_batches(path))
    expected = [line for lines, _ in batches for line in lines]
    assert [row[3] for row in python_rows] == expected
    assert [row[6] for row in python_rows] == [code for _, codes in batches for code in codes]
    assert [row[1] for row in python_rows] == list(range(1, len(expected) + 1))
    assert python.reader == "python" and python.line_count == len(expected)

    for readers in (("text", "python"), ("csv", "python"), loader.READERS):
        loaded, rows = load(connect, "-".join(readers), path, readers)
        assert rows == python_rows, f"{readers} read {loaded.reader}"
        assert loaded.line_count == len(expected)
        assert loaded.reader in readers


def test_which_reader_loads_what(tmp_path: Path, connect) -> None:
    """The text reader takes any valid UTF-8; read_csv only files without \\r, NUL, \\x01 or a
    byte-order mark; invalid UTF-8 always ends with the Python reader."""
    expected = {
        "plain": ("text", "csv"),
        "empty_lines": ("text", "csv"),
        "no_trailing_newline": ("text", "csv"),
        "crlf": ("text", "python"),
        "byte_order_mark": ("text", "python"),
        "delimiter_byte_and_nul": ("text", "python"),
        "invalid_utf8": ("python", "python"),
        "invalid_utf8_truncated_last_line": ("python", "python"),
    }
    for name, (text_reader, csv_reader) in expected.items():
        path = tmp_path / f"{name}.jsonl"
        path.write_bytes(NASTY_FILES[name])
        assert load(connect, f"t-{name}", path, loader.READERS)[0].reader == text_reader, name
        assert load(connect, f"c-{name}", path, ("csv", "python"))[0].reader == csv_reader, name


def test_a_file_above_the_whole_file_limit_is_read_by_read_csv(
    tmp_path: Path, connect, monkeypatch
) -> None:
    path = tmp_path / "big.jsonl"
    path.write_bytes(NASTY_FILES["empty_lines"])
    monkeypatch.setattr(loader, "WHOLE_FILE_MAX_BYTES", 4)
    loaded, rows = load(connect, "big", path, loader.READERS)
    assert loaded.reader == "csv"
    assert [row[3] for row in rows] == ["", "", '{"a": 1}', "", "", '{"b": 2}', ""]


def test_a_glob_character_in_the_path_takes_the_python_reader(tmp_path: Path, connect) -> None:
    path = tmp_path / "part[1]*.jsonl"
    path.write_bytes(NASTY_FILES["plain"])
    (tmp_path / "part1x.jsonl").write_bytes(b"other\n")  # what the pattern would match
    loaded, rows = load(connect, "glob", path, loader.READERS)
    assert loaded.reader == "python"
    assert [row[3] for row in rows] == ['{"a": 1}', '{"b": 2}']


def test_a_file_loaded_before_is_skipped_whatever_its_name(tmp_path: Path, connect) -> None:
    first, again = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_bytes(NASTY_FILES["crlf"])
    again.write_bytes(NASTY_FILES["crlf"])
    con = connect("skip")
    loaded = loader.load_file(con, "images", first, "run-1", 1)
    skipped = loader.load_file(con, "images", again, "run-2", 2)
    assert not loaded.skipped and skipped.skipped and skipped.reader is None
    assert con.execute("select count(*) from raw.images").fetchone() == (3,)
    assert con.execute("select count(*) from raw.load_manifest").fetchone() == (1,)
    # the staging table of the DuckDB readers does not outlive a load
    assert not con.execute(
        "select * from duckdb_tables() where table_name = '_landing_lines'"
    ).fetchall()


def test_a_redelivered_file_is_skipped_without_reading_it_into_duckdb(
    tmp_path: Path, connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every run finds earlier deliveries again: their content must be recognised by its hash
    alone. A new file of the same size as a loaded one is still loaded."""
    first, again, same_size = (tmp_path / name for name in ("a.jsonl", "b.jsonl", "c.jsonl"))
    first.write_bytes(b'{"a": 1}\n')
    again.write_bytes(b'{"a": 1}\n')
    same_size.write_bytes(b'{"a": 2}\n')
    con = connect("redelivery")
    assert not loader.load_file(con, "images", first, "run-1", 1).skipped

    staged: list[Path] = []
    stage = loader._stage_lines_duckdb

    def counting_stage(con_: duckdb.DuckDBPyConnection, path: Path, readers: tuple) -> str | None:
        staged.append(path)
        return stage(con_, path, readers)

    monkeypatch.setattr(loader, "_stage_lines_duckdb", counting_stage)
    assert loader.load_file(con, "images", again, "run-2", 2).skipped
    assert staged == []
    loaded = loader.load_file(con, "images", same_size, "run-2", 2)
    assert not loaded.skipped and loaded.reader == "text" and staged == [same_size]
    assert con.execute("select line from raw.images order by file_seq").fetchall() == [
        ('{"a": 1}',), ('{"a": 2}',)]


def test_the_manifest_counts_lines_and_bytes(tmp_path: Path, connect) -> None:
    path = tmp_path / "manifest.jsonl"
    path.write_bytes(NASTY_FILES["no_trailing_newline"])
    con = connect("manifest")
    loader.load_file(con, "images", path, "run-1", 1)
    assert con.execute(
        "select line_count, byte_count, content_sha256 from raw.load_manifest"
    ).fetchone() == (2, len(NASTY_FILES["no_trailing_newline"]), loader.file_sha256(path))


def test_unknown_reader_is_an_error(tmp_path: Path, connect) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b"x\n")
    with pytest.raises(ValueError, match="unknown readers"):
        loader.load_file(connect("x"), "images", path, "run-1", 1, readers=("awk",))


def line_storage(con: duckdb.DuckDBPyConnection, column: str) -> set[str]:
    return {
        row[0]
        for row in con.execute(
            "select compression from pragma_storage_info('raw.images')"
            " where column_name = ? and segment_type <> 'VALIDITY'",
            [column],
        ).fetchall()
    }


def test_the_lines_are_stored_uncompressed_and_the_rest_compressed(tmp_path: Path) -> None:
    path = tmp_path / "storage.jsonl"
    path.write_bytes(b'{"a": 1}\n' * 5000)
    con = duckdb.connect(str(tmp_path / "storage.duckdb"))
    for statement in warehouse.RAW_DDL:
        con.execute(statement)
    loader.load_file(con, "images", path, "run-1", 1)
    con.execute("checkpoint")
    assert line_storage(con, "line") == {"Uncompressed"}
    assert "Uncompressed" not in line_storage(con, "file_name")
    con.close()


def test_a_raw_table_created_without_the_storage_clause_still_gets_uncompressed_lines(
    tmp_path: Path,
) -> None:
    path = tmp_path / "legacy.jsonl"
    path.write_bytes(b'{"a": 1}\n' * 300_000)  # whole row groups: written during the insert
    con = duckdb.connect(str(tmp_path / "legacy.duckdb"))
    for statement in warehouse.raw_ddl("auto"):  # no storage clause, as older versions made it
        con.execute(statement)
    loader.load_file(con, "images", path, "run-1", 1)
    con.execute("checkpoint")
    assert line_storage(con, "line") == {"Uncompressed"}
    assert con.execute("select current_setting('force_compression')").fetchone()[0] == "auto"
    con.close()
