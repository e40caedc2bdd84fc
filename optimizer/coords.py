"""Chinese map coordinate systems: WGS-84 <-> GCJ-02 <-> BD-09, vectorised.

GCJ-02 ("Mars coordinates") is the obfuscated datum that Amap (Gaode), Tencent and Google China
publish; BD-09 is Baidu's further offset of GCJ-02. Inside China a GCJ-02 point lies a few
hundred metres from the WGS-84 point that OpenStreetMap uses; outside China GCJ-02 equals WGS-84.

The forward formulas are the widely published ones (e.g. the ``eviltransform`` / ``coordtransform``
projects, in the public domain). The inverses have no closed form: they are solved by fixed-point
iteration until the forward transform of the estimate matches the input to better than 1e-9
degrees (about 0.1 mm), so a round trip is exact to far below the 0.5 m the service needs.

Everything the service stores is WGS-84: convert inputs on the way in with :func:`to_wgs84`.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar, cast, get_args

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

from optimizer.errors import InputError

CoordSystem = Literal["wgs84", "gcj02", "bd09"]
"""The coordinate systems an input may declare."""

COORD_SYSTEMS: tuple[str, ...] = get_args(CoordSystem)

# Krasovsky 1940 ellipsoid, as in the published GCJ-02 algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323
# Baidu's constant: pi * 3000 / 180.
_X_PI = np.pi * 3000.0 / 180.0
_TOL_DEG = 1e-9
_MAX_ITER = 30

Geo = TypeVar("Geo", BaseGeometry, gpd.GeoDataFrame, gpd.GeoSeries)
FloatArray = NDArray[np.float64]


def coord_system(name: Any, field: str = "crs") -> CoordSystem:
    """Validate and normalise a coordinate-system name.

    Parameters
    ----------
    name
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"`` (case and ``-``/``_`` are ignored, so
        ``"WGS-84"`` and ``"GCJ_02"`` are accepted; ``"EPSG:4326"`` means WGS-84).
    field
        Name of the input field, used in the error message.

    Returns
    -------
    CoordSystem
        The normalised name.

    Raises
    ------
    InputError
        For any other value.
    """
    if isinstance(name, str):
        key = name.strip().lower().replace("-", "").replace("_", "")
        if key in {"epsg:4326", "4326"}:
            key = "wgs84"
        if key in COORD_SYSTEMS:
            return cast(CoordSystem, key)
    raise InputError(field, name, f"one of {list(COORD_SYSTEMS)}")


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Return whether points lie outside the rough China box where GCJ-02 applies.

    The published algorithm uses the box 72.004-137.8347 E, 0.8293-55.8271 N.
    """
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    return cast(
        NDArray[np.bool_],
        (lon_a < 72.004) | (lon_a > 137.8347) | (lat_a < 0.8293) | (lat_a > 55.8271),
    )


def _transform_lat(x: FloatArray, y: FloatArray) -> FloatArray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: FloatArray, y: FloatArray) -> FloatArray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    lon_a, lat_a = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return lon_a.astype(float, copy=True), lat_a.astype(float, copy=True)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS-84 to GCJ-02 (identity outside China).

    Parameters
    ----------
    lon, lat
        Degrees; scalars or arrays of the same shape.

    Returns
    -------
    tuple of numpy.ndarray
        GCJ-02 longitude and latitude.
    """
    lon_a, lat_a = _arrays(lon, lat)
    dlat = _transform_lat(lon_a - 105.0, lat_a - 35.0)
    dlon = _transform_lon(lon_a - 105.0, lat_a - 35.0)
    radlat = lat_a / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = out_of_china(lon_a, lat_a)
    return np.where(outside, lon_a, lon_a + dlon), np.where(outside, lat_a, lat_a + dlat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 to BD-09 (Baidu's published closed form)."""
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd09_to_gcj02_approx(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    x = lon - 0.0065
    y = lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _invert(
    forward: Any, lon: FloatArray, lat: FloatArray, start: tuple[FloatArray, FloatArray]
) -> tuple[FloatArray, FloatArray]:
    """Solve ``forward(x) == (lon, lat)`` by fixed-point iteration from ``start``."""
    x, y = start
    for _ in range(_MAX_ITER):
        fx, fy = forward(x, y)
        ex, ey = fx - lon, fy - lat
        x = x - ex
        y = y - ey
        if np.all(np.abs(ex) < _TOL_DEG) and np.all(np.abs(ey) < _TOL_DEG):
            break
    return x, y


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 to WGS-84 exactly (iterative inverse; identity outside China)."""
    lon_a, lat_a = _arrays(lon, lat)
    return _invert(wgs84_to_gcj02, lon_a, lat_a, (lon_a.copy(), lat_a.copy()))


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 to GCJ-02 exactly (iterative inverse of :func:`gcj02_to_bd09`)."""
    lon_a, lat_a = _arrays(lon, lat)
    return _invert(gcj02_to_bd09, lon_a, lat_a, _bd09_to_gcj02_approx(lon_a, lat_a))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS-84 to BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 to WGS-84 exactly."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_CONVERTERS: dict[tuple[str, str], Any] = {
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("bd09", "wgs84"): bd09_to_wgs84,
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
}


