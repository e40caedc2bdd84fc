"""Patrol benchmark: which engine plans patrols best, each against a 10x longer solve of itself.

Protocol
--------
Instances
    Routing problems built by the plan's build step (``optimizer.plan.build.build_day``, as
    ``plan_day`` builds them): hotspots of the window with repeat-visit copies and spacing,
    fixed posts on duty (required, with their time windows), groups of mixed modes allocated
    to the cells and starting at the cell's muster point (or at an early post), street travel
    times per mode. Day ``--day`` (default Monday 2026-11-30, a school day: the school
    gates 07:20-08:00 and 16:30-17:30 and the hospital hall 08:00-18:00 are on duty). Families
    (``--quick`` keeps only ``demo-L1`` in 14:00-18:00):

    ``demo-L1``
        The demo district (``optimizer.synthetic.demo.load_demo``) planned as one grid with
        hotspots cut in its level-2 cells, windows
        07:00-11:00, 14:00-18:00, 19:00-23:00: every group of the window in one problem.
    ``demo-L2``
        The demo's level-2 grids (three sectors) in 14:00-18:00, exactly as ``plan_day`` builds
        them (groups spread over the grids by demand; a grid without groups is no instance).
    ``real-L2``
        A real extract (``--extract``, default ``shenzhen_longgang``) from
        ``$PATROL_SHARED_DIR/data/osm/`` (default ``../shared``) imported with the public
        importer (``optimizer.importer.import_district`` into a temporary folder: largest
        connected street network, automatic grids, a synthetic roster of :data:`REAL_ROSTER`
        (a station's worth of staff, so the instances keep the size they had), seed 0) plus a
        seeded
        synthetic incident history of the 183 days before ``--day``
        (``optimizer.synthetic.incidents.synthetic_incidents``, seed 0). Its level-2 grids in
        14:00-18:00 as ``plan_day`` builds them.
    ``real-sector``
        The real district's level-2 grid that holds the most fixed posts, planned alone
        (``plan_day(grid_ids=[...])``: all the window's groups go there) with hotspots cut in its
        level-3 cells (tens of hotspots), windows 07:00-11:00 and 14:00-18:00.
    ``real-large``
        The whole real district as one grid with hotspots cut in its level-2 grids and all
        groups, window 14:00-18:00 (hundreds of sites).
Engines
    Every name in ``optimizer.engines.base.ENGINE_NAMES`` (ortools, pyvrp, patrol), configured
    as the service runs them (``get_engine(name)``: solution / iteration caps on); with
    ``--time-only`` the caps are lifted and every solve runs to its time limit.
Figures per engine
    Each instance is solved with seed 0 at ``T = --time-limit`` seconds and at ``10 T``.
    Value = prize collected at the problem's prizes. ``gap_to_10x`` = 1 - value(T) /
    value(10 T) (negative when the short run did better): mean and max. ``gap_to_best`` =
    1 - value(T) / best value any engine reached at T on that instance (a refused instance
    counts as value 0): mean, max, per family, and ``at_best`` (instances within 1e-6 of the
    best). ``infeasible``: solutions with a required post dropped or any error of the
    independent checker ``optimizer.engines.check.check_solution`` (or ``feasible`` false);
    ``refused``: ``InfeasibleError`` at T or 10 T (left out of ``gap_to_10x``);
    ``runtime_mean_s`` and ``hit_limit`` (runs at T that used >= 95 % of T, i.e. no cap
    stopped them). ``best_engine_at_T`` is the engine with the smallest mean ``gap_to_best``
    (ties: fewer infeasible, then smaller ``gap_to_10x`` mean).
Unpredictability
    With the default engine (``optimizer.engines.base.DEFAULT_ENGINE``) at ``T``, for ``--days``
    consecutive days each instance is solved by ``optimizer.plan.variation.solve_with_variation``
    (``max_value_loss`` ``--max-loss``, the previous day's visits discounted).
    ``variation_loss`` is the mean and max value lost against the same day's unperturbed solve;
    ``overlap_consecutive`` the mean Jaccard overlap (visited hotspots and consecutive pairs,
    averaged) between consecutive days' solutions of the same instance;
    ``overlap_without_variation`` the same between two unperturbed solves.
Command
    ``nice -n 10 python benchmarks/patrol.py [--time-limit 1] [--quick] [--time-only]
    [--extract shenzhen_longgang] [--days 3] [--no-real] [--no-variation]
    [--families demo-L1 real-sector ...]``
    Default (T = 1 s): 14 instances, about 7 minutes on the 2-core machine (load 3-5);
    T = 5 s with ``--no-variation``: about 23 minutes. ``--quick``: 1 instance, under a minute.
    The code under test is shared and changes: run from a snapshot
    (``git archive HEAD | tar -x -C DIR``, then ``python DIR/benchmarks/patrol.py``; this file
    puts its own folder first on ``sys.path``) so every figure names one commit (``code``).
Output
    One line per instance and engine on stderr; the last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optimizer.district import District  # noqa: E402
from optimizer.engines.base import (  # noqa: E402
    DEFAULT_ENGINE,
    ENGINE_NAMES,
    Solution,
    get_engine,
)
from optimizer.engines.check import check_solution  # noqa: E402
from optimizer.errors import InfeasibleError  # noqa: E402
from optimizer.plan.variation import (  # noqa: E402
    VariationParams,
    solution_overlap,
    solution_value,
    solve_with_variation,
    visited_keys,
)
from optimizer.problem import PatrolProblem  # noqa: E402
from optimizer.timewindow import TimeWindow  # noqa: E402

Solve = Callable[[PatrolProblem, float, int], Solution]

HISTORY_DAYS = 183
"""Length of the real district's synthetic incident history, ending the day before ``--day``."""

