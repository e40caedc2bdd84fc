"""Job handlers: plan a day, re-plan a running window, import a district.

Each handler turns stored JSON inputs into library calls (``optimizer.plan.day.plan_day``,
``optimizer.plan.replan.replan_window``, ``optimizer.storage.save_district``), then stores what
came out, its audit entry and the job's end in one transaction (``api.jobs.finish``). A plan
job that finds its plan already stored (one plan per job: a unique ``plans.job_id``) ends with
that plan instead of solving again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit import record
from api.db import run_transaction, session_scope
from api.errors import json_safe
from api.jobs import Handler, Progress, finish
from api.keys import creator
from api.ledger import ledger_between, store_planned, week_hours
from api.models import Plan, PlanEdit
from api.operations import plan_adjustments
from optimizer.engines.base import DEFAULT_ENGINE
from optimizer.errors import InputError
from optimizer.importer import OSM_SUFFIXES
from optimizer.outputs.plan_io import plan_from_dict, plan_to_dict
from optimizer.outputs.summary import plan_summary_json
from optimizer.plan.adjust import AddedHotspot, Adjustments, Move, Pin, adjust_plan
from optimizer.plan.day import plan_day
from optimizer.plan.params import PlanParams
from optimizer.plan.replan import replan_window
from optimizer.plan.types import DayPlan
from optimizer.plan.week import plan_week
from optimizer.storage import district_dir, save_district
from optimizer.streets.graph import graph_from_osm_file, prepare_graph
from optimizer.synthetic.demo import synthetic_district
from optimizer.timewindow import TimeWindow

if TYPE_CHECKING:
    from api.services import Services


def load_plan(row: Plan) -> DayPlan:
    """Return the ``DayPlan`` stored in ``row``."""
    return plan_from_dict(row.data)


def plan_of_job(session: Session, job_id: str | None) -> Plan | None:
    """Return the plan already stored by job ``job_id``, if any."""
    if job_id is None:
        return None
    return session.scalar(select(Plan).where(Plan.job_id == job_id))


def store_plan(
    services: Services,
    plan: DayPlan,
    *,
    job_id: str | None,
    created_by: str | None,
    parent_id: str | None = None,
    action: str = "plan.generate",
    inputs: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    also: Callable[[Session, str], None] | None = None,
) -> dict[str, Any]:
    """Store ``plan``, audit the generation and end job ``job_id`` done, in one transaction.

    ``also(session, plan_id)`` adds further rows about the new plan to that transaction. The
    plan's planned duties go into the participation ledger in the same transaction
    (:func:`api.ledger.store_planned`).

    Returns
    -------
    dict
        The job's result: ``plan_id``, counts and metrics (and ``extra``). When the job has a
        plan already (a job run again after a stop), that plan's id; nothing is added.
    """
    summary = json_safe(plan_summary_json(plan))
    result: dict[str, Any] = {
        "windows": len(plan.windows),
        "routes": len(plan.routes),
        "metrics": plan.metrics,
        **(extra or {}),
    }
    resources = services.district(plan.district).resources

    def work(session: Session) -> dict[str, Any]:
        existing = plan_of_job(session, job_id)
        if existing is not None:
            out = {**result, "plan_id": existing.id}
            finish(session, job_id, out)
            return out
        plan_id = str(uuid.uuid4())
        session.add(
            Plan(
                id=plan_id,
                job_id=job_id,
                parent_id=parent_id,
                district=plan.district,
                date=plan.date,
                engine=plan.engine,
                seed=plan.seed,
                summary=summary,
                data=plan_to_dict(plan),
                created_by=created_by,
                is_replan=parent_id is not None,
            )
        )
        out = {**result, "plan_id": plan_id}
        session.flush()
        store_planned(session, plan_id, plan, resources=resources)
        if also is not None:
            also(session, plan_id)
        record(
            session,
            principal=creator(created_by),
            action=action,
            inputs={"job_id": job_id, **(inputs or {})},
            result={"plan_id": plan_id, "metrics": plan.metrics, **(extra or {})},
        )
        session.flush()
        finish(session, job_id, out)
        return out

    return run_transaction(services.sessions, work)


def _stored_result(services: Services, job_id: str | None) -> dict[str, Any] | None:
    """End a job whose plan is stored already (run again after a stop) with that plan."""

    def work(session: Session) -> dict[str, Any] | None:
        row = plan_of_job(session, job_id)
        if row is None:
            return None
        out = {"plan_id": row.id, "resumed": True}
        finish(session, job_id, out)
        return out

    return run_transaction(services.sessions, work)


def job_params(services: Services, inputs: dict[str, Any]) -> PlanParams:
    """Return a plan or week job's engine and budget (``time_limit_s``, within the service's
    ``max_time_limit_s``)."""
    limit = float(inputs.get("time_limit_s") or PlanParams().budget_s)
    if limit > services.settings.max_time_limit_s:
        raise InputError("time_limit_s", limit, f"at most {services.settings.max_time_limit_s} s")
    return PlanParams(engine=str(inputs.get("engine") or DEFAULT_ENGINE), budget_s=limit)


def run_plan(
    services: Services, inputs: dict[str, Any], progress: Progress, created_by: str | None
) -> dict[str, Any]:
    """Plan a day with ``optimizer.plan.day.plan_day`` and store the plan."""
    stored = _stored_result(services, inputs.get("_job_id"))
    if stored is not None:
        return stored
    district = services.district(str(inputs["district"]))
    # time_limit_s is the search budget per cell and window (deterministic work, see PlanParams)
    params = job_params(services, inputs)
    day = dt.date.fromisoformat(str(inputs["date"]))
    adjustments = plan_adjustments(
        services,
        district=str(inputs["district"]),
        day=day,
        deficits_from=[str(p) for p in inputs.get("deficits_from") or []],
        alerts=bool(inputs.get("alerts", True)),
        clue_weight=float(inputs.get("clue_weight") or 0.0),
    )
    with session_scope(services.sessions) as session:
        served = week_hours(session, district=str(inputs["district"]), day=day)
    plan = plan_day(
        district,
        day=day,
        volunteer_hours=served,
        windows=list(inputs.get("windows") or []),
        grid_ids=inputs.get("grid_ids"),
        grid_level=inputs.get("grid_level"),
        params=params,
        seed=int(inputs.get("seed", 0)),
        progress=progress,
        executor=services.solve_executor(),
        adjustments=adjustments,
    )
    return store_plan(
        services, plan, job_id=inputs.get("_job_id"), created_by=created_by, inputs=inputs
    )


def run_week(
    services: Services, inputs: dict[str, Any], progress: Progress, created_by: str | None
) -> dict[str, Any]:
    """Plan ``days`` days from ``start`` (``optimizer.plan.week.plan_week``) and store each.

    The ledger's rows of the start's ISO week before the start count against the weekly
    caps; each day's plan is stored (with its planned duties) and the job ends with their ids.
    """
    district = services.district(str(inputs["district"]))
    params = job_params(services, inputs)
    start = dt.date.fromisoformat(str(inputs["start"]))
    monday = start - dt.timedelta(days=start.weekday())
    with session_scope(services.sessions) as session:
        before = ledger_between(
            session, district=district.name, first=monday, last=start - dt.timedelta(days=1)
        )
    week = plan_week(
        district,
        start=start,
        days=int(inputs.get("days") or 7),
        ledger=before,
        windows=list(inputs.get("windows") or []),
        grid_ids=inputs.get("grid_ids"),
        grid_level=inputs.get("grid_level"),
        params=params,
        seed=int(inputs.get("seed", 0)),
        progress=progress,
        executor=services.solve_executor(),
    )
    ids = [
        store_plan(services, plan, job_id=None, created_by=created_by, inputs=inputs)["plan_id"]
        for plan in week.plans
    ]
    over = week.over_cap()
    result = {
        "plan_ids": ids,
        "days": [d.isoformat() for d in week.days],
        "over_cap": int(over["person_id"].nunique()) if len(over) else 0,
    }

    def work(session: Session) -> dict[str, Any]:
        finish(session, inputs.get("_job_id"), result)
        return result

    return run_transaction(services.sessions, work)


def run_replan(
    services: Services, inputs: dict[str, Any], progress: Progress, created_by: str | None
) -> dict[str, Any]:
    """Re-plan one window x grid of a stored plan from the groups' current positions."""
    stored = _stored_result(services, inputs.get("_job_id"))
    if stored is not None:
        return stored
    with session_scope(services.sessions) as session:
        row = session.get(Plan, str(inputs["plan_id"]))
        if row is None:
            raise InputError("plan_id", inputs["plan_id"], "an existing plan id")
        plan = load_plan(row)
    window = TimeWindow.parse(str(inputs["window"]), field="window")
    index = [
        i
        for i, wp in enumerate(plan.windows)
        if wp.window == window and wp.grid_id == inputs["grid_id"]
    ]
    if not index:
        have = sorted({(wp.window.label(), wp.grid_id) for wp in plan.windows})
        raise InputError(
            "window,grid_id",
            [inputs["window"], inputs["grid_id"]],
            f"a window and grid of the plan, one of {have}",
        )
    old = plan.windows[index[0]]
    district = services.district(plan.district)
    now = dt.datetime.fromisoformat(str(inputs["now"]))
    if now.tzinfo is not None and old.start.tzinfo is None:
        now = now.replace(tzinfo=None)
    positions: dict[str, Any] = {
        k: (tuple(v) if isinstance(v, list | tuple) else int(v))
        for k, v in dict(inputs.get("positions") or {}).items()
    }
    completed = inputs.get("completed") or []
    progress(0, 2, f"re-planning {window.label()} {old.grid_id}")
    result = replan_window(
        old,
        district=district,
        now=now,
        positions=positions,
        completed=completed,
        params=PlanParams(engine=plan.engine, budget_s=float(inputs.get("time_limit_s") or 2.0)),
        seed=int(inputs.get("seed", 0)),
    )
    windows = list(plan.windows)
    windows[index[0]] = result.plan
    new_plan = dataclasses.replace(plan, windows=tuple(windows))
    extra = {"changed_stops": result.changed_stops, "changed_by_group": result.changed_by_group}
    return store_plan(
        services,
        new_plan,
        job_id=inputs.get("_job_id"),
        created_by=created_by,
        parent_id=str(inputs["plan_id"]),
        action="plan.replan",
        inputs=inputs,
        extra=extra,
    )


