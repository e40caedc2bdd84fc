"""Risk terrain, segment features and the forecaster on hand-made streets with known answers."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from optimizer.errors import InputError
from optimizer.risk.features import SegmentFeatures, signal_scores
from optimizer.risk.forecaster import (
    LEARNED,
    NETWORK_KDE,
    ForecastParams,
    fit_forecast,
)
from optimizer.risk.incidents import street_segments
from optimizer.risk.model import RiskModel, RiskParams
from optimizer.risk.terrain import (
    TERRAIN_KINDS,
    TerrainParams,
    read_terrain,
    road_class,
    segment_terrain,
)
from optimizer.timewindow import TimeWindow
from tests.risk_data import CRS, X0, Y0, lattice, synthetic_history

SMALL = ForecastParams(min_data_in_leaf=20, validation_weeks=2)


def seg_of(G: object, u: int, v: int) -> int:
    segs = street_segments(G)  # type: ignore[arg-type]
    hit = segs.index[(segs["u"] == min(u, v)) & (segs["v"] == max(u, v))]
    return int(hit[0])


def lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(x, y)
    return float(lon), float(lat)


# ---------------------------------------------------------------------------------------------
# terrain

OSM = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="test">
 <node id="1" lat="{la1}" lon="{lo1}"><tag k="amenity" v="bar"/></node>
 <node id="2" lat="{la2}" lon="{lo2}"/>
 <node id="3" lat="{la3}" lon="{lo3}"/>
 <node id="4" lat="{la2}" lon="{lo3}"/>
 <node id="5" lat="{la1}" lon="{lo2}"><tag k="highway" v="bus_stop"/>
   <tag k="amenity" v="atm"/></node>
 <way id="10"><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="2"/>
   <tag k="amenity" v="school"/></way>
</osm>
"""


def test_read_terrain_finds_nodes_and_way_centroids(tmp_path: Path) -> None:
    lo1, la1 = lonlat(X0 + 100, Y0 + 10)
    lo2, la2 = lonlat(X0 + 300, Y0 + 300)
    lo3, la3 = lonlat(X0 + 400, Y0 + 400)
    path = tmp_path / "t.osm"
    path.write_text(
        OSM.format(lo1=lo1, la1=la1, lo2=lo2, la2=la2, lo3=lo3, la3=la3), encoding="utf-8"
    )
    places = read_terrain(path)
    assert sorted(places["kind"]) == ["atm", "bar", "school", "transit"]
    school = places[places["kind"] == "school"].iloc[0]
    # the way's three distinct nodes and the closing repeat of node 2, averaged
    assert school["lon"] == pytest.approx((2 * lo2 + lo3 + lo3) / 4)
    assert school["osm_id"] == "w10"
    assert set(places[places["osm_id"] == "n5"]["kind"]) == {"atm", "transit"}
    with pytest.raises(InputError, match="osm"):
        read_terrain(tmp_path / "missing.osm")


def test_segment_terrain_distances_counts_and_structure() -> None:
    G = lattice(4)
    s = seg_of(G, 0, 1)  # midpoint (X0 + 50, Y0)
    lo, la = lonlat(X0 + 50, Y0 + 30)
    bars = pd.DataFrame({"kind": ["bar"] * 5, "lon": [lo] * 5, "lat": [la] * 5})
    feats = segment_terrain(G, bars, TerrainParams(radius_m=40.0, min_places=5))
    assert feats.loc[s, "dist_bar"] == pytest.approx(30.0, abs=0.01)
    assert feats.loc[s, "near_bar"] == 5
    far = seg_of(G, 14, 15)
    assert feats.loc[far, "near_bar"] == 0 and feats.loc[far, "dist_bar"] > 200
    # four places are below min_places: the kind counts as absent (capped distance, no count)
    few = segment_terrain(G, bars.iloc[:4], TerrainParams(min_places=5, max_distance_m=900.0))
    assert few.loc[s, "dist_bar"] == 900.0 and few.loc[s, "near_bar"] == 0
    assert {f"dist_{k}" for k in TERRAIN_KINDS} <= set(feats.columns)
    # corner node 0 has 2 streets, an inner node 4
    assert feats.loc[s, "degree_min"] == 2 and feats.loc[seg_of(G, 5, 6), "degree_max"] == 4
    assert feats.loc[s, "road_class"] == road_class("primary") == 2
    assert road_class("primary_link") == 2 and road_class("nonsense") == 11
    plain = segment_terrain(G, None)
    assert list(plain.columns) == ["road_class", "degree_max", "degree_min", "dead_end"]
    with pytest.raises(InputError, match=r"terrain\.radius_m"):
        TerrainParams(radius_m=1.0)


