"""Write a day plan for people and devices: GeoJSON, CSV, XLSX, GPX, PNG maps, HTML map, JSON.

:func:`write_plan` writes a whole plan folder::

    routes.geojson      a LineString per group route (on the street edges), a Point per stop
    schedule.csv        a row per stop: window, grid, group, members, times, place, purpose
    schedule.xlsx       the same schedule, one sheet per window, plus a summary sheet
    gpx/<group>.gpx     one GPX file per group route (track + timed waypoints) for handhelds
    map-<HHMM>.png      a static map per window (streets, grids, hotspots, routes); no web tiles
    map.html            optional interactive map (folium; its viewer loads Leaflet from the web)
    plan.json           summary, metrics, settings and left-out sites with reasons

All coordinates are WGS-84 (EPSG:4326).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from optimizer.district import District
from optimizer.plan.types import DayPlan, GroupRoute, Stop, WindowPlan, plan_to_frame

SCHEDULE_COLUMNS: tuple[str, ...] = (
    "date",
    "window",
    "grid",
    "group",
    "mode",
    "members",
    "member_names",
    "sequence",
    "kind",
    "site_id",
    "place",
    "purpose",
    "arrival",
    "departure",
    "dwell_min",
    "wait_min",
    "value",
    "lon",
    "lat",
)
"""Columns of ``schedule.csv`` / ``schedule.xlsx``, in order."""

_TIME_FMT = "%Y-%m-%d %H:%M"


def plan_timezone(plan: DayPlan) -> dt.tzinfo | None:
    """Return the plan's time zone (``plan.settings["timezone"]``, an IANA name), if known."""
    name = plan.settings.get("timezone")
    if not name:
        return None
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _aware(plan: DayPlan, moment: dt.datetime) -> dt.datetime:
    """Attach the plan's time zone to a naive local time (plans hold local wall-clock times)."""
    tz = plan_timezone(plan)
    return moment.replace(tzinfo=tz) if tz is not None and moment.tzinfo is None else moment


def _iso(plan: DayPlan, moment: dt.datetime) -> str:
    return _aware(plan, moment).isoformat(timespec="minutes")


def _stop_properties(
    plan: DayPlan, wp: WindowPlan, route: GroupRoute, stop: Stop
) -> dict[str, Any]:
    return {
        "type": "stop",
        "date": plan.date.isoformat(),
        "window": wp.window.label(),
        "grid": wp.grid_id,
        "group": route.group.id,
        "sequence": stop.sequence,
        "kind": stop.kind,
        "site_id": stop.site_id,
        "place": stop.name,
        "purpose": stop.purpose,
        "arrival": _iso(plan, stop.arrival),
        "departure": _iso(plan, stop.departure),
        "wait_min": stop.wait_min,
        "value": stop.value,
    }


def plan_geojson(plan: DayPlan) -> dict[str, Any]:
    """Return the plan as a GeoJSON FeatureCollection (WGS-84).

    One LineString feature per group route (the street path, start to end) and one Point
    feature per stop with its arrival and departure times.
    """
    features: list[dict[str, Any]] = []
    for wp in plan.windows:
        for route in wp.routes:
            g = route.group
            features.append(
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [[round(x, 7), round(y, 7)] for x, y in route.path.coords],
                    },
                    "properties": {
                        "type": "route",
                        "date": plan.date.isoformat(),
                        "window": wp.window.label(),
                        "grid": wp.grid_id,
                        "group": g.id,
                        "mode": g.mode,
                        "officers": list(g.officer_ids),
                        "volunteers": list(g.volunteer_ids),
                        "station": g.station_id,
                        "start": _iso(plan, route.stops[0].departure),
                        "end": _iso(plan, route.stops[-1].arrival),
                        "distance_m": route.distance_m,
                        "patrol_min": route.patrol_min,
                        "dwell_min": route.dwell_min,
                        "value": route.value,
                        "stops": len(route.stops),
                    },
                }
            )
            for stop in route.stops:
                features.append(
                    {
                        "type": "Feature",
                        "geometry": {
                            "type": "Point",
                            "coordinates": [round(stop.lon, 7), round(stop.lat, 7)],
                        },
                        "properties": _stop_properties(plan, wp, route, stop),
                    }
                )
    return {
        "type": "FeatureCollection",
        "features": features,
        "properties": {
            "district": plan.district,
            "date": plan.date.isoformat(),
            "crs": "EPSG:4326",
        },
    }


