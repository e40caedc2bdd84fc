"""Engines: known optimum, posts, spacing, shift, breaks, determinism, infeasibility, properties."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.engines.base import DEFAULT_ENGINE, ENGINE_NAMES, Engine, Solution, get_engine
from optimizer.engines.check import check_solution
from optimizer.engines.ortools import OrToolsEngine
from optimizer.engines.patrol import PatrolEngine, needs_polish
from optimizer.engines.pyvrp import (
    ITERATIONS_PER_S,
    PyVRPEngine,
    solve_params,
    start_penalty,
    to_pyvrp,
)
from optimizer.engines.schedule import schedule_routes, time_route
from optimizer.errors import InfeasibleError, InputError
from optimizer.problem import PatrolProblem, Site, Vehicle


def engines() -> list[Engine]:
    """Both engines with small deterministic budgets (tests stop on them, not on time)."""
    return [
        OrToolsEngine(solution_limit=300),
        PyVRPEngine(max_iterations=400),
        PatrolEngine(max_iterations=400, solution_limit=30),
    ]


ENGINE_IDS = ["ortools", "pyvrp", "patrol"]


def grid_matrix(points: Sequence[tuple[int, ...]], speed: int = 1) -> np.ndarray:
    """Manhattan travel times (seconds) between integer points."""
    p = np.array(points)
    return (np.abs(p[:, None, :] - p[None, :, :]).sum(axis=2) * speed).astype(np.int64)


def solve_ok(engine: Engine, problem: PatrolProblem, limit: float = 5.0) -> Solution:
    solution = engine.solve(problem, time_limit_s=limit, seed=0)
    assert check_solution(problem, solution) == []
    return solution


# --- a hand-checkable instance -----------------------------------------------------------

# depot at 0; five sites on a cross; 1 vehicle; budget 400 s of travel + dwell.
HAND_POINTS = [(0, 0), (100, 0), (200, 0), (0, 100), (0, -150), (-60, 0)]
HAND_PRIZES = [3.0, 4.0, 2.0, 5.0, 1.0]


def hand_problem() -> PatrolProblem:
    sites = tuple(
        Site(id=f"h{i}", location=i + 1, prize=p, dwell_s=10) for i, p in enumerate(HAND_PRIZES)
    )
    vehicle = Vehicle("v", 0, 0, "foot", shift_end_s=640)
    return PatrolProblem(1, sites, (vehicle,), {"foot": grid_matrix(HAND_POINTS)}, horizon_s=640)


def brute_force(problem: PatrolProblem) -> float:
    """Best prize over every ordered subset (one vehicle)."""
    v = problem.vehicles[0]
    best = 0.0
    n = len(problem.sites)
    for r in range(1, n + 1):
        for perm in itertools.permutations(range(n), r):
            if time_route(problem, v, list(perm)) is not None:
                best = max(best, sum(problem.sites[i].prize for i in perm))
    return best


def test_hand_instance_optimum_is_what_brute_force_says() -> None:
    # By hand (Manhattan, dwell 10 s each, budget 640 s): h0 + h1 + h2 = 3 + 4 + 2 = 9 via
    # 0 -> h2 -> h0 -> h1 -> 0 = 100 + 200 + 100 + 200 = 600 s + 30 s dwell = 630 s. The best
    # with h3 (prize 5) is h3 + h0 (500 + 20 s, prize 8) or h3 + h2 (7); h3 + h4 + h2 and
    # h0 + h1 + h2 + h4 need 650 s and 750 s. So the optimum is 9; brute force agrees.
    assert brute_force(hand_problem()) == 9.0


@pytest.mark.parametrize("engine", engines(), ids=ENGINE_IDS)
def test_both_engines_find_the_known_optimum(engine: Engine) -> None:
    problem = hand_problem()
    solution = solve_ok(engine, problem)
    assert solution.prize == pytest.approx(brute_force(problem))
    assert solution.feasible


# --- posts, spacing, shift, breaks -------------------------------------------------------


def patrol_problem(*, break_s: int = 0) -> PatrolProblem:
    rng = np.random.default_rng(3)
    pts = [(0, 0), (500, 500)] + [
        tuple(int(x) for x in rng.integers(0, 1000, 2)) for _ in range(12)
    ]
    foot = grid_matrix(pts, speed=2)
    car = grid_matrix(pts, speed=1) // 2
    sites = [Site(f"s{i}", 2 + i, float(1 + i % 4), 120) for i in range(10)]
    sites.append(
        Site("school", 12, 0.0, 600, earliest_s=1200, latest_s=1500, required=True, kind="post")
    )
    sites += [
        Site(f"hot#{n}", 13, 6.0, 300, key="hot", visit_number=n, min_spacing_s=2400)
        for n in (1, 2, 3)
    ]
    vehicles = (
        Vehicle(
            "foot",
            0,
            0,
            "foot",
            shift_end_s=3 * 3600,
            break_s=break_s,
            break_earliest_s=3600,
            break_latest_s=7200,
        ),
        Vehicle("car", 1, 0, "car", shift_start_s=600, shift_end_s=3 * 3600),
    )
    return PatrolProblem(2, tuple(sites), vehicles, {"foot": foot, "car": car}, horizon_s=3 * 3600)


@pytest.mark.parametrize("engine", engines(), ids=ENGINE_IDS)
def test_posts_spacing_and_shift(engine: Engine) -> None:
    problem = patrol_problem()
    solution = solve_ok(engine, problem)
    starts = {problem.sites[v.site].id: v.start_s for r in solution.routes for v in r.visits}
    assert 1200 <= starts["school"] <= 1500
    hot = sorted(t for k, t in starts.items() if k.startswith("hot#"))
    assert len(hot) >= 2  # the most valuable point is worth repeating
    assert all(b - a >= 2400 for a, b in itertools.pairwise(hot))
    for r in solution.routes:
        v = problem.vehicles[r.vehicle]
        assert r.start_s >= v.shift_start_s and r.end_s <= v.shift_end_s


@pytest.mark.parametrize("engine", engines(), ids=ENGINE_IDS)
def test_break_fits_in_window(engine: Engine) -> None:
    problem = patrol_problem(break_s=1800)
    solution = solve_ok(engine, problem)
    foot = solution.routes[0]
    if foot.visits:
        assert foot.break_start_s is not None and 3600 <= foot.break_start_s <= 7200
        for v in foot.visits:  # no visit overlaps the break
            assert v.departure_s <= foot.break_start_s or v.start_s >= foot.break_start_s + 1800


@pytest.mark.parametrize("engine", engines(), ids=ENGINE_IDS)
def test_same_seed_same_routes(engine: Engine) -> None:
    problem = patrol_problem()
    a = engine.solve(problem, time_limit_s=20, seed=7)
    b = engine.solve(problem, time_limit_s=20, seed=7)
    assert [[v.site for v in r.visits] for r in a.routes] == [
        [v.site for v in r.visits] for r in b.routes
    ]
    assert a.prize == b.prize
    if isinstance(engine, PyVRPEngine):
        assert a.stats["iteration_cap_reached"] == 1.0  # what makes the routes reproducible


@pytest.mark.parametrize("engine", engines(), ids=ENGINE_IDS)
def test_unreachable_post_window_names_the_constraint(engine: Engine) -> None:
    problem = patrol_problem()
    sites = list(problem.sites)
    # the post closes 10 s after the shift starts; nobody can get there in time
    sites[10] = Site("school", 12, 0.0, 600, earliest_s=0, latest_s=10, required=True, kind="post")
    bad = PatrolProblem(2, tuple(sites), problem.vehicles, problem.durations, problem.horizon_s)
    with pytest.raises(InfeasibleError) as info:
        engine.solve(bad, time_limit_s=2, seed=0)
    assert info.value.constraint == "required_site_window"
    assert "school" in info.value.detail


@pytest.mark.parametrize("engine", engines(), ids=ENGINE_IDS)
def test_two_posts_one_group_conflict(engine: Engine) -> None:
    pts = [(0, 0), (1000, 0), (-1000, 0)]
    sites = (
        Site("gate_a", 1, 0.0, 900, earliest_s=1000, latest_s=1100, required=True),
        Site("gate_b", 2, 0.0, 900, earliest_s=1000, latest_s=1100, required=True),
    )
    problem = PatrolProblem(
        1, sites, (Vehicle("v", 0, 0, "foot", shift_end_s=7200),), {"foot": grid_matrix(pts)}, 7200
    )
    with pytest.raises(InfeasibleError) as info:
        engine.solve(problem, time_limit_s=2, seed=0)
    assert info.value.constraint == "required_site"
    assert "gate_" in info.value.detail


def test_get_engine_names_and_errors() -> None:
    assert DEFAULT_ENGINE in ENGINE_NAMES
    for name in ENGINE_NAMES:
        assert get_engine(name).name == name
    with pytest.raises(InputError) as info:
        get_engine("gurobi")
    assert info.value.field == "engine"
    with pytest.raises(InputError):
        OrToolsEngine().solve(hand_problem(), time_limit_s=0, seed=0)


def test_checker_catches_a_broken_solution() -> None:
    problem = hand_problem()
    good = solve_ok(PyVRPEngine(max_iterations=200), problem)
    r = good.routes[0]
    v0 = r.visits[0]
    broken_visit = type(v0)(v0.site, v0.arrival_s - 50, v0.start_s - 50, v0.departure_s - 50)
    broken = type(good)(
        routes=(type(r)(r.vehicle, (broken_visit, *r.visits[1:]), r.start_s, r.end_s),),
        prize=good.prize,
        feasible=True,
        engine="x",
        runtime_s=0,
        seed=0,
        dropped=good.dropped,
    )
    assert any("arrives" in e for e in check_solution(problem, broken))


def test_patrol_engine_polishes_spacing_at_least_as_well_as_pyvrp() -> None:
    problem = patrol_problem()
    assert needs_polish(problem) and not needs_polish(hand_problem())
    pyvrp = solve_ok(PyVRPEngine(max_iterations=400), problem)
    patrol = solve_ok(PatrolEngine(max_iterations=400, solution_limit=30), problem)
    assert patrol.prize >= pyvrp.prize
    assert patrol.engine == "patrol"


# --- property: every solution of small random instances passes the checker ---------------


@st.composite
def small_problems(draw: st.DrawFn) -> PatrolProblem:
    n_sites = draw(st.integers(1, 7))
    n_veh = draw(st.integers(1, 2))
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    pts = [(0, 0)] + [tuple(int(x) for x in rng.integers(-600, 600, 2)) for _ in range(n_sites)]
    mat = grid_matrix(pts)
    sites = []
    for i in range(n_sites):
        early = int(rng.integers(0, 2000))
        windowed = rng.random() < 0.4
        sites.append(
            Site(
                f"s{i}",
                1 + i,
                float(rng.integers(1, 10)),
                int(rng.integers(0, 300)),
                earliest_s=early if windowed else 0,
                latest_s=early + int(rng.integers(0, 1500)) if windowed else None,
            )
        )
    if draw(st.booleans()):
        sites += [
            Site(f"rep#{k}", 1, 3.0, 60, key="rep", visit_number=k, min_spacing_s=900)
            for k in (1, 2)
        ]
    vehicles = tuple(
        Vehicle(
            f"v{k}",
            0,
            0,
            "walk",
            shift_end_s=3600,
            break_s=600 if draw(st.booleans()) else 0,
            break_earliest_s=1200,
            break_latest_s=2400,
        )
        for k in range(n_veh)
    )
    return PatrolProblem(1, tuple(sites), vehicles, {"walk": mat}, horizon_s=3600)


@pytest.mark.parametrize("name", ENGINE_IDS)
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=small_problems())
def test_random_small_instances_are_feasible(name: str, problem: PatrolProblem) -> None:
    engine = (
        OrToolsEngine(solution_limit=100) if name == "ortools" else PyVRPEngine(max_iterations=150)
    )
    solution = engine.solve(problem, time_limit_s=1, seed=1)
    assert check_solution(problem, solution) == []
    assert solution.prize >= 0


def test_scheduler_spaces_copies_across_routes_and_falls_back_safely() -> None:
    mat = np.array([[0, 100], [100, 0]], dtype=np.int64)
    sites = tuple(
        Site(f"r{k}", 1, 1.0, 60, key="r", visit_number=k, min_spacing_s=600) for k in (1, 2, 3)
    )
    vehicles = (
        Vehicle("a", 0, 0, "f", shift_end_s=3000),
        Vehicle("b", 0, 0, "f", shift_end_s=3000),
    )
    problem = PatrolProblem(1, sites, vehicles, {"f": mat}, 3000)
    timed, removed = schedule_routes(problem, [[0], [1, 2]])
    assert removed == []
    assert [[(v.site, v.start_s) for v in t.visits] for t in timed] == [
        [(0, 100)],
        [(1, 700), (2, 1300)],
    ]
    timed, removed = schedule_routes(problem, [[0], [1, 2]], max_rounds=1)  # no fix-point yet
    visited = {v.site for t in timed for v in t.visits}
    assert sorted(removed) == [1, 2] and visited == {0}


def test_pyvrp_iteration_cap_scales_and_penalty_cap_exceeds_prizes() -> None:
    assert PyVRPEngine().iteration_cap(2.0) == 2 * ITERATIONS_PER_S
    assert PyVRPEngine(max_iterations=300).iteration_cap(9.0) == 300
    assert PyVRPEngine(max_iterations=None).iteration_cap(9.0) is None
    data, _ = to_pyvrp(hand_problem())
    top = max(c.prize for c in data.clients())
    assert solve_params(data).penalty.max_penalty > top


def test_start_penalty_follows_prizes_and_hops_and_stays_under_the_cap() -> None:
    problem = hand_problem()
    data, _ = to_pyvrp(problem)
    base = start_penalty(problem, data)
    assert 0 < base < solve_params(data).penalty.max_penalty
    # twice the travel times: a typical hop is twice as long, so each unit of excess costs half
    slow = PatrolProblem(
        problem.n_depots,
        problem.sites,
        problem.vehicles,
        {"foot": problem.durations["foot"] * 2},
        horizon_s=problem.horizon_s,
    )
    slow_data, _ = to_pyvrp(slow)
    top = max(c.prize for c in data.clients())
    slow_top = max(c.prize for c in slow_data.clients())
    assert start_penalty(slow, slow_data) == pytest.approx(base / 2 * slow_top / top, rel=1e-6)


def test_parallel_searches_keep_the_best_and_reject_bad_counts() -> None:
    problem = hand_problem()
    one = PyVRPEngine(max_iterations=200, searches=1).solve(problem, time_limit_s=5, seed=3)
    two = PyVRPEngine(max_iterations=200, searches=2).solve(problem, time_limit_s=5, seed=3)
    assert two.stats["searches"] == 2 and one.stats["searches"] == 1
    assert two.prize >= one.prize  # the first of the two searches is the single one
    assert check_solution(problem, two) == []
    with pytest.raises(InputError, match="searches"):
        PyVRPEngine(searches=0)


def _large_spaced_problem(n_hotspots: int, vehicles: int, seed: int = 0) -> PatrolProblem:
    """Hundreds of sites with spaced repeat passes: far more than any cell of a plan."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 3000, size=(n_hotspots + 1, 2))
    base = np.rint(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) / 1.4)
    locs = [0]
    sites = []
    for h in range(n_hotspots):
        for k in range(3):
            locs.append(h + 1)
            sites.append(
                Site(
                    f"H{h}#{k + 1}",
                    len(locs) - 1,
                    float(rng.uniform(0.1, 1.0)) * 0.6**k,
                    600,
                    earliest_s=k * 3600,
                    key=f"H{h}",
                    visit_number=k + 1,
                    min_spacing_s=1800 if k else 0,
                )
            )
    idx = np.asarray(locs)
    durations = {"foot": base[np.ix_(idx, idx)].astype(np.int64)}
    fleet = tuple(Vehicle(f"G{v}", 0, 0, "foot", 0, 4 * 3600) for v in range(vehicles))
    return PatrolProblem(1, tuple(sites), fleet, durations, 4 * 3600)


def test_the_time_cap_holds_on_a_pathological_problem() -> None:
    """A work limit far beyond what the cap allows: the wall-clock safety cap stops the search,
    the answer is feasible, and the engine says the cap bound (the plan would report it)."""
    import time

    from optimizer.engines.base import WorkLimit

    problem = _large_spaced_problem(200, 6)
    huge = WorkLimit(pyvrp_iterations=10**7, ortools_solutions=10**6, polish_solutions=10**6)
    cap = 3.0
    started = time.perf_counter()
    solution = get_engine("patrol", work=huge).solve(problem, time_limit_s=cap, seed=0)
    elapsed = time.perf_counter() - started
    # a safety cap, not a benchmark: generous for a loaded machine, far below the work asked
    assert elapsed < 3 * cap + 10, elapsed
    assert solution.stats["time_cap_bound"] == 1.0
    assert check_solution(problem, solution) == []
    assert solution.prize > 0
