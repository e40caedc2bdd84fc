"""ledger: the participation ledger, every planned and actual duty per person

Revision ID: 0006_ledger
Revises: 0005_operations
Create Date: 2026-12-01 01:00:00

``ledger_entries`` holds one row per person and duty (``optimizer.operations.ledger``):
planned rows written with a stored plan, actual rows with its imported tracks and check-ins.
Indexed by district, date and person (weekly hours) and by plan and source (replacing a
plan's rows). Nothing existing is changed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_ledger"
down_revision = "0005_operations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``ledger_entries`` and its indexes."""
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("district", sa.String(100), nullable=False),
        sa.Column("plan_id", sa.String(36), sa.ForeignKey("plans.id"), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("window", sa.String(20), nullable=False),
        sa.Column("grid_id", sa.String(100), nullable=False),
        sa.Column("group_id", sa.String(100), nullable=False),
        sa.Column("person_id", sa.String(100), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("team_id", sa.String(100), nullable=False),
        sa.Column("station_id", sa.String(100), nullable=False),
        sa.Column("duty", sa.String(20), nullable=False),
        sa.Column("site_id", sa.String(100), nullable=False),
        sa.Column("start", sa.DateTime(timezone=False), nullable=False),
        sa.Column("end", sa.DateTime(timezone=False), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
    )
    op.create_index(
        "ix_ledger_district_date_person", "ledger_entries", ["district", "date", "person_id"]
    )
    op.create_index("ix_ledger_plan_source", "ledger_entries", ["plan_id", "source"])


def downgrade() -> None:
    """Drop ``ledger_entries``."""
    op.drop_index("ix_ledger_plan_source", table_name="ledger_entries")
    op.drop_index("ix_ledger_district_date_person", table_name="ledger_entries")
    op.drop_table("ledger_entries")
