"""Group formation with CP-SAT on small hand-made districts (no ../shared needed)."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from optimizer.district import District
from optimizer.errors import InfeasibleError, InputError
from optimizer.staff.groups import (
    GroupFormation,
    GroupParams,
    form_groups,
    grid_neighbours,
    record_service,
)
from optimizer.staff.roster import Officer, Resources, Shift, Station, Volunteer, VolunteerTeam
from optimizer.timewindow import TimeWindow

MONDAY = dt.date(2026, 11, 30)
EVENING = TimeWindow.parse("19:00-23:00")
ALL_DAY = Shift(TimeWindow.parse("06:00-23:30"))


def _grids() -> gpd.GeoDataFrame:
    """Cells A | B | C in a row (A-B and B-C touch), D far away."""
    rows = [
        {"id": "A", "level": 3, "geometry": box(0.00, 0.0, 0.01, 0.01)},
        {"id": "B", "level": 3, "geometry": box(0.01, 0.0, 0.02, 0.01)},
        {"id": "C", "level": 3, "geometry": box(0.02, 0.0, 0.03, 0.01)},
        {"id": "D", "level": 3, "geometry": box(0.10, 0.0, 0.11, 0.01)},
    ]
    return gpd.GeoDataFrame(rows, crs="EPSG:4326").set_index("id")


def _team(tid: str, home: str, n: int, shift: Shift = ALL_DAY, cap: float = 12.0) -> VolunteerTeam:
    members = tuple(
        Volunteer(f"{tid}-V{i}", f"v{i}", tid, "guard", (shift,), max_hours_week=cap)
        for i in range(n)
    )
    return VolunteerTeam(tid, tid, "guard", home, "S1", members)


def _resources(officers: int = 3, teams: tuple[VolunteerTeam, ...] | None = None) -> Resources:
    stations = (Station("S1", "s1", 0.005, 0.005), Station("S2", "s2", 0.105, 0.005))
    offs = tuple(
        Officer(f"O{i}", f"o{i}", "S1", (ALL_DAY,), ("foot", "bicycle", "car")[i % 3])
        for i in range(officers)
    )
    if teams is None:
        teams = (_team("TA", "A", 5), _team("TC", "C", 5))
    return Resources(stations, offs, teams)


def _people(formation: GroupFormation) -> list[str]:
    return [p for g in formation.groups for p in g.members]


def test_neighbours_touching_cells() -> None:
    nb = grid_neighbours(_grids())
    assert nb["A"] == {"A", "B"}
    assert nb["B"] == {"A", "B", "C"}
    assert nb["D"] == {"D"}


def test_officer_in_every_group_and_volunteer_sizes() -> None:
    f = form_groups(
        _resources(),
        day=MONDAY,
        window=EVENING,
        demand={"A": 1, "B": 1, "C": 1},
        grids=_grids(),
        time_limit_s=2,
    )
    assert f.status == "OPTIMAL"
    assert len(f.groups) == 3
    officers = {o.id: o for o in _resources().officers}
    for g in f.groups:
        assert len(g.officer_ids) == 1 and g.officer_ids[0] in officers
        assert 2 <= len(g.volunteer_ids) <= 4
        assert g.mode == officers[g.officer_ids[0]].mode
        assert g.station_id == officers[g.officer_ids[0]].station_id
    members = _people(f)
    assert len(members) == len(set(members)), "nobody in two groups"
    # everyone is either placed or listed with a reason
    listed = {u.person_id for u in f.unassigned}
    everyone = {o.id for o in _resources().officers} | {v.id for v in _resources().volunteers}
    assert set(members) | listed == everyone


def test_configurable_sizes_and_extra_officers() -> None:
    params = GroupParams(min_officers=2, max_officers=2, min_volunteers=3, max_volunteers=3)
    f = form_groups(
        _resources(officers=4),
        day=MONDAY,
        window=EVENING,
        demand={"A": 1, "C": 1},
        grids=_grids(),
        params=params,
        time_limit_s=2,
    )
    assert len(f.groups) == 2
    for g in f.groups:
        assert len(g.officer_ids) == 2 and len(g.volunteer_ids) == 3


def test_volunteers_only_in_or_next_to_home_grid() -> None:
    grids = _grids()
    nb = grid_neighbours(grids)
    res = _resources(officers=4)
    home = {v.id: t.home_grid for t in res.teams for v in t.members}
    f = form_groups(
        res,
        day=MONDAY,
        window=EVENING,
        demand={"A": 1, "B": 3, "C": 1, "D": 5},
        grids=grids,
        time_limit_s=2,
    )
    for g in f.groups:
        for v in g.volunteer_ids:
            assert g.grid_id in nb[home[v]]
    # D has the highest demand but nobody lives next to it: no group goes there
    assert f.allocation["D"] == 0


def test_only_available_people() -> None:
    morning = Shift(TimeWindow.parse("07:00-11:00"))
    teams = (_team("TA", "A", 4), _team("TM", "A", 4, shift=morning))
    res = Resources(
        _resources().stations,
        (*_resources(officers=2).officers, Officer("OM", "m", "S1", (morning,), "foot")),
        teams,
    )
    f = form_groups(
        res, day=MONDAY, window=EVENING, demand={"A": 1}, grids=_grids(), time_limit_s=2
    )
    placed = set(_people(f))
    assert not any(p.startswith("TM-") or p == "OM" for p in placed)
    codes = {u.person_id: u.code for u in f.unassigned}
    assert codes["OM"] == "unavailable" and codes["TM-V0"] == "unavailable"


def test_weekend_shift_weekday_rule() -> None:
    weekend_only = Shift(EVENING, weekdays=(5, 6))
    res = Resources(
        _resources().stations,
        (Officer("O1", "o", "S1", (weekend_only,), "foot"),),
        (_team("TA", "A", 3),),
    )
    with pytest.raises(InfeasibleError) as exc:
        form_groups(res, day=MONDAY, window=EVENING, demand={"A": 1}, grids=_grids())
    assert exc.value.constraint == "officer_available"
    saturday = MONDAY + dt.timedelta(days=5)
    f = form_groups(res, day=saturday, window=EVENING, demand={"A": 1}, grids=_grids())
    assert len(f.groups) == 1


def test_weekly_cap_excludes_volunteer() -> None:
    res = _resources(officers=1, teams=(_team("TA", "A", 3, cap=8.0),))
    history = {"TA-V0": 6.0}  # 6 h + 4 h window > 8 h cap
    f = form_groups(
        res,
        day=MONDAY,
        window=EVENING,
        demand={"A": 1},
        grids=_grids(),
        history=history,
        time_limit_s=2,
    )
    assert "TA-V0" not in _people(f)
    assert {u.person_id: u.code for u in f.unassigned}["TA-V0"] == "weekly_cap"


def test_fair_rotation_across_days() -> None:
    """One group of exactly 2 volunteers a day from a team of 6: everyone serves before repeats."""
    res = _resources(officers=1, teams=(_team("TA", "A", 6, cap=40.0),))
    params = GroupParams(min_volunteers=2, max_volunteers=2)
    history: dict[str, float] = {}
    served_days: list[set[str]] = []
    for d in range(3):
        f = form_groups(
            res,
            day=MONDAY + dt.timedelta(days=d),
            window=EVENING,
            demand={"A": 1},
            grids=_grids(),
            params=params,
            history=history,
            seed=d,
            time_limit_s=2,
        )
        served_days.append(set(f.groups[0].volunteer_ids))
        history = record_service(history, f)
    assert set().union(*served_days) == {f"TA-V{i}" for i in range(6)}
    assert all(h == 4.0 for h in history.values())


def test_allocation_proportional_to_demand() -> None:
    teams = (_team("TA", "A", 12), _team("TB", "B", 12), _team("TC", "C", 12))
    res = _resources(officers=8, teams=teams)
    f = form_groups(
        res,
        day=MONDAY,
        window=EVENING,
        demand={"A": 6.0, "B": 1.0, "C": 1.0},
        grids=_grids(),
        time_limit_s=2,
    )
    assert sum(f.allocation.values()) == 8
    assert f.allocation["A"] == 6 and f.allocation["B"] == 1 and f.allocation["C"] == 1
    assert f.target["A"] == pytest.approx(6.0)


def test_every_grid_with_real_demand_gets_a_group_first() -> None:
    """D'Hondt alone gives A all three groups (10, 5, 3.3 > 1); B's demand is real, so it gets
    one before A gets a third. C's demand (1 % of A's) is below ``cover_share``."""
    teams = (_team("TA", "A", 12), _team("TB", "B", 12), _team("TC", "C", 12))
    res = _resources(officers=3, teams=teams)
    kw = dict(
        day=MONDAY,
        window=EVENING,
        demand={"A": 10.0, "B": 1.0, "C": 0.1},
        grids=_grids(),
        time_limit_s=2,
    )
    f = form_groups(res, **kw)  # type: ignore[arg-type]
    assert f.allocation == {"A": 2, "B": 1, "C": 0}
    # the priority is what makes the difference: a purely proportional split starves B
    plain = form_groups(res, params=GroupParams(cover_share=2.0), **kw)  # type: ignore[arg-type]
    assert plain.allocation == {"A": 3, "B": 0, "C": 0}
    # a lower share counts C's demand as real too
    low = form_groups(res, params=GroupParams(cover_share=0.0), **kw)  # type: ignore[arg-type]
    assert low.allocation == {"A": 1, "B": 1, "C": 1}
    # fewer groups than grids with real demand: the grids with the most demand get one each
    two = form_groups(
        _resources(officers=2, teams=teams),
        day=MONDAY,
        window=EVENING,
        demand={"A": 10.0, "B": 1.0, "C": 0.8},
        grids=_grids(),
        time_limit_s=2,
    )
    assert two.allocation == {"A": 1, "B": 1, "C": 0}
    with pytest.raises(InputError) as bad:
        GroupParams(cover_share=-0.1)
    assert bad.value.field == "cover_share"


def test_deterministic_for_seed() -> None:
    teams = (_team("TA", "A", 9), _team("TB", "B", 9), _team("TC", "C", 9))
    res = _resources(officers=5, teams=teams)
    kw = dict(
        day=MONDAY,
        window=EVENING,
        demand={"A": 2.0, "B": 1.0, "C": 1.5},
        grids=_grids(),
        params=GroupParams(fill_groups=False),
        time_limit_s=2,
    )
    a = form_groups(res, seed=7, **kw)  # type: ignore[arg-type]
    b = form_groups(res, seed=7, **kw)  # type: ignore[arg-type]
    assert a.groups == b.groups and a.unassigned == b.unassigned


def test_infeasible_and_bad_input_name_the_field() -> None:
    res = _resources(officers=2, teams=(_team("TA", "A", 1),))
    with pytest.raises(InfeasibleError) as exc:
        form_groups(res, day=MONDAY, window=EVENING, demand={"A": 1}, grids=_grids())
    assert exc.value.constraint == "volunteers_per_group"
    res = _resources(officers=2, teams=(_team("TD", "D", 4),))
    with pytest.raises(InfeasibleError) as exc:
        form_groups(res, day=MONDAY, window=EVENING, demand={"A": 1}, grids=_grids())
    assert exc.value.constraint == "volunteer_home_grid"
    with pytest.raises(InputError) as bad:
        form_groups(res, day=MONDAY, window=EVENING, demand={"Z": 1}, grids=_grids())
    assert "demand" in bad.value.field
    with pytest.raises(InputError):
        form_groups(res, day=MONDAY, window=EVENING, demand={"A": 0.0}, grids=_grids())
    with pytest.raises(InputError) as bad:
        GroupParams(min_volunteers=3, max_volunteers=2)
    assert bad.value.field == "max_volunteers"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> District:
    from optimizer.synthetic.demo import build_demo_district

    return build_demo_district(tmp_path_factory.mktemp("teams-demo") / "demo")


def test_demo_district_groups(demo: District) -> None:
    district = demo
    leaf = district.leaf_grid_ids()
    demand = {g: float(i + 1) for i, g in enumerate(leaf)}
    f = form_groups(
        district.resources,
        day=MONDAY,
        window=TimeWindow.parse("14:00-18:00"),
        demand=demand,
        grids=district.grids,
        seed=1,
        time_limit_s=2,
    )
    assert f.groups and all(g.officer_ids and 2 <= len(g.volunteer_ids) <= 4 for g in f.groups)
    assert len(f.to_frame()) == len(f.groups)


def test_demo_evening_groups_every_grid_with_hotspots(demo: District) -> None:
    """The demo evening: D-3 holds most demand, D-1 a sixth of it; D-1 used to get no group
    (its 8 hotspots left out as "no group") while D-3 got three."""
    from optimizer.plan.day import form_window_groups, planning_grid_ids, window_hotspots

    ids = planning_grid_ids(demo)
    hot = window_hotspots(demo, MONDAY, EVENING, ids)
    groups = form_window_groups(demo, MONDAY, EVENING, hot, ids, seed=2, time_limit_s=2)
    with_hotspots = {h.grid_id for h in hot} & set(ids)
    assert len(groups) >= len(with_hotspots) == 3
    assert {g.grid_id for g in groups} == with_hotspots


@settings(max_examples=25, deadline=None)
@given(
    n_officers=st.integers(1, 5),
    team_sizes=st.lists(st.integers(0, 6), min_size=1, max_size=4),
    homes=st.lists(st.sampled_from(["A", "B", "C", "D"]), min_size=4, max_size=4),
    demand=st.lists(st.floats(0.0, 5.0), min_size=4, max_size=4),
    served=st.integers(0, 12),
    max_vol=st.integers(2, 4),
)
def test_random_formations_keep_every_rule(
    n_officers: int,
    team_sizes: list[int],
    homes: list[str],
    demand: list[float],
    served: int,
    max_vol: int,
) -> None:
    grids = _grids()
    nb = grid_neighbours(grids)
    teams = tuple(_team(f"T{i}", homes[i], n, cap=12.0) for i, n in enumerate(team_sizes))
    res = _resources(officers=n_officers, teams=teams)
    dem = dict(zip("ABCD", demand, strict=True))
    history = {f"T0-V{i}": float(served) for i in range(team_sizes[0])}
    params = GroupParams(min_volunteers=2, max_volunteers=max_vol)
    try:
        f = form_groups(
            res,
            day=MONDAY,
            window=EVENING,
            demand=dem,
            grids=grids,
            params=params,
            history=history,
            time_limit_s=1,
        )
    except InfeasibleError as exc:
        assert exc.constraint in {"volunteers_per_group", "volunteer_home_grid"}
        return
    except InputError as exc:
        assert exc.field == "demand" and not any(v > 0 for v in demand)
        return
    home = {v.id: t.home_grid for t in teams for v in t.members}
    seen: set[str] = set()
    for g in f.groups:
        assert len(g.officer_ids) == 1 and 2 <= len(g.volunteer_ids) <= max_vol
        assert dem[g.grid_id] > 0
        for v in g.volunteer_ids:
            assert g.grid_id in nb[home[v]]
            assert history.get(v, 0.0) + 4.0 <= 12.0
        assert not seen & set(g.members)
        seen |= set(g.members)
    assert sum(f.allocation.values()) == len(f.groups)
