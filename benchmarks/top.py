"""TOP benchmark: the service's engine against plain OR-Tools and plain PyVRP models.

Protocol
--------
Instances
    Team Orienteering Problem files ``pX.M.L.txt`` (Chao, Golden & Wasil) in ``--instances``
    (default ``$PATROL_SHARED_DIR/benchmarks/top/instances``; ``PATROL_SHARED_DIR`` defaults
    to ``../shared`` from the repo root), best-known scores from ``--bks`` (CSV with columns
    ``instance`` and ``bks_score``). ``--sample K`` takes a stratified sample: instances are
    grouped by family (``p1`` .. ``p7``), each family gets a share of ``K`` proportional to
    its size (at least one), drawn with ``numpy.random.default_rng(--sample-seed)`` (default 0,
    so runs with different ``--seed`` repeat the same instances).
Solvers (each at the same ``--time-limit`` per instance, seed ``--seed``)
    ``service``: ``optimizer.engines.get_engine(--engine)`` (default the service's
    ``DEFAULT_ENGINE``) on the PatrolProblem from ``optimizer.instances.read_top``, stopping on
    the time limit only (no iteration cap). ``plain-ortools``: an OR-Tools routing model built
    straight from the file (distance dimension with capacity ``tmax``, one disjunction per
    point with penalty = score, path cheapest arc + guided local search). ``plain-pyvrp``: a
    PyVRP model built straight from the file (optional clients with prizes, ``m`` vehicles with
    ``shift_duration = tmax``, PyVRP's default ``SolveParams``: its penalty cap of 100,000
    is below the scaled prizes, which the service's PyVRP engine corrects). Both plain models
    use distances x 10,000 rounded up.
    ``--solvers`` chooses a subset.
Feasibility
    Every route's length is recomputed from the coordinates with unrounded Euclidean
    distances and must be <= ``tmax`` (+1e-9); each violating route counts as infeasible and
    its instance scores 0. The service's solution also passes ``check_solution``.
Figures per solver
    ``gap`` = 100 * (bks - score) / bks (0 when bks is 0); mean over instances and per family;
    ``at_bks`` = count with score >= bks; ``infeasible_routes``; mean runtime.
Proven optima
    ``--proven FILE`` (default ``benchmarks/top_proven.csv``, columns ``instance`` and
    ``proven_optimum``) lists instances whose best-known score is not attainable under the
    stated convention (unrounded distances, the file's ``tmax``), with the optimum that
    ``benchmarks/top_exact.py`` proves for them (p1.3.h 70 vs bks 75, p1.3.o 205 vs 215,
    p2.3.h 165 vs 170: the first two bks need the unrounded budget ``40/3``, ``73/3`` instead of
    the printed 13.3, 24.3; the third needs ``tmax >= 12.07``). The main figures use
    ``--bks`` unchanged; ``mean_gap_vs_proven_pct`` and ``at_reference`` use the proven
    optimum for those instances, bks elsewhere.
Jobs
    ``--jobs J`` solves J instances at once in separate processes. Use it only with J free
    cores, otherwise each solve gets less CPU than its time limit claims (default 1).
Command
    ``python benchmarks/top.py --instances DIR --bks FILE --time-limit 5 [--engine NAME]
    [--sample K] [--sample-seed S0] [--seed S] [--jobs J]``
Output
    One line per instance and solver while running; the last line of stdout is one JSON
    object of figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import statistics
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optimizer.engines.base import DEFAULT_ENGINE, get_engine  # noqa: E402
from optimizer.engines.check import check_solution  # noqa: E402
from optimizer.instances import TOP_SCALE, read_top, top_route_length  # noqa: E402

SOLVERS = ("service", "plain-ortools", "plain-pyvrp")


def shared_dir() -> Path:
    """Return ``$PATROL_SHARED_DIR`` or ``../shared`` from the repo root."""
    return Path(os.environ.get("PATROL_SHARED_DIR", ROOT.parent / "shared"))


def read_file(path: Path) -> tuple[int, float, np.ndarray]:
    """Return ``m``, ``tmax`` and the ``x y score`` rows of a TOP file."""
    lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
    header = {ln[0]: ln[1] for ln in lines[:3]}
    rows = np.array([[float(x) for x in ln[:3]] for ln in lines[3:]])
    return int(header["m"]), float(header["tmax"]), rows


def route_length(rows: np.ndarray, points: list[int]) -> float:
    """Unrounded length of start -> points (row indices) -> end."""
    seq = [0, *points, len(rows) - 1]
    xy = rows[seq, :2]
    return float(np.hypot(*(xy[1:] - xy[:-1]).T).sum())


def plain_ortools(path: Path, time_limit: float) -> list[list[int]]:
    """Solve with a plain OR-Tools routing model; return routes as row indices."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    m, tmax, rows = read_file(path)
    n = len(rows)
    xy = rows[:, :2]
    dist = np.ceil(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) * TOP_SCALE)
    d = dist.astype(np.int64).tolist()
    manager = pywrapcp.RoutingIndexManager(n, m, [0] * m, [n - 1] * m)
    routing = pywrapcp.RoutingModel(manager)

    def cost(i: int, j: int) -> int:
        return int(d[manager.IndexToNode(i)][manager.IndexToNode(j)])

    cb = routing.RegisterTransitCallback(cost)
    routing.SetArcCostEvaluatorOfAllVehicles(cb)
    routing.AddDimension(cb, 0, math.floor(tmax * TOP_SCALE + 1e-9), True, "dist")
    big = int(m * tmax * TOP_SCALE) + 1
    for node in range(1, n - 1):
        routing.AddDisjunction([manager.NodeToIndex(node)], int(rows[node, 2] * big))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(int(time_limit * 1000))
    sol = routing.SolveWithParameters(params)
    routes: list[list[int]] = []
    if sol is None:
        return routes
    for k in range(m):
        idx = sol.Value(routing.NextVar(routing.Start(k)))
        route = []
        while not routing.IsEnd(idx):
            route.append(manager.IndexToNode(idx))
            idx = sol.Value(routing.NextVar(idx))
        routes.append(route)
    return routes


