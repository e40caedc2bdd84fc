"""An interactive map of the plan in one self-contained HTML file that works with no network.

Leaflet's JavaScript and CSS (vendored under ``static/leaflet``, BSD-2-Clause, licence copied
into the file) and the page's own script are inlined; the basemap is the district's own
streets; nothing is fetched from anywhere. The page shows one window at a time, can be filtered
to a level-1 or level-2 cell, lists the groups (each can be hidden or zoomed to) and draws every
route in its colour (:mod:`optimizer.outputs.style`) with numbered stops whose popups give the
arrival, departure, wait and duty, with the time zone.
"""

from __future__ import annotations

import base64
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

from optimizer.district import District
from optimizer.outputs.basemap import ROAD_CLASSES, street_lines
from optimizer.outputs.cells import CellIndex, window_labels
from optimizer.outputs.schedule import member_names
from optimizer.outputs.style import GROUP_PALETTE, cell_colours, group_area, group_styles
from optimizer.outputs.times import clock, timezone_note
from optimizer.plan.types import DayPlan

STATIC = "static"
"""Folder of :mod:`optimizer.outputs` holding the page template, script, style and Leaflet."""

DIGITS = 6
"""Decimals kept in coordinates (about 0.1 m)."""


def _static_text(*parts: str) -> str:
    return resources.files("optimizer.outputs").joinpath(STATIC, *parts).read_text(encoding="utf-8")


def _static_bytes(*parts: str) -> bytes:
    return resources.files("optimizer.outputs").joinpath(STATIC, *parts).read_bytes()


def leaflet_css() -> str:
    """Return Leaflet's CSS with its images inlined as ``data:`` URIs."""
    css = _static_text("leaflet", "leaflet.css")

    def inline(match: re.Match[str]) -> str:
        name = match.group(1)
        data = base64.b64encode(_static_bytes("leaflet", *name.split("/"))).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    return re.sub(r"url\((images/[\w.-]+\.png)\)", inline, css)


def leaflet_js() -> str:
    """Return Leaflet's JavaScript without its source-map comment (nothing to fetch)."""
    js = _static_text("leaflet", "leaflet.js")
    return re.sub(r"^//# sourceMappingURL=.*$", "", js, flags=re.MULTILINE)


def _flat(coords: Any) -> list[float]:
    """``[(lon, lat), ...]`` -> ``[lat, lon, lat, lon, ...]`` rounded."""
    return [round(float(v), DIGITS) for lon, lat, *_ in coords for v in (lat, lon)]


