"""The dispatcher adjusts a plan, the solver completes it: re-solve a window around decisions.

A dispatcher looking at a day plan decides a few things and wants the rest of the window
re-solved around them (:func:`adjust_plan`):

* **lock** a group's route: it is kept exactly as it is (stops, times, street path);
* mark a group **unavailable**: it gets no route, its people are listed as unused, and the
  other groups of its cell take over what they can;
* **drop** a hotspot (it is left out with the dispatcher's reason) or **add** one at a place
  (it joins the cell that contains it, worth the value given);
* **pin** a stop to a time: that group starts its duty at that site at that time;
* **move** a member from one group to another of the same window (every group keeps an
  officer).

Only the cells the decisions touch are re-solved (plus any named in ``grid_ids``); every
other cell keeps its routes. Each re-solved cell goes through the same three steps as the day
plan: :func:`optimizer.plan.build.build_problem` (the cell's muster point from
:func:`optimizer.staff.muster.choose_muster_points`, its hotspots and posts), the solve step's
:func:`optimizer.plan.solve.solve_job` with the plan's engine and deterministic budget and the
cell's own seed (:func:`optimizer.plan.build.task_seed`), and the assemble step's
:func:`optimizer.plan.assemble.routes_from_solution`. So the same plan and decisions give the
same answer on any machine and under any load.

Fixed routes (locked, or made for a pin) are taken out of the cell's problem: the passes and
post duties they make are no longer offered to the others (the earliest passes of a hotspot
count as made; their spacing to the fixed visits is not enforced). A group with pins is
routed first, alone, with its pinned sites required at their times; the other groups are then
routed around every fixed route together.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from optimizer.district import District
from optimizer.errors import InfeasibleError, InputError
from optimizer.plan.assemble import routes_from_solution
from optimizer.plan.build import build_problem, locate, task_seed
from optimizer.plan.metrics import day_metrics, window_metrics
from optimizer.plan.params import PlanParams
from optimizer.plan.replan import changed_stops
from optimizer.plan.solve import SolveJob, SolveSettings, solve_job
from optimizer.plan.types import DayPlan, GroupRoute, LeftOut, WindowPlan, WindowStaffing
from optimizer.problem import PatrolProblem, Site
from optimizer.risk.hotspots import Hotspot
from optimizer.staff.groups import PatrolGroup, Unassigned
from optimizer.staff.muster import choose_muster_points
from optimizer.staff.roster import FixedPost
from optimizer.timewindow import TimeWindow

DROPPED = "dropped"
"""Code of the left-out reason of a hotspot the dispatcher dropped."""
UNAVAILABLE = "group_unavailable"
"""``Unassigned.code`` of the people of a group the dispatcher marked unavailable."""
NO_GROUP = "no_free_group"
"""Code of the left-out reason of a site no group was left to make after the decisions."""
ADDED_PREFIX = "added-"
"""Id prefix of hotspots added by the dispatcher without an id."""


@dataclass(frozen=True)
class AddedHotspot:
    """A hotspot the dispatcher adds at a place (WGS-84)."""

    lon: float
    lat: float
    value: float | None = None
    """Worth (``None``: as much as the best hotspot of its cell in the window)."""
    dwell_min: int = 12
    label: str = ""
    id: str | None = None


@dataclass(frozen=True)
class Pin:
    """Group ``group_id`` starts its duty at site ``site_id`` (hotspot or post) at ``at``."""

    group_id: str
    site_id: str
    at: dt.datetime


@dataclass(frozen=True)
class Move:
    """Person ``person_id`` (officer or volunteer) moves to group ``to_group``."""

    person_id: str
    to_group: str


@dataclass(frozen=True)
class Adjustments:
    """The dispatcher's decisions for one window of a plan."""

    window: TimeWindow
    lock: tuple[str, ...] = ()
    """Group ids whose routes are kept as they are."""
    unavailable: tuple[str, ...] = ()
    """Group ids that get no route."""
    drop: tuple[str, ...] = ()
    """Hotspot ids left out."""
    add: tuple[AddedHotspot, ...] = ()
    pins: tuple[Pin, ...] = ()
    moves: tuple[Move, ...] = ()
    grid_ids: tuple[str, ...] = ()
    """Further cells of the window to re-solve (the cells the decisions touch always are)."""
    by: str = ""
    """Who decided (named in the reasons of dropped hotspots and unavailable groups)."""


