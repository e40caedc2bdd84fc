"""Round trips of what was patrolled and alerts: tracks, check-ins, plan vs actual, alerts and
their feed, and bad input answered 4xx naming the field."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.models import Plan
from api.planning import load_plan, store_plan
from optimizer.plan.types import DayPlan
from optimizer.synthetic.tracks import route_track, track_gpx
from tests.api.conftest import Api, make_api

EVENING = "19:00-23:00"


@pytest.fixture
def ops(own_db_url: str, demo_dir: Path, demo_plan: DayPlan) -> Iterator[tuple[Api, str]]:
    """The service on the test session's demo district, with the demo plan stored."""
    made = make_api(own_db_url, data_dir=demo_dir.parent)
    with made.client:
        stored = store_plan(made.app.state.services, demo_plan, job_id=None, created_by="test")
        yield made, str(stored["plan_id"])


def _error(response: object) -> dict[str, object]:
    body = response.json()  # type: ignore[attr-defined]
    assert "error" in body, body
    error: dict[str, object] = body["error"]
    return error


def test_tracks_checkins_and_plan_vs_actual(ops: tuple[Api, str], demo_plan: DayPlan) -> None:
    api, plan_id = ops
    route = demo_plan.routes[0]
    skipped = next(s for s in route.stops if s.kind == "hotspot")
    skip = {s.sequence for s in route.stops if s.site_id == skipped.site_id}
    gpx = track_gpx(route_track(route, skip=skip), demo_plan)
    url = f"/plans/{plan_id}/tracks"
    body = {"file_name": f"{route.group.id}.gpx", "gpx": gpx}

    r = api.client.post(url, json=body, headers=api.headers("viewer"))
    assert r.status_code == 403
    r = api.client.post(url, json=body, headers=api.headers("planner"))
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["group_id"] == route.group.id and out["points"] > 100
    # the same file again replaces it
    r = api.client.post(url, json=body, headers=api.headers("planner"))
    assert r.status_code == 201

    other = demo_plan.routes[1]
    site = next(s for s in other.stops if s.kind == "hotspot")
    checkins = {
        "checkins": [
            {"group_id": other.group.id, "site_id": site.site_id, "time": site.arrival.isoformat()}
        ]
    }
    r = api.client.post(f"/plans/{plan_id}/checkins", json=checkins, headers=api.headers("planner"))
    assert r.status_code == 201, r.text
    assert r.json() == {"plan_id": plan_id, "received": 1, "stored": 1}

    r = api.client.get(f"/plans/{plan_id}/actuals", headers=api.headers("viewer"))
    assert r.status_code == 200, r.text
    actual = r.json()
    assert actual["tracks"] == 1 and actual["checkins"] == 1
    groups = {g["group"]: g for g in actual["groups"]}
    assert groups[route.group.id]["tracked"] and groups[route.group.id]["missed"] >= 1
    assert not groups[other.group.id]["tracked"]
    made = [
        s
        for s in actual["stops"]
        if s["group"] == other.group.id and s["site_id"] == site.site_id and s["checked_in"]
    ]
    assert made and made[0]["status"] == "made"
    assert skipped.site_id in {d["hotspot_id"] for d in actual["under_served"]}
    assert actual["day"]["groups"] == len(demo_plan.routes)


