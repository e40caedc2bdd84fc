"""ASGI middleware: request body size limit and the audit entry of every write request."""

from __future__ import annotations

import json
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.audit import record_now

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class _TooLargeError(Exception):
    pass


async def _send_413(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "error": {
                "type": "input",
                "field": "body",
                "value": "request body",
                "accepted": f"at most {limit} bytes",
                "message": f"request body larger than {limit} bytes",
            }
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodySizeLimit:
    """Refuse request bodies larger than ``max_bytes`` with 413 (declared or streamed)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    await _send_413(send, self.max_bytes)
                    return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLargeError
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except _TooLargeError:
            if not started:
                await _send_413(send, self.max_bytes)


class AuditWrites:
    """Write an audit entry for every POST/PUT/PATCH/DELETE, accepted or refused.

    Routes put ``action``, ``inputs`` and ``result`` in ``request.state.audit``; the auth
    dependency puts the caller in ``request.state.principal``.
    """

    def __init__(self, app: ASGIApp, services: Any) -> None:
        self.app = app
        self.services = services

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
            audit = dict(state.get("audit") or {})
            method = str(scope.get("method"))
            path = str(scope.get("path"))
            values = {
                "principal": state.get("principal"),
                "action": audit.get("action", f"{method} {path}"),
                "inputs": audit.get("inputs", {}),
                "result": audit.get("result", {}),
                "method": method,
                "path": path[:500],
                "status": status,
            }
            await anyio.to_thread.run_sync(lambda: record_now(self.services.sessions, **values))
