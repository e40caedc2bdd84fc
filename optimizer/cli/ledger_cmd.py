"""``patrol ledger``: the participation ledger from stored plan folders and tracks.

``patrol ledger DISTRICT --plans DIR...`` reads whole plans: JSON files of
``optimizer.outputs.plan_io.plan_to_dict`` or the ``dayplan.json`` of each day folder that
``patrol week`` writes (given the week's folder, every day in it), adds their planned duties
to the ledger (``--ledger`` FILE.csv to extend one; a plan stored again replaces its rows),
and with ``--tracks FILE...`` (GPX tracks and CSV check-ins of those plans' groups) the actual
duties too. Writes ``--out`` (default ``out/ledger.csv``) and ``people.csv`` beside it, and
prints each ISO week's people over their cap and the duties per volunteer.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from optimizer.cli.plan_cmd import load_named_district
from optimizer.cli.week_cmd import DAY_PLAN_FILE, print_people_summary, read_ledger_option
from optimizer.errors import InputError
from optimizer.operations.ledger import Ledger, ledger_from_actuals, ledger_from_plan
from optimizer.plan.types import DayPlan


def register(subparsers: Any) -> None:
    """Add the ``ledger`` command to the ``patrol`` parser."""
    p = subparsers.add_parser(
        "ledger",
        help="build or extend the participation ledger from plan folders and tracks",
        description="Every planned (and, with --tracks, actual) patrol and post duty per "
        "person, team and cell, from stored plan folders; prints who is over the weekly cap.",
    )
    p.add_argument("district", help="district name (its roster gives roles, teams and caps)")
    p.add_argument(
        "--plans",
        nargs="+",
        required=True,
        metavar="DIR",
        help="plan files, day folders of `patrol week` (dayplan.json) or folders of them",
    )
    p.add_argument(
        "--tracks",
        nargs="+",
        default=(),
        metavar="FILE",
        help="GPX tracks and CSV check-ins of the plans' groups: actual duties",
    )
    p.add_argument("--ledger", metavar="FILE.csv", help="an existing ledger to extend")
    p.add_argument("--out", default=None, help="ledger CSV written (default: out/ledger.csv)")
    p.set_defaults(func=run)


def plan_files(names: list[str]) -> list[Path]:
    """Return the whole-plan files named: JSON files, or the ``dayplan.json`` of plan folders
    (``patrol week``'s day folders) and of the folders inside them."""
    found: list[Path] = []
    for i, name in enumerate(names):
        path = Path(name)
        if path.is_file() and path.suffix.lower() == ".json":
            found.append(path)
            continue
        inner = [path / DAY_PLAN_FILE] if (path / DAY_PLAN_FILE).is_file() else []
        inner = inner or (sorted(path.glob(f"*/{DAY_PLAN_FILE}")) if path.is_dir() else [])
        if not inner:
            raise InputError(
                f"--plans[{i}]",
                name,
                f"a plan file or a folder with {DAY_PLAN_FILE} (as `patrol week` writes it), or "
                "a folder of them",
            )
        found += inner
    return found


def read_plan(path: Path) -> DayPlan:
    """Read a whole plan (``optimizer.outputs.plan_io.plan_to_dict``'s JSON)."""
    from optimizer.outputs.plan_io import plan_from_dict

    accepted = (
        f"a whole plan ({DAY_PLAN_FILE} of `patrol week`; a plan folder's plan.json is a summary)"
    )
    try:
        return plan_from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise InputError("--plans", str(path), f"{accepted}: {exc}") from None


def run(args: argparse.Namespace) -> int:
    """Run ``patrol ledger``; return the exit code (1 when a volunteer is over the cap)."""
    from optimizer.operations.tracks import match_tracks, read_checkins, read_gpx

    ledger = read_ledger_option(args.ledger) or Ledger.empty()
    district = load_named_district(args.district)
    plans = [read_plan(p) for p in plan_files(list(args.plans))]
    for plan in plans:
        if plan.district != district.name:
            raise InputError("--plans", plan.district, f"plans of {district.name!r}")
        ledger = ledger.add(ledger_from_plan(plan, resources=district.resources))
    # each track or check-in file belongs to the plan whose groups it names
    files: dict[int, tuple[list[Any], list[Any]]] = {}
    for i, name in enumerate(args.tracks):
        path = Path(name)
        if path.suffix.lower() not in (".gpx", ".csv"):
            raise InputError(f"--tracks[{i}]", name, "a .gpx track or a .csv of check-ins")
        for k, plan in enumerate(plans):
            try:
                if path.suffix.lower() == ".gpx":
                    files.setdefault(k, ([], []))[0].append(read_gpx(path, plan=plan))
                else:
                    files.setdefault(k, ([], []))[1].extend(read_checkins(path, plan=plan))
                break
            except InputError:
                continue
        else:
            raise InputError(f"--tracks[{i}]", name, "a track or check-ins of a group of the plans")
    for k, (tracks, checkins) in sorted(files.items()):
        actuals = match_tracks(plans[k], tracks, district=district, checkins=checkins)
        ledger = ledger.add(
            ledger_from_actuals(actuals, plan=plans[k], resources=district.resources)
        )
    out = Path(args.out) if args.out else Path("out") / "ledger.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    ledger.write_csv(out)
    people = ledger.person_summary(resources=district.resources)
    people.to_csv(out.with_name("people.csv"), index=False, encoding="utf-8-sig")
    over = ledger.caps_exceeded(district.resources)
    days = ledger.days()
    span = f"{days[0]} to {days[-1]}" if days else "no days"
    print_people_summary(
        people, over, title=f"Ledger — {district.name}, {span} ({len(plans)} plans)"
    )
    actual = ledger.days(source="actual")
    if actual:
        hours = ledger.hours_by_person(source="actual")["hours"].sum()
        print(f"actual duties on {len(actual)} days: {hours:g} person-hours")
    print(f"{len(ledger.frame)} duties in {out}; people.csv beside it")
    return 1 if len(over) else 0


if __name__ == "__main__":  # pragma: no cover
    from optimizer.cli import main

    sys.exit(main(["ledger", *sys.argv[1:]]))
