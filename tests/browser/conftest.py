"""A real ``patrol serve`` on loopback and Debian's Chromium driven by Playwright.

Chromium is the system's (``/usr/bin/chromium``, from Debian's packages; Playwright's own
browser download is never used). Every request to a host other than the server is aborted
and recorded (and the browser resolves no other name), so the page is shown to work with no
network. Screenshots are kept under the session's temporary folder; the path is printed.
The tests are skipped, with the reason, where Chromium or the Playwright package is absent.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa

from tests.api.server import Server, create_token, running, server_env

CHROMIUM_ENV = "PATROL_CHROMIUM"
POSTGRES_ENV = "PATROL_TEST_POSTGRES_URL"


def chromium_path() -> str | None:
    """Return the Chromium executable (``$PATROL_CHROMIUM`` or Debian's), if present."""
    for candidate in (os.environ.get(CHROMIUM_ENV), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@dataclass
class Site:
    """The server under test, its keys and where screenshots go."""

    server: Server
    tokens: dict[str, str]
    shots: Path
    backend: str
    blocked: list[str] = field(default_factory=list)

    def api(self, role: str) -> httpx.Client:
        """An HTTP client of the server with the key of ``role``."""
        return httpx.Client(
            base_url=self.server.base, headers={"X-API-Key": self.tokens[role]}, timeout=600
        )


def _database(request: pytest.FixtureRequest, tmp: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp / 'browser.sqlite'}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is unset (source .ci/postgres.sh to start a server)")
    name = f"patrol_b_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """A real server (SQLite, then PostgreSQL where one is running) with an admin, a planner
    and a viewer key."""
    if chromium_path() is None:
        pytest.skip("no Chromium (apt-get install chromium fonts-noto-cjk, or set PATROL_CHROMIUM)")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    tmp = tmp_path_factory.mktemp(f"browser-{request.param}")
    shots = tmp_path_factory.getbasetemp() / "screenshots"
    shots.mkdir(exist_ok=True)
    for url in _database(request, tmp):
        env = server_env(
            url, workers="1", key_requests_per_minute="100000", import_dir=str(tmp / "imports")
        )
        tokens = {role: create_token(env, role) for role in ("admin", "planner", "viewer")}
        with running(env, tmp / "server.log") as server:
            yield Site(server, tokens, shots, request.param)


@pytest.fixture(scope="session")
def browser(site: Site) -> Iterator[Any]:
    """Chromium, headless, resolving no host name but loopback."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=chromium_path(),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                "--disable-component-update",
                "--disable-sync",
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            ],
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any, site: Site, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser tab (English) whose requests to any other host are aborted and recorded."""
    context = browser.new_context(viewport={"width": 1500, "height": 950}, locale="en-US")
    own = urlsplit(site.server.base).netloc
    errors: list[str] = []

    def guard(route: Any) -> None:
        if urlsplit(route.request.url).netloc == own or route.request.url.startswith("data:"):
            route.continue_()
        else:
            site.blocked.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    tab = context.new_page()
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.set_default_timeout(600_000)
    try:
        yield tab
    finally:
        context.close()
    assert not errors, f"script errors on the page: {errors}"
    assert not site.blocked, f"the page asked for other hosts: {site.blocked}"


def shot(page: Any, site: Site, name: str) -> Path:
    """Save a screenshot of ``page`` and print where it is."""
    path = site.shots / f"{site.backend}-{name}.png"
    page.screenshot(path=str(path), full_page=False)
    print(f"screenshot: {path}")
    return path
