""" "Watch for" alerts: validation, the risk raised in new plans, re-planning only the affected
windows of a plan, the groups and posts near the place."""

from __future__ import annotations

import datetime as dt

import pytest

from optimizer.coords import convert
from optimizer.district import District
from optimizer.errors import InputError
from optimizer.operations.alerts import (
    Alert,
    AlertRisk,
    affected_windows,
    alert_message,
    make_alert,
    near_alert,
    replan_for_alert,
)
from optimizer.plan.types import DayPlan, WindowPlan
from optimizer.risk.hotspots import Hotspot
from tests.conftest import DEMO_DAY

EVENING = "19:00-23:00"


def _evening_hotspot(plan: DayPlan) -> tuple[WindowPlan, Hotspot]:
    """The evening's most visited hotspot and its cell's plan."""
    best: tuple[int, WindowPlan, Hotspot] | None = None
    for wp in plan.windows:
        if wp.window.label() != EVENING:
            continue
        for h in wp.hotspots:
            n = sum(s.site_id == h.id for r in wp.routes for s in r.stops)
            if best is None or n > best[0]:
                best = (n, wp, h)
    assert best is not None and best[0] > 0
    return best[1], best[2]


def _alert(h: Hotspot, **kw: object) -> Alert:
    """An alert at ``h`` given in GCJ-02, as a messaging app shares a place."""
    glon, glat = convert([h.lon], [h.lat], "wgs84", "gcj02")
    args: dict[str, object] = {
        "id": "A1",
        "text": "pickpocket seen at the hospital",
        "lon": float(glon[0]),
        "lat": float(glat[0]),
        "crs": "gcj02",
        "start": dt.datetime.combine(DEMO_DAY, dt.time(19, 30)),
        "end": dt.datetime.combine(DEMO_DAY, dt.time(21, 0)),
        "radius_m": 150.0,
        "factor": 3.0,
    }
    args.update(kw)
    return make_alert(**args)  # type: ignore[arg-type]


def test_make_alert_converts_and_validates(demo_plan: DayPlan) -> None:
    _, h = _evening_hotspot(demo_plan)
    alert = _alert(h)
    assert alert.crs == "gcj02"
    # the demo lies outside China: GCJ-02 equals WGS-84 there; a point in China moves
    assert alert.lon == pytest.approx(h.lon, abs=1e-7)
    china = make_alert(
        id="C",
        text="",
        lon=116.404,
        lat=39.915,
        crs="bd09",
        start="2026-12-01T08:00+08:00",
        end="2026-12-01T10:00+08:00",
        timezone=dt.timezone(dt.timedelta(hours=8)),
    )
    back = convert([china.lon], [china.lat], "wgs84", "bd09")
    assert float(back[0][0]) == pytest.approx(116.404, abs=1e-6)
    assert abs(china.lon - 116.404) > 1e-3
    assert china.start == dt.datetime(2026, 12, 1, 8, 0)
    for field, kw in (
        ("end", {"end": dt.datetime.combine(DEMO_DAY, dt.time(19, 0))}),
        ("end", {"end": dt.datetime.combine(DEMO_DAY + dt.timedelta(days=40), dt.time(1))}),
        ("crs", {"crs": "mars"}),
        ("factor", {"factor": 1.0}),
        ("radius_m", {"radius_m": float("nan")}),
        ("lat", {"lat": 95.0}),
        ("start", {"start": "tonight"}),
        ("id", {"id": ""}),
    ):
        with pytest.raises(InputError) as err:
            _alert(h, **kw)
        assert err.value.field == field, kw


def test_alert_risk_raises_the_place_in_new_plans(demo: District, demo_plan: DayPlan) -> None:
    wp, h = _evening_hotspot(demo_plan)
    alert = _alert(h)
    adjustment = AlertRisk((alert,))
    out = {
        x.id: x
        for x in adjustment.apply(wp.hotspots, district=demo, day=DEMO_DAY, window=wp.window)
    }
    assert out[h.id].value == pytest.approx(3.0 * h.value)
    assert "alert A1" in adjustment.describe(day=DEMO_DAY, window=wp.window)
    morning = next(w for w in demo_plan.windows if w.window.label() != EVENING)
    same = adjustment.apply(morning.hotspots, district=demo, day=DEMO_DAY, window=morning.window)
    assert list(same) == list(morning.hotspots)
    assert "none" in adjustment.describe(day=DEMO_DAY, window=morning.window)
    # a place with no hotspot near gets one
    far = make_alert(
        id="F",
        text="x",
        lon=h.lon,
        lat=h.lat,
        start=alert.start,
        end=alert.end,
        radius_m=10.0,
    )
    lonely = [x for x in wp.hotspots if x.id != h.id]
    added = AlertRisk((far,)).apply(lonely, district=demo, day=DEMO_DAY, window=wp.window)
    assert [x.id for x in added][-1] == "alert-F"


@pytest.mark.slow
def test_alert_replans_only_the_affected_windows_and_lists_who_is_near(
    demo: District, demo_plan: DayPlan
) -> None:
    wp, h = _evening_hotspot(demo_plan)
    alert = _alert(h)
    assert [w.label() for w in affected_windows(demo_plan, alert)] == [EVENING]
    result = replan_for_alert(demo_plan, alert, district=demo, within_m=400.0)
    assert result.windows == (EVENING,)
    assert wp.grid_id in result.cells[EVENING]
    before = {(w.window.label(), w.grid_id): w for w in demo_plan.windows}
    for w in result.plan.windows:
        key = (w.window.label(), w.grid_id)
        if key[0] != EVENING or key[1] not in result.cells[EVENING]:
            assert w == before[key], key  # untouched windows and cells keep their routes
    new = next(w for w in result.plan.windows if w.grid_id == wp.grid_id and w.window == wp.window)
    assert next(x for x in new.hotspots if x.id == h.id).value == pytest.approx(3.0 * h.value)
    notes = result.plan.settings["notes"]
    assert any(n.startswith(EVENING) and "alert A1" in n for n in notes), notes
    assert result.plan.settings["alerts"][0]["id"] == "A1"
    assert not result.changes_frame().empty
    # the groups whose routes pass the place in the evening are listed, nobody of the morning
    visitors = {r.group.id for r in wp.routes if any(s.site_id == h.id for s in r.stops)}
    listed = result.recipients_frame()
    assert visitors <= set(listed.loc[listed["kind"] == "group", "id"])
    assert set(listed["window"]) == {EVENING}
    assert (listed["distance_m"] <= 400).all()
    message = alert_message(alert, result.recipients)
    assert "pickpocket" in message and next(iter(visitors)) in message


def test_near_alert_lists_posts_on_duty(demo: District, demo_plan: DayPlan) -> None:
    post = demo.resources.posts[0]
    day_window = next(
        w.window for w in demo_plan.windows if post.active_windows(DEMO_DAY, w.window)
    )
    start, end = day_window.on(DEMO_DAY)
    alert = make_alert(
        id="P", text="watch the gate", lon=post.lon, lat=post.lat, start=start, end=end
    )
    listed = near_alert(demo_plan, alert, district=demo, within_m=50.0)
    assert any(r.kind == "post" and r.id == post.id for r in listed)
    assert all(r.distance_m <= 50.0 for r in listed)
    with pytest.raises(InputError) as err:
        near_alert(demo_plan, alert, district=demo, within_m=-1.0)
    assert err.value.field == "within_m"
