"""Incidents: idempotent batch ingest (upsert by external id), queries by grid, time, category."""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any, Literal

import geopandas as gpd
import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from api.deps import (
    IncidentReader,
    IncidentWriter,
    ServicesDep,
    SessionDep,
    audit_write,
    commit_write,
)
from api.errors import error_responses
from api.jsonbody import StrictJSONRoute
from api.models import Incident, utcnow
from api.schemas import (
    MAX_INT32,
    NAME_PATTERN,
    XLSX_MEDIA_TYPE,
    IncidentBatch,
    IncidentIn,
    IncidentOut,
    IncidentPage,
    IngestResult,
    PatrolDateTime,
)
from api.services import Services, leaf_descendants
from optimizer.errors import InputError
from optimizer.risk.categories import resolve_category
from optimizer.risk.incidents import read_incidents

router = APIRouter(prefix="/incidents", tags=["incidents"], route_class=StrictJSONRoute)

CHUNK = 2000


def _stored_time(moment: dt.datetime) -> dt.datetime:
    """Return ``moment`` as stored: UTC without an offset (no offset given: UTC)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def leaf_grid_of(services: Services, district: str, lon: np.ndarray, lat: np.ndarray) -> list[Any]:
    """Return the finest-level grid id of each point (None outside every grid)."""
    d = services.base_district(district)
    leaves = d.grids[d.grids["level"] == d.grids["level"].max()]
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    cells = gpd.GeoDataFrame(
        {"grid_id": [str(i) for i in leaves.index]},
        geometry=list(leaves.geometry),
        crs=leaves.crs or "EPSG:4326",
    )
    if cells.crs != points.crs:
        cells = cells.to_crs(points.crs)
    joined = gpd.sjoin(points, cells, how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    return [None if isinstance(g, float) else g for g in joined["grid_id"].tolist()]


def upsert_incidents(session: Session, dialect: str, rows: list[dict[str, Any]]) -> set[str]:
    """Insert new incidents and update known ones; return the external ids inserted.

    Rows are written in the order of their key (``district``, ``external_id``), so concurrent
    batches with overlapping ids lock rows in the same order and cannot deadlock. New ids go
    in with ``INSERT .. ON CONFLICT DO NOTHING RETURNING`` (what it returns is what this
    transaction inserted, whatever runs beside it); the rest are updated with ``INSERT .. ON
    CONFLICT DO UPDATE``.
    """
    table: Any = Incident.__table__
    insert: Any = pg_insert if dialect == "postgresql" else sqlite_insert
    rows = sorted(rows, key=lambda r: (r["district"], r["external_id"]))
    keys = ["district", "external_id"]
    fresh = insert(table).on_conflict_do_nothing(index_elements=keys).returning(table.c.external_id)
    inserted: set[str] = set()
    for i in range(0, len(rows), CHUNK):
        inserted.update(session.scalars(fresh, rows[i : i + CHUNK]))
    known = [r for r in rows if r["external_id"] not in inserted]
    upsert = insert(table)
    upsert = upsert.on_conflict_do_update(
        index_elements=keys,
        set_={c: getattr(upsert.excluded, c) for c in UPDATED_COLUMNS},
    )
    for i in range(0, len(known), CHUNK):
        session.execute(upsert, known[i : i + CHUNK])
    return inserted


UPDATED_COLUMNS: tuple[str, ...] = (
    "time",
    "category",
    "description",
    "lon",
    "lat",
    "grid_id",
    "updated_at",
)
"""Columns a re-sent incident replaces."""


def store_batch(
    request: Request,
    services: Services,
    district: str,
    items: list[IncidentIn],
    *,
    source: dict[str, Any],
) -> IngestResult:
    """Store incidents of ``district`` and their audit entry in one transaction.

    ``inserted`` counts the ids this batch added, ``updated`` those already stored; the last
    copy of a repeated id wins, as if sent one after the other. ``source`` is added to the
    audit entry's inputs.
    """
    t0 = time.perf_counter()
    services.check_district(district)
    latest = {inc.external_id: inc for inc in items}
    incs = list(latest.values())
    lon = np.fromiter((i.lon for i in incs), float, len(incs))
    lat = np.fromiter((i.lat for i in incs), float, len(incs))
    grids = leaf_grid_of(services, district, lon, lat)
    now = utcnow()
    # labels from the category vocabulary are stored as its keys; others as given
    keys = {c: resolve_category(c) or c for c in {inc.category for inc in incs}}
    rows = [
        {
            "district": district,
            "external_id": inc.external_id,
            "time": _stored_time(inc.time),
            "category": keys[inc.category],
            "description": inc.description,
            "lon": inc.lon,
            "lat": inc.lat,
            "grid_id": g,
            "updated_at": now,
        }
        for inc, g in zip(incs, grids, strict=True)
    ]
    outside = sum(1 for g in grids if g is None)

    def work(session: Session) -> IngestResult:
        inserted = upsert_incidents(session, services.dialect, rows)
        result = IngestResult(
            district=district,
            received=len(items),
            inserted=len(inserted),
            updated=len(rows) - len(inserted),
            outside_grids=outside,
            seconds=round(time.perf_counter() - t0, 4),
        )
        audit_write(
            request,
            session,
            action="incidents.ingest",
            inputs={
                "district": district,
                "received": len(items),
                "first_external_id": items[0].external_id,
                "last_external_id": items[-1].external_id,
                **source,
            },
            result=result.model_dump(),
        )
        return result

    result = commit_write(request, services, work)
    services.hotspots.drop(lambda key: key[0] == district)
    return result


@router.post("", response_model=IngestResult, responses=error_responses(401, 403, 413, 422, 429))
def ingest(
    batch: IncidentBatch,
    request: Request,
    services: ServicesDep,
    _: IncidentWriter,
) -> IngestResult:
    """Ingest a batch of incidents; a known ``external_id`` updates the stored incident.

    The batch is stored in one transaction with its audit entry (retried after a deadlock);
    ``inserted`` counts the ids this batch added, ``updated`` those that were already stored.
    """
    return store_batch(request, services, batch.district, batch.incidents, source={})


FILE_TYPES: dict[str, str] = {
    "text/csv": ".csv",
    "application/geo+json": ".geojson",
    XLSX_MEDIA_TYPE: ".xlsx",
}
"""Content types of ``POST /incidents/file`` and the file kind each is read as."""


def _file_suffix(request: Request) -> str:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in FILE_TYPES:
        raise InputError("content-type", kind, f"one of {sorted(FILE_TYPES)}")
    return FILE_TYPES[kind]


def _items_from_file(body: bytes, suffix: str, crs: str, tz: str) -> list[IncidentIn]:
    """Read an incident file with the library's reader; any rejected row refuses the file."""
    if not body:
        raise InputError("body", "empty", f"a {suffix} file of incidents")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"incidents{suffix}"
        path.write_bytes(body)
        read = read_incidents(path, crs=crs, tz=tz)
    rejected = [p for p in read.problems if not p.kept]
    if rejected:
        first = rejected[0]
        raise InputError(
            f"line {first.line}.{first.field}",
            first.value,
            f"{first.reason} ({len(rejected)} row problem(s); the file was not stored)",
        )
    frame = read.incidents
    if frame.empty:
        raise InputError("body", "no rows", "a file with at least one incident")
    items = []
    for i, row in enumerate(frame.itertuples(index=False)):
        try:
            items.append(
                IncidentIn(
                    external_id=str(row.incident_id),
                    time=row.occurred_at.to_pydatetime(),
                    category=str(row.category),
                    lon=float(row.lon),
                    lat=float(row.lat),
                )
            )
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(p) for p in error.get("loc", ()))
            raise InputError(
                f"line {int(frame['line'].iloc[i])}.{field}", error.get("input"), error["msg"]
            ) from None
    return items


