"""What the dispatcher's page draws, as JSON: the district's cells and streets, a plan's view.

The page (``api/page/``) reads these through ``api.routes.page``. Personal data follows
``api.personal``: members' names for every reader, phone numbers only for callers that may
read personal data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
from shapely.geometry import LineString

from api.keys import Principal
from optimizer.district import District
from optimizer.outputs.basemap import ROAD_CLASSES, street_lines
from optimizer.outputs.cells import CellIndex, window_labels
from optimizer.outputs.html_map import cells_data
from optimizer.outputs.schedule import dwell_minutes
from optimizer.outputs.style import cell_colours, group_area, group_styles
from optimizer.outputs.summary import cell_summary
from optimizer.outputs.times import clock, timezone_label, timezone_note
from optimizer.plan.metrics import day_metrics
from optimizer.plan.types import DayPlan, GroupRoute
from optimizer.plan.variation import route_overlap
from optimizer.risk.categories import VOCABULARY

DIGITS = 6
"""Decimals kept in coordinates (about 0.1 m)."""

STREET_DETAILS: dict[str, tuple[float, int]] = {
    "low": (0.0004, 1),
    "medium": (0.00012, 0),
    "high": (0.0, 0),
}
"""Basemap detail -> (simplification tolerance in degrees, lowest road class kept)."""


def _flat(coords: Any) -> list[float]:
    """``[(lon, lat), ...]`` -> ``[lat, lon, lat, lon, ...]`` rounded."""
    return [round(float(v), DIGITS) for lon, lat, *_ in coords for v in (lat, lon)]


def district_map(district: District) -> dict[str, Any]:
    """Return the district's cells (rings per level, parents, names), bounds and time zone."""
    cells = CellIndex.from_district(district)
    grids = district.grids.to_crs(4326)
    out = cells_data(district, cells, colours=cell_colours(district))
    b = grids.total_bounds
    return {
        "name": district.name,
        "timezone": district.metadata.get("timezone"),
        "bounds": [[float(b[1]), float(b[0])], [float(b[3]), float(b[2])]],
        "levels": sorted({c["level"] for c in out}),
        "cells": out,
    }


def district_streets(district: District, *, detail: str) -> dict[str, Any]:
    """Return the district's streets for the basemap, simplified for ``detail``.

    ``low`` keeps medium and major roads, simplified to about 40 m; ``medium`` every street to
    about 12 m; ``high`` every street as it is.
    """
    tolerance, lowest = STREET_DETAILS[detail]
    lines = street_lines(district, crs="EPSG:4326")
    layers: list[list[list[float]]] = [[] for _ in ROAD_CLASSES]
    for line, cls in zip(lines.lines, lines.road_class, strict=True):
        if int(cls) < lowest or len(line) < 2:
            continue
        coords: Any = line
        if tolerance > 0 and len(line) > 2:
            coords = np.asarray(LineString(line).simplify(tolerance).coords)
        layers[int(cls)].append(_flat(coords))
    return {"detail": detail, "classes": list(ROAD_CLASSES), "layers": layers}


def _person(people: dict[str, Any], person_id: str, role: str, *, personal: bool) -> dict[str, Any]:
    found = people.get(person_id)
    out: dict[str, Any] = {
        "id": person_id,
        "role": role,
        "name": getattr(found, "name", "") or person_id,
    }
    if role != "officer" and found is not None:
        out["kind"] = found.role
    out["phone"] = getattr(found, "phone", None) if personal else None
    return out


def _stops(route: GroupRoute) -> list[dict[str, Any]]:
    return [
        {
            "n": s.sequence,
            "kind": s.kind,
            "site_id": s.site_id,
            "name": s.name,
            "lat": round(s.lat, DIGITS),
            "lon": round(s.lon, DIGITS),
            "arr": clock(s.arrival),
            "dep": clock(s.departure),
            "arrival": s.arrival.isoformat(),
            "departure": s.departure.isoformat(),
            "wait": round(s.wait_min, 1),
            "dwell": dwell_minutes(s.arrival, s.departure, s.wait_min)
            if s.kind in ("hotspot", "post")
            else 0.0,
            "purpose": s.purpose,
            "value": round(s.value, 6),
        }
        for s in route.stops
    ]


