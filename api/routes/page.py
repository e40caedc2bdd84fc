"""The dispatcher's page and the data it reads: cells, streets, a plan's view, versions,
adjustments, print sheets (HTML and PDF), plan comparison, district import by upload.

The page itself (``/`` and the files under ``/page/``) is open: it holds no data, it asks for
an API key and keeps it in the browser tab's session storage. Everything it shows comes from
the routes here and in ``api.routes.plans`` with the key in ``X-API-Key``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import uuid
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy import select

from api.db import session_scope
from api.deps import (
    CurrentPrincipal,
    DistrictWriter,
    Planner,
    Reader,
    ServicesDep,
    SessionDep,
    submit_job,
)
from api.errors import error_responses, not_found
from api.jsonbody import StrictJSONRoute
from api.keys import PERMISSIONS
from api.models import Plan, PlanEdit
from api.planning import UPLOADS, adjustments_from, version_root
from api.routes.districts import DistrictInPath
from api.routes.plans import ItemId, stored_plan
from api.schemas import (
    NAME_PATTERN,
    WINDOW_PATTERN,
    AdjustRequest,
    JobOut,
    Me,
    PlanVersion,
    PlanVersions,
)
from api.services import Services
from api.views import compare_plans, district_map, district_streets, plan_view
from optimizer.errors import InputError
from optimizer.importer import OSM_SUFFIXES
from optimizer.outputs.sheets import LANGUAGES, sheets_html
from optimizer.plan.adjust import check_adjustments
from optimizer.timewindow import TimeWindow
from optimizer.timezones import check_timezone

router = APIRouter(tags=["page"], route_class=StrictJSONRoute)

PAGE_DIR = Path(__file__).resolve().parent.parent / "page"
"""The page's own files (HTML, script, style, fonts' licences)."""


def leaflet_dir() -> Path:
    """Return the folder of the vendored Leaflet (shared with the offline HTML map)."""
    return Path(str(resources.files("optimizer.outputs").joinpath("static", "leaflet")))


@router.get("/", include_in_schema=False)
def page() -> FileResponse:
    """The dispatcher's page (open: it asks for a key and holds no data)."""
    return FileResponse(PAGE_DIR / "index.html", media_type="text/html; charset=utf-8")


@router.get("/me", response_model=Me, responses=error_responses(401, 429))
def me(principal: CurrentPrincipal, services: ServicesDep) -> Me:
    """Return the caller's key name, role and permissions (the page shows what it may do)."""
    return Me(
        name=principal.name,
        role=principal.role,
        permissions=sorted(PERMISSIONS.get(principal.role, frozenset())),
        tile_url=services.settings.tile_url,
    )


@router.get("/districts/{name}/map", responses=error_responses(401, 404, 422, 429))
def get_map(name: DistrictInPath, services: ServicesDep, _: Reader) -> Response:
    """Return the district's cells for the page: rings per level, parents, names, colours."""
    key = ("district-map", name)
    body = services.reads.get(key)
    if body is None:
        body = json.dumps(district_map(services.base_district(name)), ensure_ascii=False)
        services.reads.put(key, body)
    return Response(body, media_type="application/json")


@router.get("/districts/{name}/streets", responses=error_responses(401, 404, 422, 429))
def get_streets(
    name: DistrictInPath,
    services: ServicesDep,
    _: Reader,
    detail: Annotated[Literal["low", "medium", "high"], Query()] = "medium",
) -> Response:
    """Return the district's streets for the basemap, simplified for the zoom (``detail``)."""
    key = ("district-streets", name, detail)
    body = services.reads.get(key)
    if body is None:
        streets = district_streets(services.base_district(name), detail=detail)
        body = json.dumps(streets, separators=(",", ":"))
        services.reads.put(key, body)
    return Response(body, media_type="application/json")


