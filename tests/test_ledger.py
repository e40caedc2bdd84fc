"""The participation ledger: planned and actual duties per person, weeks, caps."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from optimizer.district import District
from optimizer.errors import InputError
from optimizer.operations.ledger import (
    DUTY_COLUMNS,
    Ledger,
    current_week,
    iso_week,
    ledger_from_actuals,
    ledger_from_plan,
    week_start,
)
from optimizer.operations.tracks import match_tracks
from optimizer.plan.types import DayPlan
from optimizer.staff.groups import window_hours
from optimizer.staff.roster import Resources
from optimizer.synthetic.tracks import route_track


def _row(day: dt.date, person: str, hours: float, **over: object) -> dict[str, object]:
    start = dt.datetime.combine(day, dt.time(19, 0))
    row: dict[str, object] = {
        "date": day,
        "window": "19:00-23:00",
        "grid_id": "C1",
        "group_id": f"{day:%Y%m%d}-1900-O1",
        "person_id": person,
        "role": "volunteer",
        "team_id": "T1",
        "station_id": "",
        "duty": "patrol",
        "site_id": "",
        "start": start,
        "end": start + dt.timedelta(hours=hours),
        "hours": hours,
        "source": "planned",
    }
    row.update(over)
    return row


def test_demo_plan_ledger_adds_up(demo: District, demo_plan: DayPlan) -> None:
    frame = ledger_from_plan(demo_plan, resources=demo.resources)
    assert tuple(frame.columns) == DUTY_COLUMNS
    patrol = frame[frame["duty"] == "patrol"]
    # every volunteer: the window hours of every group joined (the rule of record_service)
    expected: dict[str, float] = {}
    posts_expected = 0
    for wp in demo_plan.windows:
        for r in wp.routes:
            for pid in r.group.members:
                expected[pid] = expected.get(pid, 0.0) + window_hours(wp.window)
            posts_expected += len(r.group.members) * sum(s.kind == "post" for s in r.stops)
    got = patrol.groupby("person_id")["hours"].sum().to_dict()
    assert got == pytest.approx(expected)
    assert len(frame[frame["duty"] == "post"]) == posts_expected > 0
    # roles, teams and stations from the roster
    teams = {v.id: v.team_id for v in demo.resources.volunteers}
    stations = {o.id: o.station_id for o in demo.resources.officers}
    for duty in frame.to_dict("records"):
        if duty["role"] == "volunteer":
            assert duty["team_id"] == teams[duty["person_id"]] and duty["station_id"] == ""
        else:
            assert duty["station_id"] == stations[duty["person_id"]] and duty["team_id"] == ""
    # a post row is nested in its patrol: inside the window, shorter than it
    posts = frame[frame["duty"] == "post"]
    assert (posts["hours"] > 0).all()
    windows = {wp.window.label(): (wp.start, wp.end) for wp in demo_plan.windows}
    for duty in posts.to_dict("records"):
        start, end = windows[duty["window"]]
        assert start <= duty["start"] < duty["end"] <= end
    ledger = Ledger(frame)
    by_person = ledger.hours_by_person()
    assert dict(zip(by_person["person_id"], by_person["hours"], strict=True)) == pytest.approx(
        expected
    )
    assert ledger.caps_exceeded(demo.resources).empty
    # re-adding the same plan replaces its rows
    assert len(ledger.add(frame).frame) == len(frame)


def test_week_hours_across_an_iso_week_boundary() -> None:
    sunday = dt.date(2026, 12, 6)  # ISO week 2026-W49 ends on Sunday
    monday = sunday + dt.timedelta(days=1)
    ledger = Ledger(
        pd.DataFrame(
            [
                _row(sunday - dt.timedelta(days=1), "V1", 4.0),
                _row(sunday, "V1", 4.0),
                _row(sunday, "V2", 2.0),
                _row(monday, "V1", 3.0),
                _row(sunday, "O1", 4.0, role="officer", team_id="", station_id="S1"),
                _row(sunday, "V1", 0.5, duty="post", site_id="P1"),
                _row(sunday - dt.timedelta(days=1), "V3", 4.0, source="actual"),
            ]
        )
    )
    assert iso_week(sunday) == "2026-W49" and iso_week(monday) == "2026-W50"
    assert week_start("2026-W50") == monday
    # before Sunday: Saturday only; before Monday of the next week: nothing
    assert ledger.week_hours(sunday) == {"V1": 4.0}
    assert ledger.week_hours(sunday + dt.timedelta(days=1)) == {}
    assert ledger.week_hours(monday + dt.timedelta(days=1)) == {"V1": 3.0}
    # the week's hours count patrol rows only, officers not in volunteer_hours
    week = ledger.hours_by_person(week_of=sunday)
    assert dict(zip(week["person_id"], week["hours"], strict=True)) == {
        "O1": 4.0,
        "V1": 8.0,
        "V2": 2.0,
    }
    assert ledger.week_hours(sunday, source="actual") == {"V3": 4.0}
    with pytest.raises(InputError) as err:
        ledger.week_hours(monday, source="guess")
    assert err.value.field == "source"
    with pytest.raises(InputError):
        week_start("2026-50")


def test_caps_exceeded_and_summary() -> None:
    from optimizer.staff.roster import Volunteer, VolunteerTeam

    team = VolunteerTeam(
        "T1",
        "team",
        "guards",
        "C1",
        "S1",
        (
            Volunteer("V1", "a", "T1", "guard", (), max_hours_week=6.0),
            Volunteer("V2", "b", "T1", "guard", (), max_hours_week=12.0),
            Volunteer("V9", "idle", "T1", "guard", (), max_hours_week=12.0),
        ),
    )
    resources = Resources(teams=(team,))
    day = dt.date(2026, 11, 30)
    ledger = Ledger(
        pd.DataFrame(
            [
                _row(day, "V1", 4.0),
                _row(day + dt.timedelta(days=1), "V1", 4.0),
                _row(day, "V2", 4.0),
                _row(day, "V2", 0.5, duty="post", site_id="P1"),
            ]
        )
    )
    over = ledger.caps_exceeded(resources)
    assert over[["person_id", "week", "hours", "cap"]].values.tolist() == [
        ["V1", "2026-W49", 8.0, 6.0]
    ]
    summary = ledger.person_summary(resources=resources).set_index("person_id")
    assert summary.loc["V1", "rest_days"] == 0 and summary.loc["V2", "rest_days"] == 1
    assert summary.loc["V9", "rest_days"] == 2 and summary.loc["V9", "hours"] == 0
    assert summary.loc["V2", "post_duties"] == 1 and summary.loc["V2", "patrols"] == 1
    assert summary.loc["V1", "hours 2026-W49"] == 8.0
    # fair load split by caps (6 : 12 : 12 of 12 h): V1 should have 2.4 h, has 8
    assert summary.loc["V1", "fair_share"] == pytest.approx(8.0 / 2.4)


def test_csv_round_trip_and_bad_rows(tmp_path: Path) -> None:
    day = dt.date(2026, 11, 30)
    ledger = Ledger(pd.DataFrame([_row(day, "V1", 4.0), _row(day, "V1", 0.25, duty="post")]))
    back = Ledger.read_csv(ledger.write_csv(tmp_path / "ledger.csv"))
    pd.testing.assert_frame_equal(back.to_frame(), ledger.to_frame())
    with pytest.raises(InputError) as err:
        Ledger(pd.DataFrame([_row(day, "V1", 4.0, role="mayor")]))
    assert err.value.field == "ledger.role[0]" and err.value.value == "mayor"
    with pytest.raises(InputError) as err:
        Ledger(pd.DataFrame([_row(day, "V1", -1.0)]))
    assert err.value.field == "ledger.hours[0]"
    with pytest.raises(InputError) as err:
        Ledger.read_csv(tmp_path / "missing.csv")
    assert err.value.field == "ledger"


def test_actual_duties_from_a_hand_made_track(demo: District, demo_plan: DayPlan) -> None:
    route = wp = None
    for w in demo_plan.windows:
        for r in w.routes:
            if any(s.kind == "post" for s in r.stops) and len(r.stops) > 3:
                wp, route = w, r
                break
        if route is not None:
            break
    assert wp is not None and route is not None
    post = next(s for s in route.stops if s.kind == "post")
    # the group makes its route but leaves the post after half its stay; a second group of
    # the plan has no track and no check-in: no actual duty
    track = route_track(route, dwell_share=0.5)
    actuals = match_tracks(demo_plan, [track], district=demo)
    frame = ledger_from_actuals(actuals, plan=demo_plan, resources=demo.resources)
    assert set(frame["source"]) == {"actual"}
    assert set(frame["group_id"]) == {route.group.id}
    patrol = frame[frame["duty"] == "patrol"]
    assert sorted(patrol["person_id"]) == sorted(route.group.members)
    first, last = track.times[0], track.times[-1]
    span = (min(last, wp.end) - max(first, wp.start)).total_seconds() / 3600
    assert patrol["hours"].tolist() == pytest.approx([span] * len(patrol))
    assert span <= window_hours(wp.window)
    posts = frame[(frame["duty"] == "post") & (frame["site_id"] == post.site_id)]
    stop = next(s for s in actuals.stops if s.group_id == route.group.id and s.kind == "post")
    assert len(posts) == len(route.group.members)
    assert posts["hours"].tolist() == pytest.approx([stop.dosage_min / 60] * len(posts))
    planned = (post.departure - post.arrival).total_seconds() / 60 - post.wait_min
    assert stop.dosage_min < 0.8 * planned  # half the stay was measured, not the plan
    # the wrong plan is refused
    other = dataclasses.replace(demo_plan, date=demo_plan.date + dt.timedelta(days=1))
    with pytest.raises(InputError) as err:
        ledger_from_actuals(actuals, plan=other, resources=demo.resources)
    assert err.value.field == "actuals.day"


# ---------------------------------------------------------------------------------------------
# Weeks and a fortnight on the demo (small budget, one cell, two windows)

FORTNIGHT_WINDOWS = ("07:00-11:00", "19:00-23:00")


def _capped(district: District, hours: float) -> District:
    """The district with every volunteer's weekly cap set to ``hours``."""
    res = district.resources
    teams = tuple(
        dataclasses.replace(
            t, members=tuple(dataclasses.replace(v, max_hours_week=hours) for v in t.members)
        )
        for t in res.teams
    )
    return dataclasses.replace(district, resources=dataclasses.replace(res, teams=teams))


