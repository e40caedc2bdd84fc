"""Re-planning mid-window: re-solve the rest of a window from where the groups are now.

Each group becomes a vehicle that starts at its current position at time ``now`` and ends at its
station when the window ends. Completed stops are kept as they were; hotspot visits not yet
made, posts still open and new incidents are the sites. The stops each group still had planned
get a prize bonus (``keep_bonus``) so the new plan changes no more than it gains from; the number
of changed stops (insertions plus deletions against the old remaining sequence) is reported.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt
from shapely.geometry import LineString

from optimizer.district import District
from optimizer.engines.base import Solution
from optimizer.errors import InputError
from optimizer.explain import Reason, explain_left_out
from optimizer.hotspots import Hotspot
from optimizer.plan import GroupRoute, Stop, WindowPlan, street_router
from optimizer.problem import PatrolProblem, Site, Vehicle
from optimizer.resources import FixedPost
from optimizer.teams import PatrolGroup
from optimizer.variation import _default_solve

Position = tuple[float, float] | int
"""A group's position: ``(lon, lat)`` in WGS-84, or a street-graph node id."""


@dataclass(frozen=True)
class Replan:
    """The rest of a window re-planned."""

    plan: WindowPlan
    """The window with completed stops kept and the rest re-solved."""
    changed_stops: int
    """Stops inserted plus stops removed against the old remaining sequences, all groups."""
    changed_by_group: dict[str, int]
    kept_next: dict[str, bool]
    """Whether each group's next planned stop is still its next stop."""
    reasons: tuple[Reason, ...]
    solution: Solution
    now: dt.datetime
    stats: dict[str, float] = field(default_factory=dict)


def _nearest_node(G: nx.MultiDiGraph, lon: float, lat: float) -> int:
    ids = np.fromiter(G.nodes, dtype=np.int64)
    lons = np.array([float(G.nodes[n]["lon"]) for n in ids])
    lats = np.array([float(G.nodes[n]["lat"]) for n in ids])
    d2 = ((lons - lon) * math.cos(math.radians(lat))) ** 2 + (lats - lat) ** 2
    return int(ids[int(np.argmin(d2))])


def _node(G: nx.MultiDiGraph, where: Position, field_name: str) -> int:
    if isinstance(where, int | np.integer):
        if int(where) not in G:
            raise InputError(field_name, where, "a node of the district's street graph")
        return int(where)
    try:
        lon, lat = (float(x) for x in where)
    except (TypeError, ValueError):
        raise InputError(field_name, where, "(lon, lat) or a street-graph node id") from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError(field_name, where, "(lon, lat) in WGS-84 degrees")
    return _nearest_node(G, lon, lat)


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def changed_stops(old: Sequence[str], new: Sequence[str]) -> int:
    """Return insertions plus deletions turning ``old`` into ``new`` (order-aware)."""
    return len(old) + len(new) - 2 * _lcs(old, new)


def _completed_for(
    completed: Mapping[str, Collection[str]] | Collection[str], gid: str
) -> set[str]:
    if isinstance(completed, Mapping):
        return set(completed.get(gid, ()))
    return set(completed)


