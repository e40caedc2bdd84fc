"""Districts and their grids: list, metadata, grids as GeoJSON, import as a job."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from api.deps import DistrictWriter, Reader, ServicesDep, set_audit
from api.errors import error_responses
from api.keys import principal_tag
from api.schemas import DistrictImport, DistrictList, DistrictOut, JobOut
from optimizer.errors import InputError
from optimizer.storage import list_districts

router = APIRouter(prefix="/districts", tags=["districts"])


@router.get("", response_model=DistrictList, responses=error_responses(401))
def get_districts(services: ServicesDep, _: Reader) -> DistrictList:
    """List the prepared districts (the demo is always available)."""
    names = sorted(set(list_districts(services.settings.data_dir)) | {"demo"})
    return DistrictList(count=len(names), items=names)


@router.get("/{name}", response_model=DistrictOut, responses=error_responses(401, 422))
def get_district(name: str, services: ServicesDep, _: Reader) -> DistrictOut:
    """Return a district's grid counts, levels and metadata."""
    district = services.base_district(name)
    levels = sorted(int(v) for v in district.grids["level"].unique())
    meta = json.loads(json.dumps(district.metadata, default=str))
    return DistrictOut(name=district.name, grids=len(district.grids), levels=levels, metadata=meta)


@router.get(
    "/{name}/grids",
    responses={
        200: {
            "content": {"application/geo+json": {}},
            "description": "FeatureCollection of grid polygons (EPSG:4326)",
        },
        **error_responses(401, 422),
    },
)
def get_grids(
    name: str,
    services: ServicesDep,
    _: Reader,
    level: Annotated[int | None, Query(ge=1, description="only grids of this level")] = None,
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
    responses=error_responses(401, 403, 422),
)
def import_district(
    body: DistrictImport, request: Request, services: ServicesDep, principal: DistrictWriter
) -> JobOut:
    """Import a district from an OSM file on the server, as a background job."""
    if not Path(body.osm_path).is_file():
        raise InputError("osm_path", body.osm_path, "an OSM XML or PBF file readable by the server")
    job = request.app.state.jobs.submit("import", body.model_dump(), principal_tag(principal))
    set_audit(request, "district.import.submit", body.model_dump(), {"job_id": job.id})
    return JobOut.model_validate(job)