def _two_calls(district: District, first_days: int, total: int) -> Any:
    """Plan ``total`` days from Monday 2026-11-30 in two ``plan_week`` calls, chained through
    the ledger (the first call ends mid-week)."""
    from optimizer.plan.params import PlanParams
    from optimizer.plan.week import plan_week

    options: dict[str, Any] = {
        "windows": FORTNIGHT_WINDOWS,
        "grid_level": 1,
        "params": PlanParams(budget_s=0.05),
    }
    start = dt.date(2026, 11, 30)
    first = plan_week(district, start=start, days=first_days, **options)
    second = plan_week(
        district,
        start=start + dt.timedelta(days=first_days),
        days=total - first_days,
        ledger=first.ledger,
        previous=first.plans[-1],
        **options,
    )
    return first, second


def test_pace_spreads_duties_over_the_week() -> None:
    from optimizer.staff.groups import pace_from, week_fraction
    from optimizer.staff.roster import Shift
    from optimizer.timewindow import TimeWindow

    evening = TimeWindow.parse("19:00-23:00")
    monday = dt.date(2026, 11, 30)
    assert week_fraction(monday, evening) == pytest.approx(23 / 168)
    assert week_fraction(monday + dt.timedelta(days=6), evening) == pytest.approx(167 / 168)
    fridays = (Shift(evening, (4,)),)
    assert week_fraction(monday + dt.timedelta(days=3), evening, availability=fridays) == 0
    assert week_fraction(monday + dt.timedelta(days=4), evening, availability=fridays) == 1
    # three duties of 4 h in a 12 h cap: the k-th is due after (k + phase) / 3 of the week
    phases = [pace_from(f"V{i}", served_h=0, window_h=4, cap_h=12) for i in range(200)]
    assert min(phases) >= 0 and max(phases) < 1 / 3
    assert 0.1 < sum(p < 1 / 6 for p in phases) / len(phases) < 0.9  # staggered, not all at 0
    later = pace_from("V1", served_h=8, window_h=4, cap_h=12)
    assert later == pytest.approx(pace_from("V1", served_h=0, window_h=4, cap_h=12) + 2 / 3)
    assert pace_from("V1", served_h=0, window_h=4, cap_h=2) == 0.0


