"""plan versions: one row per adjustment of a plan (who changed what, from which version)

Revision ID: 0004_plan_versions
Revises: 0003
Create Date: 2026-11-30 16:30:00

A dispatcher's adjustment stores a new plan (``plans.parent_id`` is the version it was made
from) and a ``plan_edits`` row with the decisions, what changed, who and when. Nothing
existing is changed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_plan_versions"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``plan_edits``."""
    op.create_table(
        "plan_edits",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("plan_id", sa.String(36), sa.ForeignKey("plans.id"), nullable=False),
        sa.Column("parent_id", sa.String(36), sa.ForeignKey("plans.id"), nullable=False),
        sa.Column("root_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("window", sa.String(20), nullable=False),
        sa.Column("edits", sa.JSON(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("plan_id", name="uq_plan_edits_plan_id"),
    )
    op.create_index("ix_plan_edits_root_id", "plan_edits", ["root_id"])


def downgrade() -> None:
    """Drop ``plan_edits``."""
    op.drop_index("ix_plan_edits_root_id", table_name="plan_edits")
    op.drop_table("plan_edits")
