"""Assemble a day plan from its problems and their solutions: timed, street-following routes.

The last of the three steps of a day plan (:mod:`~optimizer.plan.build` →
:mod:`~optimizer.plan.solve` → assemble). Each solution becomes :class:`~optimizer.plan.types.
GroupRoute` objects with timed stops from and back to the cell's muster point and the street
path between them (:func:`routes_from_solution`); each site missing from a solution gets its
reason (``optimizer.plan.explain``); :func:`assemble_day` adds the cells without a group, the
metrics and how the staff was used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from itertools import pairwise

from shapely.geometry import LineString

from optimizer.district import District
from optimizer.engines.base import Solution
from optimizer.errors import InputError
from optimizer.plan.build import CellTask, DayProblems, ProblemContext
from optimizer.plan.explain import explain_left_out
from optimizer.plan.metrics import day_metrics, window_metrics
from optimizer.plan.params import RouteParams
from optimizer.plan.solve import SolveOutcome
from optimizer.plan.streets import street_path
from optimizer.plan.types import (
    DayPlan,
    GroupRoute,
    LeftOut,
    Stop,
    WindowPlan,
    WindowStaffing,
)
from optimizer.problem import PatrolProblem
from optimizer.staff.groups import Unassigned
from optimizer.streets.names import NAME_KEYS_ZH, place_name
from optimizer.timezones import in_china


def routes_from_solution(
    district: District,
    problem: PatrolProblem,
    context: ProblemContext,
    solution: Solution,
    params: RouteParams,
) -> tuple[list[GroupRoute], list[LeftOut]]:
    """Turn an engine's solution into timed, street-following group routes and left-out sites.

    Parameters
    ----------
    district
        The district (street graph and network).
    problem, context
        The cell's problem and what maps it back to places.
    solution
        The engine's solution of ``problem``.
    params
        Route rules (``long_wait_min``: a longer wait at a hotspot is shown as area patrol).

    Returns
    -------
    routes, left_out
    """
    G = district.graph
    router = district.network
    start = context.start
    muster = context.muster
    hot_by_id = {h.id: h for h in context.hotspots}
    names: dict[int, str] = {}
    keys = NAME_KEYS_ZH if in_china(district.metadata.get("timezone")) else ("name",)
    routes: list[GroupRoute] = []
    for r in solution.routes:
        if not r.visits:
            continue
        group = context.groups[r.vehicle]
        vehicle = problem.vehicles[r.vehicle]
        when = start + dt.timedelta(seconds=r.start_s)
        first = context.depots[vehicle.start_location]
        stops = [
            Stop(
                0,
                first.id,
                "start",
                first.name,
                first.lon,
                first.lat,
                when,
                when,
                "leave muster point" if first.id == muster.id else "start at the post",
            )
        ]
        node_seq = [context.location_nodes[vehicle.start_location]]
        prev_departure = r.start_s
        value = 0.0
        dwell = 0.0
        for visit in r.visits:
            site = problem.sites[visit.site]
            node = context.location_nodes[site.location]
            node_seq.append(node)
            nd = G.nodes[node]
            if site.kind == "post":
                name = str(site.meta.get("name", site.id))
                purpose = f"staff {site.meta.get('purpose', 'post')}"
                pid = str(site.meta.get("post", site.id))
            else:
                if node not in names:
                    names[node] = place_name(G, node, name_keys=keys)
                h = hot_by_id.get(str(site.meta.get("hotspot", site.key)))
                name = names[node] or site.key or site.id
                what = f": {h.label}" if h is not None and h.label else ""
                again = f" (visit {site.visit_number})" if site.visit_number > 1 else ""
                purpose = f"patrol hotspot{again}{what}"
                wait = (visit.start_s - visit.arrival_s) / 60
                if stops[-1].site_id == (site.key or site.id) and stops[-1].kind == "hotspot":
                    # straight from the previous pass: the leg is a walk round the hotspot
                    loop = (visit.arrival_s - prev_departure) / 60
                    purpose = f"area patrol around {name} ({loop + wait:.0f} min), then {purpose}"
                elif wait > params.long_wait_min:
                    # the group is early for this pass: it walks the hotspot's streets meanwhile
                    purpose = f"area patrol around {name} ({wait:.0f} min), then {purpose}"
                pid = site.key or site.id
            prev_departure = visit.departure_s
            value += site.prize
            dwell += (visit.departure_s - visit.start_s) / 60
            stops.append(
                Stop(
                    len(stops),
                    pid,
                    site.kind,
                    name,
                    float(nd["lon"]),
                    float(nd["lat"]),
                    start + dt.timedelta(seconds=visit.arrival_s),
                    start + dt.timedelta(seconds=visit.departure_s),
                    purpose,
                    float(site.prize),
                    round(max(0, visit.start_s - visit.arrival_s) / 60, 1),
                )
            )
        node_seq.append(context.location_nodes[vehicle.end_location])
        end_when = start + dt.timedelta(seconds=r.end_s)
        last = context.depots[vehicle.end_location]
        stops.append(
            Stop(
                len(stops),
                last.id,
                "end",
                last.name,
                last.lon,
                last.lat,
                end_when,
                end_when,
                "return to muster point" if last.id == muster.id else "end at the post",
            )
        )
        path_nodes: list[int] = [node_seq[0]]
        for u, v in pairwise(node_seq):
            if u != v:
                path_nodes.extend(street_path(router, u, v, group.mode)[1:])
        coords = router.path_coords(path_nodes)
        if len(coords) < 2:
            coords = [coords[0], coords[0]] if coords else [(muster.lon, muster.lat)] * 2
        distance = float(
            sum(
                min(float(d.get("length", 0.0)) for d in G[a][b].values())
                if G.has_edge(a, b)
                else 0
                for a, b in pairwise(path_nodes)
            )
        )
        routes.append(
            GroupRoute(
                group,
                tuple(stops),
                LineString(coords),
                round(distance, 1),
                round((r.end_s - r.start_s) / 60, 1),
                round(dwell, 1),
                float(value),
            )
        )
    reasons = explain_left_out(problem, solution, grid_id=context.grid_id)
    # A hotspot with any pass made is not left out, whatever became of its extra passes (a
    # late pass may be out of reach, which explain reports before it looks for visits).
    visited = {s.site_id for r in routes for s in r.stops if s.kind == "hotspot"}
    left = [r.to_left_out() for r in reasons if not (r.kind == "hotspot" and r.site_id in visited)]
    return routes, left


def window_plan(
    district: District, task: CellTask, outcome: SolveOutcome, params: RouteParams
) -> WindowPlan:
    """Return the plan of one cell in one window from its task and its solve outcome."""
    ctx = task.context
    routes, left = routes_from_solution(district, task.problem, ctx, outcome.solution, params)
    n_req = sum(1 for s in task.problem.sites if s.required)
    n_req += sum(1 for lo in task.left_out if lo.kind == "post")
    metrics = window_metrics(routes, ctx.hotspots, n_req, long_wait_min=params.long_wait_min)
    metrics.update(outcome.metrics)
    return WindowPlan(
        ctx.grid_id,
        ctx.window,
        ctx.start,
        ctx.start + dt.timedelta(seconds=task.problem.horizon_s),
        tuple(routes),
        ctx.hotspots,
        (*task.left_out, *left),
        metrics,
    )


def _idle_officers(task: CellTask, plan: WindowPlan) -> list[Unassigned]:
    """Officers of the cell's groups that got no stop: nothing left there they could add."""
    routed = {r.group.id for r in plan.routes}
    out = []
    for g in task.context.groups:
        if g.id in routed:
            continue
        reason = (
            f"group {g.id} in {g.grid_id} got no stop: the other groups there cover every pass "
            "its hotspots allow"
        )
        out += [Unassigned(o, "officer", "idle", reason) for o in g.officer_ids]
    return out


