"""Grid hierarchy validation on a bureau-style file, and per-grid street graphs."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import networkx as nx
import osmnx as ox
import pytest
from shapely.geometry import Polygon, box

from optimizer.district import District
from optimizer.errors import InputError
from optimizer.importer import read_osm_graph
from optimizer.staff.roster import Resources
from optimizer.streets.grids import ancestors, children, grid_graph, validate_hierarchy

UTM50 = "EPSG:32650"  # Shenzhen
X0, Y0 = 210_000.0, 2_510_000.0


def _bureau_grids() -> gpd.GeoDataFrame:
    """Two level-1 cells of 1000 x 1000 m; level 2 has an overlap, a gap, a bow-tie, a knot."""

    def b(x0: float, y0: float, x1: float, y1: float) -> Polygon:
        return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)

    bowtie = Polygon(
        [(X0 + 500, Y0 + 500), (X0 + 1000, Y0 + 1000), (X0 + 1000, Y0 + 500), (X0 + 500, Y0 + 1000)]
    )
    # A square whose outline makes a tiny loop (1 m² knot) at one corner: safe to repair.
    knot = Polygon(
        [
            (X0 + 1000, Y0),
            (X0 + 1500, Y0),
            (X0 + 1500, Y0 + 1000),
            (X0 + 1000, Y0 + 1000),
            (X0 + 1001, Y0 + 999),
            (X0 + 1001, Y0 + 1000),
            (X0 + 1000, Y0 + 999),
        ]
    )
    rows = [
        ("A", 1, None, "甲街道", b(0, 0, 1000, 1000)),
        ("B", 1, None, "乙街道", b(1000, 0, 2000, 1000)),
        ("A-1", 2, "A", "A1", b(0, 0, 520, 500)),  # overlaps A-2 by 20 x 500 m
        ("A-2", 2, "A", "A2", b(500, 0, 1000, 500)),
        ("A-3", 2, "A", "A3", b(0, 500, 500, 1000)),
        ("A-4", 2, "A", "A4", bowtie),  # self-intersecting: rejected
        ("B-1", 2, None, "B1", knot),  # parent missing, knot repaired
        ("B-2", 2, "B", "B2", b(1540, 0, 2000, 1000)),  # 40 x 1000 m gap to B-1
    ]
    frame = gpd.GeoDataFrame(rows, columns=["id", "level", "parent", "name", "geometry"], crs=UTM50)
    return frame.to_crs("EPSG:4326")


@pytest.fixture(scope="module")
def bureau_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bureau") / "grids.geojson"
    _bureau_grids().to_file(path, driver="GeoJSON")
    return path


def test_bureau_file_gets_the_right_report(bureau_file: Path) -> None:
    grids, report = validate_hierarchy(gpd.read_file(bureau_file), tolerance_m2=50.0)
    frame = report.to_frame()
    assert set(frame.columns) >= {"kind", "severity", "level", "cells", "area_m2", "detail"}

    overlaps = report.of_kind("overlap")
    assert len(overlaps) == 1
    assert set(overlaps[0].cells) == {"A-1", "A-2"}
    assert overlaps[0].area_m2 == pytest.approx(20 * 500, rel=0.02)

    gaps = report.of_kind("gap")
    in_b = [g for g in gaps if g.cells[0] == "B"]
    assert len(in_b) == 1
    assert set(in_b[0].cells[1:]) == {"B-1", "B-2"}
    assert in_b[0].area_m2 == pytest.approx(40 * 1000, rel=0.02)
    # The bow-tie covers only two triangles of its quarter: the other two are gaps beside it.
    in_a = [g for g in gaps if g.cells[0] == "A"]
    assert len(in_a) == 2 and all("A-4" in g.cells for g in in_a)
    assert sum(g.area_m2 for g in in_a) == pytest.approx(500 * 500 / 2, rel=0.02)

    rejected = report.of_kind("invalid_rejected")
    assert [i.cells for i in rejected] == [("A-4",)]
    assert "Self-intersection" in rejected[0].detail and "2 pieces" in rejected[0].detail

    repaired = report.of_kind("invalid_repaired")
    assert [i.cells for i in repaired] == [("B-1",)]
    assert grids.loc["B-1"].geometry.is_valid

    # The missing parent of B-1 is filled from geometry.
    assert grids.loc["B-1", "parent"] == "B"
    assert [i.cells for i in report.of_kind("parent_filled")] == [("B-1", "B")]
    assert not report.ok
    with pytest.raises(InputError, match="A-4"):
        report.raise_for_errors()
    assert "overlap" in report.summary()


def test_clean_hierarchy_is_ok_and_nested() -> None:
    grids = _bureau_grids()
    grids = grids[grids["id"] != "A-4"].copy()
    grids.loc[grids["id"] == "A-1", "geometry"] = (
        gpd.GeoSeries([box(X0, Y0, X0 + 500, Y0 + 500)], crs=UTM50).to_crs(4326).values
    )
    out, report = validate_hierarchy(grids)
    assert not report.of_kind("overlap")
    assert report.ok, report.summary()
    assert children(out, "A") == ["A-1", "A-2", "A-3"]
    assert ancestors(out, "B-2") == ["B"]
    assert report.counts == {1: 2, 2: 5}


def test_wrong_parent_and_orphan_are_errors() -> None:
    grids = _bureau_grids()
    grids = grids[grids["id"] != "A-4"].copy()
    grids.loc[grids["id"] == "A-3", "parent"] = "B"
    far = gpd.GeoSeries([box(X0 + 5000, Y0, X0 + 5100, Y0 + 100)], crs=UTM50).to_crs(4326)
    grids = gpd.GeoDataFrame(
        [
            *grids.to_dict("records"),
            {"id": "X-9", "level": 2, "parent": "A", "name": "far", "geometry": far.iloc[0]},
        ],
        crs="EPSG:4326",
    )
    _, report = validate_hierarchy(grids)
    kinds = {(i.kind, i.cells[0]) for i in report.errors}
    assert ("parent_mismatch", "A-3") in kinds
    assert ("orphan", "X-9") in kinds


def test_missing_level_column_is_an_input_error() -> None:
    with pytest.raises(InputError) as err:
        validate_hierarchy(_bureau_grids().drop(columns=["level"]))
    assert err.value.field == "grids.level"


@pytest.fixture(scope="module")
def ninghua(shared_osm: Path) -> District:
    G = read_osm_graph(shared_osm / "ninghua_fujian_26N116E.osm")
    nodes = ox.graph_to_gdfs(G, edges=False)
    minx, miny, maxx, maxy = nodes.total_bounds
    midx = (minx + maxx) / 2
    cx, cy = float(nodes["x"].median()), float(nodes["y"].median())
    small = box(cx - 150, cy - 150, cx + 150, cy + 150)
    cells = gpd.GeoSeries(
        [
            box(minx, miny, maxx, maxy),
            box(minx, miny, midx, maxy),
            box(midx, miny, maxx, maxy),
            small,
        ],
        crs=G.graph["crs"],
    ).to_crs(4326)
    grids = gpd.GeoDataFrame(
        {
            "id": ["N", "N-1", "N-2", "S"],
            "level": [1, 2, 2, 2],
            "parent": [None, "N", "N", "N"],
            "name": ["n", "w", "e", "small"],
        },
        geometry=cells.values,
        crs="EPSG:4326",
    ).set_index("id")
    return District("ninghua", grids, G, Resources())


def test_grid_graph_is_buffered_and_strongly_connected(ninghua: District) -> None:
    H0 = grid_graph(ninghua, "S", buffer_m=0.0, mode="foot")
    H = grid_graph(ninghua, "S", buffer_m=150.0, mode="foot")
    H4 = grid_graph(ninghua, "S", buffer_m=400.0, mode="foot")
    assert nx.is_strongly_connected(H) and nx.is_strongly_connected(H0)
    # Streets touching the cell are kept whole; the buffer adds the streets around it.
    assert H0.number_of_nodes() < H.number_of_nodes() <= H4.number_of_nodes()
    assert H4.number_of_nodes() < ninghua.graph.number_of_nodes()
    assert nx.is_strongly_connected(grid_graph(ninghua, "N-1", mode="foot"))
    assert set(H.graph["dropped"]) >= {"nodes", "edges", "length_m"}
    assert H.graph["grid_id"] == "S" and H.graph["mode"] == "foot"
    C = grid_graph(ninghua, "N", buffer_m=150.0, mode="car")
    assert nx.is_strongly_connected(C)
    assert all(math.isfinite(d["travel_time_car"]) for *_, d in C.edges(keys=True, data=True))
    assert C.graph["dropped"]["closed_edges"] > 0  # footways and steps


def test_grid_graph_rejects_unknown_grid_and_mode(ninghua: District) -> None:
    with pytest.raises(InputError):
        grid_graph(ninghua, "nowhere")
    with pytest.raises(InputError):
        grid_graph(ninghua, "N-1", mode="boat")


def test_chinese_column_names_are_understood() -> None:
    frame = _bureau_grids().rename(
        columns={"id": "网格编号", "level": "层级", "parent": "上级编号", "name": "网格名称"}
    )
    grids, report = validate_hierarchy(frame)
    assert set(grids.columns) >= {"level", "parent", "name"}
    assert grids.loc["A-1", "parent"] == "A" and grids.loc["A", "name"] == "甲街道"
    assert report.counts == {1: 2, 2: 6}


def test_single_level_file_without_level_column() -> None:
    frame = _bureau_grids()
    frame = frame[frame["level"] == 1].drop(columns=["level", "parent"])
    grids, report = validate_hierarchy(frame)
    assert report.ok and report.counts == {1: 2}
    assert grids["parent"].isna().all()
