"""Administration: API keys (create, list, revoke) and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.orm import Session

from api.audit import entries
from api.deps import Admin, Auditor, ServicesDep, SessionDep, audit_write, commit_write
from api.errors import error_responses, not_found
from api.jsonbody import StrictJSONRoute
from api.keys import UnknownKeyError, create_key, list_keys, revoke_key
from api.schemas import MAX_INT32, AuditList, AuditOut, KeyCreate, KeyCreated, KeyList, KeyOut

router = APIRouter(tags=["admin"], route_class=StrictJSONRoute)


@router.post(
    "/keys",
    response_model=KeyCreated,
    status_code=201,
    responses=error_responses(401, 403, 413, 422, 429),
)
def post_key(body: KeyCreate, request: Request, services: ServicesDep, _: Admin) -> KeyCreated:
    """Create an API key; its token is in this response only."""

    def work(session: Session) -> KeyCreated:
        row, token = create_key(session, name=body.name, role=body.role)
        audit_write(
            request,
            session,
            action="keys.create",
            inputs=body.model_dump(),
            result={"key_id": row.id},
        )
        return KeyCreated(**KeyOut.model_validate(row).model_dump(), token=token)

    return commit_write(request, services, work)


@router.get("/keys", response_model=KeyList, responses=error_responses(401, 403, 429))
def get_keys(session: SessionDep, _: Admin) -> KeyList:
    """List API keys (never their tokens)."""
    rows = list_keys(session)
    return KeyList(count=len(rows), items=[KeyOut.model_validate(r) for r in rows])


@router.delete(
    "/keys/{key_id}", response_model=KeyOut, responses=error_responses(401, 403, 404, 409, 422, 429)
)
def delete_key(
    key_id: Annotated[int, Path(ge=1, le=MAX_INT32)],
    request: Request,
    services: ServicesDep,
    _: Admin,
) -> KeyOut:
    """Revoke an API key (effective at once in this process); the last admin key stays."""

    def work(session: Session) -> KeyOut:
        row = revoke_key(session, key_id)
        audit_write(
            request,
            session,
            action="keys.revoke",
            inputs={"key_id": key_id},
            result={"revoked": True},
        )
        return KeyOut.model_validate(row)

    try:
        out = commit_write(request, services, work)
    except UnknownKeyError as exc:
        raise not_found("key_id", key_id, exc.accepted) from None
    services.keys.drop()
    return out


@router.get("/audit", response_model=AuditList, responses=error_responses(401, 403, 422, 429))
def get_audit(
    session: SessionDep,
    _: Auditor,
    limit: int = Query(default=100, ge=1, le=1000),
    action: str | None = Query(default=None, max_length=100),
) -> AuditList:
    """Return the audit log, newest first."""
    rows = entries(session, limit=limit, action=action)
    return AuditList(count=len(rows), items=[AuditOut.model_validate(r) for r in rows])
