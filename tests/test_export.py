"""Plan folder outputs parse with the tools a dispatcher's devices use, every time with its zone."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
from pathlib import Path

import gpxpy
import openpyxl
import pytest

from optimizer.district import District
from optimizer.outputs.folder import files_written, write_plan
from optimizer.outputs.geojson import plan_geojson
from optimizer.outputs.schedule import SCHEDULE_COLUMNS
from optimizer.outputs.times import iso_time, timezone_note, utc_offset_text
from optimizer.plan.day import plan_day
from optimizer.plan.types import DayPlan, WindowPlan
from optimizer.timewindow import TimeWindow

MONDAY = dt.date(2026, 11, 30)
HELSINKI_WINTER = dt.timedelta(hours=2)  # the demo's time zone, from its metadata


@pytest.fixture(scope="module")
def plan(demo: District) -> DayPlan:
    return plan_day(demo, day=MONDAY, windows=["07:00-11:00", "19:00-23:00"], seed=1)


@pytest.fixture(scope="module")
def folder(plan: DayPlan, demo: District, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("plan")
    written = write_plan(plan, out, demo, html=True)
    assert all(p.is_file() and p.stat().st_size > 0 for p in files_written(written))
    return out


def _has_offset(text: str) -> bool:
    moment = dt.datetime.fromisoformat(text)
    return moment.utcoffset() == HELSINKI_WINTER


def test_geojson_routes_and_stops(plan: DayPlan, demo: District, folder: Path) -> None:
    data = json.loads((folder / "routes.geojson").read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    assert data["properties"]["timezone"] == "Europe/Helsinki"
    lines = [f for f in data["features"] if f["geometry"]["type"] == "LineString"]
    points = [f for f in data["features"] if f["geometry"]["type"] == "Point"]
    assert len(lines) == len(plan.routes) > 0
    assert len(points) == sum(len(r.stops) for r in plan.routes)
    by_group = {r.group.id: r for r in plan.routes}
    for f in lines:
        route = by_group[f["properties"]["group"]]
        assert f["geometry"]["coordinates"] == [
            [round(x, 7), round(y, 7)] for x, y in route.path.coords
        ]
        assert f["properties"]["officers"] == list(route.group.officer_ids)
        assert f["properties"]["level1"] == "D" and f["properties"]["level2"].startswith("D-")
    for f in data["features"]:
        for key in ("arrival", "departure", "start", "end"):
            if key in f["properties"]:
                assert _has_offset(f["properties"][key]), (key, f["properties"][key])
    for f in points:
        assert f["properties"]["arrival"] <= f["properties"]["departure"]
    assert plan_geojson(plan, district=demo) == data


def test_schedule_csv(plan: DayPlan, demo: District, folder: Path) -> None:
    with (folder / "schedule.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0].keys()) == SCHEDULE_COLUMNS
    assert len(rows) == sum(len(r.stops) for r in plan.routes)
    for r in rows:
        assert _has_offset(r["arrival"]) and _has_offset(r["departure"])
    first = next(r for r in plan.routes if r.group.id == rows[0]["group"])
    assert rows[0]["members"] == ", ".join(first.group.members)
    assert rows[0]["arrival"] == iso_time(plan, first.stops[0].arrival)
    assert {r["kind"] for r in rows} >= {"start", "hotspot", "end"}
    officer = first.group.officer_ids[0]
    officer_name = next(o.name for o in demo.resources.officers if o.id == officer)
    assert rows[0]["member_names"].startswith(officer_name)
    text = "".join("".join(r.values()) for r in rows)
    people = [*demo.resources.officers, *demo.resources.volunteers]
    assert not [p.phone for p in people if p.phone and p.phone in text]
    assert not [
        v.id_number for v in demo.resources.volunteers if v.id_number and v.id_number in text
    ]


def test_schedule_rows_run_window_cell_group_stop(folder: Path) -> None:
    with (folder / "schedule.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    keys = [
        (r["window"], r["level1"], r["level2"], r["level3"], r["group"], int(r["sequence"]))
        for r in rows
    ]
    assert keys == sorted(keys)
    assert {r["level2"] for r in rows} == {"D-1", "D-2", "D-3"}  # the demo plans level-2 cells


def test_gpx_per_group(plan: DayPlan, folder: Path) -> None:
    files = sorted((folder / "gpx").glob("*.gpx"))
    assert len(files) == len(plan.routes)
    by_group = {r.group.id: r for r in plan.routes}
    for path in files:
        gpx = gpxpy.parse(path.read_text(encoding="utf-8"))
        route = by_group[path.stem]
        assert len(gpx.waypoints) == len(route.stops)
        points = gpx.tracks[0].segments[0].points
        got = [c for p in points for c in (p.longitude, p.latitude)]
        assert got == pytest.approx([c for xy in route.path.coords for c in xy], abs=1e-7)
        for wpt, stop in zip(gpx.waypoints, route.stops, strict=True):
            assert wpt.time is not None and wpt.time.utcoffset() == HELSINKI_WINTER
            assert wpt.time.replace(tzinfo=None) == stop.arrival
            assert "Europe/Helsinki (UTC+02:00)" in (wpt.description or "")


def test_plan_json_and_cells_csv(plan: DayPlan, folder: Path) -> None:
    summary = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    assert summary["date"] == MONDAY.isoformat()
    assert summary["timezone"] == "Europe/Helsinki"
    assert summary["metrics"]["visits"] == plan.metrics["visits"]
    assert len(summary["windows"]) == len(plan.windows)
    for w in summary["windows"]:
        assert _has_offset(w["start"]) and _has_offset(w["end"])
        for g in w["groups"]:
            assert _has_offset(g["start"]) and _has_offset(g["end"])
    with (folder / "cells.csv").open(encoding="utf-8-sig", newline="") as fh:
        cells = list(csv.DictReader(fh))
    day = [c for c in cells if c["window"] == "day" and c["level"] == "0"]
    assert len(day) == 1 and int(day[0]["visits"]) == plan.metrics["visits"]
    assert summary["cells"][0]["cell"] == cells[0]["cell"]


def test_timezone_note_and_offsets() -> None:
    assert utc_offset_text(dt.timedelta(hours=8)) == "UTC+08:00"
    assert utc_offset_text(dt.timedelta(hours=-3, minutes=-30)) == "UTC-03:30"
    day = dt.date(2026, 3, 29)  # Helsinki's clocks go from 03:00 to 04:00
    night = WindowPlan(
        "D-1",
        TimeWindow.parse("01:00-05:00"),
        dt.datetime.combine(day, dt.time(1)),
        dt.datetime.combine(day, dt.time(5)),
        (),
        (),
        (),
    )
    summer_change = DayPlan(
        "x", day, (night,), "patrol", 0, settings={"timezone": "Europe/Helsinki"}
    )
    assert timezone_note(summer_change) == "times in Europe/Helsinki (UTC+02:00 / UTC+03:00)"
    shanghai = dataclasses.replace(summer_change, settings={"timezone": "Asia/Shanghai"})
    assert timezone_note(shanghai) == "times in Asia/Shanghai (UTC+08:00)"
    assert iso_time(shanghai, dt.datetime(2026, 12, 1, 7, 35)) == "2026-12-01T07:35+08:00"
    unknown = dataclasses.replace(summer_change, settings={})
    assert "not recorded" in timezone_note(unknown)


def test_png_maps_and_html_written(plan: DayPlan, folder: Path) -> None:
    overviews = sorted(folder.glob("map-*.png"))
    assert [p.name for p in overviews] == ["map-0700-1100.png", "map-1900-2300.png"]
    areas = sorted(p.relative_to(folder).as_posix() for p in (folder / "maps").rglob("*.png"))
    expected = sorted(
        f"maps/{wp.window.label().replace(':', '')}/L2-{wp.grid_id}.png" for wp in plan.windows
    )
    assert areas == expected  # one level-2 area map per window; no level-1 map (one level-1 cell)
    for p in [*overviews, *(folder / p for p in areas)]:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (folder / "map.html").stat().st_size > 100_000  # Leaflet inlined


def test_an_empty_plan_still_writes_a_folder(demo: District, tmp_path: Path) -> None:
    empty = DayPlan("demo", MONDAY, (), "patrol", 0)
    written = write_plan(empty, tmp_path / "empty", demo, html=True)
    assert json.loads((tmp_path / "empty" / "routes.geojson").read_text())["features"] == []
    with (tmp_path / "empty" / "schedule.csv").open(encoding="utf-8-sig") as fh:
        assert next(csv.reader(fh)) == list(SCHEDULE_COLUMNS)
    assert written["gpx"] == []
    book = openpyxl.load_workbook(tmp_path / "empty" / "schedule.xlsx")
    assert book.sheetnames == ["summary", "left out", "all stops"]