def member_names(district: District | None) -> dict[str, str]:
    """Return person id -> display name for the district's officers and volunteers."""
    if district is None:
        return {}
    res = district.resources
    names = {o.id: o.name for o in res.officers}
    names.update({v.id: v.name for v in res.volunteers})
    return names


def schedule_frame(plan: DayPlan, district: District | None = None) -> pd.DataFrame:
    """Return the dispatcher's schedule: one row per stop, columns :data:`SCHEDULE_COLUMNS`.

    ``member_names`` holds the members' names where ``district`` is given (never phones or ID
    numbers), else is empty.
    """
    frame = plan_to_frame(plan)
    frame.insert(0, "date", plan.date.isoformat())
    names = member_names(district)
    groups = {r.group.id: r.group for r in plan.routes}
    frame["member_names"] = [
        ", ".join(names.get(m, m) for m in groups[g].members) if names else ""
        for g in frame["group"]
    ]
    dwell = (
        pd.to_datetime(frame["departure"]) - pd.to_datetime(frame["arrival"])
    ).dt.total_seconds() / 60
    # time on duty at the stop: arrival to departure, less any wait for the duty to start
    frame["dwell_min"] = (
        (dwell - frame["wait_min"]).round(1) if len(frame) else pd.Series(dtype=float)
    )
    for col in ("arrival", "departure"):
        frame[col] = pd.to_datetime(frame[col]).dt.strftime(_TIME_FMT) if len(frame) else frame[col]
    return frame[list(SCHEDULE_COLUMNS)]


def write_geojson(plan: DayPlan, path: str | Path) -> Path:
    """Write :func:`plan_geojson` to ``path``."""
    out = Path(path)
    out.write_text(json.dumps(plan_geojson(plan), ensure_ascii=False), encoding="utf-8")
    return out


def write_schedule_csv(plan: DayPlan, path: str | Path, district: District | None = None) -> Path:
    """Write the schedule as UTF-8 CSV (with BOM, so spreadsheet programs read the names right)."""
    out = Path(path)
    schedule_frame(plan, district).to_csv(out, index=False, encoding="utf-8-sig")
    return out


def write_schedule_xlsx(plan: DayPlan, path: str | Path, district: District | None = None) -> Path:
    """Write the schedule as an Excel workbook: a summary sheet and one sheet per window."""
    out = Path(path)
    frame = schedule_frame(plan, district)
    summary = plan.summary()
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        (summary if len(summary) else pd.DataFrame({"note": ["no windows planned"]})).to_excel(
            writer, sheet_name="summary", index=False
        )
        labels = list(dict.fromkeys(wp.window.label() for wp in plan.windows))
        for label in labels:
            part = frame[frame["window"] == label]
            part.to_excel(writer, sheet_name=label.replace(":", ""), index=False)
        for sheet in writer.sheets.values():
            for column in sheet.columns:
                width = max(len(str(c.value)) if c.value is not None else 0 for c in column)
                sheet.column_dimensions[column[0].column_letter].width = min(48, width + 2)
    return out


def _safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)


