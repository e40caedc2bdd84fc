"""The operations loop over eight days on the demo (benchmarks/fortnight.py, shortened): plans,
deviating tracks, the ledger, field reports and an alert feed the next days' plans."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks import fortnight
from tests.conftest import DEMO_DAY

pytestmark = pytest.mark.slow  # plans 8 days with their controls: full run only


@pytest.fixture(scope="module")
def figures() -> dict[str, Any]:
    # Monday to Monday: the ledger carries the hours across an ISO-week boundary
    return fortnight.run(
        start=DEMO_DAY, days=8, windows=["07:00-11:00", "19:00-23:00"], budget=0.2, seed=0
    )


def test_no_volunteer_over_the_weekly_cap(figures: dict[str, Any]) -> None:
    assert figures["over_cap"] == 0


def test_ledger_holds_every_planned_hour(figures: dict[str, Any]) -> None:
    hours = figures["ledger_hours"]
    assert hours["planned"] == pytest.approx(figures["plan_hours"])
    # deviating tracks: some patrol is missed or cut short, never more than planned
    assert 0.5 * hours["planned"] < hours["actual"] <= hours["planned"] + 1e-6


def test_under_served_places_get_more_presence_the_next_day(figures: dict[str, Any]) -> None:
    presence = figures["deficit_presence_min"]
    assert presence["with"] > 1.05 * presence["without"]
    places = figures["deficit_places"]
    assert places["all"] > 10 and places["more"] > 2 * places["less"]


def test_alerted_place_gets_more_presence(figures: dict[str, Any]) -> None:
    presence = figures["alert_presence_min"]
    assert presence["with"] > 1.2 * presence["without"]
