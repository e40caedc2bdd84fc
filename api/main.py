"""The FastAPI application: ``create_app(settings)`` wires storage, jobs, auth and routers.

Run it with ``patrol serve`` or ``uvicorn --factory api.main:app_from_env``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api import errors
from api.jobs import JobRunner
from api.middleware import AuditWrites, BodySizeLimit
from api.planning import HANDLERS
from api.routes import admin, districts, hotspots, incidents, plans, replan, resources
from api.services import Services
from api.settings import Settings

DESCRIPTION = """\
Joint police / volunteer patrol planning over HTTP.

Every route except `/health` needs an API key in the `X-API-Key` header (or
`Authorization: Bearer <key>`). Roles: **admin** (everything, keys, audit), **planner**
(plans, resources, imports, incidents, personal data), **analyst** (read, ingest incidents),
**viewer** (read). Volunteers' phone and ID number are shown to admin and planner only.

Errors are JSON: `{"error": {"type", "field", "value", "accepted", "message"}}`; invalid
input is 422, an infeasible request 409 with its `constraint`.
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
    jobs = JobRunner(services, HANDLERS, workers=settings.workers)

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
    )
    app.state.services = services
    app.state.jobs = jobs
    errors.install(app)
    for module in (districts, incidents, resources, hotspots, plans, replan, admin):
        app.include_router(module.router)

    @app.get("/health", tags=["health"])
    async def health() -> dict[str, str]:
        """Liveness: the service is up and which database backend it uses."""
        return {"status": "ok", "database": services.dialect}

    app.add_middleware(AuditWrites, services=services)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
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
