"""Request and response bodies of the HTTP API (separate from tables and library objects)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["admin", "planner", "analyst", "viewer"]


class KeyCreate(BaseModel):
    """A key to create."""

    name: str = Field(min_length=1, max_length=100, examples=["dispatch desk"])
    role: Role = Field(examples=["planner"])


class KeyOut(BaseModel):
    """A stored key (never its token)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    role: str
    prefix: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


class KeyCreated(KeyOut):
    """A new key with its token, shown only this once."""

    token: str


class KeyList(BaseModel):
    """Keys with a count."""

    count: int
    items: list[KeyOut]


class DistrictOut(BaseModel):
    """A prepared district."""

    name: str
    grids: int = 0
    levels: list[int] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)


class DistrictList(BaseModel):
    """Districts with a count."""

    count: int
    items: list[str]


class DistrictImport(BaseModel):
    """Import a district from an OSM XML or PBF file readable by the server."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", examples=["fengxian"])
    osm_path: str = Field(min_length=1, examples=["/data/osm/shanghai_fengxian.osm"])
    seed: int = Field(default=0, ge=0)


class IncidentIn(BaseModel):
    """One reported incident (WGS-84)."""

    external_id: str = Field(min_length=1, max_length=100, examples=["SF-120701-0001"])
    time: dt.datetime = Field(examples=["2026-11-28T21:15:00"])
    category: str = Field(min_length=1, max_length=100, examples=["vehicle break-in"])
    description: str = Field(default="", max_length=2000)
    lon: float = Field(ge=-180, le=180, examples=[24.9384])
    lat: float = Field(ge=-90, le=90, examples=[60.1699])


class IncidentBatch(BaseModel):
    """A batch of incidents for one district; ingest is idempotent by ``external_id``."""

    district: str = Field(min_length=1, max_length=100, examples=["demo"])
    incidents: list[IncidentIn] = Field(min_length=1, max_length=20000)


class IngestResult(BaseModel):
    """What a batch ingest did."""

    district: str
    received: int
    inserted: int
    updated: int
    outside_grids: int
    seconds: float


class IncidentOut(BaseModel):
    """A stored incident."""

    model_config = ConfigDict(from_attributes=True)

    external_id: str
    district: str
    time: dt.datetime
    category: str
    description: str
    lon: float
    lat: float
    grid_id: str | None


class IncidentPage(BaseModel):
    """A page of incidents with the total count of the query."""

    count: int
    offset: int
    limit: int
    items: list[IncidentOut]


class HotspotOut(BaseModel):
    """A patrol point of one grid and window."""

    id: str
    grid_id: str
    lon: float
    lat: float
    value: float
    dwell_min: int
    visits: int
    spacing_min: int
    label: str


class HotspotList(BaseModel):
    """Hotspots of a district, date and window."""

    district: str
    date: dt.date
    window: str
    count: int
    items: list[HotspotOut]


class PlanRequest(BaseModel):
    """Plan a day: which district, date, windows and grids, with solver limits."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "district": "demo",
                    "date": "2026-12-01",
                    "windows": ["19:00-23:00"],
                    "grid_ids": None,
                    "engine": "patrol",
                    "seed": 0,
                    "time_limit_s": 2,
                }
            ]
        }
    )

    district: str = Field(default="demo", min_length=1, max_length=100)
    date: dt.date
    windows: list[str] = Field(
        default_factory=lambda: ["07:00-11:00", "14:00-18:00", "19:00-23:00"],
        min_length=1,
        max_length=12,
    )
    grid_ids: list[str] | None = None
    grid_level: int | None = Field(default=None, ge=1, le=9)
    engine: Literal["patrol", "ortools", "pyvrp"] = Field(
        default="patrol",
        description="Routing engine; 'patrol' (the default) is PyVRP polished by OR-Tools.",
    )
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    time_limit_s: float = Field(
        default=0.5,
        gt=0,
        description="Search budget per cell and window, in seconds of the reference machine: "
        "deterministic work, so the same request and seed give the same plan.",
    )


class ReplanRequest(BaseModel):
    """Re-plan the rest of one running window of a stored plan."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "grid_id": "G2-1",
                    "window": "19:00-23:00",
                    "now": "2026-12-01T20:30:00",
                    "positions": {"W1900-G2-1-1": [24.94, 60.17]},
                    "completed": [],
                    "time_limit_s": 2,
                    "seed": 0,
                }
            ]
        }
    )

    grid_id: str = Field(min_length=1)
    window: str = Field(min_length=1, examples=["19:00-23:00"])
    now: dt.datetime
    positions: dict[str, tuple[float, float] | int] = Field(default_factory=dict)
    completed: list[str] | dict[str, list[str]] = Field(default_factory=list)
    time_limit_s: float = Field(default=2.0, gt=0)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)


class JobOut(BaseModel):
    """A background job and how far it got."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    status: Literal["queued", "running", "done", "failed"]
    progress: float
    message: str
    inputs: dict[str, Any]
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    created_by: str | None = None
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None


class JobList(BaseModel):
    """Jobs with a count."""

    count: int
    items: list[JobOut]


class PlanInfo(BaseModel):
    """A stored plan without its routes."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    district: str
    date: dt.date
    engine: str
    seed: int
    job_id: str | None
    parent_id: str | None
    is_replan: bool
    created_by: str | None
    created_at: dt.datetime


class PlanOut(PlanInfo):
    """A stored plan with its summary: windows, groups, metrics, left-out sites."""

    summary: dict[str, Any]


class PlanList(BaseModel):
    """Plans with a count."""

    count: int
    items: list[PlanInfo]


class AuditOut(BaseModel):
    """One audit entry."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: dt.datetime
    key_id: int | None
    key_name: str | None
    role: str | None
    action: str
    method: str | None
    path: str | None
    status: int | None
    inputs: dict[str, Any]
    result: dict[str, Any]


class AuditList(BaseModel):
    """Audit entries, newest first."""

    count: int
    items: list[AuditOut]
