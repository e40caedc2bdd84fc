"""Incident intake: columns, times, categories, CRS, duplicates, district and street checks."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import box

from optimizer.coords import wgs84_to_gcj02
from optimizer.errors import InputError
from optimizer.risk.incidents import read_incidents, snap_points, street_segments

CRS = "EPSG:32650"  # UTM 50N: around 117E (Fujian)
X0, Y0 = 500_000.0, 2_900_000.0


@pytest.fixture(scope="module")
def town() -> tuple[nx.MultiDiGraph, gpd.GeoDataFrame]:
    """A 5 x 5 street grid, 100 m blocks, and one grid cell around it (+50 m)."""
    to_wgs = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    G = nx.MultiDiGraph(crs=CRS)
    for i in range(5):
        for j in range(5):
            x, y = X0 + 100 * i, Y0 + 100 * j
            lon, lat = to_wgs.transform(x, y)
            G.add_node(i * 5 + j, x=x, y=y, lon=lon, lat=lat)
    for i in range(5):
        for j in range(5):
            n = i * 5 + j
            for m in ([n + 1] if j < 4 else []) + ([n + 5] if i < 4 else []):
                G.add_edge(n, m, 0, length=100.0)
                G.add_edge(m, n, 0, length=100.0)
    lo0, la0 = to_wgs.transform(X0 - 50, Y0 - 50)
    lo1, la1 = to_wgs.transform(X0 + 450, Y0 + 450)
    grids = gpd.GeoDataFrame(
        {"level": [1], "parent": [None], "name": ["town"]},
        index=pd.Index(["T"], name="id"),
        geometry=[box(lo0, la0, lo1, la1)],
        crs="EPSG:4326",
    )
    return G, grids


def wgs(x: float, y: float) -> tuple[float, float]:
    lon, lat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(X0 + x, Y0 + y)
    return float(lon), float(lat)


def test_snapping_keeps_distance_and_edge(town: tuple[nx.MultiDiGraph, gpd.GeoDataFrame]) -> None:
    G, _ = town
    lon, lat = wgs(30.0, 12.0)  # 12 m north of the street y=0 between nodes 0 and 5
    sn = snap_points(G, np.array([lon]), np.array([lat]))
    seg = street_segments(G).iloc[int(sn.segment[0])]
    assert {int(seg["u"]), int(seg["v"])} == {0, 5}
    assert sn.snap_m[0] == pytest.approx(12.0, abs=0.05)
    assert sn.position[0] == pytest.approx(0.3, abs=0.01)


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_bad_file_reports_precise_problems_and_keeps_good_rows(
    tmp_path: Path, town: tuple[nx.MultiDiGraph, gpd.GeoDataFrame]
) -> None:
    G, grids = town
    good = wgs(30.0, 3.0)
    far = wgs(250.0, 50.0)  # inside the grid, 50 m from every street
    outside = wgs(2000.0, 2000.0)
    path = write_csv(
        tmp_path / "bad.csv",
        [
            "案件编号,类别,发生时间,经度,纬度",
            f"A1,扒窃,2024-03-05 14:30,{good[0]},{good[1]}",  # line 2: good
            f"A2,dispute,not a date,{good[0]},{good[1]}",  # line 3: bad date
            f"A3,theft,2024-03-05 15:00,,{good[1]}",  # line 4: NaN lon
            f"A4,theft,2024-03-05 16:00,{outside[0]},{outside[1]}",  # line 5: outside
            f"A1,theft,2024-03-06 10:00,{good[0]},{good[1]}",  # line 6: duplicate id
            f"A5,spaceship,2024-03-05,{good[0]},{good[1]}",  # line 7: unknown cat, date only
            f"A6,盗窃,2024年3月7日 9时15分,{good[0]},{good[1]}",  # line 8: good (Chinese date)
            f"A7,theft,2024-03-08 11:00,{far[0]},{far[1]}",  # line 9: far from streets
            f"A8,theft,2024-03-08 11:00,{good[0]},abc",  # line 10: lat not a number
        ],
    )
    res = read_incidents(path, tz="Asia/Shanghai", graph=G, grids=grids, max_snap_m=30.0)
    probs = {(p.line, p.field): p for p in res.problems}
    assert probs[(3, "occurred_at")].value == "not a date" and not probs[(3, "occurred_at")].kept
    assert probs[(4, "lon")].reason == "missing or not a number"
    assert probs[(5, "lon/lat")].reason == "outside the district"
    assert "duplicate of line 2" in probs[(6, "incident_id")].reason
    assert probs[(7, "category")].kept and probs[(7, "category")].value == "spaceship"
    assert "50 m from the nearest street" in probs[(9, "lon/lat")].reason
    assert probs[(10, "lat")].value == "abc"
    inc = res.incidents.set_index("incident_id")
    assert sorted(inc.index) == ["A1", "A5", "A6"]
    assert inc.loc["A1", "category"] == "pickpocketing"
    assert inc.loc["A6", "category"] == "theft"
    assert inc.loc["A5", "category"] == "other" and bool(inc.loc["A5", "date_only"])
    assert not bool(inc.loc["A1", "date_only"])
    assert inc.loc["A1", "occurred_at"] == pd.Timestamp("2024-03-05 06:30", tz="UTC")
    assert inc.loc["A6", "occurred_at"] == pd.Timestamp("2024-03-07 09:15", tz="Asia/Shanghai")
    assert inc.loc["A1", "snap_m"] == pytest.approx(3.0, abs=0.05)
    assert inc.loc["A1", "grid_id"] == "T"
    assert len(res.too_far) == 1 and res.too_far["incident_id"].iloc[0] == "A7"
    assert set(res.problems_frame().columns) == {"line", "field", "value", "reason", "kept"}


def test_wrong_columns_name_what_is_missing(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "wrong.csv", ["id,what,where", "1,theft,somewhere"])
    with pytest.raises(InputError) as err:
        read_incidents(path)
    assert err.value.field == "columns"
    assert "occurred_at" in err.value.accepted and "lon" in err.value.accepted
    with pytest.raises(InputError, match=r"columns\.lat"):
        read_incidents(path, columns={"lat": "nope"})


def test_column_mapping_time_column_severity_and_offsets(tmp_path: Path) -> None:
    lon, lat = wgs(0.0, 0.0)
    path = write_csv(
        tmp_path / "mapped.csv",
        [
            "no,kind,day,clock,X,Y,sev",
            f"1,ROBBERY,2024-05-01,21:10,{lon},{lat},",
            f"2,robbery,2024-05-01T21:10+00:00,,{lon},{lat},9",
        ],
    )
    res = read_incidents(
        path,
        columns={
            "incident_id": "no",
            "category": "kind",
            "occurred_at": "day",
            "time": "clock",
            "lon": "X",
            "lat": "Y",
            "severity": "sev",
        },
        tz="Asia/Shanghai",
        severity={"robbery": 4.0},
    )
    inc = res.incidents.set_index("incident_id")
    assert inc.loc["1", "occurred_at"] == pd.Timestamp("2024-05-01 13:10", tz="UTC")
    assert inc.loc["2", "occurred_at"] == pd.Timestamp("2024-05-01 21:10", tz="UTC")
    assert inc.loc["1", "severity"] == 4.0 and inc.loc["2", "severity"] == 9.0
    assert res.problems == []


def test_gcj02_source_is_converted(tmp_path: Path) -> None:
    lon, lat = wgs(200.0, 200.0)
    glon, glat = wgs84_to_gcj02(lon, lat)
    path = write_csv(
        tmp_path / "gcj.csv",
        ["id,category,time,lon,lat", f"1,theft,2024-01-01 10:00,{float(glon)},{float(glat)}"],
    )
    raw = read_incidents(path, tz="Asia/Shanghai")
    conv = read_incidents(path, crs="gcj02", tz="Asia/Shanghai")
    assert abs(raw.incidents["lon"].iloc[0] - lon) > 1e-3  # hundreds of metres off
    assert conv.incidents["lon"].iloc[0] == pytest.approx(lon, abs=1e-6)
    assert conv.incidents["lat"].iloc[0] == pytest.approx(lat, abs=1e-6)
    with pytest.raises(InputError, match="crs"):
        read_incidents(path, crs="mars")


def test_geojson_with_feature_numbers(tmp_path: Path) -> None:
    lon, lat = wgs(0.0, 0.0)
    feats = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"id": "g1", "category": "vandalism", "time": "2024-02-02 02:00"},
        },
        {
            "type": "Feature",
            "geometry": None,
            "properties": {"id": "g2", "category": "vandalism", "time": "2024-02-02 03:00"},
        },
    ]
    path = tmp_path / "inc.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), "utf-8")
    res = read_incidents(path, tz="UTC")
    assert list(res.incidents["incident_id"]) == ["g1"]
    assert {(p.line, p.field) for p in res.problems} == {(2, "lon"), (2, "lat")}
    assert res.incidents.crs.to_epsg() == 4326
