"""Import a real district: OSM extract (or osmnx download) -> prepared district folder.

``import_district`` reads ``.osm``, ``.osm.bz2`` and ``.osm.pbf`` files offline, clips the
streets to an optional boundary, prepares the street graph (travel time per mode), takes the
bureau's own grid hierarchy (validated and repaired, see :mod:`optimizer.streets.grids`) or
generates
one (:mod:`optimizer.streets.partition`), attaches resources (given, or a plausible synthetic set)
and writes the folder atomically with :func:`optimizer.storage.save_district`: a failed import
leaves the previous district intact, and importing the same inputs again gives the same folder
(only the import time changes).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from optimizer.coords import coord_system, to_wgs84
from optimizer.district import District, default_data_dir
from optimizer.errors import InputError, PatrolError
from optimizer.staff.roster import (
    TRAVEL_MODES,
    Resources,
    check_resource_grids,
    load_resources,
)
from optimizer.streets.grids import HierarchyReport, grid_graph, validate_hierarchy
from optimizer.streets.partition import PartitionReport, auto_grids, street_lines
from optimizer.timezones import check_timezone, timezone_at

if TYPE_CHECKING:  # the synthetic layer is imported only where a roster is generated
    from optimizer.synthetic.roster import RosterScale

OSM_SUFFIXES: tuple[str, ...] = (".osm", ".osm.bz2", ".osm.pbf", ".pbf", ".xml", ".osm.xml")
NAME_PATTERN = re.compile(r"^[\w\-.]+$")
BOUNDARY_BUFFER_M = 100.0
"""Streets this far outside the boundary are kept, so boundary streets stay whole."""

Progress = Callable[[str], None]


class DownloadError(PatrolError):
    """A download through osmnx failed (typically: no internet on this network)."""


@dataclass
class ImportResult:
    """What :func:`import_district` did."""

    district: District
    path: Path
    hierarchy: HierarchyReport | None = None
    partition: PartitionReport | None = None
    dropped: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        """Several lines for a terminal: counts, balance, what was dropped."""
        d = self.district
        levels = d.grids["level"].value_counts().sort_index()
        lines = [
            f"district {d.name!r} -> {self.path}",
            f"  streets: {d.graph.number_of_nodes()} nodes, {d.graph.number_of_edges()} edges, "
            f"{d.metadata.get('street_length_km', 0):.1f} km, CRS {d.crs}",
            "  grids: " + ", ".join(f"level {k}: {v}" for k, v in levels.items()),
            f"  time zone: {d.metadata.get('timezone')} "
            f"({d.metadata.get('timezone_source', 'given')})",
            f"  resources: {len(d.resources.stations)} stations, {len(d.resources.officers)} "
            f"officers, {len(d.resources.teams)} volunteer teams "
            f"({len(d.resources.volunteers)} volunteers), {len(d.resources.posts)} posts"
            + (" (synthetic)" if d.metadata.get("resources_synthetic") else ""),
        ]
        if d.incidents is not None:
            tag = " (synthetic)" if "incidents" in d.metadata.get("synthetic", []) else ""
            lines.append(f"  incidents: {len(d.incidents)}{tag}")
        if self.partition is not None:
            lines.append(self.partition.summary())
        if self.hierarchy is not None:
            lines.append(self.hierarchy.summary())
        drop = self.dropped
        if drop:
            if drop.get("streets_outside_grids_m"):
                lines.append(
                    f"  {drop['streets_outside_grids_m'] / 1000:.2f} km of streets lie "
                    "outside every finest grid cell"
                )
            lines.append(
                f"  dropped while reading: {drop.get('outside_boundary_nodes', 0)} nodes "
                f"outside the boundary, {drop.get('disconnected_nodes', 0)} nodes not "
                "connected to the main network"
            )
            for mode, info in drop.get("grid_graphs", {}).items():
                cut = info["disconnected_length_m"]
                worst = (
                    f" (worst {info['worst_grid']}: {info['worst_disconnected_m'] / 1000:.2f} km)"
                    if cut > 0
                    else ""
                )
                lines.append(
                    f"  {mode}: finest-cell street graphs (150 m buffers, overlapping) leave out "
                    f"{cut / 1000:.2f} km not strongly connected{worst} and "
                    f"{info['closed_length_m'] / 1000:.2f} km closed to {mode}"
                    + _no_streets(mode, info["grids_without_streets"])
                )
        lines.append(f"  took {self.seconds:.1f} s")
        return "\n".join(lines)


def _no_streets(mode: str, grids: list[str]) -> str:
    if not grids:
        return ""
    shown = ", ".join(grids[:5]) + (f" and {len(grids) - 5} more" if len(grids) > 5 else "")
    return f"; {len(grids)} grids have no {mode} streets ({shown})"


def sha256_of(path: str | Path) -> str:
    """Return the SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_name(name: str) -> str:
    if not name or name.startswith(".") or not NAME_PATTERN.match(name):
        raise InputError("name", name, "a folder name of letters, digits, '-', '_' or '.'")
    return name


