"""Effectiveness backtest: do the plans cover more of the next incidents than the beats of today?

Protocol
--------
Data
    ``--city sf`` (default): ``$PATROL_SHARED_DIR/data/incidents/sf_2012_q3.csv`` (SF police
    incidents 2012-07-01 to 09-30, **date only**) on ``SanFranciscoFiltered.osm``. The streets
    are imported with the public importer (``optimizer.importer.import_district``, automatic
    grids ``--grids`` (default 1,3,9; the 9 cells of about 3 km² are planned), the
    synthetic roster at the bureau's ratios for that many cells (``--officers``,
    ``--volunteers``, ``--teams`` override), seed 0, time zone America/Los_Angeles) into a temporary
    folder; the incidents are read and snapped by ``optimizer.risk.incidents.read_incidents``
    (columns ``incident_num`` -> id, ``date`` -> time; duplicate ids dropped). September is
    held out: the test days are drawn from 2012-09-01 to 09-30. ``--city demo``: the embedded demo
    (Helsinki streets, synthetic roster, seeded synthetic incidents **with times**, fixed period
    2026-06-01 to 11-28); the test days are drawn from its last four weeks.
Days
    ``--days N`` test days spread evenly over the held-out period (default 3; ``--days 0``:
    every day). Each day is planned and scored on its own
    (``optimizer.evaluate.effectiveness.backtest.effectiveness_backtest``): the district gets
    only the incidents **before** the day (local midnight); the plans of the day are made from
    them (forecast, hotspots, groups, routes; the default windows 07:00-11:00, 14:00-18:00,
    19:00-23:00, or each ``--window``, on the ``--grid-level`` cells, deterministic work
    budget ``--budget`` seconds per cell problem, hotspots cut in the cells of
    ``--hotspot-level`` where given, seed ``--seed``). The run checks that no
    day's plans were given an incident of that day or later.
Strategies (equal patrol hours)
    ``service`` (the plans); ``beat_loop`` (each cell's streets in one fixed loop from its muster
    point, the cell's groups spread along it: how patrols run today); ``random`` (random streets
    of the cell); ``greedy_hotspot`` (nearest not yet patrolled forecast hotspot, its dwell on its
    streets); ``service_uniform`` (the service with uniform risk per metre in each cell instead
    of the forecast, the cells' totals kept). The baselines get exactly the service's groups
    (cell, mode, start, minutes on the streets); the uniform plan forms its own groups from
    the same cell totals. Hours per strategy and their ratio to the service's are reported.
Hours
    The equal hours are those of the service's own plan of the day from the district's roster:
    for SF the synthetic roster at the bureau's ratios per finest cell (9 cells: 30 officers,
    68 volunteers, about 110 group-hours a day over three windows), or the counts given by
    ``--officers`` / ``--volunteers`` / ``--teams``. ``street_km`` (the planned cells' street
    length) and each strategy's ``street_share_per_window`` (distinct street length patrolled
    per window / ``street_km``) are reported so that a reader sees how far the hours saturate
    the streets: where a beat loop passes most streets every window, and a date-only incident
    counts against the whole day, no strategy can reach 1.5 x its share. The scarce-hours run
    (``--officers 9 --volunteers 20 --teams 5``: three groups a window) was fixed on July-August
    validation days, never on September.
Measures
    ``share``: held-out incidents on or within 50 m of a street segment patrolled in the
    incident's window (its day where the data has dates only: the SF file has a date and no
    time of day, so an SF incident counts against the segments of all three windows of its
    day) / incidents counted (date-only: all of the day; timed: those inside a window), pooled
    over the days; a 95 % interval of the daily share across days (Student t).
    ``risk_minutes``: minutes on each segment times the held-out incidents on it over the days
    evaluated (the risk that realised).
    ``reach@3min`` / ``reach@5min``: share of the planned cells' patrollable street length
    within 3 / 5 minutes (the group's mode) of a group, at ``--moments`` random moments per
    window (the same moments for every strategy).
Bounds
    How far any patrol of the beat loop's street length could go
    (``optimizer.evaluate.effectiveness.bounds``): the beat loop's distinct street length (per
    window; per day for date-only incidents) spent on the planned cells' best streets, with no
    cost for connecting them, ranked by the day's forecast (``forecast``), by all earlier
    incidents per metre (``counts``) and by the day's incidents themselves (``hindsight``).
    When the ``forecast`` bound is below 1.5 x the beat loop's share, no route planned from
    the forecast reaches the target at those hours.
Target
    service ``share`` >= 1.5 x the beat loop's at equal hours, and ahead of every other strategy.
Command
    ``python benchmarks/effectiveness.py [--city sf|demo] [--days 3] [--budget 0.2]``; progress
    on stderr, tables on stdout, the last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optimizer.district import District  # noqa: E402
from optimizer.evaluate.effectiveness.backtest import (  # noqa: E402
    BEAT_LOOP,
    SERVICE,
    EffectivenessParams,
    effectiveness_backtest,
    local_times,
)
from optimizer.evaluate.effectiveness.strategies import cell_segments  # noqa: E402
from optimizer.plan.cells import planning_grid_ids  # noqa: E402
from optimizer.plan.params import PlanParams  # noqa: E402
from optimizer.risk.hotspots import HotspotParams  # noqa: E402
from optimizer.risk.incidents import street_segments  # noqa: E402

SF_TZ = "America/Los_Angeles"
SF_HELD_OUT = (dt.date(2012, 9, 1), dt.date(2012, 9, 30))
DEMO_PERIOD = (dt.date(2026, 6, 1), dt.date(2026, 11, 28))
"""The demo's synthetic history (fixed, so the figures do not move with the day of the run)."""
TARGET_RATIO = 1.5
HOURS_TOLERANCE = 0.02


