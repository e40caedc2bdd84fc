"""Build a day's routing problems: cells x windows, groups, sites, and what is left out first.

The first of the three steps of a day plan (build → :mod:`~optimizer.plan.solve` →
:mod:`~optimizer.plan.assemble`). For each window :func:`build_day`

1. takes the window's hotspots per planning cell (``optimizer.risk.hotspots``) and the post
   duties on the day;
2. forms and allocates the groups (``optimizer.staff.allocation.form_groups``): posts first,
   every cell with demand once, then in proportion to demand; muster points per cell
   (``optimizer.staff.muster``);
3. for each cell with groups builds its :class:`~optimizer.problem.PatrolProblem`
   (:func:`build_problem`): one depot (the cell's muster point), hotspot passes and post duties
   as sites (:mod:`optimizer.plan.passes`), travel times per mode on the district's whole
   street network; a site with no street path to and from the muster point is left out here,
   with that reason, instead of reaching the solver;
4. for each cell with demand or posts but no group, the left-out sites with the reason the
   allocation gives (the binding constraint).
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np
import numpy.typing as npt

from optimizer.district import District
from optimizer.plan.cells import (
    CUT_OFF,
    cell_capacity,
    cell_need,
    hotspot_nodes,
    locate,
    place_node,
    planning_grid_ids,
)
from optimizer.plan.explain import Reason, explain_without_groups, unservable_sites
from optimizer.plan.params import PlanParams, RouteParams
from optimizer.plan.passes import (
    extra_pass_scale,
    hotspot_heat,
    loop_between_passes,
    pass_gap_s,
    post_duty_site,
    spacing_s,
    spacing_scale,
    visit_copies,
    visit_prize,
)
from optimizer.plan.streets import mode_matrices
from optimizer.plan.types import DayPlan, LeftOut
from optimizer.problem import PatrolProblem, Site, Vehicle
from optimizer.risk.hotspots import Hotspot, hotspots_for_window
from optimizer.staff.allocation import CellNeed, PostDuty, form_groups
from optimizer.staff.groups import GroupFormation, PatrolGroup, record_service
from optimizer.staff.muster import Muster, choose_muster_points
from optimizer.staff.roster import FixedPost
from optimizer.timewindow import TimeWindow

ProgressCallback = Callable[[int, int, str], None]
"""``progress(done, total, message)``."""


# ---------------------------------------------------------------------------------------------
# The routing problem of one cell in one window


@dataclass(frozen=True)
class Place:
    """A named place where routes start or end."""

    id: str
    name: str
    lon: float
    lat: float


@dataclass(frozen=True)
class ProblemContext:
    """What maps a :class:`PatrolProblem` back to places: nodes, names, hotspots, posts."""

    grid_id: str
    window: TimeWindow
    start: dt.datetime
    groups: tuple[PatrolGroup, ...]
    location_nodes: tuple[int, ...]
    """Street-graph node of each matrix location (the depots first)."""
    location_names: tuple[str, ...]
    muster: Muster
    depots: tuple[Place, ...]
    """Where routes start and end: the muster point first, then posts some groups start at."""
    hotspots: tuple[Hotspot, ...]
    posts: tuple[FixedPost, ...]
    metres: npt.NDArray[np.float64]


def build_problem(
    district: District,
    *,
    grid_id: str,
    day: dt.date,
    window: TimeWindow,
    groups: Sequence[PatrolGroup],
    hotspots: Sequence[Hotspot],
    posts: Sequence[FixedPost],
    muster: Muster,
    params: RouteParams,
) -> tuple[PatrolProblem, ProblemContext, list[Reason]]:
    """Build the routing problem of one cell in one window.

    Parameters
    ----------
    district
        The district (street network).
    grid_id
        The planning cell.
    day, window
        The day and the time window; the window is every group's shift.
    groups
        The groups allocated to the cell; each becomes a vehicle from and back to ``muster``.
    hotspots
        The cell's hotspots: optional sites, their passes spread over the window
        (:mod:`optimizer.plan.passes`).
    posts
        Fixed posts on duty in the window: required sites within their duty windows.
    muster
        The cell's muster point (the one depot).
    params
        How the problem is built.

    Returns
    -------
    problem, context, left_out
        The problem, what maps it back to places, and the sites left out before solving
        because no group can serve them: no street path joins them to the groups' start, or
        the way there and back does not fit the window (with that reason).
    """
    network = district.network
    start, end = window.on(day)
    horizon = int((end - start).total_seconds())
    modes = sorted({g.mode for g in groups}) or ["foot"]
    duties = [
        (p, duty, network.nearest_node(p.lon, p.lat, modes=modes), site)
        for p in posts
        for duty in p.active_windows(day, window)
        for site in [post_duty_site(p, duty, day=day, start=start, horizon_s=horizon, location=0)]
        if site is not None
    ]
    shift_end = max(horizon // 2, horizon - round(params.return_reserve_min * 60))
    # A group whose post duty begins before it could get there from the muster point starts
    # at the post (the school gate at 07:20); one whose duty ends too late to get back ends
    # there (the gate at 17:30 in a window to 18:00): one group per such duty while they last.
    depots = [Place(muster.id, muster.name, muster.lon, muster.lat)]
    depot_nodes = [muster.node]
    start_depot = [0] * len(groups)
    end_depot = [0] * len(groups)
    if duties:
        reach = mode_matrices(network, [muster.node, *(d[2] for d in duties)], modes)[0]

        def at_post(p: FixedPost, node: int) -> int:
            depots.append(Place(p.id, p.name, p.lon, p.lat))
            depot_nodes.append(node)
            return len(depots) - 1

        order = sorted(range(len(duties)), key=lambda k: (duties[k][3].latest_s or 0, k))
        free_start = list(range(len(groups)))
        for k in order:
            p, _, node, site = duties[k]
            there = [int(reach[groups[g].mode][0, 1 + k]) for g in free_start]
            if free_start and all(t > (site.latest_s or 0) for t in there):
                start_depot[free_start.pop(0)] = at_post(p, node)
        free_end = list(range(len(groups)))
        for k in reversed(order):
            p, _, node, site = duties[k]
            done = (site.latest_s or 0) + site.dwell_s
            back = [int(reach[groups[g].mode][1 + k, 0]) for g in free_end]
            if free_end and all(done + b > shift_end for b in back):
                end_depot[free_end.pop(-1)] = at_post(p, node)
    nodes: list[int] = list(depot_nodes)
    names: list[str] = [d.name for d in depots]
    sites: list[Site] = []
    loc_of_node: dict[int, int] = {}

    def location(node: int, name: str) -> int:
        if node not in loc_of_node:
            loc_of_node[node] = len(nodes)
            nodes.append(node)
            names.append(name)
        return loc_of_node[node]

    hot_locs = [
        location(place_node(network, hotspot_nodes(h), modes), h.label or h.id) for h in hotspots
    ]
    sites += [
        replace(duty_site, location=location(node, p.name)) for p, _, node, duty_site in duties
    ]
    durations, metres = mode_matrices(network, nodes, modes)
    post_s = sum(s.dwell_s for s in sites)
    scale = spacing_scale(
        hotspots,
        hot_locs,
        [durations[g.mode] for g in groups],
        len(groups) * horizon - post_s,
        params,
    )
    hot_sites: list[Site] = []
    # Each further pass of a hotspot gets its own matrix row (a copy of the hotspot's row),
    # joined to its siblings by a loop of the hotspot's streets (loop_between_passes).
    copy_of: list[int] = []
    extra_scale = extra_pass_scale(hotspots, params)
    first_by = int(params.first_pass_by * horizon)
    for h, loc, heat in zip(hotspots, hot_locs, hotspot_heat(hotspots), strict=True):
        slot = spacing_s(h, params, scale)
        n_visits = visit_copies(h, horizon, params, slot, heat=heat)
        last = max(0, horizon - int(h.dwell_min * 60))
        pass_locs = [loc]
        for _ in range(1, n_visits):
            pass_locs.append(len(nodes) + len(copy_of))
            copy_of.append(loc)
        for k in range(n_visits):
            hot_sites.append(
                Site(
                    id=f"{h.id}#{k + 1}" if n_visits > 1 else h.id,
                    location=pass_locs[k],
                    prize=visit_prize(h, k + 1, params, extra_scale=extra_scale),
                    dwell_s=int(h.dwell_min * 60),
                    # pass k + 1 is due in its own slot of the window, so passes spread over
                    # it; both ends of the slots rise with k, so any passes made stay valid
                    # when numbered in visiting order (as the engines number them)
                    earliest_s=min(k * slot, last),
                    latest_s=(
                        None
                        if k == n_visits - 1
                        else min(last, max(first_by, int((k + 1 + params.slot_overlap) * slot)))
                    ),
                    kind="hotspot",
                    key=h.id,
                    visit_number=k + 1,
                    min_spacing_s=pass_gap_s(h, slot, params) if k else 0,
                    meta={"hotspot": h.id, "label": h.label, "extra": k >= max(1, h.visits)},
                )
            )
    sites = hot_sites + sites
    if copy_of:
        idx = np.asarray([*range(len(nodes)), *copy_of], dtype=np.int64)
        durations = {m: np.ascontiguousarray(d[np.ix_(idx, idx)]) for m, d in durations.items()}
        metres = np.ascontiguousarray(metres[np.ix_(idx, idx)])
        names.extend(names[b] for b in copy_of)
        nodes.extend(nodes[b] for b in copy_of)
        same_place: dict[int, list[int]] = {}
        for i, b in enumerate(idx.tolist()):
            same_place.setdefault(b, []).append(i)
        loop_between_passes(durations, list(same_place.values()), params)
    vehicles = tuple(
        Vehicle(
            id=g.id,
            start_location=start_depot[k],
            end_location=end_depot[k],
            mode=g.mode,
            shift_start_s=0,
            shift_end_s=shift_end,
        )
        for k, g in enumerate(groups)
    )
    problem = PatrolProblem(
        n_depots=len(depots),
        sites=tuple(sites),
        vehicles=vehicles,
        durations=durations,
        horizon_s=horizon,
        distances=metres,
        name=f"{district.name}:{grid_id}:{window.label()}:{day}",
    )
    left_out: list[Reason] = []
    cut = unservable_sites(problem)
    if cut:
        # the sites go, and their matrix rows with them: what the solver sees is all reachable
        offered = problem.sites
        kept = [s for i, s in enumerate(offered) if i not in cut]
        rows = sorted({*range(len(depots)), *(s.location for s in kept)})
        row_of = {old: new for new, old in enumerate(rows)}
        durations = {m: np.ascontiguousarray(d[np.ix_(rows, rows)]) for m, d in durations.items()}
        metres = np.ascontiguousarray(metres[np.ix_(rows, rows)])
        nodes = [nodes[r] for r in rows]
        names = [names[r] for r in rows]
        problem = PatrolProblem(
            n_depots=len(depots),
            sites=tuple(replace(s, location=row_of[s.location]) for s in kept),
            vehicles=vehicles,
            durations=durations,
            horizon_s=horizon,
            distances=metres,
            name=problem.name,
        )
        # a hotspot some of whose passes remain is not left out (a late pass just does not fit)
        kept_keys = {s.key or s.id for s in kept}
        unique = {
            f"{r.kind}:{r.site_id}": r
            for i, r in cut.items()
            if (offered[i].key or offered[i].id) not in kept_keys
        }
        left_out = [Reason(r.site_id, r.kind, grid_id, r.code, r.detail) for r in unique.values()]
    context = ProblemContext(
        grid_id,
        window,
        start,
        tuple(groups),
        tuple(nodes),
        tuple(names),
        muster,
        tuple(depots),
        tuple(hotspots),
        tuple(posts),
        metres,
    )
    return problem, context, left_out


# ---------------------------------------------------------------------------------------------
# The day


class HotspotAdjustment(Protocol):
    """A change to a window's forecast hotspots before planning (see :func:`build_day`)."""

    def apply(
        self,
        hotspots: Sequence[Hotspot],
        *,
        district: District,
        day: dt.date,
        window: TimeWindow,
    ) -> Sequence[Hotspot]:
        """Return the window's hotspots, changed (values raised, hotspots added, ...)."""
        ...

    def describe(self, *, day: dt.date, window: TimeWindow) -> str:
        """Say what :meth:`apply` did, for the plan's notes."""
        ...


