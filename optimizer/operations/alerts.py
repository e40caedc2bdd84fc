""" "Watch for" alerts: a place and a time span whose risk rises, re-planned and told.

The bureau's case: a pickpocket photographed at the hospital is pushed to the hospital's police
office, and the volunteers there catch him when he comes back. A planner raises an
:class:`Alert` (:func:`make_alert`) at a place — longitude and latitude in WGS-84, GCJ-02 or
BD-09, as a messaging app shares it — with a time span, a radius and a risk factor:

* for plans still to be made, :class:`AlertRisk` (a
  :class:`~optimizer.plan.build.HotspotAdjustment` for :func:`optimizer.plan.day.plan_day`)
  multiplies the value of the hotspots within the radius by the factor in every window the
  span overlaps, or adds a hotspot at the place where none is near; the plan's notes say so;
* for a plan already made, :func:`replan_for_alert` finds the windows the span overlaps and,
  in each, re-solves only the cells with a hotspot within the radius (or the cell holding the
  place) with :func:`optimizer.plan.adjust.adjust_plan`; every other window and cell keeps its
  routes, and the plan's notes say what changed;
* :func:`near_alert` lists the groups whose routes pass within a chosen distance of the place
  in those windows and the posts on duty that close, for the message (:func:`alert_message`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, Point

from optimizer.coords import convert, coord_system
from optimizer.district import District
from optimizer.errors import InputError, checked_number
from optimizer.plan.adjust import AddedHotspot, Adjusted, Adjustments, added_hotspot, adjust_plan
from optimizer.plan.params import PlanParams
from optimizer.plan.types import DayPlan
from optimizer.risk.hotspots import Hotspot
from optimizer.timewindow import TimeWindow

MAX_SPAN_DAYS = 31
"""The longest span an alert may cover."""
ALERT_PREFIX = "alert-"
"""Id prefix of a hotspot an alert adds where no hotspot is near its place."""


@dataclass(frozen=True)
class Alert:
    """A "watch for" alert: a place (WGS-84), a span of local time, a radius, a risk factor."""

    id: str
    text: str
    lon: float
    lat: float
    start: dt.datetime
    """Local wall-clock time (naive), like the plans'."""
    end: dt.datetime
    radius_m: float = 300.0
    factor: float = 2.0
    """Multiplier of the risk of the hotspots within ``radius_m`` while the alert runs."""
    crs: str = "wgs84"
    """The coordinate system the place was given in (it is stored converted to WGS-84)."""

    def overlaps(self, day: dt.date, window: TimeWindow) -> bool:
        """Return whether the alert runs during ``window`` on ``day``."""
        a, b = window.on(day)
        return self.start < b and a < self.end

    def to_dict(self) -> dict[str, Any]:
        """Return the alert as plain JSON-able data."""
        out = dataclasses.asdict(self)
        out["start"] = self.start.isoformat(timespec="minutes")
        out["end"] = self.end.isoformat(timespec="minutes")
        return out


def _local(name: str, value: Any, tz: dt.tzinfo | None) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise InputError(name, value, "an ISO 8601 time YYYY-MM-DDTHH:MM") from None
    if not isinstance(value, dt.datetime):
        raise InputError(name, value, "a date and time YYYY-MM-DDTHH:MM")
    if value.tzinfo is not None:
        value = value.astimezone(tz or dt.UTC).replace(tzinfo=None)
    return value


def make_alert(
    *,
    id: str,
    text: str,
    lon: float,
    lat: float,
    start: dt.datetime | str,
    end: dt.datetime | str,
    crs: str = "wgs84",
    radius_m: float = 300.0,
    factor: float = 2.0,
    timezone: dt.tzinfo | None = None,
) -> Alert:
    """Validate an alert and convert its place to WGS-84.

    Parameters
    ----------
    id
        The alert's id (1-64 characters).
    text
        What to watch for (at most 500 characters).
    lon, lat
        The place, in ``crs``.
    start, end
        The span; times with a UTC offset are converted to ``timezone`` (the district's),
        times without one are local already.
    crs
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"`` (see :func:`optimizer.coords.coord_system`).
    radius_m
        Hotspots this close to the place are affected (10 to 5000 m).
    factor
        Multiplier of their risk (more than 1, at most 20).
    timezone
        The district's time zone.

    Returns
    -------
    Alert

    Raises
    ------
    InputError
        Naming the field, the value and what is accepted.
    """
    if not isinstance(id, str) or not 1 <= len(id.strip()) <= 64:
        raise InputError("id", id, "1 to 64 characters")
    if not isinstance(text, str) or len(text) > 500:
        raise InputError("text", text, "at most 500 characters")
    system = coord_system(crs, "crs")
    x = checked_number("lon", lon, -180, 180)
    y = checked_number("lat", lat, -90, 90)
    wlon, wlat = convert([x], [y], system, "wgs84")
    a = _local("start", start, timezone)
    b = _local("end", end, timezone)
    if b <= a:
        raise InputError("end", b.isoformat(), f"a time after start {a.isoformat()}")
    if b - a > dt.timedelta(days=MAX_SPAN_DAYS):
        raise InputError("end", b.isoformat(), f"at most {MAX_SPAN_DAYS} days after start")
    return Alert(
        id=id.strip(),
        text=text,
        lon=float(wlon[0]),
        lat=float(wlat[0]),
        start=a,
        end=b,
        radius_m=checked_number("radius_m", radius_m, 10, 5000),
        factor=checked_number("factor", factor, 1, 20, open_low=True),
        crs=system,
    )


