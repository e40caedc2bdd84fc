"""The synthetic roster at the bureau's scale on a real Chinese district, and its invariants."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import shapely

from optimizer.district import District
from optimizer.errors import InputError
from optimizer.importer import import_district
from optimizer.staff.roster import resources_from_json, resources_to_json
from optimizer.synthetic.people import china_id_check
from optimizer.synthetic.roster import RosterScale, officer_shifts, synthetic_roster
from optimizer.timewindow import DEFAULT_WINDOWS

BUREAU = RosterScale(officers=302, volunteers=690, teams=15, posts=24, stations=4)


@pytest.fixture(scope="module")
def longgang(shared_osm: Path, tmp_path_factory: pytest.TempPathFactory) -> District:
    """Shenzhen Longgang with 2 / 13 / 91 generated cells (its roster is replaced below)."""
    result = import_district(
        "longgang",
        shared_osm / "shenzhen_longgang.osm",
        auto="2,13,91",
        timezone="Asia/Shanghai",
        data_dir=tmp_path_factory.mktemp("roster_gen"),
        check_grid_graphs=False,
    )
    return result.district


@pytest.mark.slow
def test_bureau_scale_roster_on_longgang(longgang: District) -> None:
    res = synthetic_roster(
        longgang.grids, longgang.graph, scale=BUREAU, seed=0, timezone="Asia/Shanghai"
    )
    # Counts.
    assert len(res.officers) == 302 and len(res.volunteers) == 690 and len(res.teams) == 15
    assert len(res.stations) == 4
    schools = [p for p in res.posts if p.purpose == "school gate"]
    assert len(schools) == 24 and len(res.posts) == 24 + BUREAU.hospital_post_count
    # Every default window has about a third of the officers on duty for the whole window.
    monday = dt.date(2026, 12, 7)
    for window in DEFAULT_WINDOWS:
        on_duty = sum(o.available(monday, window) for o in res.officers)
        assert 95 <= on_duty <= 106, (window, on_duty)
    assert {o.mode for o in res.officers} == {"foot", "bicycle", "car"}
    # Home cells, posts and muster points lie in the district; posts on street nodes inside them.
    leaf = longgang.grids[longgang.grids["level"] == 3]
    assert {res.home_grid(v) for v in res.volunteers} <= set(leaf.index)
    assert len({res.home_grid(v) for v in res.volunteers}) >= 45  # spread over the district
    nodes = {(round(d["lon"], 7), round(d["lat"], 7)) for _, d in longgang.graph.nodes(data=True)}
    for p in res.posts:
        assert (p.lon, p.lat) in nodes, p.id
        assert leaf.loc[p.grid_id].geometry.covers(shapely.Point(p.lon, p.lat)), p.id
        assert p.windows and all(w.minutes > 0 for w in p.windows)
    for s in res.stations:
        assert (s.lon, s.lat) in nodes
    level2 = set(longgang.grids.index[longgang.grids["level"] == 2])
    police = [m for m in res.muster_points if m.kind in {"police post", "community office"}]
    assert {m.grid_id for m in police} == level2
    # Chinese names, phones and ID numbers with a valid check character and no real province.
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,3}", o.name) for o in res.officers)
    for v in res.volunteers:
        assert v.id_number is not None and v.id_number.startswith("99")
        assert china_id_check(v.id_number[:17]) == v.id_number[17]
        assert v.phone is not None and re.fullmatch(r"17[01]\d{8}", v.phone)
        assert v.availability and 0 < v.max_hours_week <= 20
    # It passes the roster's own validation, and the same seed gives the same roster.
    assert resources_from_json(resources_to_json(res)) == res
    again = synthetic_roster(
        longgang.grids, longgang.graph, scale=BUREAU, seed=0, timezone="Asia/Shanghai"
    )
    other = synthetic_roster(
        longgang.grids, longgang.graph, scale=BUREAU, seed=1, timezone="Asia/Shanghai"
    )
    assert resources_to_json(again) == resources_to_json(res)
    assert resources_to_json(other) != resources_to_json(res)


def test_other_names_outside_china(longgang: District) -> None:
    small = RosterScale(officers=6, volunteers=10, teams=2, posts=2, stations=1)
    res = synthetic_roster(
        longgang.grids, longgang.graph, scale=small, timezone="America/Los_Angeles"
    )
    assert all(re.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+", o.name) for o in res.officers)


def test_scale_follows_the_district() -> None:
    assert RosterScale.for_cells(91) == RosterScale()
    tiny = RosterScale.for_cells(4)
    assert tiny.officers >= 6 and tiny.teams >= 2 and tiny.stations == 1


def test_officer_shifts_cover_the_default_windows() -> None:
    shifts = officer_shifts()
    assert [s.label() for s in shifts] == ["06:30-14:30", "13:30-21:30", "18:30-02:30"]
    day = dt.date(2026, 12, 7)
    for shift, window in zip(shifts, DEFAULT_WINDOWS, strict=True):
        s0, s1 = shift.on(day)
        w0, w1 = window.on(day)
        assert s0 <= w0 and w1 <= s1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"officers": 0}, "officers"),
        ({"stations": 0}, "stations"),
        ({"volunteers": 5, "teams": 6}, "teams"),
        ({"posts": -1}, "posts"),
        ({"hospital_posts": 1.5}, "hospital_posts"),
    ],
)
def test_bad_scale_names_its_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as err:
        RosterScale(**kwargs)  # type: ignore[arg-type]
    assert err.value.field == field
