"""Access control: 401 without a valid key, 403 for the wrong role, personal data hidden."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api

WRITE_ROUTES: list[tuple[str, str, dict[str, object], set[str]]] = [
    # method, path, body, roles allowed
    (
        "post",
        "/plans",
        {"district": "demo", "date": "2026-12-01", "windows": ["bad"]},
        {"admin", "planner"},
    ),
    (
        "put",
        "/districts/demo/resources",
        {"stations": [{"id": "S", "lon": 500, "lat": 0}]},
        {"admin", "planner"},
    ),
    ("post", "/incidents", {"district": "demo", "incidents": []}, {"admin", "planner", "analyst"}),
    (
        "post",
        "/districts/import",
        {"name": "x", "osm_path": "/nonexistent.osm"},
        {"admin", "planner"},
    ),
    ("post", "/keys", {"name": "x", "role": "nobody"}, {"admin"}),
]


@pytest.mark.parametrize(
    "path",
    [
        "/districts",
        "/plans",
        "/incidents?district=demo",
        "/keys",
        "/audit",
        "/districts/demo/resources",
    ],
)
def test_no_key_is_401(api: Api, path: str) -> None:
    r = api.client.get(path)
    assert r.status_code == 401
    assert r.json()["error"]["field"] == "X-API-Key"


def test_unknown_key_is_401_and_health_is_open(api: Api) -> None:
    assert api.client.get("/districts", headers={"X-API-Key": "pk_nope"}).status_code == 401
    assert api.client.get("/health").json()["status"] == "ok"


def test_bearer_header_works(api: Api) -> None:
    r = api.client.get("/districts", headers={"Authorization": f"Bearer {api.tokens['viewer']}"})
    assert r.status_code == 200
    assert "demo" in r.json()["items"]


@pytest.mark.parametrize("method,path,body,allowed", WRITE_ROUTES)
@pytest.mark.parametrize("role", ["admin", "planner", "analyst", "viewer"])
def test_role_matrix_for_writes(
    api: Api, role: str, method: str, path: str, body: dict[str, object], allowed: set[str]
) -> None:
    # every body is invalid, so an allowed role gets 422 and nothing is written
    r = getattr(api.client, method)(path, json=body, headers=api.headers(role))
    if role in allowed:
        assert r.status_code == 422, r.text
        assert r.json()["error"]["field"]
    else:
        assert r.status_code == 403, r.text
        err = r.json()["error"]
        assert err["field"] == "role" and err["value"] == role


@pytest.mark.parametrize(
    "role,sees", [("admin", True), ("planner", True), ("analyst", False), ("viewer", False)]
)
def test_personal_fields_only_for_admin_and_planner(api: Api, role: str, sees: bool) -> None:
    r = api.client.get("/districts/demo/resources", headers=api.headers(role))
    assert r.status_code == 200
    members = [m for t in r.json()["teams"] for m in t["members"]]
    assert members, "the demo has volunteers"
    phones = [m["phone"] for m in members]
    ids = [m["id_number"] for m in members]
    if sees:
        assert any(phones) and any(ids)
    else:
        assert all(p is None for p in phones) and all(i is None for i in ids)
        assert all(m["name"] for m in members)


@pytest.mark.parametrize("role", ["planner", "analyst", "viewer"])
def test_keys_and_audit_are_admin_only(api: Api, role: str) -> None:
    assert api.client.get("/keys", headers=api.headers(role)).status_code == 403
    assert api.client.get("/audit", headers=api.headers(role)).status_code == 403


def test_key_lifecycle_and_revocation(api: Api) -> None:
    admin = api.headers("admin")
    r = api.client.post("/keys", json={"name": "desk", "role": "viewer"}, headers=admin)
    assert r.status_code == 201
    created = r.json()
    token, key_id = created["token"], created["id"]
    assert token.startswith("pk_") and created["prefix"] == token[:10]
    listed = api.client.get("/keys", headers=admin).json()
    assert key_id in [k["id"] for k in listed["items"]]
    assert all("token" not in k and "key_hash" not in k for k in listed["items"])
    assert api.client.get("/districts", headers={"X-API-Key": token}).status_code == 200
    r = api.client.delete(f"/keys/{key_id}", headers=admin)
    assert r.status_code == 200 and r.json()["revoked_at"]
    assert api.client.get("/districts", headers={"X-API-Key": token}).status_code == 401
    r = api.client.delete("/keys/999999", headers=admin)
    assert r.status_code == 404 and r.json()["error"]["field"] == "key_id"


def test_key_tokens_are_stored_hashed(api: Api) -> None:
    from sqlalchemy import select

    from api.db import session_scope
    from api.keys import hash_token
    from api.models import ApiKey

    with session_scope(api.app.state.services.sessions) as session:
        stored = set(session.scalars(select(ApiKey.key_hash)))
    token = api.tokens["viewer"]
    assert token not in stored
    assert hash_token(token) in stored


def test_refused_writes_are_audited(api: Api) -> None:
    api.client.post("/keys", json={"name": "x", "role": "admin"}, headers=api.headers("viewer"))
    r = api.client.get("/audit", params={"limit": 20}, headers=api.headers("admin"))
    entries = r.json()["items"]
    refused = [e for e in entries if e["path"] == "/keys" and e["status"] == 403]
    assert refused and refused[0]["role"] == "viewer" and refused[0]["key_name"] == "test-viewer"
