"""Resources of a district: stations, officers, volunteer teams and members, posts, availability.

Volunteers' ``phone`` and ``id_number`` are returned only to roles holding ``personal:read``
(admin, planner); other roles get them as null.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from api.deps import Reader, ResourceWriter, ServicesDep, SessionDep, set_audit
from api.errors import error_responses
from api.keys import Principal
from api.models import ResourceSet, utcnow
from optimizer.errors import InputError
from optimizer.staff.roster import Resources, resources_from_json, resources_to_json
from optimizer.timewindow import TimeWindow

router = APIRouter(prefix="/districts/{name}/resources", tags=["resources"])

PERSONAL_FIELDS: tuple[str, ...] = ("phone", "id_number")

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


def visible(data: dict[str, Any], principal: Principal) -> dict[str, Any]:
    """Return resources JSON with personal fields nulled unless the caller may read them."""
    if principal.can("personal:read"):
        return data
    out = dict(data)
    out["teams"] = [
        {**t, "members": [{**m, **dict.fromkeys(PERSONAL_FIELDS)} for m in t.get("members", [])]}
        for t in data.get("teams", [])
    ]
    return out


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


@router.get("", responses=error_responses(401, 422))
def get_resources(name: str, services: ServicesDep, principal: Reader) -> dict[str, Any]:
    """Return the district's resources (personal data only for admin and planner)."""
    return visible(resources_to_json(services.district(name).resources), principal)


@router.put("", responses=error_responses(401, 403, 413, 422))
def put_resources(
    name: str,
    request: Request,
    services: ServicesDep,
    session: SessionDep,
    principal: ResourceWriter,
    body: Annotated[dict[str, Any], Body(examples=[RESOURCES_EXAMPLE])],
) -> dict[str, Any]:
    """Replace the district's resources (validated; the first bad field is named)."""
    res = _validated(services, name, body)
    data = resources_to_json(res)
    row = session.get(ResourceSet, name)
    if row is None:
        session.add(ResourceSet(district=name, data=data, updated_by=principal.name))
    else:
        row.data = data
        row.updated_at = utcnow()
        row.updated_by = principal.name
    counts = _counts(res)
    set_audit(request, "resources.replace", {"district": name, **counts}, {"stored": True})
    return {"district": name, **counts}


@router.get("/availability", responses=error_responses(401, 422))
def availability(
    name: str,
    services: ServicesDep,
    _: Reader,
    date: Annotated[dt.date, Query(examples=["2026-12-01"])],
    window: Annotated[str, Query(examples=["19:00-23:00"])],
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


KINDS: tuple[str, ...] = ("stations", "officers", "teams", "posts")


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise InputError("kind", kind, f"one of {list(KINDS)}")


@router.get("/{kind}", responses=error_responses(401, 422))
def get_kind(name: str, kind: str, services: ServicesDep, principal: Reader) -> dict[str, Any]:
    """Return one kind of resource (stations, officers, teams with members, posts)."""
    _check_kind(kind)
    items = visible(resources_to_json(services.district(name).resources), principal)[kind]
    return {"district": name, "kind": kind, "count": len(items), "items": items}


@router.put("/{kind}/{item_id}", responses=error_responses(401, 403, 404, 413, 422))
def put_item(
    name: str,
    kind: str,
    item_id: str,
    request: Request,
    services: ServicesDep,
    session: SessionDep,
    principal: ResourceWriter,
    body: Annotated[dict[str, Any], Body(examples=[RESOURCES_EXAMPLE["officers"][0]])],
) -> dict[str, Any]:
    """Add or replace one station, officer, team (with members and availability) or post."""
    _check_kind(kind)
    if str(body.get("id", item_id)) != item_id:
        raise InputError("id", body.get("id"), f"the id of the path, {item_id!r}")
    data = resources_to_json(services.district(name).resources)
    items = [i for i in data[kind] if str(i["id"]) != item_id]
    replaced = len(items) < len(data[kind])
    data[kind] = [*items, {**body, "id": item_id}]
    res = _validated(services, name, data)
    stored = resources_to_json(res)
    row = session.get(ResourceSet, name)
    if row is None:
        session.add(ResourceSet(district=name, data=stored, updated_by=principal.name))
    else:
        row.data = stored
        row.updated_at = utcnow()
        row.updated_by = principal.name
    set_audit(
        request,
        f"resources.{kind}.put",
        {"district": name, "id": item_id, "item": body},
        {"replaced": replaced},
    )
    return {"district": name, "kind": kind, "id": item_id, "replaced": replaced}
