"""Plans: create a planning job, follow it, read the plan, download GeoJSON, GPX, CSV, XLSX."""

from __future__ import annotations

import dataclasses
import io
import json
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select

from api.db import session_scope
from api.deps import Planner, Reader, ServicesDep, SessionDep, submit_job
from api.errors import error_responses, not_found
from api.jsonbody import StrictJSONRoute
from api.models import Job, Plan
from api.operations import check_deficit_plans
from api.planning import load_plan
from api.schemas import (
    NAME_PATTERN,
    XLSX_MEDIA_TYPE,
    JobList,
    JobOut,
    PatrolDate,
    PlanInfo,
    PlanList,
    PlanOut,
    PlanRequest,
)
from api.services import Services
from optimizer.errors import InputError
from optimizer.outputs.geojson import plan_geojson
from optimizer.outputs.gpx import write_gpx
from optimizer.outputs.schedule import write_schedule_csv, write_schedule_xlsx
from optimizer.plan.cells import planning_grid_ids
from optimizer.plan.types import DayPlan
from optimizer.timewindow import TimeWindow

router = APIRouter(tags=["plans"], route_class=StrictJSONRoute)

ItemId = Annotated[str, PathParam(min_length=1, max_length=100)]
"""A job, plan or group id in a path (longer ones name nothing)."""


@router.post(
    "/plans",
    response_model=JobOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 403, 413, 422, 429),
)
def create_plan(
    body: PlanRequest,
    request: Request,
    response: Response,
    services: ServicesDep,
    session: SessionDep,
    _: Planner,
) -> JobOut:
    """Start planning a day; returns the job to follow (``GET /jobs/{id}``).

    Hotspots the tracks of the plans ``deficits_from`` left under-served weigh more, and the
    district's alerts running on the day raise their places' risk (``alerts``); the plan's
    notes say what they changed.
    """
    for i, w in enumerate(body.windows):
        TimeWindow.parse(w, field=f"windows[{i}]")
    if body.time_limit_s > services.settings.max_time_limit_s:
        raise InputError(
            "time_limit_s", body.time_limit_s, f"at most {services.settings.max_time_limit_s} s"
        )
    district = services.base_district(body.district)
    if body.grid_ids is not None:
        planning_grid_ids(district, level=None, grid_ids=body.grid_ids)
    check_deficit_plans(session, body.deficits_from, district=body.district, day=body.date)
    inputs = body.model_dump(mode="json")
    job = submit_job(request, services, "plan", inputs, action="plan.submit")
    response.headers["Location"] = f"/jobs/{job.id}"
    return job


@router.get("/jobs/{job_id}", response_model=JobOut, responses=error_responses(401, 404, 422, 429))
def get_job(job_id: ItemId, session: SessionDep, _: Reader) -> JobOut:
    """Return a job's status, progress (0..1), message, result or error."""
    job = session.get(Job, job_id)
    if job is None:
        raise not_found("job", job_id)
    return JobOut.model_validate(job)