def import_file(services: Services, name: str) -> Path:
    """Return the OSM file ``name`` of the import folder.

    Raises
    ------
    InputError
        ``name`` is not a bare file name with an OSM suffix, or no such file is in the import
        folder (the message names neither the folder nor what else it holds).
    """
    accepted = (
        f"the name of a file ending in one of {list(OSM_SUFFIXES)} in the service's import "
        "folder (PATROL_IMPORT_DIR)"
    )
    if Path(name).name != name or name.startswith(".") or not name.lower().endswith(OSM_SUFFIXES):
        raise InputError("osm_file", name, accepted)
    path = Path(services.settings.import_dir) / name
    if not path.is_file():
        raise InputError("osm_file", name, accepted)
    return path


def run_import(
    services: Services, inputs: dict[str, Any], progress: Progress, created_by: str | None
) -> dict[str, Any]:
    """Import a district from an OSM file: streets, synthetic grids and resources, saved.

    A file that cannot be read (truncated, corrupt, no streets) fails the job with a clear
    error and leaves the district as it was (the folder is replaced only once all is built).
    """
    name = str(inputs["name"])
    path = import_file(services, str(inputs["osm_file"]))
    progress(0, 3, f"reading {path.name}")
    try:
        G = prepare_graph(graph_from_osm_file(path))
    except InputError as exc:
        raise InputError("osm_file", path.name, exc.accepted) from None
    except Exception as exc:  # the OSM readers raise many types for damaged files
        raise InputError(
            "osm_file",
            path.name,
            f"a complete OSM XML or PBF file with streets (reading failed: {type(exc).__name__})",
        ) from None
    progress(1, 3, f"{G.number_of_nodes()} nodes; building grids and resources")
    district = synthetic_district(
        name, G, seed=int(inputs.get("seed", 0)), metadata={"source": path.name}
    )
    save_district(district, district_dir(name, services.settings.data_dir))
    services.forget_district(name)
    progress(3, 3, "saved")
    result = {"district": name, "grids": len(district.grids), "nodes": G.number_of_nodes()}

    def work(session: Session) -> None:
        record(
            session,
            principal=creator(created_by),
            action="district.import",
            inputs=inputs,
            result=result,
        )
        finish(session, inputs.get("_job_id"), result)

    run_transaction(services.sessions, work)
    return result


