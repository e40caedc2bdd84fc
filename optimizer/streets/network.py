"""Fast travel-time matrices, point snapping and paths on a prepared street graph.

:class:`StreetRouter` is built once per graph (see :func:`optimizer.streets.graph.prepare_graph`).
Per travel mode it keeps a ``scipy.sparse`` CSR matrix of edge travel times (the fastest of parallel
edges) and answers many-to-many queries with one multi-source ``scipy.sparse.csgraph.dijkstra``
call, never one networkx search per pair. Where memory allows (``table_budget_mb``), a mode's
all-pairs travel-time table is built once and matrices become gathers from it (same results).

Unreachable pairs get :data:`UNREACHABLE` (seconds and metres), never 0. Points anywhere on the
map are snapped onto the nearest street edge with their offset along it
(:meth:`StreetRouter.snap`); :meth:`StreetRouter.point_matrix` then counts the part of each
edge travelled from and to the points, in the directions the mode may use.
"""

from __future__ import annotations

import itertools
import math
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree
from shapely.geometry import LineString

from optimizer.errors import InputError
from optimizer.streets.graph import MODES

UNREACHABLE: int = 10**9
"""Sentinel for unreachable pairs: ``seconds`` and ``metres`` hold this value (about 31 years,
far above any shift, and safe to add in int64)."""

_MIN_WEIGHT = 1e-6  # csgraph ignores explicit zeros: zero-length edges get a tiny weight


class TravelMatrix:
    """Travel times and distances from origins (rows) to destinations (columns).

    Parameters
    ----------
    seconds
        Travel times in whole seconds.
    metres
        Path lengths, or None to compute them on first access with ``metres_fn`` (NaN if
        neither is given).
    metres_fn
        Zero-argument function returning the path lengths; called at most once, on the first
        access of :attr:`metres` (callers that only need seconds never pay for it).

    Attributes
    ----------
    seconds
        int64 array of travel times in whole seconds (rounded); :data:`UNREACHABLE` where no path.
    metres
        float array of the length of the fastest path; ``float(UNREACHABLE)`` where no path
        (NaN everywhere if the matrix was computed with ``metres=False``).
    """

    __slots__ = ("_metres", "_metres_fn", "seconds")

    def __init__(
        self,
        seconds: npt.NDArray[np.int64],
        metres: npt.NDArray[np.float64] | None = None,
        *,
        metres_fn: Callable[[], npt.NDArray[np.float64]] | None = None,
    ) -> None:
        self.seconds = seconds
        self._metres = metres
        self._metres_fn = metres_fn

    @property
    def metres(self) -> npt.NDArray[np.float64]:
        """Path lengths (m), computed on first access where they were deferred."""
        if self._metres is None:
            if self._metres_fn is not None:
                self._metres = self._metres_fn()
                self._metres_fn = None
            else:
                self._metres = np.full(self.seconds.shape, np.nan)
        return self._metres

    @property
    def reachable(self) -> npt.NDArray[np.bool_]:
        """Boolean mask of the pairs with a path."""
        return np.asarray(self.seconds < UNREACHABLE)


@dataclass(frozen=True, eq=False)
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
    in_main: npt.NDArray[np.bool_]  # node in the largest strongly connected component


def _tree_lengths(
    pred: npt.NDArray[np.int32], lengths: sparse.csr_matrix
) -> npt.NDArray[np.float64]:
    """Sum of edge lengths from the root of each shortest-path tree (row) to every node.

    ``lengths`` is the sparse matrix of the graph's edge lengths (each ``(i, j)`` once);
    pointer jumping doubles the reach of each node's ancestor pointer per round.
    """
    rows, n = pred.shape
    valid = pred >= 0
    pr, ch = np.nonzero(valid)
    # Roots and unreached nodes point to themselves with weight 0; double until stable.
    # Work on flat indices: one 1-D take per round instead of 2-D fancy indexing.
    idx_t = np.dtype(np.int32) if rows * n < 2**31 else np.dtype(np.int64)
    base = np.arange(rows, dtype=np.int64) * n
    flat = (np.arange(n, dtype=np.int64)[None, :] + base[:, None]).astype(idx_t)
    flat[pr, ch] = (pred[pr, ch].astype(np.int64) + base[pr]).astype(idx_t)
    w = np.zeros((rows, n))
    if pr.shape[0]:
        w[pr, ch] = np.asarray(lengths[pred[pr, ch], ch]).ravel()
    flat = flat.ravel()
    wf = w.ravel()
    for _ in range(64):
        nxt = flat.take(flat)
        wf = wf + wf.take(flat)
        if np.array_equal(nxt, flat):
            break
        flat = nxt
    return wf.reshape(rows, n)


