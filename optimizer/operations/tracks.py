"""What was patrolled: handheld GPX tracks and check-ins matched to the plan and the streets.

A group's handheld records a GPX track (the file :func:`optimizer.outputs.gpx.write_gpx` wrote
for it is named ``<group id>.gpx`` and its track is named by the group id; a recorded track
is read the same way). Check-ins (a CSV of group, site and time) prove presence where a track
is missing or thin. :func:`match_tracks` compares them with the plan:

* **dosage** — minutes a group's track spends within ``radius_m`` of a hotspot or post: the
  time between two consecutive points counts fully when both lie inside, half when one does,
  not at all when the gap is longer than ``max_gap_min`` (the handheld was off);
* each planned hotspot or post stop is **made**, **late** (first arrival more than
  ``late_min`` after the planned arrival) or **missed** (no visit of at least
  ``min_dwell_min`` and no check-in);
* **distance** walked or driven (the track's length) against the planned route's;
* **deviation** — the share of the track's length farther than ``deviation_m`` from the
  planned street path, and the share of the planned path the track came within
  ``deviation_m`` of;
* the street graph — each point snapped to its nearest street edge
  (:meth:`optimizer.streets.network.StreetRouter.snap`): the share of points on a street and
  the distinct street edges passed.

:class:`PlanActuals` gives plan-vs-actual tables per stop, group, cell and day
(``to_frame()`` and friends) and the hotspots a window left under-served
(:meth:`PlanActuals.deficits`); :class:`DosageDeficit` makes them weigh more in the next
days' plans (a :class:`~optimizer.plan.build.HotspotAdjustment` for
:func:`optimizer.plan.day.plan_day`), halving with every ``half_life_days``.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from shapely.geometry import LineString

from optimizer.district import District
from optimizer.errors import InputError, checked_number
from optimizer.files import safe_file_name
from optimizer.plan.types import DayPlan, GroupRoute, WindowPlan
from optimizer.risk.hotspots import Hotspot
from optimizer.timewindow import TimeWindow

MADE = "made"
LATE = "late"
MISSED = "missed"

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TrackParams:
    """How tracks are matched to the plan.

    Attributes
    ----------
    radius_m
        A point this close to a hotspot or post counts as there (dosage).
    max_gap_min
        Two consecutive points further apart in time count as absent between them.
    rejoin_min
        Two stays at one place less than this apart (GPS jitter) are one visit.
    min_dwell_min
        A visit shorter than this is passing by: a stop without one (and without a check-in)
        is missed.
    late_min
        A stop first reached more than this after its planned arrival is late.
    deviation_m
        Track farther than this from the planned street path is off route.
    on_street_m
        A point this close to a street edge is on the street.
    served_share
        A hotspot given less than this share of its planned minutes is under-served.
    """

    radius_m: float = 40.0
    max_gap_min: float = 5.0
    rejoin_min: float = 1.0
    min_dwell_min: float = 2.0
    late_min: float = 10.0
    deviation_m: float = 60.0
    on_street_m: float = 30.0
    served_share: float = 0.8

    def __post_init__(self) -> None:
        for name, low, high in (
            ("radius_m", 1.0, 2000.0),
            ("max_gap_min", 0.1, 240.0),
            ("rejoin_min", 0.0, 60.0),
            ("min_dwell_min", 0.0, 240.0),
            ("late_min", 0.0, 240.0),
            ("deviation_m", 1.0, 5000.0),
            ("on_street_m", 1.0, 1000.0),
            ("served_share", 0.0, 1.0),
        ):
            checked_number(name, getattr(self, name), low, high)


@dataclass(frozen=True)
class Track:
    """One group's recorded track: local wall-clock times and WGS-84 positions, in time order."""

    group_id: str
    times: tuple[dt.datetime, ...]
    lon: tuple[float, ...]
    lat: tuple[float, ...]
    source: str = ""
    """Where it was read from (a file name), for messages."""

    def __len__(self) -> int:
        return len(self.times)


@dataclass(frozen=True)
class CheckIn:
    """A group checked in at a hotspot or post (by id) at a local wall-clock time."""

    group_id: str
    site_id: str
    time: dt.datetime


# ---------------------------------------------------------------------------------------------
# Reading


def plan_groups(plan: DayPlan) -> dict[str, tuple[WindowPlan, GroupRoute]]:
    """Return each group id of the plan with its window plan and route."""
    return {r.group.id: (wp, r) for wp in plan.windows for r in wp.routes}


