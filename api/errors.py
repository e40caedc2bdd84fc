"""Errors as JSON: ``{"error": {"type", "field", "value", "accepted", "message"}}``.

``InputError`` -> 422 with field/value/accepted; ``InfeasibleError`` -> 409 with constraint;
request validation -> 422 naming the first bad field; other HTTP errors keep their status.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.jobs import error_body
from optimizer.errors import InfeasibleError, InputError

ERROR_EXAMPLE: dict[str, Any] = {
    "error": {
        "type": "input",
        "field": "windows[0]",
        "value": "25:00-26:00",
        "accepted": "hours 00-24 and minutes 00-59",
        "message": "windows[0]: got '25:00-26:00'; expected hours 00-24 and minutes 00-59",
    }
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """Return OpenAPI ``responses`` entries for error ``codes`` with the JSON error shape."""
    text = {
        401: "missing or unknown API key",
        403: "the key's role may not do this",
        404: "no such item",
        409: "the request cannot be satisfied (constraint named)",
        413: "request body too large",
        422: "invalid input (field, value, accepted named)",
    }
    return {
        c: {
            "description": text.get(c, "error"),
            "content": {"application/json": {"example": ERROR_EXAMPLE}},
        }
        for c in codes
    }


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "body"


async def _input_error(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": error_body(exc)}, status_code=422)


async def _infeasible(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": error_body(exc)}, status_code=409)


async def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": ("body",), "msg": "invalid", "input": None}
    field = _loc(tuple(first.get("loc") or ()))
    value = first.get("input")
    if not isinstance(value, str | int | float | bool | type(None)):
        value = str(value)[:200]
    body = {
        "type": "input",
        "field": field,
        "value": value,
        "accepted": str(first.get("msg", "")),
        "message": f"{field}: {first.get('msg', '')}",
        "errors": [
            {"field": _loc(tuple(e.get("loc") or ())), "reason": str(e.get("msg", ""))}
            for e in errors[:20]
        ],
    }
    return JSONResponse({"error": body}, status_code=422)


async def _http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail
    body = detail if isinstance(detail, dict) else {"type": "http", "message": str(detail)}
    return JSONResponse({"error": body}, status_code=exc.status_code, headers=exc.headers)


def install(app: FastAPI) -> None:
    """Register the JSON error handlers on ``app``."""
    app.add_exception_handler(InputError, _input_error)
    app.add_exception_handler(InfeasibleError, _infeasible)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