class StreetRouter:
    """Travel-time matrices, snapping and paths on one prepared street graph.

    Parameters
    ----------
    G
        Prepared graph: projected, nodes with ``x``/``y`` and ``lon``/``lat``, edges with
        ``length`` and ``travel_time_<mode>`` (``math.inf`` where closed).
    table_budget_mb
        Memory (MB, over all modes) this router may spend on all-pairs travel-time tables
        (``8 n^2`` bytes per mode for ``n`` street nodes). A mode's table is built, with one
        ``csgraph.dijkstra`` from every node, by :meth:`precompute` or automatically once the
        searches run for that mode add up to ``n`` sources (it has then paid for itself); after
        that :meth:`matrix` and :meth:`point_matrix` gather from the table instead of searching
        (same results). 0 disables tables.

    Notes
    -----
    ``scipy.sparse.csgraph.dijkstra`` (scipy 1.17) holds the GIL, so splitting the sources over
    threads gains nothing; searches run in the calling thread.
    """

    def __init__(self, G: nx.MultiDiGraph, *, table_budget_mb: float = 256.0) -> None:
        if G.number_of_nodes() == 0:
            raise InputError("graph", "empty graph", "a prepared street graph with nodes")
        if (
            not isinstance(table_budget_mb, (int, float))
            or math.isnan(table_budget_mb)
            or table_budget_mb < 0
        ):
            raise InputError("table_budget_mb", table_budget_mb, "a number of MB >= 0")
        self.table_budget_mb = float(table_budget_mb)
        self._tables: dict[str, npt.NDArray[np.float64]] = {}
        self._searched: dict[str, int] = {}
        self.G = G
        self.crs = G.graph.get("crs")
        self.node_ids: npt.NDArray[np.int64] = np.fromiter(
            G.nodes, dtype=np.int64, count=G.number_of_nodes()
        )
        self._order = np.argsort(self.node_ids)
        self._sorted_ids = self.node_ids[self._order]
        self._index = {int(n): i for i, n in enumerate(self.node_ids)}
        n_edges = G.number_of_edges()
        self._eu = np.empty(n_edges, dtype=np.int64)
        self._ev = np.empty(n_edges, dtype=np.int64)
        self._ekey = np.empty(n_edges, dtype=np.int64)
        self._elen = np.empty(n_edges, dtype=np.float64)
        self._tt: dict[str, npt.NDArray[np.float64]] = {
            m: np.empty(n_edges, dtype=np.float64) for m in MODES
        }
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
        self._trees: OrderedDict[
            tuple[int, str], tuple[npt.NDArray[np.float64], npt.NDArray[np.int32]]
        ] = OrderedDict()
        self._geoms: list[LineString] | None = None
        self._reverse: npt.NDArray[np.int64] | None = None
        self._strtrees: dict[str | None, tuple[shapely.STRtree, npt.NDArray[np.int64]]] = {}
        self._to_wgs84: Transformer | None = None
        self._from_wgs84: Transformer | None = None
        self._kdtree: tuple[cKDTree, float] | None = None

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
        length = sparse.csr_matrix(
            (np.maximum(self._elen[best], _MIN_WEIGHT), (self._eu[best], self._ev[best])),
            shape=(n, n),
        )
        edge_of = {
            (int(a), int(b)): int(e)
            for a, b, e in zip(self._eu[best], self._ev[best], best, strict=True)
        }
        csr.sort_indices()
        length.sort_indices()
        in_main = np.zeros(n, dtype=bool)
        if best.shape[0]:
            _, labels = csgraph.connected_components(csr, directed=True, connection="strong")
            counts = np.bincount(labels)
            in_main = labels == int(np.argmax(counts))
        mg = _ModeGraph(csr=csr, length=length, edge_of=edge_of, in_main=in_main)
        self._modes[mode] = mg
        return mg

    def connected(self, nodes: Sequence[int] | npt.ArrayLike, mode: str) -> npt.NDArray[np.bool_]:
        """Return whether each node lies in the mode's largest strongly connected network.

        From such a node the mode can reach, and come back from, every other node of that
        network; a node outside it sits on a piece of streets (a one-way stub, a closed-off
        yard) that the mode cannot leave or cannot enter.
        """
        return np.asarray(self._mode(mode).in_main[self.indices(nodes)], dtype=bool)

    def _node_tree(self) -> tuple[cKDTree, float]:
        if self._kdtree is None:
            lon = np.array([float(self.G.nodes[int(n)]["lon"]) for n in self.node_ids])
            lat = np.array([float(self.G.nodes[int(n)]["lat"]) for n in self.node_ids])
            coslat = math.cos(math.radians(float(np.mean(lat)))) if lat.size else 1.0
            self._kdtree = (cKDTree(np.column_stack([lon * coslat, lat])), coslat)
        return self._kdtree

    def nearest_node(
        self, lon: float, lat: float, *, modes: Sequence[str] = (), candidates: int = 64
    ) -> int:
        """Return the street node nearest to ``(lon, lat)`` (WGS-84).

        Parameters
        ----------
        lon, lat
            The point.
        modes
            Only nodes in the largest strongly connected network of every one of these modes
            (see :meth:`connected`); where no such node is among the ``candidates`` nearest,
            those of the first mode alone, then any node.
        candidates
            How many nearest nodes are examined for the mode condition before widening.

        Returns
        -------
        int
            A node id of the graph.
        """
        tree, coslat = self._node_tree()
        k = min(max(1, candidates), self.node_ids.shape[0])
        while True:
            _, idx = tree.query([float(lon) * coslat, float(lat)], k=k)
            rows = np.atleast_1d(idx)
            for required in (list(modes), list(modes[:1])):
                ok = np.ones(rows.shape[0], dtype=bool)
                for m in required:
                    ok &= self._mode(m).in_main[rows]
                if ok.any():
                    return int(self.node_ids[rows[int(np.argmax(ok))]])
            if k >= self.node_ids.shape[0]:
                return int(self.node_ids[rows[0]])
            k = min(4 * k, self.node_ids.shape[0])

    # ------------------------------------------------------------------ all-pairs tables

    def _table_fits(self, mode: str) -> bool:
        n = self.node_ids.shape[0]
        used = sum(t.nbytes for m, t in self._tables.items() if m != mode)
        return used + 8.0 * n * n <= self.table_budget_mb * 1e6

    def precompute(self, mode: str) -> bool:
        """Build the all-pairs travel-time table of ``mode`` now, if the budget allows.

        Parameters
        ----------
        mode
            ``"foot"``, ``"bicycle"`` or ``"car"``.

        Returns
        -------
        bool
            Whether the table exists (False if it would exceed ``table_budget_mb``).
        """
        mg = self._mode(mode)
        if mode in self._tables:
            return True
        if not self._table_fits(mode):
            return False
        self._tables[mode] = np.asarray(csgraph.dijkstra(mg.csr, directed=True), dtype=np.float64)
        return True

    def _table(self, mode: str, sources: int) -> npt.NDArray[np.float64] | None:
        """The mode's table, built first if the searches so far (plus ``sources``) pay for it."""
        if mode in self._tables:
            return self._tables[mode]
        done = self._searched.get(mode, 0) + int(sources)
        self._searched[mode] = done
        if done >= self.node_ids.shape[0] and self.precompute(mode):
            return self._tables[mode]
        return None

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
        self,
        mode: str,
        sources: npt.NDArray[np.int64],
        *,
        predecessors: bool,
        limit: float | None = None,
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int32] | None]:
        mg = self._mode(mode)
        lim = np.inf if limit is None else float(limit)
        if predecessors:
            dist, pred = csgraph.dijkstra(
                mg.csr, directed=True, indices=sources, return_predecessors=True, limit=lim
            )
            return np.atleast_2d(dist), np.atleast_2d(pred)
        dist = csgraph.dijkstra(mg.csr, directed=True, indices=sources, limit=lim)
        return np.atleast_2d(dist), None

    def _metres_along(
        self, mode: str, pred: npt.NDArray[np.int32], sources: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float64]:
        """Length of the tree path to every node, for each source row."""
        return _tree_lengths(pred, self._mode(mode).length)

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
            Make the length of each fastest path available; it is computed on the first
            access of ``metres`` only. If False, ``metres`` is all NaN.
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
            return TravelMatrix(
                np.zeros((src.shape[0], dst.shape[0]), dtype=np.int64),
                np.zeros((src.shape[0], dst.shape[0])),
            )
        uniq, inv = np.unique(src, return_inverse=True)
        table = self._table(mode, uniq.shape[0])
        pred: npt.NDArray[np.int32] | None = None
        if table is not None:
            sec = table[np.ix_(src, dst)]
            if limit_s is not None:
                sec = np.where(sec > float(limit_s), np.inf, sec)
        else:
            dist, pred = self._dijkstra(mode, uniq, predecessors=metres, limit=limit_s)
            sec = dist[np.ix_(inv, dst)]
        reach = np.isfinite(sec)
        seconds = np.where(reach, np.rint(np.where(reach, sec, 0)), UNREACHABLE).astype(np.int64)
        if not metres:
            return TravelMatrix(seconds, np.full(sec.shape, np.nan))

        def lengths() -> npt.NDArray[np.float64]:
            p = pred
            if p is None:
                _, p = self._dijkstra(mode, uniq, predecessors=True, limit=limit_s)
                assert p is not None
            met_all = self._metres_along(mode, p, uniq)
            return np.where(reach, met_all[np.ix_(inv, dst)], float(UNREACHABLE))

        return TravelMatrix(seconds, metres_fn=lengths)

    # ------------------------------------------------------------------ paths

    def _tree(self, source: int, mode: str) -> npt.NDArray[np.int32]:
        return self._tree_full(source, mode)[1]

    def _tree_full(
        self, source: int, mode: str
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int32]]:
        """(seconds, predecessor) of the shortest-path tree from node row ``source``, cached."""
        key = (source, mode)
        if key in self._trees:
            self._trees.move_to_end(key)
            return self._trees[key]
        dist, pred = self._dijkstra(mode, np.array([source]), predecessors=True)
        assert pred is not None
        self._trees[key] = (dist[0], pred[0])
        if len(self._trees) > 256:
            self._trees.popitem(last=False)
        return self._trees[key]

    def _row_path(self, i: int, j: int, mode: str) -> list[int]:
        """Node rows of the fastest path from row i to row j (``[]`` if unreachable)."""
        if i == j:
            return [i]
        _, pred = self._tree_full(i, mode)
        if pred[j] < 0:
            return []
        out = [j]
        while out[-1] != i:
            out.append(int(pred[out[-1]]))
        return out[::-1]

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
        rows = self._row_path(i, j, mode)
        if not rows:
            raise InputError("path", (u, v), f"nodes connected by streets open to {mode}")
        return [int(self.node_ids[k]) for k in rows]

    def _edge_between(self, a: int, b: int, mode: str | None) -> int:
        """Edge row index joining node rows a -> b (fastest for mode, else shortest)."""
        if mode is not None:
            e = self._mode(mode).edge_of.get((a, b))
            if e is not None:
                return e
        data = self.G.get_edge_data(int(self.node_ids[a]), int(self.node_ids[b]))
        if not data:
            raise InputError(
                "nodes",
                (int(self.node_ids[a]), int(self.node_ids[b])),
                "consecutive nodes joined by a graph edge",
            )
        k = min(data, key=lambda kk: float(data[kk].get("length", 0.0)))
        return self._edge_row(a, b, k)

    def _edge_row(self, a: int, b: int, k: int) -> int:
        if not hasattr(self, "_edge_rows"):
            self._edge_rows = {
                (int(x), int(y), int(z)): e
                for e, (x, y, z) in enumerate(zip(self._eu, self._ev, self._ekey, strict=True))
            }
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

    def path_coords(
        self, nodes: Sequence[int], mode: str | None = None
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
        for a, b in itertools.pairwise(idx):
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

    # ------------------------------------------------------------------ snapping

    def _edge_geoms(self) -> list[LineString]:
        if self._geoms is None:
            self._geoms = [LineString(self._edge_xy(e)) for e in range(self._eu.shape[0])]
        return self._geoms

    def reverse_edges(self) -> npt.NDArray[np.int64]:
        """Row index of each edge's reverse twin (same street, other direction), or -1."""
        if self._reverse is None:
            rev = np.full(self._eu.shape[0], -1, dtype=np.int64)
            by_pair: dict[tuple[int, int], list[int]] = {}
            for e, (a, b) in enumerate(zip(self._eu.tolist(), self._ev.tolist(), strict=True)):
                by_pair.setdefault((a, b), []).append(e)
            for e, (a, b) in enumerate(zip(self._eu.tolist(), self._ev.tolist(), strict=True)):
                if a == b:
                    continue
                twins = [
                    r for r in by_pair.get((b, a), []) if abs(self._elen[r] - self._elen[e]) < 0.5
                ]
                if twins:
                    rev[e] = min(twins, key=lambda r: abs(self._elen[r] - self._elen[e]))
            self._reverse = rev
        return self._reverse

    def _snap_tree(self, mode: str | None) -> tuple[shapely.STRtree, npt.NDArray[np.int64]]:
        if mode in self._strtrees:
            return self._strtrees[mode]
        rev = self.reverse_edges()
        ne = self._eu.shape[0]
        ok = self._eu != self._ev
        if mode is not None:
            mg = self._mode(mode)
            tt = self._tt[mode]
            usable = np.isfinite(tt) | np.where(
                rev >= 0, np.isfinite(tt[np.maximum(rev, 0)]), False
            )
            ok &= usable & mg.in_main[self._eu] & mg.in_main[self._ev]
        # One candidate per street: drop the twin with the larger row index.
        twin_ok = np.where(rev >= 0, ok[np.maximum(rev, 0)], False)
        ok &= ~(twin_ok & (rev >= 0) & (rev < np.arange(ne)))
        cand = np.flatnonzero(ok)
        if cand.shape[0] == 0:
            raise InputError("mode", mode, "a mode with usable streets in this graph")
        geoms = self._edge_geoms()
        tree = shapely.STRtree([geoms[e] for e in cand])
        self._strtrees[mode] = (tree, cand)
        return tree, cand

    def snap(
        self,
        x: npt.ArrayLike,
        y: npt.ArrayLike | None = None,
        *,
        lonlat: bool = False,
        mode: str | None = None,
    ) -> Snapped:
        """Snap points onto the nearest street edge (vectorised).

        Parameters
        ----------
        x, y
            Coordinates as two arrays, or ``x`` an ``(N, 2)`` array and ``y`` None.
        lonlat
            The coordinates are WGS-84 lon/lat (default: the graph's projected CRS).
        mode
            Only snap to streets ``mode`` may use (in at least one direction) inside its largest
            strongly connected component, so every snapped point is reachable; None: any edge.

        Returns
        -------
        Snapped
            Edge, offset along it, snap distance and snapped point of each input point.

        Raises
        ------
        InputError
            If the coordinates are malformed or not finite.
        """
        if y is None:
            arr = np.asarray(x, dtype=float)
            if arr.ndim != 2 or arr.shape[1] != 2:
                raise InputError("points", arr.shape, "an (N, 2) array of coordinates")
            xs, ys = arr[:, 0], arr[:, 1]
        else:
            xs, ys = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
            if xs.shape != ys.shape:
                raise InputError("points", (xs.shape, ys.shape), "x and y of equal length")
        if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
            raise InputError("points", "non-finite coordinate", "finite coordinates")
        if lonlat:
            if self._from_wgs84 is None:
                self._from_wgs84 = Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)
            xs, ys = self._from_wgs84.transform(xs, ys)
            xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
        tree, cand = self._snap_tree(mode)
        pts = np.asarray(shapely.points(xs, ys))
        if len(pts) == 0:
            empty_i = np.zeros(0, dtype=np.int64)
            empty_f = np.zeros(0)
            return Snapped(
                empty_i,
                empty_i,
                empty_i,
                empty_f,
                empty_f,
                empty_f,
                empty_f,
                empty_f,
                mode,
                empty_i,
            )
        (qi, ti), dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
        edge = np.empty(len(pts), dtype=np.int64)
        d = np.empty(len(pts))
        edge[qi] = cand[ti]
        d[qi] = dist
        geoms = np.asarray(tree.geometries)[ti][np.argsort(qi)]
        offset = shapely.line_locate_point(geoms, pts)
        glen = shapely.length(geoms)
        snapped = shapely.line_interpolate_point(geoms, offset)
        return Snapped(
            u=self.node_ids[self._eu[edge]],
            v=self.node_ids[self._ev[edge]],
            key=self._ekey[edge],
            offset_m=np.asarray(offset, dtype=float),
            edge_length_m=np.asarray(glen, dtype=float),
            distance_m=d,
            x=shapely.get_x(snapped),
            y=shapely.get_y(snapped),
            mode=mode,
            edge_index=edge,
        )

    def _edge_rows_of(self, s: Snapped) -> npt.NDArray[np.int64]:
        if s.edge_index is not None:
            return s.edge_index
        return np.array(
            [
                self._edge_row(int(a), int(b), int(k))
                for a, b, k in zip(self.indices(s.u), self.indices(s.v), s.key, strict=True)
            ],
            dtype=np.int64,
        )

    def _canonical(self, s: Snapped) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Edge row (the lower of the twins) and fraction along it, for each point."""
        e = self._edge_rows_of(s)
        with np.errstate(invalid="ignore", divide="ignore"):
            f = np.where(s.edge_length_m > 0, s.offset_m / s.edge_length_m, 0.0)
        f = np.clip(f, 0.0, 1.0)
        rev = self.reverse_edges()[e]
        swap = (rev >= 0) & (rev < e)
        return np.where(swap, rev, e), np.where(swap, 1.0 - f, f)

    def point_matrix(
        self,
        snapped: Snapped,
        mode: str,
        destinations: Snapped | None = None,
        *,
        metres: bool = True,
    ) -> TravelMatrix:
        """Travel times and distances between snapped points for one mode.

        A trip leaves its point towards either end of the point's edge (as the direction is open
        to ``mode``), travels the street graph, and arrives along the destination's edge; the
        partial edges are charged in proportion to the offsets. Two points on the same street
        may also be joined directly along it.

        Parameters
        ----------
        snapped
            Origins (rows), from :meth:`snap`.
        mode
            ``"foot"``, ``"bicycle"`` or ``"car"``.
        destinations
            Destinations (columns); default ``snapped``.
        metres
            Make path lengths available, computed on the first access of ``metres`` only
            (else ``metres`` is NaN).

        Returns
        -------
        TravelMatrix
            :data:`UNREACHABLE` where no path exists.
        """
        self._mode(mode)
        dst = snapped if destinations is None else destinations
        P, Q = len(snapped), len(dst)
        if P == 0 or Q == 0:
            return TravelMatrix(np.zeros((P, Q), dtype=np.int64), np.zeros((P, Q)))
        with np.errstate(invalid="ignore"):  # 0 * inf (closed direction at an end) -> nan
            return self._point_matrix(snapped, dst, mode, metres)

    def augmented_graph(
        self,
        snapped: Snapped,
        mode: str,
        destinations: Snapped | None = None,
    ) -> tuple[
        sparse.csr_matrix, npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]
    ]:
        """The graph :meth:`point_matrix` searches: streets plus one node per point.

        Rows/columns ``0..n-1`` are the street nodes (``n = len(router.node_ids)``),
        ``n..n+P-1`` the origins (edges out to their street's ends, partial times) and
        ``n+P..n+P+Q-1`` the destinations (edges in from their street's ends).

        Returns
        -------
        tuple
            ``(csr of seconds, row, col, metres)``: the sparse graph and its entries in COO
            order with each entry's length in metres.
        """
        dst = snapped if destinations is None else destinations
        with np.errstate(invalid="ignore"):
            return self._augment(snapped, dst, mode)

    def _augment(
        self, snapped: Snapped, dst: Snapped, mode: str, with_targets: bool = True
    ) -> tuple[
        sparse.csr_matrix, npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]
    ]:
        mg = self._mode(mode)
        n = self.node_ids.shape[0]
        P, Q = len(snapped), len(dst)
        tt = self._tt[mode]
        rev_all = self.reverse_edges()
        ep, fp = self._canonical(snapped)
        eq, fq = self._canonical(dst)

        def legs(
            e: npt.NDArray[np.int64], f: npt.NDArray[np.float64], leaving: bool
        ) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]]:
            """(node row, seconds, metres) of the two ways on/off each point's street."""
            r = rev_all[e]
            has_r = r >= 0
            t_fw = tt[e]
            t_bw = np.where(has_r, tt[np.maximum(r, 0)], np.inf)
            length = self._elen[e]
            g = 1.0 - f
            # A point at an end of its street is at that node: free to and from it whatever
            # the street's direction (0 * inf would close it).
            if leaving:  # forward to v, or backward (on the twin) to u
                return [
                    (self._ev[e], _part(g, t_fw), g * length),
                    (self._eu[e], _part(f, t_bw), f * length),
                ]
            # arriving: from u forward, or from v on the twin
            return [
                (self._eu[e], _part(f, t_fw), f * length),
                (self._ev[e], _part(g, t_bw), g * length),
            ]

        rows: list[npt.NDArray[np.int64]] = [_csr_rows(mg.csr)]
        cols: list[npt.NDArray[np.int64]] = [mg.csr.indices.astype(np.int64)]
        wts: list[npt.NDArray[np.float64]] = [mg.csr.data]
        lens: list[npt.NDArray[np.float64]] = [mg.length.data]
        for node, sec, met in legs(ep, fp, True):
            ok = np.isfinite(sec)
            rows.append(n + np.flatnonzero(ok))
            cols.append(node[ok])
            wts.append(np.maximum(sec[ok], _MIN_WEIGHT))
            lens.append(np.maximum(met[ok], _MIN_WEIGHT))
        for node, sec, met in legs(eq, fq, False) if with_targets else []:
            ok = np.isfinite(sec)
            rows.append(node[ok])
            cols.append(n + P + np.flatnonzero(ok))
            wts.append(np.maximum(sec[ok], _MIN_WEIGHT))
            lens.append(np.maximum(met[ok], _MIN_WEIGHT))
        size = n + P + (Q if with_targets else 0)
        r_all, c_all = np.concatenate(rows), np.concatenate(cols)
        aug = sparse.csr_matrix((np.concatenate(wts), (r_all, c_all)), shape=(size, size))
        return aug, r_all, c_all, np.concatenate(lens)

    def _arrivals(
        self, e: npt.NDArray[np.int64], f: npt.NDArray[np.float64], mode: str
    ) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]]:
        """(node row, seconds, metres) of arriving at each point from either end of its street."""
        tt = self._tt[mode]
        r = self.reverse_edges()[e]
        t_fw = tt[e]
        t_bw = np.where(r >= 0, tt[np.maximum(r, 0)], np.inf)
        length = self._elen[e]
        g = 1.0 - f
        return [
            (self._eu[e], _part(f, t_fw), f * length),
            (self._ev[e], _part(g, t_bw), g * length),
        ]

    def _exits(
        self, e: npt.NDArray[np.int64], f: npt.NDArray[np.float64], mode: str
    ) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]:
        """(node row, seconds) of leaving each point towards either end of its street."""
        tt = self._tt[mode]
        r = self.reverse_edges()[e]
        t_fw = tt[e]
        t_bw = np.where(r >= 0, tt[np.maximum(r, 0)], np.inf)
        g = 1.0 - f
        # As in the augmented graph: the same minimum weight on every leg.
        return [
            (self._ev[e], np.maximum(_part(g, t_fw), _MIN_WEIGHT)),
            (self._eu[e], np.maximum(_part(f, t_bw), _MIN_WEIGHT)),
        ]

    def _point_matrix(
        self, snapped: Snapped, dst: Snapped, mode: str, metres: bool
    ) -> TravelMatrix:
        n = self.node_ids.shape[0]
        P, Q = len(snapped), len(dst)
        tt = self._tt[mode]
        rev_all = self.reverse_edges()
        ep, fp = self._canonical(snapped)
        eq, fq = self._canonical(dst)
        (a, ca, ma), (b, cb, mb) = self._arrivals(eq, fq, mode)
        table = self._table(mode, P)
        pred: npt.NDArray[np.int32] | None = None
        if table is not None:
            # Leave by either end of the origin's street, look the streets up, arrive.
            # Flat takes of the columns used, per exit row, then of each destination's columns.
            (x, cx), (y, cy) = self._exits(ep, fp, mode)
            cols_u, ci = np.unique(np.concatenate([a, b]), return_inverse=True)
            from_x = table.take((x * n)[:, None] + cols_u[None, :])
            from_y = table.take((y * n)[:, None] + cols_u[None, :])
            ia, ib = ci[:Q], ci[Q:]
            t1 = (
                np.minimum(
                    cx[:, None] + from_x.take(ia, axis=1), cy[:, None] + from_y.take(ia, axis=1)
                )
                + ca[None, :]
            )
            t2 = (
                np.minimum(
                    cx[:, None] + from_x.take(ib, axis=1), cy[:, None] + from_y.take(ib, axis=1)
                )
                + cb[None, :]
            )
        else:
            # One Dijkstra from the P origin nodes over the streets; arrivals added in numpy.
            aug, _, _, _ = self._augment(snapped, dst, mode, with_targets=False)
            src = np.arange(n, n + P)
            if metres:
                dist, pred = csgraph.dijkstra(
                    aug, directed=True, indices=src, return_predecessors=True
                )
            else:
                dist = csgraph.dijkstra(aug, directed=True, indices=src)
            t1 = dist[:, a] + ca[None, :]
            t2 = dist[:, b] + cb[None, :]
        first = t1 <= t2
        sec = np.where(first, t1, t2)
        # Points on the same street: directly along it where the direction is open.
        pi, qj = np.nonzero(ep[:, None] == eq[None, :])
        e = ep[pi]
        fwd = fq[qj] >= fp[pi]
        r = rev_all[e]
        t_dir = np.where(fwd, tt[e], np.where(r >= 0, tt[np.maximum(r, 0)], np.inf))
        span = np.abs(fq[qj] - fp[pi])
        direct = np.where(span == 0, 0.0, span * t_dir)
        better = direct < sec[pi, qj]
        sec[pi[better], qj[better]] = direct[better]
        reach = np.isfinite(sec)
        seconds = np.where(reach, np.rint(np.where(reach, sec, 0)), UNREACHABLE).astype(np.int64)
        if not metres:
            return TravelMatrix(seconds, np.full((P, Q), np.nan))

        def lengths() -> npt.NDArray[np.float64]:
            with np.errstate(invalid="ignore"):
                aug, r_all, c_all, lens = self._augment(snapped, dst, mode, with_targets=False)
            size = n + P
            p = pred
            if p is None:
                _, p = csgraph.dijkstra(
                    aug, directed=True, indices=np.arange(n, n + P), return_predecessors=True
                )
            met_all = _tree_lengths(
                p, sparse.csr_matrix((lens, (r_all, c_all)), shape=(size, size))
            )
            met = np.where(first, met_all[:, a] + ma[None, :], met_all[:, b] + mb[None, :])
            met[pi[better], qj[better]] = span[better] * self._elen[e[better]]
            return np.where(reach, met, float(UNREACHABLE))

        return TravelMatrix(seconds, metres_fn=lengths)

    def point_path(
        self, origin: Snapped, i: int, destination: Snapped, j: int, mode: str
    ) -> PointPath:
        """Fastest path from snapped point ``origin[i]`` to ``destination[j]`` for ``mode``.

        Parameters
        ----------
        origin, destination
            Snapped points (see :meth:`snap`).
        i, j
            Index of the point in each.
        mode
            Travel mode.

        Returns
        -------
        PointPath
            Node path, route geometry in lon/lat and travel time.

        Raises
        ------
        InputError
            If an index is out of range or no path exists.
        """
        self._mode(mode)
        for name, s, k in (("origin", origin, i), ("destination", destination, j)):
            if not 0 <= k < len(s):
                raise InputError(name, k, f"an index in [0, {len(s)})")
        tt = self._tt[mode]
        rev = self.reverse_edges()
        e_all, f_all = self._canonical(origin)
        eo, fo = int(e_all[i]), float(f_all[i])
        e_all, f_all = self._canonical(destination)
        ed, fd = int(e_all[j]), float(f_all[j])
        geoms = self._edge_geoms()

        def cost(frac: float, t: float) -> float:
            return 0.0 if frac <= 0 else frac * t

        def back(e: int) -> float:
            return float(tt[rev[e]]) if rev[e] >= 0 else math.inf

        go, gd = geoms[eo], geoms[ed]
        lo, ld = go.length, gd.length
        # (node row, seconds, geometry from the point to the node)
        exits = [
            (int(self._ev[eo]), cost(1 - fo, float(tt[eo])), _sub(go, fo * lo, lo)),
            (int(self._eu[eo]), cost(fo, back(eo)), _sub(go, fo * lo, 0.0)),
        ]
        # (node row, seconds, geometry from the node to the point)
        entries = [
            (int(self._eu[ed]), cost(fd, float(tt[ed])), _sub(gd, 0.0, fd * ld)),
            (int(self._ev[ed]), cost(1 - fd, back(ed)), _sub(gd, ld, fd * ld)),
        ]
        best: tuple[float, list[int], list[tuple[float, float]]] = (math.inf, [], [])
        if eo == ed:
            t_dir = float(tt[eo]) if fd >= fo else back(eo)
            direct = abs(fd - fo) * t_dir if fd != fo else 0.0
            if direct < best[0]:
                best = (direct, [], _sub(go, fo * lo, fd * lo))
        for a, ca, ga in exits:
            if not math.isfinite(ca):
                continue
            dist, _ = self._tree_full(a, mode)
            for b, cb, gb in entries:
                total = ca + float(dist[b]) + cb
                if total < best[0]:
                    rows = self._row_path(a, b, mode)
                    xy = list(ga)
                    for x, y in itertools.pairwise(rows):
                        xy.extend(self._edge_xy(self._edge_between(x, y, mode))[1:])
                    xy.extend(gb[1:])
                    best = (total, rows, xy)
        if not math.isfinite(best[0]):
            raise InputError("path", (i, j), f"points connected by streets open to {mode}")
        ll = self._lonlat(np.asarray(best[2], dtype=float))
        return PointPath(
            nodes=[int(self.node_ids[r]) for r in best[1]],
            coords=[(float(x), float(y)) for x, y in ll],
            seconds=best[0],
        )


