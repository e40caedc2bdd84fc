"""``patrol district import|list|show``: prepare real districts and look at them."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from optimizer.coords import COORD_SYSTEMS

ROSTER_OPTIONS: dict[str, str] = {
    "officers": "officers (three shifts, one per default window)",
    "volunteers": "volunteers",
    "teams": "volunteer teams",
    "posts": "school-gate posts",
    "hospital_posts": "hospital posts (default: one per eight school gates)",
    "stations": "police stations",
    "muster_points": "muster points besides team bases (default: one per level-2 cell)",
}
"""Counts of a synthetic roster (``RosterScale`` fields) offered as options."""


def register(subparsers: Any) -> None:
    """Add the ``district`` command group to the ``patrol`` parser."""
    p = subparsers.add_parser(
        "district",
        help="import, list and show prepared districts",
        description="Prepare a district from an OpenStreetMap extract (offline), with the "
        "bureau's grid hierarchy or generated grids, and inspect prepared districts.",
    )
    sub = p.add_subparsers(dest="district_command", required=True, metavar="ACTION")

    imp = sub.add_parser(
        "import",
        help="import a district from an OSM file (or download a place through osmnx)",
        description="Read an OSM extract (.osm, .osm.bz2, .osm.pbf) offline and write a prepared "
        "district folder: grids.geojson, the street graph (GeoParquet), resources.json, "
        "metadata.json. Re-importing is idempotent; a failed import leaves the old folder intact.",
    )
    imp.add_argument("name", help="district name (folder name under the data dir)")
    imp.add_argument("--osm", metavar="FILE", help="OSM extract: .osm, .osm.bz2 or .osm.pbf")
    imp.add_argument(
        "--place",
        metavar="TEXT",
        help='place to download through osmnx, e.g. "榆阳区, 榆林市, 陕西省" (needs internet)',
    )
    imp.add_argument("--boundary", metavar="GEOJSON", help="clip the streets to this boundary")
    imp.add_argument(
        "--boundary-crs",
        default="wgs84",
        choices=COORD_SYSTEMS,
        help="coordinate system of --boundary (default: wgs84)",
    )
    imp.add_argument(
        "--grids",
        metavar="GEOJSON",
        help="the bureau's grid hierarchy (id, level, parent, name, polygons)",
    )
    imp.add_argument(
        "--grids-crs",
        default="wgs84",
        choices=COORD_SYSTEMS,
        help="coordinate system of --grids (default: wgs84)",
    )
    imp.add_argument(
        "--auto-grids",
        metavar="N1,N2,N3",
        help="generate nested grids with these cell counts per level, e.g. 2,13,91",
    )
    imp.add_argument(
        "--incidents",
        metavar="FILE",
        help="incident history (CSV or GeoJSON): stored, and balanced by --auto-grids",
    )
    imp.add_argument(
        "--incidents-crs",
        default="wgs84",
        choices=COORD_SYSTEMS,
        help="coordinate system of --incidents (default: wgs84)",
    )
    imp.add_argument(
        "--synthetic-incidents",
        action="store_true",
        help="without --incidents, generate six months of labelled synthetic "
        "incidents so hotspots and plans can be tried",
    )
    imp.add_argument(
        "--timezone",
        metavar="IANA",
        help="time zone of the district, e.g. Asia/Shanghai (default: derived from where the "
        "streets are, and printed)",
    )
    imp.add_argument(
        "--resources",
        metavar="JSON",
        help="resources.json (stations, officers, teams, posts; WGS-84); default: a synthetic "
        "roster (`patrol roster import` loads the bureau's sheets afterwards)",
    )
    scale = imp.add_argument_group(
        "synthetic roster size (without --resources; default: the bureau's 302 officers, 690 "
        "volunteers in 15 teams, 24 school gates, 4 stations per 91 finest cells, scaled)"
    )
    for option, what in ROSTER_OPTIONS.items():
        scale.add_argument(f"--{option.replace('_', '-')}", metavar="N", help=what)
    imp.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder of districts (default: $PATROL_DATA_DIR or data/grids)",
    )
    imp.add_argument("--seed", default="0", help="seed for generated grids and resources")
    imp.add_argument(
        "--tolerance-m2",
        default="50",
        help="overlaps and gaps of bureau grids up to this area are ignored",
    )
    imp.add_argument("--quiet", action="store_true", help="print only the folder written")
    imp.set_defaults(func=run_import)

    ls = sub.add_parser("list", help="list prepared districts")
    ls.add_argument("--data-dir", metavar="DIR", help="folder of districts")
    ls.set_defaults(func=run_list)

    show = sub.add_parser("show", help="show a prepared district's metadata and grids")
    show.add_argument("name", help="district name or folder")
    show.add_argument("--data-dir", metavar="DIR", help="folder of districts")
    show.add_argument("--json", action="store_true", help="print metadata as JSON")
    show.set_defaults(func=run_show)


def _int(text: str, field: str) -> int:
    from optimizer.errors import InputError

    try:
        return int(text)
    except ValueError:
        raise InputError(field, text, "an integer") from None


def _float(text: str, field: str) -> float:
    from optimizer.errors import InputError

    try:
        return float(text)
    except ValueError:
        raise InputError(field, text, "a number") from None


def run_import(args: argparse.Namespace) -> int:
    """Run ``patrol district import``."""
    from optimizer.importer import import_district

    started = time.perf_counter()

    def progress(message: str) -> None:
        if not args.quiet:
            print(
                f"[{time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True
            )

    counts = {
        name: _int(getattr(args, name), f"--{name.replace('_', '-')}")
        for name in ROSTER_OPTIONS
        if getattr(args, name) is not None
    }
    result = import_district(
        args.name,
        args.osm,
        boundary=args.boundary,
        boundary_crs=args.boundary_crs,
        grids=args.grids,
        grids_crs=args.grids_crs,
        auto=args.auto_grids,
        place=args.place,
        data_dir=args.data_dir,
        resources=args.resources,
        incidents=args.incidents,
        incidents_crs=args.incidents_crs,
        synthetic_incidents=args.synthetic_incidents,
        timezone=args.timezone,
        roster=counts or None,
        seed=_int(args.seed, "seed"),
        tolerance_m2=_float(args.tolerance_m2, "tolerance_m2"),
        progress=progress,
    )
    meta = result.district.metadata
    if args.quiet and meta.get("timezone_source") != "given":
        print(f"time zone {meta['timezone']} ({meta['timezone_source']})", file=sys.stderr)
    print(result.path if args.quiet else result.summary())
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Run ``patrol district list``."""
    from optimizer.district import default_data_dir
    from optimizer.storage import METADATA_FILE, list_districts

    root = Path(args.data_dir) if args.data_dir else default_data_dir()
    names = list_districts(root)
    if not names:
        print(f"no districts in {root} (create one with `patrol district import`)")
        return 0
    print(f"{'name':<20} {'nodes':>7} {'edges':>7} {'grids':<16} source")
    for name in names:
        meta = json.loads((root / name / METADATA_FILE).read_text(encoding="utf-8"))
        grids = "/".join(str(v) for _, v in sorted(meta.get("grids", {}).items()))
        print(
            f"{name:<20} {meta.get('nodes', '?'):>7} {meta.get('edges', '?'):>7} {grids:<16} "
            f"{Path(str(meta.get('source', '?'))).name}"
        )
    return 0


