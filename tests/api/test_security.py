"""Security: the key before the body, limits with Retry-After, no paths, personal data, docs.

On SQLite and PostgreSQL (``own_db_url``) where the database matters; the ASGI-level checks
call the app directly with a ``receive`` that records whether the body was asked for.
"""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
import sqlalchemy as sa

from api.main import DESCRIPTION
from api.middleware import OPEN_PATHS
from api.models import Job, utcnow
from tests.api.conftest import Api, make_api
from tests.api.server import running, server_env

INCIDENT = {
    "external_id": "sec-1",
    "time": "2026-11-01T10:00:00+02:00",
    "category": "theft",
    "lon": 24.94,
    "lat": 60.17,
}


@pytest.fixture
def own(own_db_url: str, tmp_path: Path) -> Iterator[Api]:
    """An app of its own on a fresh database of each backend."""
    made = make_api(own_db_url, import_dir=tmp_path)
    with made.client:
        yield made
    made.app.state.services.close()


def _audit_count(api: Api) -> int:
    with api.app.state.services.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one())


def _asgi_post(app: Any, path: str, headers: list[tuple[bytes, bytes]]) -> tuple[int, bool]:
    """POST to ``app`` directly; return the status and whether the body was ever received."""
    asked = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal asked
        asked = True
        return {"type": "http.request", "body": json.dumps({"x": 1}).encode(), "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.9", 5000),
        "server": ("testserver", 80),
        "state": {},
    }
    anyio.run(app, scope, receive, send)
    return status, asked


def test_key_is_checked_before_the_body_is_read(own: Api) -> None:
    before = _audit_count(own)
    for headers in ([], [(b"x-api-key", b"pk_wrong")], [(b"authorization", b"Bearer nope")]):
        for path in ("/incidents", "/plans", "/keys", "/districts/demo/resources"):
            status, asked = _asgi_post(own.app, path, headers)
            assert status == 401 and not asked, (path, headers)
    assert _audit_count(own) == before  # unauthenticated requests write no audit entry
    # with a valid key the body is read (and the refusal by role is audited)
    status, asked = _asgi_post(own.app, "/keys", [(b"x-api-key", own.tokens["viewer"].encode())])
    assert status == 403 and asked
    assert _audit_count(own) == before + 1


def test_unauthenticated_huge_body_is_refused_without_reading_it(tmp_path: Path) -> None:
    """18 MiB declared, not a byte sent: a real server answers 401 at once."""
    env = server_env(f"sqlite:///{tmp_path / 'p.sqlite'}")
    with running(env, tmp_path / "server.log") as server:
        host, port = server.base.removeprefix("http://").split(":")
        request = (
            "POST /incidents HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {18 * 1024 * 1024}\r\n\r\n"
        ).encode()
        with socket.create_connection((host, int(port)), timeout=120) as conn:
            conn.sendall(request)
            answer = conn.recv(4096).decode("latin-1")
        assert answer.startswith("HTTP/1.1 401"), answer[:200]
        assert "www-authenticate: APIKey" in answer


def test_failed_keys_are_limited_per_address(tmp_path: Path) -> None:
    api = make_api(f"sqlite:///{tmp_path / 'f.sqlite'}", auth_failures_per_minute=3)
    with api.client:
        for _ in range(3):
            assert (
                api.client.get("/districts", headers={"X-API-Key": "pk_guess"}).status_code == 401
            )
        r = api.client.get("/districts", headers={"X-API-Key": "pk_guess"})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert r.json()["error"]["field"] == "X-API-Key"
        # the address is locked out whatever key it sends, until the minute has passed
        assert api.client.get("/districts", headers=api.headers("viewer")).status_code == 429
        assert api.client.get("/health").status_code == 200


