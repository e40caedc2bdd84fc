"""People and places a plan draws on: stations, officers, volunteer teams, fixed posts.

All coordinates here are WGS-84 (converted on the way in, see ``optimizer.coords``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
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
    days = tuple(int(d) for d in data.get("weekdays", ALL_WEEKDAYS))
    for d in days:
        if not 0 <= d <= 6:
            raise InputError(
                f"{field_name}.weekdays", d, "weekday numbers 0 (Monday) to 6 (Sunday)"
            )
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
    if key not in data:
        raise InputError(f"{where}.{key}", None, "a value (field is required)")
    return data[key]


def _coord(data: Mapping[str, Any], key: str, where: str, lo: float, hi: float) -> float:
    value = _require(data, key, where)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{where}.{key}", value, f"a number in [{lo}, {hi}]") from None
    if not lo <= number <= hi:
        raise InputError(f"{where}.{key}", value, f"a number in [{lo}, {hi}]")
    return number


def resources_from_json(data: Mapping[str, Any]) -> Resources:
    """Build and validate resources from JSON data (coordinates in WGS-84).

    Raises
    ------
    InputError
        Naming the first invalid field, e.g. ``officers[3].mode``.
    """
    stations = tuple(
        Station(
            str(_require(s, "id", f"stations[{i}]")),
            str(s.get("name", s["id"])),
            _coord(s, "lon", f"stations[{i}]", -180, 180),
            _coord(s, "lat", f"stations[{i}]", -90, 90),
        )
        for i, s in enumerate(data.get("stations", []))
    )
    station_ids = {s.id for s in stations}
    officers = []
    for i, o in enumerate(data.get("officers", [])):
        where = f"officers[{i}]"
        station_id = str(_require(o, "station_id", where))
        if station_id not in station_ids:
            raise InputError(f"{where}.station_id", station_id, f"one of {sorted(station_ids)}")
        mode = str(o.get("mode", "foot"))
        if mode not in TRAVEL_MODES:
            raise InputError(f"{where}.mode", mode, f"one of {list(TRAVEL_MODES)}")
        shifts = tuple(
            _shift_from_json(s, f"{where}.shifts[{j}]") for j, s in enumerate(o.get("shifts", []))
        )
        officers.append(
            Officer(
                str(_require(o, "id", where)),
                str(o.get("name", o["id"])),
                station_id,
                shifts,
                mode,
                None if o.get("phone") is None else str(o["phone"]),
            )
        )
    teams = []
    for i, t in enumerate(data.get("teams", [])):
        where = f"teams[{i}]"
        team_id = str(_require(t, "id", where))
        members = tuple(
            Volunteer(
                str(_require(m, "id", f"{where}.members[{j}]")),
                str(m.get("name", m["id"])),
                team_id,
                str(m.get("role", t.get("kind", "volunteer"))),
                tuple(
                    _shift_from_json(s, f"{where}.members[{j}].availability[{k}]")
                    for k, s in enumerate(m.get("availability", []))
                ),
                float(m.get("max_hours_week", 12.0)),
                m.get("phone"),
                m.get("id_number"),
                None if m.get("home_grid") is None else str(m["home_grid"]),
            )
            for j, m in enumerate(t.get("members", []))
        )
        base = str(t.get("base_station_id", ""))
        if base not in station_ids:
            raise InputError(f"{where}.base_station_id", base, f"one of {sorted(station_ids)}")
        teams.append(
            VolunteerTeam(
                team_id,
                str(t.get("name", team_id)),
                str(t.get("kind", "volunteer")),
                str(_require(t, "home_grid", where)),
                base,
                members,
            )
        )
    posts = []
    for i, p in enumerate(data.get("posts", [])):
        where = f"posts[{i}]"
        windows = tuple(
            TimeWindow.parse(w, field=f"{where}.windows[{j}]")
            for j, w in enumerate(_require(p, "windows", where))
        )
        posts.append(
            FixedPost(
                str(_require(p, "id", where)),
                str(p.get("name", p["id"])),
                _coord(p, "lon", where, -180, 180),
                _coord(p, "lat", where, -90, 90),
                str(_require(p, "grid_id", where)),
                windows,
                tuple(int(d) for d in p.get("weekdays", (0, 1, 2, 3, 4))),
                int(p.get("dwell_min", 30)),
                str(p.get("purpose", "fixed post")),
            )
        )
    muster_points = tuple(
        MusterPoint(
            str(_require(m, "id", f"muster_points[{i}]")),
            str(m.get("name", m["id"])),
            _coord(m, "lon", f"muster_points[{i}]", -180, 180),
            _coord(m, "lat", f"muster_points[{i}]", -90, 90),
            str(m.get("kind", "muster point")),
            None if m.get("grid_id") is None else str(m["grid_id"]),
        )
        for i, m in enumerate(data.get("muster_points", []))
    )
    return Resources(stations, tuple(officers), tuple(teams), tuple(posts), muster_points)


def load_resources(path: str | Path) -> Resources:
    """Load ``resources.json`` written by :func:`save_resources`."""
    return resources_from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def save_resources(res: Resources, path: str | Path) -> None:
    """Write resources as JSON (UTF-8, readable)."""
    Path(path).write_text(
        json.dumps(resources_to_json(res), ensure_ascii=False, indent=1), encoding="utf-8"
    )
