"""Risk terrain from a district's own OpenStreetMap data: places that draw or shelter crime.

Risk terrain modelling (Caplan & Kennedy) explains where incidents cluster by what is nearby:
bars, shops, malls, schools, hospitals, transit stops, parking, cash machines. Two steps:

1. **Offline, at import**: :func:`read_terrain` reads those places from the district's OSM file
   (nodes, and the centroid of tagged ways) with ``osmium`` and returns one row per place
   (``kind``, ``lon``, ``lat``); the district folder stores it (``terrain.parquet``).
2. **At fit time**: :func:`segment_terrain` turns the places and the street graph into one row
   per street segment: distance to the nearest place of each kind and the count within
   ``radius_m``, road class, intersection degree at both ends, dead ends.

Kinds without any place in the extract (a highways-only extract has none but signals, crossings
and transit stops) give constant columns, which a learned model simply never uses. A district
without a terrain layer (older folders, the demo) gets the street-structure columns only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy.spatial import cKDTree

from optimizer.errors import InputError
from optimizer.risk.incidents import street_segments

Tags = Mapping[str, str]


def _any(key: str, values: set[str] | None = None) -> Callable[[Tags], bool]:
    def test(tags: Tags) -> bool:
        value = tags.get(key)
        return value is not None and (values is None or value in values)

    return test


def _either(*tests: Callable[[Tags], bool]) -> Callable[[Tags], bool]:
    return lambda tags: any(t(tags) for t in tests)


TERRAIN_KINDS: dict[str, Callable[[Tags], bool]] = {
    "bar": _any("amenity", {"bar", "pub", "nightclub", "biergarten"}),
    "food": _any("amenity", {"restaurant", "fast_food", "cafe", "food_court"}),
    "shop": lambda t: "shop" in t and t["shop"] not in {"mall", "department_store"},
    "mall": _either(
        _any("shop", {"mall", "department_store"}), _any("building", {"retail", "commercial"})
    ),
    "school": _any("amenity", {"school", "kindergarten", "college", "university"}),
    "hospital": _any("amenity", {"hospital", "clinic", "doctors"}),
    "transit": _either(
        _any("highway", {"bus_stop"}),
        _any("public_transport", {"platform", "stop_position", "station"}),
        _any("railway", {"station", "halt", "tram_stop", "subway_entrance"}),
    ),
    "parking": _any("amenity", {"parking", "parking_entrance", "bicycle_parking"}),
    "atm": _any("amenity", {"atm", "bank", "bureau_de_change"}),
    "signals": _any("highway", {"traffic_signals"}),
    "crossing": _any("highway", {"crossing"}),
}
"""Place kinds of the terrain layer and the OSM tags that make a place of each kind."""

ROAD_CLASS: dict[str, int] = {
    "motorway": 0,
    "trunk": 1,
    "primary": 2,
    "secondary": 3,
    "tertiary": 4,
    "unclassified": 5,
    "residential": 6,
    "living_street": 7,
    "service": 8,
    "pedestrian": 9,
    "footway": 10,
    "path": 10,
    "cycleway": 10,
    "steps": 10,
    "track": 10,
}
"""Road class rank by ``highway`` value (``*_link`` as its road); unknown values rank 11."""

TERRAIN_COLUMNS: tuple[str, ...] = ("kind", "lon", "lat", "osm_id")


@dataclass(frozen=True)
class TerrainParams:
    """How places become segment features.

    Attributes
    ----------
    radius_m
        Places within this straight-line distance of a segment's midpoint are counted.
    max_distance_m
        Distances to the nearest place are capped here (also where a kind has no place).
    min_places
        A kind with fewer places in the district counts as absent: distances to one or two
        places are coordinates, not terrain, and a learned model would fit them as such.
    """

    radius_m: float = 200.0
    max_distance_m: float = 2000.0
    min_places: int = 5

    def __post_init__(self) -> None:
        if not 10.0 <= self.radius_m <= 5000.0:
            raise InputError("terrain.radius_m", self.radius_m, "metres in [10, 5000]")
        if not self.radius_m <= self.max_distance_m <= 50_000.0:
            raise InputError(
                "terrain.max_distance_m", self.max_distance_m, f"metres in [{self.radius_m}, 50000]"
            )
        if not (isinstance(self.min_places, int) and self.min_places >= 1):
            raise InputError("terrain.min_places", self.min_places, "an integer >= 1")


def empty_terrain() -> pd.DataFrame:
    """Return a terrain table with no places."""
    return pd.DataFrame(
        {
            "kind": pd.Series([], dtype=str),
            "lon": pd.Series([], dtype=float),
            "lat": pd.Series([], dtype=float),
            "osm_id": pd.Series([], dtype=str),
        }
    )


def _kinds_of(tags: Tags) -> list[str]:
    return [kind for kind, test in TERRAIN_KINDS.items() if test(tags)]


def read_terrain(path: str | Path) -> pd.DataFrame:
    """Read the risk-terrain places of an OSM extract (offline).

    Parameters
    ----------
    path
        ``.osm``, ``.osm.bz2`` or ``.osm.pbf`` file.

    Returns
    -------
    pandas.DataFrame
        One row per place and kind: ``kind`` (a key of :data:`TERRAIN_KINDS`), ``lon``,
        ``lat`` (WGS-84; a way's nodes averaged) and ``osm_id`` (``n123`` / ``w456``). A place
        tagged as two kinds gives two rows.
    """
    import osmium

    p = Path(path)
    if not p.is_file():
        raise InputError("osm", str(path), "an existing .osm, .osm.bz2 or .osm.pbf file")
    rows: list[tuple[str, float, float, str]] = []
    for obj in osmium.FileProcessor(str(p)).with_locations():
        if isinstance(obj, osmium.osm.Node):
            kinds = _kinds_of({t.k: t.v for t in obj.tags}) if len(obj.tags) else []
            if not kinds or not obj.location.valid():
                continue
            lon, lat, oid = obj.location.lon, obj.location.lat, f"n{obj.id}"
        elif isinstance(obj, osmium.osm.Way):
            kinds = _kinds_of({t.k: t.v for t in obj.tags}) if len(obj.tags) else []
            pts = [(n.lon, n.lat) for n in obj.nodes if n.location.valid()] if kinds else []
            if not pts:
                continue
            lon = float(np.mean([q[0] for q in pts]))
            lat = float(np.mean([q[1] for q in pts]))
            oid = f"w{obj.id}"
        else:
            continue
        rows.extend((k, float(lon), float(lat), oid) for k in kinds)
    if not rows:
        return empty_terrain()
    return pd.DataFrame(rows, columns=list(TERRAIN_COLUMNS))


def road_class(highway: str) -> int:
    """Return the rank of a ``highway`` value in :data:`ROAD_CLASS` (11 when unknown)."""
    base = str(highway).removesuffix("_link")
    return ROAD_CLASS.get(base, 11)


def segment_terrain(
    G: nx.MultiDiGraph, terrain: pd.DataFrame | None, params: TerrainParams | None = None
) -> pd.DataFrame:
    """Return the risk-terrain features of each street segment.

    Parameters
    ----------
    G
        Projected street graph.
    terrain
        Places from :func:`read_terrain`, or None (street-structure columns only).
    params
        Counting radius and distance cap.

    Returns
    -------
    pandas.DataFrame
        Index as :func:`optimizer.risk.incidents.street_segments`; columns ``road_class``,
        ``degree_max``, ``degree_min``, ``dead_end`` and, with ``terrain``, ``dist_<kind>``
        (m) and ``near_<kind>`` (count within ``radius_m``) for every kind.
    """
    p = params or TerrainParams()
    segs = street_segments(G)
    U = nx.Graph(G)
    degree = dict(U.degree())
    du = np.array([degree.get(int(u), 0) for u in segs["u"]], dtype=float)
    dv = np.array([degree.get(int(v), 0) for v in segs["v"]], dtype=float)
    out = pd.DataFrame(
        {
            "road_class": [float(road_class(h)) for h in segs["highway"]],
            "degree_max": np.maximum(du, dv),
            "degree_min": np.minimum(du, dv),
            "dead_end": (np.minimum(du, dv) <= 1).astype(float),
        },
        index=segs.index,
    )
    if terrain is None:
        return out
    missing = [c for c in ("kind", "lon", "lat") if c not in terrain.columns]
    if missing:
        raise InputError("terrain", list(terrain.columns), "columns kind, lon, lat")
    xy = segs[["x", "y"]].to_numpy(dtype=float)
    to_proj = Transformer.from_crs("EPSG:4326", segs.crs, always_xy=True)
    for kind in TERRAIN_KINDS:
        mine = terrain[terrain["kind"] == kind]
        dist = np.full(len(segs), p.max_distance_m)
        near = np.zeros(len(segs))
        if len(mine) >= p.min_places:
            px, py = to_proj.transform(
                mine["lon"].to_numpy(dtype=float), mine["lat"].to_numpy(dtype=float)
            )
            tree = cKDTree(np.column_stack([px, py]))
            d, _ = tree.query(xy, k=1, distance_upper_bound=p.max_distance_m)
            dist = np.minimum(d, p.max_distance_m)
            near = np.array([len(i) for i in tree.query_ball_point(xy, p.radius_m)], dtype=float)
        out[f"dist_{kind}"] = dist
        out[f"near_{kind}"] = near
    return out