def local_time(plan: DayPlan, moment: dt.datetime) -> dt.datetime:
    """Return ``moment`` as the plan's naive local wall-clock time.

    An aware time is converted to the plan's time zone (to UTC where the plan names none); a
    naive time is taken as local already.
    """
    if moment.tzinfo is None:
        return moment
    tz = plan.timezone or dt.UTC
    return moment.astimezone(tz).replace(tzinfo=None)


def _group_for(plan: DayPlan, candidates: Sequence[str], source: str) -> str:
    groups = plan_groups(plan)
    by_file = {safe_file_name(g): g for g in groups}
    for c in candidates:
        if c in groups:
            return c
        if c in by_file:
            return by_file[c]
    raise InputError(
        "group",
        candidates[0] if candidates else source,
        f"a group id of the plan (the GPX track's name or the file's name): {sorted(groups)}",
    )


def read_gpx(
    source: str | Path | bytes,
    *,
    plan: DayPlan,
    group_id: str | None = None,
    name: str | None = None,
) -> Track:
    """Read a handheld's GPX file as one group's :class:`Track`.

    Parameters
    ----------
    source
        A file path, or the file's bytes.
    plan
        The plan the track belongs to (its groups and time zone).
    group_id
        The group; by default the GPX track's name, else the file's name (``<group id>.gpx``,
        as :func:`optimizer.outputs.gpx.write_gpx` names it).
    name
        The file's name where ``source`` is bytes (for the group and messages).

    Returns
    -------
    Track
        Every timed point of every track segment, in time order (points without a time are
        skipped).

    Raises
    ------
    InputError
        Not a GPX file, no timed point, a coordinate out of range, an unknown group.
    """
    import gpxpy
    import gpxpy.gpx

    if isinstance(source, bytes):
        label = name or "track.gpx"
        text = source.decode("utf-8", errors="replace")
    else:
        path = Path(source)
        label = name or path.name
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise InputError("file", str(source), f"a readable GPX file ({exc.strerror})") from None
    try:
        gpx = gpxpy.parse(text)
    except (gpxpy.gpx.GPXException, ValueError) as exc:
        raise InputError("file", label, f"a GPX 1.0/1.1 file ({exc})") from None
    points: list[Any] = [
        p for t in gpx.tracks for s in t.segments for p in s.points if p.time is not None
    ]
    points = points or [p for r in gpx.routes for p in r.points if p.time is not None]
    if not points:
        raise InputError("file", label, "a GPX track with timed points (<trkpt> with <time>)")
    for i, p in enumerate(points):
        if not (
            math.isfinite(p.longitude)
            and math.isfinite(p.latitude)
            and -180 <= p.longitude <= 180
            and -90 <= p.latitude <= 90
        ):
            raise InputError(f"{label}: points[{i}]", (p.longitude, p.latitude), "WGS-84 lon/lat")
    if group_id is None:
        names = [t.name for t in gpx.tracks if t.name] + [Path(label).stem]
        group = _group_for(plan, [str(n).strip() for n in names], label)
    else:
        group = _group_for(plan, [group_id], label)
    rows = sorted(
        (local_time(plan, p.time), float(p.longitude), float(p.latitude))
        for p in points
        if p.time is not None
    )
    return Track(
        group,
        tuple(r[0] for r in rows),
        tuple(r[1] for r in rows),
        tuple(r[2] for r in rows),
        label,
    )


CHECKIN_COLUMNS: dict[str, tuple[str, ...]] = {
    "group": ("group", "group_id", "组", "巡逻组"),
    "site": ("site", "site_id", "hotspot", "post", "place", "地点"),
    "time": ("time", "checked_in", "时间"),
}
"""Accepted headers of the check-in CSV, per column."""


