"""Incident intake: read, validate, map categories, convert coordinates, snap to streets.

The incident schema (GeoDataFrame, EPSG:4326), one row per incident:

``incident_id`` (str), ``category`` (vocabulary key, see ``optimizer.categories``),
``occurred_at`` (tz-aware pandas datetime; midnight local time for date-only sources),
``date_only`` (bool), ``severity`` (float), ``lon``, ``lat``, ``geometry``; after snapping also
``u``, ``v``, ``key`` (the street edge), ``snap_m`` (metres from the reported point to the street),
``node`` (nearer end of the edge) and ``grid_id`` (finest grid containing the point) where grids
are known.

:func:`read_incidents` never drops a row silently: every rejected row (and every incident too far
from any street) is listed in :attr:`IntakeResult.problems` with its line, field, value and reason.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import LineString

from optimizer.errors import InputError

INCIDENT_COLUMNS: tuple[str, ...] = (
    "incident_id",
    "category",
    "occurred_at",
    "date_only",
    "severity",
    "lon",
    "lat",
    "geometry",
)
"""Columns every incident frame has (snapping adds ``u, v, key, snap_m, node, grid_id``)."""

CRS_NAMES: tuple[str, ...] = ("wgs84", "gcj02", "bd09")
DEFAULT_MAX_SNAP_M = 100.0

# ---------------------------------------------------------------------------------------------
# street segments


def _ensure_projected(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Return ``G`` projected to a metric CRS with node ``lon``/``lat`` (unchanged if it is)."""
    crs = CRS.from_user_input(G.graph.get("crs", "EPSG:4326"))
    if crs.is_geographic:
        import osmnx as ox

        for _, d in G.nodes(data=True):
            d.setdefault("lon", float(d["x"]))
            d.setdefault("lat", float(d["y"]))
        return ox.project_graph(G)
    missing = [n for n, d in G.nodes(data=True) if "lon" not in d or "lat" not in d]
    if missing:
        to_wgs = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        xs = np.array([G.nodes[n]["x"] for n in missing], dtype=float)
        ys = np.array([G.nodes[n]["y"] for n in missing], dtype=float)
        lons, lats = to_wgs.transform(xs, ys)
        for n, lo, la in zip(missing, lons, lats, strict=True):
            G.nodes[n]["lon"] = float(lo)
            G.nodes[n]["lat"] = float(la)
    return G


_SEGMENTS: weakref.WeakKeyDictionary[nx.MultiDiGraph, gpd.GeoDataFrame] = (
    weakref.WeakKeyDictionary()
)


def street_segments(G: nx.MultiDiGraph) -> gpd.GeoDataFrame:
    """Return the undirected street segments of a projected graph, one row per street piece.

    A two-way street is two directed edges ``(u, v, k)`` and ``(v, u, k)`` in the graph and one
    segment here (``u < v`` kept, or the only direction that exists). Cached per graph object.

    Parameters
    ----------
    G
        Projected street graph (node ``x``/``y`` in metres, ``lon``/``lat``; edge ``length``).

    Returns
    -------
    geopandas.GeoDataFrame
        Index ``0..S-1``; columns ``u``, ``v``, ``key``, ``length`` (m), ``highway``, ``x``,
        ``y`` (midpoint, metres), ``lon``, ``lat`` (midpoint) and projected ``geometry``.
    """
    cached = _SEGMENTS.get(G)
    if cached is not None:
        return cached
    crs = CRS.from_user_input(G.graph.get("crs", "EPSG:4326"))
    if crs.is_geographic:
        raise InputError("graph.crs", str(crs), "a projected street graph (metres)")
    seen: set[tuple[int, int, int]] = set()
    rows: list[tuple[int, int, int, float, str]] = []
    geoms: list[LineString] = []
    for u, v, k, d in sorted(G.edges(keys=True, data=True), key=lambda e: (e[0], e[1], e[2])):
        a, b = (u, v) if u <= v else (v, u)
        if (a, b, k) in seen:
            continue
        seen.add((a, b, k))
        geom = d.get("geometry")
        if geom is None:
            geom = LineString(
                [(G.nodes[u]["x"], G.nodes[u]["y"]), (G.nodes[v]["x"], G.nodes[v]["y"])]
            )
        hw = d.get("highway", "")
        if isinstance(hw, list):
            hw = hw[0] if hw else ""
        length = float(d.get("length", geom.length))
        rows.append((int(u), int(v), int(k), max(length, 0.1), str(hw)))
        geoms.append(geom)
    frame = pd.DataFrame(rows, columns=["u", "v", "key", "length", "highway"])
    mids = shapely.line_interpolate_point(np.array(geoms, dtype=object), 0.5, normalized=True)
    frame["x"] = shapely.get_x(mids)
    frame["y"] = shapely.get_y(mids)
    to_wgs = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs.transform(frame["x"].to_numpy(), frame["y"].to_numpy())
    frame["lon"] = lon
    frame["lat"] = lat
    segs = gpd.GeoDataFrame(frame, geometry=geoms, crs=crs)
    _SEGMENTS[G] = segs
    return segs


def grid_of_points(
    grids: gpd.GeoDataFrame | None, lon: np.ndarray, lat: np.ndarray
) -> np.ndarray:
    """Return the finest-level grid id containing each point (None outside every grid)."""
    out = np.full(len(lon), None, dtype=object)
    if grids is None or len(grids) == 0 or len(lon) == 0:
        return out
    level = grids["level"].max() if "level" in grids.columns else None
    leaf = grids if level is None else grids[grids["level"] == level]
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    polys = gpd.GeoDataFrame(
        {"grid_id": [str(i) for i in leaf.index]}, geometry=list(leaf.geometry), crs="EPSG:4326"
    )
    joined = gpd.sjoin(pts, polys, how="left", predicate="intersects")
    first = joined[~joined.index.duplicated(keep="first")]
    vals = first["grid_id"].reindex(range(len(lon))).to_numpy(dtype=object)
    for i, g in enumerate(vals):
        out[i] = None if g is None or (isinstance(g, float) and np.isnan(g)) else str(g)
    return out


