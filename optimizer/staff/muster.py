"""Muster points: where each cell's groups meet, start and end their routes.

A group starts in or near its cell, not at a station kilometres away. For each cell the roster's
muster points (police posts, community offices, team bases) and stations that lie in the cell
or within ``reach_m`` of it are candidates, the one nearest the cell's centre is taken; a cell
without any gets its **central street node**: of the street nodes inside the cell, the one
nearest the cell's centre among those on the district's connected network for walking and
driving (so every group, whatever its mode, can leave it and come back to it), else for
walking, else any; a cell without a street node inside (a long road crossing it) takes the
connected node nearest to its boundary.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from optimizer.district import District
from optimizer.streets.names import NAME_KEYS_ZH, place_name
from optimizer.streets.network import StreetRouter
from optimizer.timezones import in_china

CENTRE_KIND = "cell centre"
"""``Muster.kind`` of a central street node chosen where the roster has no muster point."""

MODE_DETOUR_M = 300.0
"""A node every mode can use is preferred unless a walkable one is this much nearer."""


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
    inside = _nodes_inside(district, grid_ids)
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
        node = _central_node(network, inside.get(gid, []), centre, modes)
        if node < 0:
            node = _nearest_to_area(district, metric.loc[gid].geometry, modes)
        data = district.graph.nodes[node]
        keys = NAME_KEYS_ZH if in_china(district.metadata.get("timezone")) else ("name",)
        where = place_name(district.graph, node, name_keys=keys) or f"node {node}"
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


def _nodes_inside(district: District, grid_ids: Sequence[str]) -> dict[str, list[int]]:
    """Street nodes inside each cell."""
    G = district.graph
    ids = list(G.nodes)
    points = gpd.GeoDataFrame(
        {"node": ids},
        geometry=gpd.points_from_xy(
            [float(G.nodes[n]["lon"]) for n in ids], [float(G.nodes[n]["lat"]) for n in ids]
        ),
        crs="EPSG:4326",
    )
    cells = gpd.GeoDataFrame(
        {"cell": list(grid_ids)}, geometry=list(district.grids.loc[list(grid_ids)].geometry)
    ).set_crs("EPSG:4326")
    joined = gpd.sjoin(points, cells, how="inner", predicate="within")
    out: dict[str, list[int]] = {}
    for node, cell in zip(joined["node"], joined["cell"], strict=True):
        out.setdefault(str(cell), []).append(int(node))
    return out


def _central_node(
    network: StreetRouter,
    inside: Sequence[int],
    centre: tuple[float, float],
    modes: Sequence[str],
) -> int:
    """The cell's central street node (see the module docstring); -1: none inside is usable."""
    if not inside:
        return -1
    nodes = list(inside)
    G = network.G
    far = np.asarray(
        [km_between(centre, (float(G.nodes[n]["lon"]), float(G.nodes[n]["lat"]))) for n in nodes]
    )
    pick = _pick(network, nodes, far * 1000, modes)
    return -1 if pick is None else pick


def _pick(
    network: StreetRouter, nodes: Sequence[int], far_m: np.ndarray, modes: Sequence[str]
) -> int | None:
    """The nearest node connected for every mode, unless one connected for the first mode (the
    most restricted, walking) is more than ``MODE_DETOUR_M`` nearer; ``None``: neither."""
    every = np.ones(len(nodes), dtype=bool)
    for m in modes:
        every &= network.connected(nodes, m)
    first = network.connected(nodes, modes[0]) if modes else every
    d_every = np.where(every, far_m, np.inf)
    d_first = np.where(first, far_m, np.inf)
    if not np.isfinite(d_first).any() and not np.isfinite(d_every).any():
        return None
    if d_every.min() <= d_first.min() + MODE_DETOUR_M:
        return int(nodes[int(np.argmin(d_every))])
    return int(nodes[int(np.argmin(d_first))])


def _nearest_to_area(district: District, area: BaseGeometry, modes: Sequence[str]) -> int:
    """The connected node nearest to ``area`` (metric geometry), as :func:`_pick` prefers it;
    any node where none is connected."""
    G = district.graph
    nodes = list(G.nodes)
    xy = shapely.points(
        np.asarray([float(G.nodes[n]["x"]) for n in nodes]),
        np.asarray([float(G.nodes[n]["y"]) for n in nodes]),
    )
    far = np.asarray(shapely.distance(xy, area), dtype=float)
    pick = _pick(district.network, nodes, far, modes)
    return int(nodes[int(np.argmin(far))]) if pick is None else pick
