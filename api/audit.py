"""Audit log: every write and every plan generation, with who, when, inputs and result.

An accepted write adds its entry in the transaction of the write itself (an acknowledged
write always has its entry); a refused one is recorded on its own after the answer. Inputs
and results are stored JSON-safe and without personal data (``api.personal``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.db import session_scope
from api.errors import json_safe
from api.keys import Principal
from api.models import AuditEntry
from api.personal import without_personal


def _stored(value: dict[str, Any] | None) -> dict[str, Any]:
    safe = json_safe(without_personal(value or {}))
    return safe if isinstance(safe, dict) else {"value": safe}


def record(
    session: Session,
    *,
    principal: Principal | None,
    action: str,
    inputs: dict[str, Any] | None = None,
    result: dict[str, Any] | None = None,
    method: str | None = None,
    path: str | None = None,
    status: int | None = None,
) -> AuditEntry:
    """Add one audit entry to ``session`` (the caller commits).

    Parameters
    ----------
    session
        Open session.
    principal
        Caller, or None when the request had no valid key.
    action
        What was done, e.g. ``"incidents.ingest"`` or ``"plan.generate"``.
    inputs, result
        JSON-able summaries of the request and of its outcome.
    method, path, status
        HTTP request line and response status, when the entry comes from a request.
    """
    entry = AuditEntry(
        key_id=principal.key_id if principal else None,
        key_name=principal.name[:100] if principal else None,
        role=principal.role if principal else None,
        action=action[:100],
        inputs=_stored(inputs),
        result=_stored(result),
        method=method,
        path=None if path is None else path[:500],
        status=status,
    )
    session.add(entry)
    return entry


def record_now(factory: sessionmaker[Session], **values: Any) -> None:
    """Write one audit entry in its own transaction (see :func:`record`)."""
    with session_scope(factory) as session:
        record(session, **values)


def entries(session: Session, *, limit: int = 100, action: str | None = None) -> list[AuditEntry]:
    """Return the newest audit entries first, optionally of one action."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    return list(session.scalars(query))
