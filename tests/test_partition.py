"""Automatic grids: exact counts, exact nesting, balance, risk, boundary, determinism."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from shapely.geometry import box

from optimizer.errors import InputError
from optimizer.importer import read_osm_graph
from optimizer.streets.grids import validate_hierarchy
from optimizer.streets.partition import auto_grids


@pytest.fixture(scope="module")
def fengxian(shared_osm: Path) -> nx.MultiDiGraph:
    return read_osm_graph(shared_osm / "shanghai_fengxian.osm")


@pytest.fixture(scope="module")
def plain(fengxian: nx.MultiDiGraph) -> tuple[gpd.GeoDataFrame, object]:
    return auto_grids(fengxian, None, (2, 4, 12), seed=0)


def test_exact_counts_and_exact_nesting(plain: tuple[gpd.GeoDataFrame, object]) -> None:
    grids, _ = plain
    assert grids["level"].value_counts().sort_index().to_dict() == {1: 2, 2: 4, 3: 12}
    assert grids.loc[grids["level"] == 1, "parent"].isna().all()
    m = grids.to_crs(grids.estimate_utm_crs())
    for pid, parent in m[m["level"] < 3].iterrows():
        kids = m[m["parent"] == pid]
        assert len(kids) >= 2
        union = shapely.union_all(kids.geometry.to_numpy())
        assert union.symmetric_difference(parent.geometry).area < 1.0
        # Siblings do not overlap.
        assert abs(sum(kids.area) - union.area) < 1.0
    _, report = validate_hierarchy(grids)
    assert report.ok and not report.of_kind("overlap") and not report.of_kind("gap")


def test_balanced_and_reported(plain: tuple[gpd.GeoDataFrame, object]) -> None:
    grids, report = plain
    frame = report.to_frame()  # type: ignore[attr-defined]
    assert list(frame.index) == [1, 2, 3]
    assert frame.loc[3, "cells"] == 12
    leaf = grids[grids["level"] == 3]["street_length_m"]
    assert leaf.max() / leaf.min() == pytest.approx(frame.loc[3, "length_balance"], rel=1e-3)
    # 12 leaves nest 3 per level-2 cell and 6 per level-1 cell: every level can balance.
    assert (frame["length_balance"] < 1.25).all(), frame
    assert (frame["polsby_popper_min"] > 0.1).all()
    assert "Polsby-Popper" in report.summary()  # type: ignore[attr-defined]
    # The cells hold all the streets: their lengths add up to the district's.
    total = report.street_length_m  # type: ignore[attr-defined]
    assert grids[grids["level"] == 3]["street_length_m"].sum() == pytest.approx(total, rel=0.01)


def test_same_seed_same_grids(
    fengxian: nx.MultiDiGraph, plain: tuple[gpd.GeoDataFrame, object]
) -> None:
    again, _ = auto_grids(fengxian, None, (2, 4, 12), seed=0)
    first = plain[0]
    assert list(again.index) == list(first.index)
    assert all(a.equals_exact(b, 1e-9) for a, b in zip(again.geometry, first.geometry, strict=True))


def test_incidents_pull_cells_towards_risk(fengxian: nx.MultiDiGraph) -> None:
    lon = np.array([d["lon"] for _, d in fengxian.nodes(data=True)])
    lat = np.array([d["lat"] for _, d in fengxian.nodes(data=True)])
    # 300 incidents on the north-east streets only.
    rng = np.random.default_rng(1)
    ne = (lon > np.quantile(lon, 0.6)) & (lat > np.quantile(lat, 0.6))
    pick = rng.choice(np.flatnonzero(ne), 300)
    incidents = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon[pick], lat[pick]), crs=4326)
    _, by_length = auto_grids(fengxian, None, (1, 2, 6), incidents, risk_weight=0.0)
    _, by_risk = auto_grids(fengxian, None, (1, 2, 6), incidents, risk_weight=0.8)
    assert by_risk.levels[2].risk_balance is not None
    assert by_risk.levels[2].risk_balance < by_length.levels[2].risk_balance
    # Trading some street-length balance for it.
    assert by_risk.levels[2].length_balance > by_length.levels[2].length_balance


def test_boundary_clips_cells_and_streets(fengxian: nx.MultiDiGraph) -> None:
    lon = np.array([d["lon"] for _, d in fengxian.nodes(data=True)])
    lat = np.array([d["lat"] for _, d in fengxian.nodes(data=True)])
    half = box(lon.min() - 0.01, lat.min() - 0.01, float(np.median(lon)), lat.max() + 0.01)
    grids, report = auto_grids(fengxian, half, (1, 3))
    assert report.street_length_outside_m > 0
    assert grids["level"].value_counts().to_dict() == {1: 1, 2: 3}
    # Inside the boundary, up to the reprojection of its straight edges (< 1 m²).
    union = shapely.union_all(grids.to_crs(grids.estimate_utm_crs()).geometry.to_numpy())
    outside = union.difference(gpd.GeoSeries([half], crs=4326).to_crs(grids.estimate_utm_crs())[0])
    assert outside.area < 1.0


@pytest.mark.parametrize("levels", [(3, 2), (0, 4), ()])
def test_bad_levels_are_rejected(fengxian: nx.MultiDiGraph, levels: tuple[int, ...]) -> None:
    with pytest.raises(InputError) as err:
        auto_grids(fengxian, None, levels)
    assert err.value.field == "levels"
