"""The participation ledger in the database (``ledger_entries``), over
:mod:`optimizer.operations.ledger`.

* :func:`store_planned` runs in the transaction that stores a plan: the plan's planned duties
  replace the planned rows of the same district, date, window and cell (a re-plan, an
  adjusted version or a plan stored again never counts twice);
* :func:`refresh_actual` runs after tracks or check-ins are imported for a plan: the plan's
  actual rows are replaced by what its stored tracks and check-ins now show;
* :func:`ledger_between` reads rows back as a :class:`~optimizer.operations.ledger.Ledger`
  (the plan job reads the week's hours from it: ``Ledger.week_hours``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from api.db import run_transaction
from api.models import LedgerEntry
from optimizer.operations.ledger import (
    ACTUAL,
    DUTY_COLUMNS,
    PLANNED,
    Ledger,
    ledger_from_actuals,
    ledger_from_plan,
)
from optimizer.plan.types import DayPlan
from optimizer.staff.roster import Resources

if TYPE_CHECKING:
    from api.services import Services


def _entries(frame: pd.DataFrame, *, district: str, plan_id: str) -> list[LedgerEntry]:
    return [
        LedgerEntry(district=district, plan_id=plan_id, **{c: row[c] for c in DUTY_COLUMNS})
        for row in frame.to_dict("records")
    ]


def store_planned(session: Session, plan_id: str, plan: DayPlan, *, resources: Resources) -> int:
    """Write the planned duties of ``plan`` (stored as ``plan_id``) in ``session``.

    Rows of the same district, date, window and cell (of any plan) are replaced.

    Returns
    -------
    int
        Rows written.
    """
    frame = ledger_from_plan(plan, resources=resources)
    keys = sorted({(wp.window.label(), wp.grid_id) for wp in plan.windows})
    if keys:
        session.execute(
            delete(LedgerEntry).where(
                LedgerEntry.district == plan.district,
                LedgerEntry.date == plan.date,
                LedgerEntry.source == PLANNED,
                or_(*((LedgerEntry.window == w) & (LedgerEntry.grid_id == g) for w, g in keys)),
            )
        )
    session.add_all(_entries(frame, district=plan.district, plan_id=plan_id))
    return len(frame)


def refresh_actual(services: Services, plan_id: str) -> int:
    """Replace the actual duties of stored plan ``plan_id`` by its stored tracks' and
    check-ins' (:func:`optimizer.operations.ledger.ledger_from_actuals`).

    Returns
    -------
    int
        Rows written.
    """
    from api.models import Plan
    from api.operations import actuals_of
    from optimizer.outputs.plan_io import plan_from_dict

    actuals, _, _ = actuals_of(services, plan_id)

    def work(session: Session) -> int:
        row = session.get(Plan, plan_id)
        if row is None:  # pragma: no cover - plans are never deleted
            return 0
        plan = plan_from_dict(row.data)
        resources = services.district(plan.district).resources
        frame = ledger_from_actuals(actuals, plan=plan, resources=resources)
        session.execute(
            delete(LedgerEntry).where(LedgerEntry.plan_id == plan_id, LedgerEntry.source == ACTUAL)
        )
        session.add_all(_entries(frame, district=plan.district, plan_id=plan_id))
        return len(frame)

    return run_transaction(services.sessions, work)


def entries_frame(rows: list[LedgerEntry]) -> pd.DataFrame:
    """Return stored rows as a ledger frame (columns ``DUTY_COLUMNS``)."""
    data: list[dict[str, Any]] = [{c: getattr(r, c) for c in DUTY_COLUMNS} for r in rows]
    return pd.DataFrame(data, columns=list(DUTY_COLUMNS))


def ledger_between(session: Session, *, district: str, first: dt.date, last: dt.date) -> Ledger:
    """Return the district's ledger rows dated ``first`` .. ``last`` (every source)."""
    rows = session.scalars(
        select(LedgerEntry).where(
            LedgerEntry.district == district,
            LedgerEntry.date >= first,
            LedgerEntry.date <= last,
        )
    ).all()
    return Ledger(entries_frame(list(rows)))


def week_hours(session: Session, *, district: str, day: dt.date) -> dict[str, float]:
    """Return the planned hours each volunteer of ``district`` served in ``day``'s ISO week
    before ``day`` (``plan_day``'s ``volunteer_hours``)."""
    monday = day - dt.timedelta(days=day.weekday())
    if monday == day:
        return {}
    ledger = ledger_between(session, district=district, first=monday, last=day)
    return ledger.week_hours(day)
