""" "Watch for" alerts: raise one (a job re-planning the stored plans named), list them, follow
the alert feed as server-sent events (``optimizer.operations.alerts``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit import record
from api.db import run_transaction, session_scope
from api.deps import Planner, Reader, ServicesDep, SessionDep, submit_job
from api.errors import error_responses, json_safe
from api.jobs import Progress, finish
from api.jsonbody import StrictJSONRoute
from api.keys import creator
from api.models import AlertRow, Plan, PlanEdit
from api.operations import district_timezone
from api.planning import load_plan, store_plan, version_root
from api.schemas import MAX_INT32, NAME_PATTERN, AlertIn, AlertList, AlertOut, JobOut
from api.services import Services
from optimizer.errors import InputError
from optimizer.operations.alerts import (
    Alert,
    Recipient,
    alert_from_dict,
    alert_message,
    make_alert,
    recipients_frame,
    replan_for_alert,
)

router = APIRouter(tags=["alerts"], route_class=StrictJSONRoute)

FEED_POLL_S = 2.0
"""How often a followed feed looks for new alerts."""
FEED_KEEPALIVE_S = 15.0
"""A comment line this often keeps proxies from closing a quiet feed."""
FEED_MAX_S = 3600.0
"""A followed feed ends after this long (clients reconnect with ``Last-Event-ID``)."""


def alert_out(row: AlertRow) -> AlertOut:
    """Return the API view of a stored alert."""
    d = row.data
    return AlertOut(
        seq=row.seq,
        id=row.alert_id,
        district=row.district,
        text=str(d.get("text", "")),
        lon=float(d["lon"]),
        lat=float(d["lat"]),
        crs=str(d.get("crs", "wgs84")),
        start=row.start,
        end=row.end,
        radius_m=float(d["radius_m"]),
        factor=float(d["factor"]),
        created_by=row.created_by,
        created_at=row.created_at,
        replans=list(row.result.get("replans", [])),
        recipients=list(row.result.get("recipients", [])),
        message=str(row.result.get("message", "")),
    )


def _replan(
    services: Services, alert: Alert, plan_id: str, within_m: float, who: str | None
) -> tuple[dict[str, Any], list[Recipient]]:
    """Re-plan one stored plan for the alert; store the new version; return what happened."""
    with session_scope(services.sessions) as session:
        row = session.get(Plan, plan_id)
        assert row is not None
        plan = load_plan(row)
        root_id, version = version_root(session, row)
    district = services.district(plan.district)
    result = replan_for_alert(plan, alert, district=district, within_m=within_m)
    out: dict[str, Any] = {
        "plan_id": plan_id,
        "new_plan_id": None,
        "windows": list(result.windows),
        "cells": {w: list(c) for w, c in result.cells.items()},
        "notes": list(result.notes),
        "recipients": recipients_frame(result.recipients).to_dict(orient="records"),
    }
    if not result.windows:
        return out, list(result.recipients)
    changes = {
        "cells": out["cells"],
        "groups": result.changes_frame().to_dict(orient="records"),
    }

    def add_edit(session: Session, new_id: str) -> None:
        session.add(
            PlanEdit(
                plan_id=new_id,
                parent_id=plan_id,
                root_id=root_id,
                version=version + 1,
                window=",".join(result.windows)[:20],
                edits=json_safe({"alert": alert.to_dict()}),
                changes=json_safe(changes),
                created_by=who,
            )
        )

    stored = store_plan(
        services,
        result.plan,
        job_id=None,
        created_by=who,
        parent_id=plan_id,
        action="plan.alert",
        inputs={"plan_id": plan_id, "alert_id": alert.id},
        extra={"version": version + 1, "parent_id": plan_id},
        also=add_edit,
    )
    out["new_plan_id"] = stored["plan_id"]
    return out, list(result.recipients)


@router.post(
    "/alerts",
    response_model=JobOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 403, 409, 413, 422, 429),
)
def create_alert(
    body: AlertIn,
    request: Request,
    response: Response,
    services: ServicesDep,
    session: SessionDep,
    _: Planner,
) -> JobOut:
    """Raise a "watch for" alert at a place (WGS-84, GCJ-02 or BD-09) and time span, as a job.

    The request is checked here (422 naming the field; 409 for an alert id the district has);
    the job then re-plans each stored plan in ``plan_ids`` in the windows the alert overlaps,
    only in the cells with a hotspot within ``radius_m`` of the place (their risk times
    ``factor``), stores each as a new version (``parent_id`` = the plan) whose notes say what
    changed, lists the groups of those windows and the posts on duty within ``within_m`` of the
    place with the message for them, and stores the alert: it joins the feed
    (``GET /alerts/feed``) and the risk of later plans. The job's result holds the alert
    (``result["alert"]``, as ``GET /alerts`` shows it); progress is reported per plan.
    """
    services.check_district(body.district)
    alert = make_alert(
        id=body.id or f"A{body.start:%Y%m%d%H%M%S}",
        text=body.text,
        lon=body.lon,
        lat=body.lat,
        crs=body.crs,
        start=body.start,
        end=body.end,
        radius_m=body.radius_m,
        factor=body.factor,
        timezone=district_timezone(services, body.district),
    )
    if not (isinstance(body.within_m, float | int) and 0 < body.within_m <= 20000):
        raise InputError("within_m", body.within_m, "a number in (0, 20000]")
    if _stored_alert(session, body.district, alert.id) is not None:
        raise _alert_exists(body.district, alert.id)
    for i, pid in enumerate(body.plan_ids):
        row = session.get(Plan, pid)
        if row is None or row.district != body.district:
            raise InputError(f"plan_ids[{i}]", pid, f"a stored plan of {body.district!r}")
    inputs = {
        "district": body.district,
        "alert": json_safe(alert.to_dict()),
        "plan_ids": list(body.plan_ids),
        "within_m": float(body.within_m),
        "request": json_safe(body.model_dump(mode="json")),
    }
    job = submit_job(request, services, "alert", inputs, action="alert.submit")
    response.headers["Location"] = f"/jobs/{job.id}"
    return job


def _stored_alert(session: Session, district: str, alert_id: str) -> AlertRow | None:
    return session.scalar(
        select(AlertRow).where(AlertRow.district == district, AlertRow.alert_id == alert_id)
    )


def _alert_exists(district: str, alert_id: str) -> HTTPException:
    return HTTPException(
        409,
        {
            "type": "conflict",
            "field": "id",
            "value": alert_id,
            "accepted": "an id no other alert of the district has",
            "message": f"alert {alert_id!r} exists in {district!r}",
        },
    )


def run_alert(
    services: Services, inputs: dict[str, Any], progress: Progress, created_by: str | None
) -> dict[str, Any]:
    """The alert job: re-plan the plans named, then store the alert with what it led to.

    Run again after a stop, a job whose alert is stored already ends with that alert.
    """
    job_id = inputs.get("_job_id")
    district = str(inputs["district"])
    alert = alert_from_dict(inputs["alert"])
    with session_scope(services.sessions) as session:
        stored = _stored_alert(session, district, alert.id)
        if stored is not None and stored.result.get("job_id") == job_id:
            return {"alert": alert_out(stored).model_dump(mode="json")}
        if stored is not None:
            raise InputError("id", alert.id, "an id no other alert of the district has")
    who = creator(created_by)
    plan_ids = [str(p) for p in inputs.get("plan_ids", [])]
    replans: list[dict[str, Any]] = []
    told: list[Recipient] = []
    for i, pid in enumerate(plan_ids):
        progress(i, len(plan_ids) + 1, f"re-planning plan {i + 1} of {len(plan_ids)} for the alert")
        done, near = _replan(services, alert, pid, float(inputs["within_m"]), created_by)
        replans.append(done)
        told.extend(near)
    progress(len(plan_ids), len(plan_ids) + 1, "storing the alert")
    recipients = [r for p in replans for r in p.pop("recipients")]
    result = json_safe(
        {
            "replans": replans,
            "recipients": recipients,
            "message": alert_message(alert, told),
            "job_id": job_id,
        }
    )

    def work(session: Session) -> dict[str, Any]:
        row = AlertRow(
            alert_id=alert.id,
            district=district,
            start=alert.start,
            end=alert.end,
            data=json_safe(alert.to_dict()),
            result=result,
            created_by=who.name if who is not None else None,
        )
        session.add(row)
        session.flush()
        record(
            session,
            principal=who,
            action="alert.create",
            inputs={"job_id": job_id, **inputs.get("request", {})},
            result={"seq": row.seq, "replans": [p.get("new_plan_id") for p in replans]},
        )
        out = {"alert": alert_out(row).model_dump(mode="json")}
        finish(session, job_id, out)
        return out

    return run_transaction(services.sessions, work)


@router.get("/alerts", response_model=AlertList, responses=error_responses(401, 422, 429))
def list_alerts(
    session: SessionDep,
    _: Reader,
    district: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AlertList:
    """List alerts, newest first (of one district where ``district`` is given)."""
    q = select(AlertRow).order_by(AlertRow.seq.desc()).limit(limit)
    if district is not None:
        q = q.where(AlertRow.district == district)
    return AlertList(alerts=[alert_out(r) for r in session.scalars(q)])


def _event(row: AlertRow) -> str:
    data = alert_out(row).model_dump(mode="json")
    return f"id: {row.seq}\nevent: alert\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _after(services: Services, district: str | None, seq: int) -> list[str]:
    with session_scope(services.sessions) as session:
        q = select(AlertRow).where(AlertRow.seq > seq).order_by(AlertRow.seq).limit(500)
        if district is not None:
            q = q.where(AlertRow.district == district)
        return [_event(r) for r in session.scalars(q)]


@router.get(
    "/alerts/feed",
    responses={
        **error_responses(401, 422, 429),
        200: {"content": {"text/event-stream": {}}, "description": "server-sent events"},
    },
    response_class=StreamingResponse,
)
async def alert_feed(
    request: Request,
    services: ServicesDep,
    _: Reader,
    district: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
    after: Annotated[int, Query(ge=0, le=MAX_INT32)] = 0,
    follow: bool = True,
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
) -> StreamingResponse:
    """The alert feed as server-sent events (``event: alert``, ``id:`` the alert's ``seq``).

    Sends the alerts after ``after`` (or the ``Last-Event-ID`` header a reconnecting client
    sends), then, with ``follow`` (default), each new alert as it is raised, with a comment
    line every 15 s while quiet; the stream ends after an hour (clients reconnect).
    """
    start = after
    if last_event_id is not None:
        try:
            start = int(last_event_id)
        except ValueError:
            raise InputError("Last-Event-ID", last_event_id, "an alert seq number") from None
        if not 0 <= start <= MAX_INT32:
            raise InputError("Last-Event-ID", last_event_id, f"from 0 to {MAX_INT32}")

    async def events() -> AsyncIterator[str]:
        seq = start
        waited = 0.0
        quiet = 0.0
        while True:
            batch = await run_in_threadpool(_after, services, district, seq)
            for text in batch:
                seq = int(text.split("\n", 1)[0].removeprefix("id: "))
                yield text
            if not follow or waited >= FEED_MAX_S:
                return
            if await request.is_disconnected():
                return
            if quiet >= FEED_KEEPALIVE_S:
                quiet = 0.0
                yield ": keep-alive\n\n"
            await asyncio.sleep(FEED_POLL_S)
            waited += FEED_POLL_S
            quiet = 0.0 if batch else quiet + FEED_POLL_S

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
