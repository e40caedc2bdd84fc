"""Database engine, sessions and migrations (SQLAlchemy 2 + Alembic).

SQLite is the embedded default (WAL journal, foreign keys on, busy timeout); PostgreSQL is
used through ``postgresql+psycopg://`` URLs. The schema is created and upgraded only by the
Alembic migrations in ``api/migrations`` (:func:`migrate`), never by ``create_all``.
"""

from __future__ import annotations

import functools
import json
import logging
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
"""PostgreSQL's serialization failure and deadlock detected: the transaction may be re-run."""

TRANSACTION_ATTEMPTS = 8
"""Times a transaction is tried when the database reports a deadlock or a busy lock."""

T = TypeVar("T")

# JSON columns refuse NaN and infinity instead of writing text that is not JSON.
_json_serializer = functools.partial(json.dumps, allow_nan=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create an engine for ``url``; SQLite files get WAL and their folder is created.

    Parameters
    ----------
    url
        SQLAlchemy database URL.

    Returns
    -------
    Engine
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=8,
            max_overflow=16,
            json_serializer=_json_serializer,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url, pool_size=8, max_overflow=16, pool_pre_ping=True, json_serializer=_json_serializer
    )


def alembic_config(engine: Engine) -> Config:
    """Return the Alembic configuration pointing at ``api/migrations`` and ``engine``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database schema to ``revision`` (idempotent)."""
    command.upgrade(alembic_config(engine), revision)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory bound to ``engine`` (objects stay usable after commit)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Open a session; commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_retryable(exc: BaseException) -> bool:
    """Whether ``exc`` is a deadlock, serialization failure or busy lock (worth a new try)."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    return isinstance(orig, sqlite3.OperationalError) and "locked" in str(orig)


def run_transaction(
    factory: sessionmaker[Session],
    work: Callable[[Session], T],
    *,
    attempts: int = TRANSACTION_ATTEMPTS,
) -> T:
    """Run ``work(session)`` in one transaction and commit; re-run it after a deadlock.

    Parameters
    ----------
    factory
        Session factory.
    work
        Does the reads and writes of the transaction; it may run more than once, so it must
        have no effect outside the session.
    attempts
        Tries when the database reports a deadlock, a serialization failure or a busy lock
        (with a short random back-off between them).

    Returns
    -------
    Whatever ``work`` returns, from the try that committed.
    """
    for attempt in range(1, attempts + 1):
        session = factory()
        try:
            out = work(session)
            session.commit()
            return out
        except DBAPIError as exc:
            session.rollback()
            if attempt == attempts or not is_retryable(exc):
                raise
            log.info("transaction retried after %s (try %d)", type(exc.orig).__name__, attempt)
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        time.sleep(random.uniform(0.0, 0.02 * 2**attempt))
    raise AssertionError("unreachable")  # pragma: no cover
