"""The bureau's day: a whole district at real staffing, planned as ``patrol plan`` plans it.

Protocol
--------
Districts
    Real OSM extracts from ``$PATROL_SHARED_DIR/data/osm/`` (default ``../shared``):
    ``shanghai_center`` and ``shenzhen_longgang`` by default, any other with ``--extract NAME``
    (repeatable). Each is imported with the public importer
    (``optimizer.importer.import_district``) into a temporary folder: automatic grids 2 / 13 /
    91, a synthetic incident history (seed 0), the bureau-scale synthetic roster of
    ``optimizer.synthetic.roster`` (302 officers on three shifts at 4 stations, 690
    volunteers in 15 teams with home cells, 24 school gates and hospital posts), time zone
    Asia/Shanghai. Import time is not counted.
Plan
    ``optimizer.plan.day.plan_day`` on the level-3 cells, the default windows 07:00-11:00,
    14:00-18:00, 19:00-23:00 of ``--day`` (default Monday 2026-11-30, a school day), seed 0,
    the default ``PlanParams`` (deterministic work budget ``budget_s``) and ``--workers``
    local worker processes (default 2). Wall time is measured around ``plan_day`` alone (build,
    solve, assemble; the pool's start-up included), as a user waits for it.
Reference
    The same plan with 10 x the budget (``--reference-factor``); ``value_ratio`` = value covered
    by the default plan / value covered by the reference (target >= 0.98). ``--no-reference``
    skips it.
Figures per district
    ``wall_s`` (target <= 120 on 2 cores), ``value_covered`` and ``value_ratio``; per window:
    cells with demand, cells patrolled, posts required and staffed, officers on shift and
    unused (idle) with their reasons; ``artefacts``: left-out reasons quoting more minutes than
    a day or routes longer than their window (target 0); ``no_path``: sites left out for
    having no street path (real, not artefacts); ``peak_rss_mb`` of the planning process and
    of the largest worker; ``time_cap_bound``: problems whose wall-clock safety cap bound
    (then the plan may depend on load; target 0).
Scaling
    With ``--scaling``: the first district re-imported with 9, 30 and 91 level-3 cells (grids
    1/3/9, 2/6/30, 2/13/91; roster scaled with the cells, ``RosterScale.for_cells``) and
    planned with 1 and 2 workers: wall time and solve jobs per cell count.
Command
    ``python benchmarks/district_day.py [--workers 2] [--no-reference] [--scaling]
    [--extract beijing_haidian_thu] [--day 2026-11-30]``
Output
    Progress on stderr; the last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optimizer.district import District  # noqa: E402
from optimizer.plan.day import plan_day  # noqa: E402
from optimizer.plan.params import PlanParams  # noqa: E402
from optimizer.plan.types import DayPlan  # noqa: E402

DEFAULT_EXTRACTS = ("shanghai_center", "shenzhen_longgang")
SCALING_LEVELS = ((1, 3, 9), (2, 6, 30), (2, 13, 91))
WALL_TARGET_S = 120.0
VALUE_TARGET = 0.98


def shared_dir() -> Path:
    """Return ``$PATROL_SHARED_DIR`` or ``../shared`` next to the repo."""
    env = os.environ.get("PATROL_SHARED_DIR")
    return Path(env) if env else ROOT.parent / "shared"


def log(message: str) -> None:
    """Print a progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


def import_extract(extract: str, folder: Path, levels: tuple[int, ...]) -> District:
    """Import ``extract`` with automatic grids ``levels`` and the default synthetic roster."""
    from optimizer.importer import import_district

    path = shared_dir() / "data" / "osm" / f"{extract}.osm"
    if not path.is_file():
        sys.exit(f"district_day benchmark: {path} not found; set PATROL_SHARED_DIR")
    result = import_district(
        f"{extract}-{levels[-1]}",
        path,
        data_dir=folder,
        auto=levels,
        synthetic_incidents=True,
        timezone="Asia/Shanghai",
        seed=0,
        check_grid_graphs=False,
    )
    return result.district


def timed_plan(
    district: District, day: dt.date, params: PlanParams, workers: int
) -> tuple[DayPlan, float]:
    """Plan the day on the finest cells; return the plan and the wall time."""
    started = time.perf_counter()
    plan = plan_day(district, day=day, grid_level=3, params=params, workers=workers, seed=0)
    return plan, time.perf_counter() - started


def artefacts(plan: DayPlan) -> int:
    """Left-out reasons quoting more minutes than a day, and routes longer than their window."""
    count = 0
    for wp in plan.windows:
        for lo in wp.left_out:
            count += any(int(m) > 24 * 60 for m in re.findall(r"(\d+) min", lo.reason))
        count += sum(1 for r in wp.routes if r.patrol_min > wp.window.minutes + 1e-6)
    return count