def _check_osm(path: str | Path) -> Path:
    p = Path(path)
    if not p.is_file():
        raise InputError("osm", str(path), "an existing .osm, .osm.bz2 or .osm.pbf file")
    if not any(p.name.lower().endswith(s) for s in OSM_SUFFIXES):
        raise InputError("osm", str(path), f"a file ending in one of {list(OSM_SUFFIXES)}")
    return p


def read_geojson(path: str | Path, crs_name: str, field_name: str) -> gpd.GeoDataFrame:
    """Read a GeoJSON (or any vector file) declared in ``crs_name`` and convert it to WGS-84."""
    p = Path(path)
    if not p.is_file():
        raise InputError(field_name, str(path), "an existing GeoJSON file")
    try:
        frame = gpd.read_file(p)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(field_name, str(path), f"a readable GeoJSON file ({exc})") from None
    if frame.empty:
        raise InputError(field_name, str(path), "a GeoJSON with at least one feature")
    return to_wgs84(frame, coord_system(crs_name, f"{field_name}_crs"))


def read_boundary(path: str | Path, crs_name: str = "wgs84") -> BaseGeometry:
    """Read a boundary file (all its polygons merged) as one WGS-84 geometry."""
    frame = read_geojson(path, crs_name, "boundary")
    geom = shapely.make_valid(shapely.union_all(np.asarray(frame.geometry.values)))
    if geom.is_empty or geom.area == 0:
        raise InputError("boundary", str(path), "a GeoJSON with polygon features")
    return geom


def _read_streets(path: Path) -> nx.MultiDiGraph:
    """Street graph from an OSM file, unprojected (WGS-84 ``x``/``y``)."""
    from optimizer.streets import graph as streets

    return streets.graph_from_osm_file(path)


