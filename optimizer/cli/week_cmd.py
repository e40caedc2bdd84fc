"""``patrol week``: plan seven (or ``--days``) days at once, with the participation ledger.

``patrol week DISTRICT --start YYYY-MM-DD`` plans the days one by one
(:func:`optimizer.plan.week.plan_week`): each day sees the hours every volunteer has served in
its ISO week, so the weekly caps and the fair rotation hold across the days, and across weeks
when ``--ledger`` gives the ledger of the weeks before. ``--out`` (default
``out/week-<start>``) receives one plan folder per day (``<date>/``, as ``patrol plan`` writes
it, plus ``dayplan.json``: the whole plan, which ``patrol ledger`` and ``patrol tracks import
--plan`` read back), ``ledger.csv`` (every duty: the ledger given plus the days planned) and
``people.csv``/``people.xlsx`` (each person's hours per day and week, duties, post duties, rest
days, cap, share of the fair load). The command prints the people over their cap (0 unless
the roster changed under the ledger; the exit code is 1 then) and the duties per volunteer.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.cli.plan_cmd import (
    int_option,
    load_named_district,
    parse_date,
    progress_bar,
    seconds_option,
)
from optimizer.errors import InputError
from optimizer.operations.ledger import VOLUNTEER, Ledger
from optimizer.outputs.plan_io import plan_to_dict
from optimizer.plan.params import PlanParams
from optimizer.timewindow import DEFAULT_WINDOWS, TimeWindow

DAY_PLAN_FILE = "dayplan.json"
"""The whole day plan in each day's folder (``optimizer.outputs.plan_io.plan_to_dict``)."""


def register(subparsers: Any) -> None:
    """Add the ``week`` command to the ``patrol`` parser."""
    p = subparsers.add_parser(
        "week",
        help="plan seven days at once: weekly caps and fair rotation across the days",
        description="Plan consecutive days with the participation ledger: each day sees the "
        "hours every volunteer served earlier in its ISO week (and, with --ledger, in the weeks "
        "before), so weekly caps and fair rotation hold. Writes a plan folder per day, "
        "ledger.csv and people.csv/.xlsx.",
    )
    p.add_argument("district", help="prepared district name (demo: built on first use)")
    p.add_argument("--start", required=True, help="first day: YYYY-MM-DD, 'today' or 'tomorrow'")
    p.add_argument("--days", default="7", help="days to plan, 1 to 31 (default: 7)")
    p.add_argument(
        "--ledger",
        metavar="FILE.csv",
        help="ledger.csv of earlier days (a previous `patrol week` or `patrol ledger`): their "
        "hours count against the caps",
    )
    p.add_argument(
        "--window",
        action="append",
        default=None,
        metavar="HH:MM-HH:MM",
        help="time window, repeatable (default: "
        + ", ".join(w.label() for w in DEFAULT_WINDOWS)
        + ")",
    )
    p.add_argument("--grid-level", default=None, metavar="N", help="grid level (default: 2)")
    p.add_argument("--out", default=None, help="output folder (default: ./out/week-<start>)")
    p.add_argument("--seed", default="0", help="seed of the first day; day k uses seed + k")
    p.add_argument(
        "--budget",
        default=None,
        metavar="SECONDS",
        help=f"search budget per cell and window (default: {PlanParams().budget_s:g})",
    )
    p.add_argument("--workers", default="1", metavar="N", help="solve in N processes (default 1)")
    p.add_argument("--no-maps", action="store_true", help="skip the PNG maps of each day")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def read_ledger_option(name: str | None, *, option: str = "--ledger") -> Ledger | None:
    """Read the ledger CSV of ``option`` (``None``: no ledger)."""
    if name is None:
        return None
    try:
        return Ledger.read_csv(name)
    except InputError as exc:
        raise InputError(option, name, exc.accepted) from None