def assemble_day(
    district: District,
    problems: DayProblems,
    outcomes: Sequence[SolveOutcome],
    *,
    settings: dict[str, object] | None = None,
) -> DayPlan:
    """Assemble the day plan from the build step's problems and the solve step's outcomes.

    Parameters
    ----------
    district
        The district.
    problems
        The build step's answer.
    outcomes
        One per ``problems.tasks``, in that order.
    settings
        Recorded in the plan (windows, cells, budget, engine, seed, time zone, ...).

    Returns
    -------
    DayPlan
        One :class:`WindowPlan` per window x cell that has hotspots, posts or groups, in window
        then cell order, and one :class:`WindowStaffing` per window.
    """
    if len(outcomes) != len(problems.tasks):
        raise InputError("outcomes", len(outcomes), f"{len(problems.tasks)} solve outcomes")
    by_task = {id(t): o for t, o in zip(problems.tasks, outcomes, strict=True)}
    params = problems.params.routes
    plans: list[WindowPlan] = []
    staffing: list[WindowStaffing] = []
    for wp in problems.windows:
        idle: list[Unassigned] = []
        for cell in wp.cells:
            if isinstance(cell, CellTask):
                plan = window_plan(district, cell, by_task[id(cell)], params)
                plans.append(plan)
                idle += _idle_officers(cell, plan)
            else:
                metrics = window_metrics(
                    [], cell.hotspots, cell.posts_required, long_wait_min=params.long_wait_min
                )
                plans.append(
                    WindowPlan(
                        cell.grid_id,
                        cell.window,
                        cell.start,
                        cell.end,
                        (),
                        cell.hotspots,
                        cell.left_out,
                        metrics,
                    )
                )
        f = wp.formation
        counts = dict(f.stats) if f is not None else {}
        if idle:
            counts["officers_unused"] = counts.get("officers_unused", 0.0) + len(idle)
            counts["officers_in_groups"] = counts.get("officers_in_groups", 0.0) - len(idle)
            counts["idle_groups"] = float(len({u.reason for u in idle}))
        staffing.append(
            WindowStaffing(
                wp.window,
                counts,
                tuple(sorted((*(f.unassigned if f else ()), *idle), key=lambda u: u.person_id)),
                f.unstaffed_posts if f is not None else (),
                dict(f.uncovered) if f is not None else {},
            )
        )
    metrics = day_metrics(plans)
    for key in ("time_cap_bound", "solve_reruns"):
        metrics[key] = float(sum(o.metrics.get(key, 0.0) for o in outcomes))
    for key in ("officers_on_shift", "officers_unused", "groups", "police_only_groups"):
        metrics[f"staff_{key}"] = float(sum(s.counts.get(key, 0.0) for s in staffing))
    return DayPlan(
        problems.district,
        problems.day,
        tuple(plans),
        problems.params.engine,
        problems.seed,
        metrics,
        dict(settings or {}),
        tuple(staffing),
    )
