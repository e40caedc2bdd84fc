"""District import end to end on real extracts (issue 3 item 8)."""

from __future__ import annotations

import bz2
import json
import shutil
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, box

from optimizer.cli import main as patrol
from optimizer.coords import wgs84_to_gcj02
from optimizer.errors import InputError
from optimizer.importer import DownloadError, import_district, read_osm_graph
from optimizer.storage import load_district
from optimizer.streets.grids import validate_hierarchy


@pytest.fixture(scope="session")
def longgang_dir(shared_osm: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shenzhen Longgang imported once with --auto-grids 2,13,91 through the CLI (the slow one)."""
    data = tmp_path_factory.mktemp("districts")
    code = patrol(
        [
            "district",
            "import",
            "longgang",
            "--osm",
            str(shared_osm / "shenzhen_longgang.osm"),
            "--auto-grids",
            "2,13,91",
            "--data-dir",
            str(data),
            "--quiet",
        ]
    )
    assert code == 0
    return data


@pytest.mark.slow
def test_longgang_auto_grids_are_2_13_91_nested_and_cover_the_streets(longgang_dir: Path) -> None:
    district = load_district("longgang", data_dir=longgang_dir)
    grids = district.grids
    assert grids["level"].value_counts().sort_index().to_dict() == {1: 2, 2: 13, 3: 91}
    metric = district.crs
    gm = grids.to_crs(metric)
    for level in (2, 3):
        for gid, row in gm[gm["level"] == level].iterrows():
            parent = gm.loc[row["parent"]]
            assert parent["level"] == level - 1
            # Each cell lies in its parent (to rounding) and overlaps no other parent cell.
            assert row.geometry.difference(parent.geometry).area < 1.0, gid
        for pid, prow in gm[gm["level"] == level - 1].iterrows():
            union = shapely.union_all(gm.geometry[gm["parent"] == pid].to_numpy())
            assert union.symmetric_difference(prow.geometry).area < 1.0, pid
    # Every leaf is one piece, and the leaves cover the streets.
    assert set(gm.geometry[gm["level"] == 3].geom_type) == {"Polygon"}
    leaves = shapely.union_all(gm.geometry[gm["level"] == 3].to_numpy()).buffer(0.5)
    lines = []
    for u, v, d in district.graph.edges(data=True):
        a, b = district.graph.nodes[u], district.graph.nodes[v]
        lines.append(d.get("geometry") or shapely.linestrings([(a["x"], a["y"]), (b["x"], b["y"])]))
    arr = np.asarray(lines)
    total = shapely.length(arr).sum()
    outside = shapely.length(shapely.difference(arr, leaves)).sum()
    assert outside < 1e-4 * total
    # No overlaps or gaps beyond the default tolerance, no errors.
    _, report = validate_hierarchy(grids)
    assert report.ok, report.summary()
    assert not report.of_kind("overlap") and not report.of_kind("gap"), report.summary()
    # Balance and compactness are reported in the metadata.
    levels = district.metadata["grids_source"]["report"]["levels"]
    assert [s["cells"] for s in levels] == [2, 13, 91]
    assert levels[1]["length_balance"] < 1.1
    assert levels[2]["length_balance"] < 1.6
    assert all(s["polsby_popper_min"] > 0.1 for s in levels)


@pytest.mark.slow
def test_longgang_metadata_and_graph(longgang_dir: Path, shared_osm: Path) -> None:
    meta = json.loads((longgang_dir / "longgang" / "metadata.json").read_text(encoding="utf-8"))
    district = load_district(longgang_dir / "longgang")
    assert (
        meta["source_sha256"]
        == __import__("hashlib")
        .sha256((shared_osm / "shenzhen_longgang.osm").read_bytes())
        .hexdigest()
    )
    assert meta["nodes"] == district.graph.number_of_nodes() > 500
    assert meta["edges"] == district.graph.number_of_edges()
    assert meta["crs"] == str(district.crs)
    assert "import_time" in meta and meta["resources_synthetic"] is True
    assert {"foot", "car"} <= set(meta["dropped"]["grid_graphs"])
    edge = next(iter(district.graph.edges(data=True)))[2]
    assert {"length", "travel_time_foot", "travel_time_bicycle", "travel_time_car"} <= set(edge)
    assert nx.is_weakly_connected(district.graph)
    assert district.resources.officers and district.resources.stations


@pytest.mark.slow
def test_cli_list_and_show(longgang_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert patrol(["district", "list", "--data-dir", str(longgang_dir)]) == 0
    out = capsys.readouterr().out
    assert "longgang" in out and "2/13/91" in out
    assert patrol(["district", "show", "longgang", "--data-dir", str(longgang_dir)]) == 0
    out = capsys.readouterr().out
    assert "level 3:" in out and "91 cells" in out


@pytest.fixture(scope="module")
def fengxian(shared_osm: Path) -> Path:
    return shared_osm / "shanghai_fengxian.osm"


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_reimport_is_idempotent(fengxian: Path, tmp_path: Path) -> None:
    first = import_district("fx", fengxian, auto="1,2,4", data_dir=tmp_path)
    before = _snapshot(first.path)
    again = import_district("fx", fengxian, auto="1,2,4", data_dir=tmp_path)
    after = _snapshot(again.path)
    assert set(after) == set(before)
    for name in before:
        if name != "metadata.json":
            assert after[name] == before[name], name
    m0, m1 = json.loads(before["metadata.json"]), json.loads(after["metadata.json"])
    m0.pop("import_time")
    m1.pop("import_time")
    assert m0 == m1


def test_failed_import_leaves_the_old_district_intact(fengxian: Path, tmp_path: Path) -> None:
    import_district("fx", fengxian, auto="1,2,4", data_dir=tmp_path)
    before = _snapshot(tmp_path / "fx")
    # A bureau grid file with a bow-tie polygon is rejected after the streets were read.
    nodes = read_osm_graph(fengxian)
    lon = [d["lon"] for _, d in nodes.nodes(data=True)]
    lat = [d["lat"] for _, d in nodes.nodes(data=True)]
    x0, x1, y0, y1 = min(lon), max(lon), min(lat), max(lat)
    bowtie = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    bad = gpd.GeoDataFrame(
        {"id": ["A", "A-1"], "level": [1, 2], "parent": [None, "A"], "name": ["a", "b"]},
        geometry=[box(x0, y0, x1, y1), bowtie],
        crs="EPSG:4326",
    )
    path = tmp_path / "bad.geojson"
    bad.to_file(path, driver="GeoJSON")
    with pytest.raises(InputError, match="invalid_rejected"):
        import_district("fx", fengxian, grids=path, data_dir=tmp_path)
    assert _snapshot(tmp_path / "fx") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.geojson", "fx"]
    # A missing OSM file fails before anything is written, with a clear error.
    with pytest.raises(InputError) as err:
        import_district("fx", tmp_path / "nope.osm", data_dir=tmp_path)
    assert err.value.field == "osm"
    assert _snapshot(tmp_path / "fx") == before


def test_reads_bz2_and_pbf_like_xml(fengxian: Path, tmp_path: Path) -> None:
    import osmium

    compressed = tmp_path / "fx.osm.bz2"
    with open(fengxian, "rb") as src, bz2.open(compressed, "wb") as dst:
        shutil.copyfileobj(src, dst)
    pbf = tmp_path / "fx.osm.pbf"
    writer = osmium.SimpleWriter(str(pbf))

    class Copy(osmium.SimpleHandler):  # type: ignore[misc]
        def node(self, n: object) -> None:
            writer.add_node(n)

        def way(self, w: object) -> None:
            writer.add_way(w)

        def relation(self, r: object) -> None:
            writer.add_relation(r)

    Copy().apply_file(str(fengxian))
    writer.close()
    graphs = [read_osm_graph(p) for p in (fengxian, compressed, pbf)]
    counts = {(G.number_of_nodes(), G.number_of_edges()) for G in graphs}
    assert len(counts) == 1
    lengths = [sum(d["length"] for *_, d in G.edges(data=True)) for G in graphs]
    assert max(lengths) - min(lengths) < 1e-6 * max(lengths)


def test_boundary_declared_gcj02_is_converted(fengxian: Path, tmp_path: Path) -> None:
    G = read_osm_graph(fengxian)
    lon = np.array([d["lon"] for _, d in G.nodes(data=True)])
    lat = np.array([d["lat"] for _, d in G.nodes(data=True)])
    # The western half of the streets, in WGS-84, then as a Chinese web map would publish it.
    x0, x1 = lon.min(), (lon.min() + lon.max()) / 2
    y0, y1 = lat.min(), lat.max()
    ring = np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)])
    gx, gy = wgs84_to_gcj02(ring[:, 0], ring[:, 1])
    path = tmp_path / "boundary_gcj02.geojson"
    gpd.GeoDataFrame(geometry=[Polygon(np.column_stack([gx, gy]))], crs="EPSG:4326").to_file(path)
    ok = import_district(
        "west",
        fengxian,
        boundary=path,
        boundary_crs="gcj02",
        auto="1,2,2",
        data_dir=tmp_path,
        check_grid_graphs=False,
    )
    wrong = import_district(
        "west_raw",
        fengxian,
        boundary=path,
        boundary_crs="wgs84",
        auto="1,2,2",
        data_dir=tmp_path,
        check_grid_graphs=False,
    )
    kept = np.array([(d["lon"], d["lat"]) for _, d in ok.district.graph.nodes(data=True)])
    # Kept nodes lie in the true (WGS-84) half plus the 100 m boundary buffer (~0.001 deg).
    assert kept[:, 0].max() < x1 + 0.0015
    assert ok.dropped["outside_boundary_nodes"] > 0
    assert ok.district.graph.number_of_nodes() != wrong.district.graph.number_of_nodes()
    assert ok.district.metadata["options"]["boundary_crs"] == "gcj02"


def test_place_download_without_internet_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(DownloadError) as err:
        import_district("yuyang", place="榆阳区, 榆林市, 陕西省", data_dir=tmp_path)
    assert "--osm" in str(err.value) and "榆阳区" in str(err.value)
    assert not (tmp_path / "yuyang").exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"auto": "3,2"}, "auto_grids"),
        ({"auto": "a,b"}, "auto_grids"),
        ({"boundary_crs": "utm"}, "boundary_crs"),
        ({"grids_crs": "itrf"}, "grids_crs"),
    ],
)
def test_bad_options_name_their_field(
    fengxian: Path, tmp_path: Path, kwargs: dict[str, str], field: str
) -> None:
    with pytest.raises(InputError) as err:
        import_district("fx", fengxian, data_dir=tmp_path, **kwargs)  # type: ignore[arg-type]
    assert err.value.field == field


def test_bad_name_and_both_sources_are_rejected(fengxian: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError):
        import_district("../evil", fengxian, data_dir=tmp_path)
    with pytest.raises(InputError):
        import_district("fx", fengxian, place="somewhere", data_dir=tmp_path)


def test_incidents_are_stored_and_balanced(fengxian: Path, tmp_path: Path) -> None:
    G = read_osm_graph(fengxian)
    lon = np.array([d["lon"] for _, d in G.nodes(data=True)])
    lat = np.array([d["lat"] for _, d in G.nodes(data=True)])
    rng = np.random.default_rng(3)
    east = np.flatnonzero(lon > np.median(lon))
    pick = rng.choice(east, 200)
    incidents = gpd.GeoDataFrame(
        {"category": ["theft"] * 200}, geometry=gpd.points_from_xy(lon[pick], lat[pick]), crs=4326
    )
    result = import_district(
        "fx",
        fengxian,
        auto="1,2,4",
        incidents=incidents,
        data_dir=tmp_path,
        check_grid_graphs=False,
    )
    loaded = load_district("fx", data_dir=tmp_path)
    assert loaded.incidents is not None and len(loaded.incidents) == 200
    assert result.partition is not None
    leaf = result.partition.levels[-1]
    assert leaf.weight_balance is not None and leaf.weight_balance < 1.3
    assert "workload" in result.summary()


def test_bureau_grids_declared_gcj02_import_in_place(fengxian: Path, tmp_path: Path) -> None:
    auto = import_district(
        "auto", fengxian, auto="1,2,4", data_dir=tmp_path, check_grid_graphs=False
    )
    wgs = auto.district.grids.drop(columns=["street_length_m"]).reset_index()

    def to_gcj(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1]))

    gcj = wgs.copy()
    gcj["geometry"] = shapely.transform(np.asarray(wgs.geometry.values), to_gcj)
    path = tmp_path / "bureau_gcj02.geojson"
    gcj.to_file(path, driver="GeoJSON")
    result = import_district(
        "bureau",
        fengxian,
        grids=path,
        grids_crs="gcj02",
        data_dir=tmp_path,
        check_grid_graphs=False,
    )
    assert result.hierarchy is not None and result.hierarchy.ok
    got = result.district.grids.to_crs(auto.district.crs)
    want = auto.district.grids.to_crs(auto.district.crs)
    for gid in want.index:
        # Back where they were, to well under the 0.5 m the round trip allows.
        assert got.loc[gid].geometry.hausdorff_distance(want.loc[gid].geometry) < 0.05
    assert result.dropped["streets_outside_grids_m"] < 1.0


def test_synthetic_incidents_are_opt_in_and_labelled(fengxian: Path, tmp_path: Path) -> None:
    plain = import_district("a", fengxian, auto="1,2", data_dir=tmp_path, check_grid_graphs=False)
    assert plain.district.incidents is None
    assert plain.district.metadata["synthetic"] == ["grids", "resources"]
    fake = import_district(
        "b",
        fengxian,
        auto="1,2",
        data_dir=tmp_path,
        check_grid_graphs=False,
        synthetic_incidents=True,
    )
    loaded = load_district("b", data_dir=tmp_path)
    assert loaded.incidents is not None and len(loaded.incidents) > 100
    assert loaded.metadata["synthetic"] == ["grids", "incidents", "resources"]
    assert "(synthetic)" in fake.summary()


def test_cli_place_without_internet_exits_2_with_advice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = patrol(
        [
            "district",
            "import",
            "yuyang",
            "--place",
            "榆阳区, 榆林市, 陕西省",
            "--data-dir",
            str(tmp_path),
            "--quiet",
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("patrol: error:") and "--osm FILE" in err


def test_given_resources_must_name_district_grids(fengxian: Path, tmp_path: Path) -> None:
    from optimizer.staff.roster import resources_to_json

    first = import_district("fx", fengxian, auto="1,2", data_dir=tmp_path, check_grid_graphs=False)
    data = resources_to_json(first.district.resources)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(data), encoding="utf-8")
    again = import_district(
        "fx2", fengxian, auto="1,2", resources=good, data_dir=tmp_path, check_grid_graphs=False
    )
    assert again.district.metadata["resources_synthetic"] is False
    assert len(again.district.resources.officers) == len(first.district.resources.officers)
    data["teams"][0]["home_grid"] = "NO-SUCH-GRID"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError) as err:
        import_district("fx3", fengxian, auto="1,2", resources=bad, data_dir=tmp_path)
    assert err.value.field == "resources.teams[0].home_grid"
    assert not (tmp_path / "fx3").exists()