@router.get("/plans/{plan_id}/view", responses=error_responses(401, 404, 422, 429))
def get_view(
    plan_id: ItemId, services: ServicesDep, principal: CurrentPrincipal, _: Reader
) -> Response:
    """Return a plan as the page draws it: routes with stops, hotspots with their heat,
    left-out sites with reasons, group cards (phones only for roles that may read them),
    staffing per window and the summary per cell."""
    plan = stored_plan(services, plan_id)
    district = services.district(plan.district)
    view = plan_view(plan, district, principal)
    return Response(
        json.dumps(view, default=str, ensure_ascii=False), media_type="application/json"
    )


@router.get("/plans/{plan_id}/compare", responses=error_responses(401, 404, 422, 429))
def get_compare(
    plan_id: ItemId,
    services: ServicesDep,
    _: Reader,
    other: Annotated[str, Query(alias="with", min_length=1, max_length=100)],
) -> Response:
    """Compare two plans per window and for the day: value, coverage, groups, km, and the
    overlap of their routes (visits, ordered pairs)."""
    a = stored_plan(services, plan_id)
    with session_scope(services.sessions) as session:
        if session.get(Plan, other) is None:
            raise InputError("with", other, "the id of a stored plan")
    b = stored_plan(services, other)
    body = {"a": plan_id, "b": other, **compare_plans(a, b)}
    return Response(json.dumps(body, default=str), media_type="application/json")


@router.get(
    "/plans/{plan_id}/versions",
    response_model=PlanVersions,
    responses=error_responses(401, 404, 422, 429),
)
def get_versions(plan_id: ItemId, session: SessionDep, _: Reader) -> PlanVersions:
    """Return every version of a plan, oldest first: who changed what, from which version."""
    row = session.get(Plan, plan_id)
    if row is None:
        raise not_found("plan", plan_id)
    root_id, _version = version_root(session, row)
    root = session.get(Plan, root_id)
    items = []
    if root is not None:
        items.append(
            PlanVersion(
                plan_id=root.id,
                version=0,
                parent_id=root.parent_id,
                created_by=_who(root.created_by),
                created_at=root.created_at,
            )
        )
    edits = session.scalars(
        select(PlanEdit).where(PlanEdit.root_id == root_id).order_by(PlanEdit.version, PlanEdit.id)
    ).all()
    items += [
        PlanVersion(
            plan_id=e.plan_id,
            version=e.version,
            parent_id=e.parent_id,
            window=e.window,
            edits=e.edits,
            changes=e.changes,
            created_by=_who(e.created_by),
            created_at=e.created_at,
        )
        for e in edits
    ]
    return PlanVersions(root_id=root_id, count=len(items), items=items)


def _who(created_by: str | None) -> str | None:
    """A key's name and role from a stored creator tag (``id:name:role``)."""
    if not created_by:
        return None
    _, _, rest = created_by.partition(":")
    return rest or created_by


@router.post(
    "/plans/{plan_id}/adjust",
    response_model=JobOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 403, 404, 413, 422, 429),
)
def adjust(
    plan_id: ItemId,
    body: AdjustRequest,
    request: Request,
    response: Response,
    services: ServicesDep,
    _: Planner,
) -> JobOut:
    """Adjust a plan (lock, unavailable, drop / add hotspots, pins, moves) and re-solve the
    cells the decisions touch, as a job; the result is a new version of the plan."""
    plan = stored_plan(services, plan_id)
    inputs = {"plan_id": plan_id, **body.model_dump(mode="json")}
    # the decisions are checked here (422 naming the field); the job only solves
    check_adjustments(
        plan,
        district=services.district(plan.district),
        adjustments=adjustments_from(inputs, by=""),
    )
    job = submit_job(request, services, "adjust", inputs, action="plan.adjust.submit")
    response.headers["Location"] = f"/jobs/{job.id}"
    return job


@router.get(
    "/plans/{plan_id}/sheets",
    response_class=HTMLResponse,
    responses=error_responses(401, 404, 422, 429),
)
def get_sheets(
    plan_id: ItemId,
    services: ServicesDep,
    principal: CurrentPrincipal,
    _: Reader,
    window: Annotated[str, Query(pattern=WINDOW_PATTERN)],
    group: Annotated[list[str] | None, Query(max_length=200)] = None,
    cell: Annotated[list[str] | None, Query(max_length=200)] = None,
    lang: Annotated[Literal["en", "zh"], Query()] = "en",
) -> HTMLResponse:
    """Return printable A4 sheets: each cell's overview, then each group's route sheet (map
    with numbered stops, stop list, members; the leader's phone for roles that may read it)."""
    return HTMLResponse(_sheets(services, principal, plan_id, window, group, cell, lang))


