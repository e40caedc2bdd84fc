"""Plans over HTTP: job with progress, plan, GeoJSON/GPX/CSV/XLSX, replan, restart survival."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from collections.abc import Iterator
from typing import Any

import gpxpy
import openpyxl
import pytest

from tests.api.conftest import Api, make_api

DAY = "2026-12-01"
WINDOW = "19:00-23:00"


def wait_job(api: Api, job_id: str, timeout: float = 1200.0) -> dict[str, Any]:
    """Poll a job until it is done or failed; return it.

    ``timeout`` is a safety net against a hung job, not a speed check: a job's duration depends
    on the machine's load (the 120 s once used here failed on a busy machine).
    """
    seen: list[float] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = api.client.get(
            f"/jobs/{job_id}", headers=api.headers("viewer")
        ).json()
        seen.append(job["progress"])
        if job["status"] in ("done", "failed"):
            job["_seen"] = seen
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


@pytest.fixture(scope="module")
def planned(api: Api) -> Iterator[tuple[Api, dict[str, Any]]]:
    """A planner plans one window of the demo through HTTP (1 s solver limit)."""
    body = {"district": "demo", "date": DAY, "windows": [WINDOW], "time_limit_s": 1, "seed": 3}
    r = api.client.post("/plans", json=body, headers=api.headers("planner"))
    assert r.status_code == 202, r.text
    assert r.headers["location"] == f"/jobs/{r.json()['id']}"
    job = wait_job(api, r.json()["id"])
    assert job["status"] == "done", job
    yield api, job


def test_job_reports_progress_and_result(planned: tuple[Api, dict[str, Any]]) -> None:
    _, job = planned
    assert job["progress"] == 1.0 and job["message"] == "done"
    assert job["_seen"] == sorted(job["_seen"])  # progress never goes back
    assert job["result"]["plan_id"] and job["result"]["routes"] > 0
    assert job["created_by"].endswith(":planner")
    assert job["started_at"] and job["finished_at"]


def test_plan_summary(planned: tuple[Api, dict[str, Any]]) -> None:
    api, job = planned
    pid = job["result"]["plan_id"]
    r = api.client.get(f"/plans/{pid}", headers=api.headers("viewer"))
    assert r.status_code == 200
    plan = r.json()
    assert plan["id"] == pid and plan["date"] == DAY and plan["seed"] == 3
    windows = plan["summary"]["windows"]
    assert windows and {w["window"] for w in windows} == {WINDOW}
    groups = [g for w in windows for g in w["groups"]]
    assert groups and all(g["officers"] for g in groups)
    listed = api.client.get("/plans", params={"date": DAY}, headers=api.headers("viewer")).json()
    assert pid in [p["id"] for p in listed["items"]]


@pytest.mark.parametrize("role", ["planner", "viewer"])
def test_exports(planned: tuple[Api, dict[str, Any]], role: str) -> None:
    api, job = planned
    pid = job["result"]["plan_id"]
    h = api.headers(role)
    fc = api.client.get(f"/plans/{pid}/routes.geojson", headers=h).json()
    routes = [f for f in fc["features"] if f["properties"]["type"] == "route"]
    assert routes and all(f["geometry"]["type"] == "LineString" for f in routes)
    r = api.client.get(f"/plans/{pid}/gpx", headers=h)
    assert r.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert len(names) == len(routes)
    group = routes[0]["properties"]["group"]
    r = api.client.get(f"/plans/{pid}/gpx/{group}.gpx", headers=h)
    assert r.status_code == 200
    gpx = gpxpy.parse(r.text)
    assert gpx.tracks[0].segments[0].points and gpx.waypoints
    r = api.client.get(f"/plans/{pid}/gpx/nogroup", headers=h)
    assert r.status_code == 404 and r.json()["error"]["field"] == "group_id"
    rows = list(
        csv.DictReader(io.StringIO(api.client.get(f"/plans/{pid}/schedule.csv", headers=h).text))
    )
    assert rows and {"group", "arrival", "place"} <= set(rows[0])
    r = api.client.get(f"/plans/{pid}/schedule.xlsx", headers=h)
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert len(book.sheetnames) >= 1


def test_plan_failures(api: Api) -> None:
    h = api.headers("planner")
    base = {"district": "demo", "date": DAY, "windows": [WINDOW], "time_limit_s": 1}
    cases: list[tuple[dict[str, Any], str]] = [
        ({**base, "windows": ["25:00-26:00"]}, "windows[0]"),
        ({**base, "windows": []}, "windows"),
        ({**base, "grid_ids": ["nowhere"]}, "grid"),
        ({**base, "district": "atlantis"}, "district"),
        ({**base, "time_limit_s": 100000}, "time_limit_s"),
        ({**base, "time_limit_s": 0}, "time_limit_s"),
        ({**base, "engine": "gurobi"}, "engine"),
        ({**base, "date": "someday"}, "date"),
    ]
    for body, field in cases:
        r = api.client.post("/plans", json=body, headers=h)
        assert r.status_code == 422, (body, r.text)
        assert field in r.json()["error"]["field"], (field, r.json())
    assert api.client.get("/plans/nope", headers=h).status_code == 404
    assert api.client.get("/jobs/nope", headers=h).status_code == 404
    assert api.client.get("/plans/nope/routes.geojson", headers=h).status_code == 404
    assert api.client.post("/plans", json=base, headers=api.headers("analyst")).status_code == 403


def test_plan_generation_is_audited(planned: tuple[Api, dict[str, Any]]) -> None:
    api, job = planned
    entries = api.client.get(
        "/audit", params={"action": "plan.generate"}, headers=api.headers("admin")
    ).json()["items"]
    mine = [e for e in entries if e["result"].get("plan_id") == job["result"]["plan_id"]]
    assert mine and mine[0]["role"] == "planner"
    assert mine[0]["inputs"]["windows"] == [WINDOW] and mine[0]["inputs"]["seed"] == 3


def test_replan_running_window(planned: tuple[Api, dict[str, Any]]) -> None:
    api, job = planned
    pid = job["result"]["plan_id"]
    h_view = api.headers("viewer")
    plan = api.client.get(f"/plans/{pid}", headers=h_view).json()
    win = next(w for w in plan["summary"]["windows"] if w["groups"])
    h = api.headers("planner")
    fc = api.client.get(f"/plans/{pid}/routes.geojson", headers=h_view).json()
    group = win["groups"][0]["id"]
    stop = next(
        f
        for f in fc["features"]
        if f["properties"]["type"] == "stop" and f["properties"]["group"] == group
    )
    body = {
        "grid_id": win["grid"],
        "window": WINDOW,
        "now": f"{DAY}T20:30:00",
        "positions": {group: stop["geometry"]["coordinates"]},
        "time_limit_s": 1,
    }
    r = api.client.post(f"/plans/{pid}/replan", json=body, headers=h)
    assert r.status_code == 202, r.text
    done = wait_job(api, r.json()["id"])
    assert done["status"] == "done", done
    new = api.client.get(f"/plans/{done['result']['plan_id']}", headers=h).json()
    assert new["parent_id"] == pid and new["is_replan"]
    assert isinstance(done["result"]["changed_stops"], int)
    r = api.client.post(
        f"/plans/{pid}/replan", json={**body, "positions": {"ghost": [0, 0]}}, headers=h
    )
    ghost = wait_job(api, r.json()["id"])
    assert ghost["status"] == "failed" and "ghost" in ghost["error"]["field"]
    r = api.client.post(f"/plans/{pid}/replan", json={**body, "grid_id": "nowhere"}, headers=h)
    failed = wait_job(api, r.json()["id"])
    assert failed["status"] == "failed" and "grid_id" in failed["error"]["field"]
    audit = api.client.get(
        "/audit", params={"action": "replan.failed"}, headers=api.headers("admin")
    ).json()["items"]
    # The failed job's audit row is written by the worker right after the job's status: the
    # ghost job's row may land after this one, so look the row up rather than take the newest.
    nowhere = [a for a in audit if a["inputs"].get("grid_id") == "nowhere"]
    assert nowhere and nowhere[0]["role"] == "planner"
    assert "grid_id" in nowhere[0]["result"]["error"]["field"]
    r = api.client.post("/plans/nope/replan", json=body, headers=h)
    assert r.status_code == 404
    r = api.client.post(f"/plans/{pid}/replan", json={**body, "window": "x"}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["field"] == "window"
    r = api.client.post(f"/plans/{pid}/replan", json=body, headers=api.headers("viewer"))
    assert r.status_code == 403


def test_plans_jobs_incidents_survive_a_restart(planned: tuple[Api, dict[str, Any]]) -> None:
    api, job = planned
    pid = job["result"]["plan_id"]
    api.client.post(
        "/incidents",
        json={
            "district": "demo",
            "incidents": [
                {
                    "external_id": "restart-1",
                    "time": "2026-11-20T20:00:00",
                    "category": "restart",
                    "lon": 24.94,
                    "lat": 60.17,
                }
            ],
        },
        headers=api.headers("admin"),
    )
    again = make_api(api.url)  # a second process on the same database
    with again.client:
        h = again.headers("viewer")
        assert again.client.get(f"/plans/{pid}", headers=h).json()["id"] == pid
        assert again.client.get(f"/jobs/{job['id']}", headers=h).json()["status"] == "done"
        assert again.client.get(f"/plans/{pid}/schedule.csv", headers=h).status_code == 200
        page = again.client.get(
            "/incidents",
            params={"district": "demo", "category": "restart"},
            headers=again.headers("analyst"),
        ).json()
        assert [i["external_id"] for i in page["items"]] == ["restart-1"]


@pytest.mark.slow  # plans after a restart: full run only, not the fast lane
def test_unfinished_jobs_run_again_after_a_restart(api: Api) -> None:
    """A job left 'running' by a stopped process is queued again and finished on start."""
    import uuid

    from api.db import session_scope
    from api.models import Job

    job_id = str(uuid.uuid4())
    inputs = {
        "district": "demo",
        "date": DAY,
        "windows": [WINDOW],
        "grid_ids": None,
        "grid_level": None,
        "engine": "ortools",
        "seed": 1,
        "time_limit_s": 1,
    }
    with session_scope(api.app.state.services.sessions) as session:
        session.add(
            Job(
                id=job_id,
                kind="plan",
                status="running",
                progress=0.4,
                message="interrupted",
                inputs=inputs,
                attempts=1,
            )
        )
    again = make_api(api.url)  # the restarted process
    with again.client:
        job = wait_job(again, job_id)
        assert job["status"] == "done", job
        assert job["result"]["plan_id"]
        with session_scope(again.app.state.services.sessions) as session:
            row = session.get(Job, job_id)
            assert row is not None and row.attempts == 2


def test_list_jobs(planned: tuple[Api, dict[str, Any]]) -> None:
    api, job = planned
    h = api.headers("viewer")
    done = api.client.get("/jobs", params={"status": "done"}, headers=h).json()
    assert job["id"] in [j["id"] for j in done["items"]]
    assert all(j["status"] == "done" for j in done["items"])
    r = api.client.get("/jobs", params={"status": "sleeping"}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["field"] == "status"


@pytest.mark.slow  # a pool of processes: full run only, not the fast lane
def test_planning_jobs_solve_in_a_warm_pool_with_the_same_plan(own_db_url: str) -> None:
    """With ``solve_workers`` > 1 the service keeps one solve pool for all its jobs, and a plan
    made there is the plan made in the job's thread (deterministic budgets)."""
    from optimizer.plan.solve import LocalPool

    body = {"district": "demo", "date": DAY, "windows": [WINDOW], "time_limit_s": 0.2, "seed": 1}
    plans = []
    for solve_workers in (1, 2):
        made = make_api(own_db_url, solve_workers=solve_workers)
        with made.client:
            services = made.app.state.services
            for _ in range(2):
                r = made.client.post("/plans", json=body, headers=made.headers("planner"))
                job = wait_job(made, r.json()["id"])
                assert job["status"] == "done", job
                csv = made.client.get(
                    f"/plans/{job['result']['plan_id']}/schedule.csv",
                    headers=made.headers("planner"),
                )
                plans.append(csv.text)
            pool = services.solve_executor()
            assert (pool is None) if solve_workers == 1 else isinstance(pool, LocalPool)
            assert services.solve_executor() is pool, "kept for the next job"
    assert len(set(plans)) == 1, "the same plan in the thread and in the pool, twice each"
