"""Administration: API keys (create, list, revoke) and the audit log."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from api.audit import entries
from api.deps import Admin, Auditor, ServicesDep, SessionDep, set_audit
from api.errors import error_responses
from api.keys import create_key, list_keys, revoke_key
from api.schemas import AuditList, AuditOut, KeyCreate, KeyCreated, KeyList, KeyOut

router = APIRouter(tags=["admin"])


@router.post(
    "/keys", response_model=KeyCreated, status_code=201, responses=error_responses(401, 403, 422)
)
def post_key(body: KeyCreate, request: Request, session: SessionDep, _: Admin) -> KeyCreated:
    """Create an API key; its token is in this response only."""
    row, token = create_key(session, name=body.name, role=body.role)
    set_audit(request, "keys.create", body.model_dump(), {"key_id": row.id})
    return KeyCreated(**KeyOut.model_validate(row).model_dump(), token=token)


@router.get("/keys", response_model=KeyList, responses=error_responses(401, 403))
def get_keys(session: SessionDep, _: Admin) -> KeyList:
    """List API keys (never their tokens)."""
    rows = list_keys(session)
    return KeyList(count=len(rows), items=[KeyOut.model_validate(r) for r in rows])


@router.delete("/keys/{key_id}", response_model=KeyOut, responses=error_responses(401, 403, 422))
def delete_key(
    key_id: int, request: Request, services: ServicesDep, session: SessionDep, _: Admin
) -> KeyOut:
    """Revoke an API key (effective at once in this process)."""
    row = revoke_key(session, key_id)
    services.keys.drop()
    set_audit(request, "keys.revoke", {"key_id": key_id}, {"revoked": True})
    return KeyOut.model_validate(row)


@router.get("/audit", response_model=AuditList, responses=error_responses(401, 403))
def get_audit(
    session: SessionDep,
    _: Auditor,
    limit: int = Query(default=100, ge=1, le=1000),
    action: str | None = Query(default=None),
) -> AuditList:
    """Return the audit log, newest first."""
    rows = entries(session, limit=limit, action=action)
    return AuditList(count=len(rows), items=[AuditOut.model_validate(r) for r in rows])
