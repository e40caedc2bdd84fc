"""Automatic grid hierarchies: nested, compact, contiguous cells balanced by street length.

Method
------
1. The streets (each two-way street once) are sampled every ``spacing_m`` metres; each sample
   carries the street length it stands for and, where incidents are given, the incidents
   snapped to it. Its weight is ``(1 - risk_weight) * length share + risk_weight * risk share``.
2. The samples are split top-down by recursive bisection along their weighted principal axis,
   cutting at the weight quantile that matches the number of final cells on each side. Level
   ``k`` cells are split into their level ``k+1`` children the same way, so every leaf carries
   the same weight and the levels nest by construction.
3. Polygons are the Voronoi cells of the samples, dissolved per leaf and clipped to the
   boundary (or, without one, to a buffered concave hull of the streets); parents are unions
   of their children, so nesting is exact. Stray pieces of a cell (Voronoi cells cut off by
   a neighbour) are handed to the neighbour they share most boundary with, preferring a
   sibling, so cells are contiguous.

The report gives, per level, the balance (max / min street length, and risk where given) and
the compactness (Polsby-Popper 4πA/P², 1 for a disc, about 0.785 for a square).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from shapely.geometry import MultiPoint, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from optimizer.errors import InputError

MAX_SAMPLES = 60_000


@dataclass(frozen=True)
class LevelStats:
    """Balance and compactness of one level of an automatic hierarchy."""

    level: int
    cells: int
    length_min_m: float
    length_max_m: float
    length_balance: float
    risk_balance: float | None
    polsby_popper_mean: float
    polsby_popper_min: float
    multipart_cells: int
    weight_balance: float | None = None
    """Max / min of the balanced workload (street length and risk mixed), where risk is used."""
    nested_balance: float = 1.0
    """The best max / min the nesting allows: cells of a level hold different numbers of
    finest cells when the counts do not divide (13 level-2 cells in 2 level-1 cells: 7 / 6)."""


@dataclass
class PartitionReport:
    """What :func:`auto_grids` produced: per-level statistics and the repairs it made."""

    levels: list[LevelStats] = field(default_factory=list)
    samples: int = 0
    spacing_m: float = 0.0
    street_length_m: float = 0.0
    street_length_outside_m: float = 0.0
    pieces_moved: int = 0
    seed: int = 0

    def to_frame(self) -> pd.DataFrame:
        """One row per level."""
        return pd.DataFrame([vars(s) for s in self.levels]).set_index("level")

    def summary(self) -> str:
        """A few lines for a terminal."""
        lines = [
            f"auto grids: {self.street_length_m / 1000:.1f} km of streets, "
            f"{self.samples} samples every {self.spacing_m:.0f} m, seed {self.seed}"
        ]
        for s in self.levels:
            risk = f", risk max/min {s.risk_balance:.2f}" if s.risk_balance is not None else ""
            if s.weight_balance is not None:
                risk += f", length+risk workload max/min {s.weight_balance:.2f}"
            lines.append(
                f"  level {s.level}: {s.cells} cells, street length "
                f"{s.length_min_m / 1000:.2f}-{s.length_max_m / 1000:.2f} km "
                f"(max/min {s.length_balance:.2f}{risk}"
                + (
                    f"; {s.nested_balance:.2f} set by the nesting"
                    if s.nested_balance > 1.001
                    else ""
                )
                + "), Polsby-Popper mean "
                f"{s.polsby_popper_mean:.2f} min {s.polsby_popper_min:.2f}"
                + (f", {s.multipart_cells} multi-part" if s.multipart_cells else "")
            )
        if self.pieces_moved:
            lines.append(f"  {self.pieces_moved} stray Voronoi pieces handed to neighbours")
        if self.street_length_outside_m > 1:
            lines.append(
                f"  {self.street_length_outside_m / 1000:.2f} km of streets lie outside "
                "the boundary and were left out"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (for district metadata)."""
        return {
            "levels": [vars(s) for s in self.levels],
            "samples": self.samples,
            "spacing_m": self.spacing_m,
            "street_length_m": round(self.street_length_m, 1),
            "street_length_outside_m": round(self.street_length_outside_m, 1),
            "pieces_moved": self.pieces_moved,
            "seed": self.seed,
        }