@dataclass(frozen=True)
class GroupChange:
    """One group's route before and after (site ids of its hotspot and post stops)."""

    group_id: str
    grid_id: str
    before: tuple[str, ...]
    after: tuple[str, ...]
    value_before: float
    value_after: float
    status: str
    """``"locked"``, ``"pinned"``, ``"resolved"``, ``"unavailable"`` or ``"kept"``."""

    @property
    def changed(self) -> int:
        """Stops inserted plus stops removed (order-aware)."""
        return changed_stops(self.before, self.after)


@dataclass(frozen=True)
class Adjusted:
    """The adjusted plan and what changed."""

    plan: DayPlan
    cells: tuple[str, ...]
    """Cells re-solved."""
    changes: tuple[GroupChange, ...]
    metrics: dict[str, float] = field(default_factory=dict)
    """``value_before``, ``value_after``, ``coverage_before``, ``coverage_after``,
    ``changed_stops``, ``left_out_before``, ``left_out_after`` over the re-solved cells."""

    def changes_frame(self) -> pd.DataFrame:
        """Return one row per group of the re-solved cells: status, stops changed, values."""
        return pd.DataFrame(
            [
                {
                    "group": c.group_id,
                    "grid": c.grid_id,
                    "status": c.status,
                    "changed_stops": c.changed,
                    "value_before": round(c.value_before, 6),
                    "value_after": round(c.value_after, 6),
                    "before": " > ".join(c.before),
                    "after": " > ".join(c.after),
                }
                for c in self.changes
            ],
            columns=[
                "group",
                "grid",
                "status",
                "changed_stops",
                "value_before",
                "value_after",
                "before",
                "after",
            ],
        )


def _duties(route: GroupRoute) -> tuple[str, ...]:
    return tuple(s.site_id for s in route.stops if s.kind in ("hotspot", "post"))


def plan_params(plan: DayPlan) -> PlanParams:
    """Return the parameters a plan was solved with (engine, budget, cap; rules by default)."""
    settings = plan.settings
    budget = settings.get("budget_s")
    cap = settings.get("time_cap_s")
    return PlanParams(
        engine=plan.engine,
        budget_s=float(budget) if isinstance(budget, int | float) else PlanParams().budget_s,
        time_cap_s=float(cap) if isinstance(cap, int | float) else None,
    )


def _window_index(plan: DayPlan, window: TimeWindow) -> int:
    labels = [str(w) for w in plan.settings.get("windows") or []]
    if window.label() in labels:
        return labels.index(window.label())
    order = list(dict.fromkeys(wp.window.label() for wp in plan.windows))
    return order.index(window.label())


def _naive_like(moment: dt.datetime, like: dt.datetime, field_name: str) -> dt.datetime:
    if not isinstance(moment, dt.datetime):
        raise InputError(field_name, moment, "a date and time")
    if like.tzinfo is None and moment.tzinfo is not None:
        return moment.replace(tzinfo=None)
    if like.tzinfo is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=like.tzinfo)
    return moment


def _check_ids(values: Iterable[str], known: Sequence[str], field_name: str) -> None:
    for i, v in enumerate(values):
        if v not in known:
            shown = list(known) if len(known) <= 30 else [*known[:30], "..."]
            raise InputError(f"{field_name}[{i}]", v, f"a group of the window: {shown}")


def _moved_groups(
    groups: Mapping[str, PatrolGroup], moves: Sequence[Move]
) -> dict[str, PatrolGroup]:
    """Apply the moves; every group keeps at least one officer."""
    out = dict(groups)
    for i, m in enumerate(moves):
        if m.to_group not in out:
            raise InputError(
                f"moves[{i}].to_group", m.to_group, f"a group of the window: {sorted(out)}"
            )
        source = next((g for g in out.values() if m.person_id in g.members), None)
        if source is None:
            raise InputError(
                f"moves[{i}].person_id", m.person_id, "a member of a group of the window"
            )
        if source.id == m.to_group:
            raise InputError(f"moves[{i}].to_group", m.to_group, f"a group other than {source.id}")
        officer = m.person_id in source.officer_ids
        if officer and len(source.officer_ids) <= 1:
            raise InputError(
                f"moves[{i}].person_id",
                m.person_id,
                f"a person whose move leaves {source.id} an officer to lead it",
            )
        target = out[m.to_group]
        if officer:
            out[source.id] = dataclasses.replace(
                source, officer_ids=tuple(p for p in source.officer_ids if p != m.person_id)
            )
            out[target.id] = dataclasses.replace(
                target, officer_ids=(*target.officer_ids, m.person_id)
            )
        else:
            out[source.id] = dataclasses.replace(
                source, volunteer_ids=tuple(p for p in source.volunteer_ids if p != m.person_id)
            )
            out[target.id] = dataclasses.replace(
                target, volunteer_ids=(*target.volunteer_ids, m.person_id)
            )
    return out


