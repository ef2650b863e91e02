"""The catalog, upload links, the outbox, the id allocator and the stats summary tables.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "images",
        sa.Column("image_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hotel_id", sa.BigInteger, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("link_id", sa.String(32)),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(16), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("mime_type", sa.String(32), nullable=False),
        sa.Column("file_size_bytes", sa.BigInteger, nullable=False),
        sa.Column("camera_make", sa.String(200)),
        sa.Column("camera_model", sa.String(200)),
        sa.Column("taken_at", TZ),
        sa.Column("gps_lat", sa.Float),
        sa.Column("gps_lon", sa.Float),
        sa.Column("uploaded_at", TZ, nullable=False),
        sa.Column("is_active", sa.Boolean, nullable=False),
        sa.Column("deleted_at", TZ),
    )
    op.create_index("ix_images_hotel_id_image_id", "images", ["hotel_id", "image_id"])
    op.create_index(
        "uq_images_live_hotel_content",
        "images",
        ["hotel_id", "content_sha256"],
        unique=True,
        sqlite_where=sa.text("deleted_at IS NULL"),
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "upload_links",
        sa.Column("link_id", sa.String(32), primary_key=True),
        sa.Column("hotel_id", sa.BigInteger, nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("max_files", sa.Integer, nullable=False),
        sa.Column("files_used", sa.Integer, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "outbox",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("image_id", sa.BigInteger, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sqlite_autoincrement=True,  # ids name the landing files: never reused after a drain
    )
    op.create_table(
        "id_allocator",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("next_id", sa.BigInteger, nullable=False),
        sa.Column("max_id", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "stats_formats",
        sa.Column("mime_type", sa.String(32), primary_key=True),
        sa.Column("images", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "stats_cameras",
        sa.Column("camera_model", sa.String(200), primary_key=True),
        sa.Column("images", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "stats_days",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("uploads", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "stats_days",
        "stats_cameras",
        "stats_formats",
        "id_allocator",
        "outbox",
        "upload_links",
        "images",
    ):
        op.drop_table(table)
