"""Request and response bodies of the HTTP API (separate from tables and library objects).

The value types shared by bodies, paths and queries live here too: district names (a name,
never a path), dates and times in the library's range, bounded integers.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from optimizer.errors import InputError
from optimizer.timewindow import DATE_RANGE, check_date

Role = Literal["admin", "planner", "analyst", "viewer"]

NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
"""A district name: letters, digits, ``_`` and ``-``, at most 64 (never a path)."""
FILE_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
"""A file name in the import folder (no folders, not hidden)."""
WINDOW_PATTERN = r"^\s*\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}\s*(\+\s*1)?\s*$"
"""The shape of a window ``HH:MM-HH:MM`` (``+1`` for a long one ending the next day)."""
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
"""Content type of XLSX workbooks (schedules out, incident files in)."""
MAX_INT32 = 2**31 - 1
"""Largest id, seed or offset (the databases' 32-bit integers)."""


DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}")
"""How the text of a date or time starts (``YYYY-MM-DD``)."""


def _date_text(value: Any) -> Any:
    """Refuse a date or time given as a number, true/false or other text (pydantic would read
    ``0`` or ``"0"`` as a Unix time)."""
    if isinstance(value, int | float) or (isinstance(value, str) and not DATE_TEXT.match(value)):
        raise PydanticCustomError("date_text", "a date as YYYY-MM-DD (a time: YYYY-MM-DDTHH:MM)")
    return value


def _in_range(value: dt.date) -> dt.date:
    try:
        check_date(value)
    except InputError:
        raise PydanticCustomError("date_range", DATE_RANGE) from None
    return value


DistrictName = Annotated[str, Field(pattern=NAME_PATTERN, examples=["demo"])]
PatrolDate = Annotated[dt.date, BeforeValidator(_date_text), AfterValidator(_in_range)]
"""A date from ``optimizer.timewindow.FIRST_DATE`` to ``LAST_DATE``."""
PatrolDateTime = Annotated[dt.datetime, BeforeValidator(_date_text), AfterValidator(_in_range)]
"""A date and time in that range (an offset is allowed; none means UTC)."""
Window = Annotated[str, Field(pattern=WINDOW_PATTERN, examples=["19:00-23:00"])]
LOCAL_TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$"
"""An answer's local wall-clock time: ISO 8601, without an offset when the time is local."""
LocalDateTime = Annotated[
    dt.datetime,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": LOCAL_TIME_PATTERN,
            "description": "local wall-clock time of the district, without an offset (the "
            "district's time zone is its metadata's timezone)",
            "examples": ["2026-12-01T19:30:00"],
        }
    ),
]
"""A date and time in an answer that is local to the district (stored without an offset):
its schema says so, where a ``date-time`` would require an offset."""
Number = Annotated[float, Field(strict=True)]
"""A number of a request body: true, false and numbers in quotes are refused (an integer is
taken)."""
Integer = Annotated[int, Field(strict=True)]
"""An integer of a request body: true, false, ``2.0`` and numbers in quotes are refused."""
Flag = Annotated[bool, Field(strict=True)]
"""True or false in a request body: ``1``, ``0`` and ``"yes"`` are refused."""


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
    """Import a district from an OSM file in the service's import folder (``PATROL_IMPORT_DIR``)."""

    name: DistrictName = Field(examples=["fengxian"])
    osm_file: str = Field(
        pattern=FILE_PATTERN,
        examples=["shanghai_fengxian.osm"],
        description="File name (no folder) of an .osm, .osm.bz2 or .osm.pbf file in the "
        "import folder",
    )
    seed: Integer = Field(default=0, ge=0, le=MAX_INT32)


class IncidentIn(BaseModel):
    """One reported incident (WGS-84)."""

    external_id: str = Field(min_length=1, max_length=100, examples=["SF-120701-0001"])
    time: PatrolDateTime = Field(
        examples=["2026-11-28T21:15:00+08:00"], description="with an offset; none means UTC"
    )
    category: str = Field(min_length=1, max_length=100, examples=["vehicle break-in"])
    description: str = Field(default="", max_length=2000)
    lon: Number = Field(ge=-180, le=180, examples=[24.9384])
    lat: Number = Field(ge=-90, le=90, examples=[60.1699])