def test_tracks_bad_input(ops: tuple[Api, str], demo_plan: DayPlan) -> None:
    api, plan_id = ops
    route = demo_plan.routes[0]
    gpx = track_gpx(route_track(route), demo_plan)
    h = api.headers("planner")
    cases = [
        (f"/plans/{plan_id}/tracks", {"gpx": "<gpx>nope"}, 422, "gpx"),
        (f"/plans/{plan_id}/tracks", {"gpx": gpx, "group_id": "G-x"}, 422, "group_id"),
        ("/plans/nope/tracks", {"gpx": gpx}, 404, "plan_id"),
        (
            f"/plans/{plan_id}/checkins",
            {
                "checkins": [
                    {"group_id": route.group.id, "site_id": "x", "time": "2026-11-30T08:00"}
                ]
            },
            422,
            "checkins[0].site_id",
        ),
        (
            f"/plans/{plan_id}/checkins",
            {"checkins": [{"group_id": "G-x", "site_id": "x", "time": "2026-11-30T08:00"}]},
            422,
            "checkins[0].group_id",
        ),
        (f"/plans/{plan_id}/checkins", {"checkins": []}, 422, "checkins"),
    ]
    for url, body, code, field in cases:
        r = api.client.post(url, json=body, headers=h)
        assert r.status_code == code, (url, body, r.text)
        assert _error(r)["field"] == field, r.text
    r = api.client.get("/plans/nope/actuals", headers=api.headers("viewer"))
    assert r.status_code == 404


def _evening_hotspot(plan: DayPlan) -> tuple[float, float]:
    wp = next(w for w in plan.windows if w.window.label() == EVENING and w.routes)
    visited = {s.site_id for r in wp.routes for s in r.stops}
    h = next(h for h in wp.hotspots if h.id in visited)
    return h.lon, h.lat


