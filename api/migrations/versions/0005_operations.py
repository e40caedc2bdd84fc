"""operations: groups' recorded tracks and check-ins per plan, alerts, reports from the field

Revision ID: 0005_operations
Revises: 0004_plan_versions
Create Date: 2026-11-30 22:00:00

``plan_tracks`` and ``plan_checkins`` hold what was patrolled for a stored plan (matched to it
on reading, ``GET /plans/{id}/actuals``); ``alerts`` the alerts with what they led to, in the
order of the alert feed; ``field_reports`` the clues and hazards reported from the field.
Nothing existing is changed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_operations"
down_revision = "0004_plan_versions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``plan_tracks``, ``plan_checkins``, ``alerts`` and ``field_reports``."""
    op.create_table(
        "plan_tracks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("plan_id", sa.String(36), sa.ForeignKey("plans.id"), nullable=False),
        sa.Column("group_id", sa.String(100), nullable=False),
        sa.Column("file_name", sa.String(200), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("plan_id", "group_id", "file_name", name="uq_plan_tracks_file"),
    )
    op.create_index("ix_plan_tracks_plan_id", "plan_tracks", ["plan_id"])
    op.create_table(
        "plan_checkins",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("plan_id", sa.String(36), sa.ForeignKey("plans.id"), nullable=False),
        sa.Column("group_id", sa.String(100), nullable=False),
        sa.Column("site_id", sa.String(100), nullable=False),
        sa.Column("time", sa.DateTime(timezone=False), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("plan_id", "group_id", "site_id", "time", name="uq_plan_checkins"),
    )
    op.create_index("ix_plan_checkins_plan_id", "plan_checkins", ["plan_id"])
    op.create_table(
        "alerts",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.String(64), nullable=False),
        sa.Column("district", sa.String(100), nullable=False),
        sa.Column("start", sa.DateTime(timezone=False), nullable=False),
        sa.Column("end", sa.DateTime(timezone=False), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("district", "alert_id", name="uq_alerts_district_id"),
    )
    op.create_index("ix_alerts_district", "alerts", ["district"])
    op.create_table(
        "field_reports",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("district", sa.String(100), nullable=False),
        sa.Column("report_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("time", sa.DateTime(timezone=False), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("district", "report_id", name="uq_field_reports_id"),
    )
    op.create_index("ix_field_reports_district", "field_reports", ["district"])


def downgrade() -> None:
    """Drop ``field_reports``, ``alerts``, ``plan_checkins`` and ``plan_tracks``."""
    op.drop_index("ix_field_reports_district", table_name="field_reports")
    op.drop_table("field_reports")
    op.drop_index("ix_alerts_district", table_name="alerts")
    op.drop_table("alerts")
    op.drop_index("ix_plan_checkins_plan_id", table_name="plan_checkins")
    op.drop_table("plan_checkins")
    op.drop_index("ix_plan_tracks_plan_id", table_name="plan_tracks")
    op.drop_table("plan_tracks")
