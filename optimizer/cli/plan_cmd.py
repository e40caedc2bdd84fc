"""``patrol plan``: plan a day of joint patrols and write the plan folder.

With no arguments it plans tomorrow's default windows for the embedded demo district into
``./out/plan-<date>``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any

from optimizer.district import District
from optimizer.engines.base import DEFAULT_ENGINE
from optimizer.engines.base import ENGINE_NAMES as ENGINES
from optimizer.errors import InputError
from optimizer.plan.params import PlanParams
from optimizer.timewindow import DEFAULT_WINDOWS, TimeWindow


def register(subparsers: Any) -> None:
    """Add the ``plan`` command to the ``patrol`` parser."""
    p = subparsers.add_parser(
        "plan",
        help="plan a day's patrol routes and write a plan folder",
        description="Plan joint police / volunteer patrols for one day: hotspots -> groups -> "
        "routes, window by window and grid by grid. Writes routes.geojson, schedule.csv/.xlsx, "
        "one GPX per group, a PNG map per window and plan.json.",
    )
    p.add_argument(
        "--district",
        default="demo",
        help="prepared district name under data/grids (default: demo, built on first use)",
    )
    p.add_argument(
        "--date",
        default="tomorrow",
        help="day to plan: YYYY-MM-DD, 'today' or 'tomorrow' (default: tomorrow)",
    )
    p.add_argument(
        "--window",
        action="append",
        default=None,
        metavar="HH:MM-HH:MM",
        help="time window, repeatable; may cross midnight (default: "
        + ", ".join(w.label() for w in DEFAULT_WINDOWS)
        + ")",
    )
    p.add_argument(
        "--grid",
        action="append",
        default=None,
        metavar="GRID_ID",
        help="grid id to plan, repeatable (default: every cell of --grid-level)",
    )
    p.add_argument(
        "--grid-level",
        default=None,
        metavar="N",
        help="grid level planned when no --grid is given (default: 2)",
    )
    p.add_argument("--out", default=None, help="output folder (default: ./out/plan-<date>)")
    p.add_argument("--seed", default="0", help="random seed (default: 0)")
    p.add_argument(
        "--budget",
        "--time-limit",
        dest="budget",
        default=None,
        metavar="SECONDS",
        help="search budget per cell and window, in seconds of the reference machine, turned "
        f"into a fixed amount of work so the same seed gives the same plan (default: "
        f"{PlanParams().budget_s:g}; --time-limit is the old name)",
    )
    p.add_argument(
        "--time-cap",
        default=None,
        metavar="SECONDS",
        help="wall-clock safety cap per cell and window (default: 20 x its budget, >= 10 s); "
        "the plan says where it bound",
    )
    p.add_argument(
        "--workers",
        default=None,
        metavar="N",
        help="solve cells in N processes at once; the plan does not depend on it "
        "(default: the machine's cores, at most 8)",
    )
    p.add_argument(
        "--engine",
        default=None,
        help=f"routing engine: {', '.join(ENGINES)} (default: {DEFAULT_ENGINE})",
    )
    p.add_argument(
        "--vary",
        action="store_true",
        help="vary routes from day to day (seeded by the date) within 3%% of the best value",
    )
    p.add_argument("--html", action="store_true", help="also write an interactive map.html")
    p.add_argument("--no-maps", action="store_true", help="skip the PNG maps")
    p.add_argument(
        "--details", action="store_true", help="also print every group's stops with their times"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    p.set_defaults(func=run)


def parse_date(text: str, *, today: dt.date | None = None) -> dt.date:
    """Parse ``--date``: ``YYYY-MM-DD``, ``today`` or ``tomorrow``."""
    base = today or dt.date.today()
    value = str(text).strip().lower()
    if value == "today":
        return base
    if value == "tomorrow":
        return base + dt.timedelta(days=1)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError("--date", text, "a date YYYY-MM-DD, 'today' or 'tomorrow'") from None


def _int_option(name: str, text: str, lo: int, hi: int | None = None) -> int:
    try:
        value = int(str(text))
    except ValueError:
        value = None
    if value is None or value < lo or (hi is not None and value > hi):
        accepted = f"an integer >= {lo}" if hi is None else f"an integer from {lo} to {hi}"
        raise InputError(name, text, accepted)
    return value


def _seconds(name: str, text: str, high: float) -> float:
    try:
        value = float(str(text))
    except ValueError:
        value = float("nan")
    if not 0 < value <= high:
        raise InputError(name, text, f"a number of seconds in (0, {high:g}]")
    return value


def load_named_district(name: str) -> District:
    """Load a prepared district by name (``demo`` is built on first use)."""
    if name == "demo":
        from optimizer.synthetic.demo import load_demo

        return load_demo()
    from optimizer import storage

    try:
        district: District = storage.load_district(name)
    except (FileNotFoundError, KeyError, LookupError) as exc:
        raise InputError("--district", name, f"a prepared district name ({exc})") from None
    except InputError as exc:
        raise InputError("--district", name, exc.accepted) from None
    return district


def run(args: argparse.Namespace) -> int:
    """Run ``patrol plan``; return the exit code."""
    from rich.console import Console

    from optimizer.outputs.export import write_plan
    from optimizer.plan.day import plan_day

    windows = [TimeWindow.parse(w, field="--window") for w in (args.window or [])] or list(
        DEFAULT_WINDOWS
    )
    day = parse_date(args.date)
    seed = _int_option("--seed", args.seed, 0)
    budget = (
        PlanParams().budget_s if args.budget is None else _seconds("--budget", args.budget, 600)
    )
    time_cap = None if args.time_cap is None else _seconds("--time-cap", args.time_cap, 3600)
    default_workers = str(min(8, os.cpu_count() or 1))
    workers = _int_option("--workers", args.workers or default_workers, 1, 64)
    grid_level = (
        None if args.grid_level is None else _int_option("--grid-level", args.grid_level, 1, 9)
    )
    engine = args.engine or DEFAULT_ENGINE
    if engine not in ENGINES:
        raise InputError("--engine", engine, f"one of {list(ENGINES)}")
    variation = None
    if args.vary:
        from optimizer.plan.variation import VariationParams

        variation = VariationParams()
    out = Path(args.out) if args.out else Path("out") / f"plan-{day.isoformat()}"
    console = Console(stderr=True, quiet=bool(args.quiet))
    stdout = Console(quiet=bool(args.quiet))
    if not stdout.is_terminal:
        stdout = Console(quiet=bool(args.quiet), width=120)  # files and pipes: no squeezed columns

    t0 = time.perf_counter()
    with console.status(f"loading district {args.district!r} ..."):
        district = load_named_district(args.district)
    if args.grid:
        known = set(map(str, district.grids.index))
        for i, g in enumerate(args.grid):
            if g not in known:
                raise InputError(
                    f"--grid[{i}]", g, f"a grid id of {args.district!r}: {sorted(known)}"
                )

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]planning[/bold]"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def progress(done: int, total: int, message: str) -> None:
            bar.update(task, completed=done, total=total, description=message)

        plan = plan_day(
            district,
            day=day,
            windows=windows,
            grid_ids=args.grid,
            grid_level=grid_level,
            params=PlanParams(
                engine=engine, budget_s=budget, time_cap_s=time_cap, variation=variation
            ),
            seed=seed,
            progress=progress,
            workers=workers,
        )
    with console.status("writing plan folder ..."):
        write_plan(plan, out, district, html=bool(args.html), maps=not args.no_maps)
    elapsed = time.perf_counter() - t0
    if args.details:
        print_details(plan, district, stdout)
    print_summary(plan, out, elapsed, stdout)
    return 0


def print_details(plan: Any, district: District, console: Any = None) -> None:
    """Print one table per group route: its members and every stop with arrival and departure."""
    from rich.console import Console
    from rich.table import Table

    from optimizer.outputs.export import member_names

    console = console or Console()
    names = member_names(district)
    for wp in plan.windows:
        for route in wp.routes:
            g = route.group
            people = ", ".join(names.get(m, m) for m in g.members)
            table = Table(
                title=f"{wp.window.label()} {wp.grid_id} — {g.id} ({g.mode}): {people}",
                title_justify="left",
            )
            for col in ("#", "arrive", "wait", "leave", "place", "purpose"):
                table.add_column(col)
            for s in route.stops:
                wait = f"{s.wait_min:.0f} min" if s.wait_min >= 1 else ""
                table.add_row(
                    str(s.sequence),
                    f"{s.arrival:%H:%M}",
                    wait,
                    f"{s.departure:%H:%M}",
                    s.name,
                    s.purpose,
                )
            console.print(table)


def print_summary(plan: Any, out: Path, elapsed_s: float, console: Any = None) -> None:
    """Print the plan's summary table (one row per window x grid) and where the files are."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    table = Table(
        title=f"Patrol plan — {plan.district}, {plan.date:%a %Y-%m-%d} (engine {plan.engine}, "
        f"seed {plan.seed})"
    )
    for col, justify in (
        ("window", "left"),
        ("grid", "left"),
        ("groups", "right"),
        ("hotspots", "right"),
        ("visits", "right"),
        ("posts", "right"),
        ("coverage", "right"),
        ("km", "right"),
        ("patrol min", "right"),
        ("left out", "right"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for wp in plan.windows:
        m = wp.metrics
        req = int(m.get("posts_required", 0))
        table.add_row(
            wp.window.label(),
            wp.grid_id,
            str(len(wp.routes)),
            str(len(wp.hotspots)),
            str(int(m.get("visits", 0))),
            f"{int(m.get('posts_staffed', 0))}/{req}",
            f"{m.get('coverage', 0.0):.0%}",
            f"{m.get('km', 0.0):.1f}",
            f"{m.get('patrol_min', 0.0):.0f}",
            str(len(wp.left_out)),
        )
    dm = plan.metrics
    table.add_section()
    table.add_row(
        "day",
        "",
        str(int(dm.get("groups", 0))),
        "",
        str(int(dm.get("visits", 0))),
        f"{int(dm.get('posts_staffed', 0))}/{int(dm.get('posts_required', 0))}",
        f"{dm.get('coverage', 0.0):.0%}",
        f"{dm.get('km', 0.0):.1f}",
        f"{dm.get('patrol_min', 0.0):.0f}",
        str(int(dm.get("left_out", 0))),
    )
    console.print(table)
    console.print(
        f"plan folder: {out}  (routes.geojson, schedule.csv, schedule.xlsx, gpx/, map-*.png, "
        f"plan.json) in {elapsed_s:.1f} s"
    )


if __name__ == "__main__":  # pragma: no cover
    from optimizer.cli import main

    sys.exit(main(["plan", *sys.argv[1:]]))
