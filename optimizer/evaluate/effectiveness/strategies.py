"""The strategies compared with the service's plans, at the service's patrol hours.

Every baseline gets exactly the groups of the service's plan of the day (:class:`Duty`: the
same cell, mode, starting point, minutes on duty and post duties in each window), so that the
hours on the streets are equal by construction; only where the groups go between their post
duties differs (:func:`run_duty`):

* :func:`beat_loop_traces` — how patrols run today: each cell's streets in one fixed loop (from
  the cell's muster point, always on to the nearest street of the cell not yet walked, by
  travel time), the groups of a cell spread evenly along it, looping until their time is up;
* :func:`random_traces` — random routes: to a random street of the cell (by length), along it,
  and on, seeded;
* :func:`greedy_traces` — greedy nearest hotspot: from where the group is, to the nearest of
  the window's forecast hotspots of its cell not yet patrolled in this round, the hotspot's
  dwell on its streets, and on (the group ``i`` of a cell starts at its ``i``-th most valuable
  hotspot);
* :class:`UniformRisk` — an adjustment of the plan's hotspots (``plan_day(adjustments=...)``)
  that replaces the forecast by a uniform risk per metre in each cell, with each cell's total
  kept (so the groups are shared out between the cells as the forecast's demand shares them; the
  routes' minutes may still differ a little, which the backtest reports): the service's
  planning without the forecast's choice of places within each cell.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimizer.district import District
from optimizer.evaluate.effectiveness.traces import SegmentLookup, Trace, TraceBuilder
from optimizer.plan.types import DayPlan, WindowPlan
from optimizer.risk.forecaster import RiskForecast
from optimizer.risk.hotspots import (
    Hotspot,
    HotspotParams,
    district_forecast,
    hotspots_for_window,
    patrol_demand,
    segment_grids,
)
from optimizer.risk.incidents import street_segments
from optimizer.streets.network import UNREACHABLE, StreetRouter
from optimizer.timewindow import TimeWindow


@dataclass(frozen=True)
class Duty:
    """One group's duty in one window: where it patrols, from where, and for how long.

    Attributes
    ----------
    window
        Window label.
    start
        Start of the window (local time).
    grid_id
        The group's cell.
    group_id
        The group.
    mode
        Travel mode.
    node
        Street node it sets out from.
    start_s, end_s
        Its time on the streets, in seconds after ``start``.
    posts
        Its post duties as in the service's route: ``(node, arrival_s, departure_s)``; every
        strategy keeps them (the group stands at the school gate whatever it does between).
    """

    window: str
    start: dt.datetime
    grid_id: str
    group_id: str
    mode: str
    node: int
    start_s: float
    end_s: float
    posts: tuple[tuple[int, float, float], ...] = ()


def plan_duties(plan: DayPlan, router: StreetRouter) -> list[Duty]:
    """Return the duty of every route of a plan: its group, cell, start and minutes.

    Parameters
    ----------
    plan
        The service's plan of the day.
    router
        The district's street network (the start stop's node).

    Returns
    -------
    list of Duty
        One per route, window by window.
    """
    out = []
    for wp in plan.windows:
        for r in wp.routes:
            if not r.stops:
                continue
            first, last = r.stops[0], r.stops[-1]
            mode = [r.group.mode]
            posts = tuple(
                (
                    router.nearest_node(s.lon, s.lat, modes=mode),
                    (s.arrival - wp.start).total_seconds(),
                    (s.departure - wp.start).total_seconds(),
                )
                for s in r.stops[1:-1]
                if s.kind == "post"
            )
            out.append(
                Duty(
                    wp.window.label(),
                    wp.start,
                    wp.grid_id,
                    r.group.id,
                    r.group.mode,
                    router.nearest_node(first.lon, first.lat, modes=[r.group.mode]),
                    (first.departure - wp.start).total_seconds(),
                    (last.arrival - wp.start).total_seconds(),
                    posts,
                )
            )
    return out


def cell_segments(district: District, grid_ids: Sequence[str]) -> dict[str, npt.NDArray[np.int64]]:
    """Return the patrollable street segments of each cell (by the segment's midpoint).

    Parameters
    ----------
    district
        The district.
    grid_ids
        Cells of any level.

    Returns
    -------
    dict
        Cell id -> indices into ``optimizer.risk.incidents.street_segments(district.graph)``.
    """
    segs = street_segments(district.graph)
    ok = segs["patrollable"].to_numpy(dtype=bool)
    levels = district.grids.loc[list(grid_ids), "level"].astype(int)
    out: dict[str, npt.NDArray[np.int64]] = {}
    for level in sorted(set(levels)):
        of_level = segment_grids(district, level)
        for gid in (str(g) for g, lv in levels.items() if lv == level):
            out[gid] = np.flatnonzero((of_level == gid) & ok).astype(np.int64)
    return out


def beat_loop(
    router: StreetRouter,
    segments: pd.DataFrame,
    cell: npt.ArrayLike,
    *,
    start: int,
    mode: str,
) -> list[int]:
    """Return a loop through every segment of a cell as the street nodes it passes, in order.

    From ``start`` the loop goes on to the nearest segment not yet walked (by the mode's travel
    time to either end), along it, and on; segments the mode cannot reach are left out.

    Parameters
    ----------
    router
        The district's street network.
    segments
        The street segments (``u``, ``v``).
    cell
        Indices of the cell's segments.
    start
        Node the loop starts from (and returns to).
    mode
        Travel mode.

    Returns
    -------
    list of int
        Node ids: ``start``, then each segment's near and far end in the order walked.
    """
    idx = np.asarray(cell, dtype=np.int64)
    if len(idx) == 0:
        return [int(start)]
    u = segments["u"].to_numpy(dtype=np.int64)[idx]
    v = segments["v"].to_numpy(dtype=np.int64)[idx]
    nodes = np.unique(np.concatenate([[int(start)], u, v]))
    pos = {int(n): i for i, n in enumerate(nodes)}
    T = router.matrix(nodes.tolist(), mode, metres=False).seconds.astype(float)
    T[T >= UNREACHABLE] = np.inf
    ui = np.array([pos[int(n)] for n in u])
    vi = np.array([pos[int(n)] for n in v])
    left = np.ones(len(idx), dtype=bool)
    cur = pos[int(start)]
    tour = [int(start)]
    while left.any():
        to_u = np.where(left, T[cur, ui], np.inf)
        to_v = np.where(left, T[cur, vi], np.inf)
        cost = np.minimum(to_u, to_v)
        k = int(np.argmin(cost))
        if not np.isfinite(cost[k]):
            break
        near, far = (ui[k], vi[k]) if to_u[k] <= to_v[k] else (vi[k], ui[k])
        tour += [int(nodes[near]), int(nodes[far])]
        left[k] = False
        cur = far
    tour.append(int(start))
    return [n for i, n in enumerate(tour) if i == 0 or n != tour[i - 1]]


def _builder(router: StreetRouter, lookup: SegmentLookup, duty: Duty) -> TraceBuilder:
    return TraceBuilder(
        router, lookup, node=duty.node, mode=duty.mode, start_s=duty.start_s, end_s=duty.end_s
    )


def _by_cell(duties: Sequence[Duty]) -> dict[tuple[str, str], list[Duty]]:
    out: dict[tuple[str, str], list[Duty]] = {}
    for d in duties:
        out.setdefault((d.window, d.grid_id), []).append(d)
    return out


Patrol = Callable[[TraceBuilder], None]
"""Moves a group on by a strategy until its builder is :attr:`~TraceBuilder.done`."""


def run_duty(
    router: StreetRouter, lookup: SegmentLookup, duty: Duty, patrol: Patrol, strategy: str
) -> Trace:
    """Return the trace of a duty patrolled by ``patrol``, its post duties kept.

    Before each post duty the group patrols only while it can still reach the post in time
    (:meth:`~optimizer.evaluate.effectiveness.traces.TraceBuilder.until`), goes there and stays
    until the duty ends, as the service's group does; after the last one it patrols to the end.

    Parameters
    ----------
    router, lookup
        The street network and its segments.
    duty
        The group's duty.
    patrol
        The strategy's moves (it keeps its own state between the free spells of the duty).
    strategy
        Name given to the trace.

    Returns
    -------
    Trace
    """
    b = _builder(router, lookup, duty)
    for node, arrival_s, departure_s in duty.posts:
        b.until(arrival_s, node)
        patrol(b)
        b.release()
        b.go(node)
        b.wait_until(departure_s)
    patrol(b)
    b.stay(b.end_s - b.clock)
    return b.trace(
        strategy=strategy,
        window=duty.window,
        grid_id=duty.grid_id,
        group_id=duty.group_id,
        start=duty.start,
    )


def loop_patrol(loop: Sequence[int], offset: int) -> Patrol:
    """Return moves that walk ``loop`` round and round, from position ``offset`` first.

    Parameters
    ----------
    loop
        Node ids of the loop (its first and last may be the same node).
    offset
        Position in the loop the group walks to first.
    """
    ring = list(loop[:-1]) if len(loop) > 1 and loop[0] == loop[-1] else list(loop)
    at = [offset % max(1, len(ring))]

    def patrol(b: TraceBuilder) -> None:
        if len(set(ring)) < 2:
            return
        stuck = 0
        while not b.done and stuck < len(ring):
            before = b.clock
            b.go(ring[at[0]])
            if b.blocked:
                return  # on to the post; the same target next time
            stuck = stuck + 1 if b.clock <= before else 0
            at[0] = (at[0] + 1) % len(ring)

    return patrol


def walk_loop(b: TraceBuilder, loop: Sequence[int], offset: int) -> None:
    """Walk ``loop`` (see :func:`loop_patrol`) until the duty is over, then stay there."""
    loop_patrol(loop, offset)(b)
    b.stay(b.end_s - b.clock)


def beat_loop_traces(
    duties: Sequence[Duty],
    router: StreetRouter,
    lookup: SegmentLookup,
    cells: Mapping[str, npt.NDArray[np.int64]],
    *,
    loops: dict[tuple[str, int, str], list[int]] | None = None,
) -> list[Trace]:
    """Return the beat-loop traces of the duties (see the module docstring).

    Parameters
    ----------
    duties
        The groups' duties (:func:`plan_duties` of the service's plan).
    router, lookup
        The street network and its segments.
    cells
        Segments of each cell (:func:`cell_segments`).
    loops
        Loops already computed, by (cell, start node, mode); filled here (the beat is fixed:
        keep it across days).

    Returns
    -------
    list of Trace
    """
    known = {} if loops is None else loops
    out: list[Trace] = []
    for (_, gid), group in sorted(_by_cell(duties).items()):
        first = group[0]
        key = (gid, first.node, first.mode)
        if key not in known:
            known[key] = beat_loop(
                router, lookup.segments, cells.get(gid, []), start=first.node, mode=first.mode
            )
        loop = known[key]
        n = max(1, len(loop) - 1)
        for i, duty in enumerate(group):
            patrol = loop_patrol(loop, (i * n) // len(group))
            out.append(run_duty(router, lookup, duty, patrol, "beat_loop"))
    return out


def random_patrol(
    cell: npt.NDArray[np.int64], lookup: SegmentLookup, rng: np.random.Generator
) -> Patrol:
    """Return moves to a random street of ``cell`` (by length), along it, and on."""
    u = lookup.segments["u"].to_numpy(dtype=np.int64)
    v = lookup.segments["v"].to_numpy(dtype=np.int64)
    weight = lookup.length[cell] / lookup.length[cell].sum() if len(cell) else None

    def patrol(b: TraceBuilder) -> None:
        stuck = 0
        while len(cell) and not b.done and stuck < 50:
            s = int(rng.choice(cell, p=weight))
            a, z = (u[s], v[s]) if rng.random() < 0.5 else (v[s], u[s])
            before = b.clock
            b.go(int(a))
            b.go(int(z))
            stuck = stuck + 1 if b.clock <= before else 0

    return patrol


def random_traces(
    duties: Sequence[Duty],
    router: StreetRouter,
    lookup: SegmentLookup,
    cells: Mapping[str, npt.NDArray[np.int64]],
    *,
    seed: int,
    strategy: str = "random",
) -> list[Trace]:
    """Return random-route traces of the duties: random streets of the cell, by length.

    Parameters
    ----------
    duties
        The groups' duties.
    router, lookup
        The street network and its segments.
    cells
        Segments of each cell (:func:`cell_segments`).
    seed
        Seed of the random choices.
    strategy
        Name given to the traces.

    Returns
    -------
    list of Trace
    """
    rng = np.random.default_rng(seed)
    none = np.zeros(0, dtype=np.int64)
    return [
        run_duty(
            router,
            lookup,
            duty,
            random_patrol(cells.get(duty.grid_id, none), lookup, rng),
            strategy,
        )
        for duty in duties
    ]


def greedy_patrol(
    hotspots: Sequence[Hotspot], router: StreetRouter, lookup: SegmentLookup, first: int
) -> Patrol:
    """Return moves to the nearest hotspot not patrolled in this round, its dwell, and on.

    Parameters
    ----------
    hotspots
        The cell's hotspots, most valuable first.
    router, lookup
        The street network and its segments.
    first
        Index of the hotspot the group goes to first.
    """
    segs_of = [[lookup.of_edge[e] for e in h.edges if e in lookup.of_edge] for h in hotspots]
    nodes = [int(h.node) for h in hotspots]
    state = {"next": first % len(hotspots)}
    done: set[int] = set()

    def patrol(b: TraceBuilder) -> None:
        while not b.done:
            k = state["next"]
            before = b.clock
            if b.go(nodes[k]) and not b.blocked:
                b.stay(60.0 * hotspots[k].dwell_min, segs_of[k])
            if b.blocked:
                return
            done.add(k)
            if len(done) == len(hotspots):
                done.clear()
            T = router.matrix([b.node], b.mode, nodes, metres=False).seconds[0]
            order = [int(j) for j in np.argsort(T, kind="stable") if int(j) not in done]
            state["next"] = order[0] if order else k
            if b.clock <= before:
                return

    return patrol


def greedy_traces(
    duties: Sequence[Duty],
    plan: DayPlan,
    router: StreetRouter,
    lookup: SegmentLookup,
    cells: Mapping[str, npt.NDArray[np.int64]],
    *,
    seed: int,
) -> list[Trace]:
    """Return greedy nearest-hotspot traces of the duties (see the module docstring).

    The hotspots are those the service's plan was given (the same forecast). A cell without
    hotspots in the window is patrolled by random routes.

    Parameters
    ----------
    duties
        The groups' duties.
    plan
        The service's plan (its windows' hotspots).
    router, lookup
        The street network and its segments.
    cells
        Segments of each cell (:func:`cell_segments`).
    seed
        Seed of the random routes of cells without hotspots.

    Returns
    -------
    list of Trace
    """
    windows: dict[tuple[str, str], WindowPlan] = {
        (wp.window.label(), wp.grid_id): wp for wp in plan.windows
    }
    out: list[Trace] = []
    fallback: list[Duty] = []
    for (wlabel, gid), group in sorted(_by_cell(duties).items()):
        wp = windows.get((wlabel, gid))
        hot: list[Hotspot] = sorted(wp.hotspots, key=lambda h: -h.value) if wp else []
        if not hot:
            fallback.extend(group)
            continue
        for i, duty in enumerate(group):
            patrol = greedy_patrol(hot, router, lookup, i)
            out.append(run_duty(router, lookup, duty, patrol, "greedy_hotspot"))
    return out + random_traces(
        fallback, router, lookup, cells, seed=seed, strategy="greedy_hotspot"
    )


# ---------------------------------------------------------------------------------------------
# the service without the forecast


class UniformForecast(RiskForecast):
    """A forecaster whose risk is the same per metre on every street (category totals kept).

    Parameters
    ----------
    base
        The fitted forecaster whose district-wide totals per category and window are spread
        evenly over the street length.
    """

    def __init__(self, base: RiskForecast) -> None:
        super().__init__(base.model, base.params, tz=base.tz)
        self.base = base

    def risk(
        self,
        at: pd.Timestamp | str | int,
        *,
        window: TimeWindow | None = None,
        day: pd.Timestamp | None = None,
        days: float = 1.0,
        severity: bool = True,
        by_category: bool = False,
    ) -> np.ndarray:
        """Return the base forecaster's total incidents, the same per metre everywhere."""
        full = self.base.risk(
            at, window=window, day=day, days=days, severity=severity, by_category=True
        )
        length = self.length
        per_metre = (full * length[None, :]).sum(axis=1) / max(float(length.sum()), 1e-12)
        out = np.repeat(per_metre[:, None], len(length), axis=1)
        return out if by_category else out.sum(axis=0)


