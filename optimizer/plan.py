"""A day's plan: grids x windows -> groups -> routes.

Contract (owned by the foundation work): the dataclasses below keep their fields; the
pipeline in :func:`plan_day` may change behind them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import LineString

from optimizer.hotspots import Hotspot
from optimizer.teams import PatrolGroup
from optimizer.timewindow import TimeWindow


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