def plan_view(plan: DayPlan, district: District, principal: Principal) -> dict[str, Any]:
    """Return what the page draws of a plan: per window its routes, hotspots, left-out sites
    and staffing; the summary per cell; the plan's metrics.

    Parameters
    ----------
    plan
        The day plan.
    district
        Its district (grids, roster for names and phones, posts).
    principal
        The caller: phones are included only where it may read personal data.
    """
    personal = principal.can("personal:read")
    cells = CellIndex.from_district(district)
    styles = group_styles(plan, cells)
    posts = {p.id: p for p in district.resources.posts}
    people: dict[str, Any] = {o.id: o for o in district.resources.officers}
    people.update({v.id: v for v in district.resources.volunteers})
    windows = []
    for label in window_labels(plan):
        wps = sorted(
            (wp for wp in plan.windows if wp.window.label() == label),
            key=lambda w: cells.sort_key(w.grid_id),
        )
        routes: list[dict[str, Any]] = []
        hotspots: list[dict[str, Any]] = []
        left_out: list[dict[str, Any]] = []
        for wp in wps:
            chain = cells.ancestors(wp.grid_id) if wp.grid_id in cells else [wp.grid_id]
            hot = {h.id: h for h in wp.hotspots}
            reasons = {(lo.kind, lo.site_id): lo.reason for lo in wp.left_out}
            for route in sorted(wp.routes, key=lambda r: styles[(label, r.group.id)].index):
                g = route.group
                st = styles[(label, g.id)]
                members = [_person(people, o, "officer", personal=personal) for o in g.officer_ids]
                members += [
                    _person(people, v, "volunteer", personal=personal) for v in g.volunteer_ids
                ]
                routes.append(
                    {
                        "id": g.id,
                        "grid": wp.grid_id,
                        "cells": chain,
                        "area": group_area(cells, wp.grid_id),
                        "mode": g.mode,
                        "station": g.station_id,
                        "leader": members[0] if members else None,
                        "members": members,
                        "colour": st.colour,
                        "line": st.line,
                        "km": round(route.distance_m / 1000, 2),
                        "value": round(route.value, 6),
                        "dwell_min": route.dwell_min,
                        "patrol_min": route.patrol_min,
                        "start": route.stops[0].departure.isoformat(),
                        "end": route.stops[-1].arrival.isoformat(),
                        "path": _flat(route.path.coords),
                        "stops": _stops(route),
                    }
                )
            for h in wp.hotspots:
                hotspots.append(
                    {
                        "id": h.id,
                        "grid": wp.grid_id,
                        "cells": chain,
                        "lat": round(h.lat, DIGITS),
                        "lon": round(h.lon, DIGITS),
                        "value": round(h.value, 6),
                        "visits": h.visits,
                        "dwell_min": h.dwell_min,
                        "label": h.label,
                        "out": reasons.get(("hotspot", h.id)),
                    }
                )
            for lo in wp.left_out:
                where: Any = hot.get(lo.site_id) if lo.kind == "hotspot" else posts.get(lo.site_id)
                code, _, detail = lo.reason.partition(": ")
                left_out.append(
                    {
                        "site_id": lo.site_id,
                        "kind": lo.kind,
                        "grid": wp.grid_id,
                        "cells": chain,
                        "name": getattr(where, "name", "") or getattr(where, "label", ""),
                        "lat": round(where.lat, DIGITS) if where is not None else None,
                        "lon": round(where.lon, DIGITS) if where is not None else None,
                        "code": code if detail else "",
                        "reason": detail or lo.reason,
                    }
                )
        staffing = next((ws for ws in plan.staffing if ws.window.label() == label), None)
        windows.append(
            {
                "label": label,
                "start": iso(min((wp.start for wp in wps), default=None)),
                "end": iso(max((wp.end for wp in wps), default=None)),
                "routes": routes,
                "hotspots": hotspots,
                "left_out": left_out,
                "metrics": day_metrics(wps),
                "staffing": None
                if staffing is None
                else {
                    "counts": staffing.counts,
                    "unassigned": [
                        {
                            "person_id": u.person_id,
                            "role": u.role,
                            "code": u.code,
                            "reason": u.reason,
                        }
                        for u in staffing.unassigned
                    ],
                    "unstaffed_posts": [vars(u).copy() for u in staffing.unstaffed_posts],
                    "uncovered": staffing.uncovered,
                },
            }
        )
    summary = cell_summary(plan, district)
    return {
        "district": plan.district,
        "date": plan.date.isoformat(),
        "engine": plan.engine,
        "seed": plan.seed,
        "timezone_note": timezone_note(plan),
        "timezone_label": timezone_label(plan),
        "metrics": plan.metrics,
        "windows": windows,
        "summary": summary.to_dict(orient="records"),
        # hotspot labels and duties name categories in English; the page shows them in Chinese
        "category_zh": {c.en: c.zh for c in VOCABULARY.values()},
    }


def compare_plans(a: DayPlan, b: DayPlan) -> dict[str, Any]:
    """Return two plans side by side: value, coverage, groups, km per window and for the day,
    and how alike their routes are (``optimizer.plan.variation.route_overlap``)."""

    def figures(plan: DayPlan, label: str | None) -> dict[str, float]:
        wps = [wp for wp in plan.windows if label is None or wp.window.label() == label]
        m = day_metrics(wps)
        return {
            "groups": float(sum(len(wp.routes) for wp in wps)),
            "value_covered": round(m.get("value_covered", 0.0), 6),
            "coverage": round(m.get("coverage", 0.0), 4),
            "visits": m.get("visits", 0.0),
            "km": round(m.get("km", 0.0), 2),
            "left_out": m.get("left_out", 0.0),
        }

    labels = list(dict.fromkeys([*window_labels(a), *window_labels(b)]))
    rows = []
    for label in [*labels, None]:
        wa = [wp for wp in a.windows if label is None or wp.window.label() == label]
        wb = [wp for wp in b.windows if label is None or wp.window.label() == label]
        overlap = (
            route_overlap(
                _as_day(a, wa),
                _as_day(b, wb),
            )
            if wa and wb
            else {"visits": 0.0, "pairs": 0.0, "overlap": 0.0}
        )
        rows.append(
            {
                "window": label or "day",
                "a": figures(a, label),
                "b": figures(b, label),
                "overlap": overlap,
            }
        )
    return {"rows": rows}


def _as_day(plan: DayPlan, windows: list[Any]) -> DayPlan:
    return dataclasses.replace(plan, windows=tuple(windows))


def iso(value: dt.datetime | None) -> str | None:
    """Return an ISO text or None."""
    return None if value is None else value.isoformat()
