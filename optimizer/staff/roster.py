"""People and places a plan draws on: stations, officers, volunteer teams, fixed posts.

All coordinates here are WGS-84 (converted on the way in, see ``optimizer.coords``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optimizer.errors import InputError
from optimizer.timewindow import TimeWindow

ALL_WEEKDAYS: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)
"""Monday=0 ... Sunday=6, as ``datetime.date.weekday``."""

TRAVEL_MODES: tuple[str, ...] = ("foot", "bicycle", "car")


@dataclass(frozen=True)
class Shift:
    """A recurring availability: a daily window on some weekdays."""

    window: TimeWindow
    weekdays: tuple[int, ...] = ALL_WEEKDAYS

    def covers(self, day: dt.date, window: TimeWindow) -> bool:
        """Whether this shift covers the whole ``window`` on ``day``."""
        if day.weekday() not in self.weekdays:
            return False
        s0, s1 = self.window.on(day)
        w0, w1 = window.on(day)
        return s0 <= w0 and w1 <= s1


@dataclass(frozen=True)
class Station:
    """A police station or team base where routes start and end."""

    id: str
    name: str
    lon: float
    lat: float


@dataclass(frozen=True)
class MusterPoint:
    """A place where patrol groups meet, start and end: a police post, a community office, a
    team's base. Groups start at a muster point in or near their cell (or, where the roster has
    none there, at a central street node of the cell)."""

    id: str
    name: str
    lon: float
    lat: float
    kind: str = "muster point"
    grid_id: str | None = None
    """The cell it serves (``None``: whichever cell it lies in or near)."""


@dataclass(frozen=True)
class Officer:
    """A police officer; every patrol group is led by at least one. ``phone`` is personal data."""

    id: str
    name: str
    station_id: str
    shifts: tuple[Shift, ...]
    mode: str = "foot"
    phone: str | None = None

    def available(self, day: dt.date, window: TimeWindow) -> bool:
        """Whether one of the officer's shifts covers ``window`` on ``day``."""
        return any(s.covers(day, window) for s in self.shifts)


@dataclass(frozen=True)
class Volunteer:
    """A volunteer patroller (义警). ``phone`` and ``id_number`` are personal data."""

    id: str
    name: str
    team_id: str
    role: str
    availability: tuple[Shift, ...]
    max_hours_week: float = 12.0
    phone: str | None = None
    id_number: str | None = None
    home_grid: str | None = None
    """The cell the volunteer lives or works in (``None``: the team's home grid)."""

    def available(self, day: dt.date, window: TimeWindow) -> bool:
        """Whether the volunteer's availability covers ``window`` on ``day``."""
        return any(s.covers(day, window) for s in self.availability)


@dataclass(frozen=True)
class VolunteerTeam:
    """A volunteer team (security guards, grid workers, ...) attached to a home grid."""

    id: str
    name: str
    kind: str
    home_grid: str
    base_station_id: str
    members: tuple[Volunteer, ...]


@dataclass(frozen=True)
class FixedPost:
    """A duty post that must be staffed in its windows (school gate, hospital hall)."""

    id: str
    name: str
    lon: float
    lat: float
    grid_id: str
    windows: tuple[TimeWindow, ...]
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    dwell_min: int = 30
    purpose: str = "fixed post"

    def active_windows(self, day: dt.date, window: TimeWindow) -> list[TimeWindow]:
        """Return the post's duty windows on ``day`` that overlap the planning ``window``."""
        if day.weekday() not in self.weekdays:
            return []
        w0, w1 = window.on(day)
        out = []
        for pw in self.windows:
            p0, p1 = pw.on(day)
            if p0 < w1 and w0 < p1:
                out.append(pw)
        return out


