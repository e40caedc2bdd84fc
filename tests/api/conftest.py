"""Fixtures of the service tests: a database per backend, an app, one key per role.

The ``db_url`` fixture is parametrised over SQLite and PostgreSQL; PostgreSQL runs when
``PATROL_TEST_POSTGRES_URL`` names a server (``.ci/postgres.sh`` starts one in CI) and is
skipped with the reason otherwise. Each session gets a fresh database of its own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.db import session_scope
from api.keys import ROLES, create_key
from api.main import create_app
from api.settings import Settings

POSTGRES_ENV = "PATROL_TEST_POSTGRES_URL"


@dataclass
class Api:
    """A running app with a test client and a token per role."""

    app: FastAPI
    client: TestClient
    tokens: dict[str, str]
    url: str

    def headers(self, role: str) -> dict[str, str]:
        """Headers carrying the key of ``role``."""
        return {"X-API-Key": self.tokens[role]}


def _postgres_database(base_url: str) -> Iterator[str]:
    name = f"patrol_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(base_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _fresh_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if backend == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "patrol.sqlite"
        yield f"sqlite:///{path}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is unset (source .ci/postgres.sh to start a server)")
    yield from _postgres_database(base)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh, empty database URL on each backend, shared by the session's app."""
    yield from _fresh_url(request.param, tmp_path_factory)


@pytest.fixture(params=["sqlite", "postgres"])
def own_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh, empty database URL on each backend for one test alone."""
    yield from _fresh_url(request.param, tmp_path_factory)


GENEROUS: dict[str, Any] = {
    "key_requests_per_minute": 100_000,
    "auth_failures_per_minute": 10_000,
    "key_active_jobs": 50,
}
"""Limits no test reaches unless it means to (tests of the limits set their own)."""


def make_api(url: str, **settings: Any) -> Api:
    """Create an app on ``url`` and a key for every role."""
    values = {"workers": 1, "solve_workers": 1, "key_cache_s": 0, **GENEROUS, **settings}
    app = create_app(Settings(database_url=url, **values))
    tokens = {}
    with session_scope(app.state.services.sessions) as session:
        for role in ROLES:
            tokens[role] = create_key(session, name=f"test-{role}", role=role)[1]
    return Api(app, TestClient(app), tokens, url)


@pytest.fixture(scope="session")
def api(db_url: str) -> Iterator[Api]:
    """The service on the session's database, with one key per role."""
    made = make_api(db_url)
    with made.client:
        yield made
