"""The bureau's statistics on hand-made ledgers, reports and incidents with known totals."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import LineString, box

from optimizer.errors import InputError
from optimizer.operations.ledger import DUTY_COLUMNS
from optimizer.outputs.statistics import (
    bureau_statistics,
    near_patrol,
    report_pdf,
    report_tables,
    write_report_xlsx,
)

DAY = dt.date(2026, 11, 30)
LON, LAT = 114.05, 22.54
TO_XY = Transformer.from_crs(4326, 32650, always_xy=True)
TO_LL = Transformer.from_crs(32650, 4326, always_xy=True)
X0, Y0 = TO_XY.transform(LON, LAT)


def _ll(dx: float, dy: float) -> tuple[float, float]:
    lon, lat = TO_LL.transform(X0 + dx, Y0 + dy)
    return float(lon), float(lat)


def _duty(day, window, grid, group, person, role, team, duty, site, hours, source="planned"):
    h0, h1 = window.split("-")
    start = dt.datetime.combine(day, dt.time.fromisoformat(h0))
    end = dt.datetime.combine(day, dt.time.fromisoformat(h1))
    station = "S1" if role == "officer" else ""
    return (
        day,
        window,
        grid,
        group,
        person,
        role,
        team,
        station,
        duty,
        site,
        start,
        end,
        hours,
        source,
    )


def ledger() -> pd.DataFrame:
    w, d2 = "19:00-23:00", DAY - dt.timedelta(days=1)
    rows = [
        # group G1 in cell A on DAY: officer + 2 volunteers of team T1, a post of 30 min each
        _duty(DAY, w, "A", "G1", "O1", "officer", "", "patrol", "", 4.0),
        _duty(DAY, w, "A", "G1", "V1", "volunteer", "T1", "patrol", "", 4.0),
        _duty(DAY, w, "A", "G1", "V2", "volunteer", "T1", "patrol", "", 4.0),
        _duty(DAY, w, "A", "G1", "O1", "officer", "", "post", "P1", 0.5),
        _duty(DAY, w, "A", "G1", "V1", "volunteer", "T1", "post", "P1", 0.5),
        # group G2 in cell B on the day before: officer + volunteer of T2; post P2 planned
        _duty(d2, w, "B", "G2", "O2", "officer", "", "patrol", "", 4.0),
        _duty(d2, w, "B", "G2", "V3", "volunteer", "T2", "patrol", "", 4.0),
        _duty(d2, w, "B", "G2", "V3", "volunteer", "T2", "post", "P2", 0.25),
        # actual: only G1's officer and V1 went, P1 staffed
        _duty(DAY, w, "A", "G1", "O1", "officer", "", "patrol", "", 3.5, "actual"),
        _duty(DAY, w, "A", "G1", "V1", "volunteer", "T1", "patrol", "", 3.0, "actual"),
        _duty(DAY, w, "A", "G1", "V1", "volunteer", "T1", "post", "P1", 0.4, "actual"),
    ]
    return pd.DataFrame(rows, columns=list(DUTY_COLUMNS))


def paths() -> gpd.GeoDataFrame:
    line = LineString([_ll(0, 0), _ll(500, 0)])
    start = dt.datetime.combine(DAY, dt.time(19))
    return gpd.GeoDataFrame(
        {
            "date": [DAY],
            "window": ["19:00-23:00"],
            "grid_id": ["A"],
            "group_id": ["G1"],
            "start": [start],
            "end": [start + dt.timedelta(hours=4)],
        },
        geometry=[line],
        crs=4326,
    )


def incidents() -> pd.DataFrame:
    at = dt.datetime.combine(DAY, dt.time(20))
    pts = [_ll(100, 49), _ll(200, -60), _ll(300, 10), _ll(400, 0)]
    when = [at, at, at - dt.timedelta(hours=3), at]  # the third is before the window
    when[3] = dt.datetime.combine(DAY - dt.timedelta(days=1), dt.time(20))  # another day
    return pd.DataFrame(
        {"occurred_at": when, "lon": [p[0] for p in pts], "lat": [p[1] for p in pts]}
    )


def reports() -> pd.DataFrame:
    t = dt.datetime.combine(DAY, dt.time(10))
    lon, lat = _ll(100, 100)
    return pd.DataFrame(
        {
            "kind": ["hazard", "hazard", "hazard", "clue", "clue"],
            "time": [t, t, t - dt.timedelta(days=40), t, t],
            "status": ["fixed", "open", "fixed", "open", "open"],
            "fixed_at": [t + dt.timedelta(hours=2), None, t, None, None],
            "lon": [lon] * 5,
            "lat": [lat] * 5,
        }
    )


def cells() -> gpd.GeoDataFrame:
    (x0, y0), (x1, y1) = _ll(-1000, -1000), _ll(1000, 1000)
    return gpd.GeoDataFrame(index=["A"], geometry=[box(x0, y0, x1, y1)], crs=4326)


def test_near_patrol_within_50_m_in_window_only():
    in_window, near = near_patrol(incidents(), paths())
    assert near.tolist() == [True, False, False, False]
    assert in_window.tolist() == [True, True, False, False]


def test_district_month_totals_known():
    t = bureau_statistics(
        ledger(),
        reports=reports(),
        incidents=incidents(),
        paths=paths(),
        period="month",
        by="district",
    )
    row = t[t["period"] == "2026-11"].iloc[0]
    assert row["person_times"] == 5
    assert row["officer_times"] == 2 and row["volunteer_times"] == 3
    assert row["patrol_hours"] == 20.0  # patrol rows only; posts are nested
    assert row["patrol_groups"] == 2
    assert row["posts_staffed"] == 2 and row["posts_planned"] == 2
    assert row["hazards_found"] == 2 and row["hazards_fixed"] == 2  # the fix of October's counts
    assert row["clues"] == 2
    assert row["incidents"] == 4 and row["incidents_near_patrol"] == 1
    assert row["incidents_in_windows"] == 2
    october = t[t["period"] == "2026-10"].iloc[0]
    assert october["hazards_found"] == 1 and october["hazards_fixed"] == 0


def test_actual_source_and_posts_against_planned():
    t = bureau_statistics(ledger(), period="day", by="district", source="actual")
    row = t[t["period"] == DAY.isoformat()].iloc[0]
    assert row["person_times"] == 2 and row["patrol_hours"] == 6.5
    assert row["posts_staffed"] == 1 and row["posts_planned"] == 1


@pytest.mark.parametrize("by", ["district", "team", "cell"])
def test_a_month_without_posts_counts_none(by):
    # evening plans only (no school gate is staffed then): no post duty in the ledger at all
    frame = ledger()
    frame = frame[frame["duty"] != "post"]
    t = bureau_statistics(frame, period="month", by=by, cells=cells())
    assert (t["posts_staffed"] == 0).all() and (t["posts_planned"] == 0).all()
    assert t["person_times"].sum() == 5 and t["patrol_groups"].sum() >= 2


def test_team_and_cell_tables_add_up_to_district_and_rows():
    frame = ledger()
    district = bureau_statistics(frame, period="month", by="district")
    team = bureau_statistics(frame, period="month", by="team")
    cell = bureau_statistics(
        frame,
        period="month",
        by="cell",
        reports=reports(),
        incidents=incidents(),
        paths=paths(),
        cells=cells(),
    )
    assert set(team["unit"]) == {"police", "T1", "T2"}
    planned_patrol = frame[(frame["source"] == "planned") & (frame["duty"] == "patrol")]
    for col in ("person_times", "patrol_hours", "officer_times", "volunteer_times"):
        assert team[col].sum() == district[col].sum() == cell[col].sum()
    assert district["person_times"].sum() == len(planned_patrol)
    assert district["patrol_hours"].sum() == planned_patrol["hours"].sum()
    assert team["hazards_found"].isna().all()
    assert cell["clues"].sum() == 2 and cell["incidents"].sum() == 4


def test_week_periods_are_iso_weeks():
    t = bureau_statistics(ledger(), period="week", by="district")
    assert t["period"].tolist() == ["2026-W48", "2026-W49"]


@pytest.mark.parametrize(
    ("option", "value"), [("period", "year"), ("by", "station"), ("source", "guess")]
)
def test_bad_options_name_field(option, value):
    with pytest.raises(InputError) as err:
        bureau_statistics(ledger(), **{option: value})
    assert err.value.field == option


def test_by_cell_needs_cells_for_reports():
    with pytest.raises(InputError) as err:
        bureau_statistics(ledger(), by="cell", reports=reports())
    assert err.value.field == "cells"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_xlsx_and_pdf(tmp_path, lang):
    from openpyxl import load_workbook

    tables = report_tables(
        ledger(),
        month="2026-11",
        reports=reports(),
        incidents=incidents(),
        paths=paths(),
        cells=cells(),
    )
    path = write_report_xlsx(
        tables, tmp_path / "r.xlsx", district="demo", month="2026-11", lang=lang
    )
    wb = load_workbook(path)
    expected = (
        ["汇总", "按队伍", "按网格", "按日"]
        if lang == "zh"
        else ["Summary", "By team", "By cell", "By day"]
    )
    assert wb.sheetnames == expected
    headers = [c.value for c in wb[expected[1]][2]]
    assert headers[:3] == (
        ["时间", "队伍 / 网格", "巡逻组次"]
        if lang == "zh"
        else ["Period", "Team / cell", "Patrol groups"]
    )
    assert "Clues" not in headers and "收集线索" not in headers  # reports have no team
    assert wb[expected[1]].freeze_panes == "C3" and wb[expected[0]].freeze_panes == "B3"
    summary = [c.value for c in wb[expected[0]][3]]
    assert summary[:3] == ["2026-11", 2, 5]  # period, groups, person-times
    pdf = report_pdf(tables, district="demo", month="2026-11", lang=lang)
    assert pdf.startswith(b"%PDF")
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: the PDF's text is not checked")
    pdf_path = tmp_path / "r.pdf"
    pdf_path.write_bytes(pdf)
    text = subprocess.run(
        [pdftotext, str(pdf_path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert ("巡防工作统计" if lang == "zh" else "Patrol statistics") in text
    assert ("按队伍" if lang == "zh" else "By team") in text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_bar_chart_of_91_cells_keeps_top_and_others(tmp_path, lang):
    from optimizer.outputs.statistics import LABELS, bar_chart

    table = pd.DataFrame({"unit": [f"C{i:02d}" for i in range(91)], "person_times": range(91)})
    png = bar_chart(table, "person_times", tmp_path / "c.png", lang=lang, top=15)
    assert png.startswith(b"\x89PNG") and (tmp_path / "c.png").read_bytes() == png
    assert LABELS[lang]["others"]  # the 77 smallest are one bar


@pytest.mark.parametrize("by", ["district", "team"])
def test_days_without_duties_give_an_empty_table(by):
    empty = bureau_statistics(pd.DataFrame(columns=list(DUTY_COLUMNS)), by=by)
    assert empty.empty and list(empty.columns)[:3] == ["period", "unit", "patrol_groups"]
    other_day = DAY + dt.timedelta(days=30)
    assert bureau_statistics(ledger(), by=by, start=other_day, end=other_day).empty
