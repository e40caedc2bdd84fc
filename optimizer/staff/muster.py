"""Muster points: where each cell's groups meet, start and end their routes.

A group starts in or near its cell, not at a station kilometres away. For each cell the roster's
muster points (police posts, community offices, team bases) and stations that lie in the cell
or within ``reach_m`` of it are candidates, the one nearest the cell's centre is taken; a cell
without any gets its **central street node**: the node nearest the cell's centre that lies on
the district's connected street network for walking and driving (so every group, whatever its
mode, can leave it and come back to it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
from shapely.geometry import Point

from optimizer.district import District
from optimizer.streets.names import place_name

CENTRE_KIND = "cell centre"
"""``Muster.kind`` of a central street node chosen where the roster has no muster point."""


@dataclass(frozen=True)
class Muster:
    """The muster point of one cell: where its groups start and end."""

    id: str
    name: str
    lon: float
    lat: float
    node: int
    """Street node the routes start and end at."""
    kind: str
    grid_id: str


def km_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Return the distance in km between two ``(lon, lat)`` points (equirectangular)."""
    lat = math.radians((a[1] + b[1]) / 2)
    dx = math.radians(b[0] - a[0]) * math.cos(lat)
    dy = math.radians(b[1] - a[1])
    return 6371.0 * math.hypot(dx, dy)


def cell_centres(
    grids: gpd.GeoDataFrame, grid_ids: Sequence[str]
) -> dict[str, tuple[float, float]]:
    """Return a point inside each cell (``representative_point``), as ``(lon, lat)``."""
    out = {}
    for gid in grid_ids:
        p = grids.loc[gid].geometry.representative_point()
        out[gid] = (float(p.x), float(p.y))
    return out


def choose_muster_points(
    district: District,
    grid_ids: Sequence[str],
    *,
    reach_m: float = 300.0,
    modes: Sequence[str] = ("foot", "car"),
) -> dict[str, Muster]:
    """Return the muster point of every cell in ``grid_ids``.

    Parameters
    ----------
    district
        The district: grids, roster (muster points, stations) and street network.
    grid_ids
        The planning cells.
    reach_m
        A roster point within this distance outside a cell still serves it.
    modes
        The street node of a muster point lies on the connected network of all these modes
        where the cell has one (else of the first).

    Returns
    -------
    dict
        Cell id -> :class:`Muster`.
    """
    network = district.network
    res = district.resources
    candidates: list[tuple[str, str, float, float, str, str | None]] = [
        (m.id, m.name, m.lon, m.lat, m.kind, m.grid_id) for m in res.muster_points
    ]
    candidates += [(s.id, s.name, s.lon, s.lat, "station", None) for s in res.stations]
    cells = district.grids.loc[list(grid_ids)]
    metric = cells.to_crs(district.crs)
    points = gpd.GeoSeries([Point(c[2], c[3]) for c in candidates], crs="EPSG:4326").to_crs(
        district.crs
    )
    centres = cell_centres(district.grids, grid_ids)
    out: dict[str, Muster] = {}
    for gid in grid_ids:
        area = metric.loc[gid].geometry
        near = [
            c
            for c, p in zip(candidates, points, strict=True)
            if c[5] == gid or (c[5] is None and area.distance(p) <= reach_m)
        ]
        centre = centres[gid]
        if near:
            mid, name, lon, lat, kind, _ = min(
                near, key=lambda c: (km_between(centre, (c[2], c[3])), c[0])
            )
            node = network.nearest_node(lon, lat, modes=modes)
            out[gid] = Muster(mid, name, lon, lat, node, kind, gid)
            continue
        node = network.nearest_node(centre[0], centre[1], modes=modes)
        data = district.graph.nodes[node]
        where = place_name(district.graph, node) or f"node {node}"
        out[gid] = Muster(
            f"{gid}-centre",
            f"{where} (centre of {gid})",
            float(data["lon"]),
            float(data["lat"]),
            node,
            CENTRE_KIND,
            gid,
        )
    return out
