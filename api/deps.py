"""FastAPI dependencies as ``Annotated`` aliases: services, sessions, the caller, permissions."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session

from api.keys import PERMISSIONS, Principal
from api.services import Services

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key token")


async def get_services(request: Request) -> Services:
    """Return the app's shared services."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    """Yield a session committed at the end of the request (rolled back on error)."""
    session = services.sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


async def get_principal(
    request: Request,
    services: ServicesDep,
    token: Annotated[str | None, Depends(api_key_header)] = None,
) -> Principal:
    """Return the caller of the request's API key; 401 without a valid key."""
    if not token:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
    if not token:
        raise HTTPException(
            401,
            {"type": "auth", "field": "X-API-Key", "message": "an API key is required"},
            headers={"WWW-Authenticate": "APIKey"},
        )
    principal = services.cached_principal(token)
    if principal is None:
        principal = await run_in_threadpool(services.principal, token)
    if principal is None:
        raise HTTPException(
            401,
            {"type": "auth", "field": "X-API-Key", "message": "unknown or revoked API key"},
            headers={"WWW-Authenticate": "APIKey"},
        )
    request.state.principal = principal
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


def set_audit(
    request: Request,
    action: str,
    inputs: dict[str, object],
    result: dict[str, object] | None = None,
) -> None:
    """Describe a write for the audit middleware (what was asked, what came of it)."""
    request.state.audit = {"action": action, "inputs": inputs, "result": result or {}}