def window_figures(plan: DayPlan) -> list[dict[str, Any]]:
    """Per window: cells, posts and officers."""
    out = []
    for ws in plan.staffing:
        label = ws.window.label()
        wps = [wp for wp in plan.windows if wp.window == ws.window]
        required = sum(int(wp.metrics.get("posts_required", 0)) for wp in wps)
        staffed = sum(int(wp.metrics.get("posts_staffed", 0)) for wp in wps)
        reasons: dict[str, int] = {}
        for u in ws.unassigned:
            if u.role == "officer" and u.code != "unavailable":
                reasons[u.code] = reasons.get(u.code, 0) + 1
        out.append(
            {
                "window": label,
                "cells_with_demand": int(ws.counts.get("cells_with_demand", 0)),
                "cells_patrolled": sum(1 for wp in wps if wp.routes),
                "posts_required": required,
                "posts_staffed": staffed,
                "officers_on_shift": int(ws.counts.get("officers_on_shift", 0)),
                "officers_unused": int(ws.counts.get("officers_unused", 0)),
                "unused_reasons": reasons,
                "groups": int(ws.counts.get("groups", 0)),
                "police_only_groups": int(ws.counts.get("police_only_groups", 0)),
                "volunteers_in_groups": int(ws.counts.get("volunteers_in_groups", 0)),
            }
        )
    return out


def peak_rss_mb() -> dict[str, float]:
    """Peak resident memory of this process and of its largest finished child (MB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"planner": round(own, 1), "largest_worker": round(child, 1)}


def district_figures(
    district: District, day: dt.date, workers: int, reference_factor: float | None
) -> dict[str, Any]:
    """Plan the district's day (and its reference); return its figures."""
    params = PlanParams()
    plan, wall = timed_plan(district, day, params, workers)
    figures: dict[str, Any] = {
        "district": district.name,
        "cells": int((district.grids["level"] == 3).sum()),
        "officers": len(district.resources.officers),
        "volunteers": len(district.resources.volunteers),
        "budget_s": params.budget_s,
        "workers": workers,
        "wall_s": round(wall, 1),
        "value_covered": round(plan.metrics["value_covered"], 6),
        "coverage": plan.metrics["coverage"],
        "visits": int(plan.metrics["visits"]),
        "km": plan.metrics["km"],
        "windows": window_figures(plan),
        "artefacts": artefacts(plan),
        "no_path": sum(1 for wp in plan.windows for lo in wp.left_out if "no_path" in lo.reason),
        "time_cap_bound": int(plan.metrics.get("time_cap_bound", 0)),
        "solve_jobs": sum(1 for wp in plan.windows if "solver_runtime_s" in wp.metrics),
        "peak_rss_mb": peak_rss_mb(),
    }
    log(f"{district.name}: {figures['wall_s']} s, value {figures['value_covered']}")
    if reference_factor:
        ref_params = PlanParams(budget_s=params.budget_s * reference_factor)
        reference, ref_wall = timed_plan(district, day, ref_params, workers)
        ratio = plan.metrics["value_covered"] / max(1e-12, reference.metrics["value_covered"])
        figures["reference"] = {
            "budget_s": ref_params.budget_s,
            "wall_s": round(ref_wall, 1),
            "value_covered": round(reference.metrics["value_covered"], 6),
        }
        figures["value_ratio"] = round(ratio, 4)
        log(f"{district.name}: reference {round(ref_wall, 1)} s, value ratio {ratio:.4f}")
    return figures


def scaling(extract: str, day: dt.date, folder: Path) -> list[dict[str, Any]]:
    """Wall time for 9, 30 and 91 cells with 1 and 2 workers."""
    rows = []
    for levels in SCALING_LEVELS:
        district = import_extract(extract, folder, levels)
        for workers in (1, 2):
            plan, wall = timed_plan(district, day, PlanParams(), workers)
            jobs = sum(1 for wp in plan.windows if "solver_runtime_s" in wp.metrics)
            rows.append(
                {
                    "cells": levels[-1],
                    "officers": len(district.resources.officers),
                    "workers": workers,
                    "wall_s": round(wall, 1),
                    "solve_jobs": jobs,
                    "s_per_job": round(wall / max(1, jobs), 3),
                }
            )
            log(f"scaling {extract}: {rows[-1]}")
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print one JSON object last."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--extract", action="append", default=None, help="OSM extract name")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--day", default="2026-11-30")
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument("--reference-factor", type=float, default=10.0)
    ap.add_argument("--scaling", action="store_true")
    args = ap.parse_args(argv)
    day = dt.date.fromisoformat(args.day)
    extracts = args.extract or list(DEFAULT_EXTRACTS)
    load = os.getloadavg()[0]
    out: dict[str, Any] = {"benchmark": "district_day", "day": day.isoformat(), "load_1m": load}
    with tempfile.TemporaryDirectory(prefix="district-day-") as tmp:
        folder = Path(tmp)
        results = []
        for extract in extracts:
            district = import_extract(extract, folder, (2, 13, 91))
            factor = None if args.no_reference else args.reference_factor
            results.append(district_figures(district, day, args.workers, factor))
        out["districts"] = results
        if args.scaling:
            out["scaling"] = scaling(extracts[0], day, folder)
    out["load_1m_end"] = os.getloadavg()[0]
    out["targets"] = {
        "wall_s_max": WALL_TARGET_S,
        "value_ratio_min": VALUE_TARGET,
        "met": all(
            r["wall_s"] <= WALL_TARGET_S
            and r.get("value_ratio", 1.0) >= VALUE_TARGET
            and r["artefacts"] == 0
            for r in out["districts"]
        ),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