def test_requests_are_limited_per_key(tmp_path: Path) -> None:
    api = make_api(f"sqlite:///{tmp_path / 'r.sqlite'}", key_requests_per_minute=5)
    with api.client:
        for _ in range(5):
            assert api.client.get("/districts", headers=api.headers("viewer")).status_code == 200
        r = api.client.get("/districts", headers=api.headers("viewer"))
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert "per key" in r.json()["error"]["accepted"]
        assert api.client.get("/districts", headers=api.headers("analyst")).status_code == 200


def test_queued_jobs_are_limited_per_key(own: Api) -> None:
    from api.keys import hash_token

    limit = 2
    api = make_api(own.url, key_active_jobs=limit)
    with api.client, api.app.state.services.sessions() as session:
        key = session.execute(
            sa.text("SELECT id, name, role FROM api_keys WHERE key_hash = :h"),
            {"h": hash_token(api.tokens["planner"])},
        ).one()
        for _ in range(limit):  # queued jobs of this key that no worker has taken yet
            session.add(
                Job(
                    id=str(uuid.uuid4()),
                    kind="plan",
                    status="queued",
                    inputs={},
                    created_by=f"{key.id}:{key.name}:{key.role}",
                    created_at=utcnow(),
                )
            )
        session.commit()
        body = {"date": "2026-12-01", "windows": ["19:00-23:00"], "time_limit_s": 1}
        r = api.client.post("/plans", json=body, headers=api.headers("planner"))
        assert r.status_code == 429, r.text
        assert int(r.headers["Retry-After"]) >= 1 and r.json()["error"]["field"] == "jobs"
        count = session.execute(sa.text("SELECT count(*) FROM jobs")).scalar_one()
        assert count == limit  # nothing stored for the refused request
    api.app.state.services.close()


def test_chunked_oversize_body_is_413(tmp_path: Path) -> None:
    api = make_api(f"sqlite:///{tmp_path / 'c.sqlite'}", max_request_bytes=2000)
    batch = {
        "district": "demo",
        "incidents": [{**INCIDENT, "external_id": f"c{i}"} for i in range(40)],
    }
    data = json.dumps(batch).encode()

    def chunks() -> Iterator[bytes]:  # no Content-Length: sent chunked
        for i in range(0, len(data), 500):
            yield data[i : i + 500]

    with api.client:
        h = {**api.headers("admin"), "content-type": "application/json"}
        r = api.client.post("/incidents", content=chunks(), headers=h)
        assert r.status_code == 413, r.text
        assert r.json()["error"]["field"] == "body"
        audit = api.client.get("/audit", headers=h).json()["items"]
        assert [(a["path"], a["status"]) for a in audit] == [("/incidents", 413)]
        page = api.client.get("/incidents", params={"district": "demo"}, headers=h).json()
        assert page["count"] == 0


def test_import_reveals_no_file_existence(own: Api, tmp_path: Path) -> None:
    h = own.headers("planner")
    exists = Path(__file__).resolve()
    answers = []
    # a file outside the import folder that exists, and one that does not
    for name in (str(exists), str(exists.with_name("no-such-file.py"))):
        r = own.client.post("/districts/import", json={"name": "x", "osm_file": name}, headers=h)
        error = r.json()["error"]
        assert r.status_code == 422 and error["field"] == "osm_file", r.text
        answers.append(error["accepted"])
        assert str(tmp_path) not in r.text  # the import folder is never named
    assert len(set(answers)) == 1  # the same answer whether a file exists or not
    for name in ("conftest.py", "nothing.osm"):  # bare names are looked up in the folder only
        r = own.client.post("/districts/import", json={"name": "x", "osm_file": name}, headers=h)
        assert r.status_code == 422 and str(tmp_path) not in r.text


def test_only_the_documented_routes_are_open(own: Api) -> None:
    for path in OPEN_PATHS:
        assert f"`{path}`" in DESCRIPTION
    spec = own.client.get("/openapi.json").json()["paths"]
    operations = [(m.upper(), p) for p, ops in spec.items() for m in ops]
    assert len(operations) > 20
    for method, template in operations:
        path = template.replace("{", "").replace("}", "")
        r = own.client.request(method, path)
        expected = 200 if template in OPEN_PATHS else 401
        assert r.status_code == expected, (method, template, r.status_code)
    for path in OPEN_PATHS:
        if path not in spec and path != "/docs/oauth2-redirect":
            assert own.client.get(path).status_code == 200, path
    assert own.client.get("/redoc").status_code == 401  # no other documentation route


