"""``patrol plan``: plan a day of joint patrols and write the plan folder.

With no arguments it plans tomorrow's default windows for the embedded demo district into
``./out/plan-<date>``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from optimizer.district import District
from optimizer.engines.base import DEFAULT_ENGINE
from optimizer.engines.base import ENGINE_NAMES as ENGINES
from optimizer.errors import InputError
from optimizer.plan.build import HotspotAdjustment, ProgressCallback
from optimizer.plan.params import PlanParams
from optimizer.plan.types import DayPlan
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
    # --- cluster (issue 15): where the cell problems are solved
    p.add_argument(
        "--executor",
        default="local",
        choices=("local", "dask"),
        help="solve the cell problems in local processes (--workers) or on a Dask cluster "
        "(--scheduler); the plan does not depend on it (default: local)",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:PORT",
        help="Dask scheduler for --executor dask (default: $PATROL_DASK_SCHEDULER)",
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
    p.add_argument(
        "--deficits",
        action="append",
        metavar="FILE",
        help="deficits.json of `patrol tracks import` (repeatable): hotspots under-served on "
        "earlier days weigh more, halving each day; the plan's notes say which",
    )
    p.add_argument(
        "--alert",
        action="append",
        metavar="FILE",
        help="alert.json of `patrol alert` (repeatable): the alerted places' risk rises in the "
        "windows the alert runs",
    )
    p.add_argument(
        "--clues",
        action="append",
        metavar="FILE",
        help="reports.json of `patrol reports import` (repeatable): recent clues raise the "
        "hotspots near them by --clue-weight",
    )
    p.add_argument(
        "--clue-weight",
        default="0",
        metavar="W",
        help="weight of the clue signal, as `patrol reports backtest` chose it (default 0)",
    )
    p.add_argument("--html", action="store_true", help="also write an interactive map.html")
    p.add_argument("--no-maps", action="store_true", help="skip the PNG maps")
    p.add_argument(
        "--details", action="store_true", help="also print every group's stops with their times"
    )
    p.add_argument(
        "--by-cell",
        action="store_true",
        help="also print one row per planned cell and window (level 3 on a bureau's plan)",
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


def int_option(name: str, text: str, lo: int, hi: int | None = None) -> int:
    """Parse an integer option ``name`` in ``[lo, hi]`` (``hi`` None: no upper bound)."""
    try:
        value = int(str(text))
    except ValueError:
        value = None
    if value is None or value < lo or (hi is not None and value > hi):
        accepted = f"an integer >= {lo}" if hi is None else f"an integer from {lo} to {hi}"
        raise InputError(name, text, accepted)
    return value


def seconds_option(name: str, text: str, high: float) -> float:
    """Parse a number of seconds option ``name`` in ``(0, high]``."""
    try:
        value = float(str(text))
    except ValueError:
        value = float("nan")
    if not 0 < value <= high:
        raise InputError(name, text, f"a number of seconds in (0, {high:g}]")
    return value


def dask_scheduler(executor: str, scheduler: str | None) -> str | None:
    """Return the Dask scheduler address of ``--executor dask`` (``None`` for local)."""
    if executor != "dask":
        if scheduler is not None:
            raise InputError("--scheduler", scheduler, "no scheduler without --executor dask")
        return None
    address = scheduler or os.environ.get("PATROL_DASK_SCHEDULER", "").strip()
    if not address:
        raise InputError(
            "--scheduler",
            scheduler,
            "a Dask scheduler address tcp://HOST:PORT (or set "
            "PATROL_DASK_SCHEDULER) with --executor dask",
        )
    return address


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


def read_adjustments(
    *, deficits: Sequence[str] = (), alerts: Sequence[str] = ()
) -> list[HotspotAdjustment]:
    """Read ``--deficits`` and ``--alert`` files as the plan's hotspot adjustments."""
    from optimizer.operations.alerts import AlertRisk, alert_from_dict
    from optimizer.operations.tracks import DosageDeficit, dosage_from_dict

    def load(option: str, name: str) -> Any:
        try:
            return json.loads(Path(name).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(option, name, f"a JSON file ({exc})") from None

    out: list[HotspotAdjustment] = []
    found = []
    for name in deficits:
        data = load("--deficits", name)
        if not isinstance(data, list):
            raise InputError("--deficits", name, "a JSON list written by `patrol tracks import`")
        found += [dosage_from_dict(d, field=f"{name}[{i}]") for i, d in enumerate(data)]
    if deficits:
        out.append(DosageDeficit(tuple(found)))
    if alerts:
        out.append(AlertRisk(tuple(alert_from_dict(load("--alert", n), field=n) for n in alerts)))
    return out


@contextmanager
def progress_bar(console: Any, title: str) -> Iterator[ProgressCallback]:
    """Show a transient progress bar on ``console``; yield the callback long work reports to.

    The callback is called as ``progress(done, total, message)`` (see
    :func:`optimizer.plan.day.plan_day`).
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn(f"[bold]{title}[/bold]"),
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

        yield progress


def run(args: argparse.Namespace) -> int:
    """Run ``patrol plan``; return the exit code."""
    from rich.console import Console

    from optimizer.outputs.folder import write_plan
    from optimizer.plan.day import plan_day

    windows = [TimeWindow.parse(w, field="--window") for w in (args.window or [])] or list(
        DEFAULT_WINDOWS
    )
    day = parse_date(args.date)
    seed = int_option("--seed", args.seed, 0)
    budget = (
        PlanParams().budget_s
        if args.budget is None
        else seconds_option("--budget", args.budget, 600)
    )
    time_cap = None if args.time_cap is None else seconds_option("--time-cap", args.time_cap, 3600)
    default_workers = str(min(8, os.cpu_count() or 1))
    workers = int_option("--workers", args.workers or default_workers, 1, 64)
    grid_level = (
        None if args.grid_level is None else int_option("--grid-level", args.grid_level, 1, 9)
    )
    engine = args.engine or DEFAULT_ENGINE
    if engine not in ENGINES:
        raise InputError("--engine", engine, f"one of {list(ENGINES)}")
    variation = None
    if args.vary:
        from optimizer.plan.variation import VariationParams

        variation = VariationParams()
    scheduler = dask_scheduler(args.executor, args.scheduler)
    adjustments = read_adjustments(deficits=args.deficits or (), alerts=args.alert or ())
    if args.clues:
        from optimizer.cli.reports_cmd import load_reports
        from optimizer.operations.reports import ClueSignal

        try:
            weight = float(args.clue_weight)
        except ValueError:
            raise InputError("--clue-weight", args.clue_weight, "a number from 0 to 10") from None
        clues = [c for f in args.clues for c in load_reports(f, option="--clues")]
        adjustments.append(ClueSignal(tuple(clues), weight=weight))
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

    executor = None
    if scheduler is not None:  # closed after planning (on an error, when the process ends)
        from optimizer.plan.dask_executor import DaskExecutor

        executor = DaskExecutor(scheduler)
    with progress_bar(console, "planning") as progress:
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
            executor=executor,
            adjustments=adjustments,
        )
    if executor is not None:
        executor.close()
    with console.status("writing plan folder ..."):
        write_plan(plan, out, district, html=bool(args.html), maps=not args.no_maps)
    elapsed = time.perf_counter() - t0
    if args.details:
        print_details(plan, district, stdout)
    if args.by_cell:
        print_cells(plan, district, stdout)
    print_summary(plan, out, elapsed, stdout, district=district)
    if executor is not None:
        from optimizer.plan.dask_executor import plan_reruns

        reruns = plan_reruns(plan)
        if reruns:
            stdout.print(f"{reruns} cell problems ran again after a lost Dask worker (same plan)")
    return 0


def print_details(plan: DayPlan, district: District | None, console: Any = None) -> None:
    """Print one table per group route, by window and cell: members, stops, arrival, departure."""
    from rich.console import Console
    from rich.table import Table

    from optimizer.outputs.cells import CellIndex, routes_in_order
    from optimizer.outputs.schedule import member_names
    from optimizer.outputs.times import clock, timezone_note

    console = console or Console()
    names = member_names(district)
    cells = CellIndex.from_district(district)
    console.print(f"[italic]{timezone_note(plan)}[/italic]")
    for wp, route in routes_in_order(plan, cells):
        g = route.group
        people = ", ".join(names.get(m, m) for m in g.members)
        where = " › ".join(cells.ancestors(wp.grid_id))
        table = Table(
            title=f"{wp.window.label()} {where} — {g.id} ({g.mode}): {people}",
            title_justify="left",
        )
        for col in ("#", "arrive", "wait", "leave", "place", "purpose"):
            table.add_column(col)
        for s in route.stops:
            wait = f"{s.wait_min:.0f} min" if s.wait_min >= 1 else ""
            table.add_row(
                str(s.sequence), clock(s.arrival), wait, clock(s.departure), s.name, s.purpose
            )
        console.print(table)


_COLUMNS: tuple[tuple[str, str], ...] = (
    ("window", "left"),
    ("cell", "left"),
    ("groups", "right"),
    ("cells patrolled", "right"),
    ("visits", "right"),
    ("coverage", "right"),
    ("posts", "right"),
    ("km", "right"),
    ("patrol h", "right"),
    ("left out", "right"),
)


def _summary_table(title: str) -> Any:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for col, justify in _COLUMNS:
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    return table


def _summary_row(row: dict[str, Any], cell: str) -> list[str]:
    return [
        str(row["window"]),
        cell,
        str(row["groups"]),
        f"{row['cells_patrolled']}/{row['cells_with_demand']}",
        str(row["visits"]),
        f"{row['coverage']:.0%}",
        f"{row['posts_staffed']}/{row['posts_required']}",
        f"{row['km']:.1f}",
        f"{row['patrol_min'] / 60:.1f}",
        str(row["left_out"]),
    ]


def print_summary(
    plan: DayPlan,
    out: Path,
    elapsed_s: float,
    console: Any = None,
    *,
    district: District | None = None,
) -> None:
    """Print the plan per level-1 and level-2 cell, window by window, then the day.

    Level-1 rows are bold with their level-2 cells indented under them; the day section sums
    the windows per level-1 cell and for the district. ``cells patrolled`` counts planned cells
    with a group over those with hotspots or posts.
    """
    from rich.console import Console

    from optimizer.outputs.summary import DAY, DISTRICT_LEVEL, cell_summary
    from optimizer.outputs.times import timezone_note

    console = console or Console()
    frame = cell_summary(plan, district)
    table = _summary_table(
        f"Patrol plan — {plan.district}, {plan.date:%a %Y-%m-%d} (engine {plan.engine}, "
        f"seed {plan.seed}); {timezone_note(plan)}"
    )
    rows = [{str(k): v for k, v in r.items()} for r in frame.to_dict(orient="records")]
    top = min((int(r["level"]) for r in rows if r["level"] > DISTRICT_LEVEL), default=0)
    tops = {
        w: sum(1 for r in rows if r["window"] == w and r["level"] == top) for w in frame["window"]
    }
    period = None
    for row in rows:
        level = int(row["level"])
        if row["window"] == DAY and level > top:
            continue  # the day: level-1 cells and the district only
        if level == DISTRICT_LEVEL and tops.get(row["window"], 0) == 1:
            continue  # one top cell: its row is the district's
        if row["window"] != period:
            if period is not None:
                table.add_section()
            period = row["window"]
        if level == DISTRICT_LEVEL:
            cell, style = "all cells", "bold"
        else:
            cell = "  " * (level - top) + str(row["cell"])
            style = "bold" if level == top else ""
        table.add_row(*_summary_row(row, cell), style=style)
    console.print(table)
    print_staffing(plan, console)
    console.print(
        f"plan folder: {out}  (schedule.csv/.xlsx, cells.csv, routes.geojson, gpx/, "
        f"map-*.png, maps/, plan.json) in {elapsed_s:.1f} s"
    )


def print_staffing(plan: DayPlan, console: Any = None) -> None:
    """Print per window how the staff on duty was used, and why some officers were not."""
    from rich.console import Console
    from rich.table import Table

    from optimizer.outputs.summary import staffing_summary

    console = console or Console()
    rows = staffing_summary(plan)
    if not rows:
        return
    table = Table(title="Staff on duty", title_justify="left")
    for col in ("window", "officers", "in groups", "unused", "volunteers", "cells", "posts"):
        table.add_column(col, justify="left" if col in ("window", "unused") else "right")
    posts = {
        ws.window.label(): (
            sum(
                int(wp.metrics.get("posts_staffed", 0))
                for wp in plan.windows
                if wp.window == ws.window
            ),
            sum(
                int(wp.metrics.get("posts_required", 0))
                for wp in plan.windows
                if wp.window == ws.window
            ),
        )
        for ws in plan.staffing
    }
    for r in rows:
        why = ", ".join(
            f"{n} {code}" for code, n in r["unused_by_reason"].get("officer", {}).items()
        )
        staffed, required = posts[r["window"]]
        table.add_row(
            r["window"],
            str(r.get("officers_on_shift", 0)),
            str(r.get("officers_in_groups", 0)),
            f"{r.get('officers_unused', 0)}" + (f" ({why})" if why else ""),
            f"{r.get('volunteers_in_groups', 0)}/{r.get('volunteers_eligible', 0)}",
            f"{r.get('cells_with_groups', 0)}/{r.get('cells_with_demand', 0)}",
            f"{staffed}/{required}",
        )
    console.print(table)


def print_cells(plan: DayPlan, district: District | None, console: Any = None) -> None:
    """Print one row per window and planned cell (level 3 on a bureau's plan)."""
    from rich.console import Console

    from optimizer.outputs.summary import planned_cell_summary

    console = console or Console()
    table = _summary_table(f"Planned cells — {plan.district}, {plan.date:%a %Y-%m-%d}")
    period = None
    for record in planned_cell_summary(plan, district).to_dict(orient="records"):
        row = {str(k): v for k, v in record.items()}
        if row["window"] != period and period is not None:
            table.add_section()
        period = row["window"]
        table.add_row(*_summary_row(row, str(row["cell"])))
    console.print(table)


if __name__ == "__main__":  # pragma: no cover
    from optimizer.cli import main

    sys.exit(main(["plan", *sys.argv[1:]]))
