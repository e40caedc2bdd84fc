"""Domain errors: bad input names field, value and accepted values; infeasibility a constraint."""

from __future__ import annotations

import math
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


def checked_number(
    field: str, value: Any, low: float, high: float, *, open_low: bool = False
) -> float:
    """Return ``value`` as a float when it is a finite number in ``[low, high]``.

    Parameters
    ----------
    field
        The field's name, for the error.
    value
        What was given (booleans are not numbers here).
    low, high
        The accepted range, ``high`` included.
    open_low
        Exclude ``low`` itself (``(low, high]``).

    Raises
    ------
    InputError
        ``value`` is not a number, not finite, or out of range; the message gives the range.
    """
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok and (value > low if open_low else value >= low) and value <= high:
        return float(value)
    bracket = "(" if open_low else "["
    raise InputError(field, value, f"a number in {bracket}{low:g}, {high:g}]")