REAL_ROSTER = {"officers": 12, "volunteers": 40, "teams": 5, "posts": 2, "stations": 2}
"""Synthetic roster of the real district: the size the engine comparison was made at."""

AT_BEST_TOL = 1e-6


@dataclass(frozen=True)
class Instance:
    """One benchmark problem and the family it belongs to."""

    family: str
    problem: PatrolProblem

    @property
    def n_posts(self) -> int:
        """Number of required sites (fixed-post duties)."""
        return sum(s.required for s in self.problem.sites)

    @property
    def n_hotspots(self) -> int:
        """Number of distinct hotspots (repeat-visit copies counted once)."""
        return len({s.key or s.id for s in self.problem.sites if not s.required})

    def describe(self) -> dict[str, Any]:
        """Return the instance's size: sites, hotspots, copies, posts, vehicles per mode."""
        modes: dict[str, int] = {}
        for v in self.problem.vehicles:
            modes[v.mode] = modes.get(v.mode, 0) + 1
        return {
            "name": self.problem.name,
            "family": self.family,
            "sites": len(self.problem.sites),
            "hotspots": self.n_hotspots,
            "posts": self.n_posts,
            "vehicles": len(self.problem.vehicles),
            "modes": dict(sorted(modes.items())),
        }


def shared_dir() -> Path:
    """Return ``$PATROL_SHARED_DIR`` or ``../shared`` next to the repo."""
    env = os.environ.get("PATROL_SHARED_DIR")
    return Path(env) if env else ROOT.parent / "shared"


def code_version() -> str:
    """Return the commit the benchmark runs on (``+dirty`` with local changes in optimizer/).

    Outside a git checkout (e.g. a ``git archive`` snapshot) the folder name stands in.
    """
    import subprocess

    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "optimizer"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ROOT.name
    return head + ("+dirty" if dirty else "")


def real_district(extract: str, day: dt.date, workdir: str | Path) -> District:
    """Import a real OSM extract with the public importer, plus a fixed synthetic history.

    Parameters
    ----------
    extract
        File name (without ``.osm``) in ``<shared>/data/osm/``.
    day
        Planned day; the synthetic history covers the :data:`HISTORY_DAYS` days before it, so
        the instances do not depend on the date the benchmark runs.
    workdir
        Folder the importer writes the district to (a temporary one).

    Returns
    -------
    District
        Automatic grids, synthetic resources (seed 0), synthetic incidents (seed 0).
    """
    from optimizer.importer import import_district
    from optimizer.synthetic.incidents import synthetic_incidents

    path = shared_dir() / "data" / "osm" / f"{extract}.osm"
    if not path.is_file():
        sys.exit(f"patrol benchmark: {path} not found; set PATROL_SHARED_DIR to the shared folder")
    tz = "Asia/Shanghai"
    result = import_district(
        extract,
        path,
        data_dir=workdir,
        seed=0,
        timezone=tz,
        check_grid_graphs=False,
        roster=REAL_ROSTER,
    )
    district = result.district
    district.incidents = synthetic_incidents(
        district.graph,
        district.grids,
        start=day - dt.timedelta(days=HISTORY_DAYS),
        end=day - dt.timedelta(days=1),
        seed=0,
        tz=tz,
    )
    return district