def alert_from_dict(data: Any, *, field: str = "alert") -> Alert:
    """Rebuild an :class:`Alert` from :meth:`Alert.to_dict`'s data (the place is WGS-84).

    Raises
    ------
    InputError
        A missing or malformed field, named ``<field>.<name>``.
    """
    if not isinstance(data, dict):
        raise InputError(field, data, "an object written by Alert.to_dict")
    try:
        alert = make_alert(
            id=data.get("id"),  # type: ignore[arg-type]
            text=data.get("text", ""),
            lon=data.get("lon"),  # type: ignore[arg-type]
            lat=data.get("lat"),  # type: ignore[arg-type]
            start=data.get("start"),  # type: ignore[arg-type]
            end=data.get("end"),  # type: ignore[arg-type]
            radius_m=data.get("radius_m", 300.0),
            factor=data.get("factor", 2.0),
        )
    except InputError as exc:
        raise InputError(f"{field}.{exc.field}", exc.value, exc.accepted) from None
    return dataclasses.replace(alert, crs=coord_system(data.get("crs", "wgs84"), f"{field}.crs"))


def _alert_xy(district: District, alert: Alert) -> tuple[float, float]:
    from pyproj import Transformer

    to_xy = Transformer.from_crs("EPSG:4326", district.crs, always_xy=True)
    x, y = to_xy.transform(alert.lon, alert.lat)
    return float(x), float(y)


def _near(hotspots: Sequence[Hotspot], xy: tuple[float, float], radius_m: float) -> list[str]:
    return [h.id for h in hotspots if math.hypot(h.x - xy[0], h.y - xy[1]) <= radius_m]


def _cell_of(district: District, alert: Alert) -> str:
    """The finest cell holding the place ('' outside every cell)."""
    grids = district.grids
    leaf = grids[grids["level"] == grids["level"].max()]
    hit = leaf[leaf.contains(Point(alert.lon, alert.lat))]
    return str(hit.index[0]) if len(hit) else ""


@dataclass(frozen=True)
class AlertRisk:
    """Alerts raising the risk of their places in the plans made while they run.

    A :class:`~optimizer.plan.build.HotspotAdjustment`: in each window an alert overlaps, the
    hotspots within its radius are worth ``factor`` times their forecast; where none is near,
    a hotspot is added at the place worth ``factor`` times the window's median hotspot.
    """

    alerts: tuple[Alert, ...]
    effects: dict[tuple[dt.date, str], list[str]] = field(
        default_factory=dict, repr=False, compare=False
    )
    """What :meth:`apply` did, per day and window (read by :meth:`describe`)."""

    def apply(
        self,
        hotspots: Sequence[Hotspot],
        *,
        district: District,
        day: dt.date,
        window: TimeWindow,
    ) -> Sequence[Hotspot]:
        """Return the window's hotspots with the alerted places' risk raised."""
        out = list(hotspots)
        said: list[str] = []
        for alert in self.alerts:
            if not alert.overlaps(day, window):
                continue
            xy = _alert_xy(district, alert)
            near = set(_near(out, xy, alert.radius_m))
            if near:
                out = [
                    dataclasses.replace(h, value=h.value * alert.factor) if h.id in near else h
                    for h in out
                ]
                said.append(
                    f"alert {alert.id} ({alert.text}): {len(near)} hotspots within "
                    f"{alert.radius_m:g} m x{alert.factor:g} ({', '.join(sorted(near))})"
                )
                continue
            base = statistics.median([h.value for h in out]) if out else 1.0
            spot = AddedHotspot(
                alert.lon,
                alert.lat,
                label=f"alert {alert.id}: {alert.text}",
                id=f"{ALERT_PREFIX}{alert.id}",
            )
            out.append(
                added_hotspot(district, spot, _cell_of(district, alert), base * alert.factor, 0)
            )
            said.append(
                f"alert {alert.id} ({alert.text}): no hotspot within {alert.radius_m:g} m, "
                f"added {ALERT_PREFIX}{alert.id} worth x{alert.factor:g} the median hotspot"
            )
        self.effects[(day, window.label())] = said
        return out

    def describe(self, *, day: dt.date, window: TimeWindow) -> str:
        """Say which alerts raised which hotspots."""
        said = self.effects.get((day, window.label()), [])
        return "; ".join(said) if said else "alerts: none runs in this window"


