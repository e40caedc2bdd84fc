"""Re-planning mid-window: re-solve the rest of a window from where the groups are now.

Each group becomes a vehicle that starts at its current position at time ``now`` and ends at its
muster point when the window ends. Completed stops are kept as they were; hotspot visits not yet
made, posts still open and new incidents are the sites. The stops each group still had planned
get a prize bonus (``keep_bonus``) so the new plan changes no more than it gains from; the number
of changed stops (insertions plus deletions against the old remaining sequence) is reported.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Any

import networkx as nx
import numpy as np
from shapely.geometry import LineString

from optimizer.district import District
from optimizer.engines.base import Route, Solution, Visit
from optimizer.errors import InfeasibleError, InputError
from optimizer.plan.explain import Reason, explain_left_out
from optimizer.plan.params import PlanParams
from optimizer.plan.passes import loop_between_passes, min_pass_gap_s, post_duty_site
from optimizer.plan.solve import SolveSettings, solver
from optimizer.plan.streets import mode_matrices, street_path
from optimizer.plan.types import DayPlan, GroupRoute, Stop, WindowPlan
from optimizer.problem import PatrolProblem, Site, Vehicle
from optimizer.risk.hotspots import Hotspot
from optimizer.staff.groups import PatrolGroup
from optimizer.staff.roster import FixedPost
from optimizer.streets.network import StreetRouter

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
    strategy: str = "resolve"
    """``"repair"`` (old sequences kept, infeasible stops dropped, new sites inserted) or
    ``"resolve"`` (the engine's new routes, used when they gain more than ``min_gain``)."""


def _node(network: StreetRouter, where: Position, field_name: str) -> int:
    if isinstance(where, int | np.integer):
        if int(where) not in network.G:
            raise InputError(field_name, where, "a node of the district's street graph")
        return int(where)
    try:
        lon, lat = (float(x) for x in where)
    except (TypeError, ValueError):
        raise InputError(field_name, where, "(lon, lat) or a street-graph node id") from None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError(field_name, where, "(lon, lat) in WGS-84 degrees")
    return network.nearest_node(lon, lat)


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
    plan: WindowPlan | DayPlan,
    *,
    district: District,
    now: dt.datetime,
    positions: Mapping[str, Position],
    completed: Mapping[str, Collection[str]] | Collection[str] = (),
    new_incidents: Sequence[Hotspot] = (),
    posts: Sequence[FixedPost] | None = None,
    keep_bonus: float = 0.3,
    min_gain: float = 0.05,
    params: PlanParams | None = None,
    seed: int = 0,
    grid_id: str | None = None,
) -> Replan:
    """Re-solve the rest of a window from each group's current position.

    Parameters
    ----------
    plan
        The window's current plan (one grid, one window), or a day plan: then the window plan
        running at ``now`` in ``grid_id`` (or holding the groups of ``positions``) is re-planned.
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
    min_gain
        The engine's fresh routes replace the repaired old ones only if they staff more posts
        or cover at least this share more value.
    params
        The plan's parameters: engine, deterministic budget, route rules (defaults when None).
    seed
        Seed of the search.
    grid_id
        With a day plan: the grid to re-plan.

    Returns
    -------
    Replan
        The new window plan (completed stops kept), changed stop counts, reasons for sites left out.

    Raises
    ------
    InputError
        ``now`` outside the window, unknown group ids, bad positions or ``keep_bonus``.
    """
    if isinstance(plan, DayPlan):
        plan = _pick_window(plan, now, grid_id, positions)
    if not plan.start <= now < plan.end:
        raise InputError("now", now, f"a time in [{plan.start}, {plan.end})")
    if keep_bonus < 0:
        raise InputError("keep_bonus", keep_bonus, "a share >= 0")
    group_ids = [r.group.id for r in plan.routes]
    for gid in positions:
        if gid not in group_ids:
            raise InputError(f"positions[{gid!r}]", gid, f"one of {group_ids}")
    params = params or PlanParams()
    G = district.graph
    router = district.network
    day = plan.start.date()
    horizon = int((plan.end - now).total_seconds())
    if posts is None:
        posts = _posts_of(plan, district, day)

    # --- what is done and what was still planned, per group ---------------------------
    done: dict[str, list[Stop]] = {}
    remaining_old: dict[str, list[str]] = {}
    start_nodes: list[int] = []
    ready_s: list[int] = []
    for route in plan.routes:
        gid = route.group.id
        finished = _completed_for(completed, gid)
        body = [s for s in route.stops if s.kind in ("hotspot", "post")]
        done[gid] = [s for s in body if s.site_id in finished and s.departure <= now]
        ready = 0
        if gid in positions:
            start_nodes.append(_node(router, positions[gid], f"positions[{gid!r}]"))
        else:
            # no news from the group: it is where its plan has it at ``now``, on its way to
            # (or at) the first planned stop after those completed, free once it gets there
            # (a stop underway is finished as planned)
            idx = max((route.stops.index(s) for s in done[gid]), default=0)
            ahead = [s for s in route.stops[idx + 1 :] if s.departure > now]
            nxt = ahead[0] if ahead else route.stops[-1]
            if nxt.kind in ("hotspot", "post") and nxt.arrival <= now:
                done[gid].append(nxt)
                ready = int((nxt.departure - now).total_seconds())
            else:
                ready = max(0, int((nxt.arrival - now).total_seconds()))
            start_nodes.append(router.nearest_node(nxt.lon, nxt.lat))
        ready_s.append(min(ready, max(horizon - 1, 0)))
        remaining_old[gid] = [s.site_id for s in body if s not in done[gid]]
    done_count: dict[str, int] = {}
    last_start: dict[str, dt.datetime] = {}
    for stops in done.values():
        for s in stops:
            done_count[s.site_id] = done_count.get(s.site_id, 0) + 1
            began = s.arrival + dt.timedelta(minutes=s.wait_min)
            last_start[s.site_id] = max(began, last_start.get(s.site_id, began))
    planned_next = {gid: rem for gid, rem in remaining_old.items()}
    bonus_ids = {sid for rem in remaining_old.values() for sid in rem}

    # --- the problem: depots are current positions then muster points ------------------
    ends = list(dict.fromkeys((r.stops[-1].lon, r.stops[-1].lat) for r in plan.routes))
    end_nodes = [router.nearest_node(lon, lat) for lon, lat in ends]
    nodes: list[int] = [*start_nodes, *end_nodes]
    n_depots = len(nodes)
    sites: list[Site] = []
    names: dict[int, str] = {}

    def loc(node: int) -> int:
        nodes.append(node)
        return len(nodes) - 1

    hot_all = [*plan.hotspots, *new_incidents]
    same_place: list[list[int]] = []
    for h in hot_all:
        left = max(0, max(1, h.visits) - done_count.get(h.id, 0))
        # the plan may hold extra passes beyond the recommended visits: keep offering them
        left = max(left, sum(rem.count(h.id) for rem in remaining_old.values()))
        if left == 0:
            continue
        # each pass its own matrix row, as in the plan: staying on for the next pass is a loop
        pass_locs = [loc(int(h.node)) for _ in range(left)]
        for location in pass_locs:
            names[location] = h.label or h.id
        if left > 1:
            same_place.append(pass_locs)
        prize = float(h.value) * (1.0 + keep_bonus if h.id in bonus_ids else 1.0)
        # a repeat visit keeps its spacing from the last visit already made
        after = 0
        if h.id in last_start:
            gap = last_start[h.id] + dt.timedelta(seconds=min_pass_gap_s(h, params.routes)) - now
            after = max(0, int(gap.total_seconds()))
        for k in range(left):
            sites.append(
                Site(
                    id=f"{h.id}#r{k + 1}",
                    location=pass_locs[k],
                    prize=prize,
                    dwell_s=int(h.dwell_min * 60),
                    earliest_s=min(after, max(horizon - 1, 0)) if k == 0 else 0,
                    kind="hotspot",
                    key=h.id,
                    visit_number=k + 1,
                    min_spacing_s=min_pass_gap_s(h, params.routes) if k else 0,
                    meta={"hotspot": h.id, "label": h.label, "value": float(h.value)},
                )
            )
    post_by_id: dict[str, FixedPost] = {}
    for p in posts:
        if p.id in done_count:
            continue
        for pw in p.active_windows(day, plan.window):
            # the post's id is its key here: the old plan's stops name posts by id
            site = post_duty_site(
                p,
                pw,
                day=day,
                start=now.replace(tzinfo=None),
                horizon_s=horizon,
                location=0,
                key=p.id,
            )
            if site is None:
                continue
            location = loc(router.nearest_node(p.lon, p.lat))
            names[location] = p.name
            post_by_id[p.id] = p
            sites.append(replace(site, location=location))
    modes = sorted({r.group.mode for r in plan.routes}) or ["foot"]
    # the plan's travel times: legs a car or bicycle cannot drive are walked
    durations, _ = mode_matrices(router, nodes, modes)
    loop_between_passes(durations, same_place, params.routes)
    vehicles = tuple(
        Vehicle(
            r.group.id,
            i,
            len(start_nodes) + ends.index((r.stops[-1].lon, r.stops[-1].lat)),
            r.group.mode,
            ready_s[i],
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
    repaired = repair(
        problem,
        [planned_next[r.group.id] for r in plan.routes],
        extra=[
            i
            for i, st in enumerate(sites)
            if st.required or st.key in {h.id for h in new_incidents}
        ],
    )
    settings = SolveSettings(params.engine, params.budget_s, params.time_cap_s)
    try:
        resolved = solver(settings)(problem, 0.0, seed)
    except InfeasibleError:  # posts no longer all reachable: the engine refuses, repair stands
        resolved = replace(repaired, engine=f"{params.engine} (refused)")
    v_res, v_rep = _true_value(problem, resolved), _true_value(problem, repaired)
    p_res, p_rep = _posts_done(problem, resolved), _posts_done(problem, repaired)
    # re-solve only when it staffs more posts or gains enough value to justify the changes
    use_resolve = p_res > p_rep or (p_res == p_rep and v_res > (1.0 + min_gain) * v_rep)
    solution = resolved if use_resolve else repaired

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
        {
            "sites": float(len(sites)),
            "solver_runtime_s": float(resolved.runtime_s),
            "value_resolve": round(v_res, 4),
            "value_repair": round(v_rep, 4),
        },
        "resolve" if use_resolve else "repair",
    )


def _pick_window(
    day_plan: DayPlan, now: dt.datetime, grid_id: str | None, positions: Mapping[str, Position]
) -> WindowPlan:
    """The window plan of ``day_plan`` running at ``now`` in ``grid_id`` or with those groups."""
    running = [wp for wp in day_plan.windows if wp.start <= now < wp.end]
    if grid_id is not None:
        running = [wp for wp in running if wp.grid_id == grid_id]
    elif positions:
        running = [wp for wp in running if set(positions) <= {r.group.id for r in wp.routes}]
    if len(running) != 1:
        have = sorted({wp.grid_id for wp in day_plan.windows if wp.start <= now < wp.end})
        raise InputError("grid_id", grid_id, f"one grid planned at {now:%H:%M}, one of {have}")
    return running[0]


def _posts_of(plan: WindowPlan, district: District, day: dt.date) -> list[FixedPost]:
    """Posts of the window: those the plan staffs or leaves out, and those inside its grid."""
    named = {s.site_id for r in plan.routes for s in r.stops if s.kind == "post"}
    named |= {x.site_id for x in plan.left_out if x.kind == "post"}
    parents = district.grids["parent"] if "parent" in district.grids.columns else None

    def inside(gid: str) -> bool:
        seen = 0
        while gid and seen < 10:
            if gid == plan.grid_id:
                return True
            if parents is None or gid not in parents.index or parents.loc[gid] is None:
                return False
            gid, seen = str(parents.loc[gid]), seen + 1
        return False

    return [
        p
        for p in district.resources.posts
        if p.active_windows(day, plan.window) and (p.id in named or inside(p.grid_id))
    ]


def _true_value(problem: PatrolProblem, solution: Solution) -> float:
    return float(
        sum(
            float(problem.sites[v.site].meta.get("value", problem.sites[v.site].prize))
            for r in solution.routes
            for v in r.visits
        )
    )


def _posts_done(problem: PatrolProblem, solution: Solution) -> int:
    return sum(1 for r in solution.routes for v in r.visits if problem.sites[v.site].required)


def simulate(problem: PatrolProblem, vehicle: int, seq: Sequence[int]) -> list[Visit] | None:
    """Return the timed visits of ``seq`` (site indices) by ``vehicle``, or None if infeasible.

    Checks site windows, spacing between visits of one key within the sequence and the return
    to the end location before the shift ends.
    """
    v = problem.vehicles[vehicle]
    t_mat = problem.durations[v.mode]
    t, here = v.shift_start_s, v.start_location
    last: dict[str, int] = {}
    out: list[Visit] = []
    for i in seq:
        site = problem.sites[i]
        arrive = t + int(t_mat[here, site.location])
        start = max(arrive, site.earliest_s)
        key = site.key or site.id
        if key in last and site.min_spacing_s:
            start = max(start, last[key] + site.min_spacing_s)
        if site.latest_s is not None and start > site.latest_s:
            return None
        last[key] = start
        t, here = start + site.dwell_s, site.location
        out.append(Visit(i, arrive, start, t))
    if t + int(t_mat[here, v.end_location]) > v.shift_end_s:
        return None
    return out


def repair(
    problem: PatrolProblem, planned: Sequence[Sequence[str]], *, extra: Sequence[int] = ()
) -> Solution:
    """Keep each vehicle's planned order, drop what no longer fits, insert ``extra`` sites.

    Parameters
    ----------
    problem
        The re-planning problem.
    planned
        Per vehicle, the keys (hotspot / post ids) it still had planned, in order.
    extra
        Site indices to insert where they fit best (new incidents, posts not placed), tried in
        order of required first, then prize.

    Returns
    -------
    Solution
        Engine ``"repair"``; ``feasible`` is False when a required site is not placed.
    """
    import time

    t0 = time.perf_counter()
    free: dict[str, list[int]] = {}
    for i, site in enumerate(problem.sites):
        free.setdefault(site.key or site.id, []).append(i)
    seqs: list[list[int]] = []
    for k in range(len(problem.vehicles)):
        seq: list[int] = []
        for key in planned[k] if k < len(planned) else ():
            if not free.get(key):
                continue
            cand = free[key][0]
            if simulate(problem, k, [*seq, cand]) is not None:
                seq.append(free[key].pop(0))
        seqs.append(seq)
    placed = {i for seq in seqs for i in seq}
    todo = sorted(
        (i for i in extra if i not in placed),
        key=lambda i: (not problem.sites[i].required, -problem.sites[i].prize, i),
    )
    for i in todo:
        best: tuple[int, int, int] | None = None
        for k, seq in enumerate(seqs):
            base = simulate(problem, k, seq)
            base_end = base[-1].departure_s if base else 0
            for pos in range(len(seq) + 1):
                trial = simulate(problem, k, [*seq[:pos], i, *seq[pos:]])
                if trial is None:
                    continue
                cost = trial[-1].departure_s - base_end
                if best is None or cost < best[0]:
                    best = (cost, k, pos)
        if best is not None:
            _, k, pos = best
            seqs[k].insert(pos, i)
            placed.add(i)
    routes = []
    for k, seq in enumerate(seqs):
        visits = simulate(problem, k, seq) or []
        v = problem.vehicles[k]
        here = visits[-1].departure_s if visits else v.shift_start_s
        loc = problem.sites[visits[-1].site].location if visits else v.start_location
        end = here + int(problem.durations[v.mode][loc, v.end_location])
        routes.append(Route(k, tuple(visits), v.shift_start_s, end))
    dropped = tuple(i for i in range(len(problem.sites)) if i not in placed)
    feasible = not any(problem.sites[i].required for i in dropped)
    prize = float(sum(problem.sites[i].prize for i in placed))
    return Solution(tuple(routes), prize, feasible, "repair", time.perf_counter() - t0, 0, dropped)


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
                s.wait_min,
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
            path.extend(street_path(router, u, v2, group.mode)[1:])
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