def _sheets(
    services: Services,
    principal: Any,
    plan_id: str,
    window: str,
    group: list[str] | None,
    cell: list[str] | None,
    lang: str,
) -> str:
    plan = stored_plan(services, plan_id)
    label = TimeWindow.parse(window, field="window").label()
    wps = [wp for wp in plan.windows if wp.window.label() == label]
    if not wps:
        have = sorted({wp.window.label() for wp in plan.windows})
        raise InputError("window", window, f"a window of the plan: {have}")
    groups = {r.group.id for wp in wps for r in wp.routes}
    for i, g in enumerate(group or []):
        if g not in groups:
            raise InputError(f"group[{i}]", g, "a group of the window")
    cells = {wp.grid_id for wp in wps}
    for i, c in enumerate(cell or []):
        if c not in cells:
            raise InputError(f"cell[{i}]", c, "a cell planned in the window")
    if not group and not cell:
        raise InputError("group", None, "at least one group or cell")
    if lang not in LANGUAGES:
        raise InputError("lang", lang, f"one of {list(LANGUAGES)}")
    return sheets_html(
        plan,
        services.district(plan.district),
        window=label,
        group_ids=group or [],
        grid_ids=cell or [],
        phones=principal.can("personal:read"),
        lang=lang,
    )


@router.get(
    "/plans/{plan_id}/sheets.pdf",
    responses={
        200: {"content": {"application/pdf": {}}, "description": "A4 sheets"},
        **error_responses(401, 404, 422, 429),
    },
)
async def get_sheets_pdf(
    plan_id: ItemId,
    services: ServicesDep,
    principal: CurrentPrincipal,
    _: Reader,
    window: Annotated[str, Query(pattern=WINDOW_PATTERN)],
    group: Annotated[list[str] | None, Query(max_length=200)] = None,
    cell: Annotated[list[str] | None, Query(max_length=200)] = None,
    lang: Annotated[Literal["en", "zh"], Query()] = "en",
) -> Response:
    """Return the same sheets as ``/sheets`` as a PDF (WeasyPrint, no browser on the server)."""

    def render() -> bytes:
        from weasyprint import HTML

        text = _sheets(services, principal, plan_id, window, group, cell, lang)
        pdf: bytes = HTML(string=text).write_pdf()
        return pdf

    body = await run_in_threadpool(render)
    name = f"sheets-{plan_id[:8]}-{window.replace(':', '').replace('-', '_')}.pdf"
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


GRID_CRS = Literal["wgs84", "gcj02", "bd09"]
AUTO_PATTERN = re.compile(r"^\d{1,4}(,\d{1,4}){0,5}$")
"""Cell counts per level of automatic grids, e.g. ``2,13,91``."""


def _sniff_osm(head: bytes, name: str) -> None:
    """Refuse a file that is plainly not OSM XML, bzip2'd XML or PBF."""
    lower = name.lower()
    accepted = f"an OSM file ending in one of {list(OSM_SUFFIXES)}"
    if not lower.endswith(OSM_SUFFIXES):
        raise InputError("osm_file", name, accepted)
    if lower.endswith(".bz2"):
        ok = head.startswith(b"BZh")
    elif lower.endswith(".pbf"):
        ok = b"OSMHeader" in head[:64]
    else:
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        ok = text.startswith((b"<?xml", b"<osm"))
    if not ok:
        raise InputError("osm_file", name, f"{accepted} whose content is OSM data")


