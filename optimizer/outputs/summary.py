"""The plan summed up per level-1 and level-2 cell, per planned cell, and as JSON.

:func:`cell_summary` is the table a dispatcher reads first (window by window, each level-1 cell
followed by its level-2 cells, then the day); :func:`planned_cell_summary` has one row per
planned cell (level 3 on a bureau's plan); :func:`plan_summary_json` is ``plan.json``.
Sums and coverage come from :func:`optimizer.plan.metrics.day_metrics`, the plan's own rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.district import District
from optimizer.outputs.cells import CellIndex, window_labels, windows_in_order
from optimizer.outputs.times import iso_time, timezone_note
from optimizer.plan.metrics import day_metrics
from optimizer.plan.types import DayPlan, WindowPlan

SUMMARY_COLUMNS: tuple[str, ...] = (
    "window",
    "level",
    "cell",
    "name",
    "groups",
    "cells_patrolled",
    "cells_with_demand",
    "visits",
    "value_covered",
    "value_total",
    "coverage",
    "posts_staffed",
    "posts_required",
    "km",
    "patrol_min",
    "left_out",
)
"""Columns of :func:`cell_summary` and :func:`planned_cell_summary`, in order.

``cells_patrolled`` / ``cells_with_demand`` count planned cells (level 3 on a bureau's plan)
with at least one group / with hotspots or posts to cover; ``coverage`` is the share of the
hotspot value whose recommended passes were made.
"""

DAY = "day"
"""The ``window`` of rows that sum the whole day."""

DISTRICT_LEVEL = 0
"""The ``level`` of the row that sums the whole district."""


def has_demand(wp: WindowPlan) -> bool:
    """Whether a planned cell had something to cover in its window: hotspots or posts."""
    return bool(wp.hotspots) or wp.metrics.get("posts_required", 0.0) > 0


def _row(
    window: str, level: int, cell: str, name: str, wps: Sequence[WindowPlan]
) -> dict[str, Any]:
    m = day_metrics(wps)
    return {
        "window": window,
        "level": level,
        "cell": cell,
        "name": name,
        "groups": sum(len(wp.routes) for wp in wps),
        "cells_patrolled": sum(1 for wp in wps if wp.routes),
        "cells_with_demand": sum(1 for wp in wps if has_demand(wp)),
        "visits": int(m["visits"]),
        "value_covered": round(m["value_covered"], 4),
        "value_total": round(m["value_total"], 4),
        "coverage": round(m["coverage"], 3),
        "posts_staffed": int(m["posts_staffed"]),
        "posts_required": int(m["posts_required"]),
        "km": round(m["km"], 1),
        "patrol_min": round(m["patrol_min"]),
        "left_out": int(m["left_out"]),
    }


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def cell_summary(
    plan: DayPlan, district: District | None = None, *, levels: Sequence[int] = (1, 2)
) -> pd.DataFrame:
    """Return the plan summed per cell of ``levels``, window by window, then for the day.

    Parameters
    ----------
    plan
        The day plan.
    district
        The plan's district (its grid hierarchy). Without it, or where the plan's cells are not
        in it, the rows are the planned cells themselves (as :func:`planned_cell_summary`).
    levels
        Levels to sum at; each cell's row is followed by the rows of its cells one level down.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SUMMARY_COLUMNS`. For each window and then for ``window == "day"``: each
        level-1 cell, followed by its level-2 cells, ..., and last a row for the whole district
        (``level`` 0, ``cell`` the district's name).
    """
    cells = CellIndex.from_district(district)
    if not all(wp.grid_id in cells for wp in plan.windows):
        return planned_cell_summary(plan, district)
    wanted = sorted(set(levels))
    periods = [*window_labels(plan), DAY]
    rows: list[dict[str, Any]] = []
    for period in periods:
        wps = [wp for wp in plan.windows if period in (DAY, wp.window.label())]
        by_cell: dict[str, list[WindowPlan]] = {}
        for wp in wps:
            for level in wanted:
                key = cells.at_level(wp.grid_id, level)
                if key:
                    by_cell.setdefault(key, []).append(wp)
        for cell in cells.order(by_cell):
            rows.append(
                _row(period, cells.level[cell], cell, cells.name.get(cell, ""), by_cell[cell])
            )
        if wps:
            rows.append(_row(period, DISTRICT_LEVEL, plan.district, "", wps))
    return _frame(rows)


def planned_cell_summary(plan: DayPlan, district: District | None = None) -> pd.DataFrame:
    """Return one row per window and planned cell (level 3 on a bureau's plan), in order.

    Columns :data:`SUMMARY_COLUMNS`; ``level`` is 0 where the district is not given.
    """
    cells = CellIndex.from_district(district)
    rows = [
        _row(
            wp.window.label(),
            cells.level.get(wp.grid_id, DISTRICT_LEVEL),
            wp.grid_id,
            cells.name.get(wp.grid_id, ""),
            [wp],
        )
        for wp in windows_in_order(plan, cells)
    ]
    return _frame(rows)


def write_cell_summary_csv(
    plan: DayPlan, path: str | Path, *, district: District | None = None
) -> Path:
    """Write :func:`cell_summary` as UTF-8 CSV (with BOM, for spreadsheet programs)."""
    out = Path(path)
    cell_summary(plan, district).to_csv(out, index=False, encoding="utf-8-sig")
    return out


def plan_summary_json(plan: DayPlan, *, district: District | None = None) -> dict[str, Any]:
    """Return the plan's summary as JSON-able data.

    Parameters
    ----------
    plan
        The day plan.
    district
        The plan's district: adds ``cells``, the :func:`cell_summary` records.

    Returns
    -------
    dict
        District, date, time zone, engine, seed, settings, metrics, and per window plan its
        start and end (ISO 8601 with the UTC offset), metrics, groups and left-out sites.
    """
    tz = plan.timezone
    data: dict[str, Any] = {
        "district": plan.district,
        "date": plan.date.isoformat(),
        "timezone": tz.key if tz is not None else None,
        "timezone_note": timezone_note(plan),
        "engine": plan.engine,
        "seed": plan.seed,
        "settings": plan.settings,
        "metrics": plan.metrics,
        "windows": [
            {
                "window": wp.window.label(),
                "grid": wp.grid_id,
                "start": iso_time(plan, wp.start),
                "end": iso_time(plan, wp.end),
                "metrics": wp.metrics,
                "groups": [
                    {
                        "id": r.group.id,
                        "mode": r.group.mode,
                        "officers": list(r.group.officer_ids),
                        "volunteers": list(r.group.volunteer_ids),
                        "station": r.group.station_id,
                        "muster": r.group.muster_id,
                        "start": iso_time(plan, r.stops[0].departure),
                        "end": iso_time(plan, r.stops[-1].arrival),
                        "stops": len(r.stops),
                        "distance_m": r.distance_m,
                        "patrol_min": r.patrol_min,
                        "dwell_min": r.dwell_min,
                        "value": r.value,
                    }
                    for r in wp.routes
                ],
                "left_out": [
                    {"site_id": lo.site_id, "kind": lo.kind, "reason": lo.reason}
                    for lo in wp.left_out
                ],
            }
            for wp in plan.windows
        ],
    }
    data["staffing"] = staffing_summary(plan)
    if district is not None:
        data["cells"] = cell_summary(plan, district).to_dict(orient="records")
    return data


def staffing_summary(plan: DayPlan) -> list[dict[str, Any]]:
    """Return, per window, how the staff on duty was used and why some was not.

    Counts (officers on shift, in groups, unused; volunteers eligible and in groups; cells with
    demand and with a group; post duties), the unused people counted by reason code, the post
    duties no group was allocated for and the cells with demand but no group, with reasons.
    """
    out = []
    for ws in plan.staffing:
        unused: dict[str, dict[str, int]] = {}
        for u in ws.unassigned:
            if u.code != "unavailable":
                by_code = unused.setdefault(u.role, {})
                by_code[u.code] = by_code.get(u.code, 0) + 1
        out.append(
            {
                "window": ws.window.label(),
                **{k: int(v) for k, v in ws.counts.items()},
                "unused_by_reason": unused,
                "unstaffed_posts": [vars(p).copy() for p in ws.unstaffed_posts],
                "cells_without_group": dict(ws.uncovered),
            }
        )
    return out
