"""The participation ledger through the service: rows written with plans and tracks, people's
weeks by role, a week planned as a job, bad input answered 422 naming the field."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.planning import store_plan
from optimizer.district import District
from optimizer.operations.ledger import current_week, ledger_from_plan, week_start
from optimizer.plan.types import DayPlan
from optimizer.synthetic.tracks import route_track, track_gpx
from tests.api.conftest import Api, make_api
from tests.api.test_plans import wait_job


@pytest.fixture
def ledger_api(own_db_url: str, demo_dir: Path, demo_plan: DayPlan) -> Iterator[tuple[Api, str]]:
    """The service on the demo district with the demo plan stored."""
    made = make_api(own_db_url, data_dir=demo_dir.parent)
    with made.client:
        stored = store_plan(made.app.state.services, demo_plan, job_id=None, created_by="test")
        yield made, str(stored["plan_id"])


def _error(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


def _all(api: Api, **query: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    offset = 0
    while True:
        r = api.client.get(
            "/ledger",
            params={"district": "demo", "offset": str(offset), "limit": "1000", **query},
            headers=api.headers("viewer"),
        )
        assert r.status_code == 200, r.text
        page = r.json()
        items += page["items"]
        offset += len(page["items"])
        if offset >= page["count"] or not page["items"]:
            return items


def test_stored_plan_and_tracks_fill_the_ledger(
    ledger_api: tuple[Api, str], demo: District, demo_plan: DayPlan
) -> None:
    api, plan_id = ledger_api
    expected = ledger_from_plan(demo_plan, resources=demo.resources)
    planned = _all(api, source="planned")
    assert len(planned) == len(expected) > 0
    assert {r["plan_id"] for r in planned} == {plan_id}
    hours = sum(r["hours"] for r in planned if r["duty"] == "patrol")
    assert hours == pytest.approx(float(expected[expected["duty"] == "patrol"]["hours"].sum()))
    # the same plan stored again replaces the rows of its cells and windows
    store_plan(api.app.state.services, demo_plan, job_id=None, created_by="test")
    assert len(_all(api, source="planned")) == len(expected)
    # a page and a person filter
    r = api.client.get(
        "/ledger",
        params={"district": "demo", "limit": "5", "person": planned[0]["person_id"]},
        headers=api.headers("viewer"),
    )
    assert r.status_code == 200 and r.json()["limit"] == 5
    assert {x["person_id"] for x in r.json()["items"]} == {planned[0]["person_id"]}

    # a track of the first route: its members' actual duties
    route = demo_plan.routes[0]
    body = {"file_name": f"{route.group.id}.gpx", "gpx": track_gpx(route_track(route), demo_plan)}
    r = api.client.post(f"/plans/{plan_id}/tracks", json=body, headers=api.headers("planner"))
    assert r.status_code == 201, r.text
    actual = _all(api, source="actual")
    patrol = [a for a in actual if a["duty"] == "patrol"]
    assert sorted(a["person_id"] for a in patrol) == sorted(route.group.members)
    assert all(0 < a["hours"] <= 24 for a in patrol)


def test_people_week_by_role(ledger_api: tuple[Api, str], demo: District) -> None:
    api, _ = ledger_api
    week = {"district": "demo", "week": "2026-W49"}
    r = api.client.get("/ledger/people", params=week, headers=api.headers("planner"))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["first"] == "2026-11-30" and out["last"] == "2026-12-06"
    assert out["over_cap"] == 0
    people = {p["person_id"]: p for p in out["items"]}
    assert len(people) == len(demo.resources.officers) + len(demo.resources.volunteers)
    volunteer = demo.resources.volunteers[0]
    assert people[volunteer.id]["name"] == volunteer.name
    assert people[volunteer.id]["cap"] == volunteer.max_hours_week
    assert any(p["hours"] > 0 for p in people.values())
    # without a week: the current one where the district is (Helsinki), not the server's
    r = api.client.get("/ledger/people", params={"district": "demo"}, headers=api.headers("viewer"))
    assert r.status_code == 200, r.text
    here = current_week(zoneinfo.ZoneInfo(str(demo.metadata["timezone"])))
    assert r.json()["first"] == week_start(here).isoformat()
    for role in ("viewer", "analyst"):
        r = api.client.get("/ledger/people", params=week, headers=api.headers(role))
        assert r.status_code == 200
        assert all(p["name"] is None for p in r.json()["items"])
        assert [p["hours"] for p in r.json()["items"]] == [p["hours"] for p in out["items"]]
    # the week before has no duty
    r = api.client.get(
        "/ledger/people", params={**week, "week": "2026-W48"}, headers=api.headers("viewer")
    )
    assert all(p["hours"] == 0 for p in r.json()["items"])


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/ledger/people", {"district": "demo", "week": "2026-49"}, "week"),
        ("/ledger/people", {"district": "demo", "week": "2026-W60"}, "week"),
        ("/ledger/people", {"district": "nowhere", "week": "2026-W49"}, "district"),
        ("/ledger", {"district": "demo", "from": "2026-12-02", "to": "2026-12-01"}, "to"),
        ("/ledger", {"district": "demo", "source": "guessed"}, "source"),
        ("/ledger", {"district": "demo", "from": "2026-13-01"}, "from"),
        ("/ledger", {"district": "demo", "limit": "0"}, "limit"),
        ("/ledger", {}, "district"),
    ],
)
def test_bad_queries_name_the_field(
    ledger_api: tuple[Api, str], path: str, query: dict[str, str], field: str
) -> None:
    api, _ = ledger_api
    error = _error(api.client.get(path, params=query, headers=api.headers("viewer")))
    assert field in str(error["field"]), error


def test_bad_week_requests(ledger_api: tuple[Api, str]) -> None:
    api, _ = ledger_api
    good = {"district": "demo", "start": "2026-11-30", "windows": ["19:00-23:00"]}
    for change, field in (
        ({"days": 0}, "days"),
        ({"days": 40}, "days"),
        ({"windows": ["25:00-26:00"]}, "windows"),
        ({"start": "2026-02-30"}, "start"),
        ({"district": "nowhere"}, "district"),
        ({"grid_ids": ["no-such-cell"]}, "grid"),
    ):
        r = api.client.post("/weeks", json={**good, **change}, headers=api.headers("planner"))
        assert field in str(_error(r)["field"]), (change, r.text)
    r = api.client.post("/weeks", json=good, headers=api.headers("viewer"))
    assert r.status_code == 403


@pytest.mark.slow
def test_week_job_plans_and_stores_each_day(own_db_url: str, demo_dir: Path) -> None:
    api = make_api(own_db_url, data_dir=demo_dir.parent)
    with api.client:
        body = {
            "district": "demo",
            "start": "2026-12-06",  # a Sunday: the two days lie in two ISO weeks
            "days": 2,
            "windows": ["19:00-23:00"],
            "grid_level": 1,
            "time_limit_s": 0.05,
        }
        r = api.client.post("/weeks", json=body, headers=api.headers("planner"))
        assert r.status_code == 202, r.text
        job = wait_job(api, r.json()["id"])
        assert job["status"] == "done", job
        assert len(job["result"]["plan_ids"]) == 2 and job["result"]["over_cap"] == 0
        assert job["_seen"] == sorted(job["_seen"])
        days = {r["date"] for r in _all(api, source="planned")}
        assert days == {"2026-12-06", "2026-12-07"}
        start = dt.date(2026, 12, 6)
        for week in ("2026-W49", "2026-W50"):
            r = api.client.get(
                "/ledger/people",
                params={"district": "demo", "week": week},
                headers=api.headers("viewer"),
            )
            assert r.status_code == 200 and r.json()["over_cap"] == 0
        assert start.isocalendar()[1] == 49