def people_table(ledger: Ledger, summary: pd.DataFrame, days: list[Any]) -> pd.DataFrame:
    """Return ``summary`` (one row per person) with one column of planned hours per day."""
    frame = ledger.to_frame()
    frame = frame[(frame["source"] == "planned") & (frame["duty"] == "patrol")]
    frame = frame[frame["date"].isin(days)]
    per_day = frame.pivot_table(
        index="person_id", columns="date", values="hours", aggfunc="sum", fill_value=0.0
    ).reindex(columns=days, fill_value=0.0)
    per_day.columns = [f"hours {d.isoformat()}" for d in days]
    out = summary.merge(per_day, left_on="person_id", right_index=True, how="left")
    day_cols = list(per_day.columns)
    out[day_cols] = out[day_cols].fillna(0.0)
    return out


def print_people_summary(people: pd.DataFrame, over: pd.DataFrame, *, title: str) -> None:
    """Print people over cap and the duties, hours and rest days per volunteer."""
    volunteers = people[people["role"] == VOLUNTEER]
    print(title)
    print(f"people over their weekly cap: {over['person_id'].nunique() if len(over) else 0}")
    if len(over):
        print(over.to_string(index=False))
    if len(volunteers):
        for col, label in (
            ("patrols", "duties"),
            ("hours", "hours"),
            ("rest_days", "rest days"),
        ):
            v = volunteers[col].astype(float)
            print(
                f"{label} per volunteer ({len(v)}): min {v.min():g}, median {v.median():g}, "
                f"max {v.max():g}"
            )
    officers = people[people["role"] == "officer"]
    if len(officers):
        h = officers["hours"].astype(float)
        print(
            f"hours per officer ({len(h)}): min {h.min():g}, median {h.median():g}, max {h.max():g}"
        )


def run(args: argparse.Namespace) -> int:
    """Run ``patrol week``; return the exit code (1 when a volunteer is over the cap)."""
    from rich.console import Console

    from optimizer.outputs.folder import write_plan
    from optimizer.plan.week import MAX_DAYS, plan_week

    start = parse_date(args.start)
    days = int_option("--days", args.days, 1, MAX_DAYS)
    seed = int_option("--seed", args.seed, 0)
    budget = (
        PlanParams().budget_s
        if args.budget is None
        else seconds_option("--budget", args.budget, 600)
    )
    workers = int_option("--workers", args.workers, 1, 64)
    grid_level = (
        None if args.grid_level is None else int_option("--grid-level", args.grid_level, 1, 9)
    )
    windows = [TimeWindow.parse(w, field="--window") for w in (args.window or [])] or list(
        DEFAULT_WINDOWS
    )
    ledger = read_ledger_option(args.ledger)
    out = Path(args.out) if args.out else Path("out") / f"week-{start.isoformat()}"
    console = Console(stderr=True, quiet=bool(args.quiet))
    t0 = time.perf_counter()
    with console.status(f"loading district {args.district!r} ..."):
        district = load_named_district(args.district)
    with progress_bar(console, "planning the week") as progress:
        week = plan_week(
            district,
            start=start,
            days=days,
            ledger=ledger,
            windows=windows,
            grid_level=grid_level,
            params=PlanParams(budget_s=budget),
            seed=seed,
            workers=workers,
            progress=progress,
        )
    out.mkdir(parents=True, exist_ok=True)
    with console.status("writing the plan folders ..."):
        for plan in week.plans:
            folder = out / plan.date.isoformat()
            write_plan(plan, folder, district, maps=not args.no_maps)
            (folder / DAY_PLAN_FILE).write_text(json.dumps(plan_to_dict(plan)), encoding="utf-8")
    week.ledger.write_csv(out / "ledger.csv")
    people = people_table(week.ledger, week.to_frame(), week.days)
    people.to_csv(out / "people.csv", index=False, encoding="utf-8-sig")
    people.to_excel(out / "people.xlsx", index=False, sheet_name="people")
    over = week.over_cap()
    last = week.days[-1]
    print_people_summary(
        people,
        over,
        title=f"Week plan — {week.district}, {start:%a %Y-%m-%d} to {last:%a %Y-%m-%d} "
        f"({days} days, {len(windows)} windows)",
    )
    print(f"plan folders, ledger.csv, people.csv/.xlsx in {out} ({time.perf_counter() - t0:.1f} s)")
    return 1 if len(over) else 0


if __name__ == "__main__":  # pragma: no cover
    from optimizer.cli import main

    sys.exit(main(["week", *sys.argv[1:]]))