# ---------------------------------------------------------------------------------------------
# features


def test_features_count_windows_and_never_read_the_future() -> None:
    G = lattice(4)
    s = seg_of(G, 5, 6)
    u, v = 5, 6
    rows = [
        ("A", "2024-01-01 10:00", 0.5),  # 35 days before the origin
        ("B", "2024-01-30 10:00", 0.02),  # 6 days before, at node 5 (2 m from it)
        ("C", "2024-02-01 10:00", 0.5),  # 4 days before
        ("D", "2024-02-06 10:00", 0.5),  # after the origin: never counted
    ]
    frame = pd.DataFrame(
        {
            "incident_id": [r[0] for r in rows],
            "category": ["theft", "theft", "dispute", "theft"],
            "occurred_at": pd.to_datetime([r[1] for r in rows]).tz_localize("UTC"),
            "date_only": False,
            "u": u,
            "v": v,
            "key": 0,
            "position": [r[2] for r in rows],
        }
    )
    model = RiskModel(G, RiskParams())
    model.add(frame)
    feats = SegmentFeatures(model)
    hist = feats.history()
    at = pd.Timestamp("2024-02-05", tz="UTC").value
    span = (at - pd.Timestamp("2024-01-01 10:00", tz="UTC").value) / 86_400e9
    kde = np.zeros(len(feats.length))
    X = feats.frame(hist, at, ["theft", "dispute"], kde)
    assert X.loc[s, "own_7d"] == pytest.approx(2.0)  # 2 incidents in 7 days, per week
    assert X.loc[s, "own_all"] == pytest.approx(3 * 7 / span)
    assert X.loc[s, "cat_theft"] == pytest.approx(2 * 7 / span)
    assert X.loc[s, "cat_dispute"] == pytest.approx(1 * 7 / span)
    # smoothing conserves each incident's mass
    L = feats.length
    assert (X["local_all"] * L).sum() == pytest.approx(X["own_all"].sum())
    assert (X["wide_all"] * L).sum() == pytest.approx(X["own_all"].sum())
    # incident B lies at node 5: every segment meeting there gets it
    assert X.loc[seg_of(G, 1, 5), "intersection"] == pytest.approx(7 / span)
    assert X.loc[seg_of(G, 14, 15), "intersection"] == 0
    assert X.loc[s, "days_since"] == pytest.approx(
        (at - pd.Timestamp("2024-02-01 10:00", tz="UTC").value) / 86_400e9
    )
    before = feats.frame(hist, pd.Timestamp("2024-01-02", tz="UTC").value, ["theft"], kde)
    assert before.loc[s, "own_all"] > 0 and before.loc[s, "own_7d"] == pytest.approx(7.0)
    scores = signal_scores(X)
    assert scores["own_7d"][s] == pytest.approx(2.0 / L[s])
    assert feats.signal("all_earlier", hist, at)[s] == pytest.approx(3 / L[s])
    assert feats.signal("prev_4_weeks", hist, at)[s] == pytest.approx(2 / L[s])
    planar = feats.signal("planar_kde", hist, at)
    assert planar[s] == pytest.approx(3.0) and planar[seg_of(G, 14, 15)] < planar[s]


# ---------------------------------------------------------------------------------------------
# forecaster


@pytest.fixture(scope="module")
def history() -> tuple[object, pd.DataFrame]:
    G = lattice(6)
    return G, synthetic_history(G, weeks=14, seed=3)


