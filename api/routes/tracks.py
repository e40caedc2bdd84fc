"""What was patrolled: upload groups' GPX tracks and check-ins for a stored plan, read plan vs
actual (``optimizer.operations.tracks``)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Request, status
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.deps import Planner, Reader, ServicesDep, SessionDep, audit_write, commit_write
from api.errors import error_responses, not_found
from api.jsonbody import StrictJSONRoute
from api.ledger import refresh_actual
from api.models import Plan, PlanCheckIn, PlanTrack
from api.operations import actuals_of
from api.planning import load_plan
from api.schemas import ActualsOut, CheckInBatch, CheckInResult, TrackOut, TrackUpload
from optimizer.errors import InputError
from optimizer.operations.tracks import (
    dosage_to_dict,
    local_time,
    plan_groups,
    read_gpx,
)
from optimizer.plan.types import DayPlan

router = APIRouter(tags=["operations"], route_class=StrictJSONRoute)

PlanId = Annotated[str, PathParam(min_length=1, max_length=100)]


def _plan(session: Session, plan_id: str) -> tuple[Plan, DayPlan]:
    row = session.get(Plan, plan_id)
    if row is None:
        raise not_found("plan_id", plan_id)
    return row, load_plan(row)


@router.post(
    "/plans/{plan_id}/tracks",
    response_model=TrackOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 404, 413, 422, 429),
)
def upload_track(
    plan_id: PlanId,
    body: TrackUpload,
    request: Request,
    services: ServicesDep,
    session: SessionDep,
    who: Planner,
) -> TrackOut:
    """Store a group's recorded GPX track for the plan (the same file again replaces it).

    The plan's actual duties in the participation ledger are rebuilt from its tracks and
    check-ins (``GET /ledger?source=actual``).

    The group is ``group_id``, else the GPX track's name, else the file's name
    (``<group id>.gpx``, as the plan's GPX files are named). Times with an offset are read as
    the district's local time.
    """
    _, plan = _plan(session, plan_id)
    try:
        track = read_gpx(
            body.gpx.encode("utf-8"), plan=plan, group_id=body.group_id, name=body.file_name
        )
    except InputError as exc:
        field = {"file": "gpx", "group": "group_id"}.get(exc.field, f"gpx.{exc.field}")
        raise InputError(field, exc.value, exc.accepted) from None
    data = {
        "times": [t.isoformat() for t in track.times],
        "lon": list(track.lon),
        "lat": list(track.lat),
    }

    def work(s: Session) -> TrackOut:
        s.execute(
            delete(PlanTrack).where(
                PlanTrack.plan_id == plan_id,
                PlanTrack.group_id == track.group_id,
                PlanTrack.file_name == body.file_name,
            )
        )
        s.add(
            PlanTrack(
                plan_id=plan_id,
                group_id=track.group_id,
                file_name=body.file_name,
                points=len(track),
                data=data,
                created_by=who.name,
            )
        )
        out = TrackOut(
            plan_id=plan_id,
            group_id=track.group_id,
            file_name=body.file_name,
            points=len(track),
            first=track.times[0],
            last=track.times[-1],
        )
        audit_write(
            request,
            s,
            action="plan.tracks.upload",
            inputs={"plan_id": plan_id, "group_id": track.group_id, "file_name": body.file_name},
            result={"points": len(track)},
        )
        return out

    out = commit_write(request, services, work)
    refresh_actual(services, plan_id)
    return out


@router.post(
    "/plans/{plan_id}/checkins",
    response_model=CheckInResult,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 404, 413, 422, 429),
)
def upload_checkins(
    plan_id: PlanId,
    body: CheckInBatch,
    request: Request,
    services: ServicesDep,
    session: SessionDep,
    who: Planner,
) -> CheckInResult:
    """Store check-ins of the plan's groups at their hotspots and posts (repeats are kept once).

    The plan's actual duties in the participation ledger are rebuilt from its tracks and
    check-ins (``GET /ledger?source=actual``).
    """
    _, plan = _plan(session, plan_id)
    groups = plan_groups(plan)
    rows = []
    for i, c in enumerate(body.checkins):
        if c.group_id not in groups:
            raise InputError(
                f"checkins[{i}].group_id", c.group_id, f"a group of the plan: {sorted(groups)}"
            )
        sites = {s.site_id for s in groups[c.group_id][1].stops if s.kind in ("hotspot", "post")}
        if c.site_id not in sites:
            raise InputError(
                f"checkins[{i}].site_id", c.site_id, f"a stop of {c.group_id}: {sorted(sites)}"
            )
        rows.append((c.group_id, c.site_id, local_time(plan, c.time)))
    unique = sorted(set(rows))

    def work(s: Session) -> CheckInResult:
        known = {
            (r.group_id, r.site_id, r.time)
            for r in s.scalars(select(PlanCheckIn).where(PlanCheckIn.plan_id == plan_id))
        }
        fresh = [r for r in unique if r not in known]
        for g, site, t in fresh:
            s.add(
                PlanCheckIn(plan_id=plan_id, group_id=g, site_id=site, time=t, created_by=who.name)
            )
        audit_write(
            request,
            s,
            action="plan.checkins.upload",
            inputs={"plan_id": plan_id, "received": len(rows)},
            result={"stored": len(fresh)},
        )
        return CheckInResult(plan_id=plan_id, received=len(rows), stored=len(fresh))

    out = commit_write(request, services, work)
    refresh_actual(services, plan_id)
    return out


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = json.loads(frame.to_json(orient="records", date_format="iso"))
    return out


@router.get(
    "/plans/{plan_id}/actuals",
    response_model=ActualsOut,
    responses=error_responses(401, 404, 422, 429),
)
async def plan_actuals(
    plan_id: PlanId, services: ServicesDep, session: SessionDep, _: Reader
) -> ActualsOut:
    """Plan vs actual: the stored tracks and check-ins matched to the plan.

    Per day, window x cell, group and stop: dosage (minutes within 40 m of each hotspot and
    post), stops made, late (more than 10 min) or missed, distance, deviation from the planned
    streets; and the hotspots left under-served (they weigh more in the next day's plan).
    """
    plan = _plan(session, plan_id)[1]
    actuals, n_tracks, n_checkins = await run_in_threadpool(actuals_of, services, plan_id)
    day = _records(actuals.day_frame())
    return ActualsOut(
        plan_id=plan_id,
        district=plan.district,
        date=plan.date,
        tracks=n_tracks,
        checkins=n_checkins,
        day=day[0] if day else {},
        cells=_records(actuals.cells_frame()),
        groups=_records(actuals.groups_frame()),
        stops=_records(actuals.stops_frame()),
        under_served=[dosage_to_dict(d) for d in actuals.deficits()],
    )
