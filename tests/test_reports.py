"""Reports from the field: validation, the CSV import, the clue signal and its backtest."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from optimizer.coords import convert
from optimizer.district import District
from optimizer.errors import InputError
from optimizer.operations.reports import (
    ClueSignal,
    FieldReport,
    choose_clue_weight,
    make_report,
    read_reports,
    report_from_dict,
    reports_frame,
)
from optimizer.plan.types import DayPlan
from optimizer.risk.hotspots import Hotspot
from optimizer.timewindow import TimeWindow
from tests.conftest import DEMO_DAY

EVENING = TimeWindow.parse("19:00-23:00")


def test_make_report_converts_and_validates() -> None:
    lon, lat = convert([114.0579], [22.5431], "wgs84", "bd09")
    r = make_report(
        id="R1",
        kind="hazard",
        category="broken street light",
        time="2026-11-30T19:05+08:00",
        lon=float(lon[0]),
        lat=float(lat[0]),
        crs="bd09",
        photo="IMG_0001.jpg",
        timezone=dt.timezone(dt.timedelta(hours=8)),
    )
    assert r.lon == pytest.approx(114.0579, abs=1e-6) and r.lat == pytest.approx(22.5431, abs=1e-6)
    assert r.time == dt.datetime(2026, 11, 30, 19, 5) and r.status == "open"
    assert report_from_dict(r.to_dict()) == r
    fixed = make_report(
        id="R2",
        kind="hazard",
        category="x",
        time="2026-11-30T19:05",
        lon=1,
        lat=1,
        status="fixed",
        fixed_at="2026-12-01T09:00",
    )
    assert fixed.fixed_at == dt.datetime(2026, 12, 1, 9)
    good = {
        "id": "R",
        "kind": "clue",
        "category": "x",
        "time": "2026-11-30T19:05",
        "lon": 1,
        "lat": 1,
    }
    for field, change in (
        ("kind", {"kind": "rumour"}),
        ("status", {"status": "fixed"}),  # a clue is never fixed
        ("time", {"time": "yesterday"}),
        ("lon", {"lon": float("nan")}),
        ("crs", {"crs": "mars"}),
        ("category", {"category": ""}),
        ("id", {"id": ""}),
    ):
        with pytest.raises(InputError) as err:
            make_report(**{**good, **change})  # type: ignore[arg-type]
        assert err.value.field == field, change


def test_read_reports_keeps_good_rows_and_lists_bad_ones() -> None:
    text = (
        "编号,类型,类别,内容,时间,经度,纬度,坐标系,状态\n"
        "A1,线索,可疑人员,医院门口,2026-11-30T18:00,114.05,22.54,gcj02,\n"
        "A2,隐患,路灯损坏,,2026-11-30T18:10,114.06,22.55,,已整改\n"
        "A3,线索,可疑人员,,2026-11-30T18:20,abc,22.55,,\n"
        "A1,线索,可疑人员,,2026-11-30T18:30,114.05,22.54,,\n"
    )
    got = read_reports(text.encode("gb18030"), crs="wgs84")
    assert [r.id for r in got.reports] == ["A1", "A2"]
    assert got.reports[0].crs == "gcj02" and got.reports[1].crs == "wgs84"
    assert got.reports[1].kind == "hazard" and got.reports[1].status == "fixed"
    problems = got.to_frame()
    assert problems[["row", "column"]].values.tolist() == [[3, "经度"], [4, "编号"]]
    assert len(reports_frame(got.reports)) == 2
    with pytest.raises(InputError) as err:
        read_reports(b"id,kind\nx,clue\n")
    assert err.value.field == "columns"


def _evening(plan: DayPlan) -> list[Hotspot]:
    return [h for wp in plan.windows if wp.window == EVENING for h in wp.hotspots]


def _clue(i: int, h: Hotspot, when: dt.datetime, dx: float = 0.0) -> FieldReport:
    return make_report(
        id=f"c{i}", kind="clue", category="suspicious", time=when, lon=h.lon + dx, lat=h.lat
    )


def test_clue_signal_raises_hotspots_near_recent_clues(demo: District, demo_plan: DayPlan) -> None:
    hotspots = _evening(demo_plan)
    h = hotspots[0]
    start, _ = EVENING.on(DEMO_DAY)
    clues = (
        _clue(1, h, start - dt.timedelta(days=1)),
        _clue(2, h, start + dt.timedelta(minutes=5)),  # after the window starts: not yet known
        make_report(
            id="z1",
            kind="hazard",
            category="light",
            time=start - dt.timedelta(hours=1),
            lon=h.lon,
            lat=h.lat,
        ),
    )
    signal = ClueSignal(clues, weight=0.5, half_life_days=3.0, radius_m=50.0)
    out = {x.id: x for x in signal.apply(hotspots, district=demo, day=DEMO_DAY, window=EVENING)}
    assert out[h.id].value == pytest.approx(h.value * (1 + 0.5 * 0.5 ** (1 / 3)))
    assert h.id in signal.describe(day=DEMO_DAY, window=EVENING)
    zero = ClueSignal(clues, weight=0.0)
    same = zero.apply(hotspots, district=demo, day=DEMO_DAY, window=EVENING)
    assert [x.value for x in same] == [x.value for x in hotspots]
    assert "do not help" in zero.describe(day=DEMO_DAY, window=EVENING)
    with pytest.raises(InputError):
        ClueSignal((), weight=-1.0)


def test_backtest_weights_informative_clues_and_zeroes_useless_ones(
    demo: District, demo_plan: DayPlan
) -> None:
    hotspots = sorted(_evening(demo_plan), key=lambda x: -x.value)
    start, _ = EVENING.on(DEMO_DAY)
    k = max(1, round(0.2 * len(hotspots)))
    # just below the top 20 %: not among the top ones on the forecast alone, but close
    quiet = [h for h in hotspots[k : k + 4] if h.value * 1.8 > hotspots[k - 1].value]
    assert quiet
    incidents = pd.DataFrame(
        {
            "occurred_at": [start + dt.timedelta(minutes=30 + i) for i in range(len(quiet))],
            "lon": [h.lon for h in quiet],
            "lat": [h.lat for h in quiet],
        }
    )
    before = start - dt.timedelta(hours=2)
    informative = [_clue(i, h, before) for i, h in enumerate(quiet)]
    useless = [_clue(i, h, before, dx=0.05) for i, h in enumerate(quiet)]  # kilometres away
    common = {
        "days": [DEMO_DAY],
        "windows": [EVENING],
        "incidents": incidents,
        "hotspots": lambda day, window: _evening(demo_plan),
        "signal": ClueSignal((), radius_m=30.0),
    }
    helped = choose_clue_weight(demo, informative, **common)  # type: ignore[arg-type]
    assert helped.weight > 0
    assert helped.scores[helped.weight] > helped.scores[0.0]
    assert helped.verdict.startswith("clues help")
    useless_run = choose_clue_weight(demo, useless, **common)  # type: ignore[arg-type]
    assert useless_run.weight == 0.0
    assert useless_run.verdict.startswith("clues do not help")
    frame = useless_run.to_frame()
    assert frame.loc[frame["chosen"], "weight"].tolist() == [0.0]