def test_forecaster_is_deterministic_and_ranks_hot_streets_first(
    history: tuple[object, pd.DataFrame],
) -> None:
    G, inc = history
    a = fit_forecast(G, inc, SMALL)  # type: ignore[arg-type]
    b = fit_forecast(G, inc, SMALL)  # type: ignore[arg-type]
    at = a.fitted_at_ns
    assert at is not None
    assert a.method == b.method
    assert np.array_equal(a.scores(at), b.scores(at))
    assert a.booster is not None
    assert np.array_equal(a.scores(at, LEARNED), b.scores(at, LEARNED))
    counts = np.bincount(
        a.features.history().seg, minlength=len(a.length)
    )  # the hot segments of the history
    hot = np.argsort(-counts)[:6]
    top = np.argsort(-a.scores(at, LEARNED))[:10]
    assert len(set(hot) & set(top)) >= 5
    imp = a.importance()
    assert imp["share"].sum() == pytest.approx(1.0)
    assert list(imp.columns) == ["feature", "gain", "share", "splits"]
    assert set(a.validation["method"]) >= {LEARNED, NETWORK_KDE, "all_earlier"}
    assert a.validation["period"].nunique() == SMALL.validation_weeks


def test_forecast_at_an_origin_ignores_later_incidents(
    history: tuple[object, pd.DataFrame],
) -> None:
    G, inc = history
    origin = pd.Timestamp("2024-03-18", tz="UTC")
    cut = inc[pd.DatetimeIndex(inc["occurred_at"]) < origin]
    full = fit_forecast(G, inc, SMALL, at=origin)  # type: ignore[arg-type]
    part = fit_forecast(G, cut, SMALL, at=origin)  # type: ignore[arg-type]
    assert full.method == part.method
    for method in (LEARNED, NETWORK_KDE, "all_earlier", "planar_kde"):
        assert np.allclose(full.scores(origin, method), part.scores(origin, method))
    pd.testing.assert_frame_equal(full.validation, part.validation)


def test_risk_splits_forecast_into_categories_and_windows(
    history: tuple[object, pd.DataFrame],
) -> None:
    G, inc = history
    fc = fit_forecast(G, inc, SMALL)  # type: ignore[arg-type]
    at = pd.Timestamp(fc.fitted_at_ns, tz="UTC")
    whole = fc.risk(at, severity=False)
    # a whole average day, unweighted, is the expected incidents per metre of a day
    assert np.allclose(whole * fc.length, fc.expected(at))
    by_cat = fc.risk(at, window=TimeWindow.parse("19:00-23:00"), by_category=True)
    assert by_cat.shape == (len(fc.model.categories), len(fc.length))
    assert np.allclose(by_cat.sum(axis=0), fc.risk(at, window=TimeWindow.parse("19:00-23:00")))


def test_short_history_falls_back_to_the_kde_and_says_so() -> None:
    G = lattice(4)
    inc = synthetic_history(G, weeks=3, seed=1, hot=2)
    fc = fit_forecast(G, inc, SMALL)
    assert fc.method != LEARNED and fc.booster is None
    assert any("too short" in n for n in fc.notes)
    with pytest.raises(InputError, match="method"):
        fc.scores(pd.Timestamp("2024-02-01", tz="UTC"), LEARNED)
    with pytest.raises(InputError, match="method"):
        fc.scores(pd.Timestamp("2024-02-01", tz="UTC"), "crystal_ball")


def test_unknown_and_late_categories_get_a_message_not_a_crash(
    history: tuple[object, pd.DataFrame],
) -> None:
    G, inc = history
    odd = inc.copy()
    odd.loc[odd.index[:5], "category"] = "space_piracy"
    with pytest.warns(UserWarning, match="space_piracy"):
        fc = fit_forecast(G, odd, SMALL)  # type: ignore[arg-type]
    assert any("space_piracy" in n and "vocabulary" in n for n in fc.notes)
    late = inc.iloc[-3:].copy()
    late["incident_id"] = ["L1", "L2", "L3"]
    late["category"] = "robbery"
    with pytest.warns(UserWarning, match="robbery"):
        assert fc.add(late) == 3
    assert any("robbery" in n and "refit" in n for n in fc.notes)
    at = pd.Timestamp(fc.fitted_at_ns, tz="UTC")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = fc.risk(at, by_category=True)
    assert "robbery" in fc.model.categories and np.isfinite(values).all()


def test_empty_history_forecasts_nothing() -> None:
    fc = fit_forecast(lattice(3), None)
    assert fc.n_incidents == 0 and any("no incident" in n for n in fc.notes)


def test_params_validate() -> None:
    with pytest.raises(InputError, match=r"forecast\.rounds"):
        ForecastParams(rounds=0)
    with pytest.raises(InputError, match=r"forecast\.select_coverages"):
        ForecastParams(select_coverages=(0.05, 2.0))
    with pytest.raises(InputError, match=r"forecast\.kde"):
        ForecastParams(kde="wide")  # type: ignore[arg-type]


