"""``patrol roster import|template|export|generate``: the bureau's roster in and out of a district.

Exit status of ``roster import``: 0 every row imported; 1 imported, some rows left out (listed);
2 nothing stored (a file, a district or, with ``--strict``, any row in error).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from optimizer.cli.district_cmd import ROSTER_OPTIONS
from optimizer.coords import COORD_SYSTEMS
from optimizer.errors import InputError
from optimizer.staff.roster_sheets.vocabulary import LANGS


def register(subparsers: Any) -> None:
    """Add the ``roster`` command group to the ``patrol`` parser."""
    p = subparsers.add_parser(
        "roster",
        help="import the bureau's roster sheets, write the template, generate a synthetic roster",
        description="Officers, volunteer teams and members, availability, stations, muster "
        "points and posts, as the bureau keeps them in CSV/XLSX sheets.",
    )
    sub = p.add_subparsers(dest="roster_command", required=True, metavar="ACTION")

    imp = sub.add_parser(
        "import",
        help="read roster sheets into a district's resources.json",
        description="Read CSV/XLSX roster sheets (Chinese or English headers; see `patrol roster "
        "template`) into a prepared district. Sheet kinds in the files replace the stored ones; "
        "others are kept. Good rows are stored and every bad row is listed by file, sheet, row "
        "and column (--strict: store nothing if any row is bad). Exit status 0: all imported, "
        "1: imported with rows left out, 2: nothing stored.",
    )
    imp.add_argument("district", help="district name (or folder)")
    imp.add_argument("files", nargs="+", metavar="FILE", help="XLSX workbooks and CSV files")
    imp.add_argument(
        "--crs",
        default="wgs84",
        choices=COORD_SYSTEMS,
        help="coordinate system of coordinates without a crs/坐标系 cell (default: wgs84)",
    )
    imp.add_argument("--strict", action="store_true", help="refuse the import on any bad row")
    imp.add_argument("--dry-run", action="store_true", help="check the files, store nothing")
    imp.add_argument("--report", metavar="CSV", help="write every problem to this CSV file")
    imp.add_argument("--data-dir", metavar="DIR", help="folder of districts")
    imp.set_defaults(func=run_import)

    tpl = sub.add_parser(
        "template",
        help="write the roster template workbook",
        description="Write an XLSX template: one sheet per kind with headers and an example "
        "row, a notes sheet explaining every column, drop-down lists for enumerations.",
    )
    tpl.add_argument("out", metavar="OUT.xlsx")
    tpl.add_argument("--lang", default="zh", choices=LANGS, help="headers and notes (default zh)")
    tpl.set_defaults(func=run_template)

    exp = sub.add_parser(
        "export",
        help="write a district's roster as sheets (the template's layout)",
        description="Write a district's stored roster to an XLSX workbook that `roster import` "
        "reads back.",
    )
    exp.add_argument("district")
    exp.add_argument("out", metavar="OUT.xlsx")
    exp.add_argument("--lang", default="zh", choices=LANGS)
    exp.add_argument("--data-dir", metavar="DIR", help="folder of districts")
    exp.set_defaults(func=run_export)

    gen = sub.add_parser(
        "generate",
        help="replace a district's roster with a synthetic one at any scale",
        description="Generate a plausible, fake roster (names, phones and ID numbers are fake; "
        "Chinese for districts in China) and store it as the district's resources.json. "
        "Counts not given follow the bureau's ratios (302 officers, 690 volunteers in 15 teams, "
        "24 school gates, 4 stations per 91 finest cells).",
    )
    gen.add_argument("district")
    for option, what in ROSTER_OPTIONS.items():
        gen.add_argument(f"--{option.replace('_', '-')}", metavar="N", help=what)
    gen.add_argument("--seed", default="0", help="the same seed gives the same roster")
    gen.add_argument("--locale", choices=("zh", "fi", "en"), help="default: by the time zone")
    gen.add_argument("--data-dir", metavar="DIR", help="folder of districts")
    gen.set_defaults(func=run_generate)


def _int(text: str, field: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InputError(field, text, "a whole number") from None


def run_import(args: argparse.Namespace) -> int:
    """Run ``patrol roster import``."""
    from optimizer.staff.roster_sheets.build import RosterRejectedError, import_roster

    try:
        result = import_roster(
            args.district,
            args.files,
            crs=args.crs,
            strict=args.strict,
            dry_run=args.dry_run,
            data_dir=args.data_dir,
        )
    except RosterRejectedError as exc:
        if args.report:
            exc.report.to_frame().to_csv(args.report, index=False, encoding="utf-8-sig")
        print(exc.report.summary(), file=sys.stderr)
        print(f"patrol: error: nothing stored: {exc.value}", file=sys.stderr)
        return 2
    if args.report:
        result.to_frame().to_csv(args.report, index=False, encoding="utf-8-sig")
    print(result.summary())
    return 0 if result.ok else 1


def run_template(args: argparse.Namespace) -> int:
    """Run ``patrol roster template``."""
    from optimizer.staff.roster_sheets.template import write_template

    print(write_template(args.out, lang=args.lang))
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Run ``patrol roster export``."""
    from optimizer.staff.roster_sheets.template import write_roster_sheets
    from optimizer.storage import load_district

    district = load_district(args.district, data_dir=args.data_dir)
    print(write_roster_sheets(district.resources, args.out, lang=args.lang))
    return 0


def run_generate(args: argparse.Namespace) -> int:
    """Run ``patrol roster generate``."""
    from optimizer.staff.roster_sheets.build import store_roster
    from optimizer.storage import METADATA_FILE, RESOURCES_FILE, load_district
    from optimizer.synthetic.roster import RosterScale, synthetic_roster

    counts = {
        name: _int(getattr(args, name), f"--{name.replace('_', '-')}")
        for name in ROSTER_OPTIONS
        if getattr(args, name) is not None
    }
    seed = _int(args.seed, "--seed")
    dataclasses.replace(RosterScale(), **counts)  # check the counts before loading anything
    district = load_district(args.district, data_dir=args.data_dir)
    if district.name == "demo" or district.metadata.get("builder"):
        raise InputError("district", args.district, "an imported district (the demo's is fixed)")
    leaf = int((district.grids["level"] == district.grids["level"].max()).sum())
    scale = dataclasses.replace(RosterScale.for_cells(leaf), **counts)
    res = synthetic_roster(
        district.grids,
        district.graph,
        scale=scale,
        seed=seed,
        locale=args.locale,
        timezone=district.metadata.get("timezone"),
    )
    assert district.path is not None
    folder = Path(district.path)
    meta = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
    meta["resources_synthetic"] = True
    meta["roster_scale"] = dataclasses.asdict(scale)
    meta["roster_seed"] = seed
    meta.pop("roster_source", None)
    meta["synthetic"] = sorted({*meta.get("synthetic", []), "resources"})
    meta["roster_generated"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    store_roster(folder, res, meta, resources_file=RESOURCES_FILE, metadata_file=METADATA_FILE)
    print(
        f"{folder / RESOURCES_FILE}: {len(res.stations)} stations, {len(res.officers)} officers, "
        f"{len(res.teams)} teams ({len(res.volunteers)} volunteers), {len(res.posts)} posts, "
        f"{len(res.muster_points)} muster points (synthetic, seed {seed})"
    )
    return 0
