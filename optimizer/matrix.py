"""Fast travel-time matrices, point snapping and paths on a prepared street graph.

:class:`StreetRouter` is built once per graph (see :func:`optimizer.streets.prepare_graph`). Per
travel mode it keeps a ``scipy.sparse`` CSR matrix of edge travel times (the fastest of parallel
edges) and answers many-to-many queries with one multi-source ``scipy.sparse.csgraph.dijkstra``
call, never one networkx search per pair.

Unreachable pairs get :data:`UNREACHABLE` (seconds and metres), never 0. Points anywhere on the
map are snapped onto the nearest street edge with their offset along it
(:meth:`StreetRouter.snap`); :meth:`StreetRouter.point_matrix` then counts the part of each
edge travelled from and to the points, in the directions the mode may use.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer
from scipy import sparse
from scipy.sparse import csgraph
from shapely.geometry import LineString

from optimizer.errors import InputError
from optimizer.streets import MODES

UNREACHABLE: int = 10**9
"""Sentinel for unreachable pairs: ``seconds`` and ``metres`` hold this value (about 31 years,
far above any shift, and safe to add in int64)."""

_MIN_WEIGHT = 1e-6  # csgraph ignores explicit zeros: zero-length edges get a tiny weight


@dataclass(frozen=True)
class TravelMatrix:
    """Travel times and distances from origins (rows) to destinations (columns).

    Attributes
    ----------
    seconds
        int64 array of travel times in whole seconds (rounded); :data:`UNREACHABLE` where no path.
    metres
        float array of the length of the fastest path; ``float(UNREACHABLE)`` where no path.
    """

    seconds: npt.NDArray[np.int64]
    metres: npt.NDArray[np.float64]

    @property
    def reachable(self) -> npt.NDArray[np.bool_]:
        """Boolean mask of the pairs with a path."""
        return np.asarray(self.seconds < UNREACHABLE)


@dataclass(frozen=True)
class Snapped:
    """Points snapped onto street edges.

    Attributes
    ----------
    u, v, key
        The edge ``(u, v, key)`` of the graph each point lies on.
    offset_m
        Distance along the edge geometry from ``u`` to the snapped point.
    edge_length_m
        Length of the edge geometry (projected metres).
    distance_m
        Distance from the input point to the snapped point.
    x, y
        Snapped point in the graph's projected CRS.
    mode
        Mode the snapping was restricted to (edges it may use, in its largest strongly connected
        component), or None for any edge.
    """

    u: npt.NDArray[np.int64]
    v: npt.NDArray[np.int64]
    key: npt.NDArray[np.int64]
    offset_m: npt.NDArray[np.float64]
    edge_length_m: npt.NDArray[np.float64]
    distance_m: npt.NDArray[np.float64]
    x: npt.NDArray[np.float64]
    y: npt.NDArray[np.float64]
    mode: str | None = None
    edge_index: npt.NDArray[np.int64] | None = None

    def __len__(self) -> int:
        return int(self.u.shape[0])


@dataclass
class _ModeGraph:
    csr: sparse.csr_matrix  # travel time (s) of the fastest parallel edge
    length: sparse.csr_matrix  # length (m) of that same edge
    edge_of: dict[tuple[int, int], int]  # (i, j) -> edge row index of that edge
    keys: npt.NDArray[np.int64]  # sorted i * n + j of the CSR entries
    lengths: npt.NDArray[np.float64]  # edge length (m) in the order of keys
    in_main: npt.NDArray[np.bool_]  # node in the largest strongly connected component


class StreetRouter:
    """Travel-time matrices, snapping and paths on one prepared street graph.

    Parameters
    ----------
    G
        Prepared graph: projected, nodes with ``x``/``y`` and ``lon``/``lat``, edges with
        ``length`` and ``travel_time_<mode>`` (``math.inf`` where closed).
    """

    def __init__(self, G: nx.MultiDiGraph) -> None:
        if G.number_of_nodes() == 0:
            raise InputError("graph", "empty graph", "a prepared street graph with nodes")
        self.G = G
        self.crs = G.graph.get("crs")
        self.node_ids: npt.NDArray[np.int64] = np.fromiter(G.nodes, dtype=np.int64,
                                                           count=G.number_of_nodes())
        self._order = np.argsort(self.node_ids)
        self._sorted_ids = self.node_ids[self._order]
        self._index = {int(n): i for i, n in enumerate(self.node_ids)}
        n_edges = G.number_of_edges()
        self._eu = np.empty(n_edges, dtype=np.int64)
        self._ev = np.empty(n_edges, dtype=np.int64)
        self._ekey = np.empty(n_edges, dtype=np.int64)
        self._elen = np.empty(n_edges, dtype=np.float64)
        self._tt: dict[str, npt.NDArray[np.float64]] = {
            m: np.empty(n_edges, dtype=np.float64) for m in MODES}
        self._edata: list[dict[str, Any]] = []
        for e, (u, v, k, d) in enumerate(G.edges(keys=True, data=True)):
            self._eu[e] = self._index[u]
            self._ev[e] = self._index[v]
            self._ekey[e] = k
            self._elen[e] = float(d.get("length", 0.0))
            for m in MODES:
                self._tt[m][e] = float(d.get(f"travel_time_{m}", math.inf))
            self._edata.append(d)
        self._modes: dict[str, _ModeGraph] = {}
        self._trees: OrderedDict[tuple[int, str], npt.NDArray[np.int32]] = OrderedDict()
        self._geoms: list[LineString] | None = None
        self._reverse: npt.NDArray[np.int64] | None = None
        self._strtrees: dict[str | None, tuple[shapely.STRtree, npt.NDArray[np.int64]]] = {}
        self._to_wgs84: Transformer | None = None
        self._from_wgs84: Transformer | None = None

    # ------------------------------------------------------------------ per-mode sparse graphs

    def _mode(self, mode: str) -> _ModeGraph:
        if mode not in MODES:
            raise InputError("mode", mode, f"one of {', '.join(MODES)}")
        if mode in self._modes:
            return self._modes[mode]
        tt = self._tt[mode]
        ok = np.flatnonzero(np.isfinite(tt))
        n = self.node_ids.shape[0]
        # Keep the fastest of parallel edges: sort by (u, v, time), take the first of each pair.
        order = ok[np.lexsort((tt[ok], self._ev[ok], self._eu[ok]))]
        pair = self._eu[order] * n + self._ev[order]
        first = np.ones(order.shape[0], dtype=bool)
        first[1:] = pair[1:] != pair[:-1]
        best = order[first]
        best = best[self._eu[best] != self._ev[best]]  # self-loops never shorten a path
        w = np.maximum(tt[best], _MIN_WEIGHT)
        csr = sparse.csr_matrix((w, (self._eu[best], self._ev[best])), shape=(n, n))
        length = sparse.csr_matrix((np.maximum(self._elen[best], _MIN_WEIGHT),
                                    (self._eu[best], self._ev[best])), shape=(n, n))
        edge_of = {(int(a), int(b)): int(e)
                   for a, b, e in zip(self._eu[best], self._ev[best], best, strict=True)}
        csr.sort_indices()
        length.sort_indices()
        keys = (np.repeat(np.arange(n, dtype=np.int64), np.diff(length.indptr)) * n
                + length.indices.astype(np.int64))
        in_main = np.zeros(n, dtype=bool)
        if best.shape[0]:
            _, labels = csgraph.connected_components(csr, directed=True, connection="strong")
            counts = np.bincount(labels)
            in_main = labels == int(np.argmax(counts))
        mg = _ModeGraph(csr=csr, length=length, edge_of=edge_of, keys=keys,
                        lengths=np.asarray(length.data, dtype=np.float64), in_main=in_main)
        self._modes[mode] = mg
        return mg

    def indices(self, nodes: Sequence[int] | npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Return the row indices of graph node ids (vectorised).

        Raises
        ------
        InputError
            If a node id is not in the graph.
        """
        arr = np.asarray(nodes, dtype=np.int64).ravel()
        pos = np.searchsorted(self._sorted_ids, arr)
        pos = np.clip(pos, 0, self._sorted_ids.shape[0] - 1)
        bad = self._sorted_ids[pos] != arr
        if bad.any():
            raise InputError("nodes", arr[bad][:5].tolist(), "node ids of the street graph")
        return np.asarray(self._order[pos], dtype=np.int64)

    # ------------------------------------------------------------------ node-to-node matrices

    def _dijkstra(
        self, mode: str, sources: npt.NDArray[np.int64], *, predecessors: bool,
        limit: float | None = None,
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int32] | None]:
        mg = self._mode(mode)
        lim = np.inf if limit is None else float(limit)
        if predecessors:
            dist, pred = csgraph.dijkstra(mg.csr, directed=True, indices=sources,
                                          return_predecessors=True, limit=lim)
            return np.atleast_2d(dist), np.atleast_2d(pred)
        dist = csgraph.dijkstra(mg.csr, directed=True, indices=sources, limit=lim)
        return np.atleast_2d(dist), None

    def _metres_along(self, mode: str, pred: npt.NDArray[np.int32],
                      sources: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """Length of the tree path to every node, for each source row (pointer jumping)."""
        mg = self._mode(mode)
        rows, n = pred.shape
        valid = pred >= 0
        parent = np.where(valid, pred, np.arange(n)[None, :]).astype(np.int64)
        w = np.zeros((rows, n))
        if valid.any():
            child = np.broadcast_to(np.arange(n, dtype=np.int64)[None, :], (rows, n))
            k = parent[valid] * n + child[valid]
            w[valid] = mg.lengths[np.searchsorted(mg.keys, k)]
        # Roots and unreached nodes point to themselves with weight 0; double until stable.
        r = np.arange(rows)[:, None]
        for _ in range(64):
            nxt = parent[r, parent]
            w = w + w[r, parent]
            done = bool(np.array_equal(nxt, parent))
            parent = nxt
            if done:
                break
        return w

    def matrix(
        self,
        nodes: Sequence[int],
        mode: str,
        destinations: Sequence[int] | None = None,
        *,
        metres: bool = True,
        limit_s: float | None = None,
    ) -> TravelMatrix:
        """Travel times and distances between graph nodes for one mode.

        Parameters
        ----------
        nodes
            Origin node ids (rows).
        mode
            ``"foot"``, ``"bicycle"`` or ``"car"``.
        destinations
            Destination node ids (columns); default ``nodes``.
        metres
            Also compute the length of each fastest path (costs a little more); if False,
            ``metres`` is all NaN.
        limit_s
            Stop searching beyond this many seconds (pairs further apart are UNREACHABLE).

        Returns
        -------
        TravelMatrix
            ``seconds`` (int64) and ``metres`` (float); :data:`UNREACHABLE` where no path.
        """
        src = self.indices(nodes)
        dst = src if destinations is None else self.indices(destinations)
        if src.shape[0] == 0 or dst.shape[0] == 0:
            return TravelMatrix(np.zeros((src.shape[0], dst.shape[0]), dtype=np.int64),
                                np.zeros((src.shape[0], dst.shape[0])))
        uniq, inv = np.unique(src, return_inverse=True)
        dist, pred = self._dijkstra(mode, uniq, predecessors=metres, limit=limit_s)
        sec = dist[np.ix_(inv, dst)]
        reach = np.isfinite(sec)
        seconds = np.where(reach, np.rint(np.where(reach, sec, 0)), UNREACHABLE).astype(np.int64)
        if metres and pred is not None:
            met_all = self._metres_along(mode, pred, uniq)
            met = np.where(reach, met_all[np.ix_(inv, dst)], float(UNREACHABLE))
        else:
            met = np.full(sec.shape, np.nan)
        return TravelMatrix(seconds, met)

    # ------------------------------------------------------------------ paths

    def _tree(self, source: int, mode: str) -> npt.NDArray[np.int32]:
        key = (source, mode)
        if key in self._trees:
            self._trees.move_to_end(key)
            return self._trees[key]
        _, pred = self._dijkstra(mode, np.array([source]), predecessors=True)
        assert pred is not None
        self._trees[key] = pred[0]
        if len(self._trees) > 256:
            self._trees.popitem(last=False)
        return pred[0]

    def path(self, u: int, v: int, mode: str) -> list[int]:
        """Fastest node path from ``u`` to ``v`` for ``mode``.

        Parameters
        ----------
        u, v
            Graph node ids.
        mode
            Travel mode.

        Returns
        -------
        list of int
            Node ids from ``u`` to ``v`` (``[u]`` if equal); consecutive nodes are joined by an
            edge ``mode`` may use.

        Raises
        ------
        InputError
            If a node is not in the graph or ``v`` cannot be reached from ``u``.
        """
        i, j = (int(x) for x in self.indices([u, v]))
        if i == j:
            return [int(u)]
        pred = self._tree(i, mode)
        if pred[j] < 0:
            raise InputError("path", (u, v), f"nodes connected by streets open to {mode}")
        out = [j]
        while out[-1] != i:
            out.append(int(pred[out[-1]]))
        return [int(self.node_ids[k]) for k in reversed(out)]

    def _edge_between(self, a: int, b: int, mode: str | None) -> int:
        """Edge row index joining node rows a -> b (fastest for mode, else shortest)."""
        if mode is not None:
            e = self._mode(mode).edge_of.get((a, b))
            if e is not None:
                return e
        data = self.G.get_edge_data(int(self.node_ids[a]), int(self.node_ids[b]))
        if not data:
            raise InputError("nodes", (int(self.node_ids[a]), int(self.node_ids[b])),
                             "consecutive nodes joined by a graph edge")
        k = min(data, key=lambda kk: float(data[kk].get("length", 0.0)))
        return self._edge_row(a, b, k)

    def _edge_row(self, a: int, b: int, k: int) -> int:
        if not hasattr(self, "_edge_rows"):
            self._edge_rows = {(int(x), int(y), int(z)): e for e, (x, y, z) in
                               enumerate(zip(self._eu, self._ev, self._ekey, strict=True))}
        return self._edge_rows[(a, b, int(k))]

    def _edge_xy(self, e: int) -> list[tuple[float, float]]:
        geom = self._edata[e].get("geometry")
        if isinstance(geom, LineString):
            return [(float(x), float(y)) for x, y, *_ in geom.coords]
        a, b = self.node_ids[self._eu[e]], self.node_ids[self._ev[e]]
        na, nb = self.G.nodes[int(a)], self.G.nodes[int(b)]
        return [(float(na["x"]), float(na["y"])), (float(nb["x"]), float(nb["y"]))]

    def _lonlat(self, xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        if self._to_wgs84 is None:
            self._to_wgs84 = Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)
        lon, lat = self._to_wgs84.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    def path_coords(self, nodes: Sequence[int], mode: str | None = None
                    ) -> list[tuple[float, float]]:
        """WGS-84 ``(lon, lat)`` points along a node path, following each edge's geometry.

        Parameters
        ----------
        nodes
            Node path, e.g. from :meth:`path`; consecutive nodes must share an edge.
        mode
            Pick the edge this mode would use between parallel edges (default the shortest).

        Returns
        -------
        list of (lon, lat)
            Starts at the first node and ends at the last; one point for a one-node path.
        """
        nodes = list(nodes)
        if not nodes:
            return []
        idx = self.indices(nodes)
        if len(idx) == 1:
            d = self.G.nodes[int(nodes[0])]
            return [(float(d["lon"]), float(d["lat"]))]
        xy: list[tuple[float, float]] = []
        for a, b in zip(idx[:-1], idx[1:], strict=True):
            if a == b:
                continue
            pts = self._edge_xy(self._edge_between(int(a), int(b), mode))
            xy.extend(pts if not xy else pts[1:])
        if not xy:
            d = self.G.nodes[int(nodes[0])]
            return [(float(d["lon"]), float(d["lat"]))]
        ll = self._lonlat(np.asarray(xy, dtype=float))
        # The end points are the nodes' own lon/lat exactly.
        out = [(float(x), float(y)) for x, y in ll]
        first, last = self.G.nodes[int(nodes[0])], self.G.nodes[int(nodes[-1])]
        out[0] = (float(first["lon"]), float(first["lat"]))
        out[-1] = (float(last["lon"]), float(last["lat"]))
        return out