class IncidentBatch(BaseModel):
    """A batch of incidents for one district; ingest is idempotent by ``external_id``."""

    district: DistrictName
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
    time: dt.datetime = Field(description="UTC, with its offset")
    category: str
    description: str
    lon: float
    lat: float
    grid_id: str | None

    @field_validator("time")
    @classmethod
    def _utc(cls, value: dt.datetime) -> dt.datetime:
        # incident times are stored in UTC without an offset
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


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

    district: DistrictName = "demo"
    date: PatrolDate
    windows: list[Window] = Field(
        default_factory=lambda: ["07:00-11:00", "14:00-18:00", "19:00-23:00"],
        min_length=1,
        max_length=12,
    )
    grid_ids: list[Annotated[str, Field(max_length=100)]] | None = Field(
        default=None, max_length=1000
    )
    grid_level: Integer | None = Field(default=None, ge=1, le=9)
    engine: Literal["patrol", "ortools", "pyvrp"] = Field(
        default="patrol",
        description="Routing engine; 'patrol' (the default) is PyVRP polished by OR-Tools.",
    )
    seed: Integer = Field(default=0, ge=0, le=MAX_INT32)
    time_limit_s: Number = Field(
        default=0.5,
        gt=0,
        le=3600,
        description="Search budget per cell and window, in seconds of the reference machine: "
        "deterministic work, so the same request and seed give the same plan.",
    )
    deficits_from: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list,
        max_length=14,
        description="stored plans of earlier days: the hotspots their tracks left under-served "
        "weigh more (halving each day); the plan's notes say which",
    )
    alerts: Flag = Field(
        default=True,
        description="the district's stored alerts running on the day raise their places' risk",
    )
    clue_weight: Number = Field(
        default=0.0,
        ge=0,
        le=10,
        description="weight of the stored clues of the last 14 days as a risk signal (choose it "
        "with `patrol reports backtest`; 0 leaves the forecast alone)",
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

    grid_id: str = Field(min_length=1, max_length=100)
    window: Window
    now: PatrolDateTime
    positions: dict[str, tuple[Number, Number] | Annotated[Integer, Field(ge=0, le=2**63 - 1)]] = (
        Field(default_factory=dict)
    )
    completed: list[str] | dict[str, list[str]] = Field(default_factory=list)
    time_limit_s: Number = Field(default=2.0, gt=0, le=3600)
    seed: Integer = Field(default=0, ge=0, le=MAX_INT32)


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


class AddedHotspotIn(BaseModel):
    """A hotspot the dispatcher adds at a place (WGS-84)."""

    lon: Number = Field(ge=-180, le=180)
    lat: Number = Field(ge=-90, le=90)
    value: Number | None = Field(
        default=None, gt=0, le=1e6, description="worth; none: the best of its cell"
    )
    dwell_min: Integer = Field(default=12, ge=1, le=120)
    label: str = Field(default="", max_length=200)
    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,64}$")


class PinIn(BaseModel):
    """A group starts its duty at a site at a time."""

    group_id: str = Field(min_length=1, max_length=100)
    site_id: str = Field(min_length=1, max_length=100)
    at: PatrolDateTime = Field(description="local time of the plan (an offset is dropped)")


class MoveIn(BaseModel):
    """A person moves to another group of the same window."""

    person_id: str = Field(min_length=1, max_length=100)
    to_group: str = Field(min_length=1, max_length=100)


class AdjustRequest(BaseModel):
    """The dispatcher's decisions for one window; the cells they touch are re-solved."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "window": "19:00-23:00",
                    "lock": ["20261130-1900-O03"],
                    "unavailable": [],
                    "drop": ["D-3-E554"],
                    "add": [],
                    "pins": [],
                    "moves": [],
                    "note": "O03 stays on its route; E554 closed tonight",
                }
            ]
        },
    )

    window: Window
    lock: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=500)
    unavailable: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list, max_length=500
    )
    drop: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=500)
    add: list[AddedHotspotIn] = Field(default_factory=list, max_length=50)
    pins: list[PinIn] = Field(default_factory=list, max_length=50)
    moves: list[MoveIn] = Field(default_factory=list, max_length=200)
    grid_ids: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list, max_length=200
    )
    note: str = Field(default="", max_length=1000)


class PlanVersion(BaseModel):
    """One version of a plan: the first (``version`` 0) or an adjustment of the one before."""

    plan_id: str
    version: int
    parent_id: str | None
    window: str | None = None
    edits: dict[str, Any] | None = None
    changes: dict[str, Any] | None = None
    created_by: str | None
    created_at: dt.datetime


class PlanVersions(BaseModel):
    """Every version of a plan, oldest first."""

    root_id: str
    count: int
    items: list[PlanVersion]


class Me(BaseModel):
    """The caller: its key's name, role and what it may do."""

    name: str
    role: str
    permissions: list[str]
    tile_url: str | None = Field(
        default=None, description="intranet tile URL template for the page's basemap, if set"
    )


