"""Street graphs from OpenStreetMap files and travel times per mode (foot, bicycle, car).

Reading is offline: ``.osm``, ``.osm.bz2`` and ``.osm.pbf`` files go through pyosmium, which keeps
the highway ways some mode may use (and drops references to nodes missing from clipped extracts),
then through ``osmnx.graph_from_xml`` into an unprojected, simplified osmnx graph.

:func:`prepare_graph` projects the graph to a metric CRS and adds ``travel_time_foot``,
``travel_time_bicycle`` and ``travel_time_car`` (seconds) to every edge. Convention: an edge a
mode may not use carries ``math.inf`` for that mode. One-way streets bind cars, not walkers:
where osmnx made only the forward edge of a one-way street, the reverse edge is added with
``travel_time_car = inf`` (and ``oneway_reverse = True``).
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

import networkx as nx
from shapely.geometry import LineString, Polygon
from shapely.geometry.base import BaseGeometry

from optimizer.errors import InputError

MODES: tuple[str, ...] = ("foot", "bicycle", "car")
"""Travel modes with a ``travel_time_<mode>`` edge attribute."""

ACCEPTED_SUFFIXES: tuple[str, ...] = (".osm", ".osm.bz2", ".osm.pbf", ".pbf", ".xml")

# Ways that are no street for anybody (yet or any more), or not a line a patrol can follow.
_DROPPED_HIGHWAY = frozenset(
    {
        "construction",
        "proposed",
        "planned",
        "abandoned",
        "disused",
        "razed",
        "dismantled",
        "platform",
        "bus_guideway",
        "raceway",
        "bus_stop",
        "rest_area",
        "services",
        "elevator",
        "emergency_bay",
        "no",
        "none",
    }
)
_NO_FOOT_HIGHWAY = frozenset({"motorway", "motorway_link"})
_NO_BICYCLE_HIGHWAY = frozenset({"motorway", "motorway_link", "steps", "corridor"})
_CAR_HIGHWAY = frozenset(
    {
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
        "unclassified",
        "residential",
        "living_street",
        "service",
        "road",
        "track",
    }
)
_DENY = frozenset({"no", "private", "use_sidepath", "discouraged", "military"})
_ALLOW = frozenset(
    {
        "yes",
        "designated",
        "permissive",
        "destination",
        "official",
        "delivery",
        "customers",
        "permit",
        "agricultural",
        "forestry",
    }
)

# OSM tags kept on ways (osmnx keeps only "useful" tags).
_WAY_TAGS = (
    "access",
    "area",
    "bicycle",
    "bridge",
    "foot",
    "highway",
    "junction",
    "lanes",
    "maxspeed",
    "motor_vehicle",
    "motorcar",
    "name",
    "name:zh",
    "oneway",
    "ref",
    "service",
    "tunnel",
    "vehicle",
    "width",
)

_DEFAULT_CAR_KMH: Mapping[str, float] = MappingProxyType(
    {
        "motorway": 90.0,
        "motorway_link": 50.0,
        "trunk": 70.0,
        "trunk_link": 40.0,
        "primary": 50.0,
        "primary_link": 35.0,
        "secondary": 45.0,
        "secondary_link": 30.0,
        "tertiary": 40.0,
        "tertiary_link": 30.0,
        "unclassified": 30.0,
        "residential": 30.0,
        "road": 30.0,
        "living_street": 10.0,
        "service": 15.0,
        "track": 15.0,
    }
)


@dataclass(frozen=True)
class TravelSpeeds:
    """Travel speeds per mode (km/h) and how car speeds are derived.

    Parameters
    ----------
    foot_kmh
        Walking speed on any street walkers may use.
    bicycle_kmh
        Bicycle / e-bike speed.
    car_kmh_by_highway
        Car free-flow speed per OSM ``highway`` class, used where ``maxspeed`` is missing
        or ``use_maxspeed`` is False.
    car_default_kmh
        Car speed on highway classes missing from ``car_kmh_by_highway``.
    urban_patrol_factor
        Multiplier on the car speed (maxspeed or class speed): a patrol car drives below the
        limit in town (junctions, traffic, looking around). In ``(0, 1.5]``.
    use_maxspeed
        Take the car speed from the OSM ``maxspeed`` tag where it parses.
    max_car_kmh
        Upper bound on the car speed after the factor.
    oneway_binds_bicycle
        If True, cyclists obey one-way streets like cars; by default they may ride both ways
        (patrol e-bikes, walking the bike where needed).
    """

    foot_kmh: float = 5.0
    bicycle_kmh: float = 15.0
    car_kmh_by_highway: Mapping[str, float] = field(
        default_factory=lambda: _DEFAULT_CAR_KMH, hash=False
    )
    car_default_kmh: float = 25.0
    urban_patrol_factor: float = 0.7
    use_maxspeed: bool = True
    max_car_kmh: float = 100.0
    oneway_binds_bicycle: bool = False

    def __post_init__(self) -> None:
        for name in ("foot_kmh", "bicycle_kmh", "car_default_kmh", "max_car_kmh"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0 < value <= 300 or math.isnan(value):
                raise InputError(f"speeds.{name}", value, "a speed in km/h in (0, 300]")
        f = self.urban_patrol_factor
        if not isinstance(f, (int, float)) or not 0 < f <= 1.5 or math.isnan(f):
            raise InputError("speeds.urban_patrol_factor", f, "a factor in (0, 1.5]")
        if not isinstance(self.car_kmh_by_highway, Mapping):
            raise InputError(
                "speeds.car_kmh_by_highway",
                self.car_kmh_by_highway,
                "a mapping of OSM highway class to km/h",
            )
        for hw, v in self.car_kmh_by_highway.items():
            if not isinstance(v, (int, float)) or not 0 < v <= 300 or math.isnan(v):
                raise InputError(
                    f"speeds.car_kmh_by_highway[{hw!r}]", v, "a speed in km/h in (0, 300]"
                )
        object.__setattr__(
            self, "car_kmh_by_highway", MappingProxyType(dict(self.car_kmh_by_highway))
        )

    def speed_ms(self, mode: str, data: Mapping[str, Any] | None = None) -> float:
        """Return the speed of ``mode`` in m/s on an edge with attributes ``data``.

        Parameters
        ----------
        mode
            ``"foot"``, ``"bicycle"`` or ``"car"``.
        data
            Edge attributes (``highway``, ``maxspeed``); only used for cars.

        Returns
        -------
        float
            Speed in metres per second.
        """
        if mode == "foot":
            return self.foot_kmh / 3.6
        if mode == "bicycle":
            return self.bicycle_kmh / 3.6
        if mode != "car":
            raise InputError("mode", mode, f"one of {', '.join(MODES)}")
        data = data or {}
        kmh: float | None = None
        if self.use_maxspeed:
            kmh = parse_maxspeed(data.get("maxspeed"))
        if kmh is None:
            classes = [h for h in _values(data.get("highway")) if h in self.car_kmh_by_highway]
            kmh = (
                min(self.car_kmh_by_highway[h] for h in classes)
                if classes
                else self.car_default_kmh
            )
        return min(kmh * self.urban_patrol_factor, self.max_car_kmh) / 3.6


_MAXSPEED_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$", re.IGNORECASE)
_MAXSPEED_WORDS = {"walk": 7.0, "living_street": 10.0, "urban": 50.0, "rural": 80.0}


def parse_maxspeed(value: Any) -> float | None:
    """Parse an OSM ``maxspeed`` value to km/h (lowest of several), or None if unusable.

    Parameters
    ----------
    value
        Tag value(s): ``"50"``, ``"30 mph"``, ``"CN:urban"``, ``"none"``, or a list of them.

    Returns
    -------
    float or None
        Speed limit in km/h.
    """
    speeds: list[float] = []
    for raw in _values(value):
        for part in re.split(r"[;|]", raw):
            m = _MAXSPEED_RE.match(part)
            if m:
                v = float(m.group(1)) * (1.609344 if (m.group(2) or "").lower() == "mph" else 1)
                if v > 0:
                    speeds.append(v)
                continue
            word = part.strip().lower().split(":")[-1]
            if word in _MAXSPEED_WORDS:
                speeds.append(_MAXSPEED_WORDS[word])
    return min(speeds) if speeds else None


def _values(value: Any) -> list[str]:
    """Tag value(s) as a list of strings (osmnx stores merged values as lists)."""
    if value is None:
        return []
    if isinstance(value, float) and math.isnan(value):
        return []
    if isinstance(value, (list, tuple, set)):
        return [str(v) for v in value if v is not None]
    return [str(value)]


def allowed_modes(tags: Mapping[str, Any]) -> dict[str, bool]:
    """Return which modes may use a way or edge with OSM ``tags``, ignoring direction.

    Parameters
    ----------
    tags
        OSM tags or osmnx edge attributes (values may be lists after simplification; a mode is
        then allowed only if every value allows it).

    Returns
    -------
    dict
        ``{"foot": bool, "bicycle": bool, "car": bool}``.
    """
    hws = set(_values(tags.get("highway")))
    if not hws or hws & _DROPPED_HIGHWAY or "yes" in _values(tags.get("area")):
        return {m: False for m in MODES}
    access = set(_values(tags.get("access")))

    def permitted(*keys: str) -> bool:
        # The most specific tag present decides (e.g. motorcar over motor_vehicle over vehicle).
        for key in keys:
            vals = set(_values(tags.get(key)))
            if vals:
                return not (vals & _DENY)
        return not (access & _DENY)

    foot = not (hws & _NO_FOOT_HIGHWAY) and permitted("foot")
    bicycle = not (hws & _NO_BICYCLE_HIGHWAY) and permitted("bicycle", "vehicle")
    car = hws <= _CAR_HIGHWAY and permitted("motorcar", "motor_vehicle", "vehicle")
    return {"foot": bool(foot), "bicycle": bool(bicycle), "car": bool(car)}


def _suffix_ok(path: Path) -> bool:
    name = path.name.lower()
    return any(name.endswith(s) for s in ACCEPTED_SUFFIXES)


def _filter_to_xml(src: Path, dst: Path) -> int:
    """Write the usable highway ways of ``src`` and their nodes to OSM XML ``dst``.

    Returns the number of ways written.
    """
    import osmium

    needed: set[int] = set()
    for o in cast(Iterable[Any], osmium.FileProcessor(str(src), osmium.osm.WAY)):
        tags = dict(o.tags)
        if "highway" in tags and any(allowed_modes(tags).values()):
            needed.update(n.ref for n in o.nodes)
    n_ways = 0
    with osmium.SimpleWriter(str(dst), overwrite=True) as w:
        objects = osmium.FileProcessor(str(src), osmium.osm.NODE | osmium.osm.WAY)
        for o in cast(Iterable[Any], objects.with_locations()):
            if o.is_node():
                if o.id in needed:
                    w.add(o)
            elif o.is_way() and "highway" in o.tags:
                if not any(allowed_modes(dict(o.tags)).values()):
                    continue
                refs = [n.ref for n in o.nodes if n.location.valid()]
                if len(refs) >= 2:
                    w.add(o.replace(nodes=refs))
                    n_ways += 1
    return n_ways


def graph_from_osm_file(
    path: str | Path,
    *,
    boundary: Polygon | BaseGeometry | None = None,
    retain_all: bool = False,
) -> nx.MultiDiGraph:
    """Read a street graph from an OpenStreetMap file, offline.

    Parameters
    ----------
    path
        ``.osm`` / ``.xml`` (OSM XML), ``.osm.bz2`` or ``.osm.pbf`` file.
    boundary
        Optional WGS-84 polygon: streets are clipped to it (edges crossing it are kept whole).
    retain_all
        Keep every connected piece; by default only the largest weakly connected component.

    Returns
    -------
    networkx.MultiDiGraph
        osmnx graph, unprojected (``x`` = lon, ``y`` = lat, CRS EPSG:4326), simplified, with the
        highway ways that foot, bicycle or car may use. One-way streets have one edge.

    Raises
    ------
    InputError
        If the file is missing, has an unknown suffix, cannot be parsed, or holds no streets.
    """
    import osmnx as ox

    p = Path(path)
    accepted = "an OSM file (.osm, .osm.bz2 or .osm.pbf) with highway ways"
    if not p.is_file():
        raise InputError("osm", str(p), f"an existing file: {accepted}")
    if not _suffix_ok(p):
        raise InputError("osm", str(p), accepted)
    if boundary is not None and (
        not isinstance(boundary, BaseGeometry)
        or boundary.is_empty
        or boundary.geom_type not in ("Polygon", "MultiPolygon")
    ):
        raise InputError("boundary", boundary, "a non-empty shapely (Multi)Polygon in WGS-84")
    with tempfile.TemporaryDirectory(prefix="patrol-osm-") as tmp:
        xml = Path(tmp) / "streets.osm"
        try:
            n_ways = _filter_to_xml(p, xml)
        except (RuntimeError, ValueError, OSError) as exc:
            raise InputError("osm", str(p), f"{accepted} (could not read it: {exc})") from exc
        if n_ways == 0:
            raise InputError("osm", str(p), f"{accepted} (found no usable highway ways)")
        saved = ox.settings.useful_tags_way
        ox.settings.useful_tags_way = list(_WAY_TAGS)
        try:
            # Without a boundary osmnx simplifies and keeps the largest piece itself (faster).
            G = ox.graph_from_xml(
                xml,
                bidirectional=False,
                simplify=boundary is None,
                retain_all=retain_all or boundary is not None,
            )
        finally:
            ox.settings.useful_tags_way = saved
    if boundary is not None:
        try:
            G = ox.truncate.truncate_graph_polygon(
                G,
                boundary,  # type: ignore[arg-type]
                truncate_by_edge=True,
            )
        except ValueError as exc:
            raise InputError(
                "boundary", boundary.bounds, f"a polygon that overlaps the streets of {p.name}"
            ) from exc
        if not retain_all and G.number_of_nodes():
            G = ox.truncate.largest_component(G, strongly=False)
        if G.number_of_edges():
            G = ox.simplify_graph(G)
    if G.number_of_edges() == 0:
        raise InputError("osm", str(p), f"{accepted} (no streets left after clipping)")
    _sort_list_attributes(G)
    G.graph["source"] = str(p)
    return G


def _sort_list_attributes(G: nx.MultiDiGraph) -> None:
    """Sort list-valued edge attributes in place.

    osmnx's simplification merges the tags of joined ways through sets, so their order follows
    Python's string hashing and differs between processes. Sorted, the same file gives the same
    graph (and the same synthetic incidents, hotspots and plans) in every process.
    """
    for _, _, data in G.edges(data=True):
        for key, value in data.items():
            if isinstance(value, list):
                data[key] = sorted(value, key=str)


def _is_reversed(data: Mapping[str, Any]) -> bool:
    rev = data.get("reversed", False)
    if isinstance(rev, list):
        return bool(rev) and all(bool(r) for r in rev)
    return bool(rev)


def _is_oneway(data: Mapping[str, Any]) -> bool:
    ow = data.get("oneway", False)
    if isinstance(ow, list):
        return any(bool(o) for o in ow)
    return bool(ow)


def prepare_graph(
    G: nx.MultiDiGraph,
    *,
    speeds: TravelSpeeds | None = None,
    to_crs: Any | None = None,
) -> nx.MultiDiGraph:
    """Project a street graph and add travel times per mode to its edges.

    Parameters
    ----------
    G
        Graph from :func:`graph_from_osm_file` (unprojected), or an already projected graph
        whose nodes carry ``lon``/``lat``.
    speeds
        Travel speeds; default :class:`TravelSpeeds`.
    to_crs
        Target CRS; default the local UTM zone.

    Returns
    -------
    networkx.MultiDiGraph
        New graph: nodes with projected ``x``/``y`` and WGS-84 ``lon``/``lat``; edges with
        ``length`` (m) and ``travel_time_foot``, ``travel_time_bicycle``, ``travel_time_car``
        (s, ``math.inf`` where the mode may not use the edge in that direction). One-way streets
        get a reverse edge for walkers (``oneway_reverse=True``, ``travel_time_car=inf``).

    Raises
    ------
    InputError
        If the graph is empty or lacks coordinates.
    """
    import osmnx as ox

    speeds = speeds if speeds is not None else TravelSpeeds()
    if not isinstance(speeds, TravelSpeeds):
        raise InputError("speeds", speeds, "a TravelSpeeds")
    if G.number_of_nodes() == 0 or G.number_of_edges() == 0:
        raise InputError(
            "graph",
            f"{G.number_of_nodes()} nodes / {G.number_of_edges()} edges",
            "a street graph with edges",
        )
    crs = G.graph.get("crs")
    if crs is None:
        raise InputError("graph.crs", None, "a graph with a CRS (osmnx graph)")
    from pyproj import CRS

    if CRS.from_user_input(crs).is_geographic:
        G = G.copy()
        for _, d in G.nodes(data=True):
            d["lon"], d["lat"] = float(d["x"]), float(d["y"])
        P = ox.project_graph(G, to_crs=to_crs)
    else:
        missing = [n for n, d in G.nodes(data=True) if "lon" not in d or "lat" not in d]
        if missing:
            raise InputError(
                "graph.nodes.lon", missing[:5], "projected graphs whose nodes carry lon/lat"
            )
        P = ox.project_graph(G, to_crs=to_crs) if to_crs is not None else G.copy()

    added: list[tuple[int, int, dict[str, Any]]] = []
    for u, v, d in P.edges(data=True):
        ok = allowed_modes(d)
        length = float(d.get("length", 0.0))
        oneway = _is_oneway(d)
        for mode in MODES:
            fine = ok[mode]
            if oneway and (mode == "car" or (mode == "bicycle" and speeds.oneway_binds_bicycle)):
                fine = fine and not d.get("oneway_reverse", False)
            d[f"travel_time_{mode}"] = (length / speeds.speed_ms(mode, d)) if fine else math.inf
        if oneway and not d.get("oneway_reverse", False) and (ok["foot"] or ok["bicycle"]):
            added.append((u, v, d))
    for u, v, d in added:
        if u == v:
            continue
        # A two-way street has its reverse edge already; a one-way one gets one for walkers.
        if any(
            _is_oneway(r) is False or r.get("oneway_reverse")
            for r in (P.get_edge_data(v, u) or {}).values()
            if abs(float(r.get("length", 0.0)) - float(d.get("length", 0.0))) < 0.5
        ):
            continue
        r = dict(d)
        r["reversed"] = not _is_reversed(d)
        r["oneway_reverse"] = True
        geom = d.get("geometry")
        if isinstance(geom, LineString):
            r["geometry"] = LineString(list(geom.coords)[::-1])
        r["travel_time_car"] = math.inf
        if speeds.oneway_binds_bicycle:
            r["travel_time_bicycle"] = math.inf
        P.add_edge(v, u, **r)
    P.graph["travel_speeds"] = {
        "foot_kmh": speeds.foot_kmh,
        "bicycle_kmh": speeds.bicycle_kmh,
        "car_default_kmh": speeds.car_default_kmh,
        "urban_patrol_factor": speeds.urban_patrol_factor,
    }
    return P


@dataclass(frozen=True)
class ModeSubgraphReport:
    """What :func:`mode_subgraph` dropped.

    Attributes
    ----------
    mode
        Travel mode.
    kept_nodes, kept_edges
        Size of the returned graph.
    closed_edges, closed_length_m
        Edges (and their length) the mode may not use.
    disconnected_nodes, disconnected_edges, disconnected_length_m
        Usable edges outside the largest strongly connected component.
    """

    mode: str
    kept_nodes: int
    kept_edges: int
    closed_edges: int
    closed_length_m: float
    disconnected_nodes: int
    disconnected_edges: int
    disconnected_length_m: float

    def summary(self) -> str:
        """One line for import reports."""
        return (
            f"{self.mode}: kept {self.kept_nodes} nodes / {self.kept_edges} edges; closed "
            f"{self.closed_edges} edges ({self.closed_length_m / 1000:.2f} km); disconnected "
            f"{self.disconnected_edges} edges ({self.disconnected_length_m / 1000:.2f} km)"
        )


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise InputError("mode", mode, f"one of {', '.join(MODES)}")


def mode_subgraph(G: nx.MultiDiGraph, mode: str) -> nx.MultiDiGraph:
    """Return the part of a prepared graph that ``mode`` can use, strongly connected.

    Parameters
    ----------
    G
        Prepared graph (see :func:`prepare_graph`).
    mode
        ``"foot"``, ``"bicycle"`` or ``"car"``.

    Returns
    -------
    networkx.MultiDiGraph
        Copy holding the usable edges of the largest strongly connected component; its
        ``graph["mode_report"]`` is a :class:`ModeSubgraphReport` of what was dropped.

    Raises
    ------
    InputError
        If ``mode`` is unknown or the graph lacks ``travel_time_<mode>``.
    InfeasibleError
        Never; an empty result is returned with its report when nothing is usable.
    """
    _check_mode(mode)
    key = f"travel_time_{mode}"
    usable: list[tuple[int, int, int]] = []
    closed_n, closed_len = 0, 0.0
    for u, v, k, d in G.edges(keys=True, data=True):
        if key not in d:
            raise InputError(f"graph.edges.{key}", None, "a graph from prepare_graph")
        if math.isfinite(float(d[key])):
            usable.append((u, v, k))
        else:
            closed_n += 1
            closed_len += float(d.get("length", 0.0))
    H = G.edge_subgraph(usable)
    comps = list(nx.strongly_connected_components(H)) if H.number_of_nodes() else []
    keep = max(comps, key=len) if comps else set()
    S = H.subgraph(keep).copy()
    disc_edges = H.number_of_edges() - S.number_of_edges()
    disc_len = sum(
        float(d.get("length", 0.0))
        for u, v, d in H.edges(data=True)
        if not (u in keep and v in keep)
    )
    S.graph["mode_report"] = ModeSubgraphReport(
        mode=mode,
        kept_nodes=S.number_of_nodes(),
        kept_edges=S.number_of_edges(),
        closed_edges=closed_n,
        closed_length_m=closed_len,
        disconnected_nodes=H.number_of_nodes() - S.number_of_nodes(),
        disconnected_edges=disc_edges,
        disconnected_length_m=disc_len,
    )
    return S


def edge_lengths(G: nx.MultiDiGraph, edges: Iterable[tuple[int, int, int]]) -> float:
    """Return the total ``length`` (m) of ``edges`` ``(u, v, key)`` of ``G``."""
    return float(sum(float(G.edges[e].get("length", 0.0)) for e in edges))
