"""Job handlers: plan a day, re-plan a running window, import a district.

Each handler turns stored JSON inputs into library calls (``optimizer.plan.day.plan_day``,
``optimizer.plan.replan.replan_window``, ``optimizer.storage.save_district``), stores what came out
and writes the audit entry of the generation.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.audit import record
from api.db import session_scope
from api.jobs import Handler, Progress
from api.keys import creator
from api.models import Plan
from optimizer.engines.base import DEFAULT_ENGINE
from optimizer.errors import InputError
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
) -> str:
    """Store ``plan`` with its summary and audit the generation; return the plan id."""
    plan_id = str(uuid.uuid4())
    summary = plan_summary_json(plan)
    row = Plan(
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
    result = {"plan_id": plan_id, "metrics": plan.metrics, **(extra or {})}
    with session_scope(services.sessions) as session:
        session.add(row)
        record(
            session,
            principal=creator(created_by),
            action=action,
            inputs={"job_id": job_id, **(inputs or {})},
            result=result,
        )
    return plan_id


def run_plan(
    services: Services, inputs: dict[str, Any], progress: Progress, created_by: str | None
) -> dict[str, Any]:
    """Plan a day with ``optimizer.plan.day.plan_day`` and store the plan."""
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
    plan_id = store_plan(
        services, plan, job_id=inputs.get("_job_id"), created_by=created_by, inputs=inputs
    )
    return {
        "plan_id": plan_id,
        "windows": len(plan.windows),
        "routes": len(plan.routes),
        "metrics": plan.metrics,
    }


def run_replan(
    services: Services, inputs: dict[str, Any], progress: Progress, created_by: str | None
) -> dict[str, Any]:
    """Re-plan one window x grid of a stored plan from the groups' current positions."""
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
    plan_id = store_plan(
        services,
        new_plan,
        job_id=inputs.get("_job_id"),
        created_by=created_by,
        parent_id=str(inputs["plan_id"]),
        action="plan.replan",
        inputs=inputs,
        extra=extra,
    )
    progress(2, 2, "re-planned")
    return {"plan_id": plan_id, **extra}


def run_import(
    services: Services, inputs: dict[str, Any], progress: Progress, created_by: str | None
) -> dict[str, Any]:
    """Import a district from an OSM file: streets, synthetic grids and resources, saved."""
    path = Path(str(inputs["osm_path"]))
    if not path.is_file():
        raise InputError("osm_path", str(path), "an OSM XML or PBF file readable by the server")
    progress(0, 3, f"reading {path.name}")
    G = prepare_graph(graph_from_osm_file(path))
    progress(1, 3, f"{G.number_of_nodes()} nodes; building grids and resources")
    name = str(inputs["name"])
    district = synthetic_district(
        name, G, seed=int(inputs.get("seed", 0)), metadata={"source": str(path)}
    )
    folder = save_district(district, district_dir(name, services.settings.data_dir))
    services.forget_district(name)
    progress(3, 3, "saved")
    with session_scope(services.sessions) as session:
        record(
            session,
            principal=creator(created_by),
            action="district.import",
            inputs=inputs,
            result={"folder": str(folder), "grids": len(district.grids)},
        )
    return {"district": name, "grids": len(district.grids), "nodes": G.number_of_nodes()}


HANDLERS: dict[str, Handler] = {"plan": run_plan, "replan": run_replan, "import": run_import}