def run_show(args: argparse.Namespace) -> int:
    """Run ``patrol district show``."""
    from optimizer.storage import load_district

    district = load_district(args.name, data_dir=args.data_dir)
    if args.json:
        print(json.dumps(district.metadata, ensure_ascii=False, indent=1, default=str))
        return 0
    meta = district.metadata
    print(f"district {district.name} ({district.path})")
    print(f"  source: {meta.get('source', '?')}")
    if meta.get("source_sha256"):
        print(f"  sha256: {meta['source_sha256']}")
    print(f"  imported: {meta.get('import_time', '?')}")
    print(
        f"  time zone: {meta.get('timezone', 'unknown (re-import with --timezone)')}"
        + (f" ({meta['timezone_source']})" if meta.get("timezone_source") else "")
    )
    print(
        f"  streets: {district.graph.number_of_nodes()} nodes, "
        f"{district.graph.number_of_edges()} edges, CRS {district.crs}"
    )
    res = district.resources
    print(
        f"  resources: {len(res.stations)} stations, {len(res.officers)} officers, "
        f"{len(res.teams)} teams, {len(res.posts)} posts"
    )
    if district.incidents is not None:
        tag = " (synthetic)" if "incidents" in meta.get("synthetic", []) else ""
        print(f"  incidents: {len(district.incidents)}{tag}")
    report = meta.get("grids_source", {}).get("report")
    if report:
        for s in report.get("levels", []):
            print(
                f"  auto grids level {s['level']}: {s['cells']} cells, street length max/min "
                f"{s['length_balance']:.2f}, Polsby-Popper mean {s['polsby_popper_mean']:.2f}"
            )
    for level in sorted(district.grids["level"].unique()):
        ids = sorted(str(i) for i in district.grids.index[district.grids["level"] == level])
        shown = ", ".join(ids[:8]) + (f", ... ({len(ids)} cells)" if len(ids) > 8 else "")
        print(f"  level {level}: {shown}")
    return 0