def test_last_admin_key_cannot_revoke_itself(own: Api) -> None:
    admin = own.headers("admin")
    keys = own.client.get("/keys", headers=admin).json()["items"]
    first = next(k["id"] for k in keys if k["role"] == "admin")
    r = own.client.delete(f"/keys/{first}", headers=admin)
    assert r.status_code == 409 and r.json()["error"]["constraint"] == "last_admin"
    second = own.client.post("/keys", json={"name": "second", "role": "admin"}, headers=admin)
    assert second.status_code == 201
    other = {"X-API-Key": second.json()["token"]}
    assert own.client.delete(f"/keys/{first}", headers=other).status_code == 200
    r = own.client.delete(f"/keys/{second.json()['id']}", headers=other)
    assert r.status_code == 409
    assert own.client.get("/keys", headers=other).status_code == 200


def test_audit_keeps_no_personal_data(own: Api) -> None:
    h = own.headers("planner")
    team = own.client.get("/districts/demo/resources/teams", headers=h).json()["items"][0]
    phone, id_number = "13912345678", "110101199003071234"
    member = {**team["members"][0], "phone": phone, "id_number": id_number}
    changed = {**team, "members": [member, *team["members"][1:]]}
    r = own.client.put(f"/districts/demo/resources/teams/{team['id']}", json=changed, headers=h)
    assert r.status_code == 200, r.text
    officer = own.client.get("/districts/demo/resources/officers", headers=h).json()["items"][0]
    r = own.client.put(
        f"/districts/demo/resources/officers/{officer['id']}",
        json={**officer, "phone": "13700001111"},
        headers=h,
    )
    assert r.status_code == 200, r.text
    audit = own.client.get("/audit", headers=own.headers("admin")).json()["items"]
    text = json.dumps(audit)
    assert '"resources.teams.put"' in text
    for secret in (phone, id_number, "13700001111"):
        assert secret not in text
    # and roles without personal:read see none of it
    viewer = own.client.get("/districts/demo/resources", headers=own.headers("viewer")).json()
    assert all(o["phone"] is None for o in viewer["officers"])
    assert phone not in json.dumps(viewer) and "13700001111" not in json.dumps(viewer)
    planner = own.client.get("/districts/demo/resources", headers=h).json()
    assert phone in json.dumps(planner)


def test_times_are_answered_with_their_offset(own: Api) -> None:
    h = own.headers("analyst")
    r = own.client.post("/incidents", json={"district": "demo", "incidents": [INCIDENT]}, headers=h)
    assert r.status_code == 200, r.text
    item = own.client.get("/incidents", params={"district": "demo"}, headers=h).json()["items"][0]
    assert item["time"] in ("2026-11-01T08:00:00Z", "2026-11-01T08:00:00+00:00")
    r = own.client.get(
        "/incidents",
        params={"district": "demo", "start": "2026-11-01T09:30:00+02:00"},
        headers=h,
    )
    assert r.json()["count"] == 1  # 07:30 UTC <= 08:00 UTC


def test_windows_crossing_midnight_are_kept(own: Api) -> None:
    h = own.headers("viewer")
    for window in ("22:00-02:00", "20:00-08:00", "19:00-18:00+1"):
        r = own.client.get(
            "/districts/demo/resources/availability",
            params={"date": "2026-12-01", "window": window},
            headers=h,
        )
        assert r.status_code == 200, r.text
        assert r.json()["window"] == window
    r = own.client.get(
        "/districts/demo/resources/availability",
        params={"date": "2026-12-01", "window": "19:00-18:00"},
        headers=h,
    )
    assert r.status_code == 422 and "+1" in r.json()["error"]["accepted"]