@dataclass(frozen=True)
class CellTask:
    """One cell x window problem to solve, with what the solve step needs besides it."""

    problem: PatrolProblem
    context: ProblemContext
    seed: int
    previous: frozenset[str]
    """Hotspot keys the previous day's plan visited here (for variation)."""
    left_out: tuple[LeftOut, ...] = ()
    """Sites left out before solving (no street path)."""


@dataclass(frozen=True)
class CellWithoutGroup:
    """A cell with hotspots or posts in a window that got no group, and why."""

    grid_id: str
    window: TimeWindow
    start: dt.datetime
    end: dt.datetime
    hotspots: tuple[Hotspot, ...]
    left_out: tuple[LeftOut, ...]
    posts_required: int


@dataclass(frozen=True)
class WindowProblems:
    """One window: its groups, the cells to solve and the cells without a group."""

    window: TimeWindow
    formation: GroupFormation | None
    cells: tuple[CellTask | CellWithoutGroup, ...]


@dataclass(frozen=True)
class DayProblems:
    """The build step's answer: everything the solve and assemble steps need."""

    district: str
    day: dt.date
    grid_ids: tuple[str, ...]
    windows: tuple[WindowProblems, ...]
    params: PlanParams
    seed: int
    muster: Mapping[str, Muster]
    settings: dict[str, object] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    """What the hotspot adjustments did, window by window."""

    @property
    def tasks(self) -> list[CellTask]:
        """Every problem to solve, window by window, cell by cell."""
        return [c for w in self.windows for c in w.cells if isinstance(c, CellTask)]


