"""Joint patrol groups: what a group is, the rules that shape it, and the answer of allocation.

A group is led by at least one officer; volunteers join it where they can reach it. Groups are
formed for one day and window and allocated to cells by :func:`optimizer.staff.allocation.
form_groups`; this module holds the data and the rules (:class:`GroupParams`).
"""

from __future__ import annotations

import datetime as dt
import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from optimizer.errors import InputError
from optimizer.staff.roster import Shift
from optimizer.timewindow import TimeWindow


@dataclass(frozen=True)
class PatrolGroup:
    """A joint patrol group for one window, allocated to one cell.

    ``station_id`` is the lead officer's station (where the officers come from);
    ``muster_id`` the muster point where the group starts and ends its route in the cell.
    """

    id: str
    grid_id: str
    window: TimeWindow
    officer_ids: tuple[str, ...]
    volunteer_ids: tuple[str, ...]
    station_id: str
    mode: str = "foot"
    muster_id: str = ""

    @property
    def members(self) -> tuple[str, ...]:
        """Officer ids first, then volunteer ids."""
        return self.officer_ids + self.volunteer_ids


@dataclass(frozen=True)
class GroupParams:
    """Rules of group formation and allocation; checks itself on creation.

    Parameters
    ----------
    min_officers, max_officers
        Officers per group: crews of ``min_officers`` officers of one station and mode lead
        the groups; officers left over join crews up to ``max_officers``.
    volunteers_first
        Every group gets up to this many volunteers before any group gets more ("combining with
        those nearby"): volunteers spread over the groups they can reach.
    max_volunteers
        Most volunteers in one group.
    volunteer_reach_km
        A volunteer joins groups whose cell lies within this distance of the home cell (centre
        to muster point, straight line) or touches the home cell.
    max_groups
        Upper bound on the number of groups in the window (``None``: as many as crews).
    max_groups_per_cell
        Most groups in one cell (``None``: no limit beyond the proportional split).
    fairness_weight
        Weight of "prefer volunteers with fewer hours this week" (0: no preference; ties are
        then broken by the seed).
    cover_share
        A cell with demand of at least this share of the highest cell's demand gets one group
        before any cell gets a second (0: every cell with demand).
    commute_weight
        Weight of an officer's distance from the station to the muster point against the
        proportional split (0: ignore distance).
    neighbour_tolerance_deg
        Cells closer than this (degrees) count as touching, absorbing rounding at shared edges.
    pace_week
        Spread each volunteer's weekly cap over the week (:func:`pace_from`): the ``k``-th
        duty of the week waits until its staggered share of the volunteer's available time
        in the week has passed (:func:`week_fraction`), so that not
        every volunteer spends the cap on Monday and Tuesday. For planning days in a row
        (:func:`optimizer.plan.week.plan_week` turns it on); off for a single day.
    """

    min_officers: int = 1
    max_officers: int = 1
    volunteers_first: int = 2
    max_volunteers: int = 4
    volunteer_reach_km: float = 2.0
    max_groups: int | None = None
    max_groups_per_cell: int | None = None
    fairness_weight: float = 1.0
    cover_share: float = 0.0
    commute_weight: float = 1.0
    neighbour_tolerance_deg: float = 1e-6
    pace_week: bool = False

    def __post_init__(self) -> None:
        def whole(name: str, value: object, low: int) -> None:
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= low):
                raise InputError(f"groups.{name}", value, f"an integer >= {low}")

        whole("min_officers", self.min_officers, 1)
        whole("max_officers", self.max_officers, self.min_officers)
        whole("volunteers_first", self.volunteers_first, 0)
        whole("max_volunteers", self.max_volunteers, self.volunteers_first)
        if self.max_groups is not None:
            whole("max_groups", self.max_groups, 1)
        if self.max_groups_per_cell is not None:
            whole("max_groups_per_cell", self.max_groups_per_cell, 1)
        if not isinstance(self.pace_week, bool):
            raise InputError("groups.pace_week", self.pace_week, "true or false")
        for name in ("volunteer_reach_km", "fairness_weight", "cover_share", "commute_weight"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and np.isfinite(value) and value >= 0):
                raise InputError(f"groups.{name}", value, "a finite number >= 0")


@dataclass(frozen=True)
class Unassigned:
    """A person left out of every group, with a machine code and a human reason."""

    person_id: str
    role: str
    """``"officer"`` or ``"volunteer"``."""
    code: str
    """``unavailable``, ``weekly_cap``, ``paced``, ``home_grid_unknown``, ``no_group_nearby``,
    ``no_cell_for_mode``, ``not_needed`` or ``groups_full``."""
    reason: str


@dataclass(frozen=True)
class UnstaffedPost:
    """A post duty no group was allocated for, with the binding constraint."""

    post_id: str
    grid_id: str
    duty: str
    """The duty window, ``"HH:MM-HH:MM"``."""
    code: str
    """``no_officer`` (too few officers on shift for the overlapping duties) or
    ``no_officer_for_mode`` (no officer on shift can patrol the cell's streets)."""
    reason: str
    missing: int = 0
    """How many more officers would have staffed it."""