@pytest.mark.slow
def test_fortnight_ledger_holds_caps_across_weeks(demo: District) -> None:
    first, second = _two_calls(demo, 4, 14)
    ledger = second.ledger
    days = [p.date for p in (*first.plans, *second.plans)]
    assert ledger.days() == days and len(days) == 14
    assert ledger.caps_exceeded(demo.resources).empty
    # the ledger adds up: each volunteer's hours are the window hours of the groups joined
    expected: dict[str, float] = {}
    for plan in (*first.plans, *second.plans):
        for wp in plan.windows:
            for r in wp.routes:
                for pid in r.group.volunteer_ids:
                    expected[pid] = expected.get(pid, 0.0) + window_hours(wp.window)
    hours = ledger.hours_by_person()
    hours = hours[hours["role"] == "volunteer"]
    assert dict(zip(hours["person_id"], hours["hours"], strict=True)) == pytest.approx(expected)
    weeks = ledger.week_table()
    assert set(weeks["week"]) == {"2026-W49", "2026-W50"}
    caps = {v.id: v.max_hours_week for v in demo.resources.volunteers}
    vol = weeks[weeks["role"] == "volunteer"]
    assert all(h <= caps[p] + 1e-9 for p, h in zip(vol["person_id"], vol["hours"], strict=True))
    # fair shares over the days: every day of both weeks has volunteers in its groups
    per_day = [sum(len(r.group.volunteer_ids) for r in p.routes) for p in second.plans]
    assert min(per_day) > 0, per_day
    summary = second.to_frame()
    assert set(summary["person_id"]) >= set(caps)
    assert (summary["rest_days"] >= 0).all() and (summary["rest_days"] <= 10).all()


