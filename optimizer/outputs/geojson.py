"""The plan as GeoJSON: a LineString per group route, a Point per stop (WGS-84).

Every time is ISO 8601 with the district's UTC offset (:func:`optimizer.outputs.times.iso_time`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from optimizer.district import District
from optimizer.outputs.cells import OUTPUT_LEVELS, CellIndex
from optimizer.outputs.times import iso_time
from optimizer.plan.types import DayPlan, GroupRoute, Stop, WindowPlan


def _cell_properties(cells: CellIndex, grid_id: str) -> dict[str, str]:
    return {f"level{lv}": c for lv, c in zip(OUTPUT_LEVELS, cells.chain(grid_id), strict=True)}


def _stop_properties(
    plan: DayPlan, wp: WindowPlan, route: GroupRoute, stop: Stop, cells: CellIndex
) -> dict[str, Any]:
    return {
        "type": "stop",
        "date": plan.date.isoformat(),
        "window": wp.window.label(),
        "grid": wp.grid_id,
        **_cell_properties(cells, wp.grid_id),
        "group": route.group.id,
        "sequence": stop.sequence,
        "kind": stop.kind,
        "site_id": stop.site_id,
        "place": stop.name,
        "purpose": stop.purpose,
        "arrival": iso_time(plan, stop.arrival),
        "departure": iso_time(plan, stop.departure),
        "wait_min": stop.wait_min,
        "value": stop.value,
    }


def _route_properties(
    plan: DayPlan, wp: WindowPlan, route: GroupRoute, cells: CellIndex
) -> dict[str, Any]:
    g = route.group
    return {
        "type": "route",
        "date": plan.date.isoformat(),
        "window": wp.window.label(),
        "grid": wp.grid_id,
        **_cell_properties(cells, wp.grid_id),
        "group": g.id,
        "mode": g.mode,
        "officers": list(g.officer_ids),
        "volunteers": list(g.volunteer_ids),
        "station": g.station_id,
        "start": iso_time(plan, route.stops[0].departure),
        "end": iso_time(plan, route.stops[-1].arrival),
        "distance_m": route.distance_m,
        "patrol_min": route.patrol_min,
        "dwell_min": route.dwell_min,
        "value": route.value,
        "stops": len(route.stops),
    }


def plan_geojson(plan: DayPlan, *, district: District | None = None) -> dict[str, Any]:
    """Return the plan as a GeoJSON FeatureCollection (WGS-84).

    Parameters
    ----------
    plan
        The day plan.
    district
        The plan's district: each feature then names its ``level1`` / ``level2`` / ``level3``
        cells (empty strings without it).

    Returns
    -------
    dict
        One LineString feature per group route (the street path, start to end) and one Point
        feature per stop with its arrival and departure (ISO 8601 with the UTC offset); the
        collection's ``properties`` name the district, date, CRS and time zone.
    """
    cells = CellIndex.from_district(district)
    features: list[dict[str, Any]] = []
    for wp in plan.windows:
        for route in wp.routes:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "LineString",
                        "coordinates": [[round(x, 7), round(y, 7)] for x, y in route.path.coords],
                    },
                    "properties": _route_properties(plan, wp, route, cells),
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
                        "properties": _stop_properties(plan, wp, route, stop, cells),
                    }
                )
    tz = plan.timezone
    return {
        "type": "FeatureCollection",
        "features": features,
        "properties": {
            "district": plan.district,
            "date": plan.date.isoformat(),
            "crs": "EPSG:4326",
            "timezone": tz.key if tz is not None else None,
        },
    }


def write_geojson(plan: DayPlan, path: str | Path, *, district: District | None = None) -> Path:
    """Write :func:`plan_geojson` to ``path`` (UTF-8)."""
    out = Path(path)
    data = plan_geojson(plan, district=district)
    out.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return out
