"""Grid hierarchies: validation and repair, nesting, and each grid's street graph.

A hierarchy is a GeoDataFrame with ``id``, ``level`` (1 = coarsest), ``parent`` (the id of the
containing cell one level up; None on level 1), ``name`` and polygon ``geometry`` in WGS-84.
Bureau grid files (from a grid-management system) rarely arrive clean: polygons self-intersect,
neighbours overlap or leave gaps, parents are missing or wrong. :func:`validate_hierarchy`
reports all of it with the cells involved and returns a repaired copy where the repair is safe.
Areas are measured in the local UTM zone, tolerances are in square metres.
"""

from __future__ import annotations

import itertools
import math
import weakref
from dataclasses import dataclass, field
from typing import Any, cast

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from optimizer.errors import InputError
from optimizer.staff.roster import TRAVEL_MODES

DEFAULT_TOLERANCE_M2 = 50.0
"""Overlaps and gaps up to this area (m²) are digitising noise and not reported."""

NEST_SHARE = 0.95
"""A cell nests in a parent when at least this share of its area lies inside it."""

ERROR = "error"
WARNING = "warning"
INFO = "info"

REQUIRED_COLUMNS: tuple[str, ...] = ("level", "parent", "name", "geometry")


@dataclass(frozen=True)
class HierarchyIssue:
    """One finding about a grid hierarchy.

    Attributes
    ----------
    kind
        ``invalid_repaired``, ``invalid_rejected``, ``overlap``, ``gap``, ``orphan`` (in no
        parent), ``straddles`` (split between parents), ``parent_mismatch``, ``parent_filled``,
        ``unknown_parent``, ``duplicate_id``, ``bad_level``, ``childless``.
    severity
        ``error`` (the hierarchy cannot be used as is), ``warning`` or ``info``.
    level
        Level of the cells involved.
    cells
        Ids of the cells involved.
    area_m2
        Area concerned (overlap, gap, repaired change), 0 where not applicable.
    detail
        Human explanation.
    geometry
        Where (WGS-84), if it has a place.
    """

    kind: str
    severity: str
    level: int | None
    cells: tuple[str, ...]
    area_m2: float
    detail: str
    geometry: BaseGeometry | None = None