def write_gpx(plan: DayPlan, directory: str | Path) -> list[Path]:
    """Write one GPX file per group route into ``directory``: the street track and timed stops."""
    import gpxpy.gpx

    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for wp in plan.windows:
        for route in wp.routes:
            gpx = gpxpy.gpx.GPX()
            gpx.name = f"{plan.district} {plan.date} {wp.window.label()} {route.group.id}"
            gpx.description = f"grid {wp.grid_id}; members {', '.join(route.group.members)}"
            for stop in route.stops:
                wpt = gpxpy.gpx.GPXWaypoint(
                    stop.lat,
                    stop.lon,
                    time=_aware(plan, stop.arrival),
                    name=f"{stop.sequence:02d} {stop.name}",
                    description=f"{stop.purpose}; {stop.arrival:%H:%M}-{stop.departure:%H:%M}",
                )
                gpx.waypoints.append(wpt)
            track = gpxpy.gpx.GPXTrack(name=route.group.id)
            segment = gpxpy.gpx.GPXTrackSegment()
            segment.points.extend(
                gpxpy.gpx.GPXTrackPoint(lat, lon) for lon, lat in route.path.coords
            )
            track.segments.append(segment)
            gpx.tracks.append(track)
            out = folder / f"{_safe_name(route.group.id)}.gpx"
            out.write_text(gpx.to_xml(), encoding="utf-8")
            written.append(out)
    return written


def _street_segments(district: District) -> list[list[tuple[float, float]]]:
    """WGS-84 polylines of the district's streets, following edge geometry (one per street)."""
    from pyproj import Transformer

    G = district.graph
    seen: set[tuple[int, int]] = set()
    chains: list[list[tuple[float, float]]] = []
    for u, v, data in G.edges(data=True):
        key = (min(u, v), max(u, v))
        if key in seen:
            continue
        seen.add(key)
        geom = data.get("geometry")
        if geom is not None and not geom.is_empty:
            chains.append([(float(x), float(y)) for x, y, *_ in geom.coords])
        else:
            a, b = G.nodes[u], G.nodes[v]
            chains.append([(float(a["x"]), float(a["y"])), (float(b["x"]), float(b["y"]))])
    if not chains:
        return []
    # One bulk transform of every vertex, then cut back into polylines.
    to_wgs = Transformer.from_crs(G.graph["crs"], "EPSG:4326", always_xy=True)
    xs = [p[0] for c in chains for p in c]
    ys = [p[1] for c in chains for p in c]
    lons, lats = to_wgs.transform(xs, ys)
    out: list[list[tuple[float, float]]] = []
    i = 0
    for c in chains:
        out.append([(float(lons[k]), float(lats[k])) for k in range(i, i + len(c))])
        i += len(c)
    return out


