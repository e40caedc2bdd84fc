"""Reports from the field: clues and hazards, one by one or as a CSV sheet; hazards' status
(``optimizer.operations.reports``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import IncidentWriter, Reader, ServicesDep, SessionDep, audit_write, commit_write
from api.errors import error_responses, json_safe, not_found
from api.jsonbody import StrictJSONRoute
from api.models import FieldReportRow, utcnow
from api.operations import district_timezone
from api.schemas import (
    NAME_PATTERN,
    ReportImportIn,
    ReportImportOut,
    ReportIn,
    ReportList,
    ReportOut,
    ReportStatusIn,
)
from optimizer.errors import InputError
from optimizer.operations.reports import FieldReport, make_report, read_reports, report_from_dict

router = APIRouter(prefix="/reports", tags=["reports"], route_class=StrictJSONRoute)


def report_out(district: str, r: FieldReport) -> ReportOut:
    """Return the API view of a report."""
    return ReportOut(
        district=district,
        id=r.id,
        kind=r.kind,
        category=r.category,
        text=r.text,
        time=r.time,
        lon=r.lon,
        lat=r.lat,
        crs=r.crs,
        reporter=r.reporter,
        photo=r.photo,
        status=r.status,
        fixed_at=r.fixed_at,
    )


def _store(s: Session, district: str, reports: list[FieldReport], who: str) -> int:
    """Insert or replace reports by id; return how many."""
    known = {
        r.report_id: r
        for r in s.scalars(
            select(FieldReportRow).where(
                FieldReportRow.district == district,
                FieldReportRow.report_id.in_([r.id for r in reports]),
            )
        )
    }
    for r in reports:
        row = known.get(r.id)
        if row is None:
            row = FieldReportRow(district=district, report_id=r.id, created_by=who)
            s.add(row)
        row.kind = r.kind
        row.status = r.status
        row.time = r.time
        row.data = json_safe(r.to_dict())
        row.updated_at = utcnow()
    return len(reports)


@router.post(
    "",
    response_model=ReportOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 403, 413, 422, 429),
)
async def create_report(
    body: ReportIn,
    request: Request,
    services: ServicesDep,
    who: IncidentWriter,
) -> ReportOut:
    """Store a clue or hazard (the same id again replaces it); the place may be GCJ-02 or BD-09."""
    services.check_district(body.district)
    tz = await run_in_threadpool(district_timezone, services, body.district)
    report = make_report(
        id=body.id,
        kind=body.kind,
        category=body.category,
        text=body.text,
        time=body.time,
        lon=body.lon,
        lat=body.lat,
        crs=body.crs,
        reporter=body.reporter,
        photo=body.photo,
        status=body.status,
        fixed_at=dt.datetime.now(tz).replace(tzinfo=None) if body.status == "fixed" else None,
        timezone=tz,
    )

    def work(s: Session) -> ReportOut:
        _store(s, body.district, [report], who.name)
        audit_write(
            request,
            s,
            action="report.create",
            inputs={"district": body.district, "id": report.id, "kind": report.kind},
        )
        return report_out(body.district, report)

    return commit_write(request, services, work)


@router.post(
    "/import",
    response_model=ReportImportOut,
    responses=error_responses(401, 403, 413, 422, 429),
)
async def import_reports(
    body: ReportImportIn,
    request: Request,
    services: ServicesDep,
    who: IncidentWriter,
) -> ReportImportOut:
    """Import a CSV sheet of reports: the good rows are stored, every bad row is listed."""
    services.check_district(body.district)
    tz = await run_in_threadpool(district_timezone, services, body.district)
    got = read_reports(body.csv.encode("utf-8"), crs=body.crs, timezone=tz)
    problems = got.to_frame().to_dict(orient="records")

    def work(s: Session) -> ReportImportOut:
        stored = _store(s, body.district, list(got.reports), who.name) if got.reports else 0
        audit_write(
            request,
            s,
            action="report.import",
            inputs={"district": body.district},
            result={"stored": stored, "problems": len(problems)},
        )
        return ReportImportOut(
            district=body.district,
            received=len(got.reports) + len(got.problems),
            stored=stored,
            problems=json_safe(problems),
        )

    return commit_write(request, services, work)


@router.get("", response_model=ReportList, responses=error_responses(401, 422, 429))
def list_reports(
    session: SessionDep,
    _: Reader,
    district: Annotated[str, Query(pattern=NAME_PATTERN)],
    kind: Literal["clue", "hazard"] | None = None,
    report_status: Annotated[Literal["open", "fixed"] | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> ReportList:
    """List a district's reports, newest first (of one kind or status where given)."""
    q = select(FieldReportRow).where(FieldReportRow.district == district)
    if kind is not None:
        q = q.where(FieldReportRow.kind == kind)
    if report_status is not None:
        q = q.where(FieldReportRow.status == report_status)
    q = q.order_by(FieldReportRow.time.desc(), FieldReportRow.id.desc()).limit(limit)
    return ReportList(
        reports=[report_out(r.district, report_from_dict(r.data)) for r in session.scalars(q)]
    )


@router.put(
    "/{district}/{report_id}/status",
    response_model=ReportOut,
    responses=error_responses(401, 403, 404, 413, 422, 429),
)
async def set_status(
    district: Annotated[str, Path(pattern=NAME_PATTERN)],
    report_id: Annotated[str, Path(min_length=1, max_length=64)],
    body: ReportStatusIn,
    request: Request,
    services: ServicesDep,
    session: SessionDep,
    who: IncidentWriter,
) -> ReportOut:
    """Set a hazard's status (``fixed`` with the time it was fixed, or ``open`` again)."""
    row = session.scalar(
        select(FieldReportRow).where(
            FieldReportRow.district == district, FieldReportRow.report_id == report_id
        )
    )
    if row is None:
        raise not_found("report_id", report_id)
    if row.kind != "hazard":
        raise InputError("report_id", report_id, "a hazard (clues carry no status)")
    tz = await run_in_threadpool(district_timezone, services, district)
    old = report_from_dict(row.data)
    fixed_at = None
    if body.status == "fixed":
        when = body.fixed_at or dt.datetime.now(dt.UTC)
        fixed_at = when.astimezone(tz or dt.UTC).replace(tzinfo=None) if when.tzinfo else when
    new = dataclasses.replace(old, status=body.status, fixed_at=fixed_at)

    def work(s: Session) -> ReportOut:
        _store(s, district, [new], who.name)
        audit_write(
            request,
            s,
            action="report.status",
            inputs={"district": district, "id": report_id, "status": body.status},
        )
        return report_out(district, new)

    return commit_write(request, services, work)