@router.get("/jobs", response_model=JobList, responses=error_responses(401, 422, 429))
def list_jobs(
    session: SessionDep,
    _: Reader,
    status_: Annotated[
        Literal["queued", "running", "done", "failed"] | None, Query(alias="status")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> JobList:
    """List jobs, newest first, optionally in one status."""
    query = select(Job).order_by(Job.created_at.desc()).limit(limit)
    if status_ is not None:
        query = query.where(Job.status == status_)
    rows = session.scalars(query).all()
    return JobList(count=len(rows), items=[JobOut.model_validate(r) for r in rows])


@router.get("/plans", response_model=PlanList, responses=error_responses(401, 422, 429))
def list_plans(
    session: SessionDep,
    _: Reader,
    district: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
    date: Annotated[PatrolDate | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> PlanList:
    """List stored plans, newest first."""
    query = select(Plan).order_by(Plan.created_at.desc()).limit(limit)
    if district is not None:
        query = query.where(Plan.district == district)
    if date is not None:
        query = query.where(Plan.date == date)
    rows = session.scalars(query).all()
    return PlanList(count=len(rows), items=[PlanInfo.model_validate(r) for r in rows])


def _plan_body(services: Services, plan_id: str) -> bytes | None:
    with session_scope(services.sessions) as session:
        row = session.get(Plan, plan_id)
        if row is None:
            return None
        return PlanOut.model_validate(row).model_dump_json().encode()


@router.get(
    "/plans/{plan_id}", response_model=PlanOut, responses=error_responses(401, 404, 422, 429)
)
async def get_plan(plan_id: ItemId, services: ServicesDep, _: Reader) -> Response:
    """Return a stored plan: windows, groups with members, metrics, left-out sites."""
    body = services.reads.get(("plan", plan_id))
    if body is None:
        body = await run_in_threadpool(_plan_body, services, plan_id)
        if body is None:
            raise not_found("plan", plan_id)
        services.reads.put(("plan", plan_id), body)
    return Response(body, media_type="application/json")


def stored_plan(services: Services, plan_id: str) -> DayPlan:
    """Return a stored plan (cached), or 404."""
    cached = services.reads.get(("dayplan", plan_id))
    if isinstance(cached, DayPlan):
        return cached
    with session_scope(services.sessions) as session:
        row = session.get(Plan, plan_id)
        if row is None:
            raise not_found("plan", plan_id)
        plan = load_plan(row)
    services.reads.put(("dayplan", plan_id), plan)
    return plan


@router.get(
    "/plans/{plan_id}/routes.geojson",
    responses={
        200: {
            "content": {"application/geo+json": {}},
            "description": "a LineString per route and a Point per stop",
        },
        **error_responses(401, 404, 422, 429),
    },
)
def get_routes(plan_id: ItemId, services: ServicesDep, _: Reader) -> Response:
    """Return the plan's routes and stops as GeoJSON (EPSG:4326)."""
    body = json.dumps(plan_geojson(stored_plan(services, plan_id)), default=str)
    return Response(body, media_type="application/geo+json")


def _groups(plan: DayPlan) -> list[str]:
    return [r.group.id for r in plan.routes]


@router.get(
    "/plans/{plan_id}/gpx",
    responses={
        200: {"content": {"application/zip": {}}, "description": "zip of one GPX file per group"},
        **error_responses(401, 404, 422, 429),
    },
)
def get_gpx_zip(plan_id: ItemId, services: ServicesDep, _: Reader) -> Response:
    """Return a zip with one GPX file (street track and timed stops) per group."""
    plan = stored_plan(services, plan_id)
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(buffer, "w") as zf:
        for path in write_gpx(plan, tmp):
            zf.write(path, arcname=path.name)
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{plan_id}-gpx.zip"'},
    )


@router.get(
    "/plans/{plan_id}/gpx/{group_id}",
    responses={
        200: {"content": {"application/gpx+xml": {}}, "description": "GPX of one group"},
        **error_responses(401, 404, 422, 429),
    },
)
def get_gpx(plan_id: ItemId, group_id: ItemId, services: ServicesDep, _: Reader) -> Response:
    """Return the GPX file of one group for a handheld device."""
    plan = stored_plan(services, plan_id)
    group_id = group_id.removesuffix(".gpx")
    keep = [wp for wp in plan.windows if any(r.group.id == group_id for r in wp.routes)]
    if not keep:
        raise not_found("group_id", group_id, f"one of {_groups(plan)}")
    only = dataclasses.replace(
        plan,
        windows=tuple(
            dataclasses.replace(wp, routes=tuple(r for r in wp.routes if r.group.id == group_id))
            for wp in keep
        ),
    )
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_gpx(only, tmp)
        body = Path(paths[0]).read_bytes()
    return Response(
        body,
        media_type="application/gpx+xml",
        headers={"Content-Disposition": f'attachment; filename="{group_id}.gpx"'},
    )


def _file(plan: DayPlan, writer: Any, name: str, services: Services) -> bytes:
    """Write the plan's schedule with the members' names (as ``/resources`` shows them to
    every reader; phone and ID numbers are never in a schedule)."""
    district = services.district(plan.district)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        writer(plan, path, district=district)
        return path.read_bytes()


@router.get(
    "/plans/{plan_id}/schedule.csv",
    responses={
        200: {"content": {"text/csv": {}}, "description": "one row per stop"},
        **error_responses(401, 404, 422, 429),
    },
)
def get_csv(plan_id: ItemId, services: ServicesDep, _: Reader) -> Response:
    """Return the schedule (one row per stop) as CSV."""
    body = _file(stored_plan(services, plan_id), write_schedule_csv, "schedule.csv", services)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="schedule.csv"'},
    )


XLSX = XLSX_MEDIA_TYPE


@router.get(
    "/plans/{plan_id}/schedule.xlsx",
    responses={
        200: {"content": {XLSX: {}}, "description": "a sheet per window and a summary"},
        **error_responses(401, 404, 422, 429),
    },
)
def get_xlsx(plan_id: ItemId, services: ServicesDep, _: Reader) -> Response:
    """Return the schedule as an XLSX workbook (a sheet per window and a summary)."""
    body = _file(stored_plan(services, plan_id), write_schedule_xlsx, "schedule.xlsx", services)
    return Response(
        body,
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="schedule.xlsx"'},
    )