def log(message: str) -> None:
    """Print a progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


def shared_dir() -> Path:
    """Return ``$PATROL_SHARED_DIR`` or ``../shared`` next to the repository."""
    env = os.environ.get("PATROL_SHARED_DIR")
    path = Path(env) if env else ROOT.parent / "shared"
    if not path.is_dir():
        sys.exit(f"benchmarks/effectiveness.py: {path} is absent (set PATROL_SHARED_DIR)")
    return path


def load_sf(folder: Path, grids: str, roster: dict[str, int]) -> tuple[District, pd.DataFrame, str]:
    """Import the SF streets (synthetic roster, ``roster`` counts overriding) and incidents."""
    from optimizer.importer import import_district
    from optimizer.risk.incidents import read_incidents

    shared = shared_dir()
    osm = shared / "data" / "osm" / "SanFranciscoFiltered.osm"
    csv = shared / "data" / "incidents" / "sf_2012_q3.csv"
    for path in (osm, csv):
        if not path.is_file():
            sys.exit(f"benchmarks/effectiveness.py: {path} is absent")
    district = import_district(
        "sf",
        osm,
        data_dir=folder,
        auto=grids,
        timezone=SF_TZ,
        roster=roster or None,
        seed=0,
        check_grid_graphs=False,
    ).district
    intake = read_incidents(
        csv,
        columns={"incident_id": "incident_num", "occurred_at": "date"},
        tz=SF_TZ,
        graph=district.graph,
    )
    inc = intake.incidents
    log(f"sf: {len(inc)} incidents snapped, {len(intake.problems)} problems")
    return district, inc, f"{csv.name} on {osm.name}"


def load_demo() -> tuple[District, pd.DataFrame, str]:
    """The embedded demo's streets, grids and roster, with its history on a fixed period."""
    from optimizer.synthetic import demo

    district = demo.synthetic_district(
        demo.DEMO_NAME,
        demo.demo_graph(),
        seed=demo.DEMO_SEED,
        metadata={"timezone": "Europe/Helsinki"},
        period=DEMO_PERIOD,
    )
    assert district.incidents is not None
    return district, district.incidents, "demo (Helsinki streets, synthetic incidents)"


def held_out_days(first: dt.date, last: dt.date, n: int) -> list[dt.date]:
    """Return ``n`` days spread evenly from ``first`` to ``last`` (all of them for n = 0)."""
    span = (last - first).days + 1
    if n <= 0 or n >= span:
        return [first + dt.timedelta(days=i) for i in range(span)]
    return [first + dt.timedelta(days=round(i * (span - 1) / max(1, n - 1))) for i in range(n)]