@dataclass(frozen=True)
class GroupFormation:
    """The groups of one window and what was left: people, cells, posts."""

    day: dt.date
    window: TimeWindow
    groups: tuple[PatrolGroup, ...]
    unassigned: tuple[Unassigned, ...]
    allocation: dict[str, int]
    """Number of groups per cell (every cell with demand or posts listed, zeros included)."""
    target: dict[str, float]
    """Proportional share of the groups each cell would get if groups were divisible."""
    unstaffed_posts: tuple[UnstaffedPost, ...] = ()
    uncovered: dict[str, str] = field(default_factory=dict)
    """Cells with demand but no group, and why."""
    seed: int = 0
    stats: dict[str, float] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Return one row per group: id, cell, mode, station, muster point, officers, volunteers."""
        columns = [
            "group",
            "grid_id",
            "window",
            "mode",
            "station_id",
            "muster_id",
            "officers",
            "volunteers",
            "size",
        ]
        rows = [
            {
                "group": g.id,
                "grid_id": g.grid_id,
                "window": g.window.label(),
                "mode": g.mode,
                "station_id": g.station_id,
                "muster_id": g.muster_id,
                "officers": ",".join(g.officer_ids),
                "volunteers": ",".join(g.volunteer_ids),
                "size": len(g.members),
            }
            for g in self.groups
        ]
        return pd.DataFrame(rows, columns=columns)

    def unassigned_frame(self) -> pd.DataFrame:
        """Return one row per person left out, with the reason."""
        return pd.DataFrame(
            [vars(u) for u in self.unassigned], columns=["person_id", "role", "code", "reason"]
        )


def grid_neighbours(grids: gpd.GeoDataFrame, *, tolerance_deg: float = 1e-6) -> dict[str, set[str]]:
    """Return, for each grid id, the ids of grids it touches, overlaps or contains (and itself).

    A grid of another level counts when the geometries meet: a level-2 home grid is "next to"
    every leaf cell inside or along it.

    Parameters
    ----------
    grids
        Grids indexed by id, WGS-84 polygons.
    tolerance_deg
        Buffer (degrees) absorbing rounding where edges are shared.

    Returns
    -------
    dict
        ``{grid_id: {neighbour ids}}``.
    """
    if grids.empty:
        return {}
    ids = [str(i) for i in grids.index]
    geoms = np.asarray(grids.geometry.values)
    if tolerance_deg > 0:
        # a tiny buffer in degrees only absorbs rounding; no metric meaning is intended
        geoms = shapely.buffer(geoms, tolerance_deg)
    left, right = grids.sindex.query(geoms, predicate="intersects")
    out: dict[str, set[str]] = {i: {i} for i in ids}
    for a, b in zip(left, right, strict=True):
        out[ids[int(a)]].add(ids[int(b)])
    return out


def window_hours(window: TimeWindow) -> float:
    """Return the length of ``window`` in hours (what a volunteer serves in it)."""
    return window.minutes / 60.0


def record_service(
    history: Mapping[str, float] | None, formation: GroupFormation
) -> dict[str, float]:
    """Return ``history`` plus the window hours of every volunteer placed in ``formation``.

    Use it to chain windows and days of one week: pass the result as ``history`` to the next
    formation so that the weekly cap and the fair rotation see the hours served.
    """
    out = dict(history or {})
    hours = window_hours(formation.window)
    for g in formation.groups:
        for vid in g.volunteer_ids:
            out[vid] = out.get(vid, 0.0) + hours
    return out


WEEK_MINUTES = 7 * 24 * 60


def week_fraction(day: dt.date, window: TimeWindow, *, availability: Sequence[Shift] = ()) -> float:
    """Return the share of ``day``'s ISO week (Monday 00:00 to Sunday 24:00) passed when
    ``window`` ends (at most 1).

    With ``availability`` (a volunteer's shifts), the share of the volunteer's available time
    in the week passed by then: a volunteer free on Fridays only is at 0 until Friday.
    """
    now = day.weekday() * 24 * 60 + window.start.hour * 60 + window.start.minute + window.minutes
    spans = [
        (d * 24 * 60 + s.window.start.hour * 60 + s.window.start.minute, s.window.minutes)
        for s in availability
        for d in s.weekdays
    ]
    total = sum(length for _, length in spans)
    if total <= 0:
        return min(1.0, now / WEEK_MINUTES)
    passed = sum(min(max(now - begin, 0), length) for begin, length in spans)
    return min(1.0, passed / total)


def pace_from(volunteer_id: str, *, served_h: float, window_h: float, cap_h: float) -> float:
    """Return the share of the week after which a volunteer's next duty may end (the pace).

    With ``n = floor(cap_h / window_h)`` duties of this length in the week and ``k`` served
    (``floor(served_h / window_h)``), the next duty may end once ``(k + phase) / n`` of the week
    has passed. ``phase`` in [0, 1) is fixed per volunteer (from a checksum of the id), so the
    volunteers' first duties are staggered over the first ``1 / n`` of the week, the second
    ones over the next, and so on: the roster's hours spread evenly over the week instead of
    all being spent on its first days. Returns 0 when no pace applies (no whole duty fits the
    cap: the weekly cap itself decides).
    """
    if window_h <= 0 or cap_h < window_h:
        return 0.0
    duties = math.floor(cap_h / window_h + 1e-9)
    served = math.floor(served_h / window_h + 1e-9)
    phase = (zlib.crc32(volunteer_id.encode("utf-8")) % 1000) / 1000.0
    return min(1.0, (served + phase) / duties)