def replan_window(
    plan: WindowPlan,
    *,
    district: District,
    now: dt.datetime,
    positions: Mapping[str, Position],
    completed: Mapping[str, Collection[str]] | Collection[str] = (),
    new_incidents: Sequence[Hotspot] = (),
    posts: Sequence[FixedPost] | None = None,
    keep_bonus: float = 0.3,
    engine: str = "ortools",
    time_limit_s: float = 2.0,
    seed: int = 0,
) -> Replan:
    """Re-solve the rest of a window from each group's current position.

    Parameters
    ----------
    plan
        The window's current plan (one grid, one window).
    district
        The district (street graph, stations, posts).
    now
        The time now, within the window (same time zone convention as ``plan.start``).
    positions
        Current position of each group (by group id): ``(lon, lat)`` or a graph node. A group
        without a position is taken to be at its last stop that departed before ``now``.
    completed
        Site ids (hotspot or post ids) done so far, per group id or for all groups.
    new_incidents
        New hotspots to consider (e.g. made from incidents reported in the window).
    posts
        Posts of the window; default: the district's posts of this grid active in the window.
    keep_bonus
        Prize bonus (share) for stops a group still had planned: higher keeps more of the plan.
    engine, time_limit_s, seed
        Routing engine and its limits.

    Returns
    -------
    Replan
        The new window plan (completed stops kept), changed stop counts, reasons for sites left out.

    Raises
    ------
    InputError
        ``now`` outside the window, unknown group ids, bad positions or ``keep_bonus``.
    """
    if not plan.start <= now < plan.end:
        raise InputError("now", now, f"a time in [{plan.start}, {plan.end})")
    if keep_bonus < 0:
        raise InputError("keep_bonus", keep_bonus, "a share >= 0")
    group_ids = [r.group.id for r in plan.routes]
    for gid in positions:
        if gid not in group_ids:
            raise InputError(f"positions[{gid!r}]", gid, f"one of {group_ids}")
    G = district.graph
    router = street_router(G)
    day = plan.start.date()
    horizon = int((plan.end - now).total_seconds())
    if posts is None:
        posts = [
            p
            for p in district.resources.posts
            if p.grid_id == plan.grid_id and p.active_windows(day, plan.window)
        ]

    # --- what is done and what was still planned, per group ---------------------------
    done: dict[str, list[Stop]] = {}
    remaining_old: dict[str, list[str]] = {}
    start_nodes: list[int] = []
    for route in plan.routes:
        gid = route.group.id
        finished = _completed_for(completed, gid)
        body = [s for s in route.stops if s.kind in ("hotspot", "post")]
        done[gid] = [s for s in body if s.site_id in finished and s.departure <= now]
        remaining_old[gid] = [s.site_id for s in body if s not in done[gid]]
        if gid in positions:
            start_nodes.append(_node(G, positions[gid], f"positions[{gid!r}]"))
        else:
            last = [s for s in route.stops if s.departure <= now]
            stop = last[-1] if last else route.stops[0]
            start_nodes.append(_nearest_node(G, stop.lon, stop.lat))
    done_count: dict[str, int] = {}
    for stops in done.values():
        for s in stops:
            done_count[s.site_id] = done_count.get(s.site_id, 0) + 1
    planned_next = {gid: rem for gid, rem in remaining_old.items()}
    bonus_ids = {sid for rem in remaining_old.values() for sid in rem}

    # --- the problem: depots are current positions then stations -----------------------
    stations = list(dict.fromkeys(r.group.station_id for r in plan.routes))
    station_nodes = [_nearest_node(G, *_lonlat(district, s)) for s in stations]
    nodes: list[int] = [*start_nodes, *station_nodes]
    n_depots = len(nodes)
    sites: list[Site] = []
    names: dict[int, str] = {}

    def loc(node: int) -> int:
        nodes.append(node)
        return len(nodes) - 1

    hot_all = [*plan.hotspots, *new_incidents]
    for h in hot_all:
        left = max(0, max(1, h.visits) - done_count.get(h.id, 0))
        if left == 0:
            continue
        location = loc(int(h.node))
        names[location] = h.label or h.id
        prize = float(h.value) * (1.0 + keep_bonus if h.id in bonus_ids else 1.0)
        for k in range(left):
            sites.append(
                Site(
                    id=f"{h.id}#r{k + 1}",
                    location=location,
                    prize=prize,
                    dwell_s=int(h.dwell_min * 60),
                    kind="hotspot",
                    key=h.id,
                    visit_number=k + 1,
                    min_spacing_s=int(h.spacing_min * 60) if k else 0,
                    meta={"hotspot": h.id, "label": h.label, "value": float(h.value)},
                )
            )
    post_by_id: dict[str, FixedPost] = {}
    for p in posts:
        if p.id in done_count:
            continue
        for pw in p.active_windows(day, plan.window):
            p0, p1 = pw.on(day)
            p0 = p0.replace(tzinfo=now.tzinfo)
            p1 = p1.replace(tzinfo=now.tzinfo)
            a = max(0, int((p0 - now).total_seconds()))
            b = min(horizon, int((p1 - now).total_seconds()))
            dwell = min(p.dwell_min * 60, b - a)
            if dwell <= 0:
                continue
            location = loc(_nearest_node(G, p.lon, p.lat))
            names[location] = p.name
            post_by_id[p.id] = p
            sites.append(
                Site(
                    id=f"{p.id}@{pw.start:%H%M}",
                    location=location,
                    prize=0.0,
                    dwell_s=dwell,
                    earliest_s=a,
                    latest_s=b - dwell,
                    required=True,
                    kind="post",
                    key=p.id,
                    meta={"post": p.id, "name": p.name, "purpose": p.purpose},
                )
            )
    modes = sorted({r.group.mode for r in plan.routes}) or ["foot"]
    durations: dict[str, npt.NDArray[np.int64]] = {}
    for mode in modes:
        sec = np.asarray(router.matrix(nodes, mode).seconds, dtype=float)
        sec = np.where(np.isfinite(sec), sec, 10 * max(horizon, 1))
        durations[mode] = np.rint(sec).astype(np.int64)
    vehicles = tuple(
        Vehicle(
            r.group.id,
            i,
            len(start_nodes) + stations.index(r.group.station_id),
            r.group.mode,
            0,
            max(horizon, 1),
        )
        for i, r in enumerate(plan.routes)
    )
    problem = PatrolProblem(
        n_depots,
        tuple(sites),
        vehicles,
        durations,
        max(horizon, 1),
        name=f"replan:{plan.grid_id}:{plan.window.label()}:{now:%H%M}",
    )
    solution = _default_solve(engine)(problem, float(time_limit_s), seed)

    # --- back to stops -----------------------------------------------------------------
    new_routes: list[GroupRoute] = []
    changed: dict[str, int] = {}
    kept_next: dict[str, bool] = {}
    by_vehicle = {r.vehicle: r for r in solution.routes}
    for i, route in enumerate(plan.routes):
        gid = route.group.id
        r = by_vehicle.get(i)
        visits = r.visits if r is not None else ()
        new_ids = [problem.sites[v.site].key or problem.sites[v.site].id for v in visits]
        changed[gid] = changed_stops(planned_next[gid], new_ids)
        kept_next[gid] = (
            bool(planned_next[gid]) and bool(new_ids) and (planned_next[gid][0] == new_ids[0])
        )
        new_routes.append(
            _group_route(
                route,
                done[gid],
                problem,
                visits,
                nodes,
                now,
                G,
                router,
                r.end_s if r is not None else 0,
                names,
            )
        )
    reasons = tuple(explain_left_out(problem, solution, grid_id=plan.grid_id))
    left_out = tuple(x.to_left_out() for x in reasons)
    covered = sum(gr.value for gr in new_routes)
    metrics = dict(plan.metrics)
    metrics.update(
        {
            "value_covered": round(covered, 4),
            "changed_stops": float(sum(changed.values())),
            "replanned_at_min": round((now - plan.start).total_seconds() / 60, 1),
        }
    )
    new_plan = WindowPlan(
        plan.grid_id,
        plan.window,
        plan.start,
        plan.end,
        tuple(new_routes),
        tuple(hot_all),
        left_out,
        metrics,
    )
    return Replan(
        new_plan,
        int(sum(changed.values())),
        changed,
        kept_next,
        reasons,
        solution,
        now,
        {"sites": float(len(sites)), "solver_runtime_s": float(solution.runtime_s)},
    )