@pytest.mark.slow
def test_tight_caps_bind_and_the_ledger_shows_it(demo: District) -> None:
    from optimizer.plan.day import plan_day
    from optimizer.plan.params import PlanParams

    tight = _capped(demo, 4.0)  # one 4-hour window a week
    first, second = _two_calls(tight, 3, 14)
    ledger = second.ledger
    assert ledger.caps_exceeded(tight.resources).empty
    weeks = ledger.week_table()
    vol = weeks[weeks["role"] == "volunteer"]
    assert (vol["hours"] <= 4.0 + 1e-9).all()
    assert (vol["hours"] == 4.0).sum() >= 10  # many volunteers reach the cap in each week
    assert set(vol["week"]) == {"2026-W49", "2026-W50"}
    codes = {
        u.code for p in (*first.plans, *second.plans) for ws in p.staffing for u in ws.unassigned
    }
    assert "weekly_cap" in codes
    # the same three days planned without the ledger: the caps do not hold
    alone = [
        plan_day(
            tight,
            day=dt.date(2026, 11, 30) + dt.timedelta(days=k),
            windows=FORTNIGHT_WINDOWS,
            grid_level=1,
            params=PlanParams(budget_s=0.05),
        )
        for k in range(3)
    ]
    book = Ledger.empty()
    for plan in alone:
        book = book.add(ledger_from_plan(plan, resources=tight.resources))
    assert not book.caps_exceeded(tight.resources).empty


def test_the_current_week_turns_at_the_districts_midnight() -> None:
    import zoneinfo

    # Sunday 20:00 UTC is already Monday 04:00 in Shanghai: a new ISO week there
    now = dt.datetime(2026, 12, 6, 20, 0, tzinfo=dt.UTC)
    assert current_week(None, now=now) == "2026-W49"
    assert current_week(zoneinfo.ZoneInfo("Asia/Shanghai"), now=now) == "2026-W50"
    assert current_week(zoneinfo.ZoneInfo("America/Los_Angeles"), now=now) == "2026-W49"
    with pytest.raises(InputError, match="now"):
        current_week(None, now=dt.datetime(2026, 12, 6, 20, 0))