def added_hotspot(
    district: District, spot: AddedHotspot, grid_id: str, value: float, k: int
) -> Hotspot:
    """Return ``spot`` as a hotspot of cell ``grid_id`` at its nearest street node.

    Its id is ``spot.id`` or ``added-<k + 1>``; it is worth ``value``.
    """
    network = district.network
    node = network.nearest_node(spot.lon, spot.lat)
    data = district.graph.nodes[node]
    return Hotspot(
        id=spot.id or f"{ADDED_PREFIX}{k + 1}",
        grid_id=grid_id,
        lon=float(data.get("lon", spot.lon)),
        lat=float(data.get("lat", spot.lat)),
        x=float(data["x"]),
        y=float(data["y"]),
        node=int(node),
        value=float(value),
        dwell_min=int(spot.dwell_min),
        label=spot.label or "added by the dispatcher",
    )


def _site_name(site: Site) -> str:
    """The id a plan's stop carries for a site: the post's id, or the hotspot's."""
    if site.kind == "post":
        return str(site.meta.get("post", site.key or site.id))
    return site.key or site.id


def _miss(problem: PatrolProblem, i: int, *, began: float) -> tuple[float, int]:
    """How far ``began`` (seconds into the window) falls outside site ``i``'s time window."""
    site = problem.sites[i]
    late = site.latest_s if site.latest_s is not None else problem.horizon_s
    return (max(0.0, site.earliest_s - began, began - late), site.visit_number)


def _visit_ranks(plan: WindowPlan) -> dict[tuple[str, int, dt.datetime], int]:
    """Each hotspot visit of ``plan``: its place among the visits of that hotspot by time.

    The engines number the passes of a hotspot in visiting order, so the ``k``-th visit was
    made in the ``k``-th pass's slot.
    """
    visits: dict[str, list[tuple[dt.datetime, str, int, dt.datetime]]] = {}
    for r in plan.routes:
        for s in r.stops:
            if s.kind == "hotspot":
                began = s.arrival + dt.timedelta(minutes=s.wait_min)
                visits.setdefault(s.site_id, []).append((began, r.group.id, s.sequence, s.arrival))
    return {
        (gid, seq, arrival): k + 1
        for made in visits.values()
        for k, (_, gid, seq, arrival) in enumerate(sorted(made))
    }


def _without_fixed(
    problem: PatrolProblem,
    fixed: Sequence[GroupRoute],
    start: dt.datetime,
    ranks: Mapping[tuple[str, int, dt.datetime], int],
) -> PatrolProblem:
    """``problem`` less the passes and post duties the fixed routes make.

    A visit of a locked route takes out the pass whose slot it had in the plan (``ranks``), so
    the other groups' visits stay possible as they were; any other fixed visit takes out the
    site of its hotspot or post whose time window is nearest to when the visit starts.
    """
    gone: set[int] = set()
    for r in fixed:
        for stop in r.stops:
            if stop.kind not in ("hotspot", "post"):
                continue
            same = [
                i
                for i, site in enumerate(problem.sites)
                if site.kind == stop.kind and _site_name(site) == stop.site_id and i not in gone
            ]
            rank = ranks.get((r.group.id, stop.sequence, stop.arrival))
            slot = [i for i in same if problem.sites[i].visit_number == rank]
            if slot:
                gone.add(slot[0])
            elif same:
                began = (stop.arrival - start).total_seconds() + 60 * stop.wait_min
                gone.add(min(same, key=functools.partial(_miss, problem, began=began)))
    if not gone:
        return problem
    kept = tuple(s for i, s in enumerate(problem.sites) if i not in gone)
    return dataclasses.replace(problem, sites=kept)