UPLOADS = "uploads"
"""Folder of the import folder where uploaded district files are kept, one folder per upload."""


def upload_dir(services: Services, upload_id: str) -> Path:
    """Return the folder of upload ``upload_id`` (a UUID made by the service)."""
    return Path(services.settings.import_dir) / UPLOADS / str(uuid.UUID(upload_id))


def run_upload_import(
    services: Services, inputs: dict[str, Any], progress: Progress, created_by: str | None
) -> dict[str, Any]:
    """Import a district from uploaded files with ``optimizer.importer.import_district``.

    The same importer as ``patrol district import``: the OSM file, the bureau's grids (or
    automatic grids), their CRS, the time zone, a synthetic roster at the bureau's ratios. The
    district folder is replaced only once everything is built (a failure leaves it as it was).
    """
    from optimizer.importer import import_district

    name = str(inputs["name"])
    folder = upload_dir(services, str(inputs["upload_id"]))
    osm = folder / str(inputs["osm_file"])
    grids = folder / str(inputs["grids_file"]) if inputs.get("grids_file") else None
    steps = [0]

    def tell(message: str) -> None:
        steps[0] = min(steps[0] + 1, 19)
        progress(steps[0], 20, message)

    progress(0, 20, f"importing {name} from {osm.name}")
    try:
        result = import_district(
            name,
            osm,
            grids=grids,
            grids_crs=str(inputs.get("grids_crs") or "wgs84"),
            auto=inputs.get("auto_grids") or None,
            data_dir=services.settings.data_dir,
            synthetic_incidents=bool(inputs.get("synthetic_incidents")),
            timezone=inputs.get("timezone") or None,
            seed=int(inputs.get("seed", 0)),
            progress=tell,
        )
    except InputError as exc:
        field = {"osm": "osm_file", "grids": "grids_file", "auto": "auto_grids"}.get(
            exc.field, exc.field
        )
        raise InputError(field, exc.value, exc.accepted) from None
    except Exception as exc:  # the OSM and GeoJSON readers raise many types for damaged files
        raise InputError(
            "osm_file",
            osm.name,
            f"a complete OSM XML or PBF file with streets (reading failed: {type(exc).__name__})",
        ) from None
    services.forget_district(name)
    meta = result.district.metadata
    out = {
        "district": name,
        "grids": len(result.district.grids),
        "levels": sorted(int(v) for v in result.district.grids["level"].unique()),
        "nodes": result.district.graph.number_of_nodes(),
        "timezone": meta.get("timezone"),
        "timezone_source": meta.get("timezone_source"),
    }

    def work(session: Session) -> None:
        record(
            session,
            principal=creator(created_by),
            action="district.import",
            inputs=inputs,
            result=out,
        )
        finish(session, inputs.get("_job_id"), out)

    run_transaction(services.sessions, work)
    return out