@dataclass
class HierarchyReport:
    """Everything :func:`validate_hierarchy` found; ``ok`` when there is no error."""

    issues: list[HierarchyIssue] = field(default_factory=list)
    tolerance_m2: float = DEFAULT_TOLERANCE_M2
    counts: dict[int, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the hierarchy has no error (warnings allowed)."""
        return not self.errors

    @property
    def errors(self) -> list[HierarchyIssue]:
        """The issues of severity ``error``."""
        return [i for i in self.issues if i.severity == ERROR]

    @property
    def warnings(self) -> list[HierarchyIssue]:
        """The issues of severity ``warning``."""
        return [i for i in self.issues if i.severity == WARNING]

    def of_kind(self, kind: str) -> list[HierarchyIssue]:
        """The issues of one kind."""
        return [i for i in self.issues if i.kind == kind]

    def to_frame(self) -> gpd.GeoDataFrame:
        """One row per issue: kind, severity, level, cells, area_m2, detail, geometry."""
        rows = [
            {
                "kind": i.kind,
                "severity": i.severity,
                "level": i.level,
                "cells": ",".join(i.cells),
                "area_m2": round(i.area_m2, 1),
                "detail": i.detail,
                "geometry": i.geometry,
            }
            for i in self.issues
        ]
        columns = ["kind", "severity", "level", "cells", "area_m2", "detail", "geometry"]
        return gpd.GeoDataFrame(
            pd.DataFrame(rows, columns=columns), geometry="geometry", crs="EPSG:4326"
        )

    def summary(self) -> str:
        """A few lines for a terminal: counts per level and per issue kind."""
        levels = ", ".join(f"level {k}: {v}" for k, v in sorted(self.counts.items()))
        lines = [f"grid cells: {levels}"]
        kinds: dict[tuple[str, str], int] = {}
        for i in self.issues:
            kinds[(i.severity, i.kind)] = kinds.get((i.severity, i.kind), 0) + 1
        for (sev, kind), n in sorted(kinds.items()):
            lines.append(f"  {sev}: {n} x {kind}")
        for i in self.errors[:10]:
            lines.append(f"  ! {i.kind} {list(i.cells)}: {i.detail}")
        return "\n".join(lines)

    def raise_for_errors(self) -> None:
        """Raise :class:`InputError` naming the first errors, if any."""
        if self.errors:
            shown = "; ".join(f"{i.kind} {list(i.cells)}: {i.detail}" for i in self.errors[:5])
            more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
            raise InputError(
                "grids",
                shown + more,
                "a grid hierarchy with valid polygons, each cell nested in exactly "
                "one cell of the level above",
            )


COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "id": (
        "id",
        "grid_id",
        "gridid",
        "code",
        "grid_code",
        "编号",
        "网格编号",
        "网格代码",
        "网格id",
    ),
    "level": ("level", "grid_level", "层级", "级别", "网格层级", "网格级别"),
    "parent": (
        "parent",
        "parent_id",
        "parentid",
        "parent_code",
        "上级",
        "上级编号",
        "上级网格",
        "父级",
        "父级编号",
    ),
    "name": ("name", "grid_name", "名称", "网格名称", "网格名"),
}
"""Column names accepted for each field of a bureau grid file (first match wins)."""


def normalise_columns(grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rename a bureau file's columns (English or Chinese aliases) to id/level/parent/name.

    A file without a level column and without parents is read as a single level.
    """
    frame = grids.copy()
    lower = {str(c).strip().lower(): c for c in frame.columns if c != frame.geometry.name}
    renames: dict[Any, str] = {}
    for target, aliases in COLUMN_ALIASES.items():
        if target in frame.columns:
            continue
        for alias in aliases:
            if alias in lower and lower[alias] not in renames:
                renames[lower[alias]] = target
                break
    frame = frame.rename(columns=renames)
    if "id" not in frame.columns and frame.index.name != "id":
        raise InputError(
            "grids.id",
            list(lower.values())[:10],
            f"an id column (one of {list(COLUMN_ALIASES['id'])})",
        )
    if "level" not in frame.columns and "parent" not in frame.columns:
        frame["level"] = 1
    return frame


def _polygon_parts(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom] if not geom.is_empty else []
    if isinstance(geom, MultiPolygon):
        return [g for g in geom.geoms if not g.is_empty]
    if hasattr(geom, "geoms"):
        out: list[Polygon] = []
        for g in geom.geoms:
            out.extend(_polygon_parts(g))
        return out
    return []


def _repair(geom: BaseGeometry, tol_m2: float, to_metric: Any) -> tuple[BaseGeometry, str, str]:
    """Return (geometry, status, detail) where status is ``ok``, ``repaired`` or ``rejected``."""
    if geom is None or geom.is_empty:
        return geom, "rejected", "empty geometry"
    if geom.geom_type not in {"Polygon", "MultiPolygon"}:
        return geom, "rejected", f"{geom.geom_type} is not a polygon"
    if geom.is_valid:
        return geom, "ok", ""
    reason = shapely.is_valid_reason(geom)
    fixed = shapely.make_valid(geom)
    parts = _polygon_parts(fixed)
    if not parts:
        return geom, "rejected", f"{reason}; no polygon area remains after repair"
    areas = [float(to_metric(p).area) for p in parts]
    big = [p for p, a in zip(parts, areas, strict=True) if a > tol_m2]
    before = len(_polygon_parts(geom))
    if len(big) > before:
        # A bow-tie: the outline crosses itself and the repair would split the cell in pieces
        # whose intended shape cannot be guessed.
        return (
            MultiPolygon(big),
            "rejected",
            f"{reason}; the outline crosses itself and repair would split the cell into "
            f"{len(big)} pieces ({', '.join(f'{a:.0f}' for a in sorted(areas, reverse=True))}"
            " m²): redraw the polygon",
        )
    kept = big or [parts[int(np.argmax(areas))]]
    out = kept[0] if len(kept) == 1 else MultiPolygon(kept)
    return out, "repaired", f"{reason}; repaired with make_valid"


def _metric_crs(grids: gpd.GeoDataFrame) -> Any:
    return grids.estimate_utm_crs()


def validate_hierarchy(
    grids: gpd.GeoDataFrame,
    *,
    tolerance_m2: float = DEFAULT_TOLERANCE_M2,
    nest_share: float = NEST_SHARE,
    boundary: BaseGeometry | None = None,
) -> tuple[gpd.GeoDataFrame, HierarchyReport]:
    """Check a grid hierarchy and repair what is safe to repair.

    Parameters
    ----------
    grids
        Frame with ``id`` (column or index), ``level``, ``parent`` (optional), ``name``
        (optional) and polygon geometry, in WGS-84 (or any CRS: it is reprojected). Common
        English and Chinese column names are accepted (see :data:`COLUMN_ALIASES`).
    tolerance_m2
        Overlaps, gaps and repair changes up to this area are ignored.
    nest_share
        Share of a cell's area that must lie in one parent for it to nest.
    boundary
        District boundary (WGS-84): area of it outside every level-1 cell is reported as a gap.

    Returns
    -------
    tuple of (geopandas.GeoDataFrame, HierarchyReport)
        The repaired hierarchy indexed by ``id`` (string ids, ``level`` int, ``parent`` filled
        in from geometry where it was missing), and the report. Cells whose polygon had to be
        rejected stay in the frame with their best-effort repair and an ``error`` issue.
    """
    report = HierarchyReport(tolerance_m2=tolerance_m2)
    frame = normalise_columns(grids)
    if frame.crs is None:
        frame = frame.set_crs("EPSG:4326")
    elif frame.crs.to_epsg() != 4326:
        frame = frame.to_crs("EPSG:4326")
    if "id" in frame.columns:
        frame = frame.set_index("id")
    frame.index = frame.index.map(str)
    frame.index.name = "id"
    if "level" not in frame.columns:
        raise InputError("grids.level", None, "a level column (1 = coarsest)")
    if "parent" not in frame.columns:
        frame["parent"] = None
    if "name" not in frame.columns:
        frame["name"] = frame.index
    frame["parent"] = pd.Series(
        [
            None
            if p is None or (isinstance(p, float) and math.isnan(p)) or str(p).strip() == ""
            else str(p)
            for p in frame["parent"]
        ],
        index=frame.index,
        dtype=object,
    )
    dup = frame.index[frame.index.duplicated()].unique()
    for d in dup:
        report.issues.append(
            HierarchyIssue(
                "duplicate_id",
                ERROR,
                None,
                (str(d),),
                0.0,
                f"id {d!r} is used by more than one cell",
            )
        )
    frame = frame[~frame.index.duplicated(keep="first")]
    try:
        frame["level"] = frame["level"].astype(int)
    except (TypeError, ValueError):
        raise InputError(
            "grids.level", list(frame["level"].unique())[:5], "integer levels 1, 2, 3 ..."
        ) from None
    levels = sorted(int(v) for v in frame["level"].unique())
    if not levels or levels != list(range(1, len(levels) + 1)):
        report.issues.append(
            HierarchyIssue(
                "bad_level",
                ERROR,
                None,
                (),
                0.0,
                f"levels are {levels}; expected 1, 2, ... in order",
            )
        )

    metric = _metric_crs(frame)

    def to_metric(g: BaseGeometry) -> BaseGeometry:
        return gpd.GeoSeries([g], crs="EPSG:4326").to_crs(metric).iloc[0]

    new_geoms = []
    for gid, geom, level in zip(frame.index, frame.geometry, frame["level"], strict=True):
        fixed, status, detail = _repair(geom, tolerance_m2, to_metric)
        if status == "repaired":
            change = abs(float(to_metric(fixed).area) - float(to_metric(geom.buffer(0)).area))
            report.issues.append(
                HierarchyIssue(
                    "invalid_repaired", WARNING, int(level), (gid,), change, detail, geom
                )
            )
        elif status == "rejected":
            report.issues.append(
                HierarchyIssue("invalid_rejected", ERROR, int(level), (gid,), 0.0, detail, geom)
            )
        new_geoms.append(fixed)
    frame = frame.set_geometry(gpd.GeoSeries(new_geoms, index=frame.index, crs="EPSG:4326"))
    report.counts = {int(k): int(v) for k, v in frame["level"].value_counts().sort_index().items()}

    m = frame.to_crs(metric)
    to_wgs = _to_wgs_fn(metric)
    _check_overlaps(m, tolerance_m2, report, to_wgs)
    _check_nesting(frame, m, nest_share, tolerance_m2, report)
    _check_gaps(frame, m, tolerance_m2, report, to_wgs, boundary, metric)
    return frame, report


def _to_wgs_fn(metric: Any) -> Any:
    def fn(g: BaseGeometry) -> BaseGeometry:
        return gpd.GeoSeries([g], crs=metric).to_crs("EPSG:4326").iloc[0]

    return fn


def _check_overlaps(m: gpd.GeoDataFrame, tol: float, report: HierarchyReport, to_wgs: Any) -> None:
    for level in sorted(m["level"].unique()):
        cells = m[m["level"] == level]
        geoms = np.asarray(cells.geometry.values)
        ids = list(cells.index)
        tree = shapely.STRtree(geoms)
        left, right = tree.query(geoms, predicate="intersects")
        for a, b in zip(left, right, strict=True):
            if a >= b:
                continue
            inter = shapely.intersection(geoms[a], geoms[b])
            area = float(inter.area)
            if area > tol:
                report.issues.append(
                    HierarchyIssue(
                        "overlap",
                        WARNING,
                        int(level),
                        (str(ids[a]), str(ids[b])),
                        area,
                        f"cells {ids[a]} and {ids[b]} overlap by {area:.0f} m²",
                        to_wgs(inter),
                    )
                )


def _check_nesting(
    frame: gpd.GeoDataFrame,
    m: gpd.GeoDataFrame,
    share_min: float,
    tol: float,
    report: HierarchyReport,
) -> None:
    ids = set(frame.index)
    for level in sorted(m["level"].unique()):
        cells = m[m["level"] == level]
        if level == 1:
            for gid, parent in zip(cells.index, cells["parent"], strict=True):
                if parent is not None:
                    report.issues.append(
                        HierarchyIssue(
                            "parent_mismatch",
                            WARNING,
                            1,
                            (str(gid), str(parent)),
                            0.0,
                            f"level-1 cell {gid} names parent {parent}; level 1 has none (ignored)",
                        )
                    )
                    frame.loc[gid, "parent"] = None
            continue
        parents = m[m["level"] == level - 1]
        if parents.empty:
            continue
        pgeoms = np.asarray(parents.geometry.values)
        pids = [str(p) for p in parents.index]
        tree = shapely.STRtree(pgeoms)
        for gid, geom, named in zip(cells.index, cells.geometry, cells["parent"], strict=True):
            area = float(geom.area)
            cand = tree.query(geom, predicate="intersects")
            shares = sorted(
                (
                    (
                        float(shapely.intersection(geom, pgeoms[j]).area) / area
                        if area > 0
                        else 0.0,
                        pids[j],
                    )
                    for j in cand
                ),
                reverse=True,
            )
            shares = [(s, p) for s, p in shares if s * area > tol or s > 0.5]
            if named is not None and named not in ids:
                report.issues.append(
                    HierarchyIssue(
                        "unknown_parent",
                        ERROR,
                        int(level),
                        (str(gid), str(named)),
                        0.0,
                        f"cell {gid} names parent {named!r}, which is not in the file",
                    )
                )
            if not shares:
                report.issues.append(
                    HierarchyIssue(
                        "orphan",
                        ERROR,
                        int(level),
                        (str(gid),),
                        area,
                        f"cell {gid} lies in no level-{level - 1} cell",
                    )
                )
                continue
            best_share, best = shares[0]
            if best_share < 0.5:
                involved = tuple([str(gid)] + [p for _, p in shares])
                report.issues.append(
                    HierarchyIssue(
                        "straddles",
                        ERROR,
                        int(level),
                        involved,
                        area * (1 - best_share),
                        f"cell {gid} is split between "
                        + ", ".join(f"{p} ({s:.0%})" for s, p in shares)
                        + "; no parent holds most of it",
                    )
                )
                continue
            if best_share < share_min and (1 - best_share) * area > tol:
                involved = tuple([str(gid)] + [p for _, p in shares])
                report.issues.append(
                    HierarchyIssue(
                        "straddles",
                        WARNING,
                        int(level),
                        involved,
                        area * (1 - best_share),
                        f"only {best_share:.0%} of cell {gid} lies in {best}: "
                        + ", ".join(f"{p} ({s:.0%})" for s, p in shares[1:]),
                    )
                )
            if named is None:
                frame.loc[gid, "parent"] = best
                report.issues.append(
                    HierarchyIssue(
                        "parent_filled",
                        INFO,
                        int(level),
                        (str(gid), best),
                        0.0,
                        f"parent of {gid} set to {best} ({best_share:.0%} of its area)",
                    )
                )
            elif named != best and named in ids:
                report.issues.append(
                    HierarchyIssue(
                        "parent_mismatch",
                        ERROR,
                        int(level),
                        (str(gid), str(named), best),
                        0.0,
                        f"cell {gid} names parent {named} "
                        f"but {best_share:.0%} of it lies in {best}",
                    )
                )


def _check_gaps(
    frame: gpd.GeoDataFrame,
    m: gpd.GeoDataFrame,
    tol: float,
    report: HierarchyReport,
    to_wgs: Any,
    boundary: BaseGeometry | None,
    metric: Any,
) -> None:
    levels = sorted(int(v) for v in m["level"].unique())
    if not levels:
        return
    top = m[m["level"] == levels[0]]
    union = shapely.union_all(np.asarray(top.geometry.values))
    holes: list[BaseGeometry] = [Polygon(r) for p in _polygon_parts(union) for r in p.interiors]
    if boundary is not None:
        bm = gpd.GeoSeries([boundary], crs="EPSG:4326").to_crs(metric).iloc[0]
        holes.extend(_polygon_parts(shapely.difference(bm, union)))
    for hole in holes:
        _report_gap(hole, top, levels[0], tol, report, to_wgs, None)
    for level in levels[1:]:
        children = m[m["level"] == level]
        for pid, pgeom in zip(
            m.index[m["level"] == level - 1], m.geometry[m["level"] == level - 1], strict=True
        ):
            kids = children[frame.loc[children.index, "parent"] == pid]
            if kids.empty:
                report.issues.append(
                    HierarchyIssue(
                        "childless",
                        WARNING,
                        int(level - 1),
                        (str(pid),),
                        float(pgeom.area),
                        f"cell {pid} has no level-{level} cells",
                    )
                )
                continue
            rest = shapely.difference(pgeom, shapely.union_all(np.asarray(kids.geometry.values)))
            for piece in _polygon_parts(rest):
                _report_gap(piece, kids, int(level), tol, report, to_wgs, str(pid))


def _report_gap(
    piece: BaseGeometry,
    cells: gpd.GeoDataFrame,
    level: int,
    tol: float,
    report: HierarchyReport,
    to_wgs: Any,
    parent: str | None,
) -> None:
    area = float(piece.area)
    if area <= tol:
        return
    near = cells.index[cells.geometry.intersects(piece.buffer(1.0))]
    involved = ([parent] if parent else []) + [str(c) for c in near]
    where = f"inside {parent}" if parent else f"between level-{level} cells"
    report.issues.append(
        HierarchyIssue(
            "gap",
            WARNING,
            level,
            tuple(involved),
            area,
            f"{area:.0f} m² {where} covered by no level-{level} cell (next to {list(near)})",
            to_wgs(piece),
        )
    )


def children(grids: gpd.GeoDataFrame, grid_id: str) -> list[str]:
    """Ids of the cells whose parent is ``grid_id``, sorted."""
    return sorted(str(i) for i in grids.index[grids["parent"] == grid_id])


def ancestors(grids: gpd.GeoDataFrame, grid_id: str) -> list[str]:
    """Ids from ``grid_id``'s parent up to its level-1 cell."""
    out: list[str] = []
    current = grids.loc[grid_id, "parent"]
    while current is not None and current in grids.index and current not in out:
        out.append(str(current))
        current = grids.loc[current, "parent"]
    return out


def _usable(data: dict[str, Any], attr: str) -> bool:
    value = data.get(attr)
    if value is None:
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


_Index = tuple[list[Any], shapely.STRtree, NDArray[Any]]
_EDGE_INDEX: weakref.WeakKeyDictionary[nx.MultiDiGraph, _Index] = weakref.WeakKeyDictionary()


def _edge_index(G: nx.MultiDiGraph) -> _Index:
    """Edge keys and an R-tree of edge geometries (straight where an edge has none), cached."""
    cached = _EDGE_INDEX.get(G)
    if cached is not None and len(cached[0]) == G.number_of_edges():
        return cached
    keys: list[Any] = []
    geoms: list[Any] = []
    for u, v, k, d in G.edges(keys=True, data=True):
        keys.append((u, v, k))
        geom = d.get("geometry")
        if geom is None:
            a, b = G.nodes[u], G.nodes[v]
            geom = shapely.linestrings([(a["x"], a["y"]), (b["x"], b["y"])])
        geoms.append(geom)
    arr = np.asarray(geoms)
    out = (keys, shapely.STRtree(arr), arr)
    _EDGE_INDEX[G] = out
    return out


def grid_graph(
    district: Any, grid_id: str, buffer_m: float = 150.0, *, mode: str = "foot"
) -> nx.MultiDiGraph:
    """Return the street subgraph of one grid, with a buffer, strongly connected for a mode.

    Parameters
    ----------
    district
        An :class:`optimizer.district.District` (its ``grids`` and projected ``graph``).
    grid_id
        Id of any cell of the hierarchy.
    buffer_m
        Distance (m) beyond the cell boundary: every street (edge) that touches the buffered
        cell is kept whole, so routes may use the streets that bound the cell.
    mode
        ``foot``, ``bicycle`` or ``car``: edges whose ``travel_time_<mode>`` is missing or
        infinite are left out, and the largest strongly connected component is kept.

    Returns
    -------
    networkx.MultiDiGraph
        A copy. ``graph["grid_id"]``, ``graph["mode"]``, ``graph["buffer_m"]`` and
        ``graph["dropped"]`` describe the clipping: ``nodes``, ``edges`` and ``length_m``
        (the part inside the buffered cell) of the streets left out, split into ``closed_*``
        (closed to the mode) and ``disconnected_*`` (open, but outside the district's largest
        strongly connected network for the mode). Pieces of the cell that are connected only
        through streets outside the buffer are joined by the fastest such paths, counted in
        ``graph["connectors"]`` (``edges``, ``length_m``).

    Raises
    ------
    InputError
        Unknown grid or mode, or no street of the mode in the cell.
    """
    if mode not in TRAVEL_MODES:
        raise InputError("mode", mode, f"one of {list(TRAVEL_MODES)}")
    grids = district.grids
    if grid_id not in grids.index:
        raise InputError("grid_id", grid_id, f"one of {sorted(map(str, grids.index))[:20]}")
    G: nx.MultiDiGraph = district.graph
    crs = G.graph["crs"]
    cell = gpd.GeoSeries([grids.loc[grid_id].geometry], crs=grids.crs or "EPSG:4326").to_crs(crs)
    area = cell.iloc[0].buffer(buffer_m)
    keys, tree, geoms = _edge_index(G)
    hit = tree.query(area, predicate="intersects")
    hit_keys = [keys[i] for i in hit]
    # Length of each edge inside the buffered cell, so long edges count only their share.
    inside_len = dict(
        zip(hit_keys, shapely.length(shapely.intersection(geoms[hit], area)).tolist(), strict=True)
    )
    attr = f"travel_time_{mode}"
    core = mode_core(G, mode)
    all_edges = [(u, v, k, G._adj[u][v][k]) for u, v, k in hit_keys]
    in_core = core._adj
    usable = [
        (u, v, k) for u, v, k, d in all_edges if _usable(d, attr) and u in in_core and v in in_core
    ]
    seen_closed: set[tuple[Any, Any]] = set()
    if not usable:
        raise InputError("grid_id", grid_id, f"a grid with streets open to {mode} travel")
    M = nx.MultiDiGraph()
    M.add_edges_from((u, v, k, G._adj[u][v][k]) for u, v, k in usable)
    for n in M.nodes:
        M.nodes[n].update(G.nodes[n])
    # Strong connectivity: join every other strongly connected piece to the largest one by
    # the fastest paths through the district's mode network (these may leave the buffer).
    pieces = sorted(nx.strongly_connected_components(M), key=len, reverse=True)
    added: list[tuple[Any, Any, Any]] = []
    if len(pieces) > 1:
        index = _core_index(G, mode)
        main = [index.position[n] for n in pieces[0]]
        # One multi-source Dijkstra each way (scipy): paths from the main piece to every node,
        # and (on the transposed graph) from every node back to it.
        _, pred_to, _ = dijkstra(
            index.matrix, indices=main, min_only=True, return_predecessors=True
        )
        _, pred_from, _ = dijkstra(
            index.matrix.T.tocsr(), indices=main, min_only=True, return_predecessors=True
        )
        for piece in pieces[1:]:
            start = index.position[next(iter(piece))]
            for pred, forward in ((pred_to, True), (pred_from, False)):
                seq = [start]
                while pred[seq[-1]] >= 0:
                    seq.append(int(pred[seq[-1]]))
                nodes_seq = [index.nodes[i] for i in seq]
                if forward:
                    nodes_seq.reverse()  # main -> ... -> start
                for a, b in itertools.pairwise(nodes_seq):
                    if not M.has_edge(a, b):
                        k = min(core[a][b], key=lambda kk: float(core[a][b][kk][attr]))
                        M.add_edge(a, b, k, **G.edges[a, b, k])
                        added.append((a, b, k))
        for n in M.nodes:
            M.nodes[n].update(G.nodes[n])
    out = M
    kept = set(out.edges(keys=True))
    dropped = [(u, v, k, d) for u, v, k, d in all_edges if (u, v, k) not in kept]
    # A street is closed to the mode only if no direction of it is open (a one-way street's
    # way back, open to walkers only, is not a closed street for cars).
    open_pairs = {frozenset((u, v)) for u, v, k in usable}
    closed: list[float] = []
    for u, v, k, d in dropped:
        if _usable(d, attr) or frozenset((u, v)) in open_pairs or (v, u) in seen_closed:
            continue
        seen_closed.add((u, v))
        closed.append(inside_len[(u, v, k)])
    cut_off = [inside_len[(u, v, k)] for u, v, k, d in dropped if _usable(d, attr)]
    out.graph.update(G.graph)
    out.graph["grid_id"] = grid_id
    out.graph["mode"] = mode
    out.graph["buffer_m"] = float(buffer_m)
    out.graph["dropped"] = {
        "nodes": len({n for u, v, _ in hit_keys for n in (u, v)} - set(out.nodes)),
        "edges": len(dropped),
        "length_m": round(sum(closed) + sum(cut_off), 1),
        "closed_edges": len(closed),
        "closed_length_m": round(sum(closed), 1),
        "disconnected_edges": len(cut_off),
        "disconnected_length_m": round(sum(cut_off), 1),
    }
    out.graph["connectors"] = {
        "edges": len(added),
        "length_m": round(sum(float(G.edges[e].get("length", 0.0)) for e in added), 1),
    }
    return out


@dataclass
class _CoreIndex:
    nodes: list[Any]
    position: dict[Any, int]
    matrix: Any


def _core_index(G: nx.MultiDiGraph, mode: str) -> _CoreIndex:
    """Sparse matrix of the mode's core (fastest parallel edge), cached with the core."""
    per_graph = _CORES.setdefault(G, {})
    key = mode + ":index"
    if key not in per_graph:
        core = mode_core(G, mode)
        attr = f"travel_time_{mode}"
        nodes = list(core.nodes)
        position = {n: i for i, n in enumerate(nodes)}
        best: dict[tuple[int, int], float] = {}
        for u, v, d in core.edges(data=True):
            pair = (position[u], position[v])
            t = float(d[attr])
            if t < best.get(pair, math.inf):
                best[pair] = t
        rows = np.fromiter((p[0] for p in best), dtype=np.int64, count=len(best))
        cols = np.fromiter((p[1] for p in best), dtype=np.int64, count=len(best))
        vals = np.fromiter(best.values(), dtype=float, count=len(best))
        # Zero-time edges would vanish from a sparse matrix: give them a tiny positive cost.
        vals = np.maximum(vals, 1e-6)
        matrix = csr_matrix((vals, (rows, cols)), shape=(len(nodes), len(nodes)))
        per_graph[key] = _CoreIndex(nodes, position, matrix)
    return cast(_CoreIndex, per_graph[key])


_CORES: weakref.WeakKeyDictionary[nx.MultiDiGraph, dict[str, Any]] = weakref.WeakKeyDictionary()


def mode_core(G: nx.MultiDiGraph, mode: str) -> nx.MultiDiGraph:
    """The largest strongly connected part of the district's network open to ``mode`` (cached)."""
    per_graph = _CORES.setdefault(G, {})
    cached = per_graph.get(mode)
    if cached is not None:
        return cached
    attr = f"travel_time_{mode}"
    open_edges = [(u, v, k) for u, v, k, d in G.edges(keys=True, data=True) if _usable(d, attr)]
    view = G.edge_subgraph(open_edges)
    if view.number_of_nodes() == 0:
        core = nx.MultiDiGraph()
    else:
        main = max(nx.strongly_connected_components(view), key=len)
        core = nx.MultiDiGraph(view.subgraph(main))
    per_graph[mode] = core
    return core


def level_ids(grids: gpd.GeoDataFrame, level: int) -> list[str]:
    """Ids of the cells of one level, sorted."""
    return sorted(str(i) for i in grids.index[grids["level"] == level])


def nesting_ok(grids: gpd.GeoDataFrame, tolerance_m2: float = DEFAULT_TOLERANCE_M2) -> bool:
    """Whether the hierarchy nests without error (yes/no over :func:`validate_hierarchy`)."""
    _, report = validate_hierarchy(grids, tolerance_m2=tolerance_m2)
    return report.ok
