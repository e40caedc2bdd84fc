"""Synthetic handheld tracks of a plan's routes, with deviations, as GPX (tests and demos).

:func:`route_track` walks a route's street path on the plan's times: the group stays at each
stop from its arrival (plus its wait) to its departure and walks the path between stops at
the pace that gets it to the next stop on time. Deviations: ``skip`` stops (the group waits
where it was instead, then goes on), ``late`` stops (the group sets off for them so many
minutes late; everything after shifts too), ``dwell_share`` (a shorter stay at every stop).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from pathlib import Path

from shapely.geometry import LineString, Point
from shapely.ops import substring

from optimizer.operations.tracks import Track
from optimizer.outputs.times import aware
from optimizer.plan.types import DayPlan, GroupRoute


def route_track(
    route: GroupRoute,
    *,
    step_s: float = 30.0,
    skip: Collection[int] = (),
    late: Mapping[int, float] | None = None,
    dwell_share: float = 1.0,
) -> Track:
    """Return a track of ``route`` as planned, with the deviations asked for.

    Parameters
    ----------
    route
        The planned route.
    step_s
        Seconds between points.
    skip
        Sequence numbers of stops the group does not make.
    late
        Sequence number -> minutes the group is late for that stop (and after).
    dwell_share
        Share of each stop's planned stay the group stays.
    """
    late = dict(late or {})
    path = LineString(route.path.coords) if len(route.path.coords) > 1 else None
    times: list[dt.datetime] = []
    lon: list[float] = []
    lat: list[float] = []
    step = dt.timedelta(seconds=step_s)
    delay = dt.timedelta(0)
    where = 0.0
    here = (route.stops[0].lon, route.stops[0].lat)

    def add(t: dt.datetime, p: tuple[float, float]) -> None:
        times.append(t)
        lon.append(float(p[0]))
        lat.append(float(p[1]))

    previous_end = route.stops[0].arrival
    for s in route.stops:
        if s.sequence in late:
            delay += dt.timedelta(minutes=late[s.sequence])
        arrive = s.arrival + dt.timedelta(minutes=s.wait_min) + delay
        leave = s.departure + delay
        if s.kind in ("hotspot", "post"):
            leave = arrive + (leave - arrive) * dwell_share
        # travel from the previous stop along the path
        target = (s.lon, s.lat)
        if path is not None:
            ahead = substring(path, where, path.length)
            along = where + (ahead.project(Point(target)) if ahead.length > 0 else 0.0)
        else:
            along = where
        t = previous_end + delay if not times else times[-1] + step
        span = max((arrive - t).total_seconds(), 1.0)
        while t < arrive:
            f = min(
                1.0, max(0.0, (t - (arrive - dt.timedelta(seconds=span))).total_seconds() / span)
            )
            p = path.interpolate(where + (along - where) * f).coords[0] if path else target
            add(t, (p[0], p[1]))
            t += step
        where = along
        if s.sequence in skip:
            # the group stays where it was for the stop's time, then goes on
            while t < leave:
                add(t, here)
                t += step
            previous_end = leave - delay
            continue
        here = target
        while t <= leave:
            add(t, target)
            t += step
        previous_end = leave - delay
    return Track(route.group.id, tuple(times), tuple(lon), tuple(lat), f"{route.group.id}.gpx")


def track_gpx(track: Track, plan: DayPlan) -> str:
    """Return ``track`` as GPX 1.1 text (times with the plan's UTC offset), named by the group."""
    import gpxpy.gpx

    gpx = gpxpy.gpx.GPX()
    gpx.name = f"{plan.district} {plan.date} {track.group_id} (recorded)"
    trk = gpxpy.gpx.GPXTrack(name=track.group_id)
    seg = gpxpy.gpx.GPXTrackSegment()
    seg.points.extend(
        gpxpy.gpx.GPXTrackPoint(la, lo, time=aware(plan, t))
        for t, lo, la in zip(track.times, track.lon, track.lat, strict=True)
    )
    trk.segments.append(seg)
    gpx.tracks.append(trk)
    return str(gpx.to_xml())


def write_track_gpx(track: Track, plan: DayPlan, path: str | Path) -> Path:
    """Write ``track`` as a GPX file; return its path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(track_gpx(track, plan), encoding="utf-8")
    return out