def grid_window_problems(
    district: District,
    *,
    day: dt.date,
    windows: Sequence[TimeWindow],
    level: int | None = None,
    grid_ids: Sequence[str] | None = None,
    hotspot_level: int | None = None,
    seed: int = 0,
) -> list[PatrolProblem]:
    """Build one problem per planning cell x window that has groups and hotspots.

    The plan's own build step (``optimizer.plan.build.build_day``), nothing else.

    Parameters
    ----------
    district
        The district.
    day, windows
        The planned day and its windows.
    level, grid_ids
        Planning cells: every cell of ``level``, or the explicit ``grid_ids`` (which then get
        all the window's groups between them).
    hotspot_level
        Cut hotspots in the cells of this (finer) level inside the planning cells
        (``PlanParams.hotspot_level``).
    seed
        The plan's seed.

    Returns
    -------
    list of PatrolProblem
    """
    from optimizer.plan.build import build_day
    from optimizer.plan.cells import planning_grid_ids
    from optimizer.plan.params import PlanParams

    ids = planning_grid_ids(district, level=level, grid_ids=grid_ids)
    problems = build_day(
        district,
        day=day,
        windows=list(windows),
        grid_ids=ids,
        params=PlanParams(hotspot_level=hotspot_level),
        seed=seed,
    )
    return [t.problem for t in problems.tasks if t.context.hotspots]


def busiest_grid(district: District, level: int) -> str:
    """Return the ``level`` grid holding the most fixed posts (ties: the first id)."""
    from optimizer.plan.cells import locate, planning_grid_ids

    ids = planning_grid_ids(district, level=level)
    posts = district.resources.posts
    where = locate(district, ids, [(p.lon, p.lat) for p in posts])
    return max(ids, key=lambda g: (sum(w == g for w in where), -ids.index(g)))


def instance_set(
    day: dt.date,
    *,
    quick: bool = False,
    real: District | None = None,
    families: Sequence[str] | None = None,
    log: Callable[[str], None] = lambda _m: None,
) -> list[Instance]:
    """Build the benchmark's instances (see the module docstring for the families).

    Parameters
    ----------
    day
        The planned day.
    quick
        Only ``demo-L1`` in 14:00-18:00.
    real
        The imported real district (``None``: demo families only).
    families
        Build only these families (``None``: all).
    log
        Called with one line per family.
    """
    from optimizer.synthetic.demo import load_demo

    w = {s: TimeWindow.parse(s) for s in ("07:00-11:00", "14:00-18:00", "19:00-23:00")}
    demo = load_demo()
    specs: list[tuple[str, District, dict[str, Any]]] = []
    if quick:
        specs.append(
            ("demo-L1", demo, {"windows": [w["14:00-18:00"]], "level": 1, "hotspot_level": 2})
        )
    else:
        specs.append(
            ("demo-L1", demo, {"windows": list(w.values()), "level": 1, "hotspot_level": 2})
        )
        specs.append(("demo-L2", demo, {"windows": [w["14:00-18:00"]], "level": 2}))
        if real is not None:
            sector = busiest_grid(real, 2)
            specs += [
                ("real-L2", real, {"windows": [w["14:00-18:00"]], "level": 2}),
                (
                    "real-sector",
                    real,
                    {
                        "windows": [w["07:00-11:00"], w["14:00-18:00"]],
                        "grid_ids": [sector],
                        "hotspot_level": 3,
                    },
                ),
                (
                    "real-large",
                    real,
                    {"windows": [w["14:00-18:00"]], "level": 1, "hotspot_level": 2},
                ),
            ]
    out: list[Instance] = []
    for family, district, kw in specs:
        if families is not None and family not in families:
            continue
        built = grid_window_problems(district, day=day, **kw)
        out += [Instance(family, p) for p in built]
        sizes = ", ".join(f"{len(p.sites)}/{len(p.vehicles)}" for p in built)
        log(f"{family}: {len(built)} instances (sites/vehicles: {sizes})")
    return out


def engine_solvers(time_only: bool = False) -> dict[str, Solve]:
    """Return a solve function per engine name, as the service configures them.

    ``time_only`` lifts the solution / iteration caps (every solve runs to its time limit).
    """
    uncapped: dict[str, dict[str, Any]] = {
        "ortools": {"solution_limit": None},
        "pyvrp": {"max_iterations": None},
        "patrol": {"max_iterations": None, "solution_limit": None},
    }
    out: dict[str, Solve] = {}
    for name in ENGINE_NAMES:
        engine = get_engine(name, **(uncapped.get(name, {}) if time_only else {}))

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