def _pinned(
    problem: PatrolProblem, pins: Sequence[tuple[int, Pin]], start: dt.datetime
) -> PatrolProblem:
    """``problem`` with each pinned site required, its duty starting at the pinned time."""
    sites = list(problem.sites)
    for i, pin in pins:
        at = int((_naive_like(pin.at, start, f"pins[{i}].at") - start).total_seconds())
        match = [k for k, s in enumerate(sites) if _site_name(s) == pin.site_id]
        if not match:
            raise InputError(
                f"pins[{i}].site_id",
                pin.site_id,
                "a hotspot or post of the group's cell not yet made",
            )
        k = min(match, key=lambda k: (abs(sites[k].earliest_s - at), k))
        s = sites[k]
        sites[k] = dataclasses.replace(
            s, required=True, earliest_s=at, latest_s=at, min_spacing_s=0, visit_number=1
        )
    return dataclasses.replace(problem, sites=tuple(sites))


@dataclass(frozen=True)
class _Cell:
    """What one re-solved cell is made of."""

    old: WindowPlan
    groups: list[PatrolGroup]
    fixed: list[GroupRoute]
    hotspots: list[Hotspot]
    dropped: list[Hotspot]
    posts: list[FixedPost]
    ranks: dict[tuple[str, int, dt.datetime], int]
    """Old visits of a hotspot, ``(group id, stop sequence, arrival)``: their order by time."""


def _solve(
    district: District,
    cell: _Cell,
    route_ids: Sequence[str],
    fixed: Sequence[GroupRoute],
    *,
    day: dt.date,
    params: PlanParams,
    seed: int,
    pins: Sequence[tuple[int, Pin]] = (),
) -> tuple[list[GroupRoute], list[LeftOut]]:
    """Route the groups ``route_ids`` of the cell around the ``fixed`` routes.

    The problem is built for every available group of the cell, as the day plan built it
    (the passes offered and their slots are sized for the cell's groups), then only the
    vehicles of ``route_ids`` are kept and the visits of the fixed routes taken out.
    """
    if not route_ids:
        return [], []
    wp = cell.old
    muster = choose_muster_points(district, [wp.grid_id], reach_m=params.muster_reach_m)
    problem, context, cut = build_problem(
        district,
        grid_id=wp.grid_id,
        day=day,
        window=wp.window,
        groups=cell.groups,
        hotspots=cell.hotspots,
        posts=cell.posts,
        muster=muster[wp.grid_id],
        params=params.routes,
    )
    keep = [k for k, g in enumerate(context.groups) if g.id in set(route_ids)]
    problem = dataclasses.replace(problem, vehicles=tuple(problem.vehicles[k] for k in keep))
    context = dataclasses.replace(context, groups=tuple(context.groups[k] for k in keep))
    problem = _without_fixed(problem, fixed, context.start, cell.ranks)
    if pins:
        problem = _pinned(problem, pins, context.start)
    settings = SolveSettings(params.engine, params.budget_s, params.time_cap_s)
    outcome = solve_job(SolveJob(problem, seed, settings))
    if pins and outcome.metrics.get("posts_infeasible"):
        i, pin = pins[0]
        raise InfeasibleError(
            "pin",
            f"pins[{i}]: group {pin.group_id} cannot start at {pin.site_id} at {pin.at:%H:%M} "
            "and still staff its posts and be back at its muster point in the window",
        )
    routes, left = routes_from_solution(district, problem, context, outcome.solution, params.routes)
    return routes, [*(r.to_left_out() for r in cut), *left]


