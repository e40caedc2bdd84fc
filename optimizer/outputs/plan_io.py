"""Plain JSON-able form of a :class:`~optimizer.plan.day.DayPlan` (no pickle).

:func:`plan_to_dict` turns a plan into dicts, lists, strings and numbers (dates and datetimes
as ISO 8601 strings, keeping their UTC offset when they have one; time windows as their
``"HH:MM-HH:MM"`` labels; street paths as ``[[lon, lat], ...]``); :func:`plan_from_dict`
rebuilds the plan, equal field by field. The data carries :data:`FORMAT_VERSION` under
``"format_version"``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from shapely.geometry import LineString

from optimizer.errors import InputError
from optimizer.plan.types import DayPlan, GroupRoute, LeftOut, Stop, WindowPlan, WindowStaffing
from optimizer.risk.hotspots import Hotspot
from optimizer.staff.groups import PatrolGroup, Unassigned, UnstaffedPost
from optimizer.timewindow import TimeWindow

FORMAT_VERSION = 2
"""Version of the layout written by :func:`plan_to_dict` (2: groups' muster points and the
plan's staffing; version 1 plans read with neither)."""

SUPPORTED_VERSIONS: tuple[int, ...] = (1, 2)
"""Versions :func:`plan_from_dict` reads."""

T = TypeVar("T")


def _hotspot(h: Hotspot) -> dict[str, Any]:
    return {
        "id": h.id,
        "grid_id": h.grid_id,
        "lon": h.lon,
        "lat": h.lat,
        "x": h.x,
        "y": h.y,
        "node": h.node,
        "value": h.value,
        "dwell_min": h.dwell_min,
        "visits": h.visits,
        "spacing_min": h.spacing_min,
        "label": h.label,
        "edges": [list(e) for e in h.edges],
        "length_m": h.length_m,
    }


def _group(g: PatrolGroup) -> dict[str, Any]:
    return {
        "id": g.id,
        "grid_id": g.grid_id,
        "window": g.window.label(),
        "officer_ids": list(g.officer_ids),
        "volunteer_ids": list(g.volunteer_ids),
        "station_id": g.station_id,
        "mode": g.mode,
        "muster_id": g.muster_id,
    }


def _stop(s: Stop) -> dict[str, Any]:
    return {
        "sequence": s.sequence,
        "site_id": s.site_id,
        "kind": s.kind,
        "name": s.name,
        "lon": s.lon,
        "lat": s.lat,
        "arrival": s.arrival.isoformat(),
        "departure": s.departure.isoformat(),
        "purpose": s.purpose,
        "value": s.value,
        "wait_min": s.wait_min,
    }


def _route(r: GroupRoute) -> dict[str, Any]:
    return {
        "group": _group(r.group),
        "stops": [_stop(s) for s in r.stops],
        "path": [list(c) for c in r.path.coords],
        "distance_m": r.distance_m,
        "patrol_min": r.patrol_min,
        "dwell_min": r.dwell_min,
        "value": r.value,
    }


def _window(wp: WindowPlan) -> dict[str, Any]:
    return {
        "grid_id": wp.grid_id,
        "window": wp.window.label(),
        "start": wp.start.isoformat(),
        "end": wp.end.isoformat(),
        "routes": [_route(r) for r in wp.routes],
        "hotspots": [_hotspot(h) for h in wp.hotspots],
        "left_out": [
            {"site_id": lo.site_id, "kind": lo.kind, "grid_id": lo.grid_id, "reason": lo.reason}
            for lo in wp.left_out
        ],
        "metrics": dict(wp.metrics),
    }


def _staffing(ws: WindowStaffing) -> dict[str, Any]:
    return {
        "window": ws.window.label(),
        "counts": dict(ws.counts),
        "unassigned": [vars(u).copy() for u in ws.unassigned],
        "unstaffed_posts": [vars(u).copy() for u in ws.unstaffed_posts],
        "uncovered": dict(ws.uncovered),
    }


def plan_to_dict(plan: DayPlan) -> dict[str, Any]:
    """Return ``plan`` as plain JSON-able data.

    Parameters
    ----------
    plan
        The day plan.

    Returns
    -------
    dict
        ``format_version``, ``district``, ``date`` (ISO), ``engine``, ``seed``, ``metrics``,
        ``settings`` and ``windows`` (each with its routes, stops, paths, hotspots, left-outs).
    """
    return {
        "format_version": FORMAT_VERSION,
        "district": plan.district,
        "date": plan.date.isoformat(),
        "engine": plan.engine,
        "seed": plan.seed,
        "metrics": dict(plan.metrics),
        "settings": dict(plan.settings),
        "windows": [_window(wp) for wp in plan.windows],
        "staffing": [_staffing(ws) for ws in plan.staffing],
    }


class _Reader:
    """Field access naming the full path of a missing or malformed field."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, Mapping):
            raise InputError(path or "plan", type(data).__name__, "a JSON object")
        self.data = data
        self.path = path

    def _name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str, convert: Callable[[Any], T], accepted: str) -> T:
        if key not in self.data:
            raise InputError(self._name(key), None, f"a present field: {accepted}")
        value = self.data[key]
        try:
            return convert(value)
        except (TypeError, ValueError, InputError) as exc:
            raise InputError(self._name(key), value, accepted) from exc

    def items(self, key: str) -> list[_Reader]:
        seq = self.get(key, _as_list, "a list")
        return [_Reader(v, f"{self._name(key)}[{i}]") for i, v in enumerate(seq)]


def _as_list(v: Any) -> list[Any]:
    if not isinstance(v, list | tuple):
        raise TypeError("not a list")
    return list(v)


def _as_dict(v: Any) -> dict[str, Any]:
    if not isinstance(v, Mapping):
        raise TypeError("not an object")
    return dict(v)


def _as_str(v: Any) -> str:
    if not isinstance(v, str):
        raise TypeError("not a string")
    return v


def _as_int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError("not an integer")
    return v


def _as_float(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise TypeError("not a number")
    return float(v)


def _as_datetime(v: Any) -> dt.datetime:
    return dt.datetime.fromisoformat(_as_str(v))


def _as_window(v: Any) -> TimeWindow:
    return TimeWindow.parse(_as_str(v))


def _as_ids(v: Any) -> tuple[str, ...]:
    return tuple(_as_str(x) for x in _as_list(v))


def _as_path(v: Any) -> LineString:
    coords = [tuple(_as_float(c) for c in _as_list(p)) for p in _as_list(v)]
    return LineString(coords)


def _as_edges(v: Any) -> tuple[tuple[int, int, int], ...]:
    out = []
    for e in _as_list(v):
        u, w, k = (_as_int(x) for x in _as_list(e))
        out.append((u, w, k))
    return tuple(out)


_TIME = "an ISO 8601 datetime"


def _read_hotspot(r: _Reader) -> Hotspot:
    return Hotspot(
        id=r.get("id", _as_str, "a string"),
        grid_id=r.get("grid_id", _as_str, "a string"),
        lon=r.get("lon", _as_float, "a number"),
        lat=r.get("lat", _as_float, "a number"),
        x=r.get("x", _as_float, "a number"),
        y=r.get("y", _as_float, "a number"),
        node=r.get("node", _as_int, "an integer"),
        value=r.get("value", _as_float, "a number"),
        dwell_min=r.get("dwell_min", _as_int, "an integer"),
        visits=r.get("visits", _as_int, "an integer"),
        spacing_min=r.get("spacing_min", _as_int, "an integer"),
        label=r.get("label", _as_str, "a string"),
        edges=r.get("edges", _as_edges, "a list of [u, v, key] integer triples"),
        length_m=r.get("length_m", _as_float, "a number"),
    )


def _read_group(r: _Reader) -> PatrolGroup:
    return PatrolGroup(
        id=r.get("id", _as_str, "a string"),
        grid_id=r.get("grid_id", _as_str, "a string"),
        window=r.get("window", _as_window, "a window 'HH:MM-HH:MM'"),
        officer_ids=r.get("officer_ids", _as_ids, "a list of strings"),
        volunteer_ids=r.get("volunteer_ids", _as_ids, "a list of strings"),
        station_id=r.get("station_id", _as_str, "a string"),
        mode=r.get("mode", _as_str, "a string"),
        muster_id=r.get("muster_id", _as_str, "a string") if "muster_id" in r.data else "",
    )


def _read_stop(r: _Reader) -> Stop:
    return Stop(
        sequence=r.get("sequence", _as_int, "an integer"),
        site_id=r.get("site_id", _as_str, "a string"),
        kind=r.get("kind", _as_str, "a string"),
        name=r.get("name", _as_str, "a string"),
        lon=r.get("lon", _as_float, "a number"),
        lat=r.get("lat", _as_float, "a number"),
        arrival=r.get("arrival", _as_datetime, _TIME),
        departure=r.get("departure", _as_datetime, _TIME),
        purpose=r.get("purpose", _as_str, "a string"),
        value=r.get("value", _as_float, "a number"),
        wait_min=r.get("wait_min", _as_float, "a number"),
    )


def _read_route(r: _Reader) -> GroupRoute:
    return GroupRoute(
        group=_read_group(_Reader(r.get("group", _as_dict, "an object"), r._name("group"))),
        stops=tuple(_read_stop(s) for s in r.items("stops")),
        path=r.get("path", _as_path, "a list of at least two [lon, lat] points"),
        distance_m=r.get("distance_m", _as_float, "a number"),
        patrol_min=r.get("patrol_min", _as_float, "a number"),
        dwell_min=r.get("dwell_min", _as_float, "a number"),
        value=r.get("value", _as_float, "a number"),
    )


def _read_window(r: _Reader) -> WindowPlan:
    return WindowPlan(
        grid_id=r.get("grid_id", _as_str, "a string"),
        window=r.get("window", _as_window, "a window 'HH:MM-HH:MM'"),
        start=r.get("start", _as_datetime, _TIME),
        end=r.get("end", _as_datetime, _TIME),
        routes=tuple(_read_route(x) for x in r.items("routes")),
        hotspots=tuple(_read_hotspot(x) for x in r.items("hotspots")),
        left_out=tuple(
            LeftOut(
                site_id=x.get("site_id", _as_str, "a string"),
                kind=x.get("kind", _as_str, "a string"),
                grid_id=x.get("grid_id", _as_str, "a string"),
                reason=x.get("reason", _as_str, "a string"),
            )
            for x in r.items("left_out")
        ),
        metrics=r.get("metrics", _as_dict, "an object of numbers"),
    )


def _read_staffing(r: _Reader) -> WindowStaffing:
    def person(x: _Reader) -> Unassigned:
        return Unassigned(*(x.get(k, _as_str, "a string") for k in _PERSON))

    def post(x: _Reader) -> UnstaffedPost:
        return UnstaffedPost(
            post_id=x.get("post_id", _as_str, "a string"),
            grid_id=x.get("grid_id", _as_str, "a string"),
            duty=x.get("duty", _as_str, "a window 'HH:MM-HH:MM'"),
            code=x.get("code", _as_str, "a string"),
            reason=x.get("reason", _as_str, "a string"),
            missing=x.get("missing", _as_int, "an integer"),
        )

    return WindowStaffing(
        window=r.get("window", _as_window, "a window 'HH:MM-HH:MM'"),
        counts=r.get("counts", _as_dict, "an object of numbers"),
        unassigned=tuple(person(x) for x in r.items("unassigned")),
        unstaffed_posts=tuple(post(x) for x in r.items("unstaffed_posts")),
        uncovered=r.get("uncovered", _as_dict, "an object of strings"),
    )


_PERSON = ("person_id", "role", "code", "reason")


def plan_from_dict(data: Mapping[str, Any]) -> DayPlan:
    """Rebuild the :class:`DayPlan` written by :func:`plan_to_dict`.

    Parameters
    ----------
    data
        The plain data (e.g. parsed JSON).

    Returns
    -------
    DayPlan

    Raises
    ------
    InputError
        For an unknown ``format_version`` or a missing or malformed field (named by its
        path, e.g. ``windows[0].routes[1].stops[2].arrival``).
    """
    r = _Reader(data, "")
    version = data.get("format_version") if isinstance(data, Mapping) else None
    if version not in SUPPORTED_VERSIONS:
        raise InputError("format_version", version, f"one of {list(SUPPORTED_VERSIONS)}")
    staffing = tuple(_read_staffing(x) for x in r.items("staffing")) if "staffing" in data else ()
    return DayPlan(
        district=r.get("district", _as_str, "a string"),
        date=r.get("date", lambda v: dt.date.fromisoformat(_as_str(v)), "an ISO date"),
        windows=tuple(_read_window(w) for w in r.items("windows")),
        engine=r.get("engine", _as_str, "a string"),
        seed=r.get("seed", _as_int, "an integer"),
        metrics=r.get("metrics", _as_dict, "an object of numbers"),
        settings=r.get("settings", _as_dict, "an object"),
        staffing=staffing,
    )
