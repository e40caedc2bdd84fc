"""Domain errors: bad input names field, value and accepted values; infeasibility a constraint."""

from __future__ import annotations

from typing import Any


class PatrolError(Exception):
    """Base class of every error the library raises on purpose."""


class InputError(PatrolError, ValueError):
    """An input value is invalid.

    Parameters
    ----------
    field
        Dotted name of the offending field, e.g. ``"windows[1]"`` or ``"officers.O7.shift"``.
    value
        The value that was given.
    accepted
        What would have been accepted, in words.
    """

    def __init__(self, field: str, value: Any, accepted: str) -> None:
        self.field = field
        self.value = value
        self.accepted = accepted
        shown = repr(value)
        if len(shown) > 120:
            shown = shown[:117] + "..."
        super().__init__(f"{field}: got {shown}; expected {accepted}")


class InfeasibleError(PatrolError):
    """A request cannot be satisfied.

    Parameters
    ----------
    constraint
        Short machine-readable name of the violated constraint, e.g. ``"officer_per_group"``.
    detail
        Human explanation: which items conflict and why.
    """

    def __init__(self, constraint: str, detail: str) -> None:
        self.constraint = constraint
        self.detail = detail
        super().__init__(f"infeasible ({constraint}): {detail}")
