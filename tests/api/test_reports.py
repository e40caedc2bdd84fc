"""Reports from the field over HTTP: one by one, a CSV sheet, hazards' status, bad input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import Api, make_api


@pytest.fixture
def app(own_db_url: str, demo_dir: Path) -> Iterator[Api]:
    """The service on the test session's demo district."""
    made = make_api(own_db_url, data_dir=demo_dir.parent)
    with made.client:
        yield made


def test_report_round_trip_and_hazard_status(app: Api) -> None:
    clue = {
        "district": "demo",
        "id": "C1",
        "kind": "clue",
        "category": "suspicious person",
        "text": "same man as on the photo, hospital entrance",
        "time": "2026-11-30T18:40:00+02:00",
        "lon": 24.95,
        "lat": 60.17,
        "photo": "IMG_2041.jpg",
    }
    r = app.client.post("/reports", json=clue, headers=app.headers("viewer"))
    assert r.status_code == 403
    r = app.client.post("/reports", json=clue, headers=app.headers("analyst"))
    assert r.status_code == 201, r.text
    assert r.json()["time"].startswith("2026-11-30T18:40")  # the district's local time
    sheet = (
        "编号,类型,类别,内容,时间,经度,纬度,状态\n"
        "H1,隐患,路灯损坏,,2026-11-30T17:00,24.951,60.171,\n"
        "H2,hazard,broken fence,,2026-11-30T17:10,24.952,60.172,open\n"
        "H3,hazard,x,,not a time,24.952,60.172,\n"
    )
    r = app.client.post(
        "/reports/import",
        json={"district": "demo", "csv": sheet},
        headers=app.headers("analyst"),
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["received"] == 3 and out["stored"] == 2
    assert out["problems"] == [
        {
            "row": 3,
            "column": "时间",
            "value": "not a time",
            "accepted": out["problems"][0]["accepted"],
        }
    ]
    r = app.client.get(
        "/reports?district=demo&kind=hazard&status=open", headers=app.headers("viewer")
    )
    assert sorted(x["id"] for x in r.json()["reports"]) == ["H1", "H2"]
    r = app.client.put(
        "/reports/demo/H1/status",
        json={"status": "fixed", "fixed_at": "2026-12-01T09:00:00+02:00"},
        headers=app.headers("analyst"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "fixed" and r.json()["fixed_at"].startswith("2026-12-01T09:00")
    r = app.client.get("/reports?district=demo&status=fixed", headers=app.headers("viewer"))
    assert [x["id"] for x in r.json()["reports"]] == ["H1"]
    r = app.client.put(
        "/reports/demo/C1/status", json={"status": "fixed"}, headers=app.headers("analyst")
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "report_id"
    r = app.client.put(
        "/reports/demo/nope/status", json={"status": "fixed"}, headers=app.headers("analyst")
    )
    assert r.status_code == 404


def test_report_bad_input(app: Api) -> None:
    good = {
        "district": "demo",
        "id": "C9",
        "kind": "clue",
        "category": "x",
        "time": "2026-11-30T18:40:00",
        "lon": 24.95,
        "lat": 60.17,
    }
    for change, field in (
        ({"kind": "rumour"}, "kind"),
        ({"crs": "mars"}, "crs"),
        ({"lat": 95}, "lat"),
        ({"status": "fixed"}, "status"),
        ({"district": "atlantis"}, "district"),
        ({"time": "1500-01-01T00:00:00"}, "time"),
    ):
        r = app.client.post("/reports", json={**good, **change}, headers=app.headers("analyst"))
        assert r.status_code == 422, (change, r.text)
        assert r.json()["error"]["field"] == field, (change, r.text)
    r = app.client.post(
        "/reports/import",
        json={"district": "demo", "csv": "a,b\n1,2\n"},
        headers=app.headers("analyst"),
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "columns"
