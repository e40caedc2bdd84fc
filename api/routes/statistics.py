"""The bureau's statistics and its monthly report from the stored records: the ledger
(``ledger_entries``), the stored plans (patrolled paths), ``field_reports`` and the incidents
(``optimizer.outputs.statistics``)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Query, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import Reader, ServicesDep, SessionDep
from api.errors import error_responses
from api.jsonbody import StrictJSONRoute
from api.ledger import ledger_between
from api.models import FieldReportRow, Plan
from api.planning import load_plan
from api.schemas import NAME_PATTERN, PatrolDate, StatisticsOut, StatisticsRow
from api.services import Services
from optimizer.errors import InputError
from optimizer.operations.reports import report_from_dict, reports_frame
from optimizer.outputs import statistics as st

router = APIRouter(tags=["statistics"], route_class=StrictJSONRoute)

MAX_DAYS = 366
"""The longest span one request counts."""


def _latest_plans(session: Session, district: str, first: dt.date, last: dt.date) -> list[Any]:
    """The latest stored plan of each day (a later version or re-plan replaces earlier ones)."""
    rows = session.scalars(
        select(Plan)
        .where(Plan.district == district, Plan.date >= first, Plan.date <= last)
        .order_by(Plan.date, Plan.created_at, Plan.id)
    ).all()
    latest = {row.date: row for row in rows}
    return [load_plan(latest[d]) for d in sorted(latest)]


def _reports(session: Session, district: str) -> pd.DataFrame:
    """The district's stored reports (the statistics count those made or fixed in the span)."""
    rows = session.scalars(
        select(FieldReportRow)
        .where(FieldReportRow.district == district)
        .order_by(FieldReportRow.id)
    ).all()
    found = [report_from_dict(r.data, field=f"reports.{r.report_id}") for r in rows]
    return reports_frame(found)


def statistics_inputs(
    session: Session, services: Services, district: str, first: dt.date, last: dt.date
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Return the stored ledger rows and the events (reports, incidents, paths, cells)."""
    if last < first:
        raise InputError("to", last.isoformat(), f"a date on or after from ({first.isoformat()})")
    if (last - first).days >= MAX_DAYS:
        raise InputError("to", last.isoformat(), f"at most {MAX_DAYS} days after from")
    ledger = ledger_between(session, district=district, first=first, last=last)
    plans = _latest_plans(session, district, first, last)
    reports = _reports(session, district)
    events = st.statistics_events(
        services.district(district), plans, reports=reports if len(reports) else None
    )
    return ledger.frame, events


def _number(value: Any) -> Any:
    """JSON's value of a table cell: None for missing counts, numbers as floats."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return value if isinstance(value, str) else float(value)


@router.get("/statistics", response_model=StatisticsOut, responses=error_responses(401, 422, 429))
def get_statistics(
    session: SessionDep,
    services: ServicesDep,
    _: Reader,
    district: Annotated[str, Query(pattern=NAME_PATTERN)],
    from_: Annotated[PatrolDate, Query(alias="from")],
    to: Annotated[PatrolDate, Query()],
    period: Annotated[Literal["day", "week", "month"], Query()] = "day",
    by: Annotated[Literal["team", "cell", "district"], Query()] = "district",
    source: Annotated[Literal["planned", "actual"], Query()] = "planned",
) -> StatisticsOut:
    """The bureau's statistics per day, ISO week or month and team, cell or district.

    Joint patrols in person-times (officers and volunteers), patrol hours (``patrol`` duties
    only: posts are nested in them), posts staffed against posts planned, hazards found and
    fixed, clues, and the incidents within 50 m of a path patrolled in their window against
    all incidents. Reports and incidents have no team: they are null in the rows of teams.
    """
    services.check_district(district)
    duties, events = statistics_inputs(session, services, district, from_, to)
    table = st.bureau_statistics(
        duties,
        period=period,
        by=by,
        source=source,
        start=from_,
        end=to,
        **({} if by == "team" else events),
    )
    items = [
        StatisticsRow.model_validate({str(k): _number(v) for k, v in row.items()})
        for row in table.to_dict(orient="records")
    ]
    return StatisticsOut(
        district=district,
        first=from_,
        last=to,
        period=period,
        by=by,
        source=source,
        labels=st.LABELS,
        items=items,
    )


MEDIA = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get(
    "/statistics/report",
    responses={
        200: {"content": {m: {} for m in MEDIA.values()}, "description": "the monthly report"},
        **error_responses(401, 422, 429),
    },
)
def get_report(
    session: SessionDep,
    services: ServicesDep,
    _: Reader,
    district: Annotated[str, Query(pattern=NAME_PATTERN)],
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", examples=["2026-11"])],
    lang: Annotated[Literal["zh", "en"], Query()] = "zh",
    format: Annotated[Literal["pdf", "xlsx"], Query()] = "pdf",
    source: Annotated[Literal["planned", "actual"], Query()] = "planned",
) -> Response:
    """The monthly report (A4 PDF or print-ready XLSX) in Chinese or English."""
    import tempfile
    from pathlib import Path

    services.check_district(district)
    first, last = st.month_span(month)
    duties, events = statistics_inputs(session, services, district, first, last)
    tables = st.report_tables(duties, month=month, source=source, **events)
    if format == "pdf":
        body = st.report_pdf(tables, district=district, month=month, lang=lang)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            path = st.write_report_xlsx(
                tables, Path(tmp) / "report.xlsx", district=district, month=month, lang=lang
            )
            body = path.read_bytes()
    name = f"{district}-{month}-{lang}.{format}"
    return Response(
        body,
        media_type=MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