def write_window_maps(
    plan: DayPlan, directory: str | Path, district: District | None = None, *, dpi: int = 130
) -> list[Path]:
    """Draw a static PNG map per window: streets, grid outlines, hotspots by value, routes by group.

    Parameters
    ----------
    plan
        The plan.
    directory
        Output folder; files are named ``map-<HHMM>-<HHMM>.png``.
    district
        The plan's district, for streets and grid outlines (``None``: routes and hotspots only).
    dpi
        Resolution.

    Returns
    -------
    list of Path
        The files written, one per window.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    streets = _street_segments(district) if district is not None else []
    written = []
    labels = list(dict.fromkeys(wp.window.label() for wp in plan.windows))
    for label in labels:
        parts = [wp for wp in plan.windows if wp.window.label() == label]
        fig, ax = plt.subplots(figsize=(8, 9))
        if streets:
            ax.add_collection(LineCollection(streets, colors="#c8c8c8", linewidths=0.5, zorder=1))
        if district is not None:
            planned = {wp.grid_id for wp in parts} | set(plan.settings.get("grid_ids", []))
            for gid, row in district.grids.iterrows():
                geom = row.geometry
                if geom is None or geom.is_empty:
                    continue
                xs, ys = (
                    geom.exterior.xy
                    if geom.geom_type == "Polygon"
                    else geom.convex_hull.exterior.xy
                )
                major = str(gid) in planned
                ax.plot(
                    xs,
                    ys,
                    color="#555555" if major else "#aaaaaa",
                    lw=1.4 if major else 0.6,
                    ls="-" if major else ":",
                    zorder=2,
                )
                if major:
                    # label in the cell's top-left corner, clear of stations and routes
                    x0, _, _, y1 = geom.bounds
                    ax.annotate(
                        str(gid),
                        (x0, y1),
                        xytext=(4, -10),
                        textcoords="offset points",
                        color="#555555",
                        fontsize=8,
                        ha="left",
                        zorder=2,
                    )
        hot = [h for wp in parts for h in wp.hotspots]
        if hot:
            vmax = max(h.value for h in hot) or 1.0
            ax.scatter(
                [h.lon for h in hot],
                [h.lat for h in hot],
                s=[30 + 300 * h.value / vmax for h in hot],
                c="#d62728",
                alpha=0.35,
                edgecolors="#d62728",
                linewidths=0.8,
                zorder=3,
                label="hotspot (size = value)",
            )
        cmap = plt.get_cmap("tab10")
        routes = [r for wp in parts for r in wp.routes]
        for i, route in enumerate(routes):
            xs, ys = route.path.xy
            colour = cmap(i % 10)
            ax.plot(
                xs,
                ys,
                color=colour,
                lw=2.0,
                alpha=0.85,
                zorder=4,
                label=f"{route.group.id} ({route.group.mode}, {len(route.stops) - 2} stops)",
            )
            posts = [s for s in route.stops if s.kind == "post"]
            if posts:
                ax.scatter(
                    [s.lon for s in posts],
                    [s.lat for s in posts],
                    marker="*",
                    s=160,
                    color=colour,
                    edgecolors="black",
                    linewidths=0.6,
                    zorder=6,
                )
            st = route.stops[0]
            ax.scatter([st.lon], [st.lat], marker="s", s=70, color="black", zorder=6)
        if district is not None:
            bounds = district.grids.total_bounds
            ax.set_xlim(bounds[0], bounds[2])
            ax.set_ylim(bounds[1], bounds[3])
        elif not routes and not hot:
            ax.text(0.5, 0.5, "no routes", transform=ax.transAxes, ha="center")
        mid_lat = float(sum(ax.get_ylim()) / 2)
        ax.set_aspect(1 / max(0.1, math.cos(math.radians(mid_lat))))
        ax.set_title(f"{plan.district} — {plan.date:%a %Y-%m-%d} {label}: {len(routes)} routes")
        ax.set_xlabel("longitude")
        ax.set_ylabel("latitude")
        if routes or hot:
            ax.legend(loc="upper left", fontsize=7, framealpha=0.85)
        ax.text(
            0.99,
            0.01,
            "streets © OpenStreetMap contributors; ■ station, ★ fixed post",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=6,
            color="#666666",
        )
        fig.tight_layout()
        out = folder / f"map-{label.replace(':', '')}.png"
        fig.savefig(out, dpi=dpi)
        plt.close(fig)
        written.append(out)
    return written


def write_html_map(plan: DayPlan, path: str | Path, district: District | None = None) -> Path:
    """Write an interactive folium map (routes, stops, hotspots, grids) without web tiles.

    The file itself needs no server, but the viewer loads Leaflet's JavaScript from a CDN.
    """
    import folium

    out = Path(path)
    points = [(s.lat, s.lon) for r in plan.routes for s in r.stops]
    if district is not None:
        b = district.grids.total_bounds
        centre = ((b[1] + b[3]) / 2, (b[0] + b[2]) / 2)
    elif points:
        centre = (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))
    else:
        centre = (0.0, 0.0)
    fmap = folium.Map(location=centre, zoom_start=15, tiles=None, control_scale=True)
    if district is not None:
        folium.GeoJson(
            district.grids.reset_index().to_json(),
            name="grids",
            style_function=lambda _f: {"fill": False, "color": "#555555", "weight": 1},
        ).add_to(fmap)
    palette = [
        "#1f77b4",
        "#ff7f0e",
        "#2ca02c",
        "#d62728",
        "#9467bd",
        "#8c564b",
        "#e377c2",
        "#17becf",
    ]
    labels = list(dict.fromkeys(wp.window.label() for wp in plan.windows))
    for label in labels:
        layer = folium.FeatureGroup(name=f"window {label}")
        routes = [r for wp in plan.windows if wp.window.label() == label for r in wp.routes]
        for i, route in enumerate(routes):
            folium.PolyLine(
                [(y, x) for x, y in route.path.coords],
                color=palette[i % len(palette)],
                weight=4,
                tooltip=f"{route.group.id} ({route.group.mode})",
            ).add_to(layer)
            for s in route.stops:
                folium.CircleMarker(
                    (s.lat, s.lon),
                    radius=4,
                    color=palette[i % len(palette)],
                    tooltip=f"{s.sequence}. {s.name}: {s.arrival:%H:%M}-{s.departure:%H:%M} "
                    f"({s.purpose})",
                ).add_to(layer)
        layer.add_to(fmap)
    folium.LayerControl().add_to(fmap)
    fmap.save(str(out))
    return out


def plan_summary_json(plan: DayPlan) -> dict[str, Any]:
    """Return the plan's summary as JSON-able data: metrics, settings, windows, left-out sites."""
    return {
        "district": plan.district,
        "date": plan.date.isoformat(),
        "engine": plan.engine,
        "seed": plan.seed,
        "settings": plan.settings,
        "metrics": plan.metrics,
        "windows": [
            {
                "window": wp.window.label(),
                "grid": wp.grid_id,
                "start": _iso(plan, wp.start),
                "end": _iso(plan, wp.end),
                "metrics": wp.metrics,
                "groups": [
                    {
                        "id": r.group.id,
                        "mode": r.group.mode,
                        "officers": list(r.group.officer_ids),
                        "volunteers": list(r.group.volunteer_ids),
                        "station": r.group.station_id,
                        "stops": len(r.stops),
                        "distance_m": r.distance_m,
                        "patrol_min": r.patrol_min,
                        "dwell_min": r.dwell_min,
                        "value": r.value,
                    }
                    for r in wp.routes
                ],
                "left_out": [
                    {"site_id": lo.site_id, "kind": lo.kind, "reason": lo.reason}
                    for lo in wp.left_out
                ],
            }
            for wp in plan.windows
        ],
    }