def read_checkins(source: str | Path | bytes | pd.DataFrame, *, plan: DayPlan) -> list[CheckIn]:
    """Read a CSV of check-ins: one row per group, site (hotspot or post id) and time.

    Headers may be any of :data:`CHECKIN_COLUMNS`; times are ISO 8601 (``2026-11-30T19:42``,
    with or without a UTC offset: without one, the district's local time).

    Raises
    ------
    InputError
        A missing column, an unknown group or site of the plan, a malformed time (named by
        row and column, e.g. ``checkins[3].time``).
    """
    if isinstance(source, pd.DataFrame):
        rows = [{str(k): v for k, v in r.items()} for r in source.to_dict(orient="records")]
    else:
        if isinstance(source, bytes):
            text = source.decode("utf-8-sig", errors="replace")
        else:
            try:
                text = Path(source).read_text(encoding="utf-8-sig", errors="replace")
            except OSError as exc:
                raise InputError("file", str(source), f"a readable CSV ({exc.strerror})") from None
        rows = list(csv.DictReader(io.StringIO(text)))
    groups = plan_groups(plan)
    out = []
    for i, row in enumerate(rows):
        keys = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
        values: dict[str, str] = {}
        for col, names in CHECKIN_COLUMNS.items():
            found = next((keys[n] for n in names if n in keys), None)
            if found is None or str(found).strip() in ("", "nan"):
                raise InputError(f"checkins[{i}].{col}", found, f"a value (headers {list(names)})")
            values[col] = str(found).strip()
        gid = values["group"]
        if gid not in groups:
            raise InputError(f"checkins[{i}].group", gid, f"a group of the plan: {sorted(groups)}")
        _, route = groups[gid]
        sites = {s.site_id for s in route.stops if s.kind in ("hotspot", "post")}
        if values["site"] not in sites:
            raise InputError(
                f"checkins[{i}].site", values["site"], f"a stop of group {gid}: {sorted(sites)}"
            )
        try:
            moment = dt.datetime.fromisoformat(values["time"])
        except ValueError:
            raise InputError(
                f"checkins[{i}].time", values["time"], "an ISO 8601 time YYYY-MM-DDTHH:MM"
            ) from None
        out.append(CheckIn(gid, values["site"], local_time(plan, moment)))
    return out


# ---------------------------------------------------------------------------------------------
# Matching


@dataclass(frozen=True)
class StopActual:
    """One planned hotspot or post stop against what the group did."""

    window: str
    grid_id: str
    group_id: str
    sequence: int
    site_id: str
    kind: str
    planned_arrival: dt.datetime
    planned_min: float
    """Planned minutes of duty at the stop (departure - arrival - wait)."""
    arrival: dt.datetime | None
    """First arrival of the visit matched to the stop (or the check-in)."""
    dosage_min: float
    """Minutes within the radius during the matched visit."""
    late_min: float
    status: str
    """``"made"``, ``"late"`` or ``"missed"``."""
    checked_in: bool


@dataclass(frozen=True)
class GroupActual:
    """One group's route against its track."""

    window: str
    grid_id: str
    group_id: str
    mode: str
    tracked: bool
    points: int
    planned_km: float
    actual_km: float
    planned_min: float
    """Planned minutes at hotspots and posts."""
    dosage_min: float
    """Minutes the track spent at the route's hotspots and posts."""
    stops: int
    made: int
    late: int
    missed: int
    off_route_share: float
    """Share of the track's length farther than ``deviation_m`` from the planned path."""
    route_covered_share: float
    """Share of the planned path's length the track came within ``deviation_m`` of."""
    on_street_share: float
    """Share of track points within ``on_street_m`` of a street edge."""
    street_edges: int
    """Distinct street edges (either direction) the track's points snap to."""
    first_seen: dt.datetime | None = None
    """Time of the track's first point (local; ``None`` when untracked)."""
    last_seen: dt.datetime | None = None
    """Time of the track's last point (local; ``None`` when untracked)."""


@dataclass(frozen=True)
class HotspotDosage:
    """One hotspot of one window: planned minutes and the minutes any group spent there."""

    day: dt.date
    window: str
    grid_id: str
    hotspot_id: str
    lon: float
    lat: float
    x: float
    y: float
    value: float
    planned_min: float
    actual_min: float

    @property
    def served(self) -> float:
        """Actual over planned minutes (1.0 where nothing was planned)."""
        return 1.0 if self.planned_min <= 0 else self.actual_min / self.planned_min


