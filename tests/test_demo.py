"""The embedded demo district: real streets, nested grids, synthetic incidents and resources."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point

from optimizer.district import District
from optimizer.staff.roster import resources_to_json
from optimizer.synthetic.demo import build_demo_district, synthetic_resources
from optimizer.timewindow import TimeWindow
from tests.conftest import DEMO_DAY


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> District:
    return build_demo_district(tmp_path_factory.mktemp("demo") / "demo")


def test_demo_is_deterministic(demo: District, tmp_path: Path) -> None:
    again = build_demo_district(tmp_path / "demo")
    assert resources_to_json(again.resources) == resources_to_json(demo.resources)
    assert again.grids.geometry.geom_equals_exact(demo.grids.geometry, tolerance=1e-12).all()
    assert sorted(again.graph.nodes) == sorted(demo.graph.nodes)
    assert demo.incidents is not None and again.incidents is not None
    pd.testing.assert_frame_equal(
        pd.DataFrame(again.incidents.drop(columns="geometry")),
        pd.DataFrame(demo.incidents.drop(columns="geometry")),
    )


def test_demo_is_saved_and_loads_back(demo: District) -> None:
    from optimizer.storage import load_district

    assert demo.path is not None and demo.path.is_dir()
    loaded = load_district(demo.path)
    assert loaded.graph.number_of_nodes() == demo.graph.number_of_nodes()
    assert resources_to_json(loaded.resources) == resources_to_json(demo.resources)


def test_streets_are_real_helsinki(demo: District) -> None:
    G = demo.graph
    assert G.number_of_nodes() > 1500
    lons = [d["lon"] for _, d in G.nodes(data=True)]
    lats = [d["lat"] for _, d in G.nodes(data=True)]
    assert min(lons) > 24.9 and max(lons) < 25.0
    assert min(lats) > 60.15 and max(lats) < 60.19
    assert str(G.graph["crs"]).upper() != "EPSG:4326"  # projected, metres
    _, _, data = next(iter(G.edges(data=True)))
    for mode in ("foot", "bicycle", "car"):
        assert f"travel_time_{mode}" in data
    assert "OpenStreetMap" in demo.metadata.get("license", "")


def test_grid_hierarchy_nests(demo: District) -> None:
    grids = demo.grids
    assert grids.crs is not None and grids.crs.to_epsg() == 4326
    counts = grids["level"].value_counts().to_dict()
    assert counts == {1: 1, 2: 3, 3: 9}
    assert set(grids.columns) >= {"level", "parent", "name", "geometry"}
    for gid, row in grids.iterrows():
        if row["level"] == 1:
            assert row["parent"] is None or pd.isna(row["parent"])
            continue
        parent = grids.loc[row["parent"]]
        assert parent["level"] == row["level"] - 1, gid
        assert parent.geometry.buffer(1e-9).contains(row.geometry), gid
    metric = grids.to_crs(demo.crs)
    whole = metric[metric["level"] == 1].geometry.iloc[0].area
    for level in (2, 3):
        cells = metric[metric["level"] == level].geometry
        assert cells.union_all().area == pytest.approx(whole, rel=1e-6)  # they cover the district
        assert cells.area.sum() == pytest.approx(whole, rel=1e-6)  # without overlaps
    top = grids[grids["level"] == 1].geometry.iloc[0]
    assert all(top.covers(Point(d["lon"], d["lat"])) for _, d in demo.graph.nodes(data=True))


def test_resources_content(demo: District) -> None:
    res = demo.resources
    assert len(res.stations) == 2
    assert 10 <= len(res.officers) <= 14
    assert {o.mode for o in res.officers} == {"foot", "bicycle", "car"}
    assert 4 <= len(res.teams) <= 5
    kinds = {t.kind for t in res.teams}
    expected = {
        "security guards",
        "grid workers",
        "parking attendants",
        "school guards",
        "hospital guards",
    }
    assert expected >= kinds
    for t in res.teams:
        assert t.home_grid in demo.grids.index
        assert 6 <= len(t.members) <= 10
        assert all(v.phone and v.id_number and v.availability for v in t.members)
    gates = [p for p in res.posts if p.purpose == "school gate"]
    assert gates
    for p in gates:
        assert {w.label() for w in p.windows} == {"07:20-08:00", "16:30-17:30"}
        assert set(p.weekdays) == {0, 1, 2, 3, 4}
    assert any(p.purpose == "hospital hall" for p in res.posts)
    monday = dt.date(2026, 11, 30)
    morning = TimeWindow.parse("07:00-11:00")
    assert any(o.available(monday, morning) for o in res.officers)
    assert sum(v.available(monday, morning) for v in res.volunteers) >= 4


def _incident_times(incidents: gpd.GeoDataFrame, timezone: str) -> pd.Series:
    """Local times of the incidents (the schema's ``occurred_at`` is tz-aware)."""
    times = pd.to_datetime(incidents["occurred_at"])
    return times.dt.tz_convert(timezone) if times.dt.tz is not None else times


def test_incident_categories_differ_by_time(demo: District) -> None:
    inc = demo.incidents
    assert inc is not None and len(inc) > 1000
    times = _incident_times(inc, demo.metadata["timezone"])
    assert (times.max() - times.min()).days >= 90  # several months
    hours = times.dt.hour
    night = (hours >= 22) | (hours < 5)
    day = (hours >= 9) & (hours < 18)
    cats = inc["category"].astype(str)
    assert cats.nunique() >= 3
    share_night = cats[night].value_counts(normalize=True)
    share_day = cats[day].value_counts(normalize=True)
    top_night = share_night.idxmax()
    top_day = share_day.idxmax()
    assert top_night != top_day
    assert share_night.get(top_night, 0) > 2 * share_day.get(top_night, 0)


def test_synthetic_resources_depend_on_seed(demo: District) -> None:
    a = synthetic_resources(demo.grids, demo.graph, seed=1)
    b = synthetic_resources(demo.grids, demo.graph, seed=1)
    c = synthetic_resources(demo.grids, demo.graph, seed=2)
    assert resources_to_json(a) == resources_to_json(b)
    assert resources_to_json(a) != resources_to_json(c)


def test_synthetic_resources_on_a_single_cell(demo: District) -> None:
    one = demo.grids[demo.grids["level"] == 1]
    res = synthetic_resources(one, demo.graph, seed=0)
    assert len(res.stations) == 2 and len(res.posts) == 3
    assert {t.home_grid for t in res.teams} == {"D"}
    assert {p.grid_id for p in res.posts} == {"D"}


def test_history_ends_just_before_the_days_planned(demo: District) -> None:
    from optimizer.synthetic.demo import INCIDENT_END, INCIDENT_START, incident_period

    assert incident_period(dt.date(2026, 10, 1)) == (INCIDENT_START, INCIDENT_END)
    assert incident_period(dt.date(2027, 3, 10)) == (INCIDENT_START, dt.date(2027, 3, 9))
    first, last = (dt.date.fromisoformat(d) for d in demo.metadata["incident_period"])
    assert (first, last) == incident_period()
    assert last == max(INCIDENT_END, DEMO_DAY - dt.timedelta(days=1))