def _check_levels(levels: tuple[int, ...] | list[int]) -> tuple[int, ...]:
    out = tuple(int(n) for n in levels)
    if not out or any(n < 1 for n in out) or any(b < a for a, b in itertools.pairwise(out)):
        raise InputError(
            "levels", levels, "positive, non-decreasing cell counts per level, e.g. 2,13,91"
        )
    return out


def street_lines(G: nx.MultiDiGraph) -> gpd.GeoDataFrame:
    """Each street once, in the graph's CRS.

    The two directions of a two-way street (and a walker's way back along a one-way street)
    are the same street: edges joining the same two nodes with the same length (to 0.1 m)
    count once. (``osmnx.convert.to_undirected`` does the same by comparing geometries, and
    takes seconds.)
    """
    seen: set[tuple[Any, Any, float]] = set()
    geoms: list[Any] = []
    for u, v, d in G.edges(data=True):
        a, b = (u, v) if str(u) <= str(v) else (v, u)
        key = (a, b, round(float(d.get("length", 0.0)), 1))
        if key in seen:
            continue
        seen.add(key)
        geom = d.get("geometry")
        if geom is None:
            nu, nv = G.nodes[u], G.nodes[v]
            geom = shapely.linestrings([(nu["x"], nu["y"]), (nv["x"], nv["y"])])
        geoms.append(geom)
    return gpd.GeoDataFrame(geometry=geoms, crs=G.graph.get("crs"))


