"""The dispatcher's schedule: a row per stop, grouped by window, cell and group; CSV and XLSX.

Rows run window → level-1 → level-2 → level-3 cell → group → stop. The CSV is the machine
table (times ISO 8601 with the UTC offset). The workbook is laid out for printing: per window
and level-1 cell one A4 landscape sheet with a band per level-2 cell (each on a new page), a
header row per group (cell, mode, times, members' names) and its stops with ``07:35`` times
under a note naming the time zone; then the cell summary, the left-out sites and every stop
as one flat table. Names only: no phone or ID numbers are written.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from optimizer.district import District
from optimizer.outputs.cells import CellIndex, routes_in_order, window_labels
from optimizer.outputs.summary import cell_summary
from optimizer.outputs.times import clock, iso_time, minute, timezone_note
from optimizer.outputs.wording import plural
from optimizer.plan.types import DayPlan, GroupRoute, WindowPlan

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

SCHEDULE_COLUMNS: tuple[str, ...] = (
    "date",
    "window",
    "level1",
    "level2",
    "level3",
    "grid",
    "group",
    "mode",
    "members",
    "member_names",
    "sequence",
    "kind",
    "site_id",
    "place",
    "purpose",
    "arrival",
    "departure",
    "dwell_min",
    "wait_min",
    "value",
    "lon",
    "lat",
)
"""Columns of ``schedule.csv`` and of the workbook's ``all stops`` sheet, in order.

``level1``..``level3`` are the cells of the group's planned ``grid`` (empty where it has none at
that level or the district is not given); ``arrival`` / ``departure`` are ISO 8601 with the UTC
offset; ``dwell_min`` is the time on duty at the stop (arrival to departure less ``wait_min``).
"""


def member_names(district: District | None) -> dict[str, str]:
    """Return person id -> display name for the district's officers and volunteers."""
    if district is None:
        return {}
    res = district.resources
    names = {o.id: o.name for o in res.officers}
    names.update({v.id: v.name for v in res.volunteers})
    return names


def dwell_minutes(arrival: dt.datetime, departure: dt.datetime, wait_min: float) -> float:
    """Return the time on duty at a stop: arrival to departure, less the wait for the duty."""
    return round((departure - arrival).total_seconds() / 60 - wait_min, 1)


def schedule_frame(plan: DayPlan, district: District | None = None) -> pd.DataFrame:
    """Return the schedule: one row per stop, columns :data:`SCHEDULE_COLUMNS`, in order.

    ``member_names`` holds the members' names where ``district`` is given (never phones or ID
    numbers), else is empty.
    """
    cells = CellIndex.from_district(district)
    names = member_names(district)
    rows = []
    for wp, route in routes_in_order(plan, cells):
        g = route.group
        chain = cells.chain(wp.grid_id)
        members = ", ".join(g.members)
        people = ", ".join(names.get(m, m) for m in g.members) if names else ""
        for s in route.stops:
            rows.append(
                (
                    plan.date.isoformat(),
                    wp.window.label(),
                    *chain,
                    wp.grid_id,
                    g.id,
                    g.mode,
                    members,
                    people,
                    s.sequence,
                    s.kind,
                    s.site_id,
                    s.name,
                    s.purpose,
                    iso_time(plan, s.arrival),
                    iso_time(plan, s.departure),
                    dwell_minutes(s.arrival, s.departure, s.wait_min),
                    s.wait_min,
                    s.value,
                    s.lon,
                    s.lat,
                )
            )
    return pd.DataFrame(rows, columns=list(SCHEDULE_COLUMNS))


def write_schedule_csv(
    plan: DayPlan, path: str | Path, *, district: District | None = None
) -> Path:
    """Write :func:`schedule_frame` as UTF-8 CSV (with BOM, so spreadsheet programs read names)."""
    out = Path(path)
    schedule_frame(plan, district).to_csv(out, index=False, encoding="utf-8-sig")
    return out


# ---------------------------------------------------------------------------------------------
# The printable workbook

PRINT_COLUMNS: tuple[tuple[str, float], ...] = (
    ("cell", 11),
    ("group", 19),
    ("#", 4),
    ("arrive", 7),
    ("leave", 7),
    ("wait min", 9),
    ("on duty min", 11),
    ("place", 38),
    ("purpose", 42),
)
"""Header and width (characters) of the columns of a print sheet."""