def violations(problem: PatrolProblem, solution: Solution) -> list[str]:
    """Return why ``solution`` is infeasible (empty: feasible), by the independent checker."""
    errors = check_solution(problem, solution)
    if not solution.feasible and not errors:
        errors = ["engine reports its solution infeasible"]
    return errors


def _mean(xs: Sequence[float]) -> float | None:
    return round(statistics.fmean(xs), 5) if xs else None


def _max(xs: Sequence[float]) -> float | None:
    return round(max(xs), 5) if xs else None


def compare_engines(
    instances: Sequence[Instance],
    solvers: dict[str, Solve],
    time_limit_s: float,
    log: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """Solve every instance with every engine at T and 10 T.

    Returns
    -------
    dict
        ``engines``: figures per engine (see the module docstring); ``common_instances``: how
        many instances every engine answered at T (``gap_to_best_common_mean`` is over them);
        ``per_instance``: name, family and each engine's value at T and 10 T (None: refused).
    """
    t = time_limit_s
    values: dict[str, list[float]] = {}
    per_instance: list[dict[str, Any]] = [
        {"name": inst.problem.name, "family": inst.family, "values": {}} for inst in instances
    ]
    figures: dict[str, Any] = {}
    for name, solve in solvers.items():
        gaps: list[float] = []
        runtimes: list[float] = []
        infeasible = refused = refused_t = hit = 0
        vals: list[float] = []
        for k, inst in enumerate(instances):
            p = inst.problem
            short, long = attempt(solve, p, t), attempt(solve, p, 10 * t)
            vals.append(0.0 if short is None else solution_value(p, short))
            per_instance[k]["values"][name] = [
                None if sol is None else round(solution_value(p, sol), 6) for sol in (short, long)
            ]
            for sol, label in ((short, "T"), (long, "10T")):
                if sol is None:
                    continue
                errors = violations(p, sol)
                if errors:
                    infeasible += label == "T"
                    log(f"  {name} {p.name} at {label}: INFEASIBLE {errors[:3]}")
            if short is None or long is None:
                refused += 1
                refused_t += short is None
                at = " and ".join(lab for sol, lab in ((short, "T"), (long, "10T")) if sol is None)
                log(f"{name} {p.name}: refused at {at} (InfeasibleError)")
                continue
            v_s, v_l = vals[-1], solution_value(p, long)
            gap = 1 - v_s / v_l if v_l > 0 else 0.0
            gaps.append(gap)
            runtimes.append(short.runtime_s)
            hit += short.runtime_s >= 0.95 * t
            log(
                f"{name} {p.name}: value {v_s:.4g} at {t:g}s ({short.runtime_s:.2f}s), "
                f"{v_l:.4g} at {10 * t:g}s ({long.runtime_s:.2f}s), gap {gap:+.2%}"
            )
        values[name] = vals
        figures[name] = {
            "gap_to_10x_mean": _mean(gaps),
            "gap_to_10x_max": _max(gaps),
            "infeasible": infeasible,
            "refused": refused,
            "refused_at_T": refused_t,
            "runtime_mean_s": round(statistics.fmean(runtimes), 3) if runtimes else None,
            "hit_limit": hit,
        }
    best = [max(v[i] for v in values.values()) for i in range(len(instances))]
    # instances every engine answered at T: the comparison without refusals
    common = [
        i for i in range(len(instances)) if all(v[i] > 0 or best[i] == 0 for v in values.values())
    ]
    families = list(dict.fromkeys(inst.family for inst in instances))
    for name, vals in values.items():
        rel = [1 - v / b if b > 0 else 0.0 for v, b in zip(vals, best, strict=True)]
        figures[name]["gap_to_best_mean"] = _mean(rel)
        figures[name]["gap_to_best_max"] = _max(rel)
        figures[name]["gap_to_best_common_mean"] = _mean([rel[i] for i in common])
        figures[name]["at_best"] = sum(r <= AT_BEST_TOL for r in rel)
        figures[name]["gap_to_best_by_family"] = {
            f: _mean([r for r, inst in zip(rel, instances, strict=True) if inst.family == f])
            for f in families
        }
    return {"engines": figures, "common_instances": len(common), "per_instance": per_instance}


def best_engine(figures: dict[str, Any]) -> str:
    """Return the engine with the smallest mean gap to the best (then fewer infeasible, ...)."""

    def key(name: str) -> tuple[float, int, float]:
        f = figures[name]
        gap10 = f["gap_to_10x_mean"]
        return (
            f["gap_to_best_mean"],
            f["infeasible"] + f["refused"],
            1.0 if gap10 is None else gap10,
        )

    return min(figures, key=key)


def variation_figures(
    instances: Sequence[Instance],
    solve: Solve,
    *,
    day: dt.date,
    days: int,
    time_limit_s: float,
    max_loss: float,
) -> dict[str, Any]:
    """Solve each instance on ``days`` consecutive days with variation; loss and overlap."""
    t = time_limit_s
    params = VariationParams(max_value_loss=max_loss)
    losses: list[float] = []
    overlaps: list[float] = []
    plain: list[float] = []
    for inst in instances:
        p = inst.problem
        previous: set[str] = set()
        prev_sol: Solution | None = None
        base0, again = attempt(solve, p, t), attempt(solve, p, t)
        if base0 is None or again is None:
            continue
        plain.append(solution_overlap(p, base0, again)["overlap"])
        for k in range(days):
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
    return {
        "max_value_loss": max_loss,
        "days": days,
        "variation_loss_mean": _mean(losses),
        "variation_loss_max": _max(losses),
        "overlap_consecutive_mean": round(statistics.fmean(overlaps), 4) if overlaps else None,
        "overlap_without_variation": round(statistics.fmean(plain), 4) if plain else None,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark and print its figures; return them."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--time-limit", type=float, default=1.0, help="T, seconds per solve")
    ap.add_argument("--extract", default="shenzhen_longgang", help="OSM file name in shared/osm")
    ap.add_argument("--day", default="2026-11-30")
    ap.add_argument("--days", type=int, default=3, help="consecutive days for variation")
    ap.add_argument("--max-loss", type=float, default=0.03)
    ap.add_argument("--no-real", action="store_true", help="demo families only")
    ap.add_argument("--quick", action="store_true", help="demo-L1 in 14:00-18:00 only")
    ap.add_argument("--time-only", action="store_true", help="no solution/iteration caps")
    ap.add_argument("--no-variation", action="store_true", help="skip the variation figures")
    ap.add_argument(
        "--families", nargs="+", default=None, metavar="FAMILY", help="keep only these families"
    )
    args = ap.parse_args(argv)
    day = dt.date.fromisoformat(args.day)
    t = float(args.time_limit)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="patrol-bench-") as tmp:
        wants_real = not (args.no_real or args.quick) and (
            args.families is None or any(f.startswith("real") for f in args.families)
        )
        real = real_district(args.extract, day, tmp) if wants_real else None
        instances = instance_set(day, quick=args.quick, real=real, families=args.families, log=log)
    if not instances:
        sys.exit("patrol benchmark: no instance has both groups and hotspots")
    built_s = time.perf_counter() - started

    sites = [len(i.problem.sites) for i in instances]
    figures: dict[str, Any] = {
        "time_limit_s": t,
        "time_only": args.time_only,
        "code": code_version(),
        "day": day.isoformat(),
        "extract": None if real is None else args.extract,
        "instances": len(instances),
        "families": {
            f: sum(i.family == f for i in instances)
            for f in dict.fromkeys(i.family for i in instances)
        },
        "sites_mean": round(statistics.fmean(sites), 1),
        "sites_max": max(sites),
        "vehicles_mean": round(statistics.fmean(len(i.problem.vehicles) for i in instances), 2),
        "instance_sizes": [i.describe() for i in instances],
        "build_s": round(built_s, 1),
    }
    solvers = engine_solvers(time_only=args.time_only)
    compared = compare_engines(instances, solvers, t, log=log)
    figures["engines"] = compared["engines"]
    figures["best_engine_at_T"] = best_engine(compared["engines"])
    figures["common_instances"] = compared["common_instances"]
    if args.no_variation:
        figures["variation"] = None
    else:
        figures["variation"] = {
            "engine": DEFAULT_ENGINE,
            **variation_figures(
                instances,
                solvers[DEFAULT_ENGINE],
                day=day,
                days=args.days,
                time_limit_s=t,
                max_loss=args.max_loss,
            ),
        }
    figures["per_instance"] = compared["per_instance"]
    figures["load_avg_1min"] = round(os.getloadavg()[0], 2)
    figures["total_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