def affected_windows(plan: DayPlan, alert: Alert) -> list[TimeWindow]:
    """Return the plan's windows (in order, each once) that the alert's span overlaps."""
    out: list[TimeWindow] = []
    for wp in plan.windows:
        if wp.window not in out and alert.overlaps(plan.date, wp.window):
            out.append(wp.window)
    return out


@dataclass(frozen=True)
class Recipient:
    """A group or post near an alert's place, to be told."""

    kind: str
    """``"group"`` or ``"post"``."""
    id: str
    name: str
    window: str
    grid_id: str
    distance_m: float
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlertReplan:
    """A plan re-planned for an alert, and what changed."""

    plan: DayPlan
    alert: Alert
    windows: tuple[str, ...]
    """Windows re-planned (those the alert overlaps and whose cells it reaches)."""
    cells: dict[str, tuple[str, ...]]
    """Window -> cells re-solved."""
    adjusted: tuple[Adjusted, ...]
    notes: tuple[str, ...]
    recipients: tuple[Recipient, ...] = ()

    def changes_frame(self) -> pd.DataFrame:
        """Return one row per group of the re-solved cells (see ``Adjusted.changes_frame``)."""
        frames = [
            a.changes_frame().assign(window=w)
            for w, a in zip(self.windows, self.adjusted, strict=True)
        ]
        if not frames:
            return pd.DataFrame(columns=["window", "group", "grid", "status", "changed_stops"])
        out = pd.concat(frames, ignore_index=True)
        return out[["window", *[c for c in out.columns if c != "window"]]]

    def recipients_frame(self) -> pd.DataFrame:
        """Return one row per group or post near the place."""
        return recipients_frame(self.recipients)


def recipients_frame(recipients: Sequence[Recipient]) -> pd.DataFrame:
    """Return one row per recipient: kind, id, name, window, grid, distance, members."""
    return pd.DataFrame(
        [
            (r.kind, r.id, r.name, r.window, r.grid_id, round(r.distance_m), ", ".join(r.members))
            for r in recipients
        ],
        columns=["kind", "id", "name", "window", "grid", "distance_m", "members"],
    )


