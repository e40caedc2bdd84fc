"""Districts and their grids: list, metadata, grids as GeoJSON, import as a job."""

from __future__ import annotations

import json
from pathlib import PurePosixPath, PureWindowsPath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from api.deps import DistrictWriter, Reader, ServicesDep, submit_job
from api.errors import error_responses, not_found
from api.jsonbody import StrictJSONRoute
from api.planning import import_file
from api.schemas import NAME_PATTERN, DistrictImport, DistrictList, DistrictOut, JobOut
from optimizer.errors import InputError

router = APIRouter(prefix="/districts", tags=["districts"], route_class=StrictJSONRoute)


def known_district(
    name: Annotated[str, Path(pattern=NAME_PATTERN, examples=["demo"])], services: ServicesDep
) -> str:
    """Return the district named in the path; 404 when there is none of that name."""
    try:
        return services.check_district(name)
    except InputError as exc:
        raise not_found("district", name, exc.accepted) from None


DistrictInPath = Annotated[str, Depends(known_district)]


def public_metadata(value: Any) -> Any:
    """Return district metadata with file paths cut to their file names (no server paths)."""
    if isinstance(value, dict):
        return {str(k): public_metadata(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [public_metadata(v) for v in value]
    if isinstance(value, str) and ("/" in value or "\\" in value) and "://" not in value:
        posix, windows = PurePosixPath(value), PureWindowsPath(value)
        if posix.is_absolute() or windows.drive or value.startswith((".", "~")):
            return windows.name if windows.drive else posix.name
    return value


@router.get("", response_model=DistrictList, responses=error_responses(401, 429))
def get_districts(services: ServicesDep, _: Reader) -> DistrictList:
    """List the prepared districts (the demo is always available)."""
    names = services.district_names()
    return DistrictList(count=len(names), items=names)


@router.get("/{name}", response_model=DistrictOut, responses=error_responses(401, 404, 422, 429))
def get_district(name: DistrictInPath, services: ServicesDep, _: Reader) -> DistrictOut:
    """Return a district's grid counts, levels and metadata."""
    district = services.base_district(name)
    levels = sorted(int(v) for v in district.grids["level"].unique())
    meta = public_metadata(json.loads(json.dumps(district.metadata, default=str)))
    return DistrictOut(name=district.name, grids=len(district.grids), levels=levels, metadata=meta)


@router.get(
    "/{name}/grids",
    responses={
        200: {
            "content": {"application/geo+json": {"schema": {"type": "object"}}},
            "description": "FeatureCollection of grid polygons (EPSG:4326)",
        },
        **error_responses(401, 404, 422, 429),
    },
)
def get_grids(
    name: DistrictInPath,
    services: ServicesDep,
    _: Reader,
    level: Annotated[int | None, Query(ge=1, le=99, description="only grids of this level")] = None,
) -> Response:
    """Return the district's grids as GeoJSON (id, level, parent, name)."""
    grids = services.base_district(name).grids
    if level is not None:
        levels = sorted(int(v) for v in grids["level"].unique())
        if level not in levels:
            raise InputError("level", level, f"one of {levels}")
        grids = grids[grids["level"] == level]
    frame = grids.reset_index()
    frame = frame.rename(columns={frame.columns[0]: "id"}) if "id" not in frame else frame
    body: dict[str, Any] = json.loads(frame.to_json(drop_id=True))
    return Response(json.dumps(body), media_type="application/geo+json")


@router.post(
    "/import",
    response_model=JobOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 403, 413, 422, 429),
)
def import_district(
    body: DistrictImport, request: Request, services: ServicesDep, _: DistrictWriter
) -> JobOut:
    """Import a district from an OSM file of the service's import folder, as a job.

    The file is named by its file name only; an unknown name is refused without telling
    which files exist.
    """
    import_file(services, body.osm_file)
    return submit_job(
        request, services, "import", body.model_dump(), action="district.import.submit"
    )