def plain_pyvrp(path: Path, time_limit: float, seed: int) -> list[list[int]]:
    """Solve with a plain PyVRP model; return routes as row indices."""
    from pyvrp import Model
    from pyvrp.stop import MaxRuntime

    m, tmax, rows = read_file(path)
    n = len(rows)
    model = Model()
    locs = [model.add_location(x=float(r[0]), y=float(r[1])) for r in rows]
    start, end = model.add_depot(locs[0]), model.add_depot(locs[-1])
    model.add_vehicle_type(
        num_available=m,
        start_depot=start,
        end_depot=end,
        shift_duration=math.floor(tmax * TOP_SCALE + 1e-9),
    )
    big = int(m * tmax * TOP_SCALE) + 1
    for i in range(1, n - 1):
        model.add_client(locs[i], prize=int(rows[i, 2] * big), required=False)
    for i in range(n):
        for j in range(n):
            if i != j:
                d = math.ceil(math.dist(rows[i, :2], rows[j, :2]) * TOP_SCALE)
                model.add_edge(locs[i], locs[j], distance=d, duration=d)
    res = model.solve(MaxRuntime(time_limit), seed=seed, display=False, collect_stats=False)
    routes: list[list[int]] = []
    for r in res.best.routes():
        # model location order: rows in file order; clients are rows 1..n-2
        routes.append([act.idx + 1 for act in r.schedule() if act.is_client()])
    return routes


def service(
    path: Path, time_limit: float, seed: int, engine: str
) -> tuple[list[list[int]], list[str]]:
    """Solve with the service's engine; return routes as row indices and check errors."""
    problem = read_top(path)
    options: dict[str, Any] = (
        {"solution_limit": None} if engine == "ortools" else {"max_iterations": None}
    )
    solution = get_engine(engine, **options).solve(problem, time_limit_s=time_limit, seed=seed)
    errors = check_solution(problem, solution)
    routes = [[int(problem.sites[v.site].id) for v in r.visits] for r in solution.routes]
    for r in solution.routes:  # the reader's own length function must agree
        assert (
            abs(
                top_route_length(problem, [v.site for v in r.visits])
                - route_length(
                    read_file(path)[2], [int(problem.sites[v.site].id) for v in r.visits]
                )
            )
            < 1e-6
        )
    return routes, errors


def run_one(job: tuple[str, str, float, int, str]) -> dict[str, Any]:
    """Solve one instance with one solver and score it."""
    solver, file, time_limit, seed, engine = job
    path = Path(file)
    m, tmax, rows = read_file(path)
    t0 = time.perf_counter()
    errors: list[str] = []
    if solver == "service":
        routes, errors = service(path, time_limit, seed, engine)
    elif solver == "plain-ortools":
        routes = plain_ortools(path, time_limit)
    else:
        routes = plain_pyvrp(path, time_limit, seed)
    runtime = time.perf_counter() - t0
    routes = [r for r in routes if r]  # an unused vehicle does not travel
    bad = sum(route_length(rows, r) > tmax + 1e-9 for r in routes)
    points = [p for r in routes for p in r]
    if len(points) != len(set(points)) or len(routes) > m:
        bad += 1
    score = 0.0 if bad else float(sum(rows[p, 2] for p in set(points)))
    return {
        "solver": solver,
        "instance": path.name,
        "score": score,
        "infeasible_routes": int(bad),
        "check_errors": len(errors),
        "runtime_s": runtime,
    }