def task_seed(seed: int, window_index: int, grid_id: str) -> int:
    """Return the seed of one cell x window problem (stable across machines and runs)."""
    return (seed * 1_000_003 + window_index * 7919 + zlib.crc32(grid_id.encode())) % 2**31


def _post_duties(
    district: District,
    day: dt.date,
    window: TimeWindow,
    grid_ids: Sequence[str],
) -> dict[str, list[tuple[FixedPost, list[PostDuty]]]]:
    """The posts on duty in the window, per planning cell, with their duties in it."""
    start, end = window.on(day)
    active = [p for p in district.resources.posts if p.active_windows(day, window)]
    ids = set(grid_ids)
    where = locate(district, grid_ids, [(p.lon, p.lat) for p in active if p.grid_id not in ids])
    located = iter(where)
    out: dict[str, list[tuple[FixedPost, list[PostDuty]]]] = {}
    for p in active:
        cell = p.grid_id if p.grid_id in ids else next(located)
        if cell is None:
            continue
        duties = []
        for duty in p.active_windows(day, window):
            a, b = duty.on(day)
            if b <= start:  # a duty of the next day in a window crossing midnight
                a, b = a + dt.timedelta(days=1), b + dt.timedelta(days=1)
            duties.append(
                PostDuty(p.id, cell, duty, max(a, start), min(b, end), float(p.dwell_min))
            )
        out.setdefault(cell, []).append((p, duties))
    return out


