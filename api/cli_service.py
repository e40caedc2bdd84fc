"""``patrol serve`` and ``patrol keys create|list|revoke`` (added to the ``patrol`` command)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from api.db import make_engine, migrate, session_factory, session_scope
from api.keys import ROLES, create_key, list_keys, revoke_key
from api.settings import Settings


def register(subparsers: Any) -> None:
    """Add ``serve`` and ``keys`` to the ``patrol`` parser."""
    serve = subparsers.add_parser(
        "serve",
        help="run the HTTP API",
        description="Run the HTTP API (migrates the database first). Settings come from "
        "PATROL_* environment variables; options here override them.",
    )
    serve.add_argument(
        "--host", default=None, help="listen address (default PATROL_HOST or 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=None, help="port (default PATROL_PORT or 8000)")
    serve.add_argument(
        "--database-url",
        default=None,
        help="SQLAlchemy URL (default PATROL_DATABASE_URL or an SQLite file)",
    )
    serve.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    serve.set_defaults(func=_serve)

    keys = subparsers.add_parser(
        "keys", help="manage API keys", description="Create, list and revoke API keys."
    )
    keys.add_argument("--database-url", default=None, help="SQLAlchemy URL (default settings)")
    sub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    create = sub.add_parser("create", help="create a key and print its token once")
    create.add_argument("--role", required=True, choices=list(ROLES))
    create.add_argument("--name", default=None, help="who the key is for (default: the role)")
    create.add_argument("--json", action="store_true", help="print JSON instead of the token")
    create.set_defaults(func=_keys_create)
    lst = sub.add_parser("list", help="list keys")
    lst.set_defaults(func=_keys_list)
    revoke = sub.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("key_id", type=int)
    revoke.set_defaults(func=_keys_revoke)


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    for name in ("host", "port", "database_url"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    return Settings(**overrides)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.main import create_app

    settings = _settings(args)
    app = create_app(settings)
    uvicorn.run(
        app, host=settings.host, port=settings.port, log_level=args.log_level, access_log=False
    )
    return 0


def _sessions(args: argparse.Namespace) -> Any:
    engine = make_engine(_settings(args).database_url)
    migrate(engine)
    return session_factory(engine)


def _keys_create(args: argparse.Namespace) -> int:
    with session_scope(_sessions(args)) as session:
        row, token = create_key(session, name=args.name or args.role, role=args.role)
        key_id = row.id
    if args.json:
        print(json.dumps({"id": key_id, "role": args.role, "token": token}))
    else:
        print(token)
    return 0


def _keys_list(args: argparse.Namespace) -> int:
    with session_scope(_sessions(args)) as session:
        for k in list_keys(session):
            state = "revoked" if k.revoked_at else "active"
            made = f"{k.created_at:%Y-%m-%d %H:%M}"
            print(f"{k.id}\t{k.role}\t{k.name}\t{k.prefix}…\t{state}\t{made}")
    return 0


def _keys_revoke(args: argparse.Namespace) -> int:
    with session_scope(_sessions(args)) as session:
        row = revoke_key(session, args.key_id)
        print(f"revoked key {row.id} ({row.role}, {row.name})")
    return 0