def adjustments_from(inputs: dict[str, Any], *, by: str) -> Adjustments:
    """Return the library's :class:`Adjustments` from an adjust job's stored inputs."""
    return Adjustments(
        window=TimeWindow.parse(str(inputs["window"]), field="window"),
        lock=tuple(str(g) for g in inputs.get("lock") or ()),
        unavailable=tuple(str(g) for g in inputs.get("unavailable") or ()),
        drop=tuple(str(h) for h in inputs.get("drop") or ()),
        add=tuple(
            AddedHotspot(
                lon=float(a["lon"]),
                lat=float(a["lat"]),
                value=None if a.get("value") is None else float(a["value"]),
                dwell_min=int(a.get("dwell_min", 12)),
                label=str(a.get("label") or ""),
                id=None if a.get("id") is None else str(a["id"]),
            )
            for a in inputs.get("add") or ()
        ),
        pins=tuple(
            Pin(str(p["group_id"]), str(p["site_id"]), dt.datetime.fromisoformat(str(p["at"])))
            for p in inputs.get("pins") or ()
        ),
        moves=tuple(
            Move(str(m["person_id"]), str(m["to_group"])) for m in inputs.get("moves") or ()
        ),
        grid_ids=tuple(str(g) for g in inputs.get("grid_ids") or ()),
        by=by,
    )


