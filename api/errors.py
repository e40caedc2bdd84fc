"""Errors as JSON: ``{"error": {"type", "field", "value", "accepted", "message"}}``.

``InputError`` -> 422 with field/value/accepted; ``InfeasibleError`` -> 409 with constraint;
request validation -> 422 naming the first bad field; :class:`RateLimited` -> 429 with
``Retry-After``; a database that stays busy after retries -> 503 with ``Retry-After``; any
other exception -> 500 with no detail (the traceback goes to the service log only). Every
value echoed back is made JSON-safe first (:func:`jsonable`): an answer never fails to encode.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.db import is_retryable
from optimizer.errors import InfeasibleError, InputError

log = logging.getLogger(__name__)

MAX_ECHO = 200
"""Longest text of a bad value echoed back in an error."""

ERROR_EXAMPLE: dict[str, Any] = {
    "error": {
        "type": "input",
        "field": "windows[0]",
        "value": "25:00-26:00",
        "accepted": "hours 00-24 and minutes 00-59",
        "message": "windows[0]: got '25:00-26:00'; expected hours 00-24 and minutes 00-59",
    }
}

ERROR_TEXT: dict[int, str] = {
    401: "missing or unknown API key",
    403: "the key's role may not do this",
    404: "no such item",
    409: "the request cannot be satisfied (constraint named)",
    413: "request body too large",
    422: "invalid input (field, value, accepted named)",
    429: "too many requests, failed keys or queued jobs for this key (see Retry-After)",
}


class ErrorDetail(BaseModel):
    """What went wrong: the field, the value given and what would be accepted."""

    model_config = ConfigDict(extra="allow")

    type: str
    message: str
    field: str | None = None
    value: Any = None
    accepted: str | None = None


class ErrorOut(BaseModel):
    """The body of every error answer."""

    error: ErrorDetail


class RateLimited(Exception):  # noqa: N818 - reads as the answer: "rate limited"
    """A per-key or per-address limit was reached; answered 429 with ``Retry-After``.

    Parameters
    ----------
    field
        What is limited, e.g. ``"X-API-Key"`` or ``"jobs"``.
    accepted
        The limit in words.
    retry_after_s
        Seconds after which the same request may succeed.
    """

    def __init__(self, field: str, accepted: str, retry_after_s: float) -> None:
        self.field = field
        self.accepted = accepted
        self.retry_after_s = max(1, math.ceil(retry_after_s))
        super().__init__(f"{field}: limit reached; allowed {accepted}")


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """Return OpenAPI ``responses`` entries for error ``codes`` with the JSON error shape."""
    out: dict[int | str, dict[str, Any]] = {}
    for c in codes:
        entry: dict[str, Any] = {
            "model": ErrorOut,
            "description": ERROR_TEXT.get(c, "error"),
            "content": {"application/json": {"example": ERROR_EXAMPLE}},
        }
        if c == 429:
            entry["headers"] = {
                "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}
            }
        out[c] = entry
    return out


def jsonable(value: Any, *, depth: int = 0) -> Any:
    """Return ``value`` as something JSON can always encode (no NaN, no infinity).

    Non-finite floats become their JSON-ish names (``"NaN"``, ``"Infinity"``), long texts are
    cut to :data:`MAX_ECHO` characters, other objects become their ``str``.
    """
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, str):
        return value if len(value) <= MAX_ECHO else value[: MAX_ECHO - 3] + "..."
    if depth < 4 and isinstance(value, list | tuple):
        return [jsonable(v, depth=depth + 1) for v in list(value)[:20]]
    if depth < 4 and isinstance(value, dict):
        return {str(k): jsonable(v, depth=depth + 1) for k, v in list(value.items())[:20]}
    return jsonable(str(value), depth=depth)


def json_safe(value: Any) -> Any:
    """Return ``value`` whole, with non-finite floats named and unknown objects as text.

    What a JSON column or answer can always hold (unlike :func:`jsonable`, nothing is cut).
    """
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, float):
        return jsonable(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def error_body(exc: BaseException) -> dict[str, Any]:
    """Return the JSON error of an exception (field/value/accepted or constraint/detail).

    Errors the library raises on purpose keep their text; any other exception is reported by
    its type only, since its text may hold server paths or data (the log has it all).
    """
    if isinstance(exc, InputError):
        return {
            "type": "input",
            "field": exc.field,
            "value": jsonable(exc.value),
            "accepted": exc.accepted,
            "message": jsonable(str(exc)),
        }
    if isinstance(exc, InfeasibleError):
        return {
            "type": "infeasible",
            "constraint": exc.constraint,
            "detail": exc.detail,
            "message": str(exc),
        }
    if isinstance(exc, RateLimited):
        return {
            "type": "rate_limit",
            "field": exc.field,
            "accepted": exc.accepted,
            "retry_after_s": exc.retry_after_s,
            "message": str(exc),
        }
    return {
        "type": "internal",
        "message": f"internal error ({type(exc).__name__}); the service log has the details",
    }


def error_response(
    status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """Return the JSON answer ``{"error": body}`` with ``status``."""
    return JSONResponse({"error": jsonable(body)}, status_code=status, headers=headers)


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "body"


async def _input_error(_request: Request, exc: Exception) -> JSONResponse:
    return error_response(422, error_body(exc))


async def _infeasible(_request: Request, exc: Exception) -> JSONResponse:
    return error_response(409, error_body(exc))


async def _rate_limited(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimited)
    return error_response(429, error_body(exc), {"Retry-After": str(exc.retry_after_s)})


def _reason(error: dict[str, Any]) -> str:
    msg = str(error.get("msg", ""))
    return msg.removeprefix("Value error, ")


async def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": ("body",), "msg": "invalid", "input": None}
    field = _loc(tuple(first.get("loc") or ()))
    value = first.get("input")
    if not isinstance(value, str | int | float | bool | type(None)):
        value = str(value)
    body = {
        "type": "input",
        "field": field,
        "value": value,
        "accepted": _reason(first),
        "message": f"{field}: {_reason(first)}",
        "errors": [
            {"field": _loc(tuple(e.get("loc") or ())), "reason": _reason(e)} for e in errors[:20]
        ],
    }
    return error_response(422, body)


async def _http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail
    if exc.status_code == 400:  # the framework could not read the body (e.g. broken multipart)
        text = str(detail)[:MAX_ECHO]
        accepted = "a body that can be read as its content type"
        return error_response(
            422,
            {
                "type": "input",
                "field": "body",
                "value": text,
                "accepted": accepted,
                "message": f"body: {text}; expected {accepted}",
            },
        )
    body = detail if isinstance(detail, dict) else {"type": "http", "message": str(detail)}
    return error_response(exc.status_code, body, exc.headers)


async def _database(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, DBAPIError) and is_retryable(exc):
        log.warning("database busy after retries on %s %s", request.method, request.url.path)
        body = {"type": "busy", "message": "the database is busy; send the request again"}
        return error_response(503, body, {"Retry-After": "1"})
    return await _internal(request, exc)


async def _internal(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return error_response(500, error_body(exc))


def install(app: FastAPI) -> None:
    """Register the JSON error handlers on ``app``."""
    app.add_exception_handler(InputError, _input_error)
    app.add_exception_handler(InfeasibleError, _infeasible)
    app.add_exception_handler(RateLimited, _rate_limited)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(DBAPIError, _database)
    app.add_exception_handler(Exception, _internal)


def not_found(field: str, value: Any, accepted: str | None = None) -> HTTPException:
    """Return the 404 naming the item that does not exist."""
    body: dict[str, Any] = {"type": "not_found", "field": field, "value": jsonable(value)}
    if accepted:
        body["accepted"] = accepted
    body["message"] = f"no {field} {jsonable(value)!r}"
    return HTTPException(404, body)