def cells_data(
    district: District | None,
    cells: CellIndex,
    *,
    colours: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Return the district's cells for a web map: id, level, parent, name, rings, label point.

    Parameters
    ----------
    district
        The district (``None``: no cells).
    cells
        Its cell hierarchy (order, levels, parents, names).
    colours
        A colour per cell id, added as ``"colour"`` when given.
    """
    if district is None:
        return []
    out = []
    grids = district.grids.to_crs(4326)
    for cid in cells.order(str(i) for i in grids.index):
        geom = grids.loc[cid].geometry
        if geom is None or geom.is_empty:
            continue
        polys = [geom] if geom.geom_type == "Polygon" else list(getattr(geom, "geoms", []))
        p = geom.representative_point()
        cell: dict[str, Any] = {
            "id": cid,
            "level": cells.level[cid],
            "parent": cells.parent.get(cid),
            "name": cells.name.get(cid, ""),
            "rings": [_flat(poly.exterior.coords) for poly in polys],
            "label": [round(p.y, DIGITS), round(p.x, DIGITS)],
        }
        if colours is not None:
            cell["colour"] = colours.get(cid)
        out.append(cell)
    return out


def html_map_data(plan: DayPlan, *, district: District | None = None) -> dict[str, Any]:
    """Return everything the page draws, as JSON-able data.

    Parameters
    ----------
    plan
        The day plan.
    district
        The plan's district: streets, cells, posts and members' names (never phones or IDs).

    Returns
    -------
    dict
        ``title``, ``timezone_note``, ``bounds``, ``streets`` (per road class, flat
        ``lat, lon`` lists), ``cells`` and ``windows`` (routes with stops, hotspots, posts
        left out).
    """
    cells = CellIndex.from_district(district)
    styles = group_styles(plan, cells)
    names = member_names(district)
    posts = {p.id: p for p in district.resources.posts} if district is not None else {}
    area_colours = cell_colours(district) if district is not None else {}
    streets: list[list[list[float]]] = [[] for _ in ROAD_CLASSES]
    lats: list[float] = []
    lons: list[float] = []
    if district is not None:
        lines = street_lines(district, crs="EPSG:4326")
        for line, cls in zip(lines.lines, lines.road_class, strict=True):
            streets[int(cls)].append(_flat(line))
        b = district.grids.to_crs(4326).total_bounds
        lons += [float(b[0]), float(b[2])]
        lats += [float(b[1]), float(b[3])]
    windows = []
    for label in window_labels(plan):
        wps = [wp for wp in plan.windows if wp.window.label() == label]
        routes: list[dict[str, Any]] = []
        hotspots: list[dict[str, Any]] = []
        left_posts: list[dict[str, Any]] = []
        for wp in sorted(wps, key=lambda w: cells.sort_key(w.grid_id)):
            chain = cells.ancestors(wp.grid_id)
            left = {lo.site_id: lo.reason for lo in wp.left_out}
            for route in sorted(wp.routes, key=lambda r: styles[(label, r.group.id)].index):
                g = route.group
                st = styles[(label, g.id)]
                lons += [s.lon for s in route.stops]
                lats += [s.lat for s in route.stops]
                routes.append(
                    {
                        "id": g.id,
                        "grid": wp.grid_id,
                        "cells": chain,
                        "area": group_area(cells, wp.grid_id),
                        "mode": g.mode,
                        "people": ", ".join(names.get(m, m) for m in g.members) if names else "",
                        "colour": st.colour,
                        "dashed": st.dashed,
                        "line": st.line,
                        "area_colour": area_colours.get(st.area, st.colour),
                        "km": round(route.distance_m / 1000, 2),
                        "visits": sum(1 for s in route.stops if s.kind not in ("start", "end")),
                        "start": clock(route.stops[0].departure),
                        "end": clock(route.stops[-1].arrival),
                        "path": _flat(route.path.coords),
                        "stops": [
                            {
                                "n": s.sequence,
                                "kind": s.kind,
                                "name": s.name,
                                "lat": round(s.lat, DIGITS),
                                "lon": round(s.lon, DIGITS),
                                "arr": clock(s.arrival),
                                "dep": clock(s.departure),
                                "wait": round(s.wait_min, 1),
                                "purpose": s.purpose,
                            }
                            for s in route.stops
                        ],
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
                        "v": round(h.value, 6),
                        "label": h.label,
                        "out": left.get(h.id),
                    }
                )
            for lo in wp.left_out:
                post = posts.get(lo.site_id)
                if lo.kind == "post" and post is not None:
                    left_posts.append(
                        {
                            "id": post.id,
                            "name": post.name,
                            "grid": wp.grid_id,
                            "cells": chain,
                            "lat": round(post.lat, DIGITS),
                            "lon": round(post.lon, DIGITS),
                            "reason": lo.reason,
                        }
                    )
        windows.append(
            {
                "label": label,
                "routes": routes,
                "hotspots": hotspots,
                "posts_left_out": left_posts,
                "vmax": max((float(h["v"]) for h in hotspots), default=0.0),
            }
        )
    bounds = (
        [[min(lats), min(lons)], [max(lats), max(lons)]] if lats else [[-0.01, -0.01], [0.01, 0.01]]
    )
    return {
        "title": f"Patrol plan — {plan.district}, {plan.date:%a %Y-%m-%d}",
        "timezone_note": timezone_note(plan),
        "bounds": bounds,
        "streets": streets,
        "cells": cells_data(district, cells),
        "windows": windows,
        "palette_size": len(GROUP_PALETTE),
    }


def _script_safe(text: str) -> str:
    """Keep inlined text from closing its ``<script>`` or ``<style>`` element early."""
    return text.replace("</", "<\\/")


def html_map(plan: DayPlan, *, district: District | None = None) -> str:
    """Return the self-contained page (see the module docstring)."""
    data = json.dumps(
        html_map_data(plan, district=district), ensure_ascii=False, separators=(",", ":")
    )
    licence = _static_text("leaflet", "LICENSE").replace("--", "- -")
    parts = {
        "{{TITLE}}": f"Patrol plan — {plan.district}, {plan.date.isoformat()}",
        "{{LEAFLET_CSS}}": leaflet_css(),
        "{{PAGE_CSS}}": _static_text("plan_map.css"),
        "{{DATA}}": _script_safe(data),
        "{{LEAFLET_JS}}": leaflet_js(),
        "{{PAGE_JS}}": _static_text("plan_map.js"),
        "{{LICENCES}}": f"Leaflet 1.9.4 licence:\n{licence}",
    }
    page = _static_text("plan_map.html")
    # one pass, so that no inlined text is searched for the next placeholder
    pattern = re.compile("|".join(re.escape(k) for k in parts))
    return pattern.sub(lambda m: parts[m.group(0)], page)


def write_html_map(plan: DayPlan, path: str | Path, *, district: District | None = None) -> Path:
    """Write :func:`html_map` to ``path`` (UTF-8); it opens in a browser with no network."""
    out = Path(path)
    out.write_text(html_map(plan, district=district), encoding="utf-8")
    return out