@dataclass(frozen=True)
class PlanActuals:
    """A day plan against the tracks and check-ins of its groups (see :func:`match_tracks`)."""

    district: str
    day: dt.date
    stops: tuple[StopActual, ...]
    groups: tuple[GroupActual, ...]
    hotspots: tuple[HotspotDosage, ...]
    params: TrackParams = field(default_factory=TrackParams)

    def to_frame(self) -> pd.DataFrame:
        """Return one row per planned hotspot or post stop: planned vs actual."""
        return self.stops_frame()

    def stops_frame(self) -> pd.DataFrame:
        """Return one row per planned hotspot or post stop: planned vs actual."""
        cols = [
            "window",
            "grid",
            "group",
            "sequence",
            "site_id",
            "kind",
            "planned_arrival",
            "arrival",
            "late_min",
            "planned_min",
            "dosage_min",
            "status",
            "checked_in",
        ]
        rows = [
            (
                s.window,
                s.grid_id,
                s.group_id,
                s.sequence,
                s.site_id,
                s.kind,
                s.planned_arrival,
                s.arrival,
                round(s.late_min, 1),
                round(s.planned_min, 1),
                round(s.dosage_min, 1),
                s.status,
                s.checked_in,
            )
            for s in self.stops
        ]
        return pd.DataFrame(rows, columns=cols)

    def groups_frame(self) -> pd.DataFrame:
        """Return one row per group route: distance, minutes, stops made/late/missed, deviation."""
        cols = [
            "window",
            "grid",
            "group",
            "mode",
            "tracked",
            "points",
            "planned_km",
            "actual_km",
            "planned_min",
            "dosage_min",
            "stops",
            "made",
            "late",
            "missed",
            "off_route_share",
            "route_covered_share",
            "on_street_share",
            "street_edges",
        ]
        rows = [
            (
                g.window,
                g.grid_id,
                g.group_id,
                g.mode,
                g.tracked,
                g.points,
                round(g.planned_km, 2),
                round(g.actual_km, 2),
                round(g.planned_min, 1),
                round(g.dosage_min, 1),
                g.stops,
                g.made,
                g.late,
                g.missed,
                round(g.off_route_share, 3),
                round(g.route_covered_share, 3),
                round(g.on_street_share, 3),
                g.street_edges,
            )
            for g in self.groups
        ]
        return pd.DataFrame(rows, columns=cols)

    def cells_frame(self) -> pd.DataFrame:
        """Return one row per window x cell: the groups' sums and the hotspots' dosage."""
        groups = self.groups_frame()
        cols = ["window", "grid", "groups", "tracked", "planned_km", "actual_km", "stops"]
        cols += ["made", "late", "missed", "planned_min", "dosage_min", "hotspots_under_served"]
        if groups.empty:
            return pd.DataFrame(columns=cols)
        agg = groups.groupby(["window", "grid"], sort=False).agg(
            groups=("group", "count"),
            tracked=("tracked", "sum"),
            planned_km=("planned_km", "sum"),
            actual_km=("actual_km", "sum"),
            stops=("stops", "sum"),
            made=("made", "sum"),
            late=("late", "sum"),
            missed=("missed", "sum"),
            planned_min=("planned_min", "sum"),
            dosage_min=("dosage_min", "sum"),
        )
        under: dict[tuple[str, str], int] = {}
        for d in self.deficits():
            under[(d.window, d.grid_id)] = under.get((d.window, d.grid_id), 0) + 1
        agg["hotspots_under_served"] = [under.get(k, 0) for k in agg.index]
        out = agg.reset_index()
        return out[cols].round({"planned_km": 2, "actual_km": 2, "planned_min": 1, "dosage_min": 1})

    def day_frame(self) -> pd.DataFrame:
        """Return one row for the day: groups, tracks, distance, stops, minutes, deficits."""
        g = self.groups_frame()
        row = {
            "day": self.day.isoformat(),
            "groups": len(g),
            "tracked": int(g["tracked"].sum()) if len(g) else 0,
            "planned_km": round(float(g["planned_km"].sum()), 2) if len(g) else 0.0,
            "actual_km": round(float(g["actual_km"].sum()), 2) if len(g) else 0.0,
            "stops": int(g["stops"].sum()) if len(g) else 0,
            "made": int(g["made"].sum()) if len(g) else 0,
            "late": int(g["late"].sum()) if len(g) else 0,
            "missed": int(g["missed"].sum()) if len(g) else 0,
            "planned_min": round(float(g["planned_min"].sum()), 1) if len(g) else 0.0,
            "dosage_min": round(float(g["dosage_min"].sum()), 1) if len(g) else 0.0,
            "hotspots_under_served": len(self.deficits()),
        }
        return pd.DataFrame([row])

    def hotspots_frame(self) -> pd.DataFrame:
        """Return one row per hotspot of each window: planned and actual minutes, share served."""
        cols = ["window", "grid", "hotspot_id", "value", "planned_min", "actual_min", "served"]
        rows = [
            (
                h.window,
                h.grid_id,
                h.hotspot_id,
                h.value,
                round(h.planned_min, 1),
                round(h.actual_min, 1),
                round(h.served, 3),
            )
            for h in self.hotspots
        ]
        return pd.DataFrame(rows, columns=cols)

    def deficits(self) -> tuple[HotspotDosage, ...]:
        """Return the planned hotspots given less than ``served_share`` of their minutes."""
        share = self.params.served_share
        return tuple(h for h in self.hotspots if h.planned_min > 0 and h.served < share)