def _prepare(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Project and add ``travel_time_<mode>`` edges and ``lon``/``lat`` nodes."""
    from optimizer.streets import graph as streets

    return streets.prepare_graph(G)


def read_osm_graph(path: str | Path) -> nx.MultiDiGraph:
    """Read an OSM extract offline into a prepared, projected street graph.

    Uses :mod:`optimizer.streets.graph` (``graph_from_osm_file`` + ``prepare_graph``) and keeps the
    largest weakly connected part.
    """
    G, _ = _clip(_read_streets(_check_osm(path)), None)
    return _prepare(G)


def download_place(place: str) -> nx.MultiDiGraph:
    """Download a place's streets through osmnx, or explain clearly why it cannot.

    Raises
    ------
    DownloadError
        When the network does not allow it (no internet, proxy, Overpass unreachable), with
        the advice to import an extract with ``--osm`` instead.
    """
    import osmnx as ox

    old_timeout = ox.settings.requests_timeout
    ox.settings.requests_timeout = 20
    try:
        return ox.graph_from_place(place, network_type="all", retain_all=True)
    except Exception as exc:
        raise DownloadError(
            f"could not download {place!r} through osmnx: {type(exc).__name__}: {exc}. "
            "This network may have no internet access. Download an OSM extract elsewhere "
            "(e.g. a .osm.pbf of the province, or an export of the district) and import it "
            "with --osm FILE (optionally --boundary GEOJSON to clip it)."
        ) from None
    finally:
        ox.settings.requests_timeout = old_timeout


def _clip(
    G: nx.MultiDiGraph, boundary: BaseGeometry | None
) -> tuple[nx.MultiDiGraph, dict[str, Any]]:
    """Keep nodes within the (buffered) boundary, then the largest weakly connected part."""
    dropped: dict[str, Any] = {"outside_boundary_nodes": 0, "disconnected_nodes": 0}
    if G.number_of_nodes() == 0:
        raise InputError("osm", "no streets", "an OSM extract with streets (highway=* ways)")
    if boundary is not None:
        zone = gpd.GeoSeries([boundary], crs="EPSG:4326")
        metric = zone.estimate_utm_crs()
        area = zone.to_crs(metric).buffer(BOUNDARY_BUFFER_M).to_crs("EPSG:4326").iloc[0]
        ids = list(G.nodes)
        xs = np.array([G.nodes[n]["x"] for n in ids], dtype=float)
        ys = np.array([G.nodes[n]["y"] for n in ids], dtype=float)
        inside = shapely.contains_xy(area, xs, ys)
        keep = [n for n, ok in zip(ids, inside, strict=True) if ok]
        dropped["outside_boundary_nodes"] = len(ids) - len(keep)
        if not keep:
            raise InputError(
                "boundary",
                "no street inside",
                "a boundary that overlaps the OSM extract (check its --boundary-crs)",
            )
        G = G.subgraph(keep).copy()
    main = max(nx.weakly_connected_components(G), key=len)
    dropped["disconnected_nodes"] = G.number_of_nodes() - len(main)
    if dropped["disconnected_nodes"]:
        G = G.subgraph(main).copy()
    return G, dropped


def street_length_m(G: nx.MultiDiGraph) -> float:
    """Total street length (m), each two-way street counted once."""
    return float(street_lines(G).length.sum())


def _default_levels(street_m: float) -> tuple[int, int, int]:
    """A hierarchy with leaf cells of about 3 km of streets (one patrol shift's beat)."""
    leaves = max(4, round(street_m / 3000.0))
    middle = max(2, round(leaves / 7))
    # The same number of leaves in every level-2 cell, so both levels can balance exactly.
    leaves = middle * max(1, round(leaves / middle))
    return (1, min(middle, leaves), leaves)


def parse_levels(text: str | Sequence[int]) -> tuple[int, ...]:
    """Parse ``"2,13,91"`` into ``(2, 13, 91)``."""
    if isinstance(text, str):
        try:
            out = tuple(int(p) for p in text.replace(" ", "").split(",") if p)
        except ValueError:
            raise InputError(
                "auto_grids", text, "comma-separated cell counts, e.g. 2,13,91"
            ) from None
    else:
        out = tuple(int(p) for p in text)
    if not out or any(n < 1 for n in out) or any(b < a for a, b in itertools.pairwise(out)):
        raise InputError("auto_grids", text, "positive non-decreasing cell counts, e.g. 2,13,91")
    return out


def _street_length_outside(G: nx.MultiDiGraph, grids: gpd.GeoDataFrame) -> float:
    """Street length (m) outside every finest-level cell."""
    lines = street_lines(G)
    leaf = grids[grids["level"] == grids["level"].max()].to_crs(lines.crs)
    cover = shapely.union_all(np.asarray(leaf.geometry.values)).buffer(0.5)
    geoms = np.asarray(lines.geometry.values)
    return float(shapely.length(shapely.difference(geoms, cover)).sum())


def _roster_scale(roster: RosterScale | Mapping[str, int] | None) -> Callable[[int], RosterScale]:
    """Check the roster size option now; return how to size the roster once the cells are known."""
    from optimizer.synthetic.roster import RosterScale

    if isinstance(roster, RosterScale):
        return lambda _cells: roster
    counts = dict(roster or {})
    names = [f.name for f in dataclasses.fields(RosterScale)]
    unknown = sorted(set(counts) - set(names))
    if unknown:
        raise InputError("roster", unknown, f"counts among {names}")
    dataclasses.replace(RosterScale(), **counts)  # validates the counts before any work
    return lambda cells: dataclasses.replace(RosterScale.for_cells(cells), **counts)


def _derive_timezone(G: nx.MultiDiGraph) -> str:
    """The time zone at the middle of the streets, or an error asking for ``--timezone``."""
    lon = float(np.median([d["lon"] for _, d in G.nodes(data=True)]))
    lat = float(np.median([d["lat"] for _, d in G.nodes(data=True)]))
    found = timezone_at(lon, lat)
    if found is None:
        raise InputError(
            "timezone",
            None,
            f"a time zone given with --timezone (none is known at {lon:.4f}, {lat:.4f})",
        )
    return found


def _grid_graph_drops(district: District) -> dict[str, Any]:
    """Street length each leaf grid's graph drops per mode.

    ``closed_length_m``: streets in the buffered cells closed to the mode (motorways for
    walkers, footways for cars); ``disconnected_length_m``: open streets left out because
    they are not strongly connected to the rest of the cell's graph. Buffers overlap, so a
    street can count in two cells.
    """
    out: dict[str, Any] = {}
    leaf = district.leaf_grid_ids()
    for mode in ("foot", "car"):
        closed, cut, worst, worst_id, empty = 0.0, 0.0, -1.0, "", []
        for gid in leaf:
            try:
                info = grid_graph(district, gid, mode=mode).graph["dropped"]
            except InputError:
                empty.append(gid)
                continue
            closed += float(info["closed_length_m"])
            cut += float(info["disconnected_length_m"])
            if float(info["disconnected_length_m"]) > worst:
                worst, worst_id = float(info["disconnected_length_m"]), gid
        out[mode] = {
            "closed_length_m": round(closed, 1),
            "disconnected_length_m": round(cut, 1),
            "worst_grid": worst_id,
            "worst_disconnected_m": round(max(worst, 0.0), 1),
            "grids_without_streets": empty,
        }
    return out


def import_district(
    name: str,
    osm: str | Path | None = None,
    *,
    boundary: str | Path | BaseGeometry | None = None,
    boundary_crs: str = "wgs84",
    grids: str | Path | gpd.GeoDataFrame | None = None,
    grids_crs: str = "wgs84",
    auto: str | Sequence[int] | None = None,
    place: str | None = None,
    data_dir: str | Path | None = None,
    resources: str | Path | Resources | None = None,
    incidents: str | Path | gpd.GeoDataFrame | None = None,
    incidents_crs: str = "wgs84",
    synthetic_incidents: bool = False,
    timezone: str | None = None,
    roster: RosterScale | Mapping[str, int] | None = None,
    seed: int = 0,
    tolerance_m2: float = 50.0,
    check_grid_graphs: bool = True,
    progress: Progress | None = None,
) -> ImportResult:
    """Import a district and write ``<data_dir>/<name>/``.

    Parameters
    ----------
    name
        District (folder) name.
    osm
        OSM extract (``.osm``, ``.osm.bz2``, ``.osm.pbf``), read offline.
    boundary
        GeoJSON path (or geometry) to clip the streets to, declared in ``boundary_crs``.
    boundary_crs, grids_crs
        ``wgs84``, ``gcj02`` or ``bd09``.
    grids
        The bureau's grid hierarchy (GeoJSON with ``id``, ``level``, ``parent``, ``name``).
    auto
        Cell counts per level for automatic grids, e.g. ``"2,13,91"``. Without ``grids`` or
        ``auto``, a 1-cell / ~3 km-of-streets hierarchy is generated.
    place
        Place name to download through osmnx instead of ``osm`` (needs internet).
    data_dir
        Folder of districts; default :func:`optimizer.district.default_data_dir`.
    resources
        ``resources.json`` path or :class:`Resources`; default a synthetic roster
        (:func:`optimizer.synthetic.roster.synthetic_roster`) sized by ``roster``.
    incidents
        Incident history: a CSV / GeoJSON file read with
        :func:`optimizer.risk.incidents.read_incidents` (declared in ``incidents_crs``, snapped to
        the streets) or a GeoDataFrame of points (WGS-84). Stored with the district; automatic
        grids balance incident risk as well as street length.
    incidents_crs
        ``wgs84``, ``gcj02`` or ``bd09`` for an incident file.
    synthetic_incidents
        Where no incidents are given, generate six months of seeded, clearly labelled
        synthetic incidents (:func:`optimizer.synthetic.incidents.synthetic_incidents`) so that
        hotspots and plans can be tried before real data arrive.
    timezone
        IANA time zone of the district (stored in ``metadata["timezone"]``; used for synthetic
        incidents and every time a plan shows). ``None``: derived from the location of the
        streets (:func:`optimizer.timezones.timezone_at`), announced through ``progress`` and
        recorded as derived in ``metadata["timezone_source"]``; an error where none can be
        derived.
    roster
        Size of the synthetic roster where no ``resources`` are given: a
        :class:`~optimizer.synthetic.roster.RosterScale`, or counts (``officers``,
        ``volunteers``, ``teams``, ``posts``, ``stations`` ...) that override the default,
        :meth:`RosterScale.for_cells` of the finest level's cell count.
    seed
        Seed for automatic grids and synthetic resources.
    tolerance_m2
        Overlap / gap tolerance for bureau grids.
    check_grid_graphs
        Measure what each leaf grid's street graph drops per mode (reported).
    progress
        Called with a message before each step.

    Returns
    -------
    ImportResult
        The district, its folder and the reports.

    Raises
    ------
    InputError
        Bad option or file, or a bureau grid file with errors (the message lists them).
    DownloadError
        ``place`` could not be downloaded.
    """
    started = time.perf_counter()
    say: Progress = progress or (lambda _msg: None)
    _check_name(name)
    if (osm is None) == (place is None):
        raise InputError("osm", osm, "exactly one of an OSM file (--osm) or a place (--place)")
    if grids is not None and auto is not None:
        raise InputError("grids", "both --grids and --auto-grids", "one of them")
    b_crs = coord_system(boundary_crs, "boundary_crs")
    i_crs = coord_system(incidents_crs, "incidents_crs")
    if isinstance(incidents, str | Path) and not Path(incidents).is_file():
        raise InputError("incidents", str(incidents), "an existing CSV or GeoJSON file")
    g_crs = coord_system(grids_crs, "grids_crs")
    levels = parse_levels(auto) if auto is not None else None
    tz_given = None if timezone is None else check_timezone(timezone)
    if roster is not None and resources is not None:
        raise InputError("roster", roster, "no synthetic roster size when resources are given")
    scale_for = _roster_scale(roster)
    target = (Path(data_dir) if data_dir is not None else default_data_dir()) / name

    boundary_geom: BaseGeometry | None = None
    if boundary is not None:
        boundary_geom = (
            to_wgs84(boundary, b_crs)
            if isinstance(boundary, BaseGeometry)
            else read_boundary(boundary, b_crs)
        )
    bureau: gpd.GeoDataFrame | None = None
    if grids is not None:
        bureau = (
            to_wgs84(grids, g_crs)
            if isinstance(grids, gpd.GeoDataFrame)
            else read_geojson(grids, g_crs, "grids")
        )
    res_given: Resources | None = None
    if isinstance(resources, Resources):
        res_given = resources
    elif resources is not None:
        if not Path(resources).is_file():
            raise InputError("resources", str(resources), "an existing resources.json file")
        res_given = load_resources(resources)

    metadata: dict[str, Any] = {"name": name}
    if osm is not None:
        path = _check_osm(osm)
        say(f"checksum {path.name}")
        metadata["source"] = str(path.resolve())
        metadata["source_sha256"] = sha256_of(path)
        metadata["source_bytes"] = path.stat().st_size
        say(f"reading streets from {path.name}")
        raw = _read_streets(path)
    else:
        assert place is not None
        say(f"downloading {place!r} through osmnx")
        raw = download_place(place)
        metadata["source"] = f"osmnx download: {place}"
    metadata["license"] = "© OpenStreetMap contributors, ODbL 1.0"

    terrain = None
    if osm is not None:
        from optimizer.risk.terrain import read_terrain

        say("reading risk-terrain places")
        terrain = read_terrain(path)
    say("clipping and preparing the street graph")
    clipped, dropped = _clip(raw, boundary_geom)
    G = _prepare(clipped)
    timezone = tz_given or _derive_timezone(G)
    metadata["timezone"] = timezone
    metadata["timezone_source"] = "given" if tz_given else "derived from the location"
    if not tz_given:
        say(f"time zone {timezone} (derived from the location; set another with --timezone)")
    street_m = street_length_m(G)
    metadata["street_length_km"] = round(street_m / 1000.0, 2)

    incident_frame: gpd.GeoDataFrame | None = None
    if isinstance(incidents, gpd.GeoDataFrame):
        incident_frame = incidents
    elif incidents is not None:
        from optimizer.risk.incidents import read_incidents

        say(f"reading incidents from {Path(incidents).name}")
        intake = read_incidents(incidents, crs=i_crs, graph=G, area=boundary_geom)
        incident_frame = intake.incidents
        dropped["incidents_rejected"] = sum(1 for p in intake.problems if not p.kept)
        metadata["incidents_source"] = {
            "file": str(incidents),
            "crs": i_crs,
            "rows": len(incident_frame),
            "problems": len(intake.problems),
        }
    if incident_frame is not None and len(incident_frame) == 0:
        incident_frame = None

    hierarchy: HierarchyReport | None = None
    partition: PartitionReport | None = None
    if bureau is not None:
        say("validating the grid hierarchy")
        frame, hierarchy = validate_hierarchy(
            bureau, tolerance_m2=tolerance_m2, boundary=boundary_geom
        )
        hierarchy.raise_for_errors()
        grid_frame = frame
        outside = _street_length_outside(G, grid_frame)
        dropped["streets_outside_grids_m"] = round(outside, 1)
        if outside > 0.01 * street_m:
            say(f"warning: {outside / 1000:.2f} km of streets lie outside every finest grid cell")
        metadata["grids_source"] = {
            "file": str(grids) if not isinstance(grids, gpd.GeoDataFrame) else "GeoDataFrame",
            "crs": g_crs,
            "warnings": len(hierarchy.warnings),
        }
    else:
        chosen = levels or _default_levels(street_m)
        say(f"generating grids {','.join(map(str, chosen))}")
        grid_frame, partition = auto_grids(G, boundary_geom, chosen, incident_frame, seed)
        metadata["grids_source"] = {"auto": list(chosen), "report": partition.to_dict()}

    synthetic: list[str] = []
    if incident_frame is None and synthetic_incidents:
        say("generating synthetic incidents")
        from optimizer.synthetic.incidents import synthetic_incidents as make_incidents

        end = dt.date.today() - dt.timedelta(days=1)
        incident_frame = make_incidents(
            G, grid_frame, start=end - dt.timedelta(days=182), end=end, seed=seed, tz=timezone
        )
        synthetic.append("incidents")
        metadata["incident_period"] = [(end - dt.timedelta(days=182)).isoformat(), end.isoformat()]
    if res_given is not None:
        res = res_given
        check_resource_grids(res, [str(i) for i in grid_frame.index], "resources.")
        metadata["resources_synthetic"] = False
    else:
        say("generating a synthetic roster")
        from optimizer.synthetic.roster import synthetic_roster

        scale = scale_for(int((grid_frame["level"] == grid_frame["level"].max()).sum()))
        res = synthetic_roster(grid_frame, G, scale=scale, seed=seed, timezone=timezone)
        metadata["roster_scale"] = dataclasses.asdict(scale)
        metadata["resources_synthetic"] = True
        synthetic.append("resources")
    if bureau is None:
        synthetic.append("grids")
    metadata["synthetic"] = sorted(synthetic)
    metadata["options"] = {
        "boundary": None
        if boundary is None
        else str(boundary)
        if not isinstance(boundary, BaseGeometry)
        else "geometry",
        "boundary_crs": b_crs,
        "seed": seed,
        "modes": list(TRAVEL_MODES),
    }
    metadata["import_time"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    district = District(name, grid_frame, G, res, incident_frame, metadata, target, terrain=terrain)
    if check_grid_graphs:
        say("checking each grid's street graph")
        dropped["grid_graphs"] = _grid_graph_drops(district)
    metadata["dropped"] = dropped

    say(f"writing {target}")
    from optimizer.storage import save_district

    path_out = save_district(district, target)
    return ImportResult(
        district, path_out, hierarchy, partition, dropped, time.perf_counter() - started
    )