def gap_pct(reference: float, score: float) -> float:
    """Return ``100 * (reference - score) / reference`` (0 when the reference is 0)."""
    return 0.0 if reference <= 0 else 100.0 * (reference - score) / reference


def sample(files: list[Path], k: int | None, seed: int) -> list[Path]:
    """Stratified sample of ``k`` files by family (``p1`` .. ``p7``), or all."""
    if k is None or k >= len(files):
        return files
    fam: dict[str, list[Path]] = defaultdict(list)
    for f in files:
        fam[f.name.split(".")[0]].append(f)
    rng = np.random.default_rng(seed)
    out: list[Path] = []
    for name in sorted(fam):
        members = sorted(fam[name])
        share = max(1, round(k * len(members) / len(files)))
        picks = rng.choice(len(members), size=min(share, len(members)), replace=False)
        out.extend(members[i] for i in sorted(picks))
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and print the figures (last line: one JSON object)."""
    top = shared_dir() / "benchmarks" / "top"
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--instances", type=Path, default=top / "instances")
    ap.add_argument("--bks", type=Path, default=top / "bks.csv")
    ap.add_argument("--time-limit", type=float, default=5.0)
    ap.add_argument("--engine", default=DEFAULT_ENGINE)
    ap.add_argument("--sample", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sample-seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--proven", type=Path, default=ROOT / "benchmarks" / "top_proven.csv")
    ap.add_argument("--solvers", default=",".join(SOLVERS))
    args = ap.parse_args(argv)
    if not args.instances.is_dir() or not args.bks.is_file():
        sys.exit(
            f"TOP instances or BKS not found ({args.instances}, {args.bks}); set PATROL_SHARED_DIR"
        )
    with args.bks.open() as fh:
        bks = {row["instance"]: float(row["bks_score"]) for row in csv.DictReader(fh)}
    reference = dict(bks)
    if args.proven.is_file():
        with args.proven.open() as fh:
            for row in csv.DictReader(fh):
                if row["instance"] in reference:
                    reference[row["instance"]] = float(row["proven_optimum"])
    files = sample(
        sorted(p for p in args.instances.glob("*.txt") if p.name in bks),
        args.sample,
        args.sample_seed,
    )
    solvers = [s for s in args.solvers.split(",") if s]
    jobs = [(s, str(f), args.time_limit, args.seed, args.engine) for f in files for s in solvers]
    results: list[dict[str, Any]] = []
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            for r in pool.map(run_one, jobs):
                results.append(r)
                print(json.dumps(r), flush=True)
    else:
        for job in jobs:
            r = run_one(job)
            results.append(r)
            print(json.dumps(r), flush=True)
    figures: dict[str, Any] = {
        "instances": len(files),
        "time_limit_s": args.time_limit,
        "seed": args.seed,
        "engine": args.engine,
        "sample": args.sample,
        "sample_seed": args.sample_seed,
        "load_1min": os.getloadavg()[0],
        "solvers": {},
    }
    for s in solvers:
        mine = [r for r in results if r["solver"] == s]
        gaps = {r["instance"]: gap_pct(bks[r["instance"]], r["score"]) for r in mine}
        proven_gaps = [gap_pct(reference[r["instance"]], r["score"]) for r in mine]
        by_family: dict[str, list[float]] = defaultdict(list)
        for name, g in gaps.items():
            by_family[name.split(".")[0]].append(g)
        figures["solvers"][s] = {
            "mean_gap_pct": statistics.fmean(gaps.values()) if gaps else None,
            "at_bks": sum(r["score"] >= bks[r["instance"]] for r in mine),
            "mean_gap_vs_proven_pct": statistics.fmean(proven_gaps) if proven_gaps else None,
            "at_reference": sum(r["score"] >= reference[r["instance"]] for r in mine),
            "infeasible_routes": sum(r["infeasible_routes"] for r in mine),
            "check_errors": sum(r["check_errors"] for r in mine),
            "mean_runtime_s": statistics.fmean(r["runtime_s"] for r in mine) if mine else None,
            "family_gap_pct": {f: statistics.fmean(v) for f, v in sorted(by_family.items())},
        }
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
