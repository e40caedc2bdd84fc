"""Where each group was, and when: the street segments of a patrol over a window.

A :class:`Trace` is one group's window as presence intervals on the district's street segments
(``optimizer.risk.incidents.street_segments``): segment ``segments[i]`` from ``t0_s[i]`` to
``t1_s[i]`` seconds after the window's start. Every strategy's routes become traces the same way
(:class:`TraceBuilder`): a leg between two places follows the street path of the group's mode
(``optimizer.plan.streets.street_path``: walked where the mode has none) at the edges' travel
times, and time spent at a place is spent on its streets (a hotspot's segments in turn, in
proportion to their length) or, at a single node such as a post, on one segment touching it.
:func:`service_traces` reads a planned day (``optimizer.plan.types.DayPlan``) this way.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import networkx as nx
import numpy as np
import numpy.typing as npt
import pandas as pd

from optimizer.errors import InputError
from optimizer.plan.streets import street_path
from optimizer.plan.types import DayPlan, WindowPlan
from optimizer.risk.incidents import segment_index, street_segments
from optimizer.streets.graph import TravelSpeeds
from optimizer.streets.network import StreetRouter

TRACE_COLUMNS: tuple[str, ...] = (
    "strategy",
    "window",
    "grid_id",
    "group_id",
    "mode",
    "segment",
    "t0_s",
    "t1_s",
)


@dataclass(frozen=True, eq=False)
class Trace:
    """One group's presence on the streets during one window.

    Attributes
    ----------
    strategy
        The strategy whose route this is (``"service"``, ``"beat_loop"``, ...).
    window
        Window label, e.g. ``"19:00-23:00"``.
    grid_id
        The cell the group patrols.
    group_id
        The group.
    mode
        Travel mode of the group.
    start
        Start of the window (the clock of ``t0_s`` and ``t1_s``), local time.
    segments
        Street-segment index of each interval.
    t0_s, t1_s
        Start and end of each interval in seconds after ``start`` (``t0_s <= t1_s``, in order).
    """

    strategy: str
    window: str
    grid_id: str
    group_id: str
    mode: str
    start: dt.datetime
    segments: npt.NDArray[np.int64]
    t0_s: npt.NDArray[np.float64]
    t1_s: npt.NDArray[np.float64]

    @property
    def minutes(self) -> float:
        """Minutes on the streets (the sum of the intervals)."""
        return float((self.t1_s - self.t0_s).sum()) / 60.0

    @property
    def first_s(self) -> float:
        """Second the group sets out (``nan`` for an empty trace)."""
        return float(self.t0_s[0]) if len(self.t0_s) else math.nan

    @property
    def last_s(self) -> float:
        """Second the group is done (``nan`` for an empty trace)."""
        return float(self.t1_s[-1]) if len(self.t1_s) else math.nan

    def patrolled(self) -> npt.NDArray[np.int64]:
        """Return the distinct segments the group was on (any time in the window)."""
        return np.unique(self.segments)

    def at(self, t_s: float) -> int:
        """Return the segment the group is on ``t_s`` seconds after the start (-1: off duty)."""
        i = int(np.searchsorted(self.t1_s, t_s, side="right"))
        if i < len(self.t0_s) and self.t0_s[i] <= t_s:
            return int(self.segments[i])
        return -1


def traces_frame(traces: Sequence[Trace]) -> pd.DataFrame:
    """Return one row per presence interval of every trace (columns :data:`TRACE_COLUMNS`)."""
    parts = [
        pd.DataFrame(
            {
                "strategy": t.strategy,
                "window": t.window,
                "grid_id": t.grid_id,
                "group_id": t.group_id,
                "mode": t.mode,
                "segment": t.segments,
                "t0_s": t.t0_s,
                "t1_s": t.t1_s,
            }
        )
        for t in traces
    ]
    if not parts:
        return pd.DataFrame(columns=list(TRACE_COLUMNS))
    return pd.concat(parts, ignore_index=True)[list(TRACE_COLUMNS)]


class SegmentLookup:
    """Street-segment index of every directed edge of a graph, and a segment at every node.

    Parameters
    ----------
    G
        The projected street graph.
    """

    def __init__(self, G: nx.MultiDiGraph) -> None:
        self.G = G
        self.segments = street_segments(G)
        self.length: npt.NDArray[np.float64] = self.segments["length"].to_numpy(dtype=float)
        edges = pd.DataFrame(list(G.edges(keys=True)), columns=["u", "v", "key"])
        idx = segment_index(edges, G)
        self.of_edge: dict[tuple[int, int, int], int] = {
            (int(u), int(v), int(k)): int(i)
            for u, v, k, i in zip(edges["u"], edges["v"], edges["key"], idx, strict=True)
        }
        self.at_node: dict[int, int] = {}
        for (u, v, _), i in sorted(self.of_edge.items()):
            self.at_node.setdefault(u, i)
            self.at_node.setdefault(v, i)

    def edge(self, a: int, b: int, mode: str) -> tuple[int, float]:
        """Return the segment and the seconds of the fastest edge ``a -> b`` for ``mode``.

        The edge's ``travel_time_<mode>``; on foot where the mode may not use it (as
        ``street_path`` walks such legs); at the default walking speed (``TravelSpeeds``) where
        the edge has no times.
        """
        best: tuple[float, int] | None = None
        for k, d in self.G[a][b].items():
            t = float(d.get(f"travel_time_{mode}", math.inf))
            if not math.isfinite(t):
                t = float(d.get("travel_time_foot", math.inf))
            if best is None or t < best[0]:
                best = (t, int(k))
        if best is None or not math.isfinite(best[0]):
            length = float(min(float(d.get("length", 0.0)) for d in self.G[a][b].values()))
            walk = TravelSpeeds().foot_kmh / 3.6
            best = (length / walk, int(next(iter(self.G[a][b]))))
        return self.of_edge[(a, b, best[1])], best[0]


class TraceBuilder:
    """Build a :class:`Trace` by moving a group along streets and letting it stay at places.

    The clock starts at ``start_s`` at ``node`` and never passes ``end_s``: a leg or a stay
    that would go beyond it is cut there (the group's duty is over).

    Parameters
    ----------
    router
        The district's street network.
    lookup
        Segments of the network's graph.
    node
        Where the group starts.
    mode
        The group's travel mode.
    start_s, end_s
        The group's duty, in seconds after the window's start.
    """

    def __init__(
        self,
        router: StreetRouter,
        lookup: SegmentLookup,
        *,
        node: int,
        mode: str,
        start_s: float,
        end_s: float,
    ) -> None:
        self.router = router
        self.lookup = lookup
        self.node = int(node)
        self.mode = mode
        self.clock = float(start_s)
        self.end_s = float(end_s)
        self._seg: list[int] = []
        self._t0: list[float] = []
        self._t1: list[float] = []
        self.deadline: float | None = None
        self.blocked = False
        self._back: npt.NDArray[np.float64] | None = None

    @property
    def done(self) -> bool:
        """Whether the duty is over (or the group must leave for its post: :meth:`until`)."""
        return self.blocked or self.clock >= self.end_s - 1e-9

    def until(self, t_s: float, node: int) -> None:
        """Keep enough time, from here on, to be at ``node`` at ``t_s`` (a post duty).

        A leg or a stay that would leave too little time to get there (the mode's travel time
        from ``node``, taken as the way back) is refused and :attr:`done` turns True until
        :meth:`release`.
        """
        row = self.router.matrix(
            [int(node)], self.mode, self.router.node_ids.tolist(), metres=False
        )
        back = np.where(row.reachable[0], row.seconds[0], np.inf).astype(float)
        if not np.isfinite(back[self._row(self.node)]):
            return  # the post cannot be reached from here anyway: no deadline
        self._back = back
        self.deadline = float(t_s)
        self.blocked = False

    def release(self) -> None:
        """Drop the deadline of :meth:`until`."""
        self.deadline = None
        self.blocked = False
        self._back = None

    def _row(self, node: int) -> int:
        return int(self.router.indices([int(node)])[0])

    def _fits(self, seconds: float, node: int) -> bool:
        """Whether ``seconds`` more and then the way from ``node`` to the post fit the deadline."""
        if self.deadline is None or self._back is None:
            return True
        return self.clock + seconds + float(self._back[self._row(node)]) <= self.deadline

    def _add(self, segment: int, seconds: float) -> None:
        if self.clock >= self.end_s - 1e-9 or seconds <= 0:
            return
        t1 = min(self.end_s, self.clock + seconds)
        self._seg.append(int(segment))
        self._t0.append(self.clock)
        self._t1.append(t1)
        self.clock = t1

    def go(self, node: int) -> bool:
        """Go to ``node`` along the street path of the group's mode (cut at the end of duty).

        Returns
        -------
        bool
            False where no street path leads there (the group stays where it is).
        """
        node = int(node)
        if node == self.node or self.done:
            return True
        try:
            path = street_path(self.router, self.node, node, self.mode)
        except InputError:
            return False
        for a, b in pairwise(path):
            if self.done:
                break
            segment, seconds = self.lookup.edge(a, b, self.mode)
            if not self._fits(seconds, b):
                self.blocked = True
                break
            self._add(segment, seconds)
            self.node = b
        return True

    def stay(self, seconds: float, segments: Sequence[int] = ()) -> None:
        """Spend ``seconds`` on ``segments`` in turn (by length), or on a segment at the node."""
        if seconds <= 0 or self.done:
            return
        if not self._fits(seconds, self.node):
            assert self.deadline is not None and self._back is not None
            seconds = self.deadline - float(self._back[self._row(self.node)]) - self.clock
            self.blocked = True
            if seconds <= 0:
                return
        segs = list(segments) or [self.lookup.at_node.get(self.node, -1)]
        segs = [s for s in segs if s >= 0]
        if not segs:
            self.clock = min(self.end_s, self.clock + seconds)
            return
        length = self.lookup.length[segs]
        share = length / length.sum() if length.sum() > 0 else np.full(len(segs), 1 / len(segs))
        for s, part in zip(segs, share, strict=True):
            self._add(s, float(seconds * part))

    def wait_until(self, t_s: float, segments: Sequence[int] = ()) -> None:
        """Stay (see :meth:`stay`) until ``t_s`` seconds after the window's start."""
        self.stay(t_s - self.clock, segments)

    def trace(
        self, *, strategy: str, window: str, grid_id: str, group_id: str, start: dt.datetime
    ) -> Trace:
        """Return the trace built so far."""
        return Trace(
            strategy,
            window,
            grid_id,
            group_id,
            self.mode,
            start,
            np.asarray(self._seg, dtype=np.int64),
            np.asarray(self._t0, dtype=float),
            np.asarray(self._t1, dtype=float),
        )


def hotspot_segments(wp: WindowPlan, lookup: SegmentLookup) -> dict[str, list[int]]:
    """Return the street segments of each hotspot of a window plan, by hotspot id."""
    return {h.id: [lookup.of_edge[e] for e in h.edges if e in lookup.of_edge] for h in wp.hotspots}


def service_traces(
    plan: DayPlan,
    router: StreetRouter,
    lookup: SegmentLookup,
    *,
    strategy: str = "service",
) -> list[Trace]:
    """Return the trace of every route of a planned day.

    Each leg follows the street path between the stops' nodes; the time between reaching a
    hotspot and leaving it (waits and area patrols included, as the plan shows them) is spent
    on the hotspot's segments; at a post or the muster point on a segment at its node.

    Parameters
    ----------
    plan
        The day's plan.
    router, lookup
        The district's street network and its segments.
    strategy
        Name given to the traces.

    Returns
    -------
    list of Trace
        One per route, window by window.
    """
    out: list[Trace] = []
    for wp in plan.windows:
        on_hotspot = hotspot_segments(wp, lookup)
        for route in wp.routes:
            stops = route.stops
            if not stops:
                continue

            def seconds(moment: dt.datetime, start: dt.datetime = wp.start) -> float:
                return (moment - start).total_seconds()

            first = stops[0]
            b = TraceBuilder(
                router,
                lookup,
                node=router.nearest_node(first.lon, first.lat, modes=[route.group.mode]),
                mode=route.group.mode,
                start_s=seconds(first.departure),
                end_s=seconds(stops[-1].arrival),
            )
            for s in stops[1:]:
                b.go(router.nearest_node(s.lon, s.lat, modes=[route.group.mode]))
                where = on_hotspot.get(s.site_id, []) if s.kind == "hotspot" else []
                b.wait_until(seconds(s.arrival), where)
                b.wait_until(seconds(s.departure), where)
            out.append(
                b.trace(
                    strategy=strategy,
                    window=wp.window.label(),
                    grid_id=wp.grid_id,
                    group_id=route.group.id,
                    start=wp.start,
                )
            )
    return out
