"""Process-wide state of the service: database, caches of districts, keys and read results."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from api.db import make_engine, migrate, session_factory, session_scope
from api.keys import Principal, lookup
from api.models import Incident, ResourceSet
from api.schemas import NAME_PATTERN
from api.settings import Settings
from optimizer.district import District
from optimizer.errors import InputError
from optimizer.plan.solve import Executor, LocalPool
from optimizer.risk.incidents import snap_incidents
from optimizer.staff.roster import resources_from_json
from optimizer.storage import list_districts, load_district
from optimizer.timewindow import FIRST_DATE, LAST_DATE

log = logging.getLogger(__name__)


def leaf_descendants(grids: gpd.GeoDataFrame, ids: Sequence[str]) -> list[str]:
    """Return the finest-level grids inside any of ``ids`` (hotspots are cut in leaf grids)."""
    parent = {str(i): (None if p is None else str(p)) for i, p in grids["parent"].items()}
    finest = int(grids["level"].max())
    wanted = set(ids)
    out = []
    for gid in sorted(str(i) for i in grids.index[grids["level"] == finest]):
        node: str | None = gid
        while node is not None and node not in wanted:
            node = parent.get(node)
        if node is not None:
            out.append(gid)
    return out


def merge_incidents(history: gpd.GeoDataFrame | None, stored: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``history`` plus ``stored`` incidents (stored rows win on a shared id).

    ``history`` may use the incident schema (``occurred_at``) or the older ``time``/``id``
    columns; the result has the columns of ``stored``.
    """
    if history is None or len(history) == 0:
        return stored
    old = pd.DataFrame(history.drop(columns="geometry", errors="ignore"))
    if "occurred_at" not in old.columns:
        when = pd.to_datetime(old["time"])
        old["occurred_at"] = when if when.dt.tz is not None else when.dt.tz_localize("UTC")
    if "incident_id" not in old.columns:
        ids = old["id"] if "id" in old.columns else pd.Series(old.index, index=old.index)
        old["incident_id"] = ids.astype(str)
    if "lon" not in old.columns:
        pts = history.geometry.to_crs("EPSG:4326")
        old["lon"], old["lat"] = pts.x.to_numpy(), pts.y.to_numpy()
    old["date_only"] = old["date_only"] if "date_only" in old.columns else False
    old["severity"] = old["severity"] if "severity" in old.columns else 1.0
    old["occurred_at"] = pd.to_datetime(old["occurred_at"]).dt.tz_convert("UTC")
    old = old[~old["incident_id"].astype(str).isin(set(stored["incident_id"]))]
    cols = ["incident_id", "category", "occurred_at", "date_only", "severity", "lon", "lat"]
    cols += [
        c
        for c in ("u", "v", "key", "snap_m", "node", "grid_id")
        if c in old.columns and c in stored.columns
    ]
    both = pd.concat([old[cols], pd.DataFrame(stored[cols])], ignore_index=True)
    return gpd.GeoDataFrame(
        both, geometry=gpd.points_from_xy(both["lon"], both["lat"]), crs="EPSG:4326"
    )


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
        self._executor: Executor | None = None
        self._executor_lock = threading.Lock()

    def solve_executor(self) -> Executor | None:
        """Where planning jobs solve: the Dask cluster of ``dask_scheduler``, else the service's
        own pool of ``solve_workers`` processes (``None``: in the job's thread). Made on first
        use and kept, so its workers stay warm between plans."""
        with self._executor_lock:
            if self._executor is None:
                if self.settings.dask_scheduler:
                    from optimizer.plan.dask_executor import DaskExecutor

                    self._executor = DaskExecutor(self.settings.dask_scheduler)
                elif self.settings.solve_workers > 1:
                    self._executor = LocalPool(self.settings.solve_workers)
            return self._executor

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

    def district_names(self) -> list[str]:
        """Return the names of the prepared districts (the demo is always there)."""
        return sorted(set(list_districts(self.settings.data_dir)) | {"demo"})

    def check_district(self, name: str, *, field: str = "district") -> str:
        """Return ``name`` if it names a prepared district; InputError naming the known ones.

        A name is never taken as a path, and the error names no folder of the server.
        """
        if not re.fullmatch(NAME_PATTERN, name) or name not in self.district_names():
            raise InputError(field, name, f"a district name, one of {self.district_names()}")
        return name

    def base_district(self, name: str) -> District:
        """Load (once) the prepared district ``name`` from the data folder.

        Raises
        ------
        InputError
            ``name`` is not a prepared district, or its folder cannot be read (the message
            names no path; the log has the details).
        """
        self.check_district(name)
        with self._district_lock:
            if name not in self._districts:
                try:
                    self._districts[name] = load_district(name, self.settings.data_dir)
                except Exception:
                    log.exception("district %r could not be loaded", name)
                    raise InputError(
                        "district",
                        name,
                        "a district whose prepared folder is complete and readable",
                    ) from None
            return self._districts[name]

    def forget_district(self, name: str) -> None:
        """Drop a cached district (after an import replaced it)."""
        with self._district_lock:
            self._districts.pop(name, None)
        self.hotspots.drop(lambda k: k[0] == name)
        # the page's cells and streets of the district (api.routes.page)
        self.reads.drop(
            lambda k: (
                isinstance(k, tuple)
                and len(k) >= 2
                and k[0] in ("district-map", "district-streets")
                and k[1] == name
            )
        )

    def district(self, name: str) -> District:
        """Return district ``name`` as the library sees it through the service.

        The prepared district with, when stored through the API, its resources replaced and
        the incidents ingested through the API added to its incident history (rows with the
        same id replace those of the history).
        """
        base = self.base_district(name)
        with session_scope(self.sessions) as session:
            row = session.scalar(select(ResourceSet).where(ResourceSet.district == name))
            data = None if row is None else row.data
        changes: dict[str, Any] = {}
        if data is not None:
            changes["resources"] = resources_from_json(data)
        history = self.incident_history(name, base)
        if history is not None:
            changes["incidents"] = history
        return dataclasses.replace(base, **changes) if changes else base

    def incident_history(self, name: str, base: District) -> gpd.GeoDataFrame | None:
        """Return the district's history merged with the stored incidents, snapped to streets.

        None when nothing was ingested for ``name``. Cached until the next ingest.
        """
        with self.engine.connect() as conn:
            count, newest = conn.execute(
                select(func.count(), func.max(Incident.updated_at)).where(Incident.district == name)
            ).one()
        if not count:
            return None
        key = ("history", name, int(count), str(newest), id(base))
        cached = self.reads.get(key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        stored = self.stored_incidents(name)
        if stored is None:
            return None
        snapped, _far = snap_incidents(stored, base.graph, grids=base.grids)
        merged = merge_incidents(base.incidents, snapped)
        self.reads.drop(lambda k: isinstance(k, tuple) and k[:2] == ("history", name))
        self.reads.put(key, merged)
        return merged

    def stored_incidents(self, name: str) -> gpd.GeoDataFrame | None:
        """Return the incidents ingested for ``name`` in the incident schema, or None."""
        # rows stored before dates were checked at the door are left out, not fatal
        query = (
            select(
                Incident.external_id, Incident.category, Incident.time, Incident.lon, Incident.lat
            )
            .where(
                Incident.district == name,
                Incident.time >= dt.datetime.combine(FIRST_DATE, dt.time()),
                Incident.time < dt.datetime.combine(LAST_DATE + dt.timedelta(days=1), dt.time()),
            )
            .order_by(Incident.id)
        )
        with self.engine.connect() as conn:
            frame = pd.read_sql(query, conn)
        if frame.empty:
            return None
        return gpd.GeoDataFrame(
            {
                "incident_id": frame["external_id"].astype(str),
                "category": frame["category"].astype(str),
                "occurred_at": pd.to_datetime(frame["time"]).dt.tz_localize("UTC"),
                "date_only": False,
                "severity": 1.0,
                "lon": frame["lon"].astype(float),
                "lat": frame["lat"].astype(float),
            },
            geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
            crs="EPSG:4326",
        )

    def close(self) -> None:
        """Release database connections and stop the solve pool."""
        with self._executor_lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.close()
        self.engine.dispose()
