"""Hotspots per grid and window on the demo district; demand; change report after new incidents."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer.district import District
from optimizer.errors import InputError
from optimizer.risk.hotspots import (
    Hotspot,
    HotspotParams,
    HotspotTracker,
    hotspot_changes,
    hotspots_for_window,
    patrol_demand,
)
from optimizer.risk.incidents import street_segments
from optimizer.timewindow import TimeWindow

EVENING = TimeWindow.parse("19:00-23:00")
MORNING = TimeWindow.parse("07:00-09:00")


@pytest.fixture(scope="module")
def demo() -> District:
    from optimizer.synthetic.demo import load_demo

    return load_demo()


def after_history(demo: District) -> dt.date:
    """The first Friday after the demo's incident history."""
    assert demo.incidents is not None
    day = demo.incidents["occurred_at"].max().date() + dt.timedelta(days=1)
    return day + dt.timedelta(days=(4 - day.weekday()) % 7)


@pytest.fixture(scope="module")
def evening(demo: District) -> list[Hotspot]:
    return hotspots_for_window(demo, day=after_history(demo), window=EVENING)


def test_hotspots_shape(demo: District, evening: list[Hotspot]) -> None:
    assert evening
    leaf = set(demo.leaf_grid_ids())
    G = demo.graph
    for h in evening:
        assert h.grid_id in leaf
        assert 10 <= h.dwell_min <= 16
        assert 1 <= h.visits <= EVENING.minutes // 120
        assert h.value > 0 and h.node in G
        assert h.edges and all(G.has_edge(u, v, k) or G.has_edge(v, u, k) for u, v, k in h.edges)
        assert h.node in h.edges[0][:2]
        assert 0 < h.length_m <= max(400.0, G.edges[h.edges[0]]["length"] + 1)
    per_grid = pd.Series([h.grid_id for h in evening]).value_counts()
    assert per_grid.max() <= HotspotParams().max_per_grid
    hottest = max(evening, key=lambda h: h.value)
    assert hottest.visits == EVENING.minutes // 120 and hottest.dwell_min == 16
    assert len({h.id for h in evening}) == len(evening)


def test_hotter_hotspots_get_closer_passes(evening: list[Hotspot]) -> None:
    params = HotspotParams()
    for h in evening:
        assert params.min_spacing_min <= h.spacing_min <= params.max_spacing_min
    ranked = sorted(evening, key=lambda h: -h.value)
    assert ranked[0].spacing_min == params.min_spacing_min
    spacings = [h.spacing_min for h in ranked]
    assert spacings == sorted(spacings)  # hotter, never wider apart
    with pytest.raises(InputError) as info:
        HotspotParams(min_spacing_min=100, max_spacing_min=60)
    assert info.value.field == "hotspots.min_spacing_min"


def test_windows_get_different_hotspots(demo: District, evening: list[Hotspot]) -> None:
    morning = hotspots_for_window(demo, day=after_history(demo), window=MORNING)
    assert {h.id for h in morning} != {h.id for h in evening}
    top_evening = sorted(evening, key=lambda h: -h.value)[:5]
    top_morning = sorted(morning, key=lambda h: -h.value)[:5]
    assert any("dispute" in h.label for h in top_evening)
    assert not any("dispute" in h.label for h in top_morning)


def test_patrol_demand_sums_values(evening: list[Hotspot]) -> None:
    demand = patrol_demand(evening)
    assert set(demand) == {h.grid_id for h in evening}
    assert sum(demand.values()) == pytest.approx(sum(h.value for h in evening))
    assert all(v > 0 for v in demand.values())


def test_grid_selection_and_errors(demo: District) -> None:
    one = demo.leaf_grid_ids()[0]
    found = hotspots_for_window(demo, day=after_history(demo), window=EVENING, grid_ids=[one])
    assert found and {h.grid_id for h in found} == {one}
    column = str(demo.grids.index[demo.grids["level"] == 2][0])
    coarse = hotspots_for_window(demo, day=after_history(demo), window=EVENING, grid_ids=[column])
    assert coarse and {h.grid_id for h in coarse} == {column}
    with pytest.raises(InputError, match="grid_ids"):
        hotspots_for_window(demo, day=after_history(demo), window=EVENING, grid_ids=["nope"])
    with pytest.raises(InputError, match="window"):
        hotspots_for_window(demo, day=after_history(demo), window="19:00-23:00")  # type: ignore[arg-type]
    empty = demo.incidents.iloc[:0]  # type: ignore[union-attr]
    assert hotspots_for_window(demo, day=after_history(demo), window=EVENING, incidents=empty) == []


