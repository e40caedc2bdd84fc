"""Incidents: idempotent batch ingest (upsert by external id), queries by grid, time, category."""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated, Any

import geopandas as gpd
import numpy as np
from fastapi import APIRouter, Query, Request
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from api.deps import IncidentReader, IncidentWriter, ServicesDep, SessionDep, set_audit
from api.errors import error_responses
from api.models import Incident, utcnow
from api.schemas import IncidentBatch, IncidentOut, IncidentPage, IngestResult
from api.services import Services, leaf_descendants
from optimizer.errors import InputError
from optimizer.risk.categories import resolve_category

router = APIRouter(prefix="/incidents", tags=["incidents"])

CHUNK = 2000


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


def _upsert(session: Session, dialect: str, rows: list[dict[str, Any]]) -> None:
    table: Any = Incident.__table__
    stmt: Any = pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)
    excluded = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["district", "external_id"],
        set_={
            c: getattr(excluded, c)
            for c in ("time", "category", "description", "lon", "lat", "grid_id", "updated_at")
        },
    )
    for i in range(0, len(rows), CHUNK):
        session.execute(stmt, rows[i : i + CHUNK])


@router.post("", response_model=IngestResult, responses=error_responses(401, 403, 413, 422))
def ingest(
    batch: IncidentBatch,
    request: Request,
    services: ServicesDep,
    session: SessionDep,
    _: IncidentWriter,
) -> IngestResult:
    """Ingest a batch of incidents; a known ``external_id`` updates the stored incident."""
    t0 = time.perf_counter()
    items = batch.incidents
    # the last copy of a repeated external id wins, as if sent one after the other
    latest = {inc.external_id: inc for inc in items}
    incs = list(latest.values())
    lon = np.fromiter((i.lon for i in incs), float, len(incs))
    lat = np.fromiter((i.lat for i in incs), float, len(incs))
    grids = leaf_grid_of(services, batch.district, lon, lat)
    ids = list(latest)
    known: set[str] = set()
    for i in range(0, len(ids), CHUNK):
        known.update(
            session.scalars(
                select(Incident.external_id).where(
                    Incident.district == batch.district,
                    Incident.external_id.in_(ids[i : i + CHUNK]),
                )
            )
        )
    now = utcnow()
    # labels from the category vocabulary are stored as its keys; others as given
    keys = {c: resolve_category(c) or c for c in {inc.category for inc in incs}}
    rows = [
        {
            "district": batch.district,
            "external_id": inc.external_id,
            "time": inc.time.replace(tzinfo=None)
            if inc.time.tzinfo is None
            else inc.time.astimezone(dt.UTC).replace(tzinfo=None),
            "category": keys[inc.category],
            "description": inc.description,
            "lon": inc.lon,
            "lat": inc.lat,
            "grid_id": g,
            "updated_at": now,
        }
        for inc, g in zip(incs, grids, strict=True)
    ]
    _upsert(session, services.dialect, rows)
    session.commit()
    services.hotspots.drop(lambda key: key[0] == batch.district)
    result = IngestResult(
        district=batch.district,
        received=len(items),
        inserted=len(incs) - len(known),
        updated=len(known),
        outside_grids=sum(1 for g in grids if g is None),
        seconds=round(time.perf_counter() - t0, 4),
    )
    set_audit(
        request,
        "incidents.ingest",
        {
            "district": batch.district,
            "received": len(items),
            "first_external_id": items[0].external_id,
        },
        result.model_dump(),
    )
    return result


@router.get("", response_model=IncidentPage, responses=error_responses(401, 403, 422))
def query(
    services: ServicesDep,
    session: SessionDep,
    _: IncidentReader,
    district: Annotated[str, Query(min_length=1, examples=["demo"])],
    grid_id: Annotated[list[str] | None, Query(description="grid ids (any level)")] = None,
    start: Annotated[dt.datetime | None, Query(description="from this time (inclusive)")] = None,
    end: Annotated[dt.datetime | None, Query(description="until this time (exclusive)")] = None,
    category: Annotated[list[str] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
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
        where.append(Incident.time >= start.replace(tzinfo=None))
    if end is not None:
        where.append(Incident.time < end.replace(tzinfo=None))
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