def _cell_plan(
    district: District,
    cell: _Cell,
    pins: Mapping[str, list[tuple[int, Pin]]],
    *,
    day: dt.date,
    params: PlanParams,
    seed: int,
    by: str,
) -> tuple[WindowPlan, dict[str, str]]:
    """Re-solve one cell: pinned groups alone first, then the rest around the fixed routes."""
    fixed = list(cell.fixed)
    status = {r.group.id: "locked" for r in fixed}
    free = [g for g in cell.groups if g.id not in status]
    for gid in sorted({g.id for g in free} & set(pins)):
        group = next(g for g in free if g.id == gid)
        routes, _ = _solve(
            district, cell, [group.id], fixed, day=day, params=params, seed=seed, pins=pins[gid]
        )
        made = {s.site_id for r in routes for s in r.stops}
        for i, pin in pins[gid]:
            if pin.site_id not in made:
                raise InfeasibleError(
                    "pin",
                    f"pins[{i}]: group {gid} cannot start at {pin.site_id} at {pin.at:%H:%M} and "
                    "be back at its muster point in the window",
                )
        fixed += routes
        status[gid] = "pinned"
    rest = [g.id for g in free if g.id not in status]
    routes, left = _solve(district, cell, rest, fixed, day=day, params=params, seed=seed)
    status.update({r.group.id: "resolved" for r in routes})
    all_routes = sorted([*fixed, *routes], key=lambda r: r.group.id)
    visited = {(s.kind, s.site_id) for r in all_routes for s in r.stops}
    who = f" by {by}" if by else ""
    dropped = [
        LeftOut(h.id, "hotspot", cell.old.grid_id, f"{DROPPED}: dropped{who} from this window")
        for h in cell.dropped
    ]
    left = [lo for lo in left if (lo.kind, lo.site_id) not in visited]
    explained = {(lo.kind, lo.site_id) for lo in left}
    left += [
        LeftOut(h.id, "hotspot", cell.old.grid_id, f"{NO_GROUP}: no free group left in this cell")
        for h in cell.hotspots
        if ("hotspot", h.id) not in visited and ("hotspot", h.id) not in explained
    ]
    wp = cell.old
    hotspots = (*cell.hotspots, *cell.dropped)
    long_wait = params.routes.long_wait_min
    metrics = window_metrics(
        all_routes, hotspots, int(wp.metrics.get("posts_required", 0)), long_wait_min=long_wait
    )
    metrics["adjusted"] = 1.0
    return (
        WindowPlan(
            wp.grid_id,
            wp.window,
            wp.start,
            wp.end,
            tuple(all_routes),
            tuple(hotspots),
            tuple(dict.fromkeys([*dropped, *left])),
            metrics,
        ),
        status,
    )


def _posts_in(plan: WindowPlan, district: District) -> list[FixedPost]:
    """The posts the window plan staffed or left out (those on duty in its cell)."""
    named = {s.site_id for r in plan.routes for s in r.stops if s.kind == "post"}
    named |= {lo.site_id for lo in plan.left_out if lo.kind == "post"}
    return [p for p in district.resources.posts if p.id in named]


@dataclass(frozen=True)
class _Checked:
    """The decisions checked against the plan, with what the re-solve needs."""

    by_cell: dict[str, WindowPlan]
    routes: dict[str, GroupRoute]
    groups: dict[str, PatrolGroup]
    added_at: list[str | None]
    pins: dict[str, list[tuple[int, Pin]]]
    touched: tuple[str, ...]


