"""The FastAPI application: ``create_app(settings)`` wires storage, jobs, auth and routers.

Run it with ``patrol serve`` or ``uvicorn --factory api.main:app_from_env``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles

from api import errors
from api.jobs import JobRunner
from api.middleware import OPEN_PATHS, AuditWrites, Authenticate, RequestLimits
from api.planning import HANDLERS
from api.ratelimits import RateLimits
from api.routes import (
    admin,
    alerts,
    districts,
    hotspots,
    incidents,
    ledger,
    page,
    plans,
    replan,
    reports,
    resources,
    statistics,
    tracks,
)
from api.services import Services
from api.settings import Settings

DESCRIPTION = f"""\
Joint police / volunteer patrol planning over HTTP.

Every route except {", ".join(f"`{p}`" for p in OPEN_PATHS)} (the dispatcher's page and its
static files) needs an API key in the
`X-API-Key` header (or `Authorization: Bearer <key>`); the key is checked before the request
body is read. Roles: **admin** (everything, keys, audit), **planner** (plans, resources,
imports, incidents, personal data), **analyst** (read, ingest incidents), **viewer** (read).
Officers' phone and volunteers' phone and ID number are shown to admin and planner only.

Limits per key: requests per minute, queued or running jobs; per client address: requests
without a valid key per minute. Over a limit the answer is 429 with `Retry-After`.

Errors are JSON: `{{"error": {{"type", "field", "value", "accepted", "message"}}}}`; invalid
input is 422 (also NaN, Infinity or `\\u0000` anywhere in a body, and dates outside
1900-01-01..2200-12-31), an unknown item in the path 404, an infeasible request 409 with its
`constraint`, a body too large 413. Times are answered with their UTC offset.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service app.

    Parameters
    ----------
    settings
        Service settings; default read from the environment (``PATROL_*``).

    Returns
    -------
    FastAPI
        With the database migrated to the newest schema, a job runner (jobs left unfinished
        by a previous process are run again) and one router per resource.
    """
    settings = settings or Settings()
    services = Services(settings)
    jobs = JobRunner(
        services,
        {**HANDLERS, "alert": alerts.run_alert},
        workers=settings.workers,
        attempts=settings.job_attempts,
        active_per_key=settings.key_active_jobs,
    )
    limits = RateLimits(
        requests_per_minute=settings.key_requests_per_minute,
        failures_per_minute=settings.auth_failures_per_minute,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        jobs.shutdown(wait=False)
        services.close()

    app = FastAPI(
        title="Patrol planning service",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        redoc_url=None,
    )
    app.state.services = services
    app.state.jobs = jobs
    errors.install(app)
    # the page's data routes first: /districts/import/upload before /districts/{name}
    core = (page, districts, incidents, resources, hotspots, plans, replan)
    for module in (*core, tracks, ledger, statistics, alerts, reports, admin):
        app.include_router(module.router)
    app.mount("/page/leaflet", StaticFiles(directory=page.leaflet_dir()), name="leaflet")
    app.mount("/page", StaticFiles(directory=page.PAGE_DIR, html=True), name="page")

    @app.get("/health", tags=["health"])
    async def health() -> dict[str, str]:
        """Liveness: the service is up and which database backend it uses."""
        return {"status": "ok", "database": services.dialect}

    # added innermost first: Authenticate runs before anything reads the body
    app.add_middleware(GZipMiddleware, minimum_size=16 * 1024)  # plan views, streets: MBs
    app.add_middleware(RequestLimits, max_bytes=settings.max_request_bytes)
    app.add_middleware(AuditWrites, sessions=services.sessions)
    app.add_middleware(
        Authenticate,
        cached=services.cached_principal,
        principal=services.principal,
        limits=limits,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    jobs.resume()
    return app


def app_from_env() -> FastAPI:
    """Return the app configured from the environment (for ``uvicorn --factory``)."""
    return create_app(Settings())