def _lonlat(district: District, station_id: str) -> tuple[float, float]:
    s = district.resources.station(station_id)
    return s.lon, s.lat


def _group_route(
    old: GroupRoute,
    done: Sequence[Stop],
    problem: PatrolProblem,
    visits: Sequence[Any],
    nodes: Sequence[int],
    now: dt.datetime,
    G: nx.MultiDiGraph,
    router: Any,
    end_s: int,
    names: Mapping[int, str],
) -> GroupRoute:
    """Old start + completed stops, then the new visits and the return to the station."""
    group: PatrolGroup = old.group
    first = old.stops[0]
    stops: list[Stop] = [first]
    for s in done:
        stops.append(
            Stop(
                len(stops),
                s.site_id,
                s.kind,
                s.name,
                s.lon,
                s.lat,
                s.arrival,
                s.departure,
                s.purpose,
                s.value,
            )
        )
    value = sum(s.value for s in done)
    dwell = sum((s.departure - s.arrival).total_seconds() / 60 for s in done)
    vehicle = next(v for v in problem.vehicles if v.id == group.id)
    seq = [nodes[vehicle.start_location]]
    for v in visits:
        site = problem.sites[v.site]
        node = nodes[site.location]
        seq.append(node)
        nd = G.nodes[node]
        true_value = float(site.meta.get("value", site.prize))
        purpose = (
            "patrol hotspot"
            if site.kind == "hotspot"
            else f"staff {site.meta.get('purpose', 'post')}"
        )
        stops.append(
            Stop(
                len(stops),
                site.key or site.id,
                site.kind,
                names.get(site.location, site.id),
                float(nd["lon"]),
                float(nd["lat"]),
                now + dt.timedelta(seconds=v.arrival_s),
                now + dt.timedelta(seconds=v.departure_s),
                purpose,
                round(true_value, 4),
            )
        )
        value += true_value
        dwell += (v.departure_s - v.start_s) / 60
    last = old.stops[-1]
    end_when = now + dt.timedelta(seconds=end_s) if visits else max(now, last.arrival)
    stops.append(
        Stop(
            len(stops),
            last.site_id,
            "end",
            last.name,
            last.lon,
            last.lat,
            end_when,
            end_when,
            last.purpose,
        )
    )
    seq.append(nodes[vehicle.end_location])
    path: list[int] = [seq[0]]
    for u, v2 in pairwise(seq):
        if u != v2:
            path.extend(router.path(u, v2, group.mode)[1:])
    coords = router.path_coords(path)
    if len(coords) < 2:
        coords = [*coords, *coords] or [(first.lon, first.lat)] * 2
    metres = float(
        sum(min(float(d.get("length", 0.0)) for d in G[a][b].values()) for a, b in pairwise(path))
    )
    return GroupRoute(
        group,
        tuple(stops),
        LineString(coords),
        round(metres, 1),
        round((end_when - first.departure).total_seconds() / 60, 1),
        round(dwell, 1),
        round(value, 4),
    )