def _visited_keys(plan: DayPlan | None, window: TimeWindow, grid_id: str) -> frozenset[str]:
    """Hotspot keys a previous plan visited in the same window and cell."""
    if plan is None:
        return frozenset()
    return frozenset(
        s.site_id
        for wp in plan.windows
        if wp.window == window and wp.grid_id == grid_id
        for r in wp.routes
        for s in r.stops
        if s.kind == "hotspot"
    )


def build_day(
    district: District,
    *,
    day: dt.date,
    windows: Sequence[TimeWindow],
    grid_ids: Sequence[str],
    params: PlanParams,
    seed: int,
    volunteer_hours: Mapping[str, float] | None = None,
    previous: DayPlan | None = None,
    adjustments: Sequence[HotspotAdjustment] = (),
    progress: Callable[[int, str], None] | None = None,
) -> DayProblems:
    """Build every cell x window problem of a day (see the module docstring).

    Parameters
    ----------
    district
        The prepared district.
    day
        The date planned.
    windows
        The windows, parsed.
    grid_ids
        The planning cells (validated, see :func:`planning_grid_ids`).
    params
        The plan's parameters.
    seed
        The plan's seed.
    volunteer_hours
        Hours each volunteer has served this week; each window's hours are added before the
        next window is formed.
    previous
        The previous day's plan (variation discounts hotspots it visited).
    adjustments
        Changes to the forecast hotspots of each window before anything else uses them (an
        alert raising a place's risk, yesterday's under-served hotspots weighing more), applied
        in order; each says what it did (:attr:`DayProblems.notes`).
    progress
        Called as ``progress(windows_built, message)`` before each window's forecast (the
        first fit of a district's forecaster takes the longest) and after each window.

    Returns
    -------
    DayProblems
    """
    ids = list(grid_ids)
    muster = choose_muster_points(district, ids, reach_m=params.muster_reach_m)
    network = district.network
    cut_ids = ids
    if params.hotspot_level is not None:
        finer = planning_grid_ids(district, level=params.hotspot_level)
        centres = [district.grids.loc[g].geometry.representative_point() for g in finer]
        owner = locate(district, ids, [(c.x, c.y) for c in centres])
        cut_ids = [g for g, o in zip(finer, owner, strict=True) if o is not None]
    served: dict[str, float] = dict(volunteer_hours or {})
    notes: list[str] = []
    out: list[WindowProblems] = []
    for wi, window in enumerate(windows):
        start, end = window.on(day)
        if progress is not None:
            progress(wi, f"{window.label()}: forecasting hotspots")
        hotspots = hotspots_for_window(
            district, day=day, window=window, grid_ids=cut_ids, params=params.hotspots
        )
        for adjustment in adjustments:
            hotspots = list(adjustment.apply(hotspots, district=district, day=day, window=window))
            notes.append(f"{window.label()}: {adjustment.describe(day=day, window=window)}")
        hot_of: dict[str, list[Hotspot]] = {}
        stray = [h for h in hotspots if h.grid_id not in muster]
        for h, cell in zip(
            stray, locate(district, ids, [(h.lon, h.lat) for h in stray]), strict=True
        ):
            if cell is not None:
                hot_of.setdefault(cell, []).append(h)
        for h in hotspots:
            if h.grid_id in muster:
                hot_of.setdefault(h.grid_id, []).append(h)
        posts = _post_duties(district, day, window, ids)
        needs = [
            cell_need(
                network,
                gid,
                hot_of.get(gid, []),
                [d for _, duties in posts.get(gid, []) for d in duties],
                [network.nearest_node(p.lon, p.lat) for p, _ in posts.get(gid, [])],
                min_share=params.min_mode_share,
                capacity=cell_capacity(
                    hot_of.get(gid, []),
                    [d for _, duties in posts.get(gid, []) for d in duties],
                    int((end - start).total_seconds()),
                    params.routes,
                ),
            )
            for gid in ids
            if gid in hot_of or gid in posts
        ]
        # Two rounds at most: a cell whose sites turn out beyond its groups' reach in the window
        # (streets at the extract's edge, a detour longer than the window) needs no group;
        # its groups go where they can patrol, and its sites keep the real reason.
        dead: dict[str, tuple[LeftOut, ...]] = {}
        for _ in range(2):
            live = [
                n if n.grid_id not in dead else replace(n, demand=0.0, duties=()) for n in needs
            ]
            formation = _formation(district, window, day, live, muster, params, served, seed, wi)
            cells: list[CellTask | CellWithoutGroup] = []
            newly_dead = False
            for gid in ids:
                g_hot = hot_of.get(gid, [])
                g_posts = [p for p, _ in posts.get(gid, [])]
                g_groups = (
                    [] if formation is None else [g for g in formation.groups if g.grid_id == gid]
                )
                if gid in dead or not g_groups:
                    if g_hot or g_posts:
                        cells.append(
                            _without_group(
                                gid, window, start, end, g_hot, posts.get(gid, []), formation
                            )
                            if gid not in dead
                            else CellWithoutGroup(
                                gid, window, start, end, tuple(g_hot), dead[gid], 0
                            )
                        )
                    continue
                problem, context, cut = build_problem(
                    district,
                    grid_id=gid,
                    day=day,
                    window=window,
                    groups=g_groups,
                    hotspots=g_hot,
                    posts=g_posts,
                    muster=muster[gid],
                    params=params.routes,
                )
                if cut and not problem.sites:
                    dead[gid] = tuple(r.to_left_out() for r in cut)
                    newly_dead = True
                cells.append(
                    CellTask(
                        problem,
                        context,
                        task_seed(seed, wi, gid),
                        _visited_keys(previous, window, gid),
                        tuple(r.to_left_out() for r in cut),
                    )
                )
            if not newly_dead:
                break
        if formation is not None:
            served = record_service(served, formation)
        out.append(WindowProblems(window, formation, tuple(cells)))
        if progress is not None:
            n_groups = 0 if formation is None else len(formation.groups)
            progress(wi + 1, f"{window.label()}: {len(hotspots)} hotspots, {n_groups} groups")
    return DayProblems(
        district=district.name,
        day=day,
        grid_ids=tuple(ids),
        windows=tuple(out),
        params=params,
        seed=seed,
        muster=muster,
        notes=tuple(notes),
    )


