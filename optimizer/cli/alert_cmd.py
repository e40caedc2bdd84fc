"""``patrol alert``: raise a "watch for" alert, re-plan the windows it affects, list who to tell.

``patrol alert DISTRICT --at LON,LAT --from T --to T --text "..."`` writes ``alert.json`` (for
``patrol plan --alert``) into ``--out`` (default ``out/alert-<id>``); for each saved plan of the
alert's days (``--plan``, default ``out/plan-<date>/plan.json`` where it exists) it re-plans the
windows the alert overlaps — only the cells near the place — writes ``plan-<date>.json`` and
prints what changed, the groups and posts within ``--within`` metres, and the message.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

from optimizer.cli.plan_cmd import load_named_district
from optimizer.cli.tracks_cmd import load_plan_file
from optimizer.coords import COORD_SYSTEMS
from optimizer.errors import InputError


def register(subparsers: Any) -> None:
    """Add the ``alert`` command to the ``patrol`` parser."""
    p = subparsers.add_parser(
        "alert",
        help="raise a 'watch for' alert at a place: re-plan the affected windows, list who to tell",
        description="A 'watch for' alert at a place and time span: the hotspots within --radius "
        "are worth --factor times more while it runs; the saved plans of its days are re-planned "
        "in the windows it overlaps (only the cells near the place); the groups and posts within "
        "--within metres are listed with the message to send.",
    )
    p.add_argument("district", help="district name (or folder)")
    p.add_argument("--at", required=True, metavar="LON,LAT", help="the place")
    p.add_argument("--crs", default="wgs84", choices=COORD_SYSTEMS, help="of --at (default wgs84)")
    p.add_argument("--from", dest="start", required=True, metavar="TIME", help="YYYY-MM-DDTHH:MM")
    p.add_argument("--to", dest="end", required=True, metavar="TIME", help="YYYY-MM-DDTHH:MM")
    p.add_argument("--text", default="", help="what to watch for")
    p.add_argument("--id", default=None, help="alert id (default: A<yyyymmddHHMM>)")
    p.add_argument("--radius", default="300", metavar="M", help="place radius (default 300 m)")
    p.add_argument("--factor", default="2", help="risk multiplier while it runs (default 2)")
    p.add_argument("--within", default="500", metavar="M", help="list groups/posts this close")
    p.add_argument("--plan", action="append", metavar="PLAN.json", help="saved plans to re-plan")
    p.add_argument("--out", metavar="DIR", help="default: out/alert-<id>")
    p.set_defaults(func=run)


def _number(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InputError(name, text, "a number") from None


def _place(text: str) -> tuple[float, float]:
    parts = str(text).replace(" ", "").split(",")
    if len(parts) != 2:
        raise InputError("--at", text, "LON,LAT, e.g. 114.0579,22.5431")
    return _number("--at", parts[0]), _number("--at", parts[1])


def run(args: argparse.Namespace) -> int:
    """Run ``patrol alert``."""
    from optimizer.operations.alerts import alert_message, make_alert, replan_for_alert
    from optimizer.outputs.plan_io import plan_to_dict

    district = load_named_district(args.district)
    tz = district.timezone
    lon, lat = _place(args.at)
    try:
        start = dt.datetime.fromisoformat(args.start)
    except ValueError:
        raise InputError("--from", args.start, "a time YYYY-MM-DDTHH:MM") from None
    alert = make_alert(
        id=args.id or f"A{start:%Y%m%d%H%M}",
        text=args.text,
        lon=lon,
        lat=lat,
        crs=args.crs,
        start=start,
        end=args.end,
        radius_m=_number("--radius", args.radius),
        factor=_number("--factor", args.factor),
        timezone=tz,
    )
    within = _number("--within", args.within)
    out = Path(args.out) if args.out else Path("out") / f"alert-{alert.id}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "alert.json").write_text(json.dumps(alert.to_dict(), indent=1), encoding="utf-8")
    print(
        f"alert {alert.id}: {alert.text or '(no text)'} at {alert.lon:.6f}, "
        f"{alert.lat:.6f} (WGS-84; given in {alert.crs}), {alert.start:%Y-%m-%d %H:%M} to "
        f"{alert.end:%Y-%m-%d %H:%M}, radius {alert.radius_m:g} m, risk x{alert.factor:g}"
    )
    days = [
        alert.start.date() + dt.timedelta(days=i)
        for i in range((alert.end.date() - alert.start.date()).days + 1)
    ]
    if args.plan:
        paths = [Path(p) for p in args.plan]
    else:
        paths = [
            Path("out") / f"plan-{d}" / "plan.json"
            for d in days
            if (Path("out") / f"plan-{d}" / "plan.json").exists()
        ]
    if not paths:
        print(
            f"no saved plan of {', '.join(map(str, days))}: plan with "
            f"`patrol plan --alert {out / 'alert.json'}`"
        )
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        day = dt.date.fromisoformat(str(data.get("date"))) if data.get("date") else days[0]
        plan = load_plan_file(path, district=district.name, day=day)
        result = replan_for_alert(plan, alert, district=district, within_m=within)
        target = out / f"plan-{plan.date}.json"
        target.write_text(json.dumps(plan_to_dict(result.plan)), encoding="utf-8")
        print(f"\n{plan.date} ({path}): re-planned {len(result.windows)} windows -> {target}")
        for note in result.notes:
            print(f"  {note}")
        changes = result.changes_frame()
        if len(changes):
            print(changes.to_string(index=False))
        print("\nto tell")
        print(result.recipients_frame().to_string(index=False))
        print(f"\n{alert_message(alert, result.recipients)}")
    return 0
