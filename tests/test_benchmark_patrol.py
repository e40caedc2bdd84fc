"""The patrol benchmark's instance builder and figures (benchmarks/patrol.py) on the demo."""

from __future__ import annotations

import datetime as dt

import pytest

from benchmarks import patrol as bench
from optimizer.district import District
from optimizer.engines.base import ENGINE_NAMES, get_engine
from optimizer.engines.check import check_solution
from optimizer.problem import PatrolProblem
from optimizer.risk.hotspots import HotspotParams
from optimizer.timewindow import TimeWindow

MONDAY = dt.date(2026, 11, 30)  # a school day: school gates and the hospital hall on duty
AFTERNOON = TimeWindow.parse("14:00-18:00")


@pytest.fixture(scope="module")
def whole(demo: District) -> PatrolProblem:
    (problem,) = bench.grid_window_problems(
        demo, day=MONDAY, windows=[AFTERNOON], level=1, hotspot_level=2
    )
    return problem


def test_whole_district_has_posts_copies_and_mixed_groups(whole: PatrolProblem) -> None:
    posts = [s for s in whole.sites if s.required]
    assert {s.kind for s in posts} == {"post"}
    assert len(posts) >= 2  # a school gate at 16:30 and the hospital hall until 18:00
    assert all(s.latest_s is not None and s.earliest_s <= s.latest_s for s in posts)
    copies: dict[str, int] = {}
    for s in whole.sites:
        if not s.required:
            copies[s.key or s.id] = copies.get(s.key or s.id, 0) + 1
    assert max(copies.values()) >= 2  # repeat passes of a hotspot
    assert any(s.min_spacing_s > 0 for s in whole.sites if s.visit_number > 1)
    assert len(whole.vehicles) >= 2
    assert len({v.mode for v in whole.vehicles}) >= 2
    size = bench.Instance("demo-L1", whole).describe()
    assert size["sites"] == len(whole.sites)
    assert size["posts"] == len(posts)
    assert size["hotspots"] == len(copies)
    assert sum(size["modes"].values()) == len(whole.vehicles)


def test_whole_district_is_feasible(whole: PatrolProblem) -> None:
    solution = get_engine("ortools").solve(whole, time_limit_s=2, seed=0)
    assert check_solution(whole, solution) == []
    visited = {v.site for r in solution.routes for v in r.visits}
    assert all(i in visited for i, s in enumerate(whole.sites) if s.required)
    assert bench.violations(whole, solution) == []


def test_sector_hotspots_cut_in_finer_cells(demo: District) -> None:
    default = bench.grid_window_problems(demo, day=MONDAY, windows=[AFTERNOON], grid_ids=["D-2"])
    finer = bench.grid_window_problems(
        demo, day=MONDAY, windows=[AFTERNOON], grid_ids=["D-2"], hotspot_level=3
    )
    assert len(default) == len(finer) == 1
    cap = HotspotParams().max_per_grid
    n_default = bench.Instance("x", default[0]).n_hotspots
    n_finer = bench.Instance("x", finer[0]).n_hotspots
    assert n_default <= cap + 1 < n_finer
    # the sector planned alone gets every group of the window
    assert len(finer[0].vehicles) >= 3


@pytest.mark.slow  # three engines on a whole district: full run only, not the fast lane
def test_compare_engines_figures(whole: PatrolProblem) -> None:
    instances = [bench.Instance("demo-L1", whole)]
    solvers = bench.engine_solvers()
    assert list(solvers) == list(ENGINE_NAMES)
    compared = bench.compare_engines(instances, solvers, 0.2)
    figures = compared["engines"]
    assert set(figures) == set(ENGINE_NAMES)
    (row,) = compared["per_instance"]
    assert row["family"] == "demo-L1" and set(row["values"]) == set(ENGINE_NAMES)
    # a loaded machine may stop an engine before its first solution: counted as refused
    answered = {name: v[0] is not None for name, v in row["values"].items()}
    assert compared["common_instances"] == int(all(answered.values()))
    best = max(v[0] or 0.0 for v in row["values"].values())
    # on every instance some engine is the best: its gap to the best is 0
    assert max(f["at_best"] for f in figures.values()) == 1
    for name, f in figures.items():
        assert f["infeasible"] == 0
        assert f["refused_at_T"] == int(not answered[name])
        assert 0.0 <= f["gap_to_best_mean"] <= 1.0
        assert f["gap_to_best_by_family"] == {"demo-L1": f["gap_to_best_mean"]}
        v_t = row["values"][name][0] or 0.0
        assert f["gap_to_best_mean"] == pytest.approx(1 - v_t / best, abs=1e-5)
    winner = bench.best_engine(figures)
    assert figures[winner]["gap_to_best_mean"] == min(
        f["gap_to_best_mean"] for f in figures.values()
    )


def test_best_engine_breaks_ties_on_infeasible_then_gap() -> None:
    base = {"gap_to_best_mean": 0.0, "infeasible": 0, "refused": 0, "gap_to_10x_mean": 0.01}
    figures = {
        "a": {**base, "infeasible": 1},
        "b": {**base, "gap_to_10x_mean": 0.02},
        "c": dict(base),
        "d": {**base, "gap_to_best_mean": 0.001},
    }
    assert bench.best_engine(figures) == "c"
