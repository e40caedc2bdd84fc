"""A cell whose streets fall into pieces, and a station outside it: no artefact distances.

The cell ``X`` holds two street lattices joined only by a road outside the cell, and a stub of
street joined to nothing. The lead officer's station lies kilometres away. The group starts at
the cell's muster point, reaches both lattices through the road outside the cell in real
minutes, and the stub is left out as having no street path - never as a capped time.
"""

from __future__ import annotations

import datetime as dt
import math

import geopandas as gpd
import networkx as nx
import pytest
from pyproj import Transformer
from shapely.geometry import box

from optimizer.district import District
from optimizer.plan.assemble import routes_from_solution
from optimizer.plan.build import build_problem
from optimizer.plan.params import RouteParams
from optimizer.plan.solve import SolveJob, SolveSettings, solve_job
from optimizer.problem import NO_PATH_S
from optimizer.risk.hotspots import Hotspot
from optimizer.staff.groups import PatrolGroup
from optimizer.staff.muster import choose_muster_points
from optimizer.staff.roster import Officer, Resources, Shift, Station
from optimizer.timewindow import TimeWindow

DAY = dt.date(2026, 11, 30)
WINDOW = TimeWindow.parse("19:00-23:00")
LON0, LAT0 = 114.20, 22.68
STEP = 0.001  # about 100 m
TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)


def _node(G: nx.MultiDiGraph, n: int, lon: float, lat: float) -> None:
    x, y = TO_UTM.transform(lon, lat)
    G.add_node(n, lon=lon, lat=lat, x=float(x), y=float(y))


def _street(G: nx.MultiDiGraph, a: int, b: int, name: str) -> None:
    da, db = G.nodes[a], G.nodes[b]
    length = math.hypot(da["x"] - db["x"], da["y"] - db["y"])
    for u, v in ((a, b), (b, a)):
        G.add_edge(
            u,
            v,
            length=length,
            name=name,
            highway="residential",
            travel_time_foot=length / 1.4,
            travel_time_bicycle=length / 4.0,
            travel_time_car=length / 8.0,
        )


def _lattice(G: nx.MultiDiGraph, first: int, lon: float, lat: float, name: str) -> list[int]:
    ids = [first + i * 4 + j for i in range(4) for j in range(4)]
    for i in range(4):
        for j in range(4):
            _node(G, first + i * 4 + j, lon + i * STEP, lat + j * STEP)
    for i in range(4):
        for j in range(4):
            n = first + i * 4 + j
            if i < 3:
                _street(G, n, n + 4, f"{name} Road {j}")
            if j < 3:
                _street(G, n, n + 1, f"{name} Street {i}")
    return ids


def _district() -> District:
    G = nx.MultiDiGraph(crs="EPSG:32650")
    west = _lattice(G, 0, LON0, LAT0, "West")
    east = _lattice(G, 100, LON0 + 0.006, LAT0, "East")
    # the only link between the lattices runs north, outside cell X
    _node(G, 200, LON0 + 0.0015, LAT0 + 0.006)
    _node(G, 201, LON0 + 0.0075, LAT0 + 0.006)
    _street(G, west[3], 200, "North Lane")
    _street(G, 200, 201, "North Lane")
    _street(G, 201, east[3], "North Lane")
    # a stub of street inside X joined to nothing
    _node(G, 300, LON0 + 0.0045, LAT0 + 0.0005)
    _node(G, 301, LON0 + 0.0046, LAT0 + 0.0015)
    _street(G, 300, 301, "Stub Alley")
    # the station, 3 km east, on a road from the east lattice
    _node(G, 400, LON0 + 0.035, LAT0 + 0.001)
    _street(G, east[12], 400, "Station Road")
    shapes = {
        "D": (None, 1, box(114.19, 22.67, 114.25, 22.70)),
        "D-1": ("D", 2, box(114.19, 22.67, 114.25, 22.70)),
        "X": ("D-1", 3, box(114.199, 22.679, 114.2095, 22.6845)),
        "Y": ("D-1", 3, box(114.199, 22.6845, 114.2095, 22.70)),
    }
    rows = [
        {"id": gid, "level": level, "parent": parent, "name": gid, "geometry": geom}
        for gid, (parent, level, geom) in shapes.items()
    ]
    grids = gpd.GeoDataFrame(rows, crs="EPSG:4326").set_index("id")
    station = Station("S1", "Far station", float(G.nodes[400]["lon"]), float(G.nodes[400]["lat"]))
    officer = Officer("O1", "o1", "S1", (Shift(TimeWindow.parse("18:00-23:30")),))
    return District("pieces", grids, G, Resources((station,), (officer,)), None, {})


