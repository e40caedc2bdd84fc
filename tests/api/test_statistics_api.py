"""The bureau's statistics through the service: from the stored plan, ledger rows, reports and
incidents; the monthly report as PDF and XLSX; bad input answered 422 naming the field."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from api.planning import store_plan
from optimizer.district import District
from optimizer.operations.ledger import ledger_from_plan
from optimizer.plan.types import DayPlan
from tests.api.conftest import Api, make_api

DAY = "2026-11-30"


@pytest.fixture
def stats_api(own_db_url: str, demo_dir: Path, demo_plan: DayPlan) -> Iterator[Api]:
    """The service on the demo district with the demo plan and two reports stored."""
    made = make_api(own_db_url, data_dir=demo_dir.parent)
    with made.client:
        store_plan(made.app.state.services, demo_plan, job_id=None, created_by="test")
        lon, lat = demo_plan.routes[0].path.coords[0]
        for i, kind in enumerate(("hazard", "clue")):
            r = made.client.post(
                "/reports",
                json={"district": "demo", "id": f"R{i}", "kind": kind, "category": "other",
                      "text": "seen", "time": f"{DAY}T10:00", "lon": lon, "lat": lat},
                headers=made.headers("planner"),
            )  # fmt: skip
            assert r.status_code in (200, 201), r.text
        yield made


def _get(api: Api, path: str, **query: str) -> Any:
    return api.client.get(path, params=query, headers=api.headers("viewer"))


def test_statistics_add_up_to_the_stored_rows(
    stats_api: Api, demo: District, demo_plan: DayPlan
) -> None:
    expected = ledger_from_plan(demo_plan, resources=demo.resources)
    patrol = expected[expected["duty"] == "patrol"]
    by = {}
    for unit in ("district", "team", "cell"):
        r = _get(stats_api, "/statistics", district="demo", **{"from": DAY}, to=DAY, by=unit)
        assert r.status_code == 200, r.text
        by[unit] = r.json()["items"]
    for unit, items in by.items():
        assert sum(i["person_times"] for i in items) == len(patrol), unit
        assert sum(i["patrol_hours"] for i in items) == pytest.approx(patrol["hours"].sum())
    (row,) = by["district"]
    assert row["hazards_found"] == 1 and row["clues"] == 1
    assert 0 <= row["incidents_near_patrol"] <= row["incidents"]
    assert all(i["clues"] is None for i in by["team"])


@pytest.mark.parametrize("unit", ["district", "team", "cell"])
def test_days_without_duties_give_no_rows(stats_api: Api, unit: str) -> None:
    r = _get(stats_api, "/statistics", district="demo", **{"from": "2026-06-01"}, to="2026-06-02",
             by=unit)  # fmt: skip
    assert r.status_code == 200, r.text
    assert all(i["person_times"] == 0 for i in r.json()["items"])


@pytest.mark.parametrize("fmt", ["pdf", "xlsx"])
def test_monthly_report(stats_api: Api, fmt: str) -> None:
    r = _get(stats_api, "/statistics/report", district="demo", month="2026-11", lang="en",
             format=fmt)  # fmt: skip
    assert r.status_code == 200, r.text
    if fmt == "pdf":
        assert r.content.startswith(b"%PDF")
    else:
        wb = load_workbook(io.BytesIO(r.content))
        assert wb.sheetnames == ["Summary", "By team", "By cell", "By day"]


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/statistics", {"district": "demo", "from": DAY, "to": "2026-11-01"}, "to"),
        ("/statistics", {"district": "demo", "from": DAY, "to": DAY, "by": "station"}, "by"),
        ("/statistics", {"district": "demo", "from": DAY, "to": DAY, "period": "year"}, "period"),
        ("/statistics", {"district": "nowhere", "from": DAY, "to": DAY}, "district"),
        ("/statistics", {"district": "demo", "to": DAY}, "from"),
        ("/statistics/report", {"district": "demo", "month": "2026-13"}, "month"),
        ("/statistics/report", {"district": "demo", "month": "2026-11", "format": "doc"}, "format"),
    ],
)
def test_bad_input_names_the_field(
    stats_api: Api, path: str, query: dict[str, str], field: str
) -> None:
    r = _get(stats_api, path, **query)
    assert r.status_code == 422, r.text
    assert field in str(r.json()["error"]["field"]), r.text
