"""The DuckDB engine's settings, from the environment (profiles.yml reads the same variables,
so the loader, the exports and dbt stay within the same bounds)."""

from __future__ import annotations

import os


def raw_line_compression() -> str:
    """How DuckDB stores the text of the raw lines (MAIN_IMAGE_RAW_COMPRESSION), fixed when the
    raw tables are created: `uncompressed` (default) writes them several times faster than
    DuckDB's automatic choice, which analyses the text with every method, for ~3x the disk space
    of the raw layer; `auto` keeps the raw layer compact. The other columns are compressed
    (their values repeat within a file)."""
    value = os.environ.get("MAIN_IMAGE_RAW_COMPRESSION", "uncompressed").strip().lower()
    if value not in {"uncompressed", "auto"}:
        raise ValueError(f"MAIN_IMAGE_RAW_COMPRESSION must be uncompressed or auto, not {value!r}")
    return value


def duckdb_config() -> dict[str, str]:
    """The memory limit, threads and spill folder of dbt's DuckDB target."""
    config = {
        "memory_limit": os.environ.get("MAIN_IMAGE_DUCKDB_MEMORY_LIMIT", "8GB"),
        "threads": os.environ.get("MAIN_IMAGE_DUCKDB_THREADS", "2"),
    }
    if os.environ.get("MAIN_IMAGE_DUCKDB_TEMP_DIR"):
        config["temp_directory"] = os.environ["MAIN_IMAGE_DUCKDB_TEMP_DIR"]
    return config
