"""Strict JSON request bodies: standard JSON only, no NaN or infinity, no NUL characters.

Python's ``json`` reads ``NaN``, ``Infinity`` and ``1e999`` (as infinity), which JSON does not
allow and no column or answer can hold; PostgreSQL text cannot hold ``\\u0000``. Every router
uses :class:`StrictJSONRoute`, so a body is parsed once, strictly, and a bad one is answered 422
naming where in the body the bad value is.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute


class _NonFinite:
    """Stands for a NaN / infinity constant while the body is parsed."""

    def __init__(self, text: str) -> None:
        self.text = text


def _bad(field: str, value: str, accepted: str) -> HTTPException:
    return HTTPException(
        422,
        {
            "type": "input",
            "field": field,
            "value": value,
            "accepted": accepted,
            "message": f"{field}: got {value}; expected {accepted}",
        },
    )


def _first_bad(value: Any, where: str) -> tuple[str, str, str] | None:
    """Return (field, shown value, accepted) of the first NaN/infinity or NUL in ``value``."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, _NonFinite):
            return path or "body", item.text, "a finite number (JSON has no NaN or Infinity)"
        if isinstance(item, str) and "\x00" in item:
            return path or "body", repr(item[:40]), "text without NUL (\\u0000) characters"
        if isinstance(item, dict):
            for k, v in reversed(list(item.items())):
                if "\x00" in k:
                    return path or "body", repr(k[:40]), "keys without NUL (\\u0000) characters"
                stack.append((v, f"{path}.{k}" if path else str(k)))
        elif isinstance(item, list):
            stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(item))))
    return None


def loads_strict(body: bytes) -> Any:
    """Parse a request body as standard JSON.

    Raises
    ------
    HTTPException
        422 for text that is not UTF-8 JSON, and for NaN, infinity (also numbers too large for
        a double) or a NUL character anywhere, naming the place (e.g. ``incidents[3].lon``).
    """
    odd = False

    def constant(text: str) -> _NonFinite:
        nonlocal odd
        odd = True
        return _NonFinite(text)

    def number(text: str) -> float | _NonFinite:
        value = float(text)
        return value if math.isfinite(value) else constant(text)

    try:
        value = json.loads(body, parse_constant=constant, parse_float=number)
    except json.JSONDecodeError as exc:
        raise _bad(
            "body", f"line {exc.lineno} column {exc.colno}", f"a JSON document ({exc.msg})"
        ) from None
    except UnicodeDecodeError as exc:
        raise _bad("body", f"byte {exc.start}", "JSON text in UTF-8") from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of more than 4,300 digits
        raise _bad("body", type(exc).__name__, f"a JSON document ({str(exc)[:100]})") from None
    if odd or b"\\u0000" in body:
        found = _first_bad(value, "")
        if found is not None:
            raise _bad(*found)
    return value


class StrictJSONRequest(Request):
    """A request whose ``json()`` is :func:`loads_strict`."""

    async def json(self) -> Any:
        """Return the body parsed by :func:`loads_strict` (once)."""
        if not hasattr(self, "_json"):
            self._json = loads_strict(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """A route that parses JSON bodies with :func:`loads_strict`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Return the route's handler, given a :class:`StrictJSONRequest`."""
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict_handler
