"""Personal data in resources JSON: officers' phone, volunteers' phone and ID number.

Roles holding ``personal:read`` (admin, planner) see them; other roles get them as null, and
the audit log never keeps them (:func:`without_personal` runs on every audited input).
"""

from __future__ import annotations

from typing import Any

from api.keys import Principal

PERSONAL_FIELDS: tuple[str, ...] = ("phone", "id_number")
"""Fields of officers and team members that are personal data."""


def without_personal(value: Any) -> Any:
    """Return ``value`` (any JSON) with every personal field nulled, at any depth."""
    if isinstance(value, dict):
        return {
            k: (None if k in PERSONAL_FIELDS and v is not None else without_personal(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [without_personal(v) for v in value]
    return value


def visible(data: dict[str, Any], principal: Principal) -> dict[str, Any]:
    """Return resources JSON with personal fields nulled unless the caller may read them."""
    if principal.can("personal:read"):
        return data
    out: dict[str, Any] = without_personal(data)
    return out
