"""Paths and defaults shared by the CLI, the DAGs and the tests."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(os.environ.get("MAIN_IMAGE_HOME", Path(__file__).resolve().parents[2]))
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DEFAULT_WAREHOUSE = PROJECT_ROOT / "warehouse" / "main_image.duckdb"
DEFAULT_EXPORTS_DIR = PROJECT_ROOT / "exports"

#: The feeds of the landing zone (SPEC §2), in the order they are loaded.
FEEDS: tuple[str, ...] = (
    "images",
    "image_tags",
    "obiq_scores",
    "main_images",
    "admin_overrides",
    "user_events",
)

DEFAULT_SCORING_VERSION = "v1"