def test_district_keeps_terrain_and_hotspots_use_the_cached_forecaster(
    history: tuple[object, pd.DataFrame], tmp_path: Path
) -> None:
    import datetime as dt

    import geopandas as gpd
    from shapely.geometry import box

    from optimizer.district import District
    from optimizer.risk.hotspots import district_forecast, hotspots_for_window
    from optimizer.staff.roster import Resources
    from optimizer.storage import load_district, save_district

    G, inc = history
    segs = street_segments(G)  # type: ignore[arg-type]
    whole = box(
        segs["lon"].min() - 0.01,
        segs["lat"].min() - 0.01,
        segs["lon"].max() + 0.01,
        segs["lat"].max() + 0.01,
    )
    grids = gpd.GeoDataFrame(
        {
            "id": ["A", "A-1"],
            "level": [1, 2],
            "parent": [None, "A"],
            "name": ["d", "g"],
            "geometry": [whole, whole],
        },
        crs="EPSG:4326",
    ).set_index("id")
    lo, la = lonlat(X0 + 50, Y0)
    places = pd.DataFrame(
        {
            "kind": ["bar"] * 5,
            "lon": [lo] * 5,
            "lat": [la] * 5,
            "osm_id": [f"n{i}" for i in range(5)],
        }
    )
    district = District("lat", grids, G, Resources(), None, {}, terrain=places)  # type: ignore[arg-type]
    save_district(district, tmp_path / "lat")
    loaded = load_district(tmp_path / "lat")
    assert loaded.terrain is not None
    pd.testing.assert_frame_equal(loaded.terrain, places)
    # an older folder without the terrain file still loads, without terrain
    (tmp_path / "lat" / "terrain.parquet").unlink()
    assert load_district(tmp_path / "lat").terrain is None
    day = (pd.DatetimeIndex(inc["occurred_at"]).max() + pd.Timedelta(days=1)).date()
    window = TimeWindow.parse("19:00-23:00")
    first = hotspots_for_window(district, day=day, window=window, incidents=inc)
    assert first and all(isinstance(h.value, float) and h.value > 0 for h in first)
    fitted = district_forecast(district, inc)
    assert "dist_bar" in fitted.feature_frame(pd.Timestamp(day, tz="UTC")).columns
    assert len(district.risk_cache.forecasts) == 1
    again = hotspots_for_window(
        district, day=day + dt.timedelta(days=1), window=window, incidents=inc
    )
    assert len(district.risk_cache.forecasts) == 1  # the fitted forecaster is reused
    assert {h.id for h in again} == {h.id for h in first}


@pytest.mark.shared
def test_import_reads_the_terrain_layer_and_stores_it(shared_osm: Path, tmp_path: Path) -> None:
    from optimizer.importer import import_district
    from optimizer.storage import load_district

    osm = shared_osm / "beijing_haidian_thu.osm"
    result = import_district("thu", osm, auto="1,2", data_dir=tmp_path, check_grid_graphs=False)
    places = result.district.terrain
    assert places is not None and {"shop", "transit", "school"} <= set(places["kind"])
    assert (result.path / "terrain.parquet").is_file()
    loaded = load_district("thu", data_dir=tmp_path)
    assert loaded.terrain is not None and len(loaded.terrain) == len(places)
    feats = segment_terrain(loaded.graph, loaded.terrain)
    assert (feats["near_shop"] > 0).any() and (feats["dist_transit"] < 2000).any()


def test_kernel_is_built_once_per_district_and_checked_when_given() -> None:
    from optimizer.risk.cache import RiskCache
    from optimizer.risk.model import network_kernel

    G = lattice(4)
    cache = RiskCache()
    first = cache.kernel(G, 100.0)
    assert cache.kernel(G, 100.0) is first and len(cache.kernels) == 1
    model = RiskModel(G, RiskParams(), prebuilt=first)
    assert model.kernel is first
    with pytest.raises(InputError, match="kernel"):
        RiskModel(G, RiskParams(bandwidth_m=60.0, wide_bandwidth_m=250.0), prebuilt=first)
    with pytest.raises(InputError, match="kernel"):
        RiskModel(lattice(3), RiskParams(), prebuilt=network_kernel(G, 100.0))
