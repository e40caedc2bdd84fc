"""``patrol hotspots``: list the hotspots of a district per window, from its incident history.

With no arguments it lists tomorrow's hotspots of the default windows for the embedded demo.
``--incidents FILE`` reads another history (CSV or GeoJSON) through the incident intake,
reporting its problems; ``--out`` writes the hotspots as CSV or GeoJSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.errors import InputError
from optimizer.timewindow import DEFAULT_WINDOWS, TimeWindow


def register(subparsers: Any) -> None:
    """Add the ``hotspots`` command to the ``patrol`` parser."""
    p = subparsers.add_parser(
        "hotspots",
        help="list hotspots per grid and window from the incident history",
        description="Risk per street segment (a learned correction of the network kernel "
        "density over multi-scale history, category rates, near repeats and risk terrain, or "
        "the method the district's rolling validation chose; hour and weekday profiles per "
        "category) cut into hotspots per grid and window, with value, dwell, visits and the "
        "grid's patrol demand.",
    )
    p.add_argument("--district", default="demo", help="prepared district (default: demo)")
    p.add_argument("--date", default="tomorrow", help="YYYY-MM-DD, 'today' or 'tomorrow'")
    p.add_argument(
        "--window",
        action="append",
        default=None,
        metavar="HH:MM-HH:MM",
        help="window, repeatable (default: " + ", ".join(w.label() for w in DEFAULT_WINDOWS) + ")",
    )
    p.add_argument(
        "--grid",
        action="append",
        default=None,
        metavar="GRID_ID",
        help="grid id, repeatable (default: the finest grids)",
    )
    p.add_argument(
        "--incidents",
        default=None,
        metavar="FILE",
        help="incident CSV/GeoJSON to use instead of the district's history",
    )
    p.add_argument(
        "--columns",
        default=None,
        metavar="FIELD=COL,...",
        help="column mapping of --incidents, e.g. incident_id=no,occurred_at=time",
    )
    p.add_argument("--crs", default="wgs84", help="coordinates of --incidents: wgs84, gcj02, bd09")
    p.add_argument("--tz", default=None, help="time zone of --incidents (default: UTC)")
    p.add_argument(
        "--lang",
        default="en",
        choices=("en", "zh"),
        help="language of category labels (default: en)",
    )
    p.add_argument("--top", default="5", metavar="N", help="rows shown per window (default: 5)")
    p.add_argument(
        "--out", default=None, metavar="FILE", help="write all hotspots to FILE (.csv or .geojson)"
    )
    p.set_defaults(func=run)


def _columns(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    out: dict[str, str] = {}
    for part in text.split(","):
        if "=" not in part:
            raise InputError("--columns", text, "FIELD=COLUMN pairs separated by commas")
        k, v = part.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def translate(label: str, lang: str) -> str:
    """Return a hotspot label (English category labels, comma separated) in ``lang``."""
    if lang != "zh":
        return label
    from optimizer.risk.categories import VOCABULARY

    by_en = {c.en: c.zh for c in VOCABULARY.values()}
    return "、".join(by_en.get(part.strip(), part.strip()) for part in label.split(",") if part)


def hotspots_frame(rows: list[tuple[str, Any]]) -> pd.DataFrame:
    """Return one row per (window, hotspot) with the hotspot's fields."""
    records = []
    for window, h in rows:
        records.append(
            {
                "window": window,
                "id": h.id,
                "grid_id": h.grid_id,
                "value": h.value,
                "dwell_min": h.dwell_min,
                "visits": h.visits,
                "spacing_min": h.spacing_min,
                "label": h.label,
                "length_m": h.length_m,
                "node": h.node,
                "lon": h.lon,
                "lat": h.lat,
            }
        )
    return pd.DataFrame(records)


def run(args: argparse.Namespace) -> int:
    """Run ``patrol hotspots``."""
    from rich.console import Console
    from rich.table import Table

    from optimizer.cli.plan_cmd import load_named_district, parse_date
    from optimizer.risk.hotspots import district_forecast, hotspots_for_window, patrol_demand
    from optimizer.risk.incidents import read_incidents

    day = parse_date(args.date)
    windows = [TimeWindow.parse(w, field="--window") for w in (args.window or [])] or list(
        DEFAULT_WINDOWS
    )
    try:
        top = int(args.top)
    except ValueError:
        top = -1
    if top < 1:
        raise InputError("--top", args.top, "a whole number >= 1")
    district = load_named_district(args.district)
    console = Console()
    err = Console(stderr=True)
    incidents = None
    if args.incidents:
        res = read_incidents(
            args.incidents,
            columns=_columns(args.columns),
            crs=args.crs,
            tz=args.tz or "UTC",
            graph=district.graph,
            grids=district.grids,
        )
        incidents = res.incidents
        rejected = [p for p in res.problems if not p.kept]
        err.print(
            f"{args.incidents}: {len(incidents)} incidents read, {len(rejected)} rows "
            f"rejected, {len(res.problems) - len(rejected)} warnings"
        )
        for p in res.problems[:10]:
            err.print(f"  line {p.line}: {p.field} = {p.value!r}: {p.reason}")
        if len(res.problems) > 10:
            err.print(f"  ... {len(res.problems) - 10} more (see the intake report)")
    forecast = district_forecast(district, incidents)
    err.print(f"forecast method: {forecast.method}")
    for note in forecast.notes:
        err.print(f"  note: {note}")
    rows: list[tuple[str, Any]] = []
    for w in windows:
        found = hotspots_for_window(
            district, day=day, window=w, grid_ids=args.grid, incidents=incidents
        )
        rows.extend((w.label(), h) for h in found)
        demand = patrol_demand(found)
        table = Table(
            title=f"{district.name} {day.isoformat()} {w.label()}: "
            f"{len(found)} hotspots in {len(demand)} grids"
        )
        for col in ("hotspot", "grid", "value", "dwell", "visits", "every", "main categories"):
            table.add_column(
                col, justify="right" if col in {"value", "dwell", "visits"} else "left"
            )
        for h in sorted(found, key=lambda h: -h.value)[:top]:
            table.add_row(
                h.id,
                h.grid_id,
                f"{h.value:.4f}",
                f"{h.dwell_min} min",
                str(h.visits),
                f"{h.spacing_min} min",
                translate(h.label, args.lang),
            )
        console.print(table)
        if demand:
            console.print(
                "patrol demand: "
                + ", ".join(
                    f"{g} {v:.3f}" for g, v in sorted(demand.items(), key=lambda kv: -kv[1])
                )
            )
    if args.out:
        frame = hotspots_frame(rows)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".csv":
            frame.to_csv(out, index=False)
        elif out.suffix.lower() in {".geojson", ".json"}:
            feats = [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                    "properties": {k: v for k, v in r.items() if k not in {"lon", "lat"}},
                }
                for r in json.loads(frame.to_json(orient="records"))
            ]
            out.write_text(
                json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8"
            )
        else:
            raise InputError("--out", args.out, "a .csv or .geojson file name")
        err.print(f"wrote {len(frame)} hotspots to {out}")
    return 0


if __name__ == "__main__":
    from optimizer.cli import main

    sys.exit(main(["hotspots", *sys.argv[1:]]))
