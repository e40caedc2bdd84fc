"""``patrol stats``: the bureau's statistics and monthly report from plans and field reports.

``patrol stats DISTRICT --month YYYY-MM (or --from D --to D) --plans DIR... [--reports FILE]
[--by team|cell|district] [--period day|week|month] [--lang zh|en] --out DIR`` reads whole
plans (as ``patrol ledger`` does), builds their duty ledger (or reads ``--ledger`` FILE.csv),
and writes ``statistics.csv``, the report ``report.xlsx`` / ``report.pdf`` (with ``--month``)
and bar charts (PNG) to ``--out``; it prints the table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.errors import InputError


def register(subparsers: Any) -> None:
    """Add the ``stats`` command to the ``patrol`` parser."""
    from optimizer.outputs.statistics import BY, LANGS, PERIODS, SOURCES

    p = subparsers.add_parser(
        "stats",
        help="the bureau's statistics and monthly report (XLSX, PDF, PNG)",
        description="Joint patrols (person-times), hours, posts staffed, hazards found and "
        "fixed, clues and incidents near patrols per day, week or month and team or cell.",
    )
    p.add_argument("district", help="district name")
    p.add_argument("--month", help="the month YYYY-MM (writes the monthly report)")
    p.add_argument("--from", dest="start", help="first day YYYY-MM-DD (instead of --month)")
    p.add_argument("--to", dest="end", help="last day YYYY-MM-DD (instead of --month)")
    p.add_argument("--by", choices=BY, default="team", help="rows per team, cell or district")
    p.add_argument("--period", choices=PERIODS, default=None, help="default: month or day")
    p.add_argument("--source", choices=SOURCES, default="planned", help="planned or actual")
    p.add_argument("--lang", choices=LANGS, default="zh", help="report language")
    p.add_argument(
        "--plans",
        nargs="+",
        required=True,
        metavar="DIR",
        help="plan files, day folders of `patrol week` (dayplan.json) or folders of them",
    )
    p.add_argument("--ledger", metavar="FILE.csv", help="a ledger (`patrol ledger`) to count")
    p.add_argument(
        "--reports",
        nargs="+",
        default=(),
        metavar="FILE",
        help="reports.json of `patrol reports import`",
    )
    p.add_argument("--out", default="out/stats", help="folder written (default: out/stats)")
    p.set_defaults(func=run)


def _day(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InputError(option, value, "a date YYYY-MM-DD") from None


def run(args: argparse.Namespace) -> int:
    """Run ``patrol stats``; return the exit code."""
    from optimizer.cli.ledger_cmd import plan_files, read_plan
    from optimizer.cli.plan_cmd import load_named_district
    from optimizer.cli.reports_cmd import load_reports
    from optimizer.operations.ledger import Ledger, ledger_from_plan
    from optimizer.operations.reports import reports_frame
    from optimizer.outputs import statistics as st

    if args.month and (args.start or args.end):
        raise InputError("--month", args.month, "either --month or --from/--to, not both")
    if args.month:
        start, end = st.month_span(args.month)
    elif args.start and args.end:
        start, end = _day(args.start, "--from"), _day(args.end, "--to")
    else:
        raise InputError("--month", None, "--month YYYY-MM or both --from and --to")
    district = load_named_district(args.district)
    plans = [read_plan(p) for p in plan_files(list(args.plans))]
    ledger = Ledger.read_csv(args.ledger) if args.ledger else Ledger.empty()
    for plan in plans:
        if plan.district != district.name:
            raise InputError("--plans", plan.district, f"plans of {district.name!r}")
        ledger = ledger.add(ledger_from_plan(plan, resources=district.resources))
    found = [
        r for i, f in enumerate(args.reports) for r in load_reports(f, option=f"--reports[{i}]")
    ]
    events = st.statistics_events(district, plans, reports=reports_frame(found) if found else None)
    period = args.period or ("month" if args.month else "day")
    team_events: dict[str, Any] = {} if args.by == "team" else events
    table = st.bureau_statistics(
        ledger.frame,
        period=period,
        by=args.by,
        source=args.source,
        start=start,
        end=end,
        **team_events,
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "statistics.csv", index=False, encoding="utf-8-sig")
    if len(table):
        st.bar_chart(table, "person_times", out / f"{args.by}-person-times.png", lang=args.lang)
        st.bar_chart(table, "patrol_hours", out / f"{args.by}-hours.png", lang=args.lang)
    written = ["statistics.csv"]
    if args.month:
        tables = st.report_tables(ledger.frame, month=args.month, source=args.source, **events)
        name = f"report-{args.month}-{args.lang}"
        st.write_report_xlsx(
            tables, out / f"{name}.xlsx", district=district.name, month=args.month, lang=args.lang
        )
        pdf = st.report_pdf(tables, district=district.name, month=args.month, lang=args.lang)
        (out / f"{name}.pdf").write_bytes(pdf)
        written += [f"{name}.xlsx", f"{name}.pdf"]
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(st.labelled(st.printable(table), lang=args.lang).to_string(index=False))
    print(f"{start} to {end}: {len(plans)} plans; wrote {', '.join(written)} and charts to {out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    from optimizer.cli import main

    sys.exit(main(["stats", *sys.argv[1:]]))