def version_root(session: Session, plan: Plan) -> tuple[str, int]:
    """Return the first version's id of ``plan`` and ``plan``'s version number."""
    edit = session.scalar(select(PlanEdit).where(PlanEdit.plan_id == plan.id))
    if edit is None:
        return plan.id, 0
    return edit.root_id, edit.version


def run_adjust(
    services: Services, inputs: dict[str, Any], progress: Progress, created_by: str | None
) -> dict[str, Any]:
    """Apply the dispatcher's decisions to a stored plan and store the new version.

    The new plan's ``parent_id`` is the version adjusted; a ``plan_edits`` row records the
    decisions, what changed and who, in the transaction that stores the plan and its audit
    entry.
    """
    stored = _stored_result(services, inputs.get("_job_id"))
    if stored is not None:
        return stored
    parent_id = str(inputs["plan_id"])
    with session_scope(services.sessions) as session:
        row = session.get(Plan, parent_id)
        if row is None:
            raise InputError("plan_id", parent_id, "an existing plan id")
        plan = load_plan(row)
        root_id, version = version_root(session, row)
    district = services.district(plan.district)
    who = creator(created_by)
    decisions = adjustments_from(inputs, by=who.name if who is not None else "")
    progress(0, 2, f"re-solving {decisions.window.label()} around the decisions")
    adjusted = adjust_plan(plan, district=district, adjustments=decisions)
    progress(1, 2, f"re-solved {len(adjusted.cells)} cell(s)")
    changes = {
        "cells": list(adjusted.cells),
        "metrics": adjusted.metrics,
        "groups": adjusted.changes_frame().to_dict(orient="records"),
    }
    edits = {k: v for k, v in inputs.items() if not k.startswith("_") and k != "plan_id"}

    def add_edit(session: Session, plan_id: str) -> None:
        session.add(
            PlanEdit(
                plan_id=plan_id,
                parent_id=parent_id,
                root_id=root_id,
                version=version + 1,
                window=decisions.window.label(),
                edits=json_safe(edits),
                changes=json_safe(changes),
                created_by=created_by,
            )
        )

    extra = {
        "version": version + 1,
        "parent_id": parent_id,
        "cells": list(adjusted.cells),
        "changed_stops": adjusted.metrics.get("changed_stops", 0.0),
        "value_before": adjusted.metrics.get("value_before"),
        "value_after": adjusted.metrics.get("value_after"),
    }
    return store_plan(
        services,
        adjusted.plan,
        job_id=inputs.get("_job_id"),
        created_by=created_by,
        parent_id=parent_id,
        action="plan.adjust",
        inputs=inputs,
        extra=extra,
        also=add_edit,
    )


HANDLERS: dict[str, Handler] = {
    "plan": run_plan,
    "replan": run_replan,
    "import": run_import,
    "adjust": run_adjust,
    "upload": run_upload_import,
    "week": run_week,
}
