"""ASGI middleware: authentication before anything else, request limits, audit of refusals.

The order, outermost first (see ``api.main``): :class:`Authenticate` (the key, checked from
the headers before a byte of the body is read; per-key and per-address limits),
:class:`AuditWrites` (an entry for each refused or unaudited write of a known caller),
:class:`RequestLimits` (NUL characters in the URL, body size whether declared or streamed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.audit import record_now
from api.errors import RateLimited, error_body, error_response
from api.keys import Principal
from api.ratelimits import RateLimits

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

OPEN_PATHS: tuple[str, ...] = (
    "/health",
    "/docs",
    "/docs/oauth2-redirect",
    "/openapi.json",
    "/",
    "/page/",
)
"""The only routes answered without an API key (the API description says so). An entry ending
in ``/`` (other than ``/``) opens the files beneath it: ``/page/`` holds the dispatcher page's
static files (script, style, Leaflet), never data."""


def is_open(path: str) -> bool:
    """Whether ``path`` is answered without a key (see :data:`OPEN_PATHS`)."""
    for open_path in OPEN_PATHS:
        if path == open_path:
            return True
        if open_path != "/" and open_path.endswith("/") and path.startswith(open_path):
            return ".." not in path.split("/")
    return False


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def request_token(scope: Scope) -> str | None:
    """Return the API key of a request: ``X-API-Key``, else ``Authorization: Bearer``."""
    token = (_header(scope, b"x-api-key") or "").strip()
    if not token:
        auth = _header(scope, b"authorization") or ""
        if auth[:7].lower() == "bearer ":
            token = auth[7:].strip()
    return token or None


async def _answer(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> None:
    await error_response(status, body, headers)(scope, receive, send)


class Authenticate:
    """Find the caller from the request's key before the body is read; 401 or 429 otherwise.

    Routes in :data:`OPEN_PATHS` pass without a key. Requests without a valid key count
    against their address's failed-key limit; requests with one against the key's rate.

    Parameters
    ----------
    app
        The wrapped app.
    cached
        Returns the caller of a token from memory, or None when not cached.
    principal
        Returns the caller of a token (or None); may touch the database (run in a thread).
    limits
        The rate limits.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        cached: Callable[[str], Principal | None],
        principal: Callable[[str], Principal | None],
        limits: RateLimits,
    ) -> None:
        self.app = app
        self.cached = cached
        self.principal = principal
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_open(str(scope.get("path", ""))):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = str(client[0]) if client else "unknown"
        try:
            self.limits.check_address(address)
            token = request_token(scope)
            found = None if token is None else self.cached(token)
            if token is not None and found is None:
                found = await anyio.to_thread.run_sync(self.principal, token)
            if found is None:
                self.limits.failed(address)
                message = (
                    "an API key is required" if token is None else "unknown or revoked API key"
                )
                await _answer(
                    scope,
                    receive,
                    send,
                    401,
                    {"type": "auth", "field": "X-API-Key", "message": message},
                    {"WWW-Authenticate": "APIKey"},
                )
                return
            self.limits.hit(found.key_id)
        except RateLimited as exc:
            await _answer(
                scope, receive, send, 429, error_body(exc), {"Retry-After": str(exc.retry_after_s)}
            )
            return
        scope.setdefault("state", {})["principal"] = found
        await self.app(scope, receive, send)


class RequestLimits:
    """Refuse NUL characters in the URL (422) and bodies over ``max_bytes`` (413).

    The body is read here, up to ``max_bytes``, whether its size is declared or it is sent in
    chunks, and handed on whole: the app never sees part of an oversize body.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = bytes(scope.get("query_string", b""))
        if "\x00" in str(scope.get("path", "")) or b"%00" in query:
            where = "path" if "\x00" in str(scope.get("path", "")) else "query"
            body = {
                "type": "input",
                "field": where,
                "value": "%00",
                "accepted": "text without NUL characters",
                "message": f"{where}: NUL characters are not accepted",
            }
            await _answer(scope, receive, send, 422, body)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body_bytes = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body_bytes, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = {
            "type": "input",
            "field": "body",
            "value": "request body",
            "accepted": f"at most {self.max_bytes} bytes",
            "message": f"request body larger than {self.max_bytes} bytes",
        }
        await _answer(scope, receive, send, 413, body, {"Connection": "close"})


class AuditWrites:
    """Record each POST/PUT/PATCH/DELETE of a known caller that its route did not audit.

    Accepted writes are audited by their routes in their own transaction (and mark the
    request ``audited``); what is left here are the refused ones (403, 404, 409, 413, 422,
    429, 500). Requests without a valid key never get this far.
    """

    def __init__(self, app: ASGIApp, *, sessions: Any) -> None:
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        status = 500

        async def watched_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        finally:
            state = scope.get("state", {})
            if state.get("principal") is not None and not state.get("audited"):
                method = str(scope.get("method"))
                path = str(scope.get("path"))
                values = {
                    "principal": state.get("principal"),
                    "action": f"{method} {path}",
                    "method": method,
                    "path": path,
                    "status": status,
                }
                await anyio.to_thread.run_sync(lambda: record_now(self.sessions, **values))