@pytest.mark.slow
def test_alert_replans_lists_and_feeds(ops: tuple[Api, str], demo_plan: DayPlan) -> None:
    api, plan_id = ops
    lon, lat = _evening_hotspot(demo_plan)
    day = demo_plan.date.isoformat()
    body = {
        "district": "demo",
        "id": "A1",
        "text": "pickpocket seen at the hospital",
        "lon": lon,
        "lat": lat,
        "start": f"{day}T19:30:00+02:00",
        "end": f"{day}T21:00:00+02:00",
        "radius_m": 150,
        "factor": 3,
        "within_m": 400,
        "plan_ids": [plan_id],
    }
    from tests.api.test_plans import wait_job

    r = api.client.post("/alerts", json=body, headers=api.headers("planner"))
    assert r.status_code == 202, r.text
    assert r.headers["Location"] == f"/jobs/{r.json()['id']}"
    job = wait_job(api, r.json()["id"])
    assert job["status"] == "done", job
    alert = job["result"]["alert"]
    assert alert["start"].startswith(f"{day}T19:30")  # the district's local time
    (replan,) = alert["replans"]
    assert replan["windows"] == [EVENING] and replan["new_plan_id"]
    assert any(x["kind"] == "group" for x in alert["recipients"])
    assert "pickpocket" in alert["message"]
    with api.app.state.services.sessions() as session:
        row = session.get(Plan, replan["new_plan_id"])
        assert row is not None and row.parent_id == plan_id
        notes = load_plan(row).settings["notes"]
    assert any(n.startswith(EVENING) and "alert A1" in n for n in notes)

    r = api.client.post("/alerts", json=body, headers=api.headers("planner"))
    assert r.status_code == 409 and _error(r)["field"] == "id"

    r = api.client.get("/alerts?district=demo", headers=api.headers("viewer"))
    assert r.status_code == 200 and [a["id"] for a in r.json()["alerts"]] == ["A1"]

    r = api.client.get("/alerts/feed?follow=false", headers=api.headers("viewer"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    events = [e for e in r.text.split("\n\n") if e.startswith("id:")]
    assert len(events) == 1 and "event: alert" in events[0]
    data = json.loads(events[0].split("data: ", 1)[1])
    assert data["id"] == "A1"
    r = api.client.get(
        "/alerts/feed?follow=false",
        headers={**api.headers("viewer"), "Last-Event-ID": str(data["seq"])},
    )
    assert r.status_code == 200 and "id:" not in r.text


def test_alert_bad_input(ops: tuple[Api, str], demo_plan: DayPlan) -> None:
    api = ops[0]
    day = demo_plan.date.isoformat()
    good = {
        "district": "demo",
        "lon": 24.95,
        "lat": 60.17,
        "start": f"{day}T19:30:00",
        "end": f"{day}T21:00:00",
    }
    cases = [
        ({"end": f"{day}T19:00:00"}, 422, "end"),
        ({"crs": "mars"}, 422, "crs"),
        ({"factor": 0.5}, 422, "factor"),
        ({"radius_m": 0}, 422, "radius_m"),
        ({"lat": 91}, 422, "lat"),
        ({"within_m": -5}, 422, "within_m"),
        ({"plan_ids": ["nope"]}, 422, "plan_ids[0]"),
        ({"district": "atlantis"}, 422, "district"),
        ({"id": "a/b"}, 422, "id"),
    ]
    for change, code, field in cases:
        r = api.client.post("/alerts", json={**good, **change}, headers=api.headers("planner"))
        assert r.status_code == code, (change, r.text)
        assert _error(r)["field"] == field, (change, r.text)
    r = api.client.post(
        "/alerts",
        content=json.dumps(good).replace("24.95", "NaN"),
        headers={**api.headers("planner"), "Content-Type": "application/json"},
    )
    assert r.status_code == 422 and _error(r)["field"] == "lon"
    r = api.client.post("/alerts", json=good, headers=api.headers("viewer"))
    assert r.status_code == 403
    r = api.client.get(
        "/alerts/feed?follow=false", headers={**api.headers("viewer"), "Last-Event-ID": "x"}
    )
    assert r.status_code == 422 and _error(r)["field"] == "Last-Event-ID"


@pytest.mark.slow
def test_next_days_plan_takes_deficits_and_alerts(ops: tuple[Api, str], demo_plan: DayPlan) -> None:
    from tests.api.test_plans import wait_job

    api, plan_id = ops
    wp = next(w for w in demo_plan.windows if w.window.label() == EVENING and w.routes)
    route = wp.routes[0]
    skipped = next(s for s in route.stops if s.kind == "hotspot")
    skip = {s.sequence for s in route.stops if s.site_id == skipped.site_id}
    body = {"gpx": track_gpx(route_track(route, skip=skip), demo_plan)}
    r = api.client.post(f"/plans/{plan_id}/tracks", json=body, headers=api.headers("planner"))
    assert r.status_code == 201, r.text
    next_day = (demo_plan.date + dt.timedelta(days=1)).isoformat()
    lon, lat = _evening_hotspot(demo_plan)
    alert = {
        "district": "demo",
        "id": "A2",
        "text": "bag snatcher",
        "lon": lon,
        "lat": lat,
        "start": f"{next_day}T18:00:00",
        "end": f"{next_day}T23:30:00",
        "radius_m": 150,
    }
    r = api.client.post("/alerts", json=alert, headers=api.headers("planner"))
    assert r.status_code == 202, r.text
    job = wait_job(api, r.json()["id"])
    assert job["status"] == "done" and job["result"]["alert"]["replans"] == [], job

    plan_body = {
        "district": "demo",
        "date": next_day,
        "windows": [EVENING],
        "grid_ids": [wp.grid_id],
        "time_limit_s": 0.2,
        "seed": 3,
        "deficits_from": [plan_id],
    }
    bad = {**plan_body, "date": demo_plan.date.isoformat()}
    r = api.client.post("/plans", json=bad, headers=api.headers("planner"))
    assert r.status_code == 422 and _error(r)["field"] == "deficits_from[0]"
    r = api.client.post("/plans", json=plan_body, headers=api.headers("planner"))
    assert r.status_code == 202, r.text
    job = wait_job(api, r.json()["id"])
    assert job["status"] == "done", job
    with api.app.state.services.sessions() as session:
        row = session.get(Plan, job["result"]["plan_id"])
        assert row is not None
        notes = load_plan(row).settings["notes"]
    assert any("dosage deficit" in n and "weigh more" in n for n in notes), notes
    assert any("alert A2" in n for n in notes), notes
