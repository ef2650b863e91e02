"""The serving copy of the published state (main images, candidates, change log, watermarks)
and the audit of overrides set through the API.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "serving_main_images",
        sa.Column("hotel_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("image_id", sa.BigInteger, nullable=False),
        sa.Column("cdn_url", sa.Text, nullable=False),
        sa.Column("selection_source", sa.String(16)),
        sa.Column("score", sa.Float),
        sa.Column("score_terms", sa.Text),
        sa.Column("margin", sa.Float),
        sa.Column("scoring_version", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("invocation_seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "serving_candidates",
        sa.Column("image_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hotel_id", sa.BigInteger, nullable=False),
        sa.Column("image_rank", sa.Integer),
    )
    op.create_index("ix_serving_candidates_hotel_id", "serving_candidates", ["hotel_id"])
    op.create_table(
        "serving_changes",
        sa.Column("change_id", ID, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("run_position", sa.Integer, nullable=False),
        sa.Column("change_type", sa.String(16), nullable=False),
        sa.Column("hotel_id", sa.BigInteger, nullable=False),
        sa.Column("image_id", sa.BigInteger),
        sa.Column("cdn_url", sa.Text),
        sa.Column("published_at", TZ, nullable=False),
        sqlite_autoincrement=True,  # change ids are cursors: never reused
    )
    op.create_index(
        "uq_serving_changes_run_position",
        "serving_changes",
        ["run_id", "run_position"],
        unique=True,
    )
    op.create_table(
        "serving_runs",
        sa.Column("run_id", sa.String(250), primary_key=True),
        sa.Column("invocation_seq", sa.BigInteger, nullable=False),
        sa.Column("changes", sa.Integer, nullable=False),
        sa.Column("synced_at", TZ, nullable=False),
    )
    op.create_table(
        "serving_state",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("invocation_seq", sa.BigInteger, nullable=False),
        sa.Column("value", sa.String(500)),
    )
    op.create_table(
        "override_audit",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("hotel_id", sa.BigInteger, nullable=False),
        sa.Column("image_id", sa.BigInteger),
        sa.Column("set_by", sa.String(200), nullable=False),
        sa.Column("set_at", TZ, nullable=False),
        sa.Column("remote_addr", sa.String(64)),
        sa.Column("landing_file", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_override_audit_hotel_id", "override_audit", ["hotel_id"])


def downgrade() -> None:
    for table in (
        "override_audit",
        "serving_state",
        "serving_runs",
        "serving_changes",
        "serving_candidates",
        "serving_main_images",
    ):
        op.drop_table(table)
