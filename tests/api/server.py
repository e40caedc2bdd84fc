"""Real ``patrol serve`` processes for the tests: start on a free loopback port, wait, kill.

Robust on a loaded machine: the start is polled on ``/health`` for up to
:data:`START_TIMEOUT_S` (the process imports the library and migrates first), and nothing
here measures time.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 600.0


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
        timeout=300,
        check=False,
    )


def create_token(env: dict[str, str], role: str, name: str | None = None) -> str:
    """Create a key with ``patrol keys create`` and return its token."""
    made = patrol("keys", "create", "--role", role, "--name", name or role, env=env)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


@dataclass
class Server:
    """A running ``patrol serve``."""

    process: subprocess.Popen[str]
    base: str
    env: dict[str, str]
    log: Path

    def kill(self) -> None:
        """SIGKILL the server (no shutdown of any kind) and reap it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=60)

    def stop(self) -> None:
        """Stop the server politely (SIGTERM), else kill it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def server_env(database_url: str, **settings: str) -> dict[str, str]:
    """Return the environment of a server on ``database_url`` with ``PATROL_*`` settings."""
    env = {**os.environ, "PATROL_DATABASE_URL": database_url, "PATROL_SOLVE_WORKERS": "1"}
    env.update({f"PATROL_{k.upper()}": str(v) for k, v in settings.items()})
    return env


def start_server(env: dict[str, str], log: Path) -> Server:
    """Start ``patrol serve`` with ``env``; return once ``/health`` answers."""
    port = free_port()
    out = log.open("a")
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out.close()
    server = Server(process, f"http://127.0.0.1:{port}", env, log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise AssertionError(f"patrol serve exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{server.base}/health", timeout=5).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            server.kill()
            raise AssertionError(f"patrol serve did not answer within {START_TIMEOUT_S} s")
        time.sleep(0.25)


@contextmanager
def running(env: dict[str, str], log: Path) -> Iterator[Server]:
    """Run a server for the ``with`` block; stop it afterwards."""
    server = start_server(env, log)
    try:
        yield server
    finally:
        server.stop()