def _formation(
    district: District,
    window: TimeWindow,
    day: dt.date,
    needs: Sequence[CellNeed],
    muster: Mapping[str, Muster],
    params: PlanParams,
    served: Mapping[str, float],
    seed: int,
    window_index: int,
) -> GroupFormation | None:
    """The window's groups (``None`` where no cell needs one)."""
    if not any(n.demand > 0 or n.duties for n in needs):
        return None
    return form_groups(
        district.resources,
        day=day,
        window=window,
        cells=[n for n in needs if n.demand > 0 or n.duties],
        muster=muster,
        grids=district.grids,
        params=params.groups,
        history=served,
        seed=task_seed(seed, window_index, "groups"),
    )


def _without_group(
    grid_id: str,
    window: TimeWindow,
    start: dt.datetime,
    end: dt.datetime,
    hotspots: Sequence[Hotspot],
    posts: Sequence[tuple[FixedPost, list[PostDuty]]],
    formation: GroupFormation | None,
) -> CellWithoutGroup:
    """The left-out sites of a cell without a group, with the allocation's reason."""
    code = "no_group"
    detail = CUT_OFF
    if formation is not None and grid_id in formation.allocation:
        detail = formation.uncovered.get(grid_id, "no group is allocated to this cell")
        unstaffed = {u.post_id: u for u in formation.unstaffed_posts if u.grid_id == grid_id}
        if not hotspots and unstaffed:
            detail = next(iter(unstaffed.values())).reason
    else:
        code = "no_path"
    reasons = explain_without_groups(
        hotspots, [p for p, _ in posts], grid_id=grid_id, detail=detail, code=code
    )
    n_duties = sum(len(d) for _, d in posts)
    return CellWithoutGroup(
        grid_id,
        window,
        start,
        end,
        tuple(hotspots),
        tuple(r.to_left_out() for r in reasons),
        n_duties,
    )
