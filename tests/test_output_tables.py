"""The schedule workbook prints as a dispatcher needs it; the cell summary adds up."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest

from optimizer.cli.plan_cmd import print_cells, print_details, print_summary
from optimizer.district import District
from optimizer.outputs.cells import CellIndex, routes_in_order
from optimizer.outputs.schedule import PRINT_COLUMNS, write_schedule_xlsx
from optimizer.outputs.summary import DAY, DISTRICT_LEVEL, cell_summary, planned_cell_summary
from optimizer.outputs.wording import plural
from optimizer.plan.day import plan_day
from optimizer.plan.types import DayPlan

MONDAY = dt.date(2026, 11, 30)


@pytest.fixture(scope="module")
def plan(demo: District) -> DayPlan:
    return plan_day(demo, day=MONDAY, windows=["07:00-11:00", "19:00-23:00"], seed=2)


@pytest.fixture(scope="module")
def book(plan: DayPlan, demo: District, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_schedule_xlsx(plan, tmp_path_factory.mktemp("x") / "s.xlsx", district=demo)


def test_workbook_sheets_one_per_window_and_level1_cell(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames == ["0700-1100 D", "1900-2300 D", "summary", "left out", "all stops"]


def test_print_sheet_layout(book: Path, plan: DayPlan, demo: District) -> None:
    ws = openpyxl.load_workbook(book)["0700-1100 D"]
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert ws.freeze_panes == "A4"
    assert ws.print_title_rows == "$3:$3"  # the column header repeats on every page
    assert [c.value for c in ws[3]] == [h for h, _ in PRINT_COLUMNS]
    assert "Europe/Helsinki (UTC+02:00)" in str(ws["A2"].value)
    names = {o.id: o.name for o in demo.resources.officers}
    routes = [
        r
        for wp, r in routes_in_order(plan, CellIndex.from_district(demo))
        if wp.window.label() == "07:00-11:00"
    ]
    assert str(ws["A2"].value).endswith(f" · {plural(len(routes), 'group')}")
    # a header row per group (with its leader's name) followed by its stops, in order
    group_rows = [row for row in ws.iter_rows(min_row=4) if ws.cell(row[0].row, 3).value is None]
    group_lines = [str(r[0].value) for r in group_rows if str(r[0].value).startswith("2026")]
    assert [line.split(" · ")[0] for line in group_lines] == [r.group.id for r in routes]
    for line, route in zip(group_lines, routes, strict=True):
        assert names[route.group.officer_ids[0]] in line
    stop_rows = [row for row in ws.iter_rows(min_row=4) if isinstance(row[2].value, int)]
    assert len(stop_rows) == sum(len(r.stops) for r in routes)
    first = routes[0].stops[1]
    row = next(r for r in stop_rows if r[1].value == routes[0].group.id and r[2].value == 1)
    assert row[3].value == first.arrival.replace(second=0).time()
    assert row[3].number_format == "hh:mm"
    assert row[8].alignment.wrap_text  # purpose wraps
    # each level-2 cell after the first starts a new page
    assert len(ws.row_breaks.brk) == len({r.group.grid_id for r in routes}) - 1


def test_cell_summary_adds_up(plan: DayPlan, demo: District) -> None:
    frame = cell_summary(plan, demo)
    assert list(frame["window"].unique()) == ["07:00-11:00", "19:00-23:00", DAY]
    for window, part in frame.groupby("window"):
        top = part[part["level"] == 1]
        sub = part[part["level"] == 2]
        district = part[part["level"] == DISTRICT_LEVEL]
        assert len(top) == 1 and len(district) == 1, window
        for col in ("groups", "visits", "posts_required", "left_out", "cells_with_demand"):
            assert int(top[col].sum()) == int(sub[col].sum()) == int(district[col].sum()), col
        assert (part["cells_patrolled"] <= part["cells_with_demand"]).all()
        assert (part["posts_staffed"] <= part["posts_required"]).all()
    day = frame[(frame["window"] == DAY) & (frame["level"] == DISTRICT_LEVEL)].iloc[0]
    assert day["groups"] == len(plan.routes)
    assert day["visits"] == plan.metrics["visits"]
    assert day["coverage"] == pytest.approx(plan.metrics["coverage"], abs=1e-3)
    # rows: each level-1 cell followed by its level-2 cells, in order
    first = frame[frame["window"] == "07:00-11:00"]
    assert list(first["cell"]) == ["D", "D-1", "D-2", "D-3", "demo"]


def test_cell_summary_counts_an_unpatrolled_cell(plan: DayPlan, demo: District) -> None:
    wp = plan.windows[0]
    bare = dataclasses.replace(wp, routes=())
    changed = dataclasses.replace(plan, windows=(bare, *plan.windows[1:]))
    frame = cell_summary(changed, demo)
    row = frame[(frame["window"] == wp.window.label()) & (frame["cell"] == wp.grid_id)].iloc[0]
    assert row["groups"] == 0 and row["cells_patrolled"] == 0 and row["cells_with_demand"] == 1


def test_planned_cell_summary_without_a_district(plan: DayPlan) -> None:
    frame = planned_cell_summary(plan)
    assert len(frame) == len(plan.windows)
    assert set(frame["level"]) == {DISTRICT_LEVEL}
    assert int(frame["visits"].sum()) == plan.metrics["visits"]


def _printed(fn: object, *args: object, **kwargs: object) -> str:
    from rich.console import Console

    buffer = io.StringIO()
    fn(*args, Console(file=buffer, width=160), **kwargs)  # type: ignore[operator]
    return buffer.getvalue()


def test_printed_summary_is_per_cell_with_the_time_zone(plan: DayPlan, demo: District) -> None:
    text = _printed(print_summary, plan, Path("out"), 1.0, district=demo)
    assert "times in Europe/Helsinki (UTC+02:00)" in text.replace("\n", " ")
    cells_table, staff_table = text.split("Staff on duty")
    assert all(w.window.label() in staff_table for w in plan.staffing)
    lines = [ln for ln in cells_table.splitlines() if "│" in ln]
    cells = [ln.split("│")[2].strip() for ln in lines]
    # per window: the level-1 cell then its level-2 cells; the day: level-1 cells only
    assert cells == ["D", "D-1", "D-2", "D-3"] * 2 + ["D"]
    details = _printed(print_details, plan, demo)
    assert "07:00-11:00 D › D-1" in details and "Europe/Helsinki" in details
    by_cell = _printed(print_cells, plan, demo)
    assert sum(1 for ln in by_cell.splitlines() if "│ D-" in ln) == len(plan.windows)


def test_counts_are_worded_in_the_singular_for_one() -> None:
    assert plural(1, "group") == "1 group"
    assert plural(0, "group") == "0 groups"
    assert plural(12, "site") == "12 sites"
