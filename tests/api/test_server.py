"""A real ``patrol serve`` process on a free loopback port, keys made by ``patrol keys``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def patrol(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``patrol`` (``python -m api.cli``) and return the finished process."""
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """Start ``patrol serve`` on SQLite; yield its base URL and the environment used."""
    db = tmp_path_factory.mktemp("served") / "patrol.sqlite"
    env = {**os.environ, "PATROL_DATABASE_URL": f"sqlite:///{db}", "PATROL_KEY_CACHE_S": "0.5"}
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                out = proc.stdout.read() if proc.stdout else ""
                raise AssertionError(f"patrol serve exited: {out}")
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("patrol serve did not answer within 60 s")
            time.sleep(0.2)
        yield base, env
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_served_over_loopback(server: tuple[str, dict[str, str]]) -> None:
    base, env = server
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
    key_id = listed.stdout.split()[0]
    revoked = patrol("keys", "revoke", key_id, env=env)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    time.sleep(1.0)  # the server caches key lookups for PATROL_KEY_CACHE_S (0.5 s here)
    assert httpx.get(f"{base}/districts", headers={"X-API-Key": token}).status_code == 401


def test_keys_cli_errors(server: tuple[str, dict[str, str]]) -> None:
    _, env = server
    bad = patrol("keys", "create", "--role", "overlord", env=env)
    assert bad.returncode == 2 and "overlord" in bad.stderr
    missing = patrol("keys", "revoke", "424242", env=env)
    assert missing.returncode == 2 and "key_id" in missing.stderr