@dataclass(frozen=True)
class UniformRisk:
    """Hotspot adjustment: the forecast replaced by uniform risk, each cell's total kept.

    For ``optimizer.plan.day.plan_day(adjustments=[UniformRisk()])``: the window's hotspots are
    cut again from a uniform risk per metre (:class:`UniformForecast`) in the cells that had
    forecast hotspots, and scaled so that each cell's demand (the sum of its hotspots' values)
    stays what the forecast gave it; the groups are then allocated as before.

    Parameters
    ----------
    params
        How the hotspots are cut (the plan's ``PlanParams.hotspots``; ``None``: the defaults).
    """

    params: HotspotParams | None = None

    def apply(
        self,
        hotspots: Sequence[Hotspot],
        *,
        district: District,
        day: dt.date,
        window: TimeWindow,
    ) -> Sequence[Hotspot]:
        """Return the uniform-risk hotspots of the cells of ``hotspots``."""
        demand = patrol_demand(hotspots)
        if not demand:
            return list(hotspots)
        flat = UniformForecast(
            district_forecast(district, params=(self.params or HotspotParams()).forecast)
        )
        cut = hotspots_for_window(
            district,
            day=day,
            window=window,
            grid_ids=sorted(demand),
            params=self.params,
            model=flat,
        )
        total = patrol_demand(cut)
        return [
            dataclasses.replace(h, value=h.value * demand[h.grid_id] / total[h.grid_id])
            for h in cut
            if total.get(h.grid_id, 0.0) > 0
        ]

    def describe(self, *, day: dt.date, window: TimeWindow) -> str:
        """Say what :meth:`apply` did."""
        return "hotspots from uniform risk per metre in each cell (forecast's cell totals kept)"