@router.post(
    "/file",
    response_model=IngestResult,
    responses=error_responses(401, 403, 413, 422, 429),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                kind: {"schema": {"type": "string", "format": "binary"}} for kind in FILE_TYPES
            },
        }
    },
)
async def ingest_file(
    request: Request,
    services: ServicesDep,
    _: IncidentWriter,
    district: Annotated[str, Query(pattern=NAME_PATTERN, examples=["demo"])],
    crs: Annotated[Literal["wgs84", "gcj02", "bd09"], Query()] = "wgs84",
    tz: Annotated[str, Query(max_length=64, description="IANA zone of times without one")] = "UTC",
) -> IngestResult:
    """Ingest an incident file (CSV, GeoJSON or XLSX, by content type), all or nothing.

    The file is read like ``patrol hotspots --incidents`` reads it (columns found by their
    usual English or Chinese names); a damaged file, or any row the reader rejects, refuses
    the whole file with 422 naming the line, and nothing is stored.
    """
    suffix = _file_suffix(request)
    body = await request.body()
    items = await run_in_threadpool(_items_from_file, body, suffix, crs, tz)
    return await run_in_threadpool(
        store_batch, request, services, district, items, source={"file": suffix}
    )


@router.get("", response_model=IncidentPage, responses=error_responses(401, 403, 422, 429))
def query(
    services: ServicesDep,
    session: SessionDep,
    _: IncidentReader,
    district: Annotated[str, Query(pattern=NAME_PATTERN, examples=["demo"])],
    grid_id: Annotated[
        list[Annotated[str, Query(max_length=100)]] | None,
        Query(description="grid ids (any level)"),
    ] = None,
    start: Annotated[
        PatrolDateTime | None, Query(description="from this time (inclusive; no offset: UTC)")
    ] = None,
    end: Annotated[
        PatrolDateTime | None, Query(description="until this time (exclusive; no offset: UTC)")
    ] = None,
    category: Annotated[list[str] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_INT32)] = 0,
) -> IncidentPage:
    """Return incidents of a district, filtered by grid, time range and category."""
    where = [Incident.district == district]
    if grid_id:
        grids = services.base_district(district).grids
        known = {str(g) for g in grids.index}
        for i, g in enumerate(grid_id):
            if g not in known:
                raise InputError(f"grid_id[{i}]", g, "a grid id of the district")
        where.append(Incident.grid_id.in_(leaf_descendants(grids, grid_id)))
    if start is not None:
        where.append(Incident.time >= _stored_time(start))
    if end is not None:
        where.append(Incident.time < _stored_time(end))
    if category:
        where.append(Incident.category.in_(category))
    total = session.scalar(select(func.count()).select_from(Incident).where(*where)) or 0
    rows = session.scalars(
        select(Incident)
        .where(*where)
        .order_by(Incident.time, Incident.id)
        .offset(offset)
        .limit(limit)
    ).all()
    return IncidentPage(
        count=int(total),
        offset=offset,
        limit=limit,
        items=[IncidentOut.model_validate(r) for r in rows],
    )
