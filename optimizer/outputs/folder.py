"""Write a whole plan folder for dispatchers and devices.

::

    schedule.csv              a row per stop, by window → level-1 → level-2 → level-3 cell → group
    schedule.xlsx             the same laid out for printing (A4 landscape), summary, left out
    cells.csv                 the plan summed per level-1 and level-2 cell, window by window
    routes.geojson            a LineString per group route, a Point per stop
    gpx/<group>.gpx           one file per group route (track + timed waypoints) for handhelds
    map-<HHMM-HHMM>.png       a small overview of the district per window
    maps/<HHMM-HHMM>/L1-*.png an overview per level-1 cell (districts with more than one)
    maps/<HHMM-HHMM>/L2-*.png a detailed map per level-2 area: numbered stops, left-out sites
    map.html                  optional interactive map that works with no network
    plan.json                 summary, metrics, settings, left-out sites with reasons

Coordinates are WGS-84 (EPSG:4326); machine files write times as ISO 8601 with the district's
UTC offset, files for people write ``07:35`` under a note naming the time zone.
"""

from __future__ import annotations

import json
from pathlib import Path

from optimizer.district import District
from optimizer.outputs.geojson import write_geojson
from optimizer.outputs.gpx import write_gpx
from optimizer.outputs.html_map import write_html_map
from optimizer.outputs.maps import write_maps
from optimizer.outputs.schedule import write_schedule_csv, write_schedule_xlsx
from optimizer.outputs.summary import plan_summary_json, write_cell_summary_csv
from optimizer.plan.types import DayPlan


def write_plan(
    plan: DayPlan,
    out_dir: str | Path,
    district: District | None = None,
    *,
    html: bool = False,
    maps: bool = True,
) -> dict[str, Path | list[Path]]:
    """Write the whole plan folder (see the module docstring).

    Parameters
    ----------
    plan
        The day plan.
    out_dir
        Folder to write into (created if missing; files of the same name are replaced).
    district
        The plan's district: cells, streets, posts and members' names.
    html
        Also write ``map.html``.
    maps
        Write the PNG maps (the slowest part).

    Returns
    -------
    dict
        Kind of output -> file (or files).
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path | list[Path]] = {
        "geojson": write_geojson(plan, folder / "routes.geojson", district=district),
        "csv": write_schedule_csv(plan, folder / "schedule.csv", district=district),
        "xlsx": write_schedule_xlsx(plan, folder / "schedule.xlsx", district=district),
        "cells": write_cell_summary_csv(plan, folder / "cells.csv", district=district),
        "gpx": write_gpx(plan, folder / "gpx"),
    }
    if maps:
        written["png"] = write_maps(plan, folder, district=district)
    if html:
        written["html"] = write_html_map(plan, folder / "map.html", district=district)
    summary = folder / "plan.json"
    summary.write_text(
        json.dumps(
            plan_summary_json(plan, district=district), ensure_ascii=False, indent=1, default=str
        ),
        encoding="utf-8",
    )
    written["json"] = summary
    return written


def files_written(written: dict[str, Path | list[Path]]) -> list[Path]:
    """Flatten :func:`write_plan`'s answer to a sorted list of files."""
    out: list[Path] = []
    for value in written.values():
        out.extend(value if isinstance(value, list) else [value])
    return sorted(out)
