"""The day plan's data: stops, group routes, left-out sites, window and day plans, and tables.

The dataclasses keep their fields (the API stores plans through ``optimizer.outputs.plan_io``);
new fields come with defaults. They are built by :mod:`optimizer.plan.assemble`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from shapely.geometry import LineString

from optimizer.risk.hotspots import Hotspot
from optimizer.staff.groups import PatrolGroup, Unassigned, UnstaffedPost
from optimizer.timewindow import TimeWindow
from optimizer.timezones import known_zone


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
class WindowStaffing:
    """How one window's staff was used: counts, people left out, posts and cells without a group.

    ``counts`` holds ``officers_on_shift``, ``officers_in_groups``, ``officers_unused``,
    ``volunteers_eligible``, ``volunteers_in_groups``, ``groups``, ``police_only_groups``,
    ``cells_with_demand``, ``cells_with_groups`` and ``post_duties``.
    """

    window: TimeWindow
    counts: dict[str, float]
    unassigned: tuple[Unassigned, ...] = ()
    """People on the roster in no group, each with the reason."""
    unstaffed_posts: tuple[UnstaffedPost, ...] = ()
    """Post duties no group was allocated for, with the binding constraint."""
    uncovered: dict[str, str] = field(default_factory=dict)
    """Cells with demand but no group, and why."""


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
    staffing: tuple[WindowStaffing, ...] = ()
    """One per window: how the staff on duty was used."""

    @property
    def timezone(self) -> ZoneInfo | None:
        """The district's time zone (``settings["timezone"]``, an IANA name), if known.

        The plan's times are local wall-clock times in this zone.
        """
        return known_zone(self.settings.get("timezone"))

    def staffing_frame(self) -> pd.DataFrame:
        """Return one row per window: officers and volunteers on duty and used, cells, posts."""
        return pd.DataFrame([{"window": ws.window.label(), **ws.counts} for ws in self.staffing])

    def unused_staff_frame(self) -> pd.DataFrame:
        """Return one row per person left out of every group: window, id, role, code, reason."""
        rows = [
            (ws.window.label(), u.person_id, u.role, u.code, u.reason)
            for ws in self.staffing
            for u in ws.unassigned
        ]
        return pd.DataFrame(rows, columns=["window", "person_id", "role", "code", "reason"])

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
