"""Faults: SIGKILL of a real server mid-ingest and mid-job, damaged imports, bad stored rows.

Real ``patrol serve`` processes on SQLite and PostgreSQL. Nothing here waits on a clock to
decide an outcome: servers are polled until they answer, jobs until they reach a state.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from api.db import make_engine, migrate, session_factory, session_scope
from api.keys import create_key
from api.models import Job, Plan, utcnow
from tests.api.conftest import Api, make_api
from tests.api.server import server_env, start_server

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
POLL_S = 0.05
WAIT_S = 600.0


def _tokens(url: str, *roles: str) -> dict[str, str]:
    engine = make_engine(url)
    migrate(engine)
    with session_scope(session_factory(engine)) as session:
        tokens = {r: create_key(session, name=f"fault-{r}", role=r)[1] for r in roles}
    engine.dispose()
    return tokens


def _query(url: str, sql: str, **params: Any) -> list[Any]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql), params).all())
    finally:
        engine.dispose()


def _until(what: str, check: Any) -> Any:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(POLL_S)
    raise AssertionError(f"not reached in {WAIT_S} s: {what}")


def _batch(k: int, size: int) -> dict[str, Any]:
    return {
        "district": "demo",
        "incidents": [
            {
                "external_id": f"kill-{k:03d}-{i:04d}",
                "time": "2026-10-05T20:00:00Z",
                "category": "theft",
                "lon": 24.94,
                "lat": 60.17,
            }
            for i in range(size)
        ],
    }


def test_sigkill_mid_ingest_keeps_every_acknowledged_batch(own_db_url: str, tmp_path: Path) -> None:
    """Acknowledged batches are stored whole with their audit entry; others whole or not at all."""
    token = _tokens(own_db_url, "analyst")["analyst"]
    env = server_env(own_db_url, key_requests_per_minute="100000")
    server = start_server(env, tmp_path / "server.log")
    size, batches = 400, 40
    acked: list[int] = []
    lock = threading.Lock()

    def send(k: int) -> None:
        try:
            with httpx.Client(base_url=server.base, timeout=120) as client:
                r = client.post("/incidents", json=_batch(k, size), headers={"X-API-Key": token})
            if r.status_code == 200:
                with lock:
                    acked.append(k)
        except httpx.HTTPError:
            pass  # the server died under this request: not acknowledged

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            futures = [pool.submit(send, k) for k in range(batches)]
            _until("3 batches acknowledged", lambda: len(acked) >= 3)
            server.kill()
            for f in futures:
                f.result()
    finally:
        server.kill()
    assert 3 <= len(acked) < batches, "the kill came after the last batch"
    counts = dict(
        _query(
            own_db_url,
            "SELECT substr(external_id, 6, 3), count(*) FROM incidents"
            " WHERE external_id LIKE 'kill-%' GROUP BY substr(external_id, 6, 3)",
        )
    )
    audited = _audited_batches(own_db_url)
    for k in range(batches):
        key = f"{k:03d}"
        stored = int(counts.get(key, 0))
        assert stored in (0, size), (k, stored)  # a batch is one transaction
        if k in acked:
            assert stored == size and key in audited, k
        if stored:
            assert key in audited, k  # the entry was committed with the rows


def _audited_batches(url: str) -> set[str]:
    """Return the batch numbers of the ingest audit entries."""
    out = set()
    for (inputs,) in _query(url, "SELECT inputs FROM audit_log WHERE action = 'incidents.ingest'"):
        data = inputs if isinstance(inputs, dict) else json.loads(inputs)
        out.add(str(data["first_external_id"])[5:8])
    return out


def _job(url: str, job_id: str) -> tuple[str, int, Any]:
    rows = _query(url, "SELECT status, attempts, error FROM jobs WHERE id = :id", id=job_id)
    return rows[0][0], int(rows[0][1]), rows[0][2]


def _ended(url: str, job_id: str) -> tuple[str, int, Any] | None:
    job = _job(url, job_id)
    return job if job[0] in ("done", "failed") else None


PLAN = {"date": "2026-12-01", "windows": ["07:00-11:00", "19:00-23:00"], "time_limit_s": 2}


def test_sigkill_mid_job_resumes_once_then_fails_with_its_reason(
    own_db_url: str, tmp_path: Path
) -> None:
    """Killed once: run again and done with one plan. Killed on both starts: failed, no plan."""
    token = _tokens(own_db_url, "planner")["planner"]
    env = server_env(own_db_url, workers="1", key_requests_per_minute="100000")
    log = tmp_path / "server.log"
    h = {"X-API-Key": token}

    def running(job_id: str, attempt: int) -> bool:
        status, attempts, _ = _job(own_db_url, job_id)
        assert status != "done" or attempts > attempt, "the job ended before it could be killed"
        return status == "running" and attempts == attempt

    first = start_server(env, log)
    try:
        ids = [httpx.post(f"{first.base}/plans", json=PLAN, headers=h, timeout=60).json()["id"]]
        ids.append(httpx.post(f"{first.base}/plans", json=PLAN, headers=h, timeout=60).json()["id"])
        one, two = ids
        _until("job 1 running", lambda: running(one, 1))
    finally:
        first.kill()
    second = start_server(env, log)  # job 1 runs again (start 2) and ends; job 2 starts
    try:
        _until("job 1 done", lambda: _job(own_db_url, one)[0] == "done")
        _until("job 2 running", lambda: running(two, 1))
    finally:
        second.kill()
    third = start_server(env, log)  # job 2 runs again (start 2): killed again
    try:
        _until("job 2 running again", lambda: running(two, 2))
    finally:
        third.kill()
    fourth = start_server(env, log)  # job 2 has had its 2 starts: failed with the reason
    try:
        status, attempts, error = _until("job 2 ended", lambda: _ended(own_db_url, two))
    finally:
        fourth.stop()
    assert _job(own_db_url, one)[:2] == ("done", 2)
    assert (status, attempts) == ("failed", 2)
    assert "interrupted" in str(error) and "stopped" in str(error)
    plans = dict(_query(own_db_url, "SELECT job_id, count(*) FROM plans GROUP BY job_id"))
    assert plans == {one: 1}  # never a duplicate, none for the failed job
    actions = [a for (a,) in _query(own_db_url, "SELECT action FROM audit_log")]
    assert actions.count("plan.generate") == 1 and actions.count("plan.failed") == 1


@pytest.fixture
def own(own_db_url: str, tmp_path: Path) -> Iterator[Api]:
    """An app of its own on a fresh database of each backend, districts in ``tmp_path``."""
    grids = tmp_path / "grids"
    grids.mkdir()
    imports = tmp_path / "imports"
    imports.mkdir()
    made = make_api(own_db_url, data_dir=grids, import_dir=imports)
    with made.client:
        yield made
    made.app.state.services.close()


def _wait(api: Api, job_id: str) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        job: dict[str, Any] = api.client.get(
            f"/jobs/{job_id}", headers=api.headers("viewer")
        ).json()
        return job if job["status"] in ("done", "failed") else None

    result: dict[str, Any] = _until(f"job {job_id} ended", ended)
    return result


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _damaged(good: bytes) -> dict[str, bytes]:
    return {
        "truncated.osm.pbf": good[: len(good) // 2],
        "garbage.osm.pbf": bytes(range(256)) * 64,
        "empty.osm": b"",
        "truncated.osm": b'<?xml version="1.0"?>\n<osm version="0.6"><node id="1" lat="60.1" lo',
        "nostreets.osm": b'<?xml version="1.0"?>\n<osm version="0.6"><node id="1" lat="60.1" '
        b'lon="24.9"/></osm>\n',
    }


def test_corrupt_osm_import_changes_nothing(own: Api) -> None:
    """Damaged OSM files fail their job naming ``osm_file``; the district stays as it was."""
    import pyrosm

    settings = own.app.state.services.settings
    good = Path(pyrosm.get_data("test_pbf")).read_bytes()
    # an existing district 'town' (a copy of the demo's prepared folder)
    own.client.get("/districts/demo", headers=own.headers("viewer"))
    shutil.copytree(settings.data_dir / "demo", settings.data_dir / "town")
    before = _digest(settings.data_dir)
    h = own.headers("planner")
    for name, data in _damaged(good).items():
        (settings.import_dir / name).write_bytes(data)
        r = own.client.post("/districts/import", json={"name": "town", "osm_file": name}, headers=h)
        assert r.status_code == 202, r.text
        job = _wait(own, r.json()["id"])
        assert job["status"] == "failed", (name, job)
        assert job["error"]["field"] == "osm_file" and job["error"]["value"] == name, job
        assert str(settings.import_dir) not in json.dumps(job)
    assert _digest(settings.data_dir) == before
    info = own.client.get("/districts/town", headers=own.headers("viewer"))
    assert info.status_code == 200 and info.json()["grids"] > 0


def test_stored_out_of_range_incident_does_not_break_the_district(own: Api) -> None:
    """A row dated 1600 (stored before dates were checked) is left out; hotspots still work."""
    engine = own.app.state.services.engine
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO incidents (district, external_id, time, category, description,"
                " lon, lat, grid_id, updated_at) VALUES ('demo', 'old-1600', :t, 'theft', '',"
                " 24.94, 60.17, NULL, :u)"
            ),
            {"t": "1600-01-01 00:00:00", "u": utcnow()},
        )
    h = own.headers("viewer")
    params = {"date": "2026-12-01", "window": "19:00-23:00"}
    r = own.client.get("/districts/demo/hotspots", params=params, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["count"] > 0
    page = own.client.get("/incidents", params={"district": "demo"}, headers=own.headers("admin"))
    assert page.status_code == 200 and page.json()["count"] == 1


def test_job_whose_plan_is_stored_ends_with_it(own: Api) -> None:
    """A job left running after its plan was stored (old crash state) ends with that plan."""
    job_id, plan_id = str(uuid.uuid4()), str(uuid.uuid4())
    inputs = {"district": "demo", "date": "2026-12-01", "windows": ["19:00-23:00"]}
    with session_scope(own.app.state.services.sessions) as session:
        session.add(
            Job(
                id=job_id,
                kind="plan",
                status="running",
                inputs=inputs,
                attempts=1,
                created_at=utcnow(),
            )
        )
        session.flush()
        session.add(
            Plan(
                id=plan_id,
                job_id=job_id,
                district="demo",
                engine="patrol",
                seed=0,
                date=dt.date(2026, 12, 1),
                summary={},
                data={},
            )
        )
    again = make_api(own.url, data_dir=own.app.state.services.settings.data_dir)
    with again.client:
        job = _wait(again, job_id)
    again.app.state.services.close()
    assert job["status"] == "done" and job["result"]["plan_id"] == plan_id
    with session_scope(own.app.state.services.sessions) as session:
        count = session.scalar(sa.select(sa.func.count()).select_from(Plan))
    assert count == 1
