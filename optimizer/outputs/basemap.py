"""The district's own streets as a basemap (no web tiles): polylines with a road class.

Both the PNG maps (in the street graph's metric CRS) and the HTML map (in WGS-84) draw these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from optimizer.district import District

MAJOR_ROADS = frozenset(
    {"motorway", "trunk", "primary", "motorway_link", "trunk_link", "primary_link"}
)
MEDIUM_ROADS = frozenset({"secondary", "tertiary", "secondary_link", "tertiary_link"})

ROAD_CLASSES: tuple[str, ...] = ("minor", "medium", "major")
"""Road classes, index = :attr:`StreetLines.road_class` value."""


def road_class(highway: Any) -> int:
    """Return the index in :data:`ROAD_CLASSES` of an OSM ``highway`` value (or list of them)."""
    values = highway if isinstance(highway, list | tuple) else [highway]
    text = " ".join(str(v) for v in values)
    words = {w.strip('[]" ,') for w in text.split()}
    if words & MAJOR_ROADS:
        return 2
    if words & MEDIUM_ROADS:
        return 1
    return 0


@dataclass(frozen=True)
class StreetLines:
    """Street polylines of a district in one CRS.

    Attributes
    ----------
    lines
        One ``(n, 2)`` array of ``x, y`` per street (each undirected edge once).
    road_class
        Per line, its index in :data:`ROAD_CLASSES`.
    bounds
        Per line, ``minx, miny, maxx, maxy``.
    crs
        The CRS of the coordinates.
    """

    lines: tuple[np.ndarray, ...]
    road_class: np.ndarray
    bounds: np.ndarray
    crs: Any

    def __len__(self) -> int:
        return len(self.lines)

    def within(self, box: tuple[float, float, float, float]) -> StreetLines:
        """Return the lines whose bounds meet ``box`` (``minx, miny, maxx, maxy``)."""
        if not self.lines:
            return self
        x0, y0, x1, y1 = box
        b = self.bounds
        keep = (b[:, 0] <= x1) & (b[:, 2] >= x0) & (b[:, 1] <= y1) & (b[:, 3] >= y0)
        idx = np.flatnonzero(keep)
        return StreetLines(
            tuple(self.lines[i] for i in idx), self.road_class[idx], self.bounds[idx], self.crs
        )


def street_lines(district: District, *, crs: Any = None) -> StreetLines:
    """Return the district's streets, following edge geometry, in ``crs``.

    Parameters
    ----------
    district
        The district (its projected street graph).
    crs
        Target CRS; ``None`` keeps the graph's own metric CRS.
    """
    G = district.graph
    seen: set[tuple[int, int]] = set()
    chains: list[np.ndarray] = []
    classes: list[int] = []
    for u, v, data in G.edges(data=True):
        key = (min(u, v), max(u, v))
        if key in seen:
            continue
        seen.add(key)
        geom = data.get("geometry")
        if geom is not None and not geom.is_empty:
            chains.append(np.asarray(geom.coords, dtype=float)[:, :2])
        else:
            a, b = G.nodes[u], G.nodes[v]
            chains.append(np.array([[a["x"], a["y"]], [b["x"], b["y"]]], dtype=float))
        classes.append(road_class(data.get("highway")))
    source = G.graph["crs"]
    if chains and crs is not None:
        from pyproj import CRS, Transformer

        if not CRS.from_user_input(crs).equals(CRS.from_user_input(source)):
            # one bulk transform of every vertex, then cut back into polylines
            to_crs = Transformer.from_crs(source, crs, always_xy=True)
            allxy = np.concatenate(chains)
            xs, ys = to_crs.transform(allxy[:, 0], allxy[:, 1])
            moved = np.column_stack([xs, ys])
            cuts = np.cumsum([len(c) for c in chains])[:-1]
            chains = list(np.split(moved, cuts))
    bounds = (
        np.array([[c[:, 0].min(), c[:, 1].min(), c[:, 0].max(), c[:, 1].max()] for c in chains])
        if chains
        else np.zeros((0, 4))
    )
    return StreetLines(
        tuple(chains), np.asarray(classes, dtype=int), bounds, crs if crs is not None else source
    )