def _check(plan: DayPlan, district: District, adj: Adjustments) -> _Checked:
    """Check every decision against the plan (see :func:`check_adjustments`)."""
    if not isinstance(adj.window, TimeWindow):
        raise InputError("window", adj.window, "a TimeWindow")
    wps = [wp for wp in plan.windows if wp.window == adj.window]
    if not wps:
        have = list(dict.fromkeys(wp.window.label() for wp in plan.windows))
        raise InputError("window", adj.window.label(), f"a window of the plan: {have}")
    by_cell = {wp.grid_id: wp for wp in wps}
    routes = {r.group.id: r for wp in wps for r in wp.routes}
    group_cell = {gid: r.group.grid_id for gid, r in routes.items()}
    known = sorted(routes)
    _check_ids(adj.lock, known, "lock")
    _check_ids(adj.unavailable, known, "unavailable")
    _check_ids([p.group_id for p in adj.pins], known, "pins.group_id")
    both = sorted(set(adj.lock) & set(adj.unavailable))
    if both:
        raise InputError("unavailable", both, "groups that are not also locked")
    groups = _moved_groups({g: r.group for g, r in routes.items()}, adj.moves)
    hot_cell = {h.id: wp.grid_id for wp in wps for h in wp.hotspots}
    for i, h in enumerate(adj.drop):
        if h not in hot_cell:
            raise InputError(f"drop[{i}]", h, "a hotspot id of the window")
    added_at = locate(district, list(by_cell), [(a.lon, a.lat) for a in adj.add])
    for i, (a, gid) in enumerate(zip(adj.add, added_at, strict=True)):
        ok = all(math.isfinite(v) for v in (a.lon, a.lat))
        if not ok or gid is None:
            raise InputError(
                f"add[{i}]", [a.lon, a.lat], "(lon, lat) inside a cell planned in this window"
            )
        if a.value is not None and not (math.isfinite(a.value) and a.value > 0):
            raise InputError(f"add[{i}].value", a.value, "a value > 0")
        if not 1 <= a.dwell_min <= 120:
            raise InputError(f"add[{i}].dwell_min", a.dwell_min, "minutes from 1 to 120")
        if a.id is not None and a.id in hot_cell:
            raise InputError(f"add[{i}].id", a.id, "an id no hotspot of the window has")
    start = wps[0].start
    pins: dict[str, list[tuple[int, Pin]]] = {}
    for i, p in enumerate(adj.pins):
        at = _naive_like(p.at, start, f"pins[{i}].at")
        wp = by_cell[group_cell[p.group_id]]
        if not wp.start <= at < wp.end:
            raise InputError(f"pins[{i}].at", p.at.isoformat(), f"a time in [{wp.start}, {wp.end})")
        if p.group_id in adj.lock or p.group_id in adj.unavailable:
            raise InputError(
                f"pins[{i}].group_id", p.group_id, "a group neither locked nor unavailable"
            )
        pins.setdefault(p.group_id, []).append((i, p))
    for i, gid in enumerate(adj.grid_ids):
        if gid not in by_cell:
            raise InputError(
                f"grid_ids[{i}]", gid, f"a cell planned in this window: {sorted(by_cell)}"
            )

    touched = set(adj.grid_ids)
    touched |= {group_cell[g] for g in (*adj.lock, *adj.unavailable, *pins)}
    touched |= {hot_cell[h] for h in adj.drop}
    touched |= {g for g in added_at if g is not None}
    for m in adj.moves:
        touched.add(group_cell[m.to_group])
        touched |= {group_cell[g] for g in routes if m.person_id in routes[g].group.members}

    return _Checked(by_cell, routes, groups, added_at, pins, tuple(sorted(touched)))


def check_adjustments(
    plan: DayPlan, *, district: District, adjustments: Adjustments
) -> tuple[str, ...]:
    """Check the decisions against the plan without solving; return the cells to re-solve.

    Raises
    ------
    InputError
        As :func:`adjust_plan` does for bad decisions.
    """
    return _check(plan, district, adjustments).touched


