"""Process-wide state of the service: database, caches of districts, keys and read results."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from api.db import make_engine, migrate, session_factory, session_scope
from api.keys import Principal, lookup
from api.models import ResourceSet
from api.settings import Settings
from optimizer.district import District
from optimizer.resources import resources_from_json
from optimizer.storage import load_district


class LRUCache:
    """A small thread-safe LRU cache with optional expiry."""

    def __init__(self, size: int = 256, ttl_s: float | None = None) -> None:
        self.size = size
        self.ttl_s = ttl_s
        self._data: OrderedDict[Any, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any | None:
        """Return the cached value or None."""
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            if self.ttl_s is not None and time.monotonic() - item[0] > self.ttl_s:
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return item[1]

    def put(self, key: Any, value: Any) -> None:
        """Store ``value`` under ``key``."""
        with self._lock:
            self._data[key] = (time.monotonic(), value)
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def drop(self, predicate: Callable[[Any], bool] | None = None) -> None:
        """Forget every key (or those matching ``predicate``)."""
        with self._lock:
            for k in [k for k in self._data if predicate is None or predicate(k)]:
                del self._data[k]


class Services:
    """Everything the routes share: settings, engine, sessions, caches.

    Parameters
    ----------
    settings
        Service settings.
    run_migrations
        Upgrade the schema to the newest migration on creation.
    """

    def __init__(self, settings: Settings, *, run_migrations: bool = True) -> None:
        self.settings = settings
        self.engine: Engine = make_engine(settings.database_url)
        if run_migrations:
            migrate(self.engine)
        self.sessions: sessionmaker[Session] = session_factory(self.engine)
        self.keys = LRUCache(1024, ttl_s=settings.key_cache_s)
        self.reads = LRUCache(512)
        self.hotspots = LRUCache(512)
        self._districts: dict[str, District] = {}
        self._district_lock = threading.Lock()

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    def cached_principal(self, token: str) -> Principal | None:
        """Return the cached caller of ``token`` without touching the database, or None."""
        cached = self.keys.get(token)
        return cached if isinstance(cached, Principal) else None

    def principal(self, token: str) -> Principal | None:
        """Return the caller of ``token`` (cached for ``settings.key_cache_s``)."""
        cached = self.keys.get(token)
        if cached is not None:
            return cached if isinstance(cached, Principal) else None
        with session_scope(self.sessions) as session:
            found = lookup(session, token)
        self.keys.put(token, found if found is not None else False)
        return found

    def base_district(self, name: str) -> District:
        """Load (once) the prepared district ``name`` from the data folder."""
        with self._district_lock:
            if name not in self._districts:
                self._districts[name] = load_district(name, self.settings.data_dir)
            return self._districts[name]

    def forget_district(self, name: str) -> None:
        """Drop a cached district (after an import replaced it)."""
        with self._district_lock:
            self._districts.pop(name, None)
        self.hotspots.drop(lambda k: k[0] == name)

    def district(self, name: str) -> District:
        """Return district ``name`` with the resources stored through the API, if any."""
        base = self.base_district(name)
        with session_scope(self.sessions) as session:
            row = session.scalar(select(ResourceSet).where(ResourceSet.district == name))
            data = None if row is None else row.data
        if data is None:
            return base
        return dataclasses.replace(base, resources=resources_from_json(data))

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()
