"""A real ``patrol serve`` process on a free loopback port, keys made by ``patrol keys``."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.api.server import Server, patrol, running, server_env

pytestmark = pytest.mark.slow  # starts real server processes: full run only, not the fast lane


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Start ``patrol serve`` on SQLite."""
    folder = tmp_path_factory.mktemp("served")
    env = server_env(f"sqlite:///{folder / 'patrol.sqlite'}", key_cache_s="0.5")
    with running(env, folder / "server.log") as served:
        yield served


def test_served_over_loopback(server: Server) -> None:
    base, env = server.base, server.env
    made = patrol("keys", "create", "--role", "analyst", "--name", "smoke", env=env)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("pk_")
    with httpx.Client(base_url=base, timeout=30) as client:
        assert client.get("/health").json() == {"status": "ok", "database": "sqlite"}
        assert client.get("/districts").status_code == 401
        h = {"X-API-Key": token}
        assert "demo" in client.get("/districts", headers=h).json()["items"]
        res = client.get("/districts/demo/resources", headers=h).json()
        assert all(m["phone"] is None for t in res["teams"] for m in t["members"])
        assert client.post("/plans", json={"date": "2026-12-01"}, headers=h).status_code == 403
        spec = client.get("/openapi.json").json()
        assert "/plans" in spec["paths"] and "/incidents" in spec["paths"]
        assert "cors" not in str(client.options("/districts").headers).lower()
    listed = patrol("keys", "list", env=env)
    assert "analyst" in listed.stdout and "active" in listed.stdout
    key_id = next(line.split()[0] for line in listed.stdout.splitlines() if "smoke" in line)
    revoked = patrol("keys", "revoke", key_id, env=env)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    time.sleep(1.0)  # the server caches key lookups for PATROL_KEY_CACHE_S (0.5 s here)
    assert httpx.get(f"{base}/districts", headers={"X-API-Key": token}).status_code == 401


def test_keys_cli_errors(server: Server) -> None:
    env = server.env
    bad = patrol("keys", "create", "--role", "overlord", env=env)
    assert bad.returncode == 2 and "overlord" in bad.stderr
    missing = patrol("keys", "revoke", "424242", env=env)
    assert missing.returncode == 2 and "key_id" in missing.stderr
    admin = patrol("keys", "create", "--role", "admin", "--name", "only-admin", env=env)
    admin_id = next(
        line.split()[0]
        for line in patrol("keys", "list", env=env).stdout.splitlines()
        if "only-admin" in line
    )
    assert admin.returncode == 0
    last = patrol("keys", "revoke", admin_id, env=env)
    assert last.returncode == 2 and "last_admin" in last.stderr and "Traceback" not in last.stderr


def test_alert_feed_follows_live(server: Server) -> None:
    """A client following ``/alerts/feed`` over a real connection gets an alert raised after
    it connected, as one server-sent event with the alert's seq as its id."""
    base, env = server.base, server.env
    planner = patrol("keys", "create", "--role", "planner", "--name", "feed-planner", env=env)
    viewer = patrol("keys", "create", "--role", "viewer", "--name", "feed-viewer", env=env)
    assert planner.returncode == 0 and viewer.returncode == 0, planner.stderr + viewer.stderr
    events: list[str] = []
    connected = threading.Event()

    def follow() -> None:
        headers = {"X-API-Key": viewer.stdout.strip()}
        with httpx.stream("GET", f"{base}/alerts/feed", headers=headers, timeout=60) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            connected.set()
            block: list[str] = []
            for line in r.iter_lines():
                if line:
                    block.append(line)
                elif block and block[0].startswith("id:"):
                    events.append("\n".join(block))
                    return
                else:
                    block = []

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    assert connected.wait(30), "the feed did not answer"
    body = {
        "district": "demo",
        "id": "LIVE1",
        "text": "watch for a grey scooter",
        "lon": 24.95,
        "lat": 60.17,
        "start": "2026-11-30T19:00:00",
        "end": "2026-11-30T21:00:00",
    }
    h = {"X-API-Key": planner.stdout.strip()}
    r = httpx.post(f"{base}/alerts", json=body, headers=h, timeout=30)
    assert r.status_code == 202, r.text
    reader.join(60)
    assert not reader.is_alive(), "no event reached the following client"
    (event,) = events
    lines = dict(line.split(": ", 1) for line in event.splitlines())
    assert lines["event"] == "alert"
    data = json.loads(lines["data"])
    assert data["id"] == "LIVE1" and lines["id"] == str(data["seq"])