def adjust_plan(
    plan: DayPlan,
    *,
    district: District,
    adjustments: Adjustments,
    params: PlanParams | None = None,
) -> Adjusted:
    """Apply the dispatcher's decisions to one window and re-solve the cells they touch.

    Parameters
    ----------
    plan
        The day plan.
    district
        The plan's district (street network, roster posts, grids).
    adjustments
        The decisions (see :class:`Adjustments`).
    params
        Engine and budget (default: those the plan was made with, :func:`plan_params`).

    Returns
    -------
    Adjusted
        The new day plan (other windows and cells unchanged), the cells re-solved and each of
        their groups' route before and after.

    Raises
    ------
    InputError
        An unknown window, group, hotspot, cell or person; a move that leaves a group without
        an officer; a pin outside the window; a place outside the window's cells.
    InfeasibleError
        A pinned stop the group cannot make (``constraint == "pin"``).
    """
    adj = adjustments
    params = params or plan_params(plan)
    checked = _check(plan, district, adj)
    by_cell, routes, groups = checked.by_cell, checked.routes, checked.groups
    added_at, pins, touched = checked.added_at, checked.pins, checked.touched
    widx = _window_index(plan, adj.window)
    cells: dict[str, WindowPlan] = {}
    statuses: dict[str, str] = {}
    for gid in sorted(touched):
        wp = by_cell[gid]
        drop = set(adj.drop)
        hot = [h for h in wp.hotspots if h.id not in drop]
        best = max((h.value for h in wp.hotspots), default=1.0)
        for k, (a, where) in enumerate(zip(adj.add, added_at, strict=True)):
            if where == gid:
                hot.append(added_hotspot(district, a, gid, a.value or best, k))
        cell_groups = [
            groups[r.group.id] for r in wp.routes if r.group.id not in set(adj.unavailable)
        ]
        fixed = [
            dataclasses.replace(routes[g.id], group=g) for g in cell_groups if g.id in adj.lock
        ]
        cell = _Cell(
            wp,
            cell_groups,
            fixed,
            hot,
            [h for h in wp.hotspots if h.id in drop],
            _posts_in(wp, district),
            _visit_ranks(wp),
        )
        new, status = _cell_plan(
            district,
            cell,
            pins,
            day=plan.date,
            params=params,
            seed=task_seed(plan.seed, widx, gid),
            by=adj.by,
        )
        cells[gid] = new
        statuses.update(status)
        statuses.update(
            {g: "unavailable" for g in adj.unavailable if routes[g].group.grid_id == gid}
        )

    windows = tuple(
        cells.get(wp.grid_id, wp) if wp.window == adj.window else wp for wp in plan.windows
    )
    # groups of untouched cells whose members moved keep their routes with the new members
    windows = tuple(
        dataclasses.replace(
            wp,
            routes=tuple(
                dataclasses.replace(r, group=groups[r.group.id])
                if r.group.id in groups and r.group != groups[r.group.id]
                else r
                for r in wp.routes
            ),
        )
        if wp.window == adj.window and wp.grid_id not in cells
        else wp
        for wp in windows
    )
    staffing = tuple(
        _staffing_after(ws, [routes[g].group for g in adj.unavailable], adj.by)
        if ws.window == adj.window
        else ws
        for ws in plan.staffing
    )
    metrics = day_metrics(windows)
    for key, value in plan.metrics.items():
        metrics.setdefault(key, value)
    new_plan = dataclasses.replace(plan, windows=windows, staffing=staffing, metrics=metrics)
    new_routes = {r.group.id: r for gid in cells for r in cells[gid].routes}
    changes = []
    for gid in sorted(touched):
        for r in by_cell[gid].routes:
            g = r.group.id
            after = new_routes.get(g)
            changes.append(
                GroupChange(
                    g,
                    gid,
                    _duties(r),
                    _duties(after) if after is not None else (),
                    float(r.value),
                    float(after.value) if after is not None else 0.0,
                    statuses.get(g, "resolved" if after is not None else "idle"),
                )
            )
    before = day_metrics([by_cell[g] for g in sorted(touched)])
    after_m = day_metrics([cells[g] for g in sorted(touched)])
    summary = {
        "value_before": round(before.get("value_covered", 0.0), 6),
        "value_after": round(after_m.get("value_covered", 0.0), 6),
        "coverage_before": round(before.get("coverage", 0.0), 4),
        "coverage_after": round(after_m.get("coverage", 0.0), 4),
        "left_out_before": float(sum(len(by_cell[g].left_out) for g in touched)),
        "left_out_after": float(sum(len(cells[g].left_out) for g in touched)),
        "changed_stops": float(sum(c.changed for c in changes)),
    }
    return Adjusted(new_plan, tuple(sorted(touched)), tuple(changes), summary)


def _staffing_after(
    ws: WindowStaffing, unavailable: Sequence[PatrolGroup], by: str
) -> WindowStaffing:
    """The window's staffing with the people of unavailable groups listed as unused."""
    if not unavailable:
        return ws
    who = f" by {by}" if by else ""
    extra = [
        Unassigned(p, role, UNAVAILABLE, f"group {g.id} marked unavailable{who}")
        for g in unavailable
        for role, people in (("officer", g.officer_ids), ("volunteer", g.volunteer_ids))
        for p in people
    ]
    counts = dict(ws.counts)
    n_off = sum(len(g.officer_ids) for g in unavailable)
    n_vol = sum(len(g.volunteer_ids) for g in unavailable)
    counts["officers_unused"] = counts.get("officers_unused", 0.0) + n_off
    counts["officers_in_groups"] = counts.get("officers_in_groups", 0.0) - n_off
    counts["volunteers_in_groups"] = counts.get("volunteers_in_groups", 0.0) - n_vol
    counts["groups"] = counts.get("groups", 0.0) - len(unavailable)
    return dataclasses.replace(
        ws,
        counts=counts,
        unassigned=tuple(sorted((*ws.unassigned, *extra), key=lambda u: u.person_id)),
    )
