"""optimizer.streets.network: node and point matrices against networkx, snapping, paths on edges."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
from pyproj import Transformer
from shapely.geometry import LineString, Point

from optimizer.errors import InputError
from optimizer.streets import graph as streets
from optimizer.streets.network import UNREACHABLE, StreetRouter, TravelMatrix


@pytest.fixture(scope="module")
def graph(shared_osm: Path) -> nx.MultiDiGraph:
    return streets.prepare_graph(
        streets.graph_from_osm_file(shared_osm / "ninghua_fujian_26N116E.osm")
    )


@pytest.fixture(scope="module", params=["search", "table"])
def router(graph: nx.MultiDiGraph, request: pytest.FixtureRequest) -> StreetRouter:
    """Both ways of answering: a Dijkstra per call, or all-pairs tables built up front."""
    if request.param == "search":
        return StreetRouter(graph, table_budget_mb=0)
    r = StreetRouter(graph)
    for mode in streets.MODES:
        assert r.precompute(mode)
    return r


def _weight(mode: str) -> Callable[[Any, Any, dict[Any, dict[str, Any]]], float | None]:
    key = f"travel_time_{mode}"

    def weight(u: Any, v: Any, data: dict[Any, dict[str, Any]]) -> float | None:
        best = min(float(d.get(key, math.inf)) for d in data.values())
        return best if math.isfinite(best) else None

    return weight


@pytest.mark.parametrize("mode", streets.MODES)
def test_node_matrix_equals_networkx(
    graph: nx.MultiDiGraph, router: StreetRouter, mode: str
) -> None:
    nodes = list(graph.nodes)
    tm = router.matrix(nodes, mode)
    assert tm.seconds.dtype == np.int64 and tm.seconds.shape == (len(nodes), len(nodes))
    n_unreachable = 0
    for i, u in enumerate(nodes):
        dist = nx.single_source_dijkstra_path_length(graph, u, weight=_weight(mode))
        for j, v in enumerate(nodes):
            if v in dist:
                assert abs(tm.seconds[i, j] - dist[v]) <= 0.5 + 1e-9, (u, v)
            else:
                assert tm.seconds[i, j] == UNREACHABLE
                assert tm.metres[i, j] == float(UNREACHABLE)
                n_unreachable += 1
    assert np.all(np.diag(tm.seconds) == 0)
    if mode == "car":
        assert n_unreachable > 0  # footway-only nodes: unreachable, never silently 0
    else:
        assert n_unreachable == 0


@pytest.mark.parametrize("mode", streets.MODES)
def test_metres_are_length_of_the_fastest_path(
    graph: nx.MultiDiGraph, router: StreetRouter, mode: str
) -> None:
    nodes = list(graph.nodes)[:25]
    tm = router.matrix(nodes, mode)
    for i, u in enumerate(nodes):
        for j, v in enumerate(nodes):
            if tm.seconds[i, j] >= UNREACHABLE or i == j:
                continue
            path = router.path(u, v, mode)
            key = f"travel_time_{mode}"
            secs = sum(
                min(float(d[key]) for d in graph[a][b].values())
                for a, b in itertools.pairwise(path)
            )
            assert abs(secs - tm.seconds[i, j]) <= 0.5 + 1e-9
            length = 0.0
            for a, b in itertools.pairwise(path):
                best = min(graph[a][b].values(), key=lambda d: float(d[key]))
                length += float(best["length"])
            assert tm.metres[i, j] == pytest.approx(length, rel=1e-9, abs=1e-3)
    if mode == "foot":
        ok = tm.reachable
        assert np.allclose(tm.metres[ok], tm.seconds[ok] * 5.0 / 3.6, atol=1.0)


def test_destinations_and_limit(graph: nx.MultiDiGraph, router: StreetRouter) -> None:
    nodes = list(graph.nodes)
    full = router.matrix(nodes, "foot")
    part = router.matrix(nodes[:5], "foot", destinations=nodes[10:30])
    assert np.array_equal(part.seconds, full.seconds[:5, 10:30])
    limited = router.matrix(nodes[:5], "foot", destinations=nodes[10:30], limit_s=120)
    far = part.seconds > 121
    assert np.all(limited.seconds[far] == UNREACHABLE)
    assert np.array_equal(limited.seconds[part.seconds < 119], part.seconds[part.seconds < 119])


def test_paths_follow_usable_edges_and_geometry(
    graph: nx.MultiDiGraph, router: StreetRouter
) -> None:
    nodes = list(graph.nodes)
    to_xy = Transformer.from_crs("EPSG:4326", graph.graph["crs"], always_xy=True)
    for mode in streets.MODES:
        key = f"travel_time_{mode}"
        tm = router.matrix(nodes, mode)
        i, j = np.unravel_index(np.argmax(np.where(tm.reachable, tm.seconds, -1)), tm.seconds.shape)
        path = router.path(nodes[i], nodes[j], mode)
        assert path[0] == nodes[i] and path[-1] == nodes[j]
        assert len(path) >= 3
        for a, b in itertools.pairwise(path):
            assert graph.has_edge(a, b)
            assert any(math.isfinite(float(d[key])) for d in graph[a][b].values())
        coords = router.path_coords(path, mode)
        first, last = graph.nodes[path[0]], graph.nodes[path[-1]]
        assert coords[0] == pytest.approx((first["lon"], first["lat"]))
        assert coords[-1] == pytest.approx((last["lon"], last["lat"]))
        lines = []
        for a, b in itertools.pairwise(path):
            d = min(graph[a][b].values(), key=lambda e: float(e[key]))
            geom = d.get("geometry")
            lines.append(
                geom
                if isinstance(geom, LineString)
                else LineString(
                    [
                        (graph.nodes[a]["x"], graph.nodes[a]["y"]),
                        (graph.nodes[b]["x"], graph.nodes[b]["y"]),
                    ]
                )
            )
        xs, ys = to_xy.transform([c[0] for c in coords], [c[1] for c in coords])
        for x, y in zip(xs, ys, strict=True):
            assert min(line.distance(Point(x, y)) for line in lines) < 0.01
        # The drawn route is as long as the path (it follows the curves, not chords).
        drawn = LineString(list(zip(xs, ys, strict=True))).length
        assert drawn == pytest.approx(sum(line.length for line in lines), rel=1e-6)


def test_path_errors(graph: nx.MultiDiGraph, router: StreetRouter) -> None:
    nodes = list(graph.nodes)
    assert router.path(nodes[0], nodes[0], "foot") == [nodes[0]]
    with pytest.raises(InputError) as exc:
        router.path(nodes[0], -12345, "foot")
    assert exc.value.field == "nodes"
    with pytest.raises(InputError) as exc:
        router.matrix(nodes, "helicopter")
    assert exc.value.field == "mode"
    tm = router.matrix(nodes, "car")
    bad = np.argwhere(~tm.reachable)
    a, b = bad[0]
    with pytest.raises(InputError) as exc:
        router.path(nodes[a], nodes[b], "car")
    assert exc.value.field == "path"


def test_snap_nodes_and_lonlat(graph: nx.MultiDiGraph, router: StreetRouter) -> None:
    nodes = list(graph.nodes)
    xy = np.array([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in nodes])
    s = router.snap(xy)
    assert len(s) == len(nodes)
    assert np.all(s.distance_m < 1e-6)
    assert np.all((s.offset_m < 1e-6) | (s.offset_m > s.edge_length_m - 1e-6))
    lonlat = np.array([(graph.nodes[n]["lon"], graph.nodes[n]["lat"]) for n in nodes])
    s2 = router.snap(lonlat[:, 0], lonlat[:, 1], lonlat=True)
    assert np.allclose(s2.x, s.x, atol=0.01) and np.allclose(s2.y, s.y, atol=0.01)
    # A point 20 m off a street snaps onto it, 20 m away.
    u, v, d = next((u, v, d) for u, v, d in graph.edges(data=True) if float(d["length"]) > 100)
    line = d.get("geometry") or LineString(
        [(graph.nodes[u]["x"], graph.nodes[u]["y"]), (graph.nodes[v]["x"], graph.nodes[v]["y"])]
    )
    mid = line.interpolate(0.5, normalized=True)
    s3 = router.snap([[mid.x, mid.y]])
    assert s3.distance_m[0] < 1e-6
    with pytest.raises(InputError):
        router.snap([1.0, 2.0, 3.0])
    with pytest.raises(InputError):
        router.snap([[np.nan, 1.0]])


def test_snap_for_car_only_on_car_streets(graph: nx.MultiDiGraph, router: StreetRouter) -> None:
    rng = np.random.default_rng(3)
    xs = np.array([graph.nodes[n]["x"] for n in graph.nodes])
    ys = np.array([graph.nodes[n]["y"] for n in graph.nodes])
    px = rng.uniform(xs.min(), xs.max(), 80)
    py = rng.uniform(ys.min(), ys.max(), 80)
    s = router.snap(px, py, mode="car")
    for u, v, k in zip(s.u, s.v, s.key, strict=True):
        d = graph.edges[int(u), int(v), int(k)]
        back = [
            e
            for e in (graph.get_edge_data(int(v), int(u)) or {}).values()
            if math.isfinite(float(e["travel_time_car"]))
        ]
        assert math.isfinite(float(d["travel_time_car"])) or back
    tm = router.point_matrix(s, "car")
    assert np.all(tm.reachable)  # snapped inside the car graph's strongly connected part


def _split_reference(graph: nx.MultiDiGraph, router: StreetRouter, s: Any, mode: str) -> np.ndarray:
    """Travel times between snapped points by splitting their edges in a networkx copy."""
    key = f"travel_time_{mode}"
    H = nx.MultiDiGraph()
    H.add_nodes_from(graph.nodes)
    for a, b, k, d in graph.edges(keys=True, data=True):
        H.add_edge(a, b, k, t=float(d[key]), length=float(d["length"]))
    # Group points by street (an edge and its reverse twin of the same length).
    groups: dict[tuple[Any, Any, Any], list[tuple[float, int]]] = {}
    for i, (u, v, k) in enumerate(zip(s.u.tolist(), s.v.tolist(), s.key.tolist(), strict=True)):
        f = s.offset_m[i] / s.edge_length_m[i] if s.edge_length_m[i] > 0 else 0.0
        groups.setdefault((u, v, k), []).append((f, i))
    twins: dict[tuple[Any, Any, Any], tuple[Any, Any, Any]] = {}
    for u, v, k in list(groups):
        length = float(graph.edges[u, v, k]["length"])
        for k2, d2 in (graph.get_edge_data(v, u) or {}).items():
            if abs(float(d2["length"]) - length) < 0.5:
                twins[(u, v, k)] = (v, u, k2)
                break
    for (u, v, k), pts in groups.items():
        pts.sort()
        t_fw = float(graph.edges[u, v, k][key])
        H.remove_edge(u, v, k)
        twin = twins.get((u, v, k))
        t_bw = math.inf
        if twin is not None and H.has_edge(*twin):
            t_bw = float(graph.edges[twin][key])
            H.remove_edge(*twin)
        chain = [(0.0, u)] + [(f, ("p", i)) for f, i in pts] + [(1.0, v)]
        for (f0, a), (f1, b) in itertools.pairwise(chain):
            if f1 == f0:  # the same spot: free both ways
                H.add_edge(a, b, t=0.0)
                H.add_edge(b, a, t=0.0)
                continue
            if math.isfinite(t_fw):
                H.add_edge(a, b, t=(f1 - f0) * t_fw)
            if math.isfinite(t_bw):
                H.add_edge(b, a, t=(f1 - f0) * t_bw)
    n = len(s)
    out = np.full((n, n), np.inf)

    def w(a: Any, b: Any, data: dict[Any, dict[str, float]]) -> float | None:
        best = min(d["t"] for d in data.values())
        return best if math.isfinite(best) else None

    for i in range(n):
        if ("p", i) not in H:
            continue
        dist = nx.single_source_dijkstra_path_length(H, ("p", i), weight=w)
        for j in range(n):
            out[i, j] = dist.get(("p", j), math.inf)
    return out


@pytest.mark.parametrize("mode", streets.MODES)
def test_point_matrix_equals_split_graph_networkx(
    graph: nx.MultiDiGraph, router: StreetRouter, mode: str
) -> None:
    rng = np.random.default_rng(7)
    xs = np.array([graph.nodes[n]["x"] for n in graph.nodes])
    ys = np.array([graph.nodes[n]["y"] for n in graph.nodes])
    px = rng.uniform(xs.min(), xs.max(), 40)
    py = rng.uniform(ys.min(), ys.max(), 40)
    # Two points on one street, to exercise the same-street shortcut.
    px = np.append(px, [px[0] + 0.5])
    py = np.append(py, [py[0]])
    s = router.snap(px, py, mode=None if mode != "car" else "car")
    tm = router.point_matrix(s, mode)
    ref = _split_reference(graph, router, s, mode)
    finite = np.isfinite(ref)
    assert np.all(np.abs(tm.seconds[finite] - ref[finite]) <= 0.5 + 1e-6)
    assert np.all(tm.seconds[~finite] == UNREACHABLE)
    assert np.all(np.diag(tm.seconds) == 0)
    assert np.all(tm.metres[tm.reachable] >= 0)


def test_point_matrix_at_nodes_equals_node_matrix(
    graph: nx.MultiDiGraph, router: StreetRouter
) -> None:
    main = streets.mode_subgraph(graph, "car")
    nodes = list(main.nodes)
    xy = np.array([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in nodes])
    s = router.snap(xy, mode="car")
    # Keep nodes snapped onto one of their own edges (a node can also lie on the drawn
    # geometry of a street passing over it, e.g. a bridge: a different place in the network).
    own = [i for i, n in enumerate(nodes) if n in (int(s.u[i]), int(s.v[i]))][:20]
    nodes = [nodes[i] for i in own]
    xy = xy[own]
    s = router.snap(xy, mode="car")
    pm = router.point_matrix(s, "car")
    nm = router.matrix(nodes, "car")
    assert np.all(np.abs(pm.seconds - nm.seconds) <= 1)
    assert np.allclose(pm.metres, nm.metres, atol=1.0)
    other = router.point_matrix(
        router.snap(xy[:5], mode="car"), "car", destinations=s, metres=False
    )
    assert other.seconds.shape == (5, len(nodes))
    assert np.array_equal(other.seconds, pm.seconds[:5])
    assert np.all(np.isnan(other.metres))


def test_augmented_graph_layout(graph: nx.MultiDiGraph, router: StreetRouter) -> None:
    nodes = list(streets.mode_subgraph(graph, "foot").nodes)[:6]
    xy = np.array([(graph.nodes[n]["x"] + 3.0, graph.nodes[n]["y"]) for n in nodes])
    s = router.snap(xy, mode="foot")
    aug, rows, cols, metres = router.augmented_graph(s, "foot")
    n, P = len(router.node_ids), len(s)
    assert aug.shape == (n + 2 * P, n + 2 * P)
    assert rows.shape == cols.shape == metres.shape
    # Origins only send, destinations only receive: no path runs through a point's node.
    assert np.all(cols[rows >= n] < n)
    assert np.all(rows[(cols >= n + P)] < n)
    assert not np.any((rows >= n) & (rows < n + P) & (cols >= n))
    assert np.all(metres >= 0)


@pytest.mark.parametrize("mode", ["foot", "car"])
def test_point_path_matches_matrix_and_lies_on_streets(
    graph: nx.MultiDiGraph, router: StreetRouter, mode: str
) -> None:
    rng = np.random.default_rng(11)
    xs = np.array([graph.nodes[n]["x"] for n in graph.nodes])
    ys = np.array([graph.nodes[n]["y"] for n in graph.nodes])
    px = rng.uniform(xs.min(), xs.max(), 12)
    py = rng.uniform(ys.min(), ys.max(), 12)
    s = router.snap(px, py, mode=mode)
    tm = router.point_matrix(s, mode)
    to_xy = Transformer.from_crs("EPSG:4326", graph.graph["crs"], always_xy=True)
    lines = [
        d.get("geometry")
        or LineString(
            [(graph.nodes[u]["x"], graph.nodes[u]["y"]), (graph.nodes[v]["x"], graph.nodes[v]["y"])]
        )
        for u, v, d in graph.edges(data=True)
    ]
    from shapely import STRtree

    tree = STRtree(lines)
    for i in range(len(s)):
        for j in range(len(s)):
            pp = router.point_path(s, i, s, j, mode)
            assert abs(pp.seconds - tm.seconds[i, j]) <= 0.5 + 1e-6
            xs_, ys_ = to_xy.transform([c[0] for c in pp.coords], [c[1] for c in pp.coords])
            assert (xs_[0], ys_[0]) == pytest.approx((s.x[i], s.y[i]), abs=0.01)
            assert (xs_[-1], ys_[-1]) == pytest.approx((s.x[j], s.y[j]), abs=0.01)
            pts = [Point(x, y) for x, y in zip(xs_, ys_, strict=True)]
            _, dist = tree.query_nearest(pts, return_distance=True)
            assert np.all(dist < 0.01)
            for a, b in itertools.pairwise(pp.nodes):
                assert graph.has_edge(a, b)
            if mode == "foot" and len(pts) > 1:
                drawn = LineString(list(zip(xs_, ys_, strict=True))).length
                assert drawn == pytest.approx(pp.seconds * 5.0 / 3.6, rel=0.01, abs=1.0)
    with pytest.raises(InputError):
        router.point_path(s, 99, s, 0, mode)


def test_table_and_search_give_the_same_matrices(graph: nx.MultiDiGraph) -> None:
    search = StreetRouter(graph, table_budget_mb=0)
    table = StreetRouter(graph)
    assert table.precompute("car") and not search.precompute("car")
    rng = np.random.default_rng(5)
    xs = np.array([graph.nodes[n]["x"] for n in graph.nodes])
    ys = np.array([graph.nodes[n]["y"] for n in graph.nodes])
    px, py = rng.uniform(xs.min(), xs.max(), 60), rng.uniform(ys.min(), ys.max(), 60)
    for mode in ("car", "foot"):
        table.precompute(mode)
        s = search.snap(px, py, mode=mode)
        a, b = search.point_matrix(s, mode), table.point_matrix(s, mode)
        assert np.array_equal(a.seconds, b.seconds)
        assert np.allclose(a.metres, b.metres, atol=1e-6)
        nodes = list(graph.nodes)[::3]
        a, b = search.matrix(nodes, mode, limit_s=300), table.matrix(nodes, mode, limit_s=300)
        assert np.array_equal(a.seconds, b.seconds)
        assert np.allclose(a.metres, b.metres, atol=1e-6)


def test_table_is_built_once_searches_pay_for_it(graph: nx.MultiDiGraph) -> None:
    n = graph.number_of_nodes()
    r = StreetRouter(graph)
    nodes = list(graph.nodes)
    r.matrix(nodes[: n // 2], "car", metres=False)
    assert "car" not in r._tables  # half the nodes searched: not yet
    r.matrix(nodes[n // 2 :], "car", metres=False)
    assert "car" in r._tables and r._tables["car"].shape == (n, n)
    # A budget below one table: never built, searches go on.
    small = StreetRouter(graph, table_budget_mb=8.0 * n * n / 1e6 * 0.99)
    assert not small.precompute("foot")
    small.matrix(nodes, "foot")
    assert not small._tables
    with pytest.raises(InputError) as exc:
        StreetRouter(graph, table_budget_mb=-1)
    assert exc.value.field == "table_budget_mb"


def test_metres_are_computed_only_when_read(graph: nx.MultiDiGraph) -> None:
    calls: list[int] = []

    def fn() -> np.ndarray:
        calls.append(1)
        return np.ones((2, 2))

    tm = TravelMatrix(np.zeros((2, 2), dtype=np.int64), metres_fn=fn)
    assert not calls
    assert np.array_equal(tm.metres, np.ones((2, 2))) and tm.metres is tm.metres
    assert calls == [1]
    assert np.all(np.isnan(TravelMatrix(np.zeros((1, 3), dtype=np.int64)).metres))
    r = StreetRouter(graph, table_budget_mb=0)
    nodes = list(graph.nodes)[:10]
    lazy = r.matrix(nodes, "foot")
    assert lazy._metres is None  # not computed until read
    assert np.array_equal(lazy.metres, r.matrix(nodes, "foot").metres)