def _sample(lines: NDArray[Any], spacing: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Points every ``spacing`` m along the lines, and the length each stands for."""
    lengths = shapely.length(lines)
    counts = np.maximum(1, np.ceil(lengths / spacing)).astype(int)
    idx = np.repeat(np.arange(len(lines)), counts)
    starts = np.cumsum(counts) - counts
    k = np.arange(int(counts.sum())) - np.repeat(starts, counts)
    step = lengths[idx] / counts[idx]
    pts = shapely.line_interpolate_point(lines[idx], (k + 0.5) * step)
    xy = shapely.get_coordinates(pts)
    return xy, step


def _weighted_axis(xy: NDArray[np.float64], w: NDArray[np.float64]) -> float:
    """Angle (radians) of the weighted principal axis."""
    mean = (xy * w[:, None]).sum(axis=0) / w.sum()
    d = xy - mean
    cov = (d * w[:, None]).T @ d
    vals, vecs = np.linalg.eigh(cov)
    axis = vecs[:, int(np.argmax(vals))]
    return float(np.arctan2(axis[1], axis[0]))


_ANGLES = np.radians([0.0, 30.0, 60.0, 90.0, 120.0, 150.0])


@dataclass
class _Adjacency:
    """Neighbouring samples (their Voronoi cells touch) and the length of boundary they share."""

    a: NDArray[np.intp]
    b: NDArray[np.intp]
    length: NDArray[np.float64]

    @classmethod
    def from_cells(cls, cells: NDArray[Any]) -> _Adjacency:
        """Samples whose (clipped) Voronoi cells share a stretch of boundary."""
        tree = shapely.STRtree(cells)
        a, b = tree.query(cells, predicate="intersects")
        keep = a < b
        a, b = a[keep], b[keep]
        shared = shapely.length(
            shapely.intersection(shapely.boundary(cells[a]), shapely.boundary(cells[b]))
        )
        touch = shared > 0.01
        return cls(a[touch], b[touch], np.asarray(shared[touch], dtype=float))


def _stray(
    side: NDArray[np.bool_], ea: NDArray[np.intp], eb: NDArray[np.intp], w: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Samples of each side outside that side's heaviest connected piece.

    Works in the local numbering of one bisection: ``side`` is True for the left samples,
    ``ea``/``eb`` are the neighbour pairs among these samples.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    m = len(side)
    keep = side[ea] == side[eb]
    graph = coo_matrix((np.ones(int(keep.sum())), (ea[keep], eb[keep])), shape=(m, m))
    _, comp = connected_components(graph, directed=False)
    out = np.zeros(m, dtype=bool)
    for value in (True, False):
        mask = side == value
        if not mask.any():
            continue
        labels = comp[mask]
        weights = np.bincount(labels, weights=w[mask])
        main = int(np.argmax(weights))
        out[np.flatnonzero(mask)[labels != main]] = True
    return out


def _bisect(
    xy: NDArray[np.float64],
    w: NDArray[np.float64],
    idx: NDArray[np.intp],
    targets: list[int],
    adj: _Adjacency,
) -> list[NDArray[np.intp]]:
    """Split the samples ``idx`` into ``len(targets)`` groups of weight proportional to targets.

    Straight cuts in six directions around the principal axis are tried; a cut's stray
    pieces (samples cut off from the rest of their side) go to the other side, and the cut is
    shifted to restore the balance. The cut kept is the balanced one with the shortest
    boundary (the Voronoi edges it crosses).
    """
    if len(targets) == 1:
        return [idx]
    half = len(targets) // 2
    left_t, right_t = targets[:half], targets[half:]
    share = sum(left_t) / sum(targets)
    if len(idx) < 2:
        return [idx] + [idx[:0] for _ in targets[1:]]
    m = len(idx)
    pos = np.full(len(xy), -1, dtype=np.intp)
    pos[idx] = np.arange(m)
    within = (pos[adj.a] >= 0) & (pos[adj.b] >= 0)
    ea, eb, el = pos[adj.a[within]], pos[adj.b[within]], adj.length[within]
    lxy, lw = xy[idx], w[idx]
    total = float(lw.sum())
    base = _weighted_axis(lxy, lw)
    best: tuple[float, float, NDArray[np.bool_]] | None = None
    for angle in base + _ANGLES:
        order = np.argsort(lxy @ np.array([np.cos(angle), np.sin(angle)]), kind="stable")
        forced_left = np.zeros(m, dtype=bool)
        forced_right = np.zeros(m, dtype=bool)
        left = np.zeros(m, dtype=bool)
        for _ in range(6):
            free = order[~(forced_left[order] | forced_right[order])]
            need = share * total - float(lw[forced_left].sum())
            cum = np.cumsum(lw[free])
            cut = int(np.searchsorted(cum, need)) if len(free) else 0
            if not (
                0 < cut < len(free) and abs(cum[cut - 1] - need) < abs(cum[cut] - need)
            ) and cut < len(free):
                cut += 1
            left = forced_left.copy()
            left[free[:cut]] = True
            stray = _stray(left, ea, eb, lw)
            if not stray.any():
                break
            forced_right |= stray & left
            forced_left |= stray & ~left
            left = left ^ stray
        n_left = int(left.sum())
        if n_left == 0 or n_left == m:
            continue
        error = abs(float(lw[left].sum()) - share * total) / total
        crossing = float(el[left[ea] != left[eb]].sum())
        score = (float(round(error / 0.02)), crossing)
        if best is None or score < (best[0], best[1]):
            best = (score[0], score[1], left.copy())
    if best is None:
        order = np.argsort(lxy @ np.array([np.cos(base), np.sin(base)]), kind="stable")
        cut = min(max(1, round(share * m)), m - 1)
        li, ri = idx[order[:cut]], idx[order[cut:]]
    else:
        li, ri = idx[best[2]], idx[~best[2]]
    return _bisect(xy, w, li, left_t, adj) + _bisect(xy, w, ri, right_t, adj)


def _spread(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


@dataclass
class _Node:
    level: int
    id: str
    parent: str | None
    leaves: int
    children: list[_Node] = field(default_factory=list)


def _tree(levels: tuple[int, ...], prefix: str) -> list[_Node]:
    """The nesting plan: which level-k cell gets how many children and leaves."""
    leaves_total = levels[-1]
    top = [_Node(1, f"{prefix}{i + 1}", None, 0) for i in range(levels[0])]
    current = top
    for depth, n in enumerate(levels[1:], start=2):
        counts = _spread(n, len(current))
        nxt: list[_Node] = []
        for node, c in zip(current, counts, strict=True):
            width = max(2, len(str(c)))
            node.children = [
                _Node(depth, f"{node.id}-{j + 1:0{width}d}", node.id, 0) for j in range(c)
            ]
            nxt.extend(node.children)
        current = nxt
    for leaf, c in zip(current, _spread(leaves_total, len(current)), strict=True):
        leaf.leaves = c

    def fill(node: _Node) -> int:
        if node.children:
            node.leaves = sum(fill(c) for c in node.children)
        return node.leaves

    for node in top:
        fill(node)
    return top


def _region(
    xy: NDArray[np.float64], boundary: BaseGeometry | None, buffer_m: float
) -> BaseGeometry:
    if boundary is not None:
        return boundary
    hull = shapely.concave_hull(MultiPoint(xy), ratio=0.2)
    return shapely.make_valid(hull.buffer(buffer_m))


def _polsby_popper(geom: BaseGeometry) -> float:
    p = float(geom.length)
    return 4 * math.pi * float(geom.area) / (p * p) if p > 0 else 0.0


def _parts(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom] if not geom.is_empty else []
    if isinstance(geom, MultiPolygon):
        return list(geom.geoms)
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in _parts(g)]
    return []


def _make_contiguous(
    cells: dict[str, BaseGeometry], parent_of: dict[str, str | None], region: BaseGeometry
) -> int:
    """Hand every non-largest piece of a cell to the neighbour sharing most boundary."""
    moved = 0
    region_parts = _parts(region)
    for _ in range(3):
        changed = False
        for cid in list(cells):
            parts = _parts(cells[cid])
            if len(parts) <= 1:
                continue
            parts.sort(key=lambda p: p.area, reverse=True)
            keep = [parts[0]]
            for piece in parts[1:]:
                # A piece alone in its own part of a multi-part region has nowhere to go.
                if len(region_parts) > 1 and any(
                    r.contains(piece.buffer(-0.01)) and not r.intersects(parts[0])
                    for r in region_parts
                ):
                    keep.append(piece)
                    continue
                best, best_len = None, 0.0
                ring = piece.boundary
                for other, geom in cells.items():
                    if other == cid or not geom.intersects(piece):
                        continue
                    shared = float(ring.intersection(geom.boundary).length)
                    if parent_of.get(other) == parent_of.get(cid):
                        shared *= 4.0  # prefer a sibling so the parents stay as drawn
                    if shared > best_len:
                        best, best_len = other, shared
                if best is None:
                    keep.append(piece)
                    continue
                cells[best] = shapely.union(cells[best], piece)
                moved += 1
                changed = True
            cells[cid] = keep[0] if len(keep) == 1 else MultiPolygon(keep)
        if not changed:
            break
    return moved


def auto_grids(
    G: nx.MultiDiGraph,
    boundary: BaseGeometry | None = None,
    levels: tuple[int, ...] | list[int] = (2, 13, 91),
    incidents: gpd.GeoDataFrame | None = None,
    seed: int = 0,
    *,
    spacing_m: float = 25.0,
    risk_weight: float = 0.5,
    hull_buffer_m: float = 60.0,
    prefix: str = "G",
) -> tuple[gpd.GeoDataFrame, PartitionReport]:
    """Partition a district's streets into a nested hierarchy of balanced, compact cells.

    Parameters
    ----------
    G
        Projected street graph (metres; ``G.graph["crs"]``).
    boundary
        District boundary in WGS-84; ``None`` means a concave hull of the streets buffered by
        ``hull_buffer_m``. Streets outside the boundary are left out.
    levels
        Number of cells per level, coarsest first, non-decreasing (e.g. ``(2, 13, 91)``).
    incidents
        Incident points (WGS-84). Where given, cells balance street length and incident count
        mixed by ``risk_weight``.
    seed
        Seed of the tiny jitter that separates coincident street samples.
    spacing_m
        Distance between street samples (raised for very large districts).
    risk_weight
        Share of incident risk in the balancing weight (0 = street length only).
    hull_buffer_m
        Buffer around the concave hull of the streets when there is no boundary.
    prefix
        Prefix of the cell ids (``G1``, ``G1-01``, ``G1-01-03`` ...).

    Returns
    -------
    tuple of (geopandas.GeoDataFrame, PartitionReport)
        Hierarchy indexed by ``id`` with ``level``, ``parent``, ``name``, ``street_length_m``
        and WGS-84 polygons; and the balance / compactness report.
    """
    counts = _check_levels(levels)
    if not 0.0 <= risk_weight <= 1.0:
        raise InputError("risk_weight", risk_weight, "a number in [0, 1]")
    crs = G.graph.get("crs")
    if crs is None or G.number_of_edges() == 0:
        raise InputError("G", "graph", "a projected street graph with edges (graph['crs'] set)")
    lines = street_lines(G)
    geoms = np.asarray(lines.geometry.values)
    total_len = float(shapely.length(geoms).sum())
    spacing = max(float(spacing_m), total_len / MAX_SAMPLES)
    xy, w_len = _sample(geoms, spacing)

    region_m: BaseGeometry | None = None
    outside_len = 0.0
    if boundary is not None:
        region_m = gpd.GeoSeries([boundary], crs="EPSG:4326").to_crs(crs).iloc[0]
        region_m = shapely.make_valid(region_m)
        inside = shapely.contains_xy(region_m, xy[:, 0], xy[:, 1])
        outside_len = float(w_len[~inside].sum())
        xy, w_len = xy[inside], w_len[inside]
    if len(xy) < counts[-1]:
        raise InputError(
            "levels",
            counts,
            f"at most {len(xy)} finest cells for {total_len / 1000:.1f} km of streets",
        )

    # Coincident samples (street crossings, overlapping ways) would break the Voronoi diagram.
    rng = np.random.default_rng(seed)
    keyed = np.round(xy, 2)
    _, first, inverse = np.unique(keyed, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    w_len = np.bincount(inverse, weights=w_len).astype(float)
    xy = xy[first] + rng.uniform(-1e-3, 1e-3, size=(len(first), 2))

    risk = None
    if incidents is not None and len(incidents) > 0:
        pts = (incidents if incidents.crs is not None else incidents.set_crs(4326)).to_crs(crs)
        ixy = shapely.get_coordinates(np.asarray(pts.geometry.values))
        _, near = cKDTree(xy).query(ixy)
        risk = np.bincount(near, minlength=len(xy)).astype(float)
    weight = w_len / w_len.sum()
    if risk is not None and risk.sum() > 0 and risk_weight > 0:
        weight = (1 - risk_weight) * weight + risk_weight * risk / risk.sum()

    tree = _tree(counts, prefix)
    labels = np.empty(len(xy), dtype=object)
    nodes: dict[str, _Node] = {}

    region = region_m if region_m is not None else _region(xy, None, hull_buffer_m)
    vor = shapely.voronoi_polygons(MultiPoint(xy), extend_to=region, ordered=True)
    vcells = shapely.intersection(np.asarray(list(vor.geoms)), region)
    # A Voronoi cell cut in two by a concave boundary keeps the part holding its sample; the
    # cut-off parts are handed out below with the other stray pieces.
    stray_parts: list[BaseGeometry] = []
    for i in np.flatnonzero(shapely.get_num_geometries(vcells) > 1):
        parts = _parts(vcells[i])
        point = shapely.points(xy[i])
        own = [p for p in parts if p.intersects(point)] or [max(parts, key=lambda g: g.area)]
        vcells[i] = own[0]
        stray_parts.extend(p for p in parts if p is not own[0])
    adj = _Adjacency.from_cells(vcells)

    def assign(group: list[_Node], idx: NDArray[np.intp]) -> None:
        parts = _bisect(xy, weight, idx, [n.leaves for n in group], adj)
        for node, sub in zip(group, parts, strict=True):
            nodes[node.id] = node
            if node.children:
                assign(node.children, sub)
            else:
                labels[sub] = node.id

    assign(tree, np.arange(len(xy)))

    leaf_ids = [nid for nid, n in nodes.items() if not n.children]
    cells: dict[str, BaseGeometry] = {}
    for lid in leaf_ids:
        members = vcells[labels == lid]
        cells[lid] = shapely.union_all(members) if len(members) else Polygon()
    for piece in stray_parts:
        touching = [
            (float(piece.boundary.intersection(g.boundary).length), cid)
            for cid, g in cells.items()
            if g.intersects(piece)
        ]
        if touching:
            cid = max(touching)[1]
            cells[cid] = shapely.union(cells[cid], piece)
    parent_of = {nid: n.parent for nid, n in nodes.items()}
    moved = _make_contiguous(cells, parent_of, region)

    # Parents are unions of their children: nesting is exact.
    geom_of: dict[str, BaseGeometry] = dict(cells)
    for depth in range(len(counts) - 1, 0, -1):
        for nid, n in nodes.items():
            if n.level == depth and n.children:
                geom_of[nid] = shapely.union_all([geom_of[c.id] for c in n.children])

    ids = sorted(nodes, key=lambda i: (nodes[i].level, i))
    frame = gpd.GeoDataFrame(
        {
            "id": ids,
            "level": [nodes[i].level for i in ids],
            "parent": [nodes[i].parent for i in ids],
            "name": [f"Auto grid {i}" for i in ids],
        },
        geometry=[shapely.make_valid(geom_of[i]) for i in ids],
        crs=crs,
    )
    lengths = _lengths_in(frame.geometry.values, geoms)
    frame["street_length_m"] = np.round(lengths, 1)
    risk_in = None
    weight_in = None
    if risk is not None:
        under = [_labels_under(labels, nodes, i) for i in ids]
        risk_in = np.array([float(risk[u].sum()) for u in under])
        weight_in = np.array([float(weight[u].sum()) for u in under])
    report = PartitionReport(
        samples=len(xy),
        spacing_m=spacing,
        street_length_m=total_len,
        street_length_outside_m=outside_len,
        pieces_moved=moved,
        seed=seed,
    )
    for depth in range(1, len(counts) + 1):
        mask = frame["level"].to_numpy() == depth
        lv = lengths[mask]
        pp = [_polsby_popper(g) for g in frame.geometry.values[mask]]
        multipart = sum(len(_parts(g)) > 1 for g in frame.geometry.values[mask])
        rb = wb = None
        if risk_in is not None and weight_in is not None:
            rv = risk_in[mask]
            rb = float(rv.max() / rv.min()) if rv.min() > 0 else math.inf
            wv = weight_in[mask]
            wb = float(wv.max() / wv.min()) if wv.min() > 0 else math.inf
        report.levels.append(
            LevelStats(
                depth,
                int(mask.sum()),
                float(lv.min()),
                float(lv.max()),
                float(lv.max() / lv.min()) if lv.min() > 0 else math.inf,
                rb,
                float(np.mean(pp)),
                float(np.min(pp)),
                int(multipart),
                wb,
                _nested_balance(nodes, depth),
            )
        )
    out = frame.to_crs("EPSG:4326").set_index("id")
    return out, report


def _nested_balance(nodes: dict[str, _Node], depth: int) -> float:
    leaves = [n.leaves for n in nodes.values() if n.level == depth]
    return max(leaves) / min(leaves) if leaves and min(leaves) > 0 else 1.0


def _labels_under(labels: NDArray[Any], nodes: dict[str, _Node], nid: str) -> NDArray[np.bool_]:
    prefix = nid + "-"
    return np.array([lab == nid or str(lab).startswith(prefix) for lab in labels], dtype=bool)


def _lengths_in(cells: Any, lines: NDArray[Any]) -> NDArray[np.float64]:
    """Street length (m) inside each cell."""
    tree = shapely.STRtree(lines)
    lengths = shapely.length(lines)
    out = np.zeros(len(cells))
    for i, cell in enumerate(cells):
        shapely.prepare(cell)
        cand = tree.query(cell, predicate="intersects")
        if not len(cand):
            continue
        # Lines wholly inside count whole; only those crossing the boundary are cut.
        inside = shapely.contains(cell, lines[cand])
        crossing = cand[~inside]
        out[i] = float(lengths[cand[inside]].sum())
        if len(crossing):
            out[i] += float(shapely.length(shapely.intersection(lines[crossing], cell)).sum())
    return out
