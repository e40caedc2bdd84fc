"""FastAPI dependencies as ``Annotated`` aliases: services, sessions, the caller, permissions.

The caller is found by ``api.middleware.Authenticate`` before the body is read; the
dependencies here only hand it to the routes and check its role.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session

from api.audit import record
from api.db import run_transaction
from api.keys import PERMISSIONS, Principal
from api.schemas import JobOut
from api.services import Services

# Documents the key in the OpenAPI description; the check itself is the middleware's.
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key token")


async def get_services(request: Request) -> Services:
    """Return the app's shared services."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    """Yield a session for reads (writes go through ``api.db.run_transaction``)."""
    session = services.sessions()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


async def get_principal(
    request: Request, _token: Annotated[str | None, Depends(api_key_header)] = None
) -> Principal:
    """Return the caller found by the authentication middleware; 401 without one."""
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):
        raise HTTPException(
            401,
            {"type": "auth", "field": "X-API-Key", "message": "an API key is required"},
            headers={"WWW-Authenticate": "APIKey"},
        )
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require(permission: str) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    """Return a dependency that lets through callers whose role holds ``permission``."""
    allowed = sorted(r for r, perms in PERMISSIONS.items() if permission in perms)

    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.can(permission):
            raise HTTPException(
                403,
                {
                    "type": "forbidden",
                    "field": "role",
                    "value": principal.role,
                    "accepted": f"one of {allowed}",
                    "message": f"role {principal.role!r} may not {permission}",
                },
            )
        return principal

    return check


Reader = Annotated[Principal, Depends(require("read"))]
IncidentReader = Annotated[Principal, Depends(require("incidents:read"))]
IncidentWriter = Annotated[Principal, Depends(require("incidents:write"))]
ResourceWriter = Annotated[Principal, Depends(require("resources:write"))]
Planner = Annotated[Principal, Depends(require("plans:write"))]
DistrictWriter = Annotated[Principal, Depends(require("districts:write"))]
Admin = Annotated[Principal, Depends(require("keys:write"))]
Auditor = Annotated[Principal, Depends(require("audit:read"))]


def audit_write(
    request: Request,
    session: Session,
    *,
    action: str,
    inputs: dict[str, Any],
    result: dict[str, Any] | None = None,
) -> None:
    """Add the audit entry of this request's write to ``session`` (committed with the write).

    The entry carries the caller, the request line and the route's success status (see
    :func:`commit_write`, which runs the transaction).
    """
    route = request.scope.get("route")
    record(
        session,
        principal=getattr(request.state, "principal", None),
        action=action,
        inputs=inputs,
        result=result,
        method=request.method,
        path=request.url.path,
        status=getattr(route, "status_code", None) or 200,
    )


T = TypeVar("T")


def commit_write(request: Request, services: Services, work: Callable[[Session], T]) -> T:
    """Run a route's write (and its :func:`audit_write`) in one transaction and commit it.

    The commit happens before the answer is sent, so an acknowledged write is stored with its
    audit entry; deadlocks and busy locks are retried (``api.db.run_transaction``). Once
    committed, the request is marked audited so that the middleware adds no second entry.
    """
    out = run_transaction(services.sessions, work)
    request.state.audited = True
    return out


def submit_job(
    request: Request,
    services: Services,
    kind: str,
    inputs: dict[str, Any],
    *,
    action: str,
) -> JobOut:
    """Store a job and its audit entry in one transaction, then schedule it."""
    jobs = request.app.state.jobs
    principal = request.state.principal

    def work(session: Session) -> JobOut:
        job = jobs.create(session, kind, inputs, principal)
        audit_write(request, session, action=action, inputs=inputs, result={"job_id": job.id})
        return JobOut.model_validate(job)

    out: JobOut = commit_write(request, services, work)
    jobs.schedule(out.id)
    return out
