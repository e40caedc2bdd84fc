"""The routing problem of one grid in one window: hotspot passes, posts, groups, travel times.

:func:`build_problem` turns a grid's hotspots, fixed posts and groups into a
:class:`~optimizer.problem.PatrolProblem`:

* each hotspot is offered its recommended passes (prize = value) and extra passes while the
  window has room (:func:`visit_copies`), more for hotter places (:func:`hotspot_heat`), each
  extra pass worth less than the one before and less than any recommended pass
  (:func:`visit_prize`, :func:`extra_pass_scale`);
* the passes of a hotspot are spread over the window in slots of its spacing
  (:func:`spacing_scale` tightens the spacing where groups would stand idle), at least
  :data:`PASS_GAP` of it apart; each further pass has its own matrix row, and going straight
  from one pass to the next costs a loop of the hotspot's streets (:data:`LOOP_S`);
* fixed posts on duty are required sites with their time windows;
* groups are vehicles from and back to their station, :data:`RETURN_RESERVE_S` before the end.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optimizer.district import District
from optimizer.plan.streets import Router, mode_matrices, nearest_node
from optimizer.problem import PatrolProblem, Site, Vehicle
from optimizer.risk.hotspots import Hotspot
from optimizer.staff.groups import PatrolGroup
from optimizer.staff.roster import FixedPost
from optimizer.timewindow import TimeWindow

EXTRA_VISIT_DECAY = 0.6
"""Prize of the ``n``-th extra pass of a hotspot: ``value * EXTRA_VISIT_DECAY ** n`` (times the
grid's :func:`extra_pass_scale`)."""

EXTRA_BELOW_FIRST = 0.9
"""The most valuable extra pass of a grid is worth at most this share of its least valuable
recommended pass (see :func:`extra_pass_scale`)."""

MAX_VISIT_COPIES = 8
"""Most passes of one hotspot offered in one window."""

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
delays, so re-planning (``optimizer.plan.replan``) can keep a full route, and for the handover."""

MIN_SPACING_S = 20 * 60
"""Least slot length ``S`` of a hotspot's passes (and never below its dwell)."""

SPACING_SCALES: tuple[float, ...] = (1.0, 0.85, 0.7, 0.6, 0.5)
"""Factors tried on the hotspots' pass spacing, widest first (see :func:`spacing_scale`)."""


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
    nodes: list[int] = [nearest_node(G, s.lon, s.lat) for s in stations]
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
        node = nearest_node(G, p.lon, p.lat)
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
