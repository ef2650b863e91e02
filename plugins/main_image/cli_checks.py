"""The checks `main-image run` makes before anything is landed (contract §6, invariant 9).

Each unusable argument or environment is one ``UsageError`` (one line on stderr, exit 2) that
names the cause and the flag or file: an input that is missing or unreadable, a date that is not
strictly ``YYYY-MM-DD``, a scoring version the registry does not know, a malformed pin, a
warehouse file that is not a DuckDB database, an output path that cannot be written. They run
before the warehouse is touched, so a rejected invocation leaves no trace.
"""

from __future__ import annotations

import glob
import os
import re
import sys
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

from main_image.settings import DBT_PROJECT_DIR


class UsageError(Exception):
    """An argument the run cannot use; reported as one line, exit code 2."""


def progress(message: str) -> None:
    """The CLI's ``settings.Progress``: one time-stamped line on stderr."""
    stamp = datetime.now(UTC).strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)


def warn(message: str) -> None:
    """A warning: one line on stderr; the run goes on."""
    print(f"main-image: warning: {message}", file=sys.stderr, flush=True)


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_as_of(text: str, flag: str = "--as-of") -> date:
    """A date written strictly ``YYYY-MM-DD`` (``date.fromisoformat`` also takes ``20240701``
    and ``2024-W27-1``; an empty value is not "today")."""
    try:
        if not _DATE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{flag} must be a date YYYY-MM-DD, got {text!r}") from None


def _check_readable(flag: str, path: Path) -> None:
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as error:
        raise UsageError(f"--{flag}: cannot read {path}: {error.strerror or error}") from None


def expand_inputs(flag: str, patterns: list[str]) -> list[Path]:
    """Every file named by the flag's values (paths or globs); each must match something that
    can be read."""
    paths: list[Path] = []
    for pattern in patterns:
        if glob.has_magic(pattern):
            matches = sorted(Path(match) for match in glob.glob(pattern, recursive=True))
            files = [match for match in matches if match.is_file()]
            if not files:
                raise UsageError(f"--{flag}: no file matches {pattern!r}")
            paths.extend(files)
        else:
            path = Path(pattern)
            if not path.is_file():
                raise UsageError(f"--{flag}: no such file: {pattern}")
            paths.append(path)
    for path in paths:
        _check_readable(flag, path)
    return paths


def _writable_folder(path: Path) -> str | None:
    """Why files cannot be created in ``path`` (created when missing), or None."""
    ancestor = path
    while not ancestor.exists():
        if ancestor.parent == ancestor:
            return f"{path} cannot be created"
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"{ancestor} is not a folder"
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return f"{ancestor} is not writable"
    return None


def check_output(flag: str, path: Path) -> None:
    """The file can be written: not a folder, in a folder that exists or can be created."""
    if path.is_dir():
        raise UsageError(f"{flag}: {path} is a folder, not a file")
    if path.exists() and not os.access(path, os.W_OK):
        raise UsageError(f"{flag}: {path} is not writable")
    problem = _writable_folder(path.parent)
    if problem:
        raise UsageError(f"{flag}: cannot write {path}: {problem}")


#: The first bytes of a DuckDB database file: an 8-byte checksum, then the magic ``DUCK``.
_DUCKDB_MAGIC = (8, b"DUCK")


def check_warehouse(path: Path) -> None:
    """``--warehouse``: an existing DuckDB database file, or a file that can be created."""
    if path.is_dir():
        raise UsageError(f"--warehouse: {path} is a folder, not a DuckDB file")
    if not path.exists():
        problem = _writable_folder(path.parent)
        if problem:
            raise UsageError(f"--warehouse: cannot create {path}: {problem}")
        return
    offset, magic = _DUCKDB_MAGIC
    try:
        with path.open("rb") as handle:
            header = handle.read(offset + len(magic))
    except OSError as error:
        raise UsageError(f"--warehouse: cannot read {path}: {error.strerror or error}") from None
    if header[offset:] != magic:
        raise UsageError(f"--warehouse: {path} is not a DuckDB database file")
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK | os.X_OK):
        raise UsageError(f"--warehouse: {path} is not writable")


def known_scoring_versions(project_dir: Path = DBT_PROJECT_DIR) -> set[str]:
    """The versions of the scoring registry (macros/scoring/scoring_versions.sql), read from the
    macro's source: no dbt parse is needed to refuse an unknown version."""
    source = (project_dir / "macros" / "scoring" / "scoring_versions.sql").read_text("utf-8")
    body = source.split("macro scoring_versions()", 1)[-1].split("endmacro", 1)[0]
    return set(re.findall(r"['\"]([A-Za-z0-9_.-]+)['\"]\s*:\s*\{", body))


def check_database_url(url: str | None) -> None:
    """The serving copy's database: a SQLAlchemy URL of SQLite or PostgreSQL (exit 2 before
    anything is landed), and for SQLite a folder that can hold the file."""
    if url is None:
        return
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UsageError("--database-url: not a SQLAlchemy URL (sqlite:///FILE or "
                         "postgresql+psycopg://...)") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise UsageError(f"--database-url: {parsed.get_backend_name()} is not supported "
                         "(sqlite or postgresql)")
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        folder = Path(parsed.database).expanduser().resolve().parent
        existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
        if existing is None or not existing.is_dir() or not os.access(existing, os.W_OK):
            raise UsageError(f"--database-url: cannot create the database in {folder}")


def check_scoring_versions(versions: Iterable[tuple[str, str | None]]) -> None:
    """Each (flag, version) names a registered version."""
    known = known_scoring_versions()
    for flag, version in versions:
        if version is not None and version not in known:
            raise UsageError(f"{flag}: unknown scoring version {version!r}; known: "
                             f"{', '.join(sorted(known))}")


#: A tag model version (contract §2): v<major>-<minor>-<patch>, each part a 64-bit integer.
_TAG_VERSION = re.compile(r"v(\d{1,18})-(\d{1,18})-(\d{1,18})")


def check_pins(tag_version_pin: str | None, obiq_version_pin: str | None) -> None:
    if tag_version_pin is not None and not _TAG_VERSION.fullmatch(tag_version_pin):
        raise UsageError("--tag-version-pin must be a tag version v<major>-<minor>-<patch> "
                         f"(digits), got {tag_version_pin!r}")
    if obiq_version_pin is not None and (
        not obiq_version_pin.strip() or obiq_version_pin != obiq_version_pin.strip()
    ):
        raise UsageError(f"--obiq-version-pin must be a non-empty version without surrounding "
                         f"spaces, got {obiq_version_pin!r}")


def unmatched_pins(warehouse: Path, tag_version_pin: str | None,
                   obiq_version_pin: str | None) -> list[str]:
    """Warnings for pins that match no valid record of the warehouse (after the run's dbt: the
    run's own files included): such a pin leaves every image without tags or obiq score."""
    import duckdb

    checks = [
        ("--tag-version-pin", tag_version_pin, "staging.stg_image_tags", "tag_version", "tag"),
        ("--obiq-version-pin", obiq_version_pin, "staging.stg_obiq_scores", "obiq_version",
         "obiq score"),
    ]
    warnings = []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for flag, pin, table, column, what in checks:
            if pin is None:
                continue
            found = con.execute(
                f"select count(*) from {table} where rejection_reason is null and {column} = ?",
                [pin],
            ).fetchone()
            if not found or not found[0]:
                warnings.append(f"{flag} {pin} matches no {what} record in {warehouse}; "
                                f"no image has a {what} of that version")
    return warnings