def main(argv: list[str] | None = None) -> int:
    """Run the backtest; print one JSON object last."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--city", choices=("sf", "demo"), default="sf")
    ap.add_argument("--days", type=int, default=3, help="test days (0: every held-out day)")
    ap.add_argument("--start", default=None, help="first held-out day (default per city)")
    ap.add_argument("--end", default=None, help="last held-out day (default per city)")
    ap.add_argument("--grids", default="1,3,9", help="automatic grids of the SF import")
    ap.add_argument("--officers", type=int, default=None, help="SF roster: officers")
    ap.add_argument("--volunteers", type=int, default=None, help="SF roster: volunteers")
    ap.add_argument("--teams", type=int, default=None, help="SF roster: volunteer teams")
    ap.add_argument("--grid-level", type=int, default=None, help="grid level planned")
    ap.add_argument("--budget", type=float, default=0.2, help="work budget per cell problem")
    ap.add_argument(
        "--hotspot-level", type=int, default=None, help="cut hotspots in the cells of this level"
    )
    ap.add_argument(
        "--hotspots-per-cell", type=int, default=None, help="most hotspots per cell and window"
    )
    ap.add_argument(
        "--hotspot-length", type=float, default=None, help="street metres of one hotspot"
    )
    ap.add_argument(
        "--hotspot-min-share",
        type=float,
        default=None,
        help="keep a cell's hotspot worth at least this share of its best",
    )
    ap.add_argument(
        "--hotspot-dwell",
        default=None,
        help="dwell range of the hotspots in minutes, MIN-MAX (default 10-16)",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--moments", type=int, default=4, help="random moments per window")
    ap.add_argument(
        "--window", action="append", default=None, help="window planned (repeatable; default 3)"
    )
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="effectiveness-") as tmp:
        if args.city == "sf":
            counts = {"officers": args.officers, "volunteers": args.volunteers, "teams": args.teams}
            roster = {k: v for k, v in counts.items() if v is not None}
            district, inc, described = load_sf(Path(tmp), args.grids, roster)
            first, last = SF_HELD_OUT
            level = 3 if args.grid_level is None else args.grid_level
        else:
            district, inc, described = load_demo()
            tz = str(district.metadata["timezone"])
            last = local_times(inc, tz).max().date()
            first = last - dt.timedelta(days=27)
            level = args.grid_level
        first = dt.date.fromisoformat(args.start) if args.start else first
        last = dt.date.fromisoformat(args.end) if args.end else last
        days = held_out_days(first, last, args.days)
        windows = tuple(args.window) if args.window else EffectivenessParams().windows
        cut = {
            "max_per_grid": args.hotspots_per_cell,
            "max_length_m": args.hotspot_length,
            "min_share": args.hotspot_min_share,
        }
        if args.hotspot_dwell:
            low, high = (int(m) for m in args.hotspot_dwell.split("-"))
            cut.update(min_dwell_min=low, max_dwell_min=high)
        hotspot_params = HotspotParams(**{k: v for k, v in cut.items() if v is not None})
        params = EffectivenessParams(
            windows=windows,
            grid_level=level,
            plan=PlanParams(
                budget_s=args.budget, hotspot_level=args.hotspot_level, hotspots=hotspot_params
            ),
            seed=args.seed,
            moments_per_window=args.moments,
            workers=args.workers,
        )
        log(f"{described}: {len(days)} test days {[d.isoformat() for d in days]}")
        result = effectiveness_backtest(district, inc, days, params=params, progress=log)
    tz = str(district.metadata.get("timezone"))
    for label, end in result.history_end.items():
        if end and pd.Timestamp(end) >= pd.Timestamp(label).tz_localize(tz):
            sys.exit(f"benchmarks/effectiveness.py: day {label} was planned with {end}")
    summary = result.summary()
    cell_ids = planning_grid_ids(district, level=level)
    length = street_segments(district.graph)["length"].to_numpy(dtype=float)
    street_km = sum(float(length[i].sum()) for i in cell_segments(district, cell_ids).values())
    street_km /= 1000.0
    windows_run = summary["days"] * len(params.windows)
    summary["street_share_per_window"] = summary["patrolled_km"] / windows_run / street_km
    pd.set_option("display.width", 200)
    print("\nper day:")
    print(result.days.to_string(float_format=lambda v: f"{v:8.3f}"))
    print("\nsummary (equal hours; share = covered / incidents over all days):")
    print(summary.to_string(float_format=lambda v: f"{v:8.3f}"))
    bounds = result.bounds_summary()
    print("\nbounds (the beat loop's street length on the best streets, unconnected):")
    print(bounds.to_string(float_format=lambda v: f"{v:8.3f}"))
    ratio = float(summary.loc[SERVICE, "share_vs_beat_loop"])
    others = summary.drop(index=SERVICE)["share"]
    ahead = bool((summary.loc[SERVICE, "share"] > others).all())
    hours_equal = bool((summary["hours_ratio"] - 1).abs().max() <= HOURS_TOLERANCE)
    figures: dict[str, Any] = {
        "benchmark": "effectiveness",
        "data": described,
        "days": [d.isoformat() for d in days],
        "windows": list(params.windows),
        "grid_level": level,
        "cells": len(cell_ids),
        "street_km": round(street_km, 1),
        "officers": len(district.resources.officers),
        "volunteers": len(district.resources.volunteers),
        "budget_s": args.budget,
        "hotspot_level": args.hotspot_level,
        "seed": args.seed,
        "history_end": result.history_end,
        "strategies": {
            str(name): {
                k: (round(float(v), 4) if isinstance(v, float) else int(v))
                for k, v in row.items()
                if pd.notna(v)
            }
            for name, row in summary.iterrows()
        },
        "bounds": {
            str(name): {k: round(float(v), 4) for k, v in row.items()}
            for name, row in bounds.iterrows()
        },
        "service_vs_beat_loop": round(ratio, 4),
        "service_ahead_of_all": ahead,
        "hours_equal_within_2pct": hours_equal,
        "target_met": bool(ratio >= TARGET_RATIO and ahead and hours_equal),
        "wall_s": round(time.perf_counter() - started, 1),
        "load_1m": os.getloadavg()[0],
    }
    print(
        f"\nservice share {summary.loc[SERVICE, 'share']:.3f} = {ratio:.3f} x beat loop "
        f"({summary.loc[BEAT_LOOP, 'share']:.3f}; target {TARGET_RATIO}); ahead of all: {ahead}"
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
