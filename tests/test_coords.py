"""WGS-84 / GCJ-02 / BD-09 conversion against published reference points and a real boundary."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon

from optimizer import coords
from optimizer.errors import InputError

# Published test vectors of the eviltransform project: (wgs lat, wgs lon, gcj lat, gcj lon).
EVILTRANSFORM = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]


def _metres(dlon: np.ndarray, dlat: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return np.hypot(dlon * 111320.0 * np.cos(np.radians(lat)), dlat * 110574.0)


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), EVILTRANSFORM)
def test_wgs84_to_gcj02_matches_published_points(
    wlat: float, wlon: float, glat: float, glon: float
) -> None:
    lon, lat = coords.wgs84_to_gcj02(wlon, wlat)
    assert float(lon) == pytest.approx(glon, abs=1e-9)
    assert float(lat) == pytest.approx(glat, abs=1e-9)
    back_lon, back_lat = coords.gcj02_to_wgs84(glon, glat)
    assert float(back_lon) == pytest.approx(wlon, abs=1e-8)
    assert float(back_lat) == pytest.approx(wlat, abs=1e-8)


def test_gcj02_to_bd09_matches_published_point() -> None:
    # The example of the coordTransform projects: Tiananmen area, GCJ-02 -> BD-09.
    lon, lat = coords.gcj02_to_bd09(116.404, 39.915)
    assert float(lon) == pytest.approx(116.41036949371029, abs=1e-9)
    assert float(lat) == pytest.approx(39.92133699351021, abs=1e-9)


def test_round_trips_within_half_a_metre_across_china() -> None:
    rng = np.random.default_rng(0)
    lon = rng.uniform(73.7, 134.7, 20000)
    lat = rng.uniform(18.2, 53.5, 20000)
    for system in ("gcj02", "bd09"):
        x, y = coords.convert(lon, lat, "wgs84", system)
        assert _metres(x - lon, y - lat, lat).min() > 1.0  # they really move inside China
        bx, by = coords.convert(x, y, system, "wgs84")
        assert _metres(bx - lon, by - lat, lat).max() < 0.5
    gx, gy = coords.convert(lon, lat, "bd09", "gcj02")
    bx, by = coords.convert(gx, gy, "gcj02", "bd09")
    assert _metres(bx - lon, by - lat, lat).max() < 0.5


def test_outside_china_gcj02_is_wgs84() -> None:
    lon = np.array([-122.42, 2.35, 151.2])
    lat = np.array([37.77, 48.85, -33.87])
    x, y = coords.wgs84_to_gcj02(lon, lat)
    np.testing.assert_array_equal(x, lon)
    np.testing.assert_array_equal(y, lat)
    x, y = coords.gcj02_to_wgs84(lon, lat)
    np.testing.assert_array_equal(x, lon)


@pytest.mark.parametrize("name", ["WGS-84", "gcj_02", "BD09", "EPSG:4326"])
def test_coord_system_accepts_spellings(name: str) -> None:
    assert coords.coord_system(name) in coords.COORD_SYSTEMS


@pytest.mark.parametrize("name", ["utm", "", None, 4326, "cgcs2000"])
def test_coord_system_rejects_others(name: object) -> None:
    with pytest.raises(InputError) as err:
        coords.coord_system(name, "boundary_crs")
    assert err.value.field == "boundary_crs"
    assert "gcj02" in err.value.accepted


def test_to_wgs84_on_shapely_geometry() -> None:
    square = Polygon([(114.2, 22.68), (114.21, 22.68), (114.21, 22.69), (114.2, 22.69)])
    out = coords.to_wgs84(square, "gcj02")
    assert isinstance(out, Polygon)
    x, y = coords.gcj02_to_wgs84(114.2, 22.68)
    assert out.exterior.coords[0] == pytest.approx((float(x), float(y)))
    assert coords.to_wgs84(Point(1, 2), "wgs84").equals(Point(1, 2))


def test_yulin_boundary_moves_about_490_m_west_56_m_south(shared: Path) -> None:
    path = shared / "data" / "boundaries" / "yulin_610800_gcj02.geojson"
    gcj = gpd.read_file(path)
    wgs = coords.to_wgs84(gcj, "gcj02")
    assert wgs.crs.to_epsg() == 4326
    assert len(wgs) == len(gcj)
    a = gcj.get_coordinates().to_numpy()
    b = wgs.get_coordinates().to_numpy()
    east = (b[:, 0] - a[:, 0]) * 111320.0 * np.cos(np.radians(a[:, 1]))
    north = (b[:, 1] - a[:, 1]) * 110574.0
    # Every vertex moves west by 400-600 m and south by up to ~140 m (the offset varies) ...
    assert np.all((east < -380) & (east > -620))
    assert np.all((north < 5) & (north > -150))
    assert np.median(north) < -20
    # ... and at Yulin city (109.73 E, 38.28 N) by about 490 m west and 56 m south.
    x, y = coords.gcj02_to_wgs84(109.73, 38.28)
    assert (float(x) - 109.73) * 111320.0 * np.cos(np.radians(38.28)) == pytest.approx(-490, abs=10)
    assert (float(y) - 38.28) * 110574.0 == pytest.approx(-56, abs=5)
    # The input frame is unchanged.
    np.testing.assert_array_equal(gcj.get_coordinates().to_numpy(), a)


@settings(max_examples=200, deadline=None)
@given(
    lon=st.floats(73.7, 134.7),
    lat=st.floats(18.2, 53.5),
    src=st.sampled_from(["wgs84", "gcj02", "bd09"]),
    dst=st.sampled_from(["gcj02", "bd09"]),
)
def test_any_round_trip_stays_within_half_a_metre(
    lon: float, lat: float, src: str, dst: str
) -> None:
    x, y = coords.convert(lon, lat, src, dst)
    bx, by = coords.convert(x, y, dst, src)
    assert float(_metres(np.asarray(bx - lon), np.asarray(by - lat), np.asarray(lat))) < 0.5
