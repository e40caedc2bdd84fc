"""A day's plan: grids x windows -> groups -> routes.

Contract (owned by the foundation work): the dataclasses below keep their fields; the
pipeline in :func:`plan_day` may change behind them.

The pipeline, for each time window of the day:

1. hotspots of the window (``optimizer.hotspots.hotspots_for_window``) and the patrol demand
   per grid they imply;
2. joint patrol groups (``optimizer.teams.form_groups``): at least one officer each, allocated
   to grids;
3. for each planning grid that has groups: a :class:`~optimizer.problem.PatrolProblem`
   (:func:`build_problem`) — depots are the groups' stations, sites are the hotspots (prize =
   value, dwell, repeat visits with spacing) and the fixed posts on duty in the window
   (required, with their time windows); travel times per mode from the street graph;
4. the routing engine solves it; :func:`routes_from_solution` turns the answer into
   :class:`GroupRoute` objects with timed stops and the street path between them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Protocol

import networkx as nx
import numpy as np
import numpy.typing as npt
import pandas as pd
from shapely.geometry import LineString, Point

from optimizer.district import District
from optimizer.engines.base import DEFAULT_ENGINE, ENGINE_NAMES, Solution, get_engine
from optimizer.errors import InfeasibleError, InputError
from optimizer.hotspots import Hotspot, hotspots_for_window, patrol_demand
from optimizer.matrix import StreetRouter
from optimizer.problem import PatrolProblem, Site, Vehicle
from optimizer.resources import FixedPost
from optimizer.teams import GroupFormation, PatrolGroup, form_groups, record_service
from optimizer.timewindow import DEFAULT_WINDOWS, TimeWindow

if TYPE_CHECKING:  # variation.py imports this module at run time
    from optimizer.variation import VariationParams

ProgressCallback = Callable[[int, int, str], None]
"""``progress(done, total, message)``."""

DEFAULT_GRID_LEVEL = 2
"""Grid level planned when none is named: level 2 (the demo's three sectors)."""


@dataclass(frozen=True)
class Stop:
    """One stop of a route: a hotspot visit, a fixed post, or the start/end station."""

    sequence: int
    site_id: str
    kind: str
    """``"start"``, ``"hotspot"``, ``"post"`` or ``"end"``."""
    name: str
    lon: float
    lat: float
    arrival: dt.datetime
    departure: dt.datetime
    purpose: str
    value: float = 0.0
    wait_min: float = 0.0
    """Minutes between arrival and the start of the duty (a post's window, a repeat's spacing)."""


@dataclass(frozen=True)
class GroupRoute:
    """One group's route in one window."""

    group: PatrolGroup
    stops: tuple[Stop, ...]
    path: LineString
    """Street path in WGS-84 following graph edges, start to end."""
    distance_m: float
    patrol_min: float
    dwell_min: float
    value: float


@dataclass(frozen=True)
class LeftOut:
    """A hotspot or post not in any route, and why."""

    site_id: str
    kind: str
    grid_id: str
    reason: str


@dataclass(frozen=True)
class WindowPlan:
    """Routes of one grid in one window."""

    grid_id: str
    window: TimeWindow
    start: dt.datetime
    end: dt.datetime
    routes: tuple[GroupRoute, ...]
    hotspots: tuple[Hotspot, ...]
    left_out: tuple[LeftOut, ...]
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class DayPlan:
    """All windows of one day for one district."""

    district: str
    date: dt.date
    windows: tuple[WindowPlan, ...]
    engine: str
    seed: int
    metrics: dict[str, float] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Return one row per stop: window, grid, group, members, times, place, purpose."""
        return plan_to_frame(self)

    def summary(self) -> pd.DataFrame:
        """Return one row per window x grid with groups, stops and coverage metrics."""
        return plan_summary(self)

    def left_out_frame(self) -> pd.DataFrame:
        """Return one row per left-out hotspot or post: window, grid, site, kind, reason."""
        rows = [
            (wp.window.label(), wp.grid_id, lo.site_id, lo.kind, lo.reason)
            for wp in self.windows
            for lo in wp.left_out
        ]
        return pd.DataFrame(rows, columns=["window", "grid", "site_id", "kind", "reason"])

    @property
    def routes(self) -> list[GroupRoute]:
        """All routes of the day, window by window."""
        return [r for w in self.windows for r in w.routes]


# ---------------------------------------------------------------------------------------------
# Tables for notebooks and exports


STOP_COLUMNS: tuple[str, ...] = (
    "window",
    "grid",
    "group",
    "mode",
    "members",
    "sequence",
    "kind",
    "site_id",
    "place",
    "purpose",
    "arrival",
    "departure",
    "wait_min",
    "value",
    "lon",
    "lat",
)


def plan_to_frame(plan: DayPlan) -> pd.DataFrame:
    """Return a table with one row per stop of every route (columns :data:`STOP_COLUMNS`)."""
    rows = []
    for wp in plan.windows:
        for route in wp.routes:
            g = route.group
            members = ", ".join(g.members)
            for s in route.stops:
                rows.append(
                    (
                        wp.window.label(),
                        wp.grid_id,
                        g.id,
                        g.mode,
                        members,
                        s.sequence,
                        s.kind,
                        s.site_id,
                        s.name,
                        s.purpose,
                        s.arrival,
                        s.departure,
                        s.wait_min,
                        s.value,
                        s.lon,
                        s.lat,
                    )
                )
    return pd.DataFrame(rows, columns=list(STOP_COLUMNS))


def plan_summary(plan: DayPlan) -> pd.DataFrame:
    """Return one row per window x grid: groups, visits, value covered, share, km, minutes."""
    rows = []
    for wp in plan.windows:
        m = wp.metrics
        rows.append(
            {
                "window": wp.window.label(),
                "grid": wp.grid_id,
                "groups": len(wp.routes),
                "hotspots": len(wp.hotspots),
                "visits": int(m.get("visits", 0)),
                "posts": int(m.get("posts_staffed", 0)),
                "left_out": len(wp.left_out),
                "value_covered": round(m.get("value_covered", 0.0), 5),
                "coverage": round(m.get("coverage", 0.0), 3),
                "km": round(m.get("km", 0.0), 2),
                "patrol_min": round(m.get("patrol_min", 0.0), 1),
                "wait_min": round(m.get("wait_min", 0.0), 1),
                "dwell_min": round(m.get("dwell_min", 0.0), 1),
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Street routing (travel times and paths)


class Router(Protocol):
    """What the pipeline needs from ``optimizer.matrix.StreetRouter``."""

    def matrix(self, nodes: Sequence[int], mode: str) -> Any:
        """Return travel times (``.seconds``) and distances (``.metres``) between ``nodes``."""
        ...

    def path(self, u: int, v: int, mode: str) -> list[int]:
        """Return the node path from ``u`` to ``v``."""
        ...

    def path_coords(self, nodes: Sequence[int]) -> list[tuple[float, float]]:
        """Return ``(lon, lat)`` points following the edges of a node path."""
        ...


def street_router(G: nx.MultiDiGraph) -> Router:
    """Return the street router of ``G`` (:class:`optimizer.matrix.StreetRouter`)."""
    router: Router = StreetRouter(G)
    return router


# ---------------------------------------------------------------------------------------------
# Planning grids, hotspots, groups


def planning_grid_ids(
    district: District, *, level: int | None = None, grid_ids: Iterable[str] | None = None
) -> list[str]:
    """Return the grids to plan: ``grid_ids`` if given (validated), else all cells of ``level``.

    Parameters
    ----------
    district
        The district.
    level
        Grid level (1 = whole district); ``None`` means :data:`DEFAULT_GRID_LEVEL`, or the finest
        level where the district has fewer levels.
    grid_ids
        Explicit grid ids (any level).
    """
    grids = district.grids
    known = sorted(str(i) for i in grids.index)
    if grid_ids is not None:
        ids = list(dict.fromkeys(str(g) for g in grid_ids))
        for i, g in enumerate(ids):
            if g not in grids.index:
                raise InputError(
                    f"grid_ids[{i}]", g, f"a grid id of district {district.name!r}: {known}"
                )
        if not ids:
            raise InputError("grid_ids", [], "at least one grid id")
        return ids
    levels = sorted(int(v) for v in grids["level"].unique())
    chosen = min(DEFAULT_GRID_LEVEL, levels[-1]) if level is None else int(level)
    if chosen not in levels:
        raise InputError("grid_level", level, f"one of the district's grid levels {levels}")
    return sorted(str(i) for i in grids.index[grids["level"] == chosen])


def assign_to_grids(
    district: District, grid_ids: Sequence[str], points: Sequence[tuple[float, float]]
) -> list[str | None]:
    """Return the planning grid containing each ``(lon, lat)``, or None."""
    polys = [(g, district.grids.loc[g].geometry) for g in grid_ids]
    out: list[str | None] = []
    for lon, lat in points:
        p = Point(lon, lat)
        out.append(next((g for g, poly in polys if poly.covers(p)), None))
    return out


def window_hotspots(
    district: District, day: dt.date, window: TimeWindow, grid_ids: Sequence[str]
) -> list[Hotspot]:
    """Return the window's hotspots in ``grid_ids`` (``optimizer.hotspots``)."""
    return hotspots_for_window(district, day=day, window=window, grid_ids=list(grid_ids))


def form_window_groups(
    district: District,
    day: dt.date,
    window: TimeWindow,
    hotspots: Sequence[Hotspot],
    grid_ids: Sequence[str],
    seed: int,
    time_limit_s: float,
    history: Mapping[str, float] | None = None,
) -> list[PatrolGroup]:
    """Return the joint patrol groups of one window, allocated to ``grid_ids`` by demand.

    Demand per grid is the value of its hotspots (``optimizer.hotspots.patrol_demand``); a
    grid with a fixed post on duty gets demand too. Groups come from
    ``optimizer.teams.form_groups``: every grid with real demand gets one before any gets a
    second, the rest go in proportion to demand.

    Parameters
    ----------
    district
        The district (grids, resources).
    day, window
        The date and window.
    hotspots
        The window's hotspots (:func:`window_hotspots`).
    grid_ids
        The planning grids.
    seed, time_limit_s
        Seed and time limit (seconds, clipped to 0.5-5) of the CP-SAT search.
    history
        Hours each volunteer has served this week.

    Returns
    -------
    list of PatrolGroup
        Empty when no grid has demand.
    """
    formation = _formation(district, day, window, hotspots, grid_ids, seed, time_limit_s, history)
    return [] if formation is None else list(formation.groups)


def _formation(
    district: District,
    day: dt.date,
    window: TimeWindow,
    hotspots: Sequence[Hotspot],
    grid_ids: Sequence[str],
    seed: int,
    time_limit_s: float,
    history: Mapping[str, float] | None,
) -> GroupFormation | None:
    # Demand per planning grid, whatever grid level the hotspot model labelled them with.
    by_grid: dict[str, list[Hotspot]] = {}
    located = assign_to_grids(district, grid_ids, [(h.lon, h.lat) for h in hotspots])
    for h, g in zip(hotspots, located, strict=True):
        if g is not None:
            by_grid.setdefault(g, []).append(replace(h, grid_id=g))
    demand = {g: float(sum(patrol_demand(by_grid.get(g, [])).values())) for g in grid_ids}
    # A grid with a fixed post on duty needs a group even without hotspots.
    for p in district.resources.posts:
        if p.active_windows(day, window):
            g = assign_to_grids(district, grid_ids, [(p.lon, p.lat)])[0]
            if g is not None:
                demand[g] = max(demand[g], 1e-3) + 0.5 * max(demand.values())
    if not any(v > 0 for v in demand.values()):
        return None
    return form_groups(
        district.resources,
        day=day,
        window=window,
        demand=demand,
        grids=district.grids,
        history=history,
        seed=seed,
        time_limit_s=max(0.5, min(5.0, time_limit_s)),
    )


# ---------------------------------------------------------------------------------------------
# Problem building


@dataclass(frozen=True)
class ProblemContext:
    """What maps a :class:`PatrolProblem` back to places: graph nodes, names, hotspots, posts."""

    grid_id: str
    window: TimeWindow
    start: dt.datetime
    groups: tuple[PatrolGroup, ...]
    location_nodes: tuple[int, ...]
    """Street-graph node of each matrix location (depots first)."""
    location_names: tuple[str, ...]
    depot_ids: tuple[str, ...]
    hotspots: tuple[Hotspot, ...]
    posts: tuple[FixedPost, ...]
    metres: npt.NDArray[np.float64]


def _nearest_node(G: nx.MultiDiGraph, lon: float, lat: float) -> int:
    best, best_d = -1, math.inf
    coslat = math.cos(math.radians(lat))
    for n, d in G.nodes(data=True):
        dd = ((float(d["lon"]) - lon) * coslat) ** 2 + (float(d["lat"]) - lat) ** 2
        if dd < best_d:
            best, best_d = int(n), dd
    return best


def _post_site_window(
    post: FixedPost, pw: TimeWindow, day: dt.date, start: dt.datetime, horizon_s: int
) -> tuple[int, int, int]:
    """Return (earliest, latest, dwell) in window seconds for a post duty window ``pw``."""
    p0, p1 = pw.on(day)
    if p0 + dt.timedelta(days=1) <= start + dt.timedelta(seconds=horizon_s) and p1 <= start:
        p0, p1 = p0 + dt.timedelta(days=1), p1 + dt.timedelta(days=1)
    a = int((p0 - start).total_seconds())
    b = int((p1 - start).total_seconds())
    a, b = max(a, 0), min(b, horizon_s)
    dwell = min(post.dwell_min * 60, b - a)
    return a, b - dwell, dwell


_UNREACHABLE_S = 10**8
"""Travel times at or above this are treated as "no path" (``optimizer.matrix.UNREACHABLE``)."""


def _reachable(values: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    return np.asarray(np.isfinite(values) & (values < _UNREACHABLE_S))


def mode_matrices(
    router: Router, nodes: Sequence[int], modes: Sequence[str], horizon: int
) -> tuple[dict[str, npt.NDArray[np.int64]], npt.NDArray[np.float64]]:
    """Travel times per mode and walking metres; where a mode cannot reach, the group walks.

    Cars and bicycles cannot enter footways and pedestrian zones: those legs are walked
    (park, walk there and back), so the pair is never left unreachable by the mode alone.
    Pairs nobody can reach get a time longer than the window.
    """
    foot = router.matrix(nodes, "foot")
    foot_s = np.asarray(foot.seconds, dtype=float)
    foot_m = np.asarray(foot.metres, dtype=float)
    durations: dict[str, npt.NDArray[np.int64]] = {}
    for mode in modes:
        sec = (
            foot_s
            if mode == "foot"
            else np.asarray(router.matrix(nodes, mode).seconds, dtype=float)
        )
        sec = np.where(_reachable(sec), sec, foot_s)
        sec = np.where(_reachable(sec), sec, 10 * horizon)
        durations[mode] = np.rint(sec).astype(np.int64)
    metres = np.where(_reachable(foot_m), foot_m, 0.0)
    return durations, metres


def street_path(router: Router, u: int, v: int, mode: str) -> list[int]:
    """Node path by ``mode``, walking where the mode has no path (see :func:`mode_matrices`)."""
    try:
        return router.path(u, v, mode)
    except InputError:
        if mode == "foot":
            raise
        return router.path(u, v, "foot")


EXTRA_VISIT_DECAY = 0.6
"""Prize of the ``n``-th extra pass of a hotspot: ``value * EXTRA_VISIT_DECAY ** n`` (times the
grid's :func:`extra_pass_scale`)."""

EXTRA_BELOW_FIRST = 0.9
"""The most valuable extra pass of a grid is worth at most this share of its least valuable
recommended pass (see :func:`extra_pass_scale`)."""

MAX_VISIT_COPIES = 8
"""Most passes of one hotspot offered in one window."""

LONG_WAIT_MIN = 15.0
"""A wait longer than this at a hotspot is shown as area patrol around it (see
:func:`routes_from_solution`)."""


FILL_FACTOR = 1.5
"""Passes offered per group-time to fill (more than 1: the solver needs choices at each time).
At 2.0 the demo day's problems had 326 sites; at 1.5, 290 (PyVRP ran ~15 % more iterations a
second) with the same fill (2,996 vs 2,976 group-minutes out of 3,360, seed 0, 5 s)."""

SLOT_OVERLAP = 1.0
"""Pass ``k`` of a hotspot offered ``n > 1`` passes (spacing ``S``) starts within
``[(k - 1) S, max((k + SLOT_OVERLAP) S, FIRST_PASS_BY * window)]``, the last one any time
after ``(k - 1) S``; a hotspot offered one pass may be visited any time. Both ends of the
windows rise with ``k``, so any passes made can be numbered in visiting order (as the engines
do) without breaking a window; an unbounded first pass broke that, and the engines' repair
then dropped passes (the demo lost 7 % of its value and the hottest places got fewest passes)."""

FIRST_PASS_BY = 0.75
"""Share of the window within which every pass but the last may start, however short the
slots (so a cool place's single pass is not forced into the first minutes)."""

PASS_GAP = 0.5
"""Two passes of one hotspot start at least ``PASS_GAP * S`` apart."""

LOOP_S = 10 * 60
"""Time charged for going from one pass of a hotspot straight to the next at the same place
(shown as area patrol round the hotspot's streets)."""

RETURN_RESERVE_S = 15 * 60
"""Groups are planned back at their station this long before the window ends: room for
delays, so re-planning (``optimizer.replan``) can keep a full route, and for the handover."""

MIN_SPACING_S = 20 * 60
"""Least slot length ``S`` of a hotspot's passes (and never below its dwell)."""

SPACING_SCALES: tuple[float, ...] = (1.0, 0.85, 0.7, 0.6, 0.5)
"""Factors tried on the hotspots' pass spacing, widest first (see :func:`spacing_scale`)."""


def _spacing_s(hotspot: Hotspot, scale: float = 1.0) -> int:
    floor = max(MIN_SPACING_S, int(hotspot.dwell_min * 60))
    return max(floor, round(hotspot.spacing_min * 60 * scale))


def _pass_gap_s(hotspot: Hotspot, spacing_s: int) -> int:
    return max(int(PASS_GAP * spacing_s), int(hotspot.dwell_min * 60))


def min_pass_gap_s(hotspot: Hotspot) -> int:
    """Return the least time between the starts of two passes of ``hotspot`` in any plan.

    :func:`build_problem` may tighten the spacing (:func:`spacing_scale`) and allows passes
    :data:`PASS_GAP` of it apart, but never closer than the dwell; re-planning uses this
    bound so it keeps planned passes.
    """
    return _pass_gap_s(hotspot, _spacing_s(hotspot, SPACING_SCALES[-1]))


def visit_copies(
    hotspot: Hotspot, horizon_s: int, spacing_s: int | None = None, *, heat: float = 1.0
) -> int:
    """Return how many passes of ``hotspot`` a window of ``horizon_s`` seconds offers.

    The recommended ``hotspot.visits`` plus optional extra passes: of the passes one per
    spacing (``spacing_s``, default the hotspot's ``spacing_min``) that fit in the window, the
    share ``heat`` (the hotspot's value over the grid's hottest, see :func:`hotspot_heat`), at
    most :data:`MAX_VISIT_COPIES` in all. A group with time left patrols its hottest places
    again rather than returning to the station, and a cool place is not offered as many
    passes as a hot one.
    """
    spacing = _spacing_s(hotspot) if spacing_s is None else max(60, int(spacing_s))
    fits = 1 + max(0, horizon_s - int(hotspot.dwell_min * 60)) // spacing
    recommended = max(1, hotspot.visits)
    extra = math.ceil(max(0, fits - recommended) * min(1.0, max(0.0, heat)) - 1e-9)
    return min(MAX_VISIT_COPIES, max(recommended, hotspot.visits + extra))


def hotspot_heat(hotspots: Sequence[Hotspot]) -> list[float]:
    """Return each hotspot's value over the highest value of ``hotspots`` (0 to 1)."""
    top = max((float(h.value) for h in hotspots), default=0.0)
    return [float(h.value) / top if top > 0 else 1.0 for h in hotspots]


def spacing_scale(
    hotspots: Sequence[Hotspot],
    locations: Sequence[int],
    durations: Sequence[npt.NDArray[np.int64]],
    capacity_s: int,
) -> float:
    """Return the factor on the pass spacing that offers the groups enough to do.

    A pass of a hotspot takes its dwell plus the typical (median) travel from the other
    hotspots. The widest spacing of :data:`SPACING_SCALES` whose passes fill the groups'
    time (``capacity_s``, the window times the groups less the posts' duty) is chosen; a grid
    with more groups than its hotspots keep busy gets its passes closer together (never
    below :data:`MIN_SPACING_S`) instead of groups standing still between passes.

    Parameters
    ----------
    hotspots, locations
        The grid's hotspots and their matrix locations.
    durations
        Travel-time matrix of each group's mode.
    capacity_s
        Group-seconds to fill.
    """
    if not hotspots or capacity_s <= 0 or not durations:
        return 1.0
    locs = np.asarray(locations, dtype=np.int64)
    travel = np.zeros(len(locs))
    if len(locs) > 1:
        per_mode = [np.asarray(m, dtype=float)[np.ix_(locs, locs)] for m in durations]
        mean = np.mean(per_mode, axis=0)
        off = ~np.eye(len(locs), dtype=bool)
        travel = np.array([float(np.median(mean[i][off[i]])) for i in range(len(locs))])
    horizon = capacity_s // len(durations)
    heat = hotspot_heat(hotspots)
    for scale in SPACING_SCALES:
        work = sum(
            visit_copies(h, horizon, _spacing_s(h, scale), heat=q) * (h.dwell_min * 60 + t)
            for h, t, q in zip(hotspots, travel, heat, strict=True)
        )
        if work >= FILL_FACTOR * capacity_s:
            return scale
    return SPACING_SCALES[-1]


def extra_pass_scale(hotspots: Sequence[Hotspot]) -> float:
    """Return the factor on the extra passes' prizes of a grid's hotspots.

    It puts every extra pass below every recommended pass: the hottest hotspot's first extra
    pass (``value * EXTRA_VISIT_DECAY``) is worth :data:`EXTRA_BELOW_FIRST` of the coolest
    hotspot's value. Every hotspot gets its recommended passes before any gets an extra one,
    and among extra passes the hotter place still comes first (their order is unchanged).

    Parameters
    ----------
    hotspots
        The hotspots of one routing problem (one grid and window).
    """
    values = [float(h.value) for h in hotspots if h.value > 0]
    if not values:
        return 1.0
    return min(1.0, EXTRA_BELOW_FIRST * min(values) / (max(values) * EXTRA_VISIT_DECAY))


def visit_prize(hotspot: Hotspot, visit_number: int, *, extra_scale: float = 1.0) -> float:
    """Return the prize of pass ``visit_number`` (1-based) of ``hotspot``.

    Recommended passes (``visit_number <= hotspot.visits``) are worth the hotspot's value;
    the ``n``-th extra pass is worth ``extra_scale * value * EXTRA_VISIT_DECAY ** n``: each
    extra pass is worth less than the one before, so spare time goes to the hottest places
    first. :func:`build_problem` passes :func:`extra_pass_scale` as ``extra_scale``, so no
    extra pass outranks a place's recommended pass.
    """
    extra = visit_number - max(1, hotspot.visits)
    if extra <= 0:
        return float(hotspot.value)
    return float(hotspot.value) * extra_scale * EXTRA_VISIT_DECAY**extra


def build_problem(
    district: District,
    *,
    grid_id: str,
    day: dt.date,
    window: TimeWindow,
    groups: Sequence[PatrolGroup],
    hotspots: Sequence[Hotspot],
    posts: Sequence[FixedPost],
    router: Router,
) -> tuple[PatrolProblem, ProblemContext]:
    """Build the routing problem of one grid in one window.

    Parameters
    ----------
    district
        The district (graph, grids, resources).
    grid_id
        The planning grid.
    day, window
        The day and the time window; the window is every group's shift.
    groups
        The groups allocated to the grid; each becomes a vehicle starting and ending at its station.
    hotspots
        The grid's hotspots: optional sites with their dwell time, ``visits`` recommended
        passes (prize = value) plus extra passes while the window has room
        (:func:`visit_copies`, prize :func:`visit_prize`, every extra pass worth less than
        any recommended one, :func:`extra_pass_scale`); with spacing ``S``
        (:func:`spacing_scale`), pass ``k`` starts in its slot (:data:`SLOT_OVERLAP`) and at
        least ``PASS_GAP * S`` after pass ``k - 1``.
    posts
        Fixed posts on duty in the window: required sites with their time windows.
    router
        Travel times per mode and street paths.

    Returns
    -------
    tuple of PatrolProblem and ProblemContext
    """
    G = district.graph
    start, end = window.on(day)
    horizon = int((end - start).total_seconds())
    station_ids = list(dict.fromkeys(g.station_id for g in groups))
    stations = [district.resources.station(s) for s in station_ids]
    nodes: list[int] = [_nearest_node(G, s.lon, s.lat) for s in stations]
    names: list[str] = [s.name for s in stations]
    sites: list[Site] = []
    loc_of_node: dict[int, int] = {}

    def location(node: int, name: str) -> int:
        if node not in loc_of_node:
            loc_of_node[node] = len(nodes)
            nodes.append(node)
            names.append(name)
        return loc_of_node[node]

    hot_locs = [location(int(h.node), h.label or h.id) for h in hotspots]
    for p in posts:
        node = _nearest_node(G, p.lon, p.lat)
        loc = location(node, p.name)
        for k, pw in enumerate(p.active_windows(day, window)):
            a, latest, dwell = _post_site_window(p, pw, day, start, horizon)
            if latest < a or dwell <= 0:
                continue
            sites.append(
                Site(
                    id=f"{p.id}@{pw.start:%H%M}",
                    location=loc,
                    prize=0.0,
                    dwell_s=dwell,
                    earliest_s=a,
                    latest_s=latest,
                    required=True,
                    kind="post",
                    key=f"{p.id}@{pw.start:%H%M}",
                    visit_number=1 + 0 * k,
                    meta={"post": p.id, "purpose": p.purpose, "name": p.name},
                )
            )
    # Locations need distinct matrix rows even when two share a street node (depot == site).
    for i in range(len(stations)):
        loc_of_node.setdefault(nodes[i], i)
    modes = sorted({g.mode for g in groups}) or ["foot"]
    durations, metres = mode_matrices(router, nodes, modes, horizon)
    post_s = sum(s.dwell_s for s in sites)
    scale = spacing_scale(
        hotspots, hot_locs, [durations[g.mode] for g in groups], len(groups) * horizon - post_s
    )
    hot_sites: list[Site] = []
    # Each further pass of a hotspot gets its own matrix row (a copy of the hotspot's row):
    # going from one pass straight to the next at the same place costs LOOP_S, a walk round
    # the hotspot's streets, so the solver moves a group on rather than keeping it in place.
    copy_of: list[int] = []
    extra_scale = extra_pass_scale(hotspots)
    heats = hotspot_heat(hotspots)
    first_by = int(FIRST_PASS_BY * horizon)
    for h, loc, heat in zip(hotspots, hot_locs, heats, strict=True):
        spacing = _spacing_s(h, scale)
        n_visits = visit_copies(h, horizon, spacing, heat=heat)
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
                    prize=visit_prize(h, k + 1, extra_scale=extra_scale),
                    dwell_s=int(h.dwell_min * 60),
                    # pass k + 1 is due in its own slot of the window: the passes spread
                    # over the window, and a group always has some pass it may take now;
                    # the first pass too (slots rising at both ends keep any passes made
                    # valid when numbered in visiting order, as the engines number them)
                    earliest_s=min(k * spacing, last),
                    latest_s=(
                        None
                        if k == n_visits - 1
                        else min(last, max(first_by, int((k + 1 + SLOT_OVERLAP) * spacing)))
                    ),
                    kind="hotspot",
                    key=h.id,
                    visit_number=k + 1,
                    min_spacing_s=_pass_gap_s(h, spacing) if k else 0,
                    meta={"hotspot": h.id, "label": h.label, "extra": k >= max(1, h.visits)},
                )
            )
    sites = hot_sites + sites
    if copy_of:
        idx = np.asarray([*range(len(nodes)), *copy_of], dtype=np.int64)
        durations = {m: np.ascontiguousarray(d[np.ix_(idx, idx)]) for m, d in durations.items()}
        metres = np.ascontiguousarray(metres[np.ix_(idx, idx)])
        for base in copy_of:
            names.append(names[base])
        nodes.extend(nodes[b] for b in copy_of)
        groups_of: dict[int, list[int]] = {}
        for i, b in enumerate(idx.tolist()):
            groups_of.setdefault(b, []).append(i)
        for same in groups_of.values():
            if len(same) > 1:
                for d in durations.values():
                    block = np.ix_(same, same)
                    d[block] = LOOP_S
                    np.fill_diagonal(d, 0)
    vehicles = tuple(
        Vehicle(
            id=g.id,
            start_location=station_ids.index(g.station_id),
            end_location=station_ids.index(g.station_id),
            mode=g.mode,
            shift_start_s=0,
            shift_end_s=max(horizon // 2, horizon - RETURN_RESERVE_S),
        )
        for g in groups
    )
    problem = PatrolProblem(
        n_depots=len(stations),
        sites=tuple(sites),
        vehicles=vehicles,
        durations=durations,
        horizon_s=horizon,
        distances=metres,
        name=f"{district.name}:{grid_id}:{window.label()}:{day}",
    )
    context = ProblemContext(
        grid_id,
        window,
        start,
        tuple(groups),
        tuple(nodes),
        tuple(names),
        tuple(station_ids),
        tuple(hotspots),
        tuple(posts),
        metres,
    )
    return problem, context


# ---------------------------------------------------------------------------------------------
# Solving


def solve_problem(problem: PatrolProblem, engine: str, time_limit_s: float, seed: int) -> Solution:
    """Solve one problem with the named engine (``optimizer.engines``)."""
    return get_engine(engine).solve(problem, time_limit_s=time_limit_s, seed=seed)


# ---------------------------------------------------------------------------------------------
# Solution -> routes


def _street_names(value: Any) -> list[str]:
    if isinstance(value, list | tuple | set):
        return [n for v in value for n in _street_names(v)]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    text = str(value).strip()
    return [text] if text and text.lower() not in {"nan", "none"} else []


def place_name(G: nx.MultiDiGraph, node: int, *, limit: int = 2, hops: int = 6) -> str:
    """Name a street node for people: its streets' names (``"Bulevardi / Fredrikinkatu"``).

    Unnamed paths (sidewalks, squares) take the name of the nearest named street within
    ``hops`` edges (``"near Bulevardi"``); failing that, the kind of way (``"footway"``).
    """
    frontier = {node}
    seen = {node}
    kinds: list[str] = []
    for hop in range(hops + 1):
        names: list[str] = []
        nxt: set[int] = set()
        for n in sorted(frontier):
            for u, v, data in [*G.out_edges(n, data=True), *G.in_edges(n, data=True)]:
                for name in _street_names(data.get("name")):
                    if name not in names:
                        names.append(name)
                for k in _street_names(data.get("highway")):
                    if k not in kinds:
                        kinds.append(k)
                nxt.update(x for x in (u, v) if x not in seen)
        if names:
            text = " / ".join(sorted(names)[:limit])
            return text if hop == 0 else f"near {text}"
        seen |= nxt
        frontier = nxt
    return kinds[0].replace("_", " ") if kinds else ""


def routes_from_solution(
    district: District,
    problem: PatrolProblem,
    context: ProblemContext,
    solution: Solution,
    router: Router,
) -> tuple[list[GroupRoute], list[LeftOut]]:
    """Turn an engine's solution into timed, street-following group routes and left-out sites."""
    G = district.graph
    start = context.start
    stations = [district.resources.station(s) for s in context.depot_ids]
    hot_by_id = {h.id: h for h in context.hotspots}
    routes: list[GroupRoute] = []
    for r in solution.routes:
        if not r.visits:
            continue
        group = context.groups[r.vehicle]
        vehicle = problem.vehicles[r.vehicle]
        station = stations[vehicle.start_location]
        when = start + dt.timedelta(seconds=r.start_s)
        stops = [
            Stop(
                0,
                station.id,
                "start",
                station.name,
                station.lon,
                station.lat,
                when,
                when,
                "leave station",
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
                h = hot_by_id.get(str(site.meta.get("hotspot", site.key)))
                name = place_name(G, node) or site.key or site.id
                what = f": {h.label}" if h is not None and h.label else ""
                again = f" (visit {site.visit_number})" if site.visit_number > 1 else ""
                purpose = f"patrol hotspot{again}{what}"
                wait = (visit.start_s - visit.arrival_s) / 60
                if stops[-1].site_id == (site.key or site.id) and stops[-1].kind == "hotspot":
                    # straight from the previous pass: the leg is a walk round the hotspot
                    loop = (visit.arrival_s - prev_departure) / 60
                    purpose = f"area patrol around {name} ({loop + wait:.0f} min), then {purpose}"
                elif wait > LONG_WAIT_MIN:
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
        end_node = context.location_nodes[vehicle.end_location]
        node_seq.append(end_node)
        end_when = start + dt.timedelta(seconds=r.end_s)
        stops.append(
            Stop(
                len(stops),
                station.id,
                "end",
                station.name,
                station.lon,
                station.lat,
                end_when,
                end_when,
                "return to station",
            )
        )
        path_nodes: list[int] = [node_seq[0]]
        for u, v in pairwise(node_seq):
            if u != v:
                path_nodes.extend(street_path(router, u, v, group.mode)[1:])
        coords = router.path_coords(path_nodes)
        if len(coords) < 2:
            coords = [coords[0], coords[0]] if coords else [(station.lon, station.lat)] * 2
        distance = float(
            sum(
                min(float(d.get("length", 0.0)) for d in G[a][b].values())
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
    from optimizer.explain import explain_left_out  # explain imports this module

    reasons = explain_left_out(problem, solution, grid_id=context.grid_id)
    # A hotspot with any pass made is not left out, whatever became of its extra passes (a
    # late pass may be out of reach, which explain reports before it looks for visits).
    visited = {s.site_id for r in routes for s in r.stops if s.kind == "hotspot"}
    left = [r.to_left_out() for r in reasons if not (r.kind == "hotspot" and r.site_id in visited)]
    return routes, left


def _window_metrics(
    problem: PatrolProblem | None,
    routes: Sequence[GroupRoute],
    hotspots: Sequence[Hotspot],
    posts_required: int,
) -> dict[str, float]:
    total = float(sum(h.value * max(1, h.visits) for h in hotspots))
    covered = float(sum(r.value for r in routes))
    made: dict[str, int] = {}
    for r in routes:
        for s in r.stops:
            if s.kind == "hotspot":
                made[s.site_id] = made.get(s.site_id, 0) + 1
    recommended = float(sum(h.value * min(made.get(h.id, 0), max(1, h.visits)) for h in hotspots))
    extra = sum(max(0, made.get(h.id, 0) - max(1, h.visits)) for h in hotspots)
    visits = sum(made.values())
    posts = sum(1 for r in routes for s in r.stops if s.kind == "post")
    waits = [s.wait_min for r in routes for s in r.stops]
    return {
        "groups": float(len(routes)),
        "visits": float(visits),
        "extra_visits": float(extra),
        "value_total": round(total, 6),
        "value_covered": round(covered, 6),
        "value_recommended": round(recommended, 6),
        "coverage": round(min(1.0, recommended / total), 4) if total > 0 else 0.0,
        "hotspots_visited": float(sum(1 for h in hotspots if made.get(h.id, 0))),
        "long_waits": float(sum(1 for w in waits if w > LONG_WAIT_MIN)),
        "km": round(sum(r.distance_m for r in routes) / 1000, 3),
        "patrol_min": round(sum(r.patrol_min for r in routes), 1),
        "dwell_min": round(sum(r.dwell_min for r in routes), 1),
        "wait_min": round(sum(s.wait_min for r in routes for s in r.stops), 1),
        "posts_required": float(posts_required),
        "posts_staffed": float(posts),
    }


# ---------------------------------------------------------------------------------------------
# The day


def _parse_windows(windows: Iterable[TimeWindow | str]) -> list[TimeWindow]:
    out = []
    for i, w in enumerate(windows):
        out.append(
            w if isinstance(w, TimeWindow) else TimeWindow.parse(str(w), field=f"windows[{i}]")
        )
    if not out:
        raise InputError("windows", [], "at least one window 'HH:MM-HH:MM'")
    return out


def plan_day(
    district: District,
    *,
    day: dt.date,
    windows: Iterable[TimeWindow | str] = DEFAULT_WINDOWS,
    grid_ids: Iterable[str] | None = None,
    grid_level: int | None = None,
    engine: str = DEFAULT_ENGINE,
    seed: int = 0,
    time_limit_s: float = 10.0,
    progress: ProgressCallback | None = None,
    variation: VariationParams | None = None,
    previous: DayPlan | None = None,
    workers: int = 1,
    volunteer_hours: Mapping[str, float] | None = None,
) -> DayPlan:
    """Plan a day of joint patrols: hotspots -> groups -> routes, window by window, grid by grid.

    Parameters
    ----------
    district
        The prepared district (see ``optimizer.storage.load_district``).
    day
        The date planned.
    windows
        Time windows (``TimeWindow`` or ``"HH:MM-HH:MM"``; a window may cross midnight).
    grid_ids
        Grids to plan (any level); ``None`` means every cell of ``grid_level``.
    grid_level
        Grid level planned when ``grid_ids`` is None (default :data:`DEFAULT_GRID_LEVEL`).
    engine
        Routing engine name, one of :data:`ENGINE_NAMES` (default :data:`DEFAULT_ENGINE`).
    seed
        Seed for every stochastic step; the same seed gives the same plan.
    time_limit_s
        Solver time limit per grid x window problem, in seconds.
    progress
        Called as ``progress(done, total, message)`` after each step.
    variation
        Day-to-day unpredictability (``optimizer.variation``): routes are re-solved with seeded
        prize noise (seed from ``day`` and ``seed``) and kept within ``max_value_loss`` of the
        best route's value. ``None`` (default) plans without variation.
    previous
        The previous day's plan: with ``variation``, hotspots it visited in the same window and
        grid are discounted (``VariationParams.novelty``).
    workers
        Solve the grid x window problems in this many processes (1: in this process). Each
        solve is seeded on its own, so the plan does not depend on ``workers``.
    volunteer_hours
        Hours each volunteer (by id) has already served this week. Hours placed in each window
        of the day are added before the next window is formed, so the weekly cap
        (``Volunteer.max_hours_week``) and the fair rotation hold across the day's windows.

    Returns
    -------
    DayPlan
        One :class:`WindowPlan` per window x grid that has hotspots, posts or groups.

    Raises
    ------
    InputError
        For an unknown grid, level or engine, a malformed window, or a bad time limit.
    """
    if not isinstance(day, dt.date):
        raise InputError("day", day, "a datetime.date")
    wins = _parse_windows(windows)
    if not (isinstance(time_limit_s, int | float) and 0 < float(time_limit_s) <= 3600):
        raise InputError("time_limit_s", time_limit_s, "a number of seconds in (0, 3600]")
    if not (isinstance(workers, int) and 1 <= workers <= 64):
        raise InputError("workers", workers, "an integer from 1 to 64")
    if engine not in ENGINE_NAMES:
        raise InputError("engine", engine, f"one of {list(ENGINE_NAMES)}")
    ids = planning_grid_ids(district, level=grid_level, grid_ids=grid_ids)
    router = street_router(district.graph)
    total = len(wins) * (1 + len(ids))
    done = 0

    def tick(message: str, steps: int = 1) -> None:
        nonlocal done
        done += steps
        if progress is not None:
            progress(min(done, total), total, message)

    # Slots keep the plan's order (window, then grid) whatever order the solves finish in.
    slots: list[WindowPlan | _Job] = []
    served: dict[str, float] = dict(volunteer_hours or {})
    for wi, window in enumerate(wins):
        w_seed = seed * 1000 + wi
        start, end = window.on(day)
        hotspots = window_hotspots(district, day, window, ids)
        hot_grid = assign_to_grids(district, ids, [(h.lon, h.lat) for h in hotspots])
        no_group_reason = "no patrol group is allocated to this grid in this window"
        try:
            formation = _formation(
                district, day, window, hotspots, ids, w_seed, float(time_limit_s), served
            )
        except InfeasibleError as exc:
            formation = None
            no_group_reason = f"no patrol group could be formed: {exc.detail}"
        groups = [] if formation is None else list(formation.groups)
        if formation is not None:
            # Hours served in this window count against the weekly cap of later windows.
            served = record_service(served, formation)
        tick(f"{window.label()}: {len(hotspots)} hotspots, {len(groups)} groups")
        posts_by_grid: dict[str, list[FixedPost]] = {}
        for p in district.resources.posts:
            if p.active_windows(day, window):
                g = assign_to_grids(district, ids, [(p.lon, p.lat)])[0]
                if g is not None:
                    posts_by_grid.setdefault(g, []).append(p)
        for gid in ids:
            g_hot = [h for h, g in zip(hotspots, hot_grid, strict=True) if g == gid]
            g_groups = [g for g in groups if g.grid_id == gid]
            g_posts = posts_by_grid.get(gid, [])
            if not g_groups:
                left = _no_group_left_out(g_hot, g_posts, gid, no_group_reason)
                if g_hot or g_posts:
                    metrics = _window_metrics(None, [], g_hot, len(g_posts))
                    slots.append(
                        WindowPlan(gid, window, start, end, (), tuple(g_hot), tuple(left), metrics)
                    )
                tick(f"{window.label()} {gid}: no groups")
                continue
            problem, context = build_problem(
                district,
                grid_id=gid,
                day=day,
                window=window,
                groups=g_groups,
                hotspots=g_hot,
                posts=g_posts,
                router=router,
            )
            previous_keys = frozenset(_visited_keys(previous, window, gid))
            slots.append(_Job(problem, context, g_hot, w_seed, previous_keys))

    jobs = [j for j in slots if isinstance(j, _Job)]
    args = [
        (j.problem, engine, float(time_limit_s), j.seed, variation, day, seed, j.previous)
        for j in jobs
    ]
    results: dict[int, tuple[Solution, dict[str, float]]] = {}

    def finish(k: int, result: tuple[Solution, dict[str, float]]) -> None:
        results[k] = result
        job = jobs[k]
        tick(f"{job.context.window.label()} {job.context.grid_id}: solved")

    if workers > 1 and len(jobs) > 1:
        import concurrent.futures as cf
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx) as pool:
            futures = {pool.submit(_solve_job, *a): k for k, a in enumerate(args)}
            for fut in cf.as_completed(futures):
                finish(futures[fut], fut.result())
    else:
        for k, a in enumerate(args):
            finish(k, _solve_job(*a))

    plans: list[WindowPlan] = []
    job_index = {id(j): k for k, j in enumerate(jobs)}
    for slot in slots:
        if isinstance(slot, WindowPlan):
            plans.append(slot)
            continue
        solution, extra = results[job_index[id(slot)]]
        ctx_ = slot.context
        routes, left = routes_from_solution(district, slot.problem, ctx_, solution, router)
        n_req = sum(1 for s in slot.problem.sites if s.required)
        metrics = _window_metrics(slot.problem, routes, slot.hotspots, n_req)
        metrics["solver_runtime_s"] = round(solution.runtime_s, 3)
        metrics.update(extra)
        start, end = ctx_.window.on(day)
        plans.append(
            WindowPlan(
                ctx_.grid_id,
                ctx_.window,
                start,
                end,
                tuple(routes),
                tuple(slot.hotspots),
                tuple(left),
                metrics,
            )
        )
    day_metrics = _day_metrics(plans)
    settings = {
        "windows": [w.label() for w in wins],
        "grid_ids": ids,
        "grid_level": grid_level,
        "time_limit_s": float(time_limit_s),
        "variation": None if variation is None else vars(variation).copy(),
        "engine": engine,
        "seed": seed,
        "timezone": district.metadata.get("timezone"),
        "workers": workers,
    }
    return DayPlan(district.name, day, tuple(plans), engine, seed, day_metrics, settings)


@dataclass(frozen=True)
class _Job:
    """One grid x window problem waiting for its solve."""

    problem: PatrolProblem
    context: ProblemContext
    hotspots: list[Hotspot]
    seed: int
    previous: frozenset[str]


def _solve_job(
    problem: PatrolProblem,
    engine: str,
    time_limit_s: float,
    seed: int,
    variation: VariationParams | None,
    day: dt.date,
    base_seed: int,
    previous: frozenset[str],
) -> tuple[Solution, dict[str, float]]:
    """Solve one problem (module level, so a process pool can run it).

    When the fixed posts cannot all be staffed (the engine raises ``InfeasibleError``), the
    problem is solved again with the posts optional but worth more than every hotspot
    together: the grid still gets its routes, and the posts left out are explained in the
    plan (``metrics["posts_infeasible"] = 1``) instead of failing the whole day.
    """
    try:
        return _solve_once(problem, engine, time_limit_s, seed, variation, day, base_seed, previous)
    except InfeasibleError:
        relaxed = _posts_optional(problem)
        solution, extra = _solve_once(
            relaxed, engine, time_limit_s, seed, variation, day, base_seed, previous
        )
        return solution, {**extra, "posts_infeasible": 1.0}


def _posts_optional(problem: PatrolProblem) -> PatrolProblem:
    """Return ``problem`` with its required sites optional and above all hotspots in value."""
    bonus = 10.0 * (sum(s.prize for s in problem.sites if not s.required) or 1.0)
    sites = tuple(
        replace(s, required=False, prize=bonus) if s.required else s for s in problem.sites
    )
    return replace(problem, sites=sites)


def _solve_once(
    problem: PatrolProblem,
    engine: str,
    time_limit_s: float,
    seed: int,
    variation: VariationParams | None,
    day: dt.date,
    base_seed: int,
    previous: frozenset[str],
) -> tuple[Solution, dict[str, float]]:
    if variation is None:
        return solve_problem(problem, engine, time_limit_s, seed), {}
    from optimizer.variation import solve_with_variation

    varied = solve_with_variation(
        problem,
        day=day,
        seed=base_seed,
        engine=engine,
        time_limit_s=time_limit_s,
        params=variation,
        previous=previous,
        solve=partial(_solve_engine, engine),
    )
    extra = {
        "variation_loss": round(varied.loss, 4),
        "variation_overlap": round(varied.overlap, 4),
    }
    return varied.solution, extra


def _solve_engine(engine: str, problem: PatrolProblem, time_limit_s: float, seed: int) -> Solution:
    return solve_problem(problem, engine, time_limit_s, seed)


def _no_group_left_out(
    hotspots: Sequence[Hotspot], posts: Sequence[FixedPost], grid_id: str, detail: str
) -> list[LeftOut]:
    from optimizer.explain import explain_without_groups  # explain imports this module

    reasons = explain_without_groups(hotspots, posts, grid_id=grid_id, detail=detail)
    return [r.to_left_out() for r in reasons]


def _visited_keys(plan: DayPlan | None, window: TimeWindow, grid_id: str) -> set[str]:
    """Hotspot keys a previous plan visited in the same window and grid."""
    if plan is None:
        return set()
    return {
        s.site_id
        for wp in plan.windows
        if wp.window == window and wp.grid_id == grid_id
        for r in wp.routes
        for s in r.stops
        if s.kind == "hotspot"
    }


def _day_metrics(plans: Sequence[WindowPlan]) -> dict[str, float]:
    keys = (
        "groups",
        "visits",
        "value_total",
        "value_covered",
        "km",
        "patrol_min",
        "dwell_min",
        "wait_min",
        "posts_required",
        "posts_staffed",
        "extra_visits",
        "hotspots_visited",
        "long_waits",
        "value_recommended",
    )
    out = {k: round(sum(float(p.metrics.get(k, 0.0)) for p in plans), 6) for k in keys}
    out["coverage"] = (
        round(min(1.0, out["value_recommended"] / out["value_total"]), 4)
        if out["value_total"] > 0
        else 0.0
    )
    out["left_out"] = float(sum(len(p.left_out) for p in plans))
    return out
