"""The participation ledger: every planned and actual duty per person, people's weeks, and
planning a week at once (``optimizer.operations.ledger``, ``optimizer.plan.week``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy import func, select

from api.deps import Planner, Reader, ServicesDep, SessionDep, submit_job
from api.errors import error_responses
from api.jsonbody import StrictJSONRoute
from api.ledger import ledger_between
from api.models import LedgerEntry
from api.operations import district_timezone
from api.schemas import (
    ISO_WEEK_PATTERN,
    MAX_INT32,
    NAME_PATTERN,
    JobOut,
    LedgerEntryOut,
    LedgerPage,
    PatrolDate,
    PeopleWeek,
    PersonWeekOut,
    WeekRequest,
)
from optimizer.errors import InputError
from optimizer.operations.ledger import current_week, week_start
from optimizer.plan.cells import planning_grid_ids
from optimizer.timewindow import TimeWindow

router = APIRouter(tags=["ledger"], route_class=StrictJSONRoute)

Source = Literal["planned", "actual"]


@router.get("/ledger", response_model=LedgerPage, responses=error_responses(401, 422, 429))
def list_ledger(
    session: SessionDep,
    services: ServicesDep,
    _: Reader,
    district: Annotated[str, Query(pattern=NAME_PATTERN)],
    from_: Annotated[PatrolDate | None, Query(alias="from")] = None,
    to: Annotated[PatrolDate | None, Query()] = None,
    person: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    team: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    source: Annotated[Source | None, Query()] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_INT32)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> LedgerPage:
    """List the district's duties, by date, window, cell, group and person.

    One row per person and duty: ``patrol`` (the group's window) and ``post`` (the minutes at
    a post, part of the patrol: sum ``patrol`` rows for hours); ``planned`` rows come with the
    stored plans, ``actual`` rows with the tracks and check-ins imported for them.
    """
    services.check_district(district)
    if from_ is not None and to is not None and to < from_:
        raise InputError("to", to.isoformat(), f"a date on or after from ({from_.isoformat()})")
    where = [LedgerEntry.district == district]
    if from_ is not None:
        where.append(LedgerEntry.date >= from_)
    if to is not None:
        where.append(LedgerEntry.date <= to)
    if person is not None:
        where.append(LedgerEntry.person_id == person)
    if team is not None:
        where.append(LedgerEntry.team_id == team)
    if source is not None:
        where.append(LedgerEntry.source == source)
    count = session.scalar(select(func.count()).select_from(LedgerEntry).where(*where)) or 0
    rows = session.scalars(
        select(LedgerEntry)
        .where(*where)
        .order_by(
            LedgerEntry.date,
            LedgerEntry.window,
            LedgerEntry.grid_id,
            LedgerEntry.group_id,
            LedgerEntry.person_id,
            LedgerEntry.duty,
            LedgerEntry.id,
        )
        .offset(offset)
        .limit(limit)
    ).all()
    return LedgerPage(
        count=int(count),
        offset=offset,
        limit=limit,
        items=[LedgerEntryOut.model_validate(r) for r in rows],
    )


@router.get("/ledger/people", response_model=PeopleWeek, responses=error_responses(401, 422, 429))
def people_week(
    session: SessionDep,
    services: ServicesDep,
    who: Reader,
    district: Annotated[str, Query(pattern=NAME_PATTERN)],
    week: Annotated[str | None, Query(pattern=ISO_WEEK_PATTERN, examples=["2026-W49"])] = None,
    source: Annotated[Source, Query()] = "planned",
) -> PeopleWeek:
    """Each person's hours in an ISO week, with the weekly cap.

    The default week is the current one in the district's time zone (UTC when it has none).

    Every person of the roster is listed (hours 0 when off duty all week); ``over_cap`` marks
    a volunteer whose hours exceed the cap. Names are given to roles that may read personal
    data (admin, planner) only; others see ids.
    """
    services.check_district(district)
    label = week or current_week(district_timezone(services, district))
    first = week_start(label)
    last = first + dt.timedelta(days=6)
    resources = services.district(district).resources
    ledger = ledger_between(session, district=district, first=first, last=last)
    summary = ledger.person_summary(resources=resources, first=first, last=last, source=source)
    names = {o.id: o.name for o in resources.officers}
    names.update({v.id: v.name for v in resources.volunteers})
    show = who.can("personal:read")
    items = []
    for r in summary.to_dict("records"):
        cap = None if r["cap"] != r["cap"] else float(r["cap"])  # NaN: no cap (officers)
        items.append(
            PersonWeekOut(
                person_id=str(r["person_id"]),
                name=names.get(str(r["person_id"])) if show else None,
                role=r["role"],
                team_id=str(r["team_id"]),
                station_id=str(r["station_id"]),
                patrols=int(r["patrols"]),
                post_duties=int(r["post_duties"]),
                hours=float(r["hours"]),
                days_on_duty=int(r["days_on_duty"]),
                rest_days=int(r["rest_days"]),
                cap=cap,
                over_cap=cap is not None and float(r["hours"]) > cap + 1e-6,
            )
        )
    return PeopleWeek(
        district=district,
        week=label,
        first=first,
        last=last,
        source=source,
        over_cap=sum(p.over_cap for p in items),
        items=items,
    )


@router.post(
    "/weeks",
    response_model=JobOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 403, 413, 422, 429),
)
def create_week(
    body: WeekRequest,
    request: Request,
    response: Response,
    services: ServicesDep,
    _: Planner,
) -> JobOut:
    """Start planning ``days`` days at once; returns the job to follow (``GET /jobs/{id}``).

    Each day sees the hours every volunteer has served earlier in its ISO week (the ledger's
    stored rows and the days planned before it), so weekly caps and fair rotation hold; the
    job's progress advances day by day, and its result lists the stored plans.
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
    inputs = body.model_dump(mode="json")
    job = submit_job(request, services, "week", inputs, action="week.submit")
    response.headers["Location"] = f"/jobs/{job.id}"
    return job
