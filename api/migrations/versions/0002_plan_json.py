"""plans hold the DayPlan as JSON (optimizer.outputs.plan_io) instead of a pickle

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 07:36:00

Pickled plans cannot be read without unpickling untrusted bytes, so they are not converted:
existing plan rows are deleted explicitly (their count is logged); jobs keep their results.
Re-run the planning jobs to get them back.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    """Drop the pickled plans and the binary column; add the JSON column."""
    bind = op.get_bind()
    dropped = bind.execute(sa.text("SELECT count(*) FROM plans")).scalar_one()
    if dropped:
        log.warning("0002: deleting %d pickled plan(s); re-run their planning jobs", dropped)
        bind.execute(sa.text("UPDATE plans SET parent_id = NULL"))
        bind.execute(sa.text("DELETE FROM plans"))
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("data")
        batch_op.add_column(sa.Column("plan_json", sa.JSON(), nullable=False))


def downgrade() -> None:
    """Back to the binary column (plans are deleted: JSON plans are not pickled back)."""
    op.get_bind().execute(sa.text("UPDATE plans SET parent_id = NULL"))
    op.get_bind().execute(sa.text("DELETE FROM plans"))
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("plan_json")
        batch_op.add_column(sa.Column("data", sa.LargeBinary(), nullable=False))
