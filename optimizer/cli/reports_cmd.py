"""``patrol reports import|backtest``: clues and hazards from the field, and the clue weight.

``patrol reports import DISTRICT FILE.csv`` checks a sheet of reports (Chinese or English
headers; places in WGS-84, GCJ-02 or BD-09), lists every bad row and writes the good ones as
``reports.json`` (for ``patrol plan --clues``). ``patrol reports backtest DISTRICT
reports.json --from D --to D`` chooses the clue weight on those days (0 when clues do not
help, and it says so). Exit status of ``import``: 0 every row good, 1 some rows left out, 2
nothing usable.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

from optimizer.cli.plan_cmd import load_named_district, parse_date
from optimizer.coords import COORD_SYSTEMS
from optimizer.errors import InputError
from optimizer.operations.reports import FieldReport, read_reports, report_from_dict
from optimizer.timewindow import TimeWindow


def register(subparsers: Any) -> None:
    """Add the ``reports`` command group to the ``patrol`` parser."""
    p = subparsers.add_parser(
        "reports",
        help="clues and hazards reported from the field: import, choose the clue weight",
        description="Reports from volunteers and residents: clues and hazards.",
    )
    sub = p.add_subparsers(dest="reports_command", required=True, metavar="ACTION")
    imp = sub.add_parser(
        "import",
        help="check a CSV of reports and write reports.json",
        description="Read a CSV of reports (id/编号, kind/类型 clue|hazard|线索|隐患, "
        "category/类别, time/时间, lon/经度, lat/纬度, optional text/内容, crs/坐标系, "
        "reporter/上报人, photo/照片, status/状态). Good rows go to --out; every bad row is "
        "listed. Exit status 0: all good, 1: some rows left out, 2: nothing usable.",
    )
    imp.add_argument("district", help="district name (or folder): its time zone")
    imp.add_argument("file", metavar="FILE.csv")
    imp.add_argument("--crs", default="wgs84", choices=COORD_SYSTEMS, help="of rows without one")
    imp.add_argument("--out", default="reports.json", metavar="JSON", help="default reports.json")
    imp.set_defaults(func=run_import)
    bt = sub.add_parser(
        "backtest",
        help="choose the clue weight on past days",
        description="For each day and window, the share of its incidents near the top 20%% "
        "hotspots when the clues of the days before raise them at each candidate weight; the "
        "smallest weight with the best share is chosen (0: clues do not help).",
    )
    bt.add_argument("district")
    bt.add_argument("reports", metavar="REPORTS.json", help="written by `patrol reports import`")
    bt.add_argument("--from", dest="first", required=True, metavar="DATE")
    bt.add_argument("--to", dest="last", required=True, metavar="DATE")
    bt.add_argument("--window", action="append", help="HH:MM-HH:MM, repeatable (default 19-23)")
    bt.set_defaults(func=run_backtest)


def load_reports(path: str, *, option: str) -> list[FieldReport]:
    """Read ``reports.json`` as written by ``patrol reports import``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(option, path, f"a reports.json ({exc})") from None
    if not isinstance(data, list):
        raise InputError(option, path, "a JSON list written by `patrol reports import`")
    return [report_from_dict(d, field=f"{path}[{i}]") for i, d in enumerate(data)]


def run_import(args: argparse.Namespace) -> int:
    """Run ``patrol reports import``."""
    district = load_named_district(args.district)
    got = read_reports(args.file, crs=args.crs, timezone=district.timezone)
    if got.problems:
        print(got.to_frame().to_string(index=False))
    Path(args.out).write_text(
        json.dumps([r.to_dict() for r in got.reports], ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
    kinds = {k: sum(r.kind == k for r in got.reports) for k in ("clue", "hazard")}
    fixed = sum(r.status == "fixed" for r in got.reports)
    print(
        f"{len(got.reports)} reports ({kinds['clue']} clues, {kinds['hazard']} hazards, "
        f"{fixed} fixed), {len(got.problems)} rows left out -> {args.out}"
    )
    if not got.reports:
        return 2
    return 1 if got.problems else 0


def run_backtest(args: argparse.Namespace) -> int:
    """Run ``patrol reports backtest``."""
    from optimizer.operations.reports import choose_clue_weight

    first, last = parse_date(args.first), parse_date(args.last)
    if last < first or (last - first).days > 60:
        raise InputError("--to", args.last, f"a date from {first} to 60 days after it")
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    windows = [TimeWindow.parse(w, field="--window") for w in (args.window or ["19:00-23:00"])]
    clues = load_reports(args.reports, option="REPORTS.json")
    district = load_named_district(args.district)
    result = choose_clue_weight(district, clues, days=days, windows=windows)
    print(result.to_frame().to_string(index=False))
    print(result.verdict)
    print(f"plan with it: patrol plan --clues {args.reports} --clue-weight {result.weight:g}")
    return 0