def write_plan(
    plan: DayPlan,
    out_dir: str | Path,
    district: District | None = None,
    *,
    html: bool = False,
    maps: bool = True,
) -> dict[str, Path | list[Path]]:
    """Write the whole plan folder (see the module docstring).

    Parameters
    ----------
    plan
        The day plan.
    out_dir
        Folder to write into (created if missing; files of the same name are replaced).
    district
        The plan's district: streets and grid outlines on the maps.
    html
        Also write ``map.html`` (folium).
    maps
        Write the PNG maps (the slowest part).

    Returns
    -------
    dict
        Kind of output -> file (or files).
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path | list[Path]] = {
        "geojson": write_geojson(plan, folder / "routes.geojson"),
        "csv": write_schedule_csv(plan, folder / "schedule.csv", district),
        "xlsx": write_schedule_xlsx(plan, folder / "schedule.xlsx", district),
        "gpx": write_gpx(plan, folder / "gpx"),
    }
    if maps:
        written["png"] = write_window_maps(plan, folder, district)
    if html:
        written["html"] = write_html_map(plan, folder / "map.html", district)
    summary = folder / "plan.json"
    summary.write_text(
        json.dumps(plan_summary_json(plan), ensure_ascii=False, indent=1, default=str),
        encoding="utf-8",
    )
    written["json"] = summary
    return written


def files_written(written: dict[str, Path | list[Path]]) -> list[Path]:
    """Flatten :func:`write_plan`'s answer to a sorted list of files."""
    out: list[Path] = []
    for value in written.values():
        out.extend(value if isinstance(value, list) else [value])
    return sorted(out)
