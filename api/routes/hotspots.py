"""Hotspots of a district, date, window and grids (computed once, then served from memory)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool

from api.deps import Reader, ServicesDep
from api.errors import error_responses
from api.jsonbody import StrictJSONRoute
from api.routes.districts import DistrictInPath
from api.schemas import HotspotList, HotspotOut, PatrolDate, Window
from api.services import Services, leaf_descendants
from optimizer.plan.cells import planning_grid_ids
from optimizer.risk.hotspots import hotspots_for_window
from optimizer.timewindow import TimeWindow

router = APIRouter(
    prefix="/districts/{name}/hotspots", tags=["hotspots"], route_class=StrictJSONRoute
)


def hotspot_body(
    services: Services,
    name: str,
    day: dt.date,
    window: str,
    grid_id: list[str] | None,
    grid_level: int | None,
) -> bytes:
    """Compute the hotspots and return their JSON."""
    tw = TimeWindow.parse(window, field="window")
    district = services.district(name)
    ids = planning_grid_ids(district, level=grid_level, grid_ids=grid_id)
    spots = hotspots_for_window(
        district, day=day, window=tw, grid_ids=leaf_descendants(district.grids, ids)
    )
    body = (
        HotspotList(
            district=name,
            date=day,
            window=tw.label(),
            count=len(spots),
            items=[
                HotspotOut(
                    id=h.id,
                    grid_id=h.grid_id,
                    lon=h.lon,
                    lat=h.lat,
                    value=h.value,
                    dwell_min=h.dwell_min,
                    visits=h.visits,
                    spacing_min=h.spacing_min,
                    label=h.label,
                )
                for h in spots
            ],
        )
        .model_dump_json()
        .encode()
    )
    return body


@router.get("", response_model=HotspotList, responses=error_responses(401, 404, 422, 429))
async def get_hotspots(
    name: DistrictInPath,
    services: ServicesDep,
    _: Reader,
    date: Annotated[PatrolDate, Query(examples=["2026-12-01"])],
    window: Annotated[Window, Query()],
    grid_id: Annotated[
        list[Annotated[str, Query(max_length=100)]] | None,
        Query(description="grid ids (any level)", max_length=1000),
    ] = None,
    grid_level: Annotated[int | None, Query(ge=1, le=9)] = None,
) -> Response:
    """Return the patrol hotspots of the window, per grid, with value, dwell and visits."""
    key = (name, date, window.strip(), tuple(sorted(grid_id or ())), grid_level)
    body = services.hotspots.get(key)
    if body is None:
        body = await run_in_threadpool(
            hotspot_body, services, name, date, window, grid_id, grid_level
        )
        services.hotspots.put(key, body)
    return Response(body, media_type="application/json")
