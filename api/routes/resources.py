"""Resources of a district: stations, officers, volunteer teams and members, posts, availability.

Officers' ``phone`` and volunteers' ``phone`` and ``id_number`` are returned only to roles
holding ``personal:read`` (admin, planner); other roles get them as null (``api.personal``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Request
from sqlalchemy.orm import Session

from api.deps import Reader, ResourceWriter, ServicesDep, audit_write, commit_write
from api.errors import error_responses
from api.jsonbody import StrictJSONRoute
from api.keys import Principal
from api.models import ResourceSet, utcnow
from api.personal import visible
from api.routes.districts import DistrictInPath
from api.schemas import (
    PatrolDate,
    ResourceKindOut,
    ResourcesPrivate,
    ResourcesPublic,
    Window,
)
from optimizer.errors import InputError
from optimizer.staff.roster import Resources, resources_from_json, resources_to_json
from optimizer.timewindow import TimeWindow

router = APIRouter(
    prefix="/districts/{name}/resources", tags=["resources"], route_class=StrictJSONRoute
)

RESOURCES_EXAMPLE: dict[str, Any] = {
    "stations": [{"id": "S1", "name": "Central station", "lon": 24.94, "lat": 60.17}],
    "officers": [
        {
            "id": "O1",
            "name": "Officer Li",
            "station_id": "S1",
            "mode": "foot",
            "shifts": [{"window": "18:00-24:00", "weekdays": [0, 1, 2, 3, 4]}],
        }
    ],
    "teams": [
        {
            "id": "T1",
            "name": "Block watch",
            "kind": "grid worker",
            "home_grid": "G3-1",
            "base_station_id": "S1",
            "members": [
                {
                    "id": "V1",
                    "name": "Wang",
                    "role": "grid worker",
                    "phone": "13800000000",
                    "id_number": "110101199001011234",
                    "availability": [{"window": "19:00-23:00"}],
                }
            ],
        }
    ],
    "posts": [
        {
            "id": "P1",
            "name": "School gate",
            "lon": 24.941,
            "lat": 60.171,
            "grid_id": "G3-1",
            "windows": ["07:30-08:30"],
        }
    ],
}


def _validated(services: ServicesDep, name: str, body: dict[str, Any]) -> Resources:
    """Build resources from JSON and check their grid ids against the district's grids."""
    grid_ids = {str(g) for g in services.base_district(name).grids.index}
    res = resources_from_json(body)
    for i, t in enumerate(res.teams):
        if t.home_grid not in grid_ids:
            raise InputError(f"teams[{i}].home_grid", t.home_grid, "a grid id of the district")
    for i, p in enumerate(res.posts):
        if p.grid_id not in grid_ids:
            raise InputError(f"posts[{i}].grid_id", p.grid_id, "a grid id of the district")
    return res


def _counts(res: Resources) -> dict[str, int]:
    return {
        "stations": len(res.stations),
        "officers": len(res.officers),
        "teams": len(res.teams),
        "volunteers": len(res.volunteers),
        "posts": len(res.posts),
    }


def _store(session: Session, name: str, data: dict[str, Any], by: str) -> None:
    row = session.get(ResourceSet, name)
    if row is None:
        session.add(ResourceSet(district=name, data=data, updated_by=by))
    else:
        row.data = data
        row.updated_at = utcnow()
        row.updated_by = by


def typed_resources(data: dict[str, Any], principal: Principal) -> ResourcesPublic:
    """Return resources JSON in the view the caller may see (``api.personal.visible``)."""
    shown = visible(data, principal)
    if principal.can("personal:read"):
        return ResourcesPrivate.model_validate(shown)
    return ResourcesPublic.model_validate(shown)


@router.get(
    "",
    response_model=ResourcesPrivate | ResourcesPublic,
    responses=error_responses(401, 404, 422, 429),
)
def get_resources(
    name: DistrictInPath, services: ServicesDep, principal: Reader
) -> ResourcesPublic:
    """Return the district's resources: the private view (phones, ID numbers) for admin and
    planner, the public view (those fields null) for the other roles."""
    return typed_resources(resources_to_json(services.district(name).resources), principal)


@router.put("", responses=error_responses(401, 403, 404, 413, 422, 429))
def put_resources(
    name: DistrictInPath,
    request: Request,
    services: ServicesDep,
    principal: ResourceWriter,
    body: Annotated[dict[str, Any], Body(examples=[RESOURCES_EXAMPLE])],
) -> dict[str, Any]:
    """Replace the district's resources (validated; the first bad field is named)."""
    res = _validated(services, name, body)
    data = resources_to_json(res)
    counts = _counts(res)

    def work(session: Session) -> None:
        _store(session, name, data, principal.name)
        audit_write(
            request,
            session,
            action="resources.replace",
            inputs={"district": name, **counts},
            result={"stored": True},
        )

    commit_write(request, services, work)
    return {"district": name, **counts}


@router.get("/availability", responses=error_responses(401, 404, 422, 429))
def availability(
    name: DistrictInPath,
    services: ServicesDep,
    _: Reader,
    date: Annotated[PatrolDate, Query(examples=["2026-12-01"])],
    window: Annotated[Window, Query()],
) -> dict[str, Any]:
    """Return the officers and volunteers available for a whole window on a date."""
    tw = TimeWindow.parse(window, field="window")
    res = services.district(name).resources
    return {
        "district": name,
        "date": date.isoformat(),
        "window": tw.label(),
        "officers": [o.id for o in res.officers if o.available(date, tw)],
        "volunteers": [v.id for v in res.volunteers if v.available(date, tw)],
        "posts": [p.id for p in res.posts if p.active_windows(date, tw)],
    }


Kind = Literal["stations", "officers", "teams", "posts"]


@router.get(
    "/{kind}", response_model=ResourceKindOut, responses=error_responses(401, 404, 422, 429)
)
def get_kind(
    name: DistrictInPath, kind: Kind, services: ServicesDep, principal: Reader
) -> ResourceKindOut:
    """Return one kind of resource (stations, officers, teams with members, posts), in the
    caller's view as for the whole set."""
    typed = typed_resources(resources_to_json(services.district(name).resources), principal)
    items = list(getattr(typed, kind))
    return ResourceKindOut(district=name, kind=kind, count=len(items), items=items)


@router.put("/{kind}/{item_id}", responses=error_responses(401, 403, 404, 413, 422, 429))
def put_item(
    name: DistrictInPath,
    kind: Kind,
    item_id: Annotated[str, Path(min_length=1, max_length=100)],
    request: Request,
    services: ServicesDep,
    principal: ResourceWriter,
    body: Annotated[dict[str, Any], Body(examples=[RESOURCES_EXAMPLE["officers"][0]])],
) -> dict[str, Any]:
    """Add or replace one station, officer, team (with members and availability) or post."""
    if str(body.get("id", item_id)) != item_id:
        raise InputError("id", body.get("id"), f"the id of the path, {item_id!r}")
    data = resources_to_json(services.district(name).resources)
    items = [i for i in data[kind] if str(i["id"]) != item_id]
    replaced = len(items) < len(data[kind])
    data[kind] = [*items, {**body, "id": item_id}]
    stored = resources_to_json(_validated(services, name, data))

    def work(session: Session) -> None:
        _store(session, name, stored, principal.name)
        audit_write(
            request,
            session,
            action=f"resources.{kind}.put",
            inputs={"district": name, "id": item_id, "item": body},
            result={"replaced": replaced},
        )

    commit_write(request, services, work)
    return {"district": name, "kind": kind, "id": item_id, "replaced": replaced}
