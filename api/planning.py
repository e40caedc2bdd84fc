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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit import record
from api.db import run_transaction, session_scope
from api.errors import json_safe
from api.jobs import Handler, Progress, finish
from api.keys import creator
from api.models import Plan
from optimizer.engines.base import DEFAULT_ENGINE
from optimizer.errors import InputError
from optimizer.importer import OSM_SUFFIXES
from optimizer.outputs.plan_io import plan_from_dict, plan_to_dict
from optimizer.outputs.summary import plan_summary_json
from optimizer.plan.day import plan_day
from optimizer.plan.params import PlanParams
from optimizer.plan.replan import replan_window
from optimizer.plan.types import DayPlan
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
) -> dict[str, Any]:
    """Store ``plan``, audit the generation and end job ``job_id`` done, in one transaction.

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


def run_plan(
    services: Services, inputs: dict[str, Any], progress: Progress, created_by: str | None
) -> dict[str, Any]:
    """Plan a day with ``optimizer.plan.day.plan_day`` and store the plan."""
    stored = _stored_result(services, inputs.get("_job_id"))
    if stored is not None:
        return stored
    district = services.district(str(inputs["district"]))
    # time_limit_s is the search budget per cell and window (deterministic work, see PlanParams)
    limit = float(inputs.get("time_limit_s") or PlanParams().budget_s)
    if limit > services.settings.max_time_limit_s:
        raise InputError("time_limit_s", limit, f"at most {services.settings.max_time_limit_s} s")
    params = PlanParams(engine=str(inputs.get("engine") or DEFAULT_ENGINE), budget_s=limit)
    plan = plan_day(
        district,
        day=dt.date.fromisoformat(str(inputs["date"])),
        windows=list(inputs.get("windows") or []),
        grid_ids=inputs.get("grid_ids"),
        grid_level=inputs.get("grid_level"),
        params=params,
        seed=int(inputs.get("seed", 0)),
        progress=progress,
    )
    return store_plan(
        services, plan, job_id=inputs.get("_job_id"), created_by=created_by, inputs=inputs
    )


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


HANDLERS: dict[str, Handler] = {"plan": run_plan, "replan": run_replan, "import": run_import}