# ---------------------------------------------------------------------------------------------
# Resources as the API answers them: a public view (no personal data) and a private view
# (phone numbers and ID numbers, for roles holding ``personal:read``). Unknown fields a later
# roster version adds are passed on as they are.


class ShiftOut(BaseModel):
    """A recurring time window on some weekdays (0 = Monday)."""

    model_config = ConfigDict(extra="allow")

    window: str = Field(examples=["18:00-24:00"])
    weekdays: list[int] = Field(examples=[[0, 1, 2, 3, 4]])


class StationOut(BaseModel):
    """A police station."""

    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    lon: float
    lat: float


class MusterPointOut(BaseModel):
    """A place where groups meet, start and end."""

    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    lon: float
    lat: float
    kind: str = "muster point"
    grid_id: str | None = None


class OfficerPublic(BaseModel):
    """An officer without personal data (``phone`` is always null)."""

    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    station_id: str
    mode: str
    shifts: list[ShiftOut]
    phone: None = Field(default=None, description="shown to admin and planner only")


class OfficerPrivate(OfficerPublic):
    """An officer with the phone number."""

    phone: str | None = None  # type: ignore[assignment]


class VolunteerPublic(BaseModel):
    """A volunteer without personal data (``phone`` and ``id_number`` are always null)."""

    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    role: str
    max_hours_week: float
    home_grid: str | None = None
    availability: list[ShiftOut]
    phone: None = Field(default=None, description="shown to admin and planner only")
    id_number: None = Field(default=None, description="shown to admin and planner only")


class VolunteerPrivate(VolunteerPublic):
    """A volunteer with phone and ID numbers."""

    phone: str | None = None  # type: ignore[assignment]
    id_number: str | None = None  # type: ignore[assignment]


class TeamPublic(BaseModel):
    """A volunteer team with its members (public view)."""

    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    kind: str
    home_grid: str
    base_station_id: str
    members: list[VolunteerPublic]


class TeamPrivate(TeamPublic):
    """A volunteer team with its members' personal data."""

    members: list[VolunteerPrivate]  # type: ignore[assignment]


class PostOut(BaseModel):
    """A fixed post and its duty windows."""

    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    lon: float
    lat: float
    grid_id: str
    windows: list[str]
    weekdays: list[int]
    dwell_min: int
    purpose: str


class ResourcesPublic(BaseModel):
    """A district's resources without personal data (analyst, viewer)."""

    model_config = ConfigDict(extra="allow")

    stations: list[StationOut]
    officers: list[OfficerPublic]
    teams: list[TeamPublic]
    posts: list[PostOut]
    muster_points: list[MusterPointOut] = Field(default_factory=list)


class ResourcesPrivate(ResourcesPublic):
    """A district's resources with personal data (admin, planner)."""

    officers: list[OfficerPrivate]  # type: ignore[assignment]
    teams: list[TeamPrivate]  # type: ignore[assignment]


ResourceItem = StationOut | OfficerPrivate | OfficerPublic | TeamPrivate | TeamPublic | PostOut


class ResourceKindOut(BaseModel):
    """One kind of a district's resources (public or private view as for the whole set)."""

    district: str
    kind: Literal["stations", "officers", "teams", "posts"]
    count: int
    items: list[ResourceItem]


# ---------------------------------------------------------------------------------------------
# Operations: what was patrolled, alerts

ALERT_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
"""An alert id: letters, digits, ``_``, ``.`` and ``-``, at most 64."""


class TrackUpload(BaseModel):
    """A group's recorded GPX track for a stored plan."""

    group_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="default: the GPX track's name, else the file's name (<group id>.gpx)",
    )
    file_name: str = Field(default="track.gpx", min_length=1, max_length=200)
    gpx: str = Field(min_length=1, max_length=10_000_000, description="the GPX file's text")


