"""``patrol tracks import``: the handhelds' GPX tracks and check-ins against a day's plan.

``patrol tracks import DISTRICT DATE FILE...`` reads GPX files (one per group: the track's
name or the file's name is the group id, as ``patrol plan`` writes ``gpx/<group>.gpx``) and CSV
check-ins (group, site, time), matches them to the plan (``out/plan-<date>/plan.json`` unless
``--plan`` is given) and prints plan vs actual per day, cell and group, and the hotspots left
under-served. ``--out`` (default ``out/actuals-<date>``) receives ``stops.csv``,
``groups.csv``, ``cells.csv``, ``hotspots.csv``, ``deficits.json`` (for ``patrol plan
--deficits``) and a map per window and cell.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from optimizer.cli.plan_cmd import load_named_district, parse_date
from optimizer.errors import InputError
from optimizer.operations.tracks import TrackParams, dosage_to_dict
from optimizer.plan.types import DayPlan


def register(subparsers: Any) -> None:
    """Add the ``tracks`` command group to the ``patrol`` parser."""
    p = subparsers.add_parser(
        "tracks",
        help="import the handhelds' GPX tracks and check-ins: plan vs actual",
        description="What was patrolled: GPX tracks and check-ins matched to the day's plan.",
    )
    sub = p.add_subparsers(dest="tracks_command", required=True, metavar="ACTION")
    imp = sub.add_parser(
        "import",
        help="match GPX tracks and check-in CSVs to a day's plan and print plan vs actual",
        description="Read GPX tracks (one per group; the track's or the file's name is the group "
        "id) and CSV check-ins (columns group, site, time) and compare them with the day's plan: "
        "dosage (minutes within --radius of each hotspot and post), stops made, late or missed, "
        "distance, deviation from the planned streets. Writes the tables, deficits.json (for "
        "`patrol plan --deficits`) and maps to --out.",
    )
    imp.add_argument("district", help="district name (or folder)")
    imp.add_argument("date", help="the plan's day: YYYY-MM-DD, 'today' or 'tomorrow'")
    imp.add_argument("files", nargs="+", metavar="FILE", help="GPX tracks and CSV check-ins")
    imp.add_argument("--plan", metavar="PLAN.json", help="default: out/plan-<date>/plan.json")
    imp.add_argument("--out", metavar="DIR", help="default: out/actuals-<date>")
    imp.add_argument("--radius", default="40", metavar="M", help="dosage radius (default 40 m)")
    imp.add_argument("--late", default="10", metavar="MIN", help="late after (default 10 min)")
    imp.add_argument("--no-maps", action="store_true", help="skip the PNG maps")
    imp.set_defaults(func=run_import)


def _number(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InputError(name, text, "a number") from None


def load_plan_file(path: Path, *, district: str, day: Any) -> DayPlan:
    """Read a saved plan and check it is the district's plan of ``day``."""
    from optimizer.outputs.plan_io import plan_from_dict

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            "--plan", str(path), "a plan.json written by `patrol plan` (not found)"
        ) from None
    except (OSError, ValueError) as exc:
        raise InputError("--plan", str(path), f"a plan.json ({exc})") from None
    plan = plan_from_dict(data)
    if plan.date != day:
        raise InputError("--plan", str(path), f"the plan of {day} (this one is of {plan.date})")
    if Path(district).name != plan.district:
        raise InputError("district", district, f"the plan's district {plan.district!r}")
    return plan


def run_import(args: argparse.Namespace) -> int:
    """Run ``patrol tracks import``."""
    import pandas as pd

    from optimizer.operations.tracks import match_tracks, read_checkins, read_gpx

    day = parse_date(args.date)
    plan_path = Path(args.plan) if args.plan else Path("out") / f"plan-{day}" / "plan.json"
    params = TrackParams(
        radius_m=_number("--radius", args.radius), late_min=_number("--late", args.late)
    )
    plan = load_plan_file(plan_path, district=args.district, day=day)
    tracks, checkins = [], []
    for i, name in enumerate(args.files):
        path = Path(name)
        suffix = path.suffix.lower()
        if suffix == ".gpx":
            tracks.append(read_gpx(path, plan=plan))
        elif suffix == ".csv":
            checkins.extend(read_checkins(path, plan=plan))
        else:
            raise InputError(f"FILE[{i}]", name, "a .gpx track or a .csv of check-ins")
    district = load_named_district(args.district)
    actuals = match_tracks(plan, tracks, district=district, checkins=checkins, params=params)
    out = Path(args.out) if args.out else Path("out") / f"actuals-{day}"
    out.mkdir(parents=True, exist_ok=True)
    actuals.stops_frame().to_csv(out / "stops.csv", index=False, encoding="utf-8-sig")
    actuals.groups_frame().to_csv(out / "groups.csv", index=False, encoding="utf-8-sig")
    actuals.cells_frame().to_csv(out / "cells.csv", index=False, encoding="utf-8-sig")
    actuals.hotspots_frame().to_csv(out / "hotspots.csv", index=False, encoding="utf-8-sig")
    (out / "deficits.json").write_text(
        json.dumps([dosage_to_dict(d) for d in actuals.deficits()], indent=1), encoding="utf-8"
    )
    maps: list[Path] = []
    if not args.no_maps:
        from optimizer.outputs.actuals import write_actuals_maps

        maps = write_actuals_maps(plan, actuals, tracks, out, district=district)
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(f"Plan vs actual — {plan.district}, {plan.date}")
        print(actuals.day_frame().to_string(index=False))
        print("\nper window and cell")
        print(actuals.cells_frame().to_string(index=False))
        print("\nper group")
        print(actuals.groups_frame().to_string(index=False))
        under = actuals.hotspots_frame()
        under = under[under["hotspot_id"].isin({d.hotspot_id for d in actuals.deficits()})]
        print(f"\nhotspots under-served ({len(under)})")
        if len(under):
            print(under.to_string(index=False))
    print(
        f"\n{len(tracks)} tracks, {len(checkins)} check-ins; tables, deficits.json and "
        f"{len(maps)} maps in {out}"
    )
    return 0