def convert(
    lon: ArrayLike, lat: ArrayLike, src: str, dst: str = "wgs84"
) -> tuple[FloatArray, FloatArray]:
    """Convert longitudes and latitudes between any two of the coordinate systems.

    Parameters
    ----------
    lon, lat
        Degrees in ``src``.
    src, dst
        Coordinate-system names (see :func:`coord_system`).

    Returns
    -------
    tuple of numpy.ndarray
        Longitude and latitude in ``dst``.
    """
    s = coord_system(src, "src")
    d = coord_system(dst, "dst")
    if s == d:
        return _arrays(lon, lat)
    return cast(tuple[FloatArray, FloatArray], _CONVERTERS[(s, d)](lon, lat))


def convert_geometry(geom: BaseGeometry, src: str, dst: str = "wgs84") -> BaseGeometry:
    """Convert every vertex of a shapely geometry between coordinate systems."""
    s = coord_system(src, "src")
    d = coord_system(dst, "dst")
    if s == d:
        return geom

    def fn(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = convert(xy[:, 0], xy[:, 1], s, d)
        return np.column_stack([x, y])

    return cast(BaseGeometry, shapely.transform(geom, fn))


def to_wgs84(data: Geo, crs_name: str) -> Geo:
    """Convert a shapely geometry, GeoSeries or GeoDataFrame declared in ``crs_name`` to WGS-84.

    Parameters
    ----------
    data
        Geometry or geo-frame with longitude/latitude coordinates. A frame whose ``crs`` is set
        and is not geographic is first reprojected to EPSG:4326 (a declared GCJ-02/BD-09 only
        makes sense on longitude/latitude).
    crs_name
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"``.

    Returns
    -------
    Same type as ``data``
        In WGS-84 (frames get ``crs="EPSG:4326"``); the input is not modified.
    """
    name = coord_system(crs_name, "crs_name")
    if isinstance(data, BaseGeometry):
        return cast(Geo, convert_geometry(data, name, "wgs84"))
    if isinstance(data, gpd.GeoDataFrame | gpd.GeoSeries):
        frame = data
        if frame.crs is not None and not frame.crs.is_geographic:
            frame = frame.to_crs("EPSG:4326")
        if name == "wgs84":
            out = frame.copy()
        else:
            arr = shapely.transform(
                np.asarray(frame.geometry.values),
                lambda xy: np.column_stack(convert(xy[:, 0], xy[:, 1], name, "wgs84")),
            )
            out = frame.copy()
            if isinstance(out, gpd.GeoDataFrame):
                out[out.geometry.name] = gpd.GeoSeries(arr, index=out.index)
            else:
                out = gpd.GeoSeries(arr, index=out.index, name=out.name)
        return cast(Geo, out.set_crs("EPSG:4326", allow_override=True))
    raise InputError(
        "geometry", type(data).__name__, "a shapely geometry, GeoSeries or GeoDataFrame"
    )