def _hotspot(district: District, hid: str, node: int, value: float) -> Hotspot:
    d = district.graph.nodes[node]
    return Hotspot(hid, "X", d["lon"], d["lat"], d["x"], d["y"], node, value, dwell_min=10)


@pytest.fixture(scope="module")
def district() -> District:
    return _district()


def test_pieces_joined_outside_the_cell_are_patrolled_and_a_stub_is_explained(
    district: District,
) -> None:
    muster = choose_muster_points(district, ["X"])["X"]
    assert muster.kind == "cell centre"
    assert muster.node < 200, "the muster point is on the cell's connected streets"
    hot = [
        _hotspot(district, "H-WEST", 5, 1.0),
        _hotspot(district, "H-EAST", 110, 0.9),
        _hotspot(district, "H-STUB", 300, 2.0),
    ]
    group = PatrolGroup("G1", "X", WINDOW, ("O1",), (), "S1", "foot", muster.id)
    problem, context, cut = build_problem(
        district,
        grid_id="X",
        day=DAY,
        window=WINDOW,
        groups=[group],
        hotspots=hot,
        posts=[],
        muster=muster,
        params=RouteParams(),
    )
    # the stub is left out before solving, as having no street path - no minutes quoted
    assert [(r.site_id, r.code) for r in cut] == [("H-STUB", "no_path")]
    assert "no street path" in cut[0].detail and "min" not in cut[0].detail
    assert all(s.key != "H-STUB" for s in problem.sites)
    # every leg the solver may use is a real street time, well inside the window
    times = problem.durations["foot"]
    assert int(times.max()) < NO_PATH_S and int(times.max()) < problem.horizon_s
    outcome = solve_job(SolveJob(problem, 0, SolveSettings("patrol", 0.3)))
    routes, left = routes_from_solution(district, problem, context, outcome.solution, RouteParams())
    (route,) = routes
    visited = {s.site_id for s in route.stops if s.kind == "hotspot"}
    assert visited == {"H-WEST", "H-EAST"}, "both pieces, through the road outside the cell"
    assert route.stops[0].site_id == muster.id and route.stops[-1].site_id == muster.id
    north = district.graph.nodes[200]
    assert any(abs(lat - north["lat"]) < 1e-6 for _, lat in route.path.coords), "via North Lane"
    assert route.distance_m < 5_000, "no detour through the far station"
    assert all("min" not in lo.reason or "no_path" not in lo.reason for lo in left)


def test_a_gate_at_the_start_or_end_of_the_window_is_where_the_group_starts_or_ends(
    district: District,
) -> None:
    """A duty from the window's first minute (or to its last) cannot be reached from (or left
    for) the muster point in time: the group starts (ends) at that post and staffs it."""
    from optimizer.staff.roster import FixedPost

    muster = choose_muster_points(district, ["X"])["X"]
    gate = district.graph.nodes[115]  # the east lattice's far corner, ~700 m from the centre
    early = FixedPost(
        "P-EARLY",
        "School gate",
        gate["lon"],
        gate["lat"],
        "X",
        (TimeWindow.parse("19:00-19:40"),),
        (0,),
        40,
        "school gate",
    )
    hall = district.graph.nodes[0]
    late = FixedPost(
        "P-LATE",
        "Hospital hall",
        hall["lon"],
        hall["lat"],
        "X",
        (TimeWindow.parse("22:05-22:45"),),
        (0,),
        40,
        "hospital hall",
    )
    group = PatrolGroup("G1", "X", WINDOW, ("O1",), (), "S1", "foot", muster.id)
    problem, context, cut = build_problem(
        district,
        grid_id="X",
        day=DAY,
        window=WINDOW,
        groups=[group],
        hotspots=[_hotspot(district, "H-WEST", 5, 1.0)],
        posts=[early, late],
        muster=muster,
        params=RouteParams(),
    )
    assert cut == []
    (vehicle,) = problem.vehicles
    assert vehicle.start_location != 0 and vehicle.end_location != 0
    outcome = solve_job(SolveJob(problem, 0, SolveSettings("patrol", 0.3)))
    assert "posts_infeasible" not in outcome.metrics
    (route,), left = routes_from_solution(
        district, problem, context, outcome.solution, RouteParams()
    )
    assert (route.stops[0].site_id, route.stops[0].purpose) == ("P-EARLY", "start at the post")
    assert (route.stops[-1].site_id, route.stops[-1].purpose) == ("P-LATE", "end at the post")
    assert [s.site_id for s in route.stops if s.kind == "post"] == ["P-EARLY", "P-LATE"]
    assert not [lo for lo in left if lo.kind == "post"]
