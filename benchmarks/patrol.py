"""Patrol benchmark: each engine against a 10x longer solve of itself, and the cost of variation.

Protocol
--------
Instances
    One routing problem per grid x window that has groups, built by the plan pipeline
    (hotspots of the window, CP-SAT groups from ``optimizer.teams.form_groups``, fixed posts,
    street travel times) for

    * the demo district (``optimizer.storage.load_district("demo")``), and
    * a real OSM extract from ``$PATROL_SHARED_DIR/data/osm/`` (default ``shenzhen_longgang``;
      ``PATROL_SHARED_DIR`` defaults to ``../shared`` from the repo root), wrapped with synthetic
      grids, incidents and resources (``optimizer.demo.synthetic_district``, seed 0).

    Day ``--day`` (default Monday 2026-11-30), windows ``--windows`` (default 14:00-18:00 and
    19:00-23:00), grid levels ``--grid-levels`` (default 1 and 2: the whole district as one
    instance with all its groups, and each level-2 grid with its own).
Engines
    Every engine ``optimizer.engines.get_engine`` provides (ortools, pyvrp); while an engine
    module is missing the plan pipeline's own OR-Tools model stands in (named ``<name>*``).
Figures per engine
    Each instance is solved with seed 0 at ``T = --time-limit`` seconds and at ``10 T``.
    ``gap`` = 1 - value(T) / value(10 T) (prize collected, posts must be staffed; negative when
    the short run did better); reported as mean and max over instances, with the count of
    infeasible solutions (a required post dropped), the count of instances the engine refused
    (``InfeasibleError``; left out of the gaps) and the mean runtime.
    ``gap_to_best_engine_mean``: value at ``T`` against the best any engine reached at ``T``.
Unpredictability
    With the first engine at ``T``: for ``--days`` consecutive days, each instance is solved by
    ``optimizer.variation.solve_with_variation`` (``max_value_loss`` ``--max-loss``, previous
    day's visits discounted). ``variation_loss`` is the mean and max value lost against the
    same day's unperturbed solve; ``overlap_consecutive`` the mean Jaccard overlap (visited
    hotspots and consecutive pairs, averaged) between consecutive days' solutions of the same
    instance; ``overlap_without_variation`` the same between two unperturbed solves (1.0 for a
    deterministic engine).

Command
    ``python benchmarks/patrol.py [--time-limit 1] [--extract shenzhen_longgang] [--days 3]
    [--grid-levels 1 2] [--no-real]``

Output
    One line per instance while running; the last line of stdout is one JSON object of figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optimizer.district import District  # noqa: E402
from optimizer.engines.base import ENGINE_NAMES, Solution, get_engine  # noqa: E402
from optimizer.errors import InfeasibleError  # noqa: E402
from optimizer.problem import PatrolProblem  # noqa: E402
from optimizer.timewindow import TimeWindow  # noqa: E402
from optimizer.variation import (  # noqa: E402
    VariationParams,
    solution_overlap,
    solution_value,
    solve_with_variation,
    visited_keys,
)

Solve = Callable[[PatrolProblem, float, int], Solution]


def shared_dir() -> Path:
    """Return ``$PATROL_SHARED_DIR`` or ``../shared`` next to the repo."""
    env = os.environ.get("PATROL_SHARED_DIR")
    return Path(env) if env else ROOT.parent / "shared"


def engines() -> dict[str, Solve]:
    """Return the available engines by name (a stand-in marked ``*`` where one is missing)."""
    out: dict[str, Solve] = {}
    for name in ENGINE_NAMES:
        try:
            engine = get_engine(name)
        except ImportError:
            from optimizer.plan import solve_problem  # the pipeline's stand-in model

            if "ortools*" not in out:
                out["ortools*"] = lambda p, t, s: solve_problem(p, "ortools", t, s)
            continue

        def run(p: PatrolProblem, t: float, s: int, engine: Any = engine) -> Solution:
            result: Solution = engine.solve(p, time_limit_s=t, seed=s)
            return result

        out[name] = run
    return out


def attempt(solve: Solve, problem: PatrolProblem, time_limit_s: float) -> Solution | None:
    """Solve with seed 0; ``None`` when the engine refuses the instance (InfeasibleError)."""
    try:
        return solve(problem, time_limit_s, 0)
    except InfeasibleError:
        return None


def real_district(extract: str) -> District:
    """Load a real extract as a district with synthetic grids, incidents and resources."""
    path = shared_dir() / "data" / "osm" / f"{extract}.osm"
    if not path.is_file():
        sys.exit(f"patrol benchmark: {path} not found; set PATROL_SHARED_DIR to the shared folder")
    import osmnx as ox

    from optimizer.demo import synthetic_district
    from optimizer.importer import _prepare, _read_streets  # streets module or its stand-in

    # the extract keeps every fragment; patrol on the largest strongly connected part
    G = _prepare(ox.truncate.largest_component(_read_streets(path), strongly=True))
    return synthetic_district(extract, G, seed=0, metadata={"source": str(path)})


def instances(
    district: District, day: dt.date, windows: list[TimeWindow], level: int = 2
) -> list[PatrolProblem]:
    """Build one problem per grid x window that has groups, as the plan pipeline does."""
    from optimizer.plan import (
        assign_to_grids,
        build_problem,
        form_window_groups,
        planning_grid_ids,
        street_router,
        window_hotspots,
    )

    ids = planning_grid_ids(district, level=level)
    router = street_router(district.graph)
    out = []
    for wi, window in enumerate(windows):
        hot = window_hotspots(district, day, window, ids)
        hot_grid = assign_to_grids(district, ids, [(h.lon, h.lat) for h in hot])
        groups = form_window_groups(district, day, window, hot, ids, wi, 2.0)
        posts = [p for p in district.resources.posts if p.active_windows(day, window)]
        post_grid = assign_to_grids(district, ids, [(p.lon, p.lat) for p in posts])
        for gid in ids:
            g_groups = [g for g in groups if g.grid_id == gid]
            g_hot = [h for h, g in zip(hot, hot_grid, strict=True) if g == gid]
            if not g_groups or not g_hot:
                continue
            problem, _ = build_problem(
                district,
                grid_id=gid,
                day=day,
                window=window,
                groups=g_groups,
                hotspots=g_hot,
                posts=[p for p, g in zip(posts, post_grid, strict=True) if g == gid],
                router=router,
            )
            out.append(problem)
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and print its figures; return them."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--time-limit", type=float, default=1.0, help="T, seconds per solve")
    ap.add_argument("--extract", default="shenzhen_longgang", help="OSM file name in shared/osm")
    ap.add_argument("--day", default="2026-11-30")
    ap.add_argument("--windows", nargs="+", default=["14:00-18:00", "19:00-23:00"])
    ap.add_argument("--days", type=int, default=3, help="consecutive days for variation")
    ap.add_argument("--max-loss", type=float, default=0.03)
    ap.add_argument("--no-real", action="store_true", help="demo only")
    ap.add_argument(
        "--grid-levels",
        type=int,
        nargs="+",
        default=[1, 2],
        help="grid levels planned (1: the whole district as one instance)",
    )
    args = ap.parse_args(argv)
    day = dt.date.fromisoformat(args.day)
    windows = [TimeWindow.parse(w) for w in args.windows]
    t = float(args.time_limit)

    from optimizer.storage import load_district

    districts = [load_district("demo")]
    if not args.no_real:
        districts.append(real_district(args.extract))
    problems: list[tuple[str, PatrolProblem]] = []
    for d in districts:
        for level in args.grid_levels:
            built = instances(d, day, windows, level)
            problems += [(d.name, p) for p in built]
            print(f"{d.name} level {level}: {len(built)} instances", file=sys.stderr)
    if not problems:
        sys.exit("patrol benchmark: no instance has both groups and hotspots")

    figures: dict[str, Any] = {
        "time_limit_s": t,
        "instances": len(problems),
        "districts": [d.name for d in districts],
        "grid_levels": args.grid_levels,
        "sites_mean": round(statistics.fmean(len(p.sites) for _, p in problems), 1),
        "sites_max": max(len(p.sites) for _, p in problems),
        "groups_mean": round(statistics.fmean(len(p.vehicles) for _, p in problems), 2),
        "engines": {},
    }
    values: dict[str, list[float]] = {}
    solvers = engines()
    for name, solve in solvers.items():
        gaps, runtimes, infeasible, refused = [], [], 0, 0
        for _dname, p in problems:
            short, long = attempt(solve, p, t), attempt(solve, p, 10 * t)
            if short is None or long is None:
                refused += 1
                values.setdefault(name, []).append(
                    0.0 if short is None else solution_value(p, short)
                )
                print(f"{name} {p.name}: refused (InfeasibleError)", file=sys.stderr)
                continue
            v_s, v_l = solution_value(p, short), solution_value(p, long)
            gap = 1 - v_s / v_l if v_l > 0 else 0.0
            gaps.append(gap)
            values.setdefault(name, []).append(v_s)
            runtimes.append(short.runtime_s)
            infeasible += int(not short.feasible)
            print(
                f"{name} {p.name}: value {v_s:.4g} at {t:g}s, {v_l:.4g} at {10 * t:g}s, "
                f"gap {gap:+.2%}",
                file=sys.stderr,
            )
        figures["engines"][name] = {
            "gap_to_10x_mean": round(statistics.fmean(gaps), 5) if gaps else None,
            "gap_to_10x_max": round(max(gaps), 5) if gaps else None,
            "infeasible": infeasible,
            "refused": refused,
            "runtime_mean_s": round(statistics.fmean(runtimes), 3) if runtimes else None,
        }

    # every engine at T against the best value any engine reached at T on the same instance
    best = [max(v[i] for v in values.values()) for i in range(len(problems))]
    for name, vals in values.items():
        rel = [1 - v / b if b > 0 else 0.0 for v, b in zip(vals, best, strict=True)]
        figures["engines"][name]["gap_to_best_engine_mean"] = round(statistics.fmean(rel), 5)

    name, solve = next(iter(solvers.items()))
    params = VariationParams(max_value_loss=args.max_loss)
    losses, overlaps, plain = [], [], []
    for _dname, p in problems:
        previous: set[str] = set()
        prev_sol: Solution | None = None
        base0, again = attempt(solve, p, t), attempt(solve, p, t)
        if base0 is None or again is None:
            continue
        plain.append(solution_overlap(p, base0, again)["overlap"])
        for k in range(args.days):
            res = solve_with_variation(
                p,
                day=day + dt.timedelta(days=k),
                seed=0,
                time_limit_s=t,
                params=params,
                previous=previous,
                baseline=base0,
                solve=solve,
            )
            losses.append(res.loss)
            if prev_sol is not None:
                overlaps.append(solution_overlap(p, prev_sol, res.solution)["overlap"])
            prev_sol = res.solution
            previous = visited_keys(p, res.solution)
    figures["variation"] = {
        "engine": name,
        "max_value_loss": args.max_loss,
        "days": args.days,
        "variation_loss_mean": round(statistics.fmean(losses), 5) if losses else None,
        "variation_loss_max": round(max(losses), 5) if losses else None,
        "overlap_consecutive_mean": round(statistics.fmean(overlaps), 4) if overlaps else None,
        "overlap_without_variation": round(statistics.fmean(plain), 4) if plain else None,
    }
    figures["load_avg_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
