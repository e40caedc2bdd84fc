"""Local wall-clock times in answers (reports, the ledger) match their documented schema.

These times are stored without an offset (the district's local time); the OpenAPI
description must not call them ``date-time`` (which requires an offset) but say what they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.planning import store_plan
from optimizer.plan.types import DayPlan
from tests.api.conftest import Api, make_api


@pytest.fixture
def planned(own_db_url: str, demo_dir: Path, demo_plan: DayPlan) -> Iterator[Api]:
    """The service on the demo district with the demo plan and a report stored."""
    made = make_api(own_db_url, data_dir=demo_dir.parent)
    with made.client:
        store_plan(made.app.state.services, demo_plan, job_id=None, created_by="test")
        r = made.client.post(
            "/reports",
            json={"district": "demo", "id": "R1", "kind": "hazard", "category": "other",
                  "time": "2026-11-30T10:00", "lon": 24.95, "lat": 60.17},
            headers=made.headers("planner"),
        )  # fmt: skip
        assert r.status_code in (200, 201), r.text
        yield made
    made.app.state.services.close()


def _schema(api: Api, name: str, field: str) -> dict[str, Any]:
    spec = api.client.get("/openapi.json").json()
    return dict(spec["components"]["schemas"][name]["properties"][field])


def _conforms(value: str, schema: dict[str, Any]) -> bool:
    if schema.get("format") == "date-time":  # RFC 3339: an offset is required
        return re.search(r"(Z|[+-]\d{2}:\d{2})$", value) is not None
    return re.match(schema["pattern"], value) is not None


def test_report_and_ledger_times_match_their_schema(planned: Api) -> None:
    viewer = planned.headers("viewer")
    reports = planned.client.get("/reports", params={"district": "demo"}, headers=viewer)
    assert reports.status_code == 200, reports.text
    (report,) = reports.json()["reports"]
    assert _conforms(report["time"], _schema(planned, "ReportOut", "time")), report
    ledger = planned.client.get("/ledger", params={"district": "demo"}, headers=viewer)
    assert ledger.status_code == 200, ledger.text
    items = ledger.json()["items"]
    assert items
    for field in ("start", "end"):
        schema = _schema(planned, "LedgerEntryOut", field)
        assert all(_conforms(i[field], schema) for i in items), (field, items[0])
