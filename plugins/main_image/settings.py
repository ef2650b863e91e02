"""Paths, feeds and small shared definitions of the CLI, the DAGs and the tests.

Kept free of heavy imports: the DAG files read it at parse time.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

PROJECT_ROOT = Path(os.environ.get("MAIN_IMAGE_HOME", Path(__file__).resolve().parents[2]))
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DEFAULT_WAREHOUSE = PROJECT_ROOT / "warehouse" / "main_image.duckdb"
DEFAULT_EXPORTS_DIR = PROJECT_ROOT / "exports"

#: The feeds of the landing zone (contract §2), in the order they are loaded.
FEEDS: tuple[str, ...] = (
    "images",
    "image_tags",
    "obiq_scores",
    "main_images",
    "admin_overrides",
    "user_events",
)

#: Records the platform itself writes into the landing zone (not contract feeds): loaded like a
#: feed into raw.<name> (content dedup, file_seq, watermark), staged and reported, but not
#: counted in a run's metrics. `stream_drains`: one record per partition a stream drain owned
#: (main_image.stream.report), for the stream's lag per day (rpt_stream_lag_daily).
OPERATIONAL_FEEDS: tuple[str, ...] = ("stream_drains",)

#: Every folder of the landing zone that is loaded, in load order.
LOADED_FEEDS: tuple[str, ...] = FEEDS + OPERATIONAL_FEEDS

DEFAULT_SCORING_VERSION = "v1"

#: A callback that reports one line of progress (the CLI prints it to stderr, Airflow logs it).
Progress = Callable[[str], None]

#: The strings an environment variable or a DAG param may use for "true" (case-insensitive).
TRUE_STRINGS = frozenset({"1", "true", "yes", "on"})


def is_true(value: object) -> bool:
    """A flag given as a bool or as a string (environment variables, Airflow params)."""
    if isinstance(value, bool):
        return value
    return value is not None and str(value).strip().lower() in TRUE_STRINGS
