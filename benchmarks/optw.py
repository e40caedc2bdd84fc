"""OPTW benchmark: the service's engine against plain OR-Tools and plain PyVRP models.

Protocol
--------
Instances
    Orienteering Problem with Time Windows files (KU Leuven TOPTW format, Solomon-based, one
    route) in ``--instances`` (default ``$PATROL_SHARED_DIR/benchmarks/optw/instances``;
    ``PATROL_SHARED_DIR`` defaults to ``../shared`` from the repo root); optimal or best-known
    scores from ``--optima`` (CSV columns ``instance``, ``optimal_score``, else
    ``best_feasible_in_file``; instances with neither are skipped).
    ``--sample K`` takes ``K`` instances spread evenly over the sorted list.
Solvers (each at the same ``--time-limit`` per instance, seed ``--seed``)
    ``service``: ``optimizer.engines.get_engine(--engine)`` (default ``DEFAULT_ENGINE``) on the
    PatrolProblem from ``optimizer.instances.read_optw``, stopping on the time limit only.
    ``plain-pyvrp``: a PyVRP model straight from the file (optional clients with prize,
    service duration and window; one vehicle within the depot window). ``plain-ortools``: an
    OR-Tools routing model with a time dimension and one disjunction per vertex (penalty =
    score), path cheapest arc + guided local search. All use travel time = Euclidean distance
    truncated to one decimal (as the optima), in tenths.
Feasibility
    Each route is re-timed from the coordinates (truncated distances): service starts in the
    vertex window (waiting allowed), and the route is back at the depot by its closing time;
    a violating route scores 0 and counts as infeasible. The service's solution also passes
    ``check_solution``.
Figures per solver
    ``gap`` = 100 * (optimum - score) / optimum, mean and max; ``at_optimum`` count;
    ``infeasible_routes``; mean runtime.
Command
    ``python benchmarks/optw.py --instances DIR --optima FILE --time-limit 5 [--engine NAME]
    [--sample K] [--seed S] [--solvers service,plain-pyvrp,plain-ortools]``
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
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optimizer.engines.base import DEFAULT_ENGINE, get_engine  # noqa: E402
from optimizer.engines.check import check_solution  # noqa: E402
from optimizer.instances import read_optw  # noqa: E402

SOLVERS = ("service", "plain-ortools", "plain-pyvrp")


def shared_dir() -> Path:
    """Return ``$PATROL_SHARED_DIR`` or ``../shared`` from the repo root."""
    return Path(os.environ.get("PATROL_SHARED_DIR", ROOT.parent / "shared"))


def read_file(path: Path) -> np.ndarray:
    """Rows ``x y service score open close`` of every vertex (depot first)."""
    lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
    n = int(lines[0][2])
    return np.array(
        [
            [float(v[1]), float(v[2]), float(v[3]), float(v[4]), float(v[-2]), float(v[-1])]
            for v in lines[2 : 3 + n]
        ]
    )


def travel(rows: np.ndarray) -> list[list[int]]:
    """Travel times in tenths: Euclidean distance truncated to one decimal."""
    xy = rows[:, :2]
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    return np.floor(d * 10 + 1e-9).astype(np.int64).tolist()


def route_ok(rows: np.ndarray, route: list[int]) -> bool:
    """Re-time ``route`` (vertex indices) from the coordinates; True when feasible."""
    d = travel(rows)
    t = round(rows[0, 4] * 10)
    prev = 0
    for v in route:
        t = max(t + d[prev][v], round(rows[v, 4] * 10))
        if t > round(rows[v, 5] * 10):
            return False
        t += round(rows[v, 2] * 10)
        prev = v
    return t + d[prev][0] <= round(rows[0, 5] * 10)


def plain_pyvrp(path: Path, time_limit: float, seed: int) -> list[int]:
    """Solve with a plain PyVRP model; return the route as vertex indices."""
    from pyvrp import Model
    from pyvrp.stop import MaxRuntime

    rows = read_file(path)
    d = travel(rows)
    model = Model()
    locs = [model.add_location(x=float(r[0]), y=float(r[1])) for r in rows]
    depot = model.add_depot(
        locs[0], tw_early=round(rows[0, 4] * 10), tw_late=round(rows[0, 5] * 10)
    )
    model.add_vehicle_type(
        1,
        start_depot=depot,
        end_depot=depot,
        tw_early=round(rows[0, 4] * 10),
        tw_late=round(rows[0, 5] * 10),
    )
    for i in range(1, len(rows)):
        model.add_client(
            locs[i],
            service_duration=round(rows[i, 2] * 10),
            tw_early=round(rows[i, 4] * 10),
            tw_late=round(rows[i, 5] * 10),
            prize=int(rows[i, 3] * 100_000),
            required=False,
        )
    for i in range(len(rows)):
        for j in range(len(rows)):
            if i != j:
                model.add_edge(locs[i], locs[j], distance=d[i][j], duration=d[i][j])
    res = model.solve(MaxRuntime(time_limit), seed=seed, display=False, collect_stats=False)
    routes = res.best.routes()
    return [act.idx + 1 for act in routes[0].schedule() if act.is_client()] if routes else []


def plain_ortools(path: Path, time_limit: float) -> list[int]:
    """Solve with a plain OR-Tools routing model; return the route as vertex indices."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    rows = read_file(path)
    d = travel(rows)
    service = [round(r[2] * 10) for r in rows]
    n = len(rows)
    manager = pywrapcp.RoutingIndexManager(n, 1, 0)
    routing = pywrapcp.RoutingModel(manager)

    def transit(i: int, j: int) -> int:
        a, b = manager.IndexToNode(i), manager.IndexToNode(j)
        return d[a][b] + service[a]

    cb = routing.RegisterTransitCallback(transit)
    routing.SetArcCostEvaluatorOfAllVehicles(cb)
    close = round(rows[0, 5] * 10)
    routing.AddDimension(cb, close, close, False, "time")
    tdim = routing.GetDimensionOrDie("time")
    tdim.CumulVar(routing.Start(0)).SetRange(round(rows[0, 4] * 10), close)
    tdim.CumulVar(routing.End(0)).SetRange(0, close)
    for i in range(1, n):
        idx = manager.NodeToIndex(i)
        tdim.CumulVar(idx).SetRange(round(rows[i, 4] * 10), round(rows[i, 5] * 10))
        routing.AddDisjunction([idx], int(rows[i, 3] * 100_000))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(int(time_limit * 1000))
    sol = routing.SolveWithParameters(params)
    route: list[int] = []
    if sol is None:
        return route
    idx = sol.Value(routing.NextVar(routing.Start(0)))
    while not routing.IsEnd(idx):
        route.append(manager.IndexToNode(idx))
        idx = sol.Value(routing.NextVar(idx))
    return route


