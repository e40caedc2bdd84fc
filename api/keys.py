"""API keys: random tokens shown once, stored as SHA-256; roles and what each may do."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import ApiKey, utcnow
from optimizer.errors import InfeasibleError, InputError

ROLES: tuple[str, ...] = ("admin", "planner", "analyst", "viewer")

PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(
        {
            "read",
            "incidents:read",
            "incidents:write",
            "resources:write",
            "plans:write",
            "districts:write",
            "personal:read",
            "audit:read",
            "keys:write",
        }
    ),
    "planner": frozenset(
        {
            "read",
            "incidents:read",
            "incidents:write",
            "resources:write",
            "plans:write",
            "districts:write",
            "personal:read",
        }
    ),
    "analyst": frozenset({"read", "incidents:read", "incidents:write"}),
    "viewer": frozenset({"read"}),
}
"""The role matrix: permission names each role holds.

``read`` covers districts, grids, resources (without personal data), hotspots, plans, exports
and jobs; ``personal:read`` adds volunteers' phone and ID number.
"""

TOKEN_PREFIX = "pk_"


@dataclass(frozen=True)
class Principal:
    """The caller behind a request."""

    key_id: int
    name: str
    role: str

    def can(self, permission: str) -> bool:
        """Whether the caller's role holds ``permission``."""
        return permission in PERMISSIONS.get(self.role, frozenset())


def hash_token(token: str) -> str:
    """Return the SHA-256 hex digest stored for ``token``."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_key(session: Session, *, name: str, role: str) -> tuple[ApiKey, str]:
    """Create an API key.

    Parameters
    ----------
    session
        Open session (the caller commits).
    name
        Who or what the key is for.
    role
        One of :data:`ROLES`.

    Returns
    -------
    tuple[ApiKey, str]
        The stored row and the token (shown once; only its hash is kept).
    """
    if role not in ROLES:
        raise InputError("role", role, f"one of {list(ROLES)}")
    if not name or len(name) > 100:
        raise InputError("name", name, "a non-empty name of at most 100 characters")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(name=name, role=role, prefix=token[:10], key_hash=hash_token(token))
    session.add(row)
    session.flush()
    return row, token


def list_keys(session: Session) -> list[ApiKey]:
    """Return every key (revoked ones too), oldest first."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


class UnknownKeyError(InputError):
    """No key has this id (the API answers 404, the command line names the known ids)."""


def revoke_key(session: Session, key_id: int) -> ApiKey:
    """Revoke key ``key_id``.

    Raises
    ------
    UnknownKeyError
        No key has this id.
    InfeasibleError
        The key is the last active admin key (``last_admin``): revoking it would leave no key
        that can create keys; create another admin key first.
    """
    row = session.get(ApiKey, key_id)
    if row is None:
        ids = [k.id for k in list_keys(session)]
        raise UnknownKeyError("key_id", key_id, f"an existing key id, one of {ids}")
    if row.revoked_at is None and row.role == "admin":
        # lock the active admin rows (PostgreSQL), so two admins cannot revoke each other
        admins = session.scalars(
            select(ApiKey.id)
            .where(ApiKey.role == "admin", ApiKey.revoked_at.is_(None))
            .with_for_update()
        ).all()
        if list(admins) == [row.id]:
            raise InfeasibleError(
                "last_admin",
                f"key {row.id} is the last active admin key; create another admin key before "
                "revoking it",
            )
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


def lookup(session: Session, token: str) -> Principal | None:
    """Return the principal of an active key with ``token``, or None."""
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_token(token)))
    if row is None or row.revoked_at is not None:
        return None
    return Principal(row.id, row.name, row.role)


def creator(created_by: str | None) -> Principal | None:
    """Return the principal recorded as a job's creator (see :func:`principal_tag`)."""
    if not created_by:
        return None
    key_id, _, rest = created_by.partition(":")
    name, _, role = rest.rpartition(":")
    return Principal(int(key_id), name, role) if key_id.isdigit() else None


def principal_tag(principal: Principal) -> str:
    """Return ``"<key id>:<name>:<role>"`` stored as a job's creator."""
    return f"{principal.key_id}:{principal.name}:{principal.role}"
