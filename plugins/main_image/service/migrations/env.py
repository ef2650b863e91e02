"""Alembic runs this for every command; the engine comes from ``migrations.config``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from main_image.service.db import Base

cfg = context.config
engine = cfg.attributes.get("engine") or create_engine(cfg.get_main_option("sqlalchemy.url"))

if context.is_offline_mode():
    context.configure(url=engine.url, target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata)
        with context.begin_transaction():
            context.run_migrations()