@pytest.mark.slow  # a whole plan or forecast: full run only, not the fast lane
def test_new_incidents_raise_a_hotspot_in_the_change_report(demo: District) -> None:
    tracker = HotspotTracker(demo, HotspotParams())
    before = tracker.hotspots(after_history(demo), EVENING)
    segs = street_segments(demo.graph)
    # a quiet street: fresh disputes there must create or raise a hotspot
    hot_edges = {e for h in before for e in h.edges}
    quiet = next(
        i
        for i in range(len(segs))
        if (int(segs["u"].iat[i]), int(segs["v"].iat[i]), int(segs["key"].iat[i])) not in hot_edges
        and segs["length"].iat[i] > 30
    )
    u, v, k = (int(segs["u"].iat[quiet]), int(segs["v"].iat[quiet]), int(segs["key"].iat[quiet]))
    eve = pd.Timestamp(after_history(demo) - dt.timedelta(days=1)).tz_localize("Europe/Helsinki")
    when = eve + pd.Timedelta(hours=21) + pd.to_timedelta(np.arange(25) * 10, unit="min")
    new = pd.DataFrame(
        {
            "incident_id": [f"NEW{i}" for i in range(25)],
            "category": "dispute",
            "occurred_at": when,
            "date_only": False,
            "u": u,
            "v": v,
            "key": k,
        }
    )
    assert tracker.add(new) == 25
    report = tracker.changes(after_history(demo), EVENING)
    assert set(report.columns) >= {"id", "grid_id", "before", "after", "change", "status"}
    after = tracker.hotspots(after_history(demo), EVENING)
    holder = next(h for h in after if (u, v, k) in h.edges)
    row = report.set_index("id").loc[holder.id]
    assert row["status"] in {"rose", "new"} and row["change"] > 0
    assert report["change"].abs().is_monotonic_decreasing


def test_hotspot_changes_statuses() -> None:
    a = Hotspot("G-E1", "G", 0, 0, 0, 0, 1, 1.0)
    b = Hotspot("G-E2", "G", 0, 0, 500, 0, 2, 1.0)
    a2 = Hotspot("G-E1", "G", 0, 0, 0, 0, 1, 0.5)
    c = Hotspot("G-E3", "G", 0, 0, 20, 0, 3, 2.0)  # near E1, but E1 is matched by id
    report = hotspot_changes([a, b], [a2, c]).set_index("id")
    assert report.loc["G-E1", "status"] == "fell"
    assert report.loc["G-E1", "change"] == pytest.approx(-0.5)
    assert report.loc["G-E3", "status"] == "new"
    assert report.loc["G-E2", "status"] == "gone"


@pytest.mark.slow  # a whole plan or forecast: full run only, not the fast lane
def test_cli_lists_and_writes_hotspots(
    demo: District, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from optimizer.cli import main

    out = tmp_path / "hs.csv"
    code = main(
        [
            "hotspots",
            "--date",
            after_history(demo).isoformat(),
            "--window",
            "19:00-23:00",
            "--top",
            "3",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert "19:00-23:00" in capsys.readouterr().out
    frame = pd.read_csv(out)
    assert len(frame) > 3 and frame["dwell_min"].between(10, 16).all()
    assert (
        main(
            [
                "hotspots",
                "--window",
                "19:00-23:00",
                "--lang",
                "zh",
                "--top",
                "2",
                "--date",
                after_history(demo).isoformat(),
            ]
        )
        == 0
    )
    assert "纠纷" in capsys.readouterr().out
    assert main(["hotspots", "--window", "25:00-26:00"]) == 2
    assert "--window" in capsys.readouterr().err
