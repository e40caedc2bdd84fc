"""A city planned as one job: every district's plan is the one ``plan_day`` makes alone."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from optimizer.district import District
from optimizer.errors import InputError
from optimizer.plan.city import plan_city
from optimizer.plan.day import plan_day
from optimizer.plan.solve import LocalPool
from optimizer.synthetic.city import SHARED_CITY, city_subset, import_city
from tests.conftest import DEMO_DAY, comparable

pytestmark = pytest.mark.slow  # plans whole days: full run only, not the fast lane

EVENING = "19:00-23:00"


@pytest.fixture(scope="module")
def city(demo: District) -> list[District]:
    """Two districts: the demo and a copy of it under another name."""
    return [demo, dataclasses.replace(demo, name="demo-east")]


def test_each_district_gets_its_own_day_plan(city: list[District]) -> None:
    kwargs: dict[str, Any] = {"day": DEMO_DAY, "windows": [EVENING], "grid_level": 2, "seed": 2}
    calls: list[tuple[int, int]] = []
    with LocalPool(2) as pool:
        both = plan_city(
            city,
            executor=pool,
            districts_at_once=2,
            progress=lambda done, total, _msg: calls.append((done, total)),
            **kwargs,
        )
    alone = [plan_day(d, **kwargs) for d in city]
    one_by_one = plan_city(city, districts_at_once=1, **kwargs)
    assert [p.district for p in both.plans] == ["demo", "demo-east"]
    for a, b, c in zip(alone, both.plans, one_by_one.plans, strict=True):
        assert comparable(a) == comparable(b) == comparable(c)
    assert both.plan_of("demo-east").district == "demo-east"
    problems = sum(t.problems for t in both.timings)
    assert problems >= 2 and calls[-1] == (problems, problems)
    assert [c[0] for c in calls] == list(range(1, problems + 1))
    assert both.metrics["districts"] == 2 and both.metrics["cells"] == 6
    assert both.metrics["groups"] == sum(p.metrics["groups"] for p in alone)
    assert both.metrics["solve_reruns"] == 0
    frame = both.timings_frame()
    assert list(frame["district"]) == ["demo", "demo-east"]
    assert (frame[["build_s", "solve_s", "assemble_s"]] >= 0).all().all()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"districts": []}, "districts"),
        ({"districts_at_once": 0}, "districts_at_once"),
    ],
)
def test_bad_city_names_the_field(city: list[District], kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as info:
        plan_city(**{"districts": city, "day": DEMO_DAY, **kwargs})
    assert info.value.field == field


def test_two_districts_of_one_name_are_refused(demo: District) -> None:
    with pytest.raises(InputError) as info:
        plan_city([demo, demo], day=DEMO_DAY)
    assert info.value.field == "districts"


def test_the_shared_city_has_a_thousand_cells() -> None:
    assert [d.name for d in city_subset(91)] == ["longgang"]
    assert sum(d.cells for d in city_subset(300)) == 301
    assert sum(d.cells for d in city_subset(1000)) == 1001
    assert city_subset(1017) == list(SHARED_CITY)
    assert sum(d.cells for d in SHARED_CITY) == 1017
    with pytest.raises(InputError):
        city_subset(5000)


def test_a_city_of_small_real_extracts(shared_osm: Path, tmp_path: Path) -> None:
    small = [d for d in SHARED_CITY if d.name in ("fengxian", "ninghua")]
    folders = import_city(small, osm_dir=shared_osm, data_dir=tmp_path)
    assert [f.name for f in folders] == ["fengxian", "ninghua"]
    plan = plan_city(folders, day=DEMO_DAY, windows=[EVENING], grid_level=3, seed=1)
    assert plan.metrics["cells"] == 16 and plan.metrics["groups"] > 0
    assert import_city(small, osm_dir=shared_osm, data_dir=tmp_path) == folders  # kept