_HEADER_ROW = 3  # title, note, then the column header (repeated on every printed page)
_TITLE_SIZE = 13


def print_sheet_name(window: str, level1: str) -> str:
    """Return the sheet name of one window and level-1 cell, e.g. ``0700-1100 G1`` (≤ 31 chars)."""
    name = window.replace(":", "") + (f" {level1}" if level1 else "")
    bad = set("[]:*?/\\")
    return "".join("_" if c in bad else c for c in name)[:31]


def _group_line(route: GroupRoute, wp: WindowPlan, names: dict[str, str]) -> str:
    g = route.group
    officers = ", ".join(names.get(m, m) for m in g.officer_ids)
    volunteers = ", ".join(names.get(m, m) for m in g.volunteer_ids)
    people = f"officers: {officers}" + (f"; volunteers: {volunteers}" if volunteers else "")
    visits = sum(1 for s in route.stops if s.kind not in ("start", "end"))
    return (
        f"{g.id} · {g.mode} · cell {wp.grid_id} · "
        f"{clock(route.stops[0].departure)}–{clock(route.stops[-1].arrival)} · "
        f"{visits} stops · {route.distance_m / 1000:.1f} km · {people}"
    )


def _setup_print(ws: Worksheet, title: str, *, landscape: bool = True) -> None:
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = False
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.75
    ws.page_margins.header = ws.page_margins.footer = 0.3
    ws.oddHeader.left.text = title
    ws.oddHeader.left.size = 9
    ws.oddFooter.right.text = "page &P of &N"
    ws.oddFooter.right.size = 9


def _write_print_sheet(
    ws: Worksheet,
    plan: DayPlan,
    items: list[tuple[WindowPlan, GroupRoute]],
    cells: CellIndex,
    names: dict[str, str],
    title: str,
) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.pagebreak import Break

    bold = Font(bold=True)
    top = Alignment(vertical="top")
    wrap = Alignment(wrap_text=True, vertical="top")
    band_fill = PatternFill("solid", fgColor="D9D9D9")
    group_fill = PatternFill("solid", fgColor="F2F2F2")
    rule = Border(bottom=Side(style="thin", color="808080"))
    ncol = len(PRINT_COLUMNS)

    ws["A1"] = title
    ws["A1"].font = Font(bold=True, size=_TITLE_SIZE)
    ws["A2"] = f"{timezone_note(plan)} · {plural(len(items), 'group')}"
    ws["A2"].font = Font(italic=True)
    for j, (header, width) in enumerate(PRINT_COLUMNS, start=1):
        cell = ws.cell(row=_HEADER_ROW, column=j, value=header)
        cell.font = bold
        cell.border = rule
        ws.column_dimensions[cell.column_letter].width = width
    ws.freeze_panes = ws.cell(row=_HEADER_ROW + 1, column=1)
    ws.print_title_rows = f"{_HEADER_ROW}:{_HEADER_ROW}"

    row = _HEADER_ROW + 1
    area = None
    for wp, route in items:
        level2 = cells.at_level(wp.grid_id, 2) or wp.grid_id
        if level2 != area:
            if area is not None:
                ws.row_breaks.append(Break(id=row - 1))  # each level-2 cell on a new page
            area = level2
            n = sum(1 for w, _ in items if (cells.at_level(w.grid_id, 2) or w.grid_id) == area)
            heading = f"{cells.label(area)} — {plural(n, 'group')}"
            ws.cell(row=row, column=1, value=heading).font = Font(bold=True, size=12)
            for j in range(1, ncol + 1):
                ws.cell(row=row, column=j).fill = band_fill
            row += 1
        ws.cell(row=row, column=1, value=_group_line(route, wp, names)).font = bold
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ncol)
        ws.cell(row=row, column=1).alignment = wrap
        ws.cell(row=row, column=1).fill = group_fill
        ws.row_dimensions[row].height = 30
        row += 1
        for s in route.stops:
            values: tuple[Any, ...] = (
                wp.grid_id,
                route.group.id,
                s.sequence,
                minute(s.arrival).time(),
                minute(s.departure).time(),
                round(s.wait_min) if s.wait_min >= 1 else None,
                round(dwell_minutes(s.arrival, s.departure, s.wait_min)) or None,
                s.name,
                s.purpose,
            )
            for j, value in enumerate(values, start=1):
                cell = ws.cell(row=row, column=j, value=value)
                cell.alignment = wrap if j >= ncol - 1 else top
                if isinstance(value, dt.time):
                    cell.number_format = "hh:mm"
            row += 1
    if not items:
        ws.cell(row=row, column=1, value="no groups in this window")