def _check_grids(body: bytes, name: str) -> None:
    """Refuse grids that are not a GeoJSON FeatureCollection of cells with id and level."""
    accepted = "a GeoJSON FeatureCollection whose features have properties id, level, parent"
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError("grids_file", name, f"{accepted} ({type(exc).__name__})") from None
    feats = data.get("features") if isinstance(data, dict) else None
    if not isinstance(feats, list) or not feats:
        raise InputError("grids_file", name, accepted)
    for i, f in enumerate(feats):
        props = f.get("properties") if isinstance(f, dict) else None
        if not isinstance(props, dict) or "id" not in props or "level" not in props:
            raise InputError(f"grids_file.features[{i}]", name, accepted)


def _store_upload(services: Services, files: dict[str, tuple[str, bytes]]) -> str:
    """Write the uploaded files into a new folder of the import folder, all or nothing."""
    base = Path(services.settings.import_dir) / UPLOADS
    base.mkdir(parents=True, exist_ok=True)
    upload_id = str(uuid.uuid4())
    tmp = Path(tempfile.mkdtemp(prefix=".upload-", dir=base))
    try:
        for stored_name, (_, body) in files.items():
            path = tmp / stored_name
            with open(path, "wb") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, base / upload_id)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return upload_id


@router.post(
    "/districts/import/upload",
    response_model=JobOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(401, 403, 413, 422, 429),
)
async def import_upload(
    request: Request,
    response: Response,
    services: ServicesDep,
    _: DistrictWriter,
    name: Annotated[str, Form(pattern=NAME_PATTERN)],
    osm: Annotated[UploadFile, File(description="the OSM extract (.osm, .osm.bz2, .osm.pbf)")],
    grids: Annotated[
        UploadFile | None, File(description="the bureau's grids (GeoJSON: id, level, parent)")
    ] = None,
    grids_crs: Annotated[GRID_CRS, Form()] = "wgs84",
    auto_grids: Annotated[str | None, Form(max_length=40)] = None,
    timezone: Annotated[str | None, Form(max_length=64)] = None,
    synthetic_incidents: Annotated[bool, Form()] = False,
    seed: Annotated[int, Form(ge=0, le=2**31 - 1)] = 0,
) -> JobOut:
    """Import a district from uploaded files, as a job with progress: the same importer as
    ``patrol district import`` (``optimizer.importer.import_district``) with the bureau's grids
    (and their CRS) or automatic grids, and the time zone. The files are checked, then stored
    together (all or nothing) in the import folder; the body limit is ``PATROL_MAX_REQUEST_BYTES``.
    """
    grids_file = grids if grids is not None and grids.filename else None
    if grids_file is not None and auto_grids:
        raise InputError("auto_grids", auto_grids, "empty when a grids file is given")
    if auto_grids is not None and auto_grids and not AUTO_PATTERN.match(auto_grids):
        raise InputError("auto_grids", auto_grids, "cell counts per level, e.g. '2,13,91'")
    if timezone:
        check_timezone(timezone)
    osm_name = Path(osm.filename or "").name
    osm_body = await osm.read()
    if not osm_body:
        raise InputError("osm_file", osm_name, "a non-empty OSM file")
    _sniff_osm(osm_body[:256], osm_name)
    suffix = next(s for s in OSM_SUFFIXES if osm_name.lower().endswith(s))
    files = {f"streets{suffix}": (osm_name, osm_body)}
    inputs: dict[str, Any] = {
        "name": name,
        "osm_file": f"streets{suffix}",
        "osm_name": osm_name,
        "grids_crs": grids_crs,
        "auto_grids": auto_grids or None,
        "timezone": timezone or None,
        "synthetic_incidents": synthetic_incidents,
        "seed": seed,
    }
    if grids_file is not None:
        grids_body = await grids_file.read()
        grids_name = Path(grids_file.filename or "grids.geojson").name
        _check_grids(grids_body, grids_name)
        files["grids.geojson"] = (grids_name, grids_body)
        inputs["grids_file"] = "grids.geojson"
        inputs["grids_name"] = grids_name
    inputs["upload_id"] = await run_in_threadpool(_store_upload, services, files)
    job = submit_job(request, services, "upload", inputs, action="district.import.submit")
    response.headers["Location"] = f"/jobs/{job.id}"
    return job
