"""main_image.fileio on local paths: write aside then rename, in order; listing; existence."""

from __future__ import annotations

from pathlib import Path

import pytest
from main_image import fileio


def test_write_aside_renames_in_order_and_leaves_nothing_behind(tmp_path: Path) -> None:
    seen: list[list[str]] = []

    def writer(text: str):
        def write(location: str) -> int:
            # while writing, no final file of the set is there yet
            seen.append(sorted(p.name for p in tmp_path.rglob("*") if p.is_file()))
            Path(location).write_text(text, encoding="utf-8")
            return len(text)
        return write

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / ".a.jsonl.partial-1").write_text("left by a dead attempt")
    files = [(str(tmp_path / "out" / "a.jsonl"), writer("aa")),
             (str(tmp_path / "other" / "b.json"), writer("b"))]
    assert fileio.write_aside(files, tag="2") == {files[0][0]: 2, files[1][0]: 1}
    assert seen == [[], [".a.jsonl.partial-2"]]
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")
                  if p.is_file()) == ["other/b.json", "out/a.jsonl"]


def test_a_failed_writer_publishes_nothing(tmp_path: Path) -> None:
    def fail(location: str) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError):
        fileio.write_aside([(str(tmp_path / "a"), lambda loc: Path(loc).write_text("a")),
                            (str(tmp_path / "b"), fail)])
    assert list(tmp_path.iterdir()) == []


def test_listing_reading_and_existence(tmp_path: Path) -> None:
    with fileio.open_write(tmp_path / "x" / "y" / "z.txt") as handle:
        handle.write("one\ntwo\n")
    assert fileio.list_files(tmp_path) == ["x/y/z.txt"]
    assert fileio.list_files(tmp_path / "missing") == []
    assert fileio.exists(tmp_path / "x" / "y" / "z.txt")
    assert not fileio.exists(tmp_path / "x")
    assert fileio.read_text(tmp_path / "x" / "y" / "z.txt") == "one\ntwo\n"
    assert fileio.count_lines(tmp_path / "x" / "y" / "z.txt") == 2
    assert fileio.split_gcs_uri("gs://bucket/a/b") == ("bucket", "a/b")
    assert fileio.join("gs://bucket/a/", "b") == "gs://bucket/a/b"