@dataclass(frozen=True)
class Resources:
    """Everything a district has to patrol with."""

    stations: tuple[Station, ...] = ()
    officers: tuple[Officer, ...] = ()
    teams: tuple[VolunteerTeam, ...] = ()
    posts: tuple[FixedPost, ...] = ()
    muster_points: tuple[MusterPoint, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def volunteers(self) -> tuple[Volunteer, ...]:
        """All volunteers of all teams."""
        return tuple(v for t in self.teams for v in t.members)

    def home_grid(self, volunteer: Volunteer) -> str:
        """Return the volunteer's home cell: their own, else their team's."""
        if volunteer.home_grid:
            return volunteer.home_grid
        for t in self.teams:
            if t.id == volunteer.team_id:
                return t.home_grid
        raise InputError("volunteer.team_id", volunteer.team_id, "the id of one of the teams")

    def station(self, station_id: str) -> Station:
        """Return the station with ``station_id``."""
        for s in self.stations:
            if s.id == station_id:
                return s
        raise InputError("station_id", station_id, f"one of {[s.id for s in self.stations]}")


def _shift_from_json(data: Mapping[str, Any], field_name: str) -> Shift:
    window = TimeWindow.parse(str(data.get("window", "")), field=f"{field_name}.window")
    days = _weekdays(data.get("weekdays", ALL_WEEKDAYS), f"{field_name}.weekdays")
    return Shift(window, days)


def _shift_to_json(shift: Shift) -> dict[str, Any]:
    return {"window": shift.window.label(), "weekdays": list(shift.weekdays)}


def resources_to_json(res: Resources) -> dict[str, Any]:
    """Serialise resources to plain JSON-able data."""
    return {
        "stations": [vars(s).copy() for s in res.stations],
        "officers": [
            {
                "id": o.id,
                "name": o.name,
                "station_id": o.station_id,
                "mode": o.mode,
                "phone": o.phone,
                "shifts": [_shift_to_json(s) for s in o.shifts],
            }
            for o in res.officers
        ],
        "teams": [
            {
                "id": t.id,
                "name": t.name,
                "kind": t.kind,
                "home_grid": t.home_grid,
                "base_station_id": t.base_station_id,
                "members": [
                    {
                        "id": v.id,
                        "name": v.name,
                        "role": v.role,
                        "max_hours_week": v.max_hours_week,
                        "phone": v.phone,
                        "id_number": v.id_number,
                        "home_grid": v.home_grid,
                        "availability": [_shift_to_json(s) for s in v.availability],
                    }
                    for v in t.members
                ],
            }
            for t in res.teams
        ],
        "posts": [
            {
                "id": p.id,
                "name": p.name,
                "lon": p.lon,
                "lat": p.lat,
                "grid_id": p.grid_id,
                "windows": [w.label() for w in p.windows],
                "weekdays": list(p.weekdays),
                "dwell_min": p.dwell_min,
                "purpose": p.purpose,
            }
            for p in res.posts
        ],
        "muster_points": [vars(m).copy() for m in res.muster_points],
    }


def _require(data: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in data or data[key] is None:
        raise InputError(f"{where}.{key}", None, "a value (field is required)")
    return data[key]


def _records(data: Mapping[str, Any], key: str, where: str = "") -> list[Mapping[str, Any]]:
    """The list ``data[key]`` (missing: empty), each item checked to be an object."""
    items = data.get(key) or []
    name = f"{where}.{key}" if where else key
    if not isinstance(items, list | tuple):
        raise InputError(name, items, "a list of objects")
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise InputError(f"{name}[{i}]", item, "an object with named fields")
    return list(items)


def _number(value: Any, field_name: str, lo: float, hi: float) -> float:
    accepted = f"a finite number in [{lo}, {hi}]"
    if isinstance(value, bool):  # float(True) is 1.0
        raise InputError(field_name, value, accepted)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(field_name, value, accepted) from None
    if not math.isfinite(number) or not lo <= number <= hi:
        raise InputError(field_name, value, accepted)
    return number


def _coord(data: Mapping[str, Any], key: str, where: str, lo: float, hi: float) -> float:
    return _number(_require(data, key, where), f"{where}.{key}", lo, hi)


_WEEKDAY_TEXT = frozenset(str(d) for d in ALL_WEEKDAYS)


def _weekdays(values: Any, field_name: str) -> tuple[int, ...]:
    accepted = "weekday numbers 0 (Monday) to 6 (Sunday)"
    if not isinstance(values, list | tuple):
        raise InputError(field_name, values, f"a list of {accepted}")
    days = []
    for d in values:
        if isinstance(d, bool) or str(d).strip() not in _WEEKDAY_TEXT:
            raise InputError(field_name, d, accepted)
        days.append(int(d))
    return tuple(days)


def _check_unique(kind: str, items: Iterable[tuple[str, str]]) -> None:
    """Reject an id used twice among ``kind``; ``items`` are (where, id) pairs."""
    first: dict[str, str] = {}
    for where, item_id in items:
        if item_id in first:
            raise InputError(
                f"{where}.id",
                item_id,
                f"an id not used by another of the {kind} (already used by {first[item_id]})",
            )
        first[item_id] = where


def check_resource_grids(res: Resources, grid_ids: Collection[str], where: str = "") -> None:
    """Reject a team's or volunteer's home cell, a post's or a muster point's cell that is not
    a cell of the district.

    Parameters
    ----------
    res
        The roster.
    grid_ids
        The ids of the district's grid cells.
    where
        Prefix of the field names in the error, e.g. ``"resources."``.

    Raises
    ------
    InputError
        Naming the first offending field, e.g. ``resources.teams[0].home_grid``.
    """
    ids = {str(i) for i in grid_ids}
    accepted = f"a grid id of the district, e.g. {sorted(ids)[:5]}"
    for i, team in enumerate(res.teams):
        if team.home_grid not in ids:
            raise InputError(f"{where}teams[{i}].home_grid", team.home_grid, accepted)
        for j, member in enumerate(team.members):
            if member.home_grid is not None and member.home_grid not in ids:
                field_name = f"{where}teams[{i}].members[{j}].home_grid"
                raise InputError(field_name, member.home_grid, accepted)
    for i, post in enumerate(res.posts):
        if post.grid_id not in ids:
            raise InputError(f"{where}posts[{i}].grid_id", post.grid_id, accepted)
    for i, muster in enumerate(res.muster_points):
        if muster.grid_id is not None and muster.grid_id not in ids:
            raise InputError(f"{where}muster_points[{i}].grid_id", muster.grid_id, accepted)


def _optional_str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return None if value is None else str(value)


def _shifts(data: Mapping[str, Any], key: str, where: str) -> tuple[Shift, ...]:
    return tuple(
        _shift_from_json(s, f"{where}.{key}[{j}]") for j, s in enumerate(_records(data, key, where))
    )


def _station_from_json(s: Mapping[str, Any], where: str) -> Station:
    sid = str(_require(s, "id", where))
    return Station(
        sid,
        str(s.get("name") or sid),
        _coord(s, "lon", where, -180, 180),
        _coord(s, "lat", where, -90, 90),
    )


def _officer_from_json(o: Mapping[str, Any], where: str, station_ids: set[str]) -> Officer:
    oid = str(_require(o, "id", where))
    station_id = str(_require(o, "station_id", where))
    if station_id not in station_ids:
        raise InputError(f"{where}.station_id", station_id, f"one of {sorted(station_ids)}")
    mode = str(o.get("mode", "foot"))
    if mode not in TRAVEL_MODES:
        raise InputError(f"{where}.mode", mode, f"one of {list(TRAVEL_MODES)}")
    return Officer(
        oid,
        str(o.get("name") or oid),
        station_id,
        _shifts(o, "shifts", where),
        mode,
        _optional_str(o, "phone"),
    )


def _volunteer_from_json(m: Mapping[str, Any], where: str, team_id: str, kind: str) -> Volunteer:
    vid = str(_require(m, "id", where))
    return Volunteer(
        vid,
        str(m.get("name") or vid),
        team_id,
        str(m.get("role") or kind),
        _shifts(m, "availability", where),
        _number(m.get("max_hours_week", 12.0), f"{where}.max_hours_week", 0, 168),
        _optional_str(m, "phone"),
        _optional_str(m, "id_number"),
        _optional_str(m, "home_grid"),
    )


def _team_from_json(t: Mapping[str, Any], where: str, station_ids: set[str]) -> VolunteerTeam:
    team_id = str(_require(t, "id", where))
    kind = str(t.get("kind") or "volunteer")
    members = tuple(
        _volunteer_from_json(m, f"{where}.members[{j}]", team_id, kind)
        for j, m in enumerate(_records(t, "members", where))
    )
    base = str(t.get("base_station_id", ""))
    if base not in station_ids:
        raise InputError(f"{where}.base_station_id", base, f"one of {sorted(station_ids)}")
    return VolunteerTeam(
        team_id,
        str(t.get("name") or team_id),
        kind,
        str(_require(t, "home_grid", where)),
        base,
        members,
    )


def _post_from_json(p: Mapping[str, Any], where: str) -> FixedPost:
    pid = str(_require(p, "id", where))
    raw_windows = _require(p, "windows", where)
    if not isinstance(raw_windows, list | tuple) or not raw_windows:
        raise InputError(f"{where}.windows", raw_windows, "a non-empty list of 'HH:MM-HH:MM'")
    windows = tuple(
        TimeWindow.parse(w, field=f"{where}.windows[{j}]") for j, w in enumerate(raw_windows)
    )
    return FixedPost(
        pid,
        str(p.get("name") or pid),
        _coord(p, "lon", where, -180, 180),
        _coord(p, "lat", where, -90, 90),
        str(_require(p, "grid_id", where)),
        windows,
        _weekdays(p.get("weekdays", (0, 1, 2, 3, 4)), f"{where}.weekdays"),
        int(_number(p.get("dwell_min", 30), f"{where}.dwell_min", 1, 24 * 60)),
        str(p.get("purpose") or "fixed post"),
    )


def _muster_from_json(m: Mapping[str, Any], where: str) -> MusterPoint:
    mid = str(_require(m, "id", where))
    return MusterPoint(
        mid,
        str(m.get("name") or mid),
        _coord(m, "lon", where, -180, 180),
        _coord(m, "lat", where, -90, 90),
        str(m.get("kind") or "muster point"),
        _optional_str(m, "grid_id"),
    )


def resources_from_json(data: Mapping[str, Any]) -> Resources:
    """Build and validate resources from JSON data (coordinates in WGS-84).

    Ids must be unique among the stations, the officers, the teams, the volunteers (of all
    teams together), the posts and the muster points; coordinates finite and in range. Whether
    grid ids name cells of a district is checked where the district is known (see
    :func:`check_resource_grids`).

    Raises
    ------
    InputError
        Naming the first invalid field, e.g. ``officers[3].mode`` or ``posts[7].id``.
    """
    if not isinstance(data, Mapping):
        raise InputError("resources", type(data).__name__, "a JSON object")
    stations = tuple(
        _station_from_json(s, f"stations[{i}]") for i, s in enumerate(_records(data, "stations"))
    )
    _check_unique("stations", ((f"stations[{i}]", s.id) for i, s in enumerate(stations)))
    station_ids = {s.id for s in stations}
    officers = tuple(
        _officer_from_json(o, f"officers[{i}]", station_ids)
        for i, o in enumerate(_records(data, "officers"))
    )
    _check_unique("officers", ((f"officers[{i}]", o.id) for i, o in enumerate(officers)))
    teams = tuple(
        _team_from_json(t, f"teams[{i}]", station_ids)
        for i, t in enumerate(_records(data, "teams"))
    )
    _check_unique("teams", ((f"teams[{i}]", t.id) for i, t in enumerate(teams)))
    _check_unique(
        "volunteers",
        (
            (f"teams[{i}].members[{j}]", v.id)
            for i, t in enumerate(teams)
            for j, v in enumerate(t.members)
        ),
    )
    posts = tuple(_post_from_json(p, f"posts[{i}]") for i, p in enumerate(_records(data, "posts")))
    _check_unique("posts", ((f"posts[{i}]", p.id) for i, p in enumerate(posts)))
    muster_points = tuple(
        _muster_from_json(m, f"muster_points[{i}]")
        for i, m in enumerate(_records(data, "muster_points"))
    )
    _check_unique(
        "muster points", ((f"muster_points[{i}]", m.id) for i, m in enumerate(muster_points))
    )
    return Resources(stations, officers, teams, posts, muster_points)


def load_resources(path: str | Path) -> Resources:
    """Load ``resources.json`` written by :func:`save_resources`."""
    return resources_from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def save_resources(res: Resources, path: str | Path) -> None:
    """Write resources as JSON (UTF-8, readable)."""
    Path(path).write_text(
        json.dumps(resources_to_json(res), ensure_ascii=False, indent=1), encoding="utf-8"
    )
