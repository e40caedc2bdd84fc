"""District folders: round trip keeps every edge attribute; failed writes leave the old folder."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import networkx as nx
import osmnx as ox
import pytest
from shapely.geometry import box

from optimizer.district import District
from optimizer.errors import InputError
from optimizer.staff.roster import Resources, Station
from optimizer.storage import list_districts, load_district, save_district


@pytest.fixture(scope="session")
def fengxian_graph(shared_osm: Path) -> nx.MultiDiGraph:
    G = ox.graph_from_xml(shared_osm / "shanghai_fengxian.osm", retain_all=False)
    for _, d in G.nodes(data=True):
        d["lon"], d["lat"] = d["x"], d["y"]
    G = ox.project_graph(G)
    for _, _, d in G.edges(data=True):
        d["travel_time_foot"] = d["length"] / 1.4
        # A forbidden mode is +inf and must survive the round trip.
        d["travel_time_car"] = math.inf if d.get("highway") == "footway" else d["length"] / 8.0
    return G


def _district(G: nx.MultiDiGraph, name: str = "fx") -> District:
    lon = [d["lon"] for _, d in G.nodes(data=True)]
    lat = [d["lat"] for _, d in G.nodes(data=True)]
    whole = box(min(lon), min(lat), max(lon), max(lat))
    grids = gpd.GeoDataFrame(
        {
            "id": ["A", "A-1"],
            "level": [1, 2],
            "parent": [None, "A"],
            "name": ["区", "网格"],
            "geometry": [whole, whole],
        },
        crs="EPSG:4326",
    ).set_index("id")
    res = Resources(stations=(Station("S1", "派出所", lon[0], lat[0]),))
    return District(name, grids, G, res, None, {"source": "shanghai_fengxian.osm"})


def test_round_trip_keeps_graph_and_edge_attributes(
    fengxian_graph: nx.MultiDiGraph, tmp_path: Path
) -> None:
    district = _district(fengxian_graph)
    folder = save_district(district, tmp_path / "fx")
    assert folder == (tmp_path / "fx").resolve()
    assert list_districts(tmp_path) == ["fx"]
    loaded = load_district("fx", data_dir=tmp_path)
    G, H = fengxian_graph, loaded.graph
    assert H.graph["crs"] == str(G.graph["crs"])
    assert set(H.nodes) == set(G.nodes)
    assert set(H.edges(keys=True)) == set(G.edges(keys=True))
    for n, d in G.nodes(data=True):
        assert H.nodes[n] == d
    lists = 0
    for u, v, k, d in G.edges(keys=True, data=True):
        h = H.edges[u, v, k]
        assert set(h) == set(d)
        for key, value in d.items():
            if key == "geometry":
                assert h[key].equals_exact(value, 1e-6)
            else:
                assert h[key] == value, (u, v, k, key)
        lists += isinstance(d.get("osmid"), list)
    assert lists > 0  # simplified edges with list attributes were exercised
    assert any(math.isinf(d["travel_time_car"]) for *_, d in H.edges(keys=True, data=True))
    assert loaded.grids.loc["A-1", "parent"] == "A"
    assert loaded.grids.loc["A", "parent"] is None
    assert loaded.grids.loc["A-1", "name"] == "网格"
    assert loaded.resources.stations[0].name == "派出所"
    meta = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
    assert meta["nodes"] == G.number_of_nodes() and meta["edges"] == G.number_of_edges()
    assert meta["source"] == "shanghai_fengxian.osm"
    assert loaded.path == folder


def test_failed_write_leaves_previous_district_intact(
    fengxian_graph: nx.MultiDiGraph, tmp_path: Path
) -> None:
    save_district(_district(fengxian_graph), tmp_path / "fx")
    before = {p.name: p.read_bytes() for p in (tmp_path / "fx").iterdir()}
    broken = _district(fengxian_graph)
    broken.grids = broken.grids.drop(columns=["level"])  # fails half-way through the write
    with pytest.raises(KeyError):
        save_district(broken, tmp_path / "fx")
    after = {p.name: p.read_bytes() for p in (tmp_path / "fx").iterdir()}
    assert after == before
    assert [p.name for p in tmp_path.iterdir()] == ["fx"]  # no temporary folder left behind
    edges = load_district(tmp_path / "fx").graph.number_of_edges()
    assert edges == fengxian_graph.number_of_edges()


def test_missing_district_names_the_available_ones(
    tmp_path: Path, fengxian_graph: nx.MultiDiGraph
) -> None:
    save_district(_district(fengxian_graph, "one"), tmp_path / "one")
    with pytest.raises(InputError) as err:
        load_district("nowhere", data_dir=tmp_path)
    assert err.value.field == "district"
    assert "one" in err.value.accepted


def test_demo_is_built_when_missing(tmp_path: Path) -> None:
    district = load_district("demo", data_dir=tmp_path)
    assert (tmp_path / "demo" / "metadata.json").is_file()
    again = load_district("demo", data_dir=tmp_path)
    assert again.graph.number_of_edges() == district.graph.number_of_edges()
    assert again.leaf_grid_ids() == district.leaf_grid_ids()
