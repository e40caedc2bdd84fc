"""Database tables (SQLAlchemy 2 declarative). API schemas live in ``api.schemas``."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> dt.datetime:
    """Return the current UTC time (timezone-aware)."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite drops the offset on its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        """Store aware values in UTC; naive ones are taken as UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        """Return values as aware UTC datetimes."""
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Base of all tables."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class ApiKey(Base):
    """An API key: only the SHA-256 of the token is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AuditEntry(Base):
    """One write or plan generation: who, when, what inputs, what result."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    key_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    key_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    role: Mapped[str | None] = mapped_column(String(20), nullable=True)
    action: Mapped[str] = mapped_column(String(100))
    method: Mapped[str | None] = mapped_column(String(10), nullable=True)
    path: Mapped[str | None] = mapped_column(String(500), nullable=True)
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Incident(Base):
    """A reported incident; ``(district, external_id)`` is unique (ingest upserts on it)."""

    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint("district", "external_id", name="uq_incidents_district_external_id"),
        Index("ix_incidents_district_time", "district", "time"),
        Index("ix_incidents_district_grid", "district", "grid_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    district: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(100))
    time: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))
    category: Mapped[str] = mapped_column(String(100), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    grid_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ResourceSet(Base):
    """A district's resources (stations, officers, teams with members, posts) as JSON."""

    __tablename__ = "resource_sets"

    district: Mapped[str] = mapped_column(String(100), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(100), nullable=True)


class Job(Base):
    """A background job (planning, re-planning, district import) with progress."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class Plan(Base):
    """A stored day plan: summary JSON for reads and the whole ``DayPlan`` as JSON.

    ``data`` is ``optimizer.outputs.plan_io.plan_to_dict(plan)`` (column ``plan_json``). A job
    stores at most one plan (``job_id`` is unique; plans made outside jobs have none).
    """

    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("job_id", name="uq_plans_job_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"), nullable=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("plans.id"), nullable=True)
    district: Mapped[str] = mapped_column(String(100), index=True)
    date: Mapped[dt.date] = mapped_column(index=True)
    engine: Mapped[str] = mapped_column(String(20))
    seed: Mapped[int] = mapped_column(Integer)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    data: Mapped[dict[str, Any]] = mapped_column("plan_json", JSON)
    created_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    is_replan: Mapped[bool] = mapped_column(Boolean, default=False)


class PlanEdit(Base):
    """One adjustment of a plan: the version it made from the version before, and by whom.

    Versions of a plan are the plans linked by ``parent_id``; ``root_id`` is the first
    version's id and ``version`` counts from 1 (the first version, 0, has no edit row).
    ``edits`` holds the dispatcher's decisions, ``changes`` what changed (groups' stops,
    values, coverage).
    """

    __tablename__ = "plan_edits"
    __table_args__ = (UniqueConstraint("plan_id", name="uq_plan_edits_plan_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"))
    parent_id: Mapped[str] = mapped_column(ForeignKey("plans.id"))
    root_id: Mapped[str] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer)
    window: Mapped[str] = mapped_column(String(20))
    edits: Mapped[dict[str, Any]] = mapped_column(JSON)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PlanTrack(Base):
    """A group's recorded track (GPX) uploaded for a stored plan.

    ``data`` holds the points: ``times`` (local wall-clock ISO times, as the plan's), ``lon``
    and ``lat`` (WGS-84). Uploading the same file for the same group again replaces it.
    """

    __tablename__ = "plan_tracks"
    __table_args__ = (
        UniqueConstraint("plan_id", "group_id", "file_name", name="uq_plan_tracks_file"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    group_id: Mapped[str] = mapped_column(String(100))
    file_name: Mapped[str] = mapped_column(String(200))
    points: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PlanCheckIn(Base):
    """A group's check-in at a hotspot or post of a stored plan (local wall-clock time)."""

    __tablename__ = "plan_checkins"
    __table_args__ = (
        UniqueConstraint("plan_id", "group_id", "site_id", "time", name="uq_plan_checkins"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    group_id: Mapped[str] = mapped_column(String(100))
    site_id: Mapped[str] = mapped_column(String(100))
    time: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))
    created_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AlertRow(Base):
    """A "watch for" alert (``optimizer.operations.alerts.Alert``) and what it led to.

    ``seq`` orders the alert feed (the server-sent events' ids); ``data`` is
    ``Alert.to_dict()``; ``result`` holds the plans re-planned, the recipients and the message.
    """

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("district", "alert_id", name="uq_alerts_district_id"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(String(64))
    district: Mapped[str] = mapped_column(String(100), index=True)
    start: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))
    end: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FieldReportRow(Base):
    """A clue or hazard reported from the field (``optimizer.operations.reports.FieldReport``).

    ``data`` is ``FieldReport.to_dict()`` (place in WGS-84, local wall-clock time); ``kind``,
    ``status`` and ``time`` are copied out for queries. The same id again replaces the report.
    """

    __tablename__ = "field_reports"
    __table_args__ = (UniqueConstraint("district", "report_id", name="uq_field_reports_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    district: Mapped[str] = mapped_column(String(100), index=True)
    report_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    time: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LedgerEntry(Base):
    """One duty of the participation ledger (``optimizer.operations.ledger``).

    Planned rows are written when a plan is stored (a newer plan of the same district, date,
    window and cell replaces the older one's rows), actual rows when tracks or check-ins are
    imported for the plan (the plan's actual rows are replaced). Hours are the sum of
    ``duty == "patrol"`` rows; ``post`` rows are nested in them.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_district_date_person", "district", "date", "person_id"),
        Index("ix_ledger_plan_source", "plan_id", "source"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    district: Mapped[str] = mapped_column(String(100))
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"))
    date: Mapped[dt.date] = mapped_column()
    window: Mapped[str] = mapped_column(String(20))
    grid_id: Mapped[str] = mapped_column(String(100))
    group_id: Mapped[str] = mapped_column(String(100))
    person_id: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    team_id: Mapped[str] = mapped_column(String(100), default="")
    station_id: Mapped[str] = mapped_column(String(100), default="")
    duty: Mapped[str] = mapped_column(String(20))
    site_id: Mapped[str] = mapped_column(String(100), default="")
    start: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))
    end: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))
    hours: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(20))
