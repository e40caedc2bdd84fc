"""Synthetic incident history: determinism, schema, place/time patterns and near repeats."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from optimizer.district import District
from optimizer.errors import InputError
from optimizer.risk.incidents import INCIDENT_COLUMNS, street_segments
from optimizer.synthetic.incidents import synthetic_incidents

START, END = dt.date(2024, 1, 1), dt.date(2024, 4, 30)


@pytest.fixture(scope="module")
def graph_and_history(demo: District) -> tuple[object, gpd.GeoDataFrame]:
    G = demo.graph
    return G, synthetic_incidents(G, None, start=START, end=END, seed=11)


def test_same_seed_same_history_other_seed_differs(
    graph_and_history: tuple[object, gpd.GeoDataFrame],
) -> None:
    G, inc = graph_and_history
    again = synthetic_incidents(G, None, start=START, end=END, seed=11)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(
        pd.DataFrame(inc.drop(columns="geometry")), pd.DataFrame(again.drop(columns="geometry"))
    )
    other = synthetic_incidents(G, None, start=START, end=END, seed=12)  # type: ignore[arg-type]
    assert len(other) != len(inc) or not np.array_equal(other["u"], inc["u"])


def test_schema_and_period(graph_and_history: tuple[object, gpd.GeoDataFrame]) -> None:
    _, inc = graph_and_history
    assert set(INCIDENT_COLUMNS) | {"u", "v", "key", "snap_m", "grid_id"} <= set(inc.columns)
    when = inc["occurred_at"]
    assert str(when.dt.tz) == "Europe/Helsinki"
    assert when.is_monotonic_increasing
    assert when.min().date() >= START and when.max().date() <= END
    assert inc["incident_id"].is_unique and len(inc) > 1000
    assert inc.crs.to_epsg() == 4326 and (inc["snap_m"] < 10).all()


def test_categories_differ_in_time(graph_and_history: tuple[object, gpd.GeoDataFrame]) -> None:
    _, inc = graph_and_history
    hour = inc["occurred_at"].dt.hour
    night = (hour >= 22) | (hour < 5)
    day = (hour >= 10) & (hour < 18)
    evening = (hour >= 19) | (hour < 2)
    cat = inc["category"]
    assert (night[cat == "vehicle_break_in"]).mean() > 0.8
    assert (day[cat == "pickpocketing"]).mean() > 0.7
    assert (evening[cat == "dispute"]).mean() > 0.8
    # weekends: more disputes per day than on weekdays, burglary the other way
    weekend = inc["occurred_at"].dt.day_of_week >= 5
    disp = cat == "dispute"
    assert (disp & weekend).sum() / 2 > 1.2 * (disp & ~weekend).sum() / 5
    burg = cat == "burglary"
    assert (burg & weekend).sum() / 2 < 0.7 * (burg & ~weekend).sum() / 5


def test_categories_differ_in_place(graph_and_history: tuple[object, gpd.GeoDataFrame]) -> None:
    G, inc = graph_and_history
    segs = street_segments(G)  # type: ignore[arg-type]
    hw = dict(
        zip(zip(segs["u"], segs["v"], segs["key"], strict=True), segs["highway"], strict=True)
    )
    kinds = np.array(
        [hw.get((u, v, k), "") for u, v, k in zip(inc["u"], inc["v"], inc["key"], strict=True)]
    )
    residential = np.isin(kinds, ["residential", "living_street", "service", "unclassified"])
    cat = inc["category"].to_numpy()
    assert residential[cat == "vehicle_break_in"].mean() > 0.5
    assert residential[cat == "pickpocketing"].mean() < 0.3
    # pickpocketing and disputes gather around a few places: the busiest 5 % of streets
    # by incident count hold a large share
    for c in ("pickpocketing", "dispute"):
        counts = pd.Series(list(zip(inc["u"][cat == c], inc["v"][cat == c], strict=True)))
        top = counts.value_counts()
        assert top.iloc[: max(1, len(segs) // 20)].sum() / len(counts) > 0.3


def test_near_repeats_follow_within_days_and_metres(
    graph_and_history: tuple[object, gpd.GeoDataFrame],
) -> None:
    _, inc = graph_and_history
    kids = inc[inc["trigger"] != ""]
    assert 0.15 < len(kids) / len(inc) < 0.45
    parents = inc.set_index("incident_id").loc[kids["trigger"]]
    gap = (kids["occurred_at"].to_numpy() - parents["occurred_at"].to_numpy()) / np.timedelta64(
        1, "D"
    )
    assert (gap > 0).all() and (gap <= 15).all()
    xy = gpd.GeoSeries(kids.geometry.to_numpy(), crs=4326).to_crs(3067)
    pxy = gpd.GeoSeries(parents.geometry.to_numpy(), crs=4326).to_crs(3067)
    dist = xy.distance(pxy.set_axis(xy.index))
    assert np.median(dist) < 200 and dist.max() < 600  # midpoints within 200 m, long streets


def test_bad_arguments(graph_and_history: tuple[object, gpd.GeoDataFrame]) -> None:
    G = graph_and_history[0]
    with pytest.raises(InputError, match="end"):
        synthetic_incidents(G, None, start=END, end=START, seed=1)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="branching"):
        synthetic_incidents(
            G,
            None,
            start=START,
            end=END,
            seed=1,
            branching=1.5,  # type: ignore[arg-type]
        )


def test_demo_district_uses_it(demo: District) -> None:
    assert demo.incidents is not None
    assert "trigger" in demo.incidents.columns
    assert demo.incidents["grid_id"].isin(demo.leaf_grid_ids()).mean() > 0.95


@pytest.fixture(scope="module")
def demo() -> District:
    from optimizer.synthetic.demo import load_demo

    return load_demo()
