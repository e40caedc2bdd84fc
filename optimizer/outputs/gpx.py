"""One GPX file per group route for handheld devices: the street track and timed stops."""

from __future__ import annotations

from pathlib import Path

from optimizer.files import safe_file_name
from optimizer.outputs.times import aware, clock, timezone_note
from optimizer.plan.types import DayPlan


def write_gpx(plan: DayPlan, directory: str | Path) -> list[Path]:
    """Write one GPX file per group route into ``directory``.

    Each file holds the street path as a track and every stop as a waypoint whose time is the
    arrival with the district's UTC offset; names read ``03 place``, descriptions give the
    purpose and ``HH:MM-HH:MM`` with the time zone.

    Returns
    -------
    list of Path
        The files written, ``<group id>.gpx``.
    """
    import gpxpy.gpx

    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    note = timezone_note(plan)
    written = []
    for wp in plan.windows:
        for route in wp.routes:
            gpx = gpxpy.gpx.GPX()
            gpx.name = f"{plan.district} {plan.date} {wp.window.label()} {route.group.id}"
            gpx.description = f"grid {wp.grid_id}; members {', '.join(route.group.members)}; {note}"
            for stop in route.stops:
                wpt = gpxpy.gpx.GPXWaypoint(
                    stop.lat,
                    stop.lon,
                    time=aware(plan, stop.arrival),
                    name=f"{stop.sequence:02d} {stop.name}",
                    description=(
                        f"{stop.purpose}; {clock(stop.arrival)}-{clock(stop.departure)} ({note})"
                    ),
                )
                gpx.waypoints.append(wpt)
            track = gpxpy.gpx.GPXTrack(name=route.group.id)
            segment = gpxpy.gpx.GPXTrackSegment()
            segment.points.extend(
                gpxpy.gpx.GPXTrackPoint(lat, lon) for lon, lat in route.path.coords
            )
            track.segments.append(segment)
            gpx.tracks.append(track)
            out = folder / f"{safe_file_name(route.group.id)}.gpx"
            out.write_text(gpx.to_xml(), encoding="utf-8")
            written.append(out)
    return written