def _projector(district: District) -> Any:
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:4326", district.crs, always_xy=True)


def _xy(to_xy: Any, lon: Sequence[float], lat: Sequence[float]) -> FloatArray:
    if not len(lon):
        return np.zeros((0, 2))
    xs, ys = to_xy.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return np.column_stack([xs, ys])


def _minutes(times: Sequence[dt.datetime]) -> FloatArray:
    if not times:
        return np.zeros(0)
    t0 = times[0]
    return np.asarray([(t - t0).total_seconds() / 60.0 for t in times])


@dataclass(frozen=True)
class _Visit:
    start: float
    end: float
    minutes: float


def _inside_minutes(inside: npt.NDArray[np.bool_], t: FloatArray, max_gap: float) -> FloatArray:
    """Minutes counted for each step ``i -> i+1`` (both inside: all, one: half)."""
    if t.shape[0] < 2:
        return np.zeros(0)
    step = np.diff(t)
    weight = (inside[:-1].astype(float) + inside[1:].astype(float)) / 2.0
    return np.where(step <= max_gap, step * weight, 0.0)


def _visits(
    inside: npt.NDArray[np.bool_], t: FloatArray, steps: FloatArray, params: TrackParams
) -> list[_Visit]:
    """Stays inside the radius, rejoined across short absences, with their minutes."""
    runs: list[list[float]] = []
    i = 0
    n = inside.shape[0]
    while i < n:
        if not inside[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and inside[j + 1] and t[j + 1] - t[j] <= params.max_gap_min:
            j += 1
        lo, hi = max(i - 1, 0), min(j + 1, n - 1)
        minutes = float(steps[lo:hi].sum()) if steps.shape[0] else 0.0
        if runs and t[i] - runs[-1][1] <= params.rejoin_min:
            runs[-1][1] = float(t[j])
            runs[-1][2] += minutes
        else:
            runs.append([float(t[i]), float(t[j]), minutes])
        i = j + 1
    return [_Visit(a, b, m) for a, b, m in runs]


def _path_xy(to_xy: Any, route: GroupRoute) -> FloatArray:
    coords = list(route.path.coords)
    return _xy(to_xy, [c[0] for c in coords], [c[1] for c in coords])


def _deviation(track_xy: FloatArray, path_xy: FloatArray, limit_m: float) -> tuple[float, float]:
    """Share of the track's length off the path, share of the path's length the track covered."""
    if track_xy.shape[0] < 2 or path_xy.shape[0] < 2:
        return (0.0, 0.0)
    path = LineString(path_xy)
    track = LineString(track_xy)
    seg = np.hypot(*np.diff(track_xy, axis=0).T)
    mids = shapely.points((track_xy[:-1] + track_xy[1:]) / 2.0)
    off = shapely.distance(mids, path) > limit_m
    off_share = float(seg[off].sum() / seg.sum()) if seg.sum() > 0 else 0.0
    n = max(2, int(path.length // 10.0) + 1)
    samples = shapely.line_interpolate_point(path, np.linspace(0.0, path.length, n))
    covered = float(np.mean(shapely.distance(samples, track) <= limit_m))
    return (off_share, covered)


def _stop_minutes(route: GroupRoute, k: int) -> float:
    s = route.stops[k]
    return max(0.0, (s.departure - s.arrival).total_seconds() / 60.0 - s.wait_min)


def match_tracks(
    plan: DayPlan,
    tracks: Iterable[Track],
    *,
    district: District,
    checkins: Iterable[CheckIn] = (),
    params: TrackParams | None = None,
) -> PlanActuals:
    """Match the groups' tracks and check-ins to the plan (see the module docstring).

    Parameters
    ----------
    plan
        The day plan.
    tracks
        Recorded tracks; several of one group are joined. Groups without one count as
        untracked (their stops are made only by check-ins).
    district
        The plan's district (projection, street graph).
    checkins
        Check-ins at hotspots and posts.
    params
        Radius, gaps, lateness, deviation (:class:`TrackParams` defaults).

    Returns
    -------
    PlanActuals

    Raises
    ------
    InputError
        A track or check-in of a group not in the plan.
    """
    params = params or TrackParams()
    groups = plan_groups(plan)
    joined: dict[str, list[tuple[dt.datetime, float, float]]] = {}
    for tr in tracks:
        if tr.group_id not in groups:
            raise InputError("group", tr.group_id, f"a group id of the plan: {sorted(groups)}")
        joined.setdefault(tr.group_id, []).extend(zip(tr.times, tr.lon, tr.lat, strict=True))
    ins: dict[tuple[str, str], list[dt.datetime]] = {}
    for c in checkins:
        if c.group_id not in groups:
            raise InputError("group", c.group_id, f"a group id of the plan: {sorted(groups)}")
        ins.setdefault((c.group_id, c.site_id), []).append(c.time)
    to_xy = _projector(district)
    network = district.network
    stop_rows: list[StopActual] = []
    group_rows: list[GroupActual] = []
    # per window: each group's (times in minutes from the window's start, projected xy)
    window_tracks: dict[str, list[tuple[FloatArray, FloatArray]]] = {}
    for wp in plan.windows:
        label = wp.window.label()
        for route in wp.routes:
            gid = route.group.id
            pts = sorted(joined.get(gid, []))
            times = [p[0] for p in pts]
            t = np.asarray([(x - wp.start).total_seconds() / 60.0 for x in times])
            xy = _xy(to_xy, [p[1] for p in pts], [p[2] for p in pts])
            window_tracks.setdefault(label, []).append((t, xy))
            rows, actual = _match_route(wp, route, t, xy, ins, params, to_xy)
            stop_rows.extend(rows)
            on_street, edges = 0.0, 0
            if xy.shape[0]:
                snapped = network.snap(xy)
                near = snapped.distance_m <= params.on_street_m
                on_street = float(near.mean())
                pairs = {
                    (min(int(u), int(v)), max(int(u), int(v)))
                    for u, v, ok in zip(snapped.u, snapped.v, near, strict=True)
                    if ok
                }
                edges = len(pairs)
            group_rows.append(
                GroupActual(
                    window=label,
                    grid_id=wp.grid_id,
                    group_id=gid,
                    mode=route.group.mode,
                    tracked=bool(xy.shape[0]),
                    points=int(xy.shape[0]),
                    planned_km=route.distance_m / 1000.0,
                    on_street_share=on_street,
                    street_edges=edges,
                    first_seen=times[0] if times else None,
                    last_seen=times[-1] if times else None,
                    **actual,
                )
            )
    hotspot_rows = _hotspot_dosage(plan, window_tracks, params, to_xy)
    return PlanActuals(
        plan.district,
        plan.date,
        tuple(stop_rows),
        tuple(group_rows),
        tuple(hotspot_rows),
        params,
    )


def _match_route(
    wp: WindowPlan,
    route: GroupRoute,
    t: FloatArray,
    xy: FloatArray,
    ins: Mapping[tuple[str, str], list[dt.datetime]],
    params: TrackParams,
    to_xy: Any,
) -> tuple[list[StopActual], dict[str, Any]]:
    """The route's stops matched to the track's visits, and the route's actual figures."""
    gid = route.group.id
    label = wp.window.label()
    duty = [k for k, s in enumerate(route.stops) if s.kind in ("hotspot", "post")]
    site_xy = _xy(to_xy, [route.stops[k].lon for k in duty], [route.stops[k].lat for k in duty])
    visits_of: dict[str, list[_Visit]] = {}
    for k, p in zip(duty, site_xy, strict=True):
        sid = route.stops[k].site_id
        if sid in visits_of:
            continue
        if xy.shape[0]:
            inside = np.hypot(xy[:, 0] - p[0], xy[:, 1] - p[1]) <= params.radius_m
            steps = _inside_minutes(inside, t, params.max_gap_min)
            found = _visits(inside, t, steps, params)
        else:
            found = []
        visits_of[sid] = [v for v in found if v.minutes >= params.min_dwell_min]
    # each stop takes the visit covering its planned start (a stay over several passes) or
    # the nearest unused visit; a visit's minutes are shared by its stops as planned
    taken: dict[tuple[str, int], list[int]] = {}
    match: dict[int, int | None] = {}
    for k in duty:
        s = route.stops[k]
        planned = (s.arrival - wp.start).total_seconds() / 60.0 + s.wait_min
        found = visits_of[s.site_id]
        covering = [i for i in range(len(found)) if found[i].start <= planned <= found[i].end]
        free = [i for i in range(len(found)) if (s.site_id, i) not in taken]
        pick = None
        if covering:
            pick = covering[0]
        elif free:
            pick = min(free, key=lambda i: (abs(found[i].start - planned), i))
        match[k] = pick
        if pick is not None:
            taken.setdefault((s.site_id, pick), []).append(k)
    rows = []
    for k in duty:
        s = route.stops[k]
        planned_at = s.arrival + dt.timedelta(minutes=s.wait_min)
        pick = match[k]
        visit = None if pick is None else visits_of[s.site_id][pick]
        dosage = 0.0
        arrival: dt.datetime | None = None
        if visit is not None and pick is not None:
            sharing = taken[(s.site_id, pick)]
            weights = [max(_stop_minutes(route, j), 1e-9) for j in sharing]
            dosage = visit.minutes * max(_stop_minutes(route, k), 1e-9) / sum(weights)
            start = wp.start + dt.timedelta(minutes=visit.start)
            arrival = start if sharing[0] == k else max(start, planned_at)
        checks = ins.get((gid, s.site_id), [])
        check = min(checks, key=lambda c: abs((c - planned_at).total_seconds()), default=None)
        if check is not None and (arrival is None or check < arrival):
            arrival = check
        late = 0.0 if arrival is None else (arrival - planned_at).total_seconds() / 60.0
        if arrival is None:
            status = MISSED
        elif late > params.late_min:
            status = LATE
        else:
            status = MADE
        rows.append(
            StopActual(
                window=label,
                grid_id=wp.grid_id,
                group_id=gid,
                sequence=s.sequence,
                site_id=s.site_id,
                kind=s.kind,
                planned_arrival=planned_at,
                planned_min=_stop_minutes(route, k),
                arrival=arrival,
                dosage_min=dosage,
                late_min=max(0.0, late),
                status=status,
                checked_in=check is not None,
            )
        )
    km = float(np.hypot(*np.diff(xy, axis=0).T).sum()) / 1000.0 if xy.shape[0] > 1 else 0.0
    off, covered = _deviation(xy, _path_xy(to_xy, route), params.deviation_m)
    actual = {
        "actual_km": km,
        "planned_min": float(sum(r.planned_min for r in rows)),
        "dosage_min": float(sum(r.dosage_min for r in rows)),
        "stops": len(rows),
        "made": sum(r.status == MADE for r in rows),
        "late": sum(r.status == LATE for r in rows),
        "missed": sum(r.status == MISSED for r in rows),
        "off_route_share": off,
        "route_covered_share": covered,
    }
    return rows, actual


def _hotspot_dosage(
    plan: DayPlan,
    window_tracks: Mapping[str, list[tuple[FloatArray, FloatArray]]],
    params: TrackParams,
    to_xy: Any,
) -> list[HotspotDosage]:
    """Each window's hotspots: planned minutes and minutes any group of the window spent there."""
    out = []
    for wp in plan.windows:
        label = wp.window.label()
        planned: dict[str, float] = {}
        for r in wp.routes:
            for k, s in enumerate(r.stops):
                if s.kind == "hotspot":
                    planned[s.site_id] = planned.get(s.site_id, 0.0) + _stop_minutes(r, k)
        span = (wp.end - wp.start).total_seconds() / 60.0
        for h in wp.hotspots:
            minutes = 0.0
            for t, xy in window_tracks.get(label, []):
                if not xy.shape[0]:
                    continue
                inside = np.hypot(xy[:, 0] - h.x, xy[:, 1] - h.y) <= params.radius_m
                inside &= (t >= 0) & (t <= span)
                minutes += float(_inside_minutes(inside, t, params.max_gap_min).sum())
            out.append(
                HotspotDosage(
                    plan.date,
                    label,
                    wp.grid_id,
                    h.id,
                    h.lon,
                    h.lat,
                    h.x,
                    h.y,
                    h.value,
                    planned.get(h.id, 0.0),
                    minutes,
                )
            )
    return out


def dosage_to_dict(d: HotspotDosage) -> dict[str, Any]:
    """Return a hotspot's dosage as JSON-able data (read back by :func:`dosage_from_dict`)."""
    out = dataclasses.asdict(d)
    out["day"] = d.day.isoformat()
    return out


def dosage_from_dict(data: Any, *, field: str = "deficit") -> HotspotDosage:
    """Rebuild a :class:`HotspotDosage` from :func:`dosage_to_dict`'s data.

    Raises
    ------
    InputError
        A missing or malformed field, named ``<field>.<name>``.
    """
    if not isinstance(data, Mapping):
        raise InputError(field, data, "an object written by dosage_to_dict")
    values: dict[str, Any] = {}
    for f in dataclasses.fields(HotspotDosage):
        v: Any = data.get(f.name)
        name = f"{field}.{f.name}"
        if f.name == "day":
            try:
                values[f.name] = dt.date.fromisoformat(str(v))
            except ValueError:
                raise InputError(name, v, "an ISO date YYYY-MM-DD") from None
        elif f.name in ("window", "grid_id", "hotspot_id"):
            if not isinstance(v, str) or not v:
                raise InputError(name, v, "a non-empty string")
            values[f.name] = v
        else:
            ok = isinstance(v, int | float) and not isinstance(v, bool)
            if not (ok and math.isfinite(v)):
                raise InputError(name, v, "a finite number")
            values[f.name] = float(v)
    return HotspotDosage(**values)


# ---------------------------------------------------------------------------------------------
# The dosage deficit: under-served hotspots weigh more in the next days' plans


@dataclass(frozen=True)
class DosageDeficit:
    """Hotspots under-served on earlier days weigh more in a plan (a ``HotspotAdjustment``).

    A hotspot of the planned window within ``radius_m`` of a hotspot under-served ``a`` days
    before (same window label) has its value multiplied by
    ``1 + max_raise * min(1, sum(missing * 0.5 ** ((a - 1) / half_life_days)))``, where
    ``missing`` is the share of the planned minutes not given there (``1 - served``). A hotspot
    wholly missed yesterday weighs ``1 + max_raise`` times its forecast today, half as much
    more ``half_life_days`` later.

    Attributes
    ----------
    deficits
        Under-served hotspots (:meth:`PlanActuals.deficits` of earlier days).
    half_life_days
        Days over which a deficit's weight halves.
    max_raise
        The most a hotspot's value rises (as a share of it).
    radius_m
        A deficit applies to the planned hotspots this close to it (hotspots are cut again
        each day; their places, not their ids, carry over).
    """

    deficits: tuple[HotspotDosage, ...]
    half_life_days: float = 1.0
    max_raise: float = 1.0
    radius_m: float = 150.0
    effects: dict[tuple[dt.date, str], list[tuple[str, float]]] = field(
        default_factory=dict, repr=False, compare=False
    )
    """What :meth:`apply` raised, per day and window (read by :meth:`describe`)."""

    def __post_init__(self) -> None:
        for name, low, high in (
            ("half_life_days", 0.1, 60.0),
            ("max_raise", 0.0, 10.0),
            ("radius_m", 1.0, 5000.0),
        ):
            checked_number(name, getattr(self, name), low, high)

    def weight(self, d: HotspotDosage, day: dt.date) -> float:
        """Return the decayed weight of deficit ``d`` on ``day`` (0 on its own day or before)."""
        age = (day - d.day).days
        if age < 1:
            return 0.0
        missing = min(1.0, max(0.0, 1.0 - d.served))
        return missing * 0.5 ** ((age - 1) / self.half_life_days)

    def factor(self, hotspot: Hotspot, *, day: dt.date, window: TimeWindow) -> float:
        """Return the multiplier of ``hotspot``'s value in ``window`` on ``day``."""
        label = window.label()
        total = sum(
            self.weight(d, day)
            for d in self.deficits
            if d.window == label and math.hypot(d.x - hotspot.x, d.y - hotspot.y) <= self.radius_m
        )
        return 1.0 + self.max_raise * min(1.0, total)

    def apply(
        self,
        hotspots: Sequence[Hotspot],
        *,
        district: District,
        day: dt.date,
        window: TimeWindow,
    ) -> Sequence[Hotspot]:
        """Return the window's hotspots with the under-served ones' values raised."""
        from dataclasses import replace

        out = []
        raised: list[tuple[str, float]] = []
        for h in hotspots:
            f = self.factor(h, day=day, window=window)
            if f > 1.0:
                raised.append((h.id, f))
                h = replace(h, value=h.value * f)
            out.append(h)
        self.effects[(day, window.label())] = raised
        return out

    def describe(self, *, day: dt.date, window: TimeWindow) -> str:
        """Say which hotspots weigh more and by how much."""
        raised = self.effects.get((day, window.label()), [])
        days = sorted({d.day for d in self.deficits if d.window == window.label() and d.day < day})
        since = ", ".join(x.isoformat() for x in days) or "no earlier day"
        if not raised:
            return f"dosage deficit: no hotspot under-served here ({since})"
        parts = ", ".join(f"{hid} x{f:.2f}" for hid, f in raised)
        return (
            f"dosage deficit: {len(raised)} hotspots under-served on {since} weigh more "
            f"(half-life {self.half_life_days:g} d): {parts}"
        )