def replan_for_alert(
    plan: DayPlan,
    alert: Alert,
    *,
    district: District,
    within_m: float | None = None,
    params: PlanParams | None = None,
) -> AlertReplan:
    """Re-plan the windows of ``plan`` an alert overlaps, only the cells near its place.

    Parameters
    ----------
    plan
        The day plan.
    alert
        The alert.
    district
        The plan's district.
    within_m
        List the groups and posts this close to the place (default: the alert's radius).
    params
        Engine and budget (default: those the plan was made with).

    Returns
    -------
    AlertReplan
        The new plan (other windows and cells unchanged; its ``settings["notes"]`` say what
        the alert changed, ``settings["alerts"]`` hold the alert), the cells re-solved per
        window, each group's change, and the recipients.
    """
    xy = _alert_xy(district, alert)
    current = plan
    done: list[str] = []
    cells: dict[str, tuple[str, ...]] = {}
    adjusted: list[Adjusted] = []
    notes: list[str] = []
    for window in affected_windows(plan, alert):
        label = window.label()
        wps = [wp for wp in current.windows if wp.window == window]
        near = {wp.grid_id: _near(wp.hotspots, xy, alert.radius_m) for wp in wps}
        touched = tuple(sorted(g for g, ids in near.items() if ids))
        add: tuple[AddedHotspot, ...] = ()
        if not touched:
            values = [h.value for wp in wps for h in wp.hotspots]
            base = statistics.median(values) if values else None
            add = (
                AddedHotspot(
                    alert.lon,
                    alert.lat,
                    value=None if base is None else base * alert.factor,
                    label=f"alert {alert.id}: {alert.text}",
                    id=f"{ALERT_PREFIX}{alert.id}",
                ),
            )
        raised = dataclasses.replace(
            current,
            windows=tuple(
                dataclasses.replace(
                    wp,
                    hotspots=tuple(
                        dataclasses.replace(h, value=h.value * alert.factor)
                        if h.id in near.get(wp.grid_id, ())
                        else h
                        for h in wp.hotspots
                    ),
                )
                if wp.window == window and near.get(wp.grid_id)
                else wp
                for wp in current.windows
            ),
        )
        decisions = Adjustments(window, add=add, grid_ids=touched, by=f"alert {alert.id}")
        try:
            result = adjust_plan(raised, district=district, adjustments=decisions, params=params)
        except InputError as exc:
            notes.append(f"{label}: alert {alert.id} not re-planned ({exc.accepted})")
            continue
        current = result.plan
        done.append(label)
        cells[label] = result.cells
        adjusted.append(result)
        n_raised = sum(len(ids) for ids in near.values())
        what = (
            f"{n_raised} hotspots within {alert.radius_m:g} m x{alert.factor:g}"
            if n_raised
            else f"added hotspot {ALERT_PREFIX}{alert.id} at the place"
        )
        m = result.metrics
        notes.append(
            f"{label}: alert {alert.id} ({alert.text}): {what}; re-planned cells "
            f"{', '.join(result.cells)} ({int(m.get('changed_stops', 0))} stops changed, value "
            f"{m.get('value_before', 0):.3g} -> {m.get('value_after', 0):.3g})"
        )
    settings = dict(current.settings)
    settings["notes"] = [*settings.get("notes", []), *notes]
    settings["alerts"] = [*settings.get("alerts", []), alert.to_dict()]
    current = dataclasses.replace(current, settings=settings)
    recipients = near_alert(current, alert, district=district, within_m=within_m or alert.radius_m)
    return AlertReplan(
        current, alert, tuple(done), cells, tuple(adjusted), tuple(notes), tuple(recipients)
    )


def near_alert(
    plan: DayPlan, alert: Alert, *, district: District, within_m: float
) -> list[Recipient]:
    """Return the groups and posts within ``within_m`` of the alert's place while it runs.

    A group is near when its route's street path or a stop comes that close in a window the
    alert overlaps; a post when it lies that close and is on duty in such a window. Sorted by
    distance.
    """
    from pyproj import Transformer

    within = checked_number("within_m", within_m, 0, 20000, open_low=True)
    to_xy = Transformer.from_crs("EPSG:4326", district.crs, always_xy=True)
    place = Point(_alert_xy(district, alert))
    windows = affected_windows(plan, alert)
    out: list[Recipient] = []
    for wp in plan.windows:
        if wp.window not in windows:
            continue
        for r in wp.routes:
            coords = [(c[0], c[1]) for c in r.path.coords] + [(s.lon, s.lat) for s in r.stops]
            arr = np.asarray(coords, dtype=float)
            xs, ys = to_xy.transform(arr[:, 0], arr[:, 1])
            pts = np.column_stack([xs, ys])
            geom = LineString(pts) if pts.shape[0] > 1 else Point(pts[0])
            d = float(shapely.distance(geom, place))
            if d <= within:
                out.append(
                    Recipient(
                        "group",
                        r.group.id,
                        r.group.mode,
                        wp.window.label(),
                        wp.grid_id,
                        d,
                        r.group.members,
                    )
                )
    for p in district.resources.posts:
        on = [w for w in windows if p.active_windows(plan.date, w)]
        if not on:
            continue
        x, y = to_xy.transform(p.lon, p.lat)
        d = float(place.distance(Point(x, y)))
        if d <= within:
            out.extend(Recipient("post", p.id, p.name, w.label(), p.grid_id, d) for w in on)
    return sorted(out, key=lambda r: (r.distance_m, r.kind, r.id, r.window))


def alert_message(alert: Alert, recipients: Sequence[Recipient]) -> str:
    """Return the message for the bureau's messaging tools: what, where, when and who."""
    groups = sorted({f"{r.id} ({r.window})" for r in recipients if r.kind == "group"})
    posts = sorted({f"{r.name} [{r.id}]" for r in recipients if r.kind == "post"})
    return (
        f"Watch for: {alert.text}. Place {alert.lat:.6f}, {alert.lon:.6f} (WGS-84), within "
        f"{alert.radius_m:g} m; {alert.start:%Y-%m-%d %H:%M} to {alert.end:%Y-%m-%d %H:%M}. "
        f"Groups: {', '.join(groups) or 'none'}. Posts: {', '.join(posts) or 'none'}."
    )