@dataclass(frozen=True)
class Snapped:
    """Nearest street segment of some points."""

    segment: np.ndarray
    """Index into :func:`street_segments` (``-1`` where nothing is within the limit)."""
    snap_m: np.ndarray
    """Distance to that segment in metres (``nan`` where nothing is within the limit)."""
    position: np.ndarray
    """Fraction along the segment from its ``u`` end (0..1)."""


def snap_points(
    G: nx.MultiDiGraph, lon: np.ndarray, lat: np.ndarray, *, max_snap_m: float = DEFAULT_MAX_SNAP_M
) -> Snapped:
    """Snap WGS-84 points to the nearest street segment of a projected graph.

    Parameters
    ----------
    G
        Projected street graph.
    lon, lat
        WGS-84 coordinates.
    max_snap_m
        Points farther than this from every street get segment ``-1``.

    Returns
    -------
    Snapped
    """
    segs = street_segments(G)
    to_proj = Transformer.from_crs("EPSG:4326", segs.crs, always_xy=True)
    x, y = to_proj.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    pts = shapely.points(x, y)
    tree = shapely.STRtree(np.asarray(segs.geometry.array, dtype=object))
    n = len(pts)
    seg = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.nan)
    pos = np.zeros(n)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.any():
        idx = np.flatnonzero(ok)
        (pi, si), d = tree.query_nearest(
            pts[idx], max_distance=max_snap_m, return_distance=True, all_matches=False
        )
        seg[idx[pi]] = si
        dist[idx[pi]] = d
        lines = np.asarray(segs.geometry.array, dtype=object)[si]
        pos[idx[pi]] = shapely.line_locate_point(lines, pts[idx[pi]], normalized=True)
    return Snapped(seg, dist, np.nan_to_num(pos))


def snap_incidents(
    incidents: gpd.GeoDataFrame,
    G: nx.MultiDiGraph,
    *,
    grids: gpd.GeoDataFrame | None = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Add ``u``, ``v``, ``key``, ``snap_m``, ``node`` (and ``grid_id``) to incidents.

    Parameters
    ----------
    incidents
        Incident frame (schema in the module docstring).
    G
        Projected street graph.
    grids
        Grids of the district; adds ``grid_id`` (finest level) when given.
    max_snap_m
        Incidents farther than this from every street are not snapped.

    Returns
    -------
    (snapped, too_far)
        The snapped incidents, and those farther than ``max_snap_m`` from every street (with
        ``snap_m`` = distance to the nearest street, or nan if none within 10 km).
    """
    segs = street_segments(G)
    lon = incidents["lon"].to_numpy(dtype=float)
    lat = incidents["lat"].to_numpy(dtype=float)
    sn = snap_points(G, lon, lat, max_snap_m=max_snap_m)
    out = incidents.copy()
    good = sn.segment >= 0
    si = np.where(good, sn.segment, 0)
    out["u"] = segs["u"].to_numpy()[si]
    out["v"] = segs["v"].to_numpy()[si]
    out["key"] = segs["key"].to_numpy()[si]
    out["snap_m"] = sn.snap_m
    out["position"] = sn.position
    out["node"] = np.where(sn.position <= 0.5, out["u"].to_numpy(), out["v"].to_numpy())
    if grids is not None:
        out["grid_id"] = grid_of_points(grids, lon, lat)
    far = out[~good].copy()
    if len(far):
        wide = snap_points(G, far["lon"].to_numpy(), far["lat"].to_numpy(), max_snap_m=10_000.0)
        far["snap_m"] = wide.snap_m
    return out[good].reset_index(drop=True), far.reset_index(drop=True)


def segment_index(incidents: pd.DataFrame, G: nx.MultiDiGraph) -> np.ndarray:
    """Return the street-segment index of snapped incidents (``-1`` where the edge is unknown)."""
    segs = street_segments(G)
    lookup: dict[tuple[int, int, int], int] = {}
    for i, (u, v, k) in enumerate(
        zip(segs["u"].to_numpy(), segs["v"].to_numpy(), segs["key"].to_numpy(), strict=True)
    ):
        lookup[(int(u), int(v), int(k))] = i
        lookup.setdefault((int(v), int(u), int(k)), i)
    us = incidents["u"].to_numpy()
    vs = incidents["v"].to_numpy()
    ks = incidents["key"].to_numpy()
    return np.array(
        [lookup.get((int(u), int(v), int(k)), -1) for u, v, k in zip(us, vs, ks, strict=True)],
        dtype=np.int64,
    )


def empty_incidents() -> gpd.GeoDataFrame:
    """Return an incident frame with the schema's columns and no rows."""
    frame = pd.DataFrame(
        {
            "incident_id": pd.Series([], dtype=str),
            "category": pd.Series([], dtype=str),
            "occurred_at": pd.Series([], dtype="datetime64[ns, UTC]"),
            "date_only": pd.Series([], dtype=bool),
            "severity": pd.Series([], dtype=float),
            "lon": pd.Series([], dtype=float),
            "lat": pd.Series([], dtype=float),
        }
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy([], []), crs="EPSG:4326")
