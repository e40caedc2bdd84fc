"""What happened feeds the next plan, in the service: stored tracks and check-ins matched to
their plan, stored alerts, and the hotspot adjustments a new plan gets from them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import session_scope
from api.models import AlertRow, FieldReportRow, Plan, PlanCheckIn, PlanTrack
from optimizer.errors import InputError
from optimizer.operations.alerts import Alert, AlertRisk, alert_from_dict
from optimizer.operations.reports import ClueSignal, FieldReport, report_from_dict
from optimizer.operations.tracks import (
    CheckIn,
    DosageDeficit,
    HotspotDosage,
    PlanActuals,
    Track,
    match_tracks,
)
from optimizer.outputs.plan_io import plan_from_dict
from optimizer.plan.build import HotspotAdjustment

if TYPE_CHECKING:
    from api.services import Services


def stored_tracks(session: Session, plan_id: str) -> tuple[list[Track], list[CheckIn]]:
    """Return the tracks and check-ins stored for a plan."""
    tracks = [
        Track(
            r.group_id,
            tuple(dt.datetime.fromisoformat(t) for t in r.data["times"]),
            tuple(float(x) for x in r.data["lon"]),
            tuple(float(y) for y in r.data["lat"]),
            r.file_name,
        )
        for r in session.scalars(
            select(PlanTrack).where(PlanTrack.plan_id == plan_id).order_by(PlanTrack.id)
        )
    ]
    checkins = [
        CheckIn(r.group_id, r.site_id, r.time)
        for r in session.scalars(
            select(PlanCheckIn).where(PlanCheckIn.plan_id == plan_id).order_by(PlanCheckIn.id)
        )
    ]
    return tracks, checkins


def actuals_of(services: Services, plan_id: str) -> tuple[PlanActuals, int, int]:
    """Match a stored plan to its stored tracks and check-ins.

    Returns
    -------
    tuple
        The plan vs actual, the number of tracks and of check-ins.

    Raises
    ------
    InputError
        ``plan_id`` names no stored plan.
    """
    with session_scope(services.sessions) as session:
        row = session.get(Plan, plan_id)
        if row is None:
            raise InputError("plan_id", plan_id, "a stored plan id")
        plan = plan_from_dict(row.data)
        tracks, checkins = stored_tracks(session, plan_id)
    district = services.district(plan.district)
    actuals = match_tracks(plan, tracks, district=district, checkins=checkins)
    return actuals, len(tracks), len(checkins)


def running_alerts(session: Session, district: str, day: dt.date) -> list[Alert]:
    """Return the district's stored alerts that run at some time of ``day`` (local time)."""
    start = dt.datetime.combine(day, dt.time())
    end = start + dt.timedelta(days=2)  # a window of the day may run past midnight
    rows = session.scalars(
        select(AlertRow)
        .where(AlertRow.district == district, AlertRow.start < end, AlertRow.end > start)
        .order_by(AlertRow.seq)
    )
    return [alert_from_dict(r.data, field=f"alerts.{r.alert_id}") for r in rows]


def plan_adjustments(
    services: Services,
    *,
    district: str,
    day: dt.date,
    deficits_from: Sequence[str] = (),
    alerts: bool = True,
    clue_weight: float = 0.0,
) -> list[HotspotAdjustment]:
    """Return the hotspot adjustments of a new plan of ``district`` on ``day``.

    The under-served hotspots of the stored plans ``deficits_from`` (earlier days, matched to
    their stored tracks) weigh more (:class:`~optimizer.operations.tracks.DosageDeficit`); with
    ``alerts``, the district's stored alerts running on the day raise their places' risk
    (:class:`~optimizer.operations.alerts.AlertRisk`); with a ``clue_weight`` above 0, the
    stored clues of the days before raise the hotspots near them
    (:class:`~optimizer.operations.reports.ClueSignal`).
    """
    out: list[HotspotAdjustment] = []
    deficits: list[HotspotDosage] = []
    for pid in deficits_from:
        actuals, _, _ = actuals_of(services, pid)
        deficits.extend(actuals.deficits())
    if deficits_from:
        out.append(DosageDeficit(tuple(deficits)))
    if alerts:
        with session_scope(services.sessions) as session:
            running = running_alerts(session, district, day)
        if running:
            out.append(AlertRisk(tuple(running)))
    if clue_weight > 0:
        signal = ClueSignal((), weight=clue_weight)
        with session_scope(services.sessions) as session:
            clues = stored_clues(session, district, day, signal.memory_days)
        out.append(ClueSignal(tuple(clues), weight=clue_weight))
    return out


def check_deficit_plans(
    session: Session, plan_ids: Sequence[str], *, district: str, day: dt.date
) -> None:
    """Check that each id names a stored plan of ``district`` before ``day``.

    Raises
    ------
    InputError
        Naming ``deficits_from[i]``.
    """
    for i, pid in enumerate(plan_ids):
        row = session.get(Plan, pid)
        if row is None or row.district != district or row.date >= day:
            raise InputError(
                f"deficits_from[{i}]", pid, f"a stored plan of {district!r} before {day}"
            )


def district_timezone(services: Services, name: str) -> dt.tzinfo | None:
    """Return the district's time zone (``metadata["timezone"]``), if it names a known one."""
    return services.base_district(name).timezone


def stored_clues(
    session: Session, district: str, day: dt.date, memory_days: float
) -> list[FieldReport]:
    """Return the district's stored clues from ``memory_days`` before ``day`` to its end."""
    end = dt.datetime.combine(day, dt.time()) + dt.timedelta(days=2)
    start = dt.datetime.combine(day, dt.time()) - dt.timedelta(days=memory_days)
    rows = session.scalars(
        select(FieldReportRow)
        .where(
            FieldReportRow.district == district,
            FieldReportRow.kind == "clue",
            FieldReportRow.time >= start,
            FieldReportRow.time < end,
        )
        .order_by(FieldReportRow.id)
    )
    return [report_from_dict(r.data, field=f"reports.{r.report_id}") for r in rows]