class TrackOut(BaseModel):
    """A stored track."""

    plan_id: str
    group_id: str
    file_name: str
    points: int
    first: LocalDateTime
    """First point, local wall-clock time like the plan's."""
    last: LocalDateTime


class CheckInIn(BaseModel):
    """A group checked in at a hotspot or post of the plan."""

    group_id: str = Field(min_length=1, max_length=100)
    site_id: str = Field(min_length=1, max_length=100)
    time: PatrolDateTime = Field(description="with an offset, or the district's local time")


class CheckInBatch(BaseModel):
    """Check-ins for a stored plan."""

    checkins: list[CheckInIn] = Field(min_length=1, max_length=10000)


class CheckInResult(BaseModel):
    """What a check-in upload stored."""

    plan_id: str
    received: int
    stored: int


class ActualsOut(BaseModel):
    """A stored plan against its groups' tracks and check-ins (plan vs actual)."""

    plan_id: str
    district: str
    date: dt.date
    tracks: int
    checkins: int
    day: dict[str, Any]
    cells: list[dict[str, Any]]
    groups: list[dict[str, Any]]
    stops: list[dict[str, Any]]
    under_served: list[dict[str, Any]]
    """Hotspots given less than their share of the planned minutes (next day's deficit)."""


class AlertIn(BaseModel):
    """A "watch for" alert at a place and time span."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "district": "demo",
                    "id": "A1",
                    "text": "pickpocket seen at the hospital",
                    "lon": 24.9508,
                    "lat": 60.1676,
                    "crs": "wgs84",
                    "start": "2026-11-30T19:30:00",
                    "end": "2026-11-30T21:00:00",
                    "radius_m": 300,
                    "factor": 2,
                    "within_m": 500,
                    "plan_ids": [],
                }
            ]
        }
    )

    district: DistrictName
    id: str | None = Field(default=None, pattern=ALERT_ID_PATTERN)
    text: str = Field(default="", max_length=500)
    lon: Number
    lat: Number
    crs: str = Field(default="wgs84", max_length=20, description="wgs84, gcj02 or bd09")
    start: PatrolDateTime = Field(description="with an offset, or the district's local time")
    end: PatrolDateTime
    radius_m: Number = 300.0
    factor: Number = 2.0
    within_m: Number = Field(default=500.0, description="list groups and posts this close")
    plan_ids: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="stored plans to re-plan (their windows the alert overlaps)",
    )


class AlertOut(BaseModel):
    """A stored alert and what it led to."""

    seq: int
    """Position in the alert feed (the server-sent event id)."""
    id: str
    district: str
    text: str
    lon: float
    lat: float
    crs: str
    start: LocalDateTime
    end: LocalDateTime
    radius_m: float
    factor: float
    created_by: str | None
    created_at: dt.datetime
    replans: list[dict[str, Any]]
    """Per plan re-planned: ``plan_id``, ``new_plan_id``, ``windows``, ``cells``, ``notes``."""
    recipients: list[dict[str, Any]]
    message: str


class AlertList(BaseModel):
    """Alerts, newest first."""

    alerts: list[AlertOut]


class ReportIn(BaseModel):
    """A clue or hazard reported from the field (place as a messaging app shares it)."""

    district: DistrictName
    id: str = Field(min_length=1, max_length=64)
    kind: Literal["clue", "hazard"]
    category: str = Field(min_length=1, max_length=100)
    text: str = Field(default="", max_length=2000)
    time: PatrolDateTime = Field(description="with an offset, or the district's local time")
    lon: Number
    lat: Number
    crs: str = Field(default="wgs84", max_length=20, description="wgs84, gcj02 or bd09")
    reporter: str = Field(default="", max_length=100)
    photo: str = Field(default="", max_length=500, description="a file name or link")
    status: Literal["open", "fixed"] = "open"


class ReportOut(BaseModel):
    """A stored report (place in WGS-84, time local)."""

    district: str
    id: str
    kind: str
    category: str
    text: str
    time: LocalDateTime
    lon: float
    lat: float
    crs: str
    reporter: str
    photo: str
    status: str
    fixed_at: LocalDateTime | None


class ReportList(BaseModel):
    """Reports, newest first."""

    reports: list[ReportOut]


class ReportImportIn(BaseModel):
    """A CSV sheet of reports (headers: id/编号, kind/类型, category/类别, time/时间, lon/经度,
    lat/纬度, optional text/内容, crs/坐标系, reporter/上报人, photo/照片, status/状态)."""

    district: DistrictName
    csv: str = Field(min_length=1, max_length=10_000_000)
    crs: str = Field(default="wgs84", max_length=20, description="of rows without a crs cell")


class ReportImportOut(BaseModel):
    """What an import stored, and every bad row."""

    district: str
    received: int
    stored: int
    problems: list[dict[str, Any]]


class ReportStatusIn(BaseModel):
    """A hazard's new status."""

    status: Literal["open", "fixed"]
    fixed_at: PatrolDateTime | None = Field(default=None, description="default: now")