@dataclass(frozen=True)
class PointPath:
    """The fastest way between two snapped points.

    Attributes
    ----------
    nodes
        Street nodes passed, in order (empty when both points are on one street and the trip
        stays on it).
    coords
        WGS-84 ``(lon, lat)`` from the origin's snapped point to the destination's, following
        the partial edges at both ends and every edge's geometry in between.
    seconds
        Travel time (float seconds), as in :meth:`StreetRouter.point_matrix`.
    """

    nodes: list[int]
    coords: list[tuple[float, float]]
    seconds: float


def _part(frac: npt.NDArray[np.float64], t: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Time of a fraction of an edge; a zero fraction costs nothing even on a closed edge."""
    return np.where(frac <= 0, 0.0, frac * t)


def _sub(line: LineString, start: float, end: float) -> list[tuple[float, float]]:
    """Coordinates of ``line`` from distance ``start`` to ``end`` (reversed if end < start)."""
    from shapely.ops import substring

    if start == end:
        p = line.interpolate(start)
        return [(float(p.x), float(p.y))]
    part = substring(line, start, end)
    coords = [(float(c[0]), float(c[1])) for c in part.coords]
    return coords if len(coords) > 1 else coords * 2


def _csr_rows(m: sparse.csr_matrix) -> npt.NDArray[np.int64]:
    return np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr))
