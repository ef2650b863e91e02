"""Alembic environment of the image service (``main_image.service:migrations``)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine


def config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "main_image.service:migrations")
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (idempotent)."""
    command.upgrade(config(engine), revision)
