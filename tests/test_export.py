"""Plan folder outputs parse with the tools a dispatcher's devices use."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import gpxpy
import openpyxl
import pytest

from optimizer.district import District
from optimizer.outputs.export import SCHEDULE_COLUMNS, files_written, plan_geojson, write_plan
from optimizer.plan.day import plan_day
from optimizer.plan.types import DayPlan
from optimizer.synthetic.demo import build_demo_district

MONDAY = dt.date(2026, 11, 30)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> District:
    return build_demo_district(tmp_path_factory.mktemp("export-demo") / "demo")


@pytest.fixture(scope="module")
def plan(demo: District) -> DayPlan:
    return plan_day(
        demo, day=MONDAY, windows=["07:00-11:00", "19:00-23:00"], seed=1, time_limit_s=1
    )


@pytest.fixture(scope="module")
def folder(plan: DayPlan, demo: District, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("plan")
    written = write_plan(plan, out, demo, html=True)
    assert all(p.is_file() and p.stat().st_size > 0 for p in files_written(written))
    return out


def test_geojson_routes_and_stops(plan: DayPlan, folder: Path) -> None:
    data = json.loads((folder / "routes.geojson").read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
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
    for f in points:
        arrival = dt.datetime.fromisoformat(f["properties"]["arrival"])
        departure = dt.datetime.fromisoformat(f["properties"]["departure"])
        assert arrival <= departure
        assert arrival.utcoffset() == dt.timedelta(hours=2)  # Helsinki in winter, from metadata
    assert plan_geojson(plan) == data


def test_schedule_csv(plan: DayPlan, demo: District, folder: Path) -> None:
    with (folder / "schedule.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0].keys()) == SCHEDULE_COLUMNS
    assert len(rows) == sum(len(r.stops) for r in plan.routes)
    first = plan.routes[0]
    assert rows[0]["group"] == first.group.id
    assert rows[0]["members"] == ", ".join(first.group.members)
    assert rows[0]["arrival"] == f"{first.stops[0].arrival:%Y-%m-%d %H:%M}"
    assert {r["kind"] for r in rows} >= {"start", "hotspot", "end"}
    officer = first.group.officer_ids[0]
    officer_name = next(o.name for o in demo.resources.officers if o.id == officer)
    assert rows[0]["member_names"].startswith(officer_name)
    text = "".join(rows[0].values())
    assert all(v.phone not in text for v in demo.resources.volunteers if v.phone)


def test_schedule_xlsx(plan: DayPlan, folder: Path) -> None:
    book = openpyxl.load_workbook(folder / "schedule.xlsx", read_only=True)
    assert book.sheetnames == ["summary", "0700-1100", "1900-2300"]
    sheet = book["0700-1100"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert tuple(header) == SCHEDULE_COLUMNS
    n_rows = sum(1 for _ in sheet.iter_rows(min_row=2))
    assert n_rows == sum(
        len(r.stops) for w in plan.windows if w.window.label() == "07:00-11:00" for r in w.routes
    )


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
        first = gpx.waypoints[0].time
        assert first is not None and first.utcoffset() == dt.timedelta(hours=2)
        assert first.replace(tzinfo=None) == route.stops[0].arrival


def test_png_maps_and_json(plan: DayPlan, folder: Path) -> None:
    pngs = sorted(folder.glob("map-*.png"))
    assert [p.name for p in pngs] == ["map-0700-1100.png", "map-1900-2300.png"]
    for p in pngs:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert p.stat().st_size > 20_000  # streets and routes drawn, not an empty canvas
    summary = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    assert summary["date"] == MONDAY.isoformat()
    assert summary["metrics"]["visits"] == plan.metrics["visits"]
    assert len(summary["windows"]) == len(plan.windows)
    html = (folder / "map.html").read_text(encoding="utf-8")
    assert "PolyLine" in html or "polyline" in html


def test_an_empty_plan_still_writes_a_folder(demo: District, tmp_path: Path) -> None:
    empty = DayPlan("demo", MONDAY, (), "patrol", 0)
    written = write_plan(empty, tmp_path / "empty", demo)
    assert json.loads((tmp_path / "empty" / "routes.geojson").read_text())["features"] == []
    with (tmp_path / "empty" / "schedule.csv").open(encoding="utf-8-sig") as fh:
        assert next(csv.reader(fh)) == list(SCHEDULE_COLUMNS)
    assert written["gpx"] == []
    assert openpyxl.load_workbook(tmp_path / "empty" / "schedule.xlsx").sheetnames == ["summary"]