def _write_frame(ws: Worksheet, frame: pd.DataFrame, *, note: str = "") -> None:
    from openpyxl.styles import Font

    start = 1
    if note:
        ws.cell(row=1, column=1, value=note).font = Font(italic=True)
        start = 2
    for j, col in enumerate(frame.columns, start=1):
        cell = ws.cell(row=start, column=j, value=str(col))
        cell.font = Font(bold=True)
        width = max([len(str(col)), *(len(str(v)) for v in frame[col].head(200))])
        ws.column_dimensions[cell.column_letter].width = min(40, width + 2)
    for i, values in enumerate(frame.itertuples(index=False), start=start + 1):
        for j, value in enumerate(values, start=1):
            ws.cell(row=i, column=j, value=None if pd.isna(value) else value)
    ws.freeze_panes = ws.cell(row=start + 1, column=1)
    ws.print_title_rows = f"{start}:{start}"
    if len(frame):
        ws.auto_filter.ref = (
            f"A{start}:{ws.cell(row=start + len(frame), column=len(frame.columns)).coordinate}"
        )


def write_schedule_xlsx(
    plan: DayPlan, path: str | Path, *, district: District | None = None
) -> Path:
    """Write the schedule as a workbook laid out for printing.

    Sheets: one per window and level-1 cell (``0700-1100 G1``; per window where the district is
    not given), ``summary`` (:func:`~optimizer.outputs.summary.cell_summary`), ``left out``
    (every hotspot and post not in a route, with its reason) and ``all stops``
    (:func:`schedule_frame`, with a filter).

    Parameters
    ----------
    plan
        The day plan.
    path
        The ``.xlsx`` file to write.
    district
        The plan's district: its cell hierarchy and the members' names.

    Returns
    -------
    Path
        ``path``.
    """
    from openpyxl import Workbook

    out = Path(path)
    cells = CellIndex.from_district(district)
    names = member_names(district)
    note = timezone_note(plan)
    book = Workbook()
    default = book.active
    ordered = routes_in_order(plan, cells)
    for label in window_labels(plan):
        level1s = list(
            dict.fromkeys(
                cells.at_level(wp.grid_id, 1) for wp in plan.windows if wp.window.label() == label
            )
        )
        for level1 in level1s:
            items = [
                (wp, r)
                for wp, r in ordered
                if wp.window.label() == label and cells.at_level(wp.grid_id, 1) == level1
            ]
            where = f", level-1 cell {cells.label(level1)}" if level1 else ""
            title = f"Patrol schedule — {plan.district}, {plan.date:%a %Y-%m-%d}, {label}{where}"
            ws = book.create_sheet(print_sheet_name(label, level1))
            _write_print_sheet(ws, plan, items, cells, names, title)
            _setup_print(ws, title)
    summary = cell_summary(plan, district)
    ws = book.create_sheet("summary")
    _write_frame(ws, summary, note=f"Summary per cell — {plan.district}, {plan.date} ({note})")
    _setup_print(ws, f"Summary — {plan.district}, {plan.date:%a %Y-%m-%d}")
    left = plan.left_out_frame()
    ws = book.create_sheet("left out")
    _write_frame(
        ws, left, note=f"Hotspots and posts not in any route — {plan.district}, {plan.date}"
    )
    _setup_print(ws, f"Left out — {plan.district}, {plan.date:%a %Y-%m-%d}")
    ws = book.create_sheet("all stops")
    _write_frame(
        ws, schedule_frame(plan, district), note=f"Every stop ({note}; ISO 8601 with offset)"
    )
    _setup_print(ws, f"All stops — {plan.district}, {plan.date:%a %Y-%m-%d}")
    if default is not None:
        book.remove(default)
    book.save(out)
    return out