# ---------------------------------------------------------------------------------------------
# The participation ledger

ISO_WEEK_PATTERN = r"^\d{4}-W\d{2}$"


class LedgerEntryOut(BaseModel):
    """One duty of the participation ledger (``optimizer.operations.ledger.DUTY_COLUMNS``).

    Hours are summed over ``duty == "patrol"`` rows; a ``post`` row is part of its patrol.
    """

    model_config = ConfigDict(from_attributes=True)

    plan_id: str
    date: dt.date
    window: str
    grid_id: str
    group_id: str
    person_id: str
    role: Literal["officer", "volunteer"]
    team_id: str
    station_id: str
    duty: Literal["patrol", "post"]
    site_id: str
    start: LocalDateTime
    end: LocalDateTime
    hours: float
    source: Literal["planned", "actual"]


class LedgerPage(BaseModel):
    """A page of ledger rows with the total count of the query."""

    count: int
    offset: int
    limit: int
    items: list[LedgerEntryOut]


class PersonWeekOut(BaseModel):
    """One person's week: hours (patrol rows), duties, cap and whether it is exceeded.

    ``name`` is given only to roles that may read personal data.
    """

    person_id: str
    name: str | None = None
    role: Literal["officer", "volunteer"]
    team_id: str
    station_id: str
    patrols: int
    post_duties: int
    hours: float
    days_on_duty: int
    rest_days: int
    cap: float | None = Field(description="weekly cap (volunteers)")
    over_cap: bool


class PeopleWeek(BaseModel):
    """Every person of the district's roster (and of the ledger) in one ISO week."""

    district: str
    week: str
    first: dt.date
    last: dt.date
    source: Literal["planned", "actual"]
    over_cap: int = Field(description="people whose hours exceed their weekly cap")
    items: list[PersonWeekOut]


class WeekRequest(BaseModel):
    """Plan consecutive days at once, weekly caps and fair rotation across the days."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "district": "demo",
                    "start": "2026-11-30",
                    "days": 7,
                    "windows": ["19:00-23:00"],
                    "seed": 0,
                    "time_limit_s": 0.5,
                }
            ]
        }
    )

    district: DistrictName = "demo"
    start: PatrolDate
    days: Integer = Field(default=7, ge=1, le=31)
    windows: list[Window] = Field(
        default_factory=lambda: ["07:00-11:00", "14:00-18:00", "19:00-23:00"],
        min_length=1,
        max_length=12,
    )
    grid_ids: list[Annotated[str, Field(max_length=100)]] | None = Field(
        default=None, max_length=1000
    )
    grid_level: Integer | None = Field(default=None, ge=1, le=9)
    engine: Literal["patrol", "ortools", "pyvrp"] = "patrol"
    seed: Integer = Field(default=0, ge=0, le=MAX_INT32 - 31)
    time_limit_s: Number = Field(
        default=0.5, gt=0, le=3600, description="search budget per cell, window and day"
    )


class StatisticsRow(BaseModel):
    """One period and team, cell or the district (``optimizer.outputs.statistics.COLUMNS``);
    report and incident counts are null in the rows of teams."""

    period: str
    unit: str
    patrol_groups: float
    person_times: float
    officer_times: float
    volunteer_times: float
    patrol_hours: float
    posts_staffed: float
    posts_planned: float
    hazards_found: float | None
    hazards_fixed: float | None
    clues: float | None
    incidents_near_patrol: float | None
    incidents_in_windows: float | None
    incidents: float | None


class StatisticsOut(BaseModel):
    """The bureau's statistics of a district between two days."""

    district: str
    first: dt.date
    last: dt.date
    period: str
    by: str
    source: str
    labels: dict[str, dict[str, str]]
    items: list[StatisticsRow]