def run_one(solver: str, path: Path, time_limit: float, seed: int, engine: str) -> dict[str, Any]:
    """Solve one instance with one solver and score it."""
    rows = read_file(path)
    t0 = time.perf_counter()
    errors: list[str] = []
    if solver == "service":
        problem = read_optw(path)
        options: dict[str, Any] = (
            {"solution_limit": None} if engine == "ortools" else {"max_iterations": None}
        )
        solution = get_engine(engine, **options).solve(problem, time_limit_s=time_limit, seed=seed)
        errors = check_solution(problem, solution)
        route = [int(problem.sites[v.site].id) for r in solution.routes for v in r.visits]
    elif solver == "plain-ortools":
        route = plain_ortools(path, time_limit)
    else:
        route = plain_pyvrp(path, time_limit, seed)
    runtime = time.perf_counter() - t0
    ok = route_ok(rows, route) and len(set(route)) == len(route)
    score = float(sum(rows[v, 3] for v in route)) if ok else 0.0
    return {
        "solver": solver,
        "instance": path.stem,
        "score": score,
        "infeasible_routes": int(not ok),
        "check_errors": len(errors),
        "runtime_s": runtime,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and print the figures (last line: one JSON object)."""
    base = shared_dir() / "benchmarks" / "optw"
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--instances", type=Path, default=base / "instances")
    ap.add_argument("--optima", type=Path, default=base / "optima_m1.csv")
    ap.add_argument("--time-limit", type=float, default=5.0)
    ap.add_argument("--engine", default=DEFAULT_ENGINE)
    ap.add_argument("--sample", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--solvers", default=",".join(SOLVERS))
    args = ap.parse_args(argv)
    if not args.instances.is_dir() or not args.optima.is_file():
        sys.exit(
            f"OPTW instances or optima not found ({args.instances}, {args.optima}); "
            "set PATROL_SHARED_DIR"
        )
    with args.optima.open() as fh:
        optima = {
            row["instance"]: float(row["optimal_score"] or row["best_feasible_in_file"])
            for row in csv.DictReader(fh)
            if row["optimal_score"] or row["best_feasible_in_file"]
        }
    files = sorted(p for p in args.instances.glob("*.txt") if p.stem in optima)
    if args.sample is not None and args.sample < len(files):
        step = len(files) / args.sample
        files = [files[math.floor(i * step)] for i in range(args.sample)]
    solvers = [s for s in args.solvers.split(",") if s]
    results = []
    for f in files:
        for s in solvers:
            r = run_one(s, f, args.time_limit, args.seed, args.engine)
            results.append(r)
            print(json.dumps(r), flush=True)
    figures: dict[str, Any] = {
        "instances": len(files),
        "time_limit_s": args.time_limit,
        "seed": args.seed,
        "engine": args.engine,
        "load_1min": os.getloadavg()[0],
        "solvers": {},
    }
    for s in solvers:
        mine = [r for r in results if r["solver"] == s]
        gaps = [100.0 * (optima[r["instance"]] - r["score"]) / optima[r["instance"]] for r in mine]
        figures["solvers"][s] = {
            "mean_gap_pct": statistics.fmean(gaps) if gaps else None,
            "max_gap_pct": max(gaps) if gaps else None,
            "at_optimum": sum(r["score"] >= optima[r["instance"]] for r in mine),
            "infeasible_routes": sum(r["infeasible_routes"] for r in mine),
            "check_errors": sum(r["check_errors"] for r in mine),
            "mean_runtime_s": statistics.fmean(r["runtime_s"] for r in mine) if mine else None,
        }
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
