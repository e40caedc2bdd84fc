"""one plan per job: plans.job_id is unique

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 15:30:00

A job that was run again after a stop between storing its plan and ending could store a
second plan. Such duplicates are kept (nothing is deleted): every plan of a job but its
oldest is detached from the job (``job_id`` set to NULL, the count is logged), then the
column is made unique.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    """Detach duplicate plans of a job from it, then make ``plans.job_id`` unique."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT id, job_id FROM plans WHERE job_id IS NOT NULL ORDER BY job_id, created_at, id"
        )
    ).all()
    seen: set[str] = set()
    extra = []
    for plan_id, job_id in rows:
        if job_id in seen:
            extra.append(plan_id)
        seen.add(job_id)
    if extra:
        log.warning("0003: %d duplicate plan(s) of a job detached from it (kept)", len(extra))
        for plan_id in extra:
            bind.execute(sa.text("UPDATE plans SET job_id = NULL WHERE id = :id"), {"id": plan_id})
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_plans_job_id", ["job_id"])


def downgrade() -> None:
    """Drop the unique constraint."""
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_constraint("uq_plans_job_id", type_="unique")
