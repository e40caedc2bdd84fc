"""Day-to-day unpredictability within a bounded loss of covered value.

Offenders learn fixed routes, so consecutive days should not repeat the same hotspots in the
same order. :func:`solve_with_variation` solves a problem twice: unperturbed (the baseline) and
with prizes perturbed by seeded noise (seed derived from the date and the base seed) and
discounted where the previous day already went. The perturbed solution is kept only if its
*true* value (original prizes) is at least ``(1 - max_value_loss)`` of the baseline's; otherwise
the perturbation is halved and tried again, and after ``max_attempts`` the baseline is used.

:func:`route_overlap` measures how alike two plans are (Jaccard of visited hotspots and of
consecutive stop pairs), to be reported in the plan's metrics.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from optimizer.engines.base import Route, Solution, Visit, get_engine
from optimizer.errors import InfeasibleError, InputError
from optimizer.problem import PatrolProblem

if TYPE_CHECKING:  # plan.py may call into this module: no import cycle at run time
    from optimizer.plan.types import DayPlan, WindowPlan

SolveFn = Callable[[PatrolProblem, float, int], Solution]
"""``solve(problem, time_limit_s, seed) -> Solution``."""


@dataclass(frozen=True)
class VariationParams:
    """How much a day's routes may differ from the best-known one.

    Parameters
    ----------
    max_value_loss
        Largest share of the baseline's covered value the variation may cost (0.03: 3 %).
    strength
        Relative amplitude of the seeded prize noise: a prize becomes ``prize * (1 + strength*u)``
        with ``u`` uniform in [-1, 1].
    novelty
        Prize discount for hotspots the previous day visited (0: none, 0.3: 30 % cheaper).
    order_strength
        Travel times the solver sees are inflated by up to this share per arc (seeded), which
        changes the order of visits. Times are only ever inflated, so a route that fits the
        inflated times fits the real ones (the group arrives earlier and keeps its schedule).
    max_attempts
        Perturbed solves tried, halving all strengths each time, before falling back to the
        baseline.
    """

    max_value_loss: float = 0.03
    strength: float = 0.5
    novelty: float = 0.3
    order_strength: float = 0.3
    max_attempts: int = 3

    def __post_init__(self) -> None:
        if not 0 <= self.max_value_loss < 1:
            raise InputError("max_value_loss", self.max_value_loss, "a share in [0, 1)")
        if not 0 <= self.strength <= 1:
            raise InputError("strength", self.strength, "a number in [0, 1]")
        if not 0 <= self.novelty < 1:
            raise InputError("novelty", self.novelty, "a number in [0, 1)")
        if not 0 <= self.order_strength <= 1:
            raise InputError("order_strength", self.order_strength, "a number in [0, 1]")
        if self.max_attempts < 1:
            raise InputError("max_attempts", self.max_attempts, "an integer >= 1")


@dataclass(frozen=True)
class VariedSolution:
    """The solution kept and how it compares with the unperturbed baseline."""

    solution: Solution
    baseline: Solution
    baseline_value: float
    value: float
    """True value (original prizes) of ``solution``."""
    loss: float
    """``1 - value / baseline_value`` (negative when the variation happened to do better)."""
    strength: float
    """Noise amplitude of the kept solution; 0 when the baseline was kept."""
    attempts: int
    overlap: float
    """Jaccard overlap of visited sites between ``solution`` and ``baseline``."""
    runtime_s: float


def day_seed(day: dt.date, base_seed: int = 0) -> int:
    """Return a reproducible seed for ``day``: the same date and base seed give the same seed."""
    digest = hashlib.sha256(f"{day.isoformat()}|{int(base_seed)}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def _key(problem: PatrolProblem, i: int) -> str:
    site = problem.sites[i]
    return site.key or site.id


def perturb_problem(
    problem: PatrolProblem,
    *,
    seed: int,
    strength: float,
    novelty: float = 0.0,
    previous: Collection[str] = (),
    order_strength: float = 0.0,
) -> PatrolProblem:
    """Return ``problem`` with seeded noise on the prizes of optional sites.

    Parameters
    ----------
    problem
        The problem; required sites (posts) are left as they are.
    seed
        Noise seed (see :func:`day_seed`).
    strength
        Relative amplitude: ``prize * (1 + strength * u)``, ``u`` uniform in [-1, 1]. All visits
        of one hotspot share ``u``.
    novelty
        Discount on sites whose key is in ``previous``.
    previous
        Site keys (hotspot ids) visited on the previous day.
    order_strength
        Inflate each travel time by a seeded factor in ``[1, 1 + order_strength]``.

    Returns
    -------
    PatrolProblem
        Same sites in the same order (solutions map back by index), new prizes.
    """
    rng = np.random.default_rng(seed)
    keys = sorted({_key(problem, i) for i in range(len(problem.sites))})
    noise = dict(zip(keys, rng.uniform(-1.0, 1.0, size=len(keys)), strict=True))
    prev = set(previous)
    sites = []
    for i, s in enumerate(problem.sites):
        if s.required or s.prize <= 0:
            sites.append(s)
            continue
        k = _key(problem, i)
        prize = s.prize * (1.0 + strength * float(noise[k]))
        if k in prev:
            prize *= 1.0 - novelty
        sites.append(replace(s, prize=max(prize, 1e-9)))
    durations = dict(problem.durations)
    if order_strength > 0:
        n = problem.n_locations
        factor = 1.0 + order_strength * rng.uniform(0.0, 1.0, size=(n, n))
        durations = {
            mode: np.ceil(m * factor).astype(np.int64) for mode, m in problem.durations.items()
        }
    return replace(problem, sites=tuple(sites), durations=durations)


def retime(problem: PatrolProblem, solution: Solution) -> Solution:
    """Return ``solution`` with arrivals and route ends recomputed on ``problem``'s times.

    Service starts are kept (a group that arrives early waits), so a solution found on
    inflated travel times stays valid and keeps its schedule.
    """
    routes = []
    for r in solution.routes:
        v = problem.vehicles[r.vehicle]
        t = problem.durations[v.mode]
        here, clock = v.start_location, r.start_s
        visits = []
        for visit in r.visits:
            loc = problem.sites[visit.site].location
            arrival = clock + int(t[here, loc])
            start = max(arrival, visit.start_s)
            departure = start + (visit.departure_s - visit.start_s)
            visits.append(Visit(visit.site, arrival, start, departure))
            here, clock = loc, departure
        routes.append(
            Route(r.vehicle, tuple(visits), r.start_s, clock + int(t[here, v.end_location]))
        )
    return replace(solution, routes=tuple(routes))


def solution_value(problem: PatrolProblem, solution: Solution) -> float:
    """Return the value of the sites ``solution`` visits, at ``problem``'s prizes."""
    return float(sum(problem.sites[v.site].prize for r in solution.routes for v in r.visits))


def visited_keys(problem: PatrolProblem, solution: Solution) -> set[str]:
    """Return the keys (hotspot / post ids) of the sites ``solution`` visits."""
    return {_key(problem, v.site) for r in solution.routes for v in r.visits}


def _pairs(problem: PatrolProblem, solution: Solution) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for r in solution.routes:
        keys = [_key(problem, v.site) for v in r.visits]
        out.update(itertools.pairwise(keys))
    return out


def jaccard(a: Collection[object], b: Collection[object]) -> float:
    """Return ``|a & b| / |a | b|``; two empty sets are identical (1.0)."""
    sa, sb = set(a), set(b)
    union = sa | sb
    return 1.0 if not union else len(sa & sb) / len(union)


def solution_overlap(problem: PatrolProblem, a: Solution, b: Solution) -> dict[str, float]:
    """Overlap of two solutions of one problem: visited sites and consecutive pairs (Jaccard)."""
    visits = jaccard(visited_keys(problem, a), visited_keys(problem, b))
    pairs = jaccard(_pairs(problem, a), _pairs(problem, b))
    return {"visits": visits, "pairs": pairs, "overlap": (visits + pairs) / 2}


def _engine_solve(engine: str) -> SolveFn:
    """``solve(problem, time_limit_s, seed)`` with the named engine and a time limit."""

    def solve(problem: PatrolProblem, time_limit_s: float, seed: int) -> Solution:
        return get_engine(engine).solve(problem, time_limit_s=time_limit_s, seed=seed)

    return solve


def solve_with_variation(
    problem: PatrolProblem,
    *,
    day: dt.date,
    seed: int = 0,
    engine: str = "ortools",
    time_limit_s: float = 5.0,
    params: VariationParams | None = None,
    previous: Collection[str] = (),
    baseline: Solution | None = None,
    solve: SolveFn | None = None,
) -> VariedSolution:
    """Solve ``problem`` with day-to-day variation bounded by ``params.max_value_loss``.

    Parameters
    ----------
    problem
        The routing problem of one grid and window.
    day
        The date planned; with ``seed`` it fixes the perturbation (:func:`day_seed`).
    seed
        Base seed of the plan.
    engine
        Engine name, used when ``solve`` is None.
    time_limit_s
        Time limit of each solve (baseline and every attempt).
    params
        Variation settings; :class:`VariationParams` defaults when None.
    previous
        Site keys visited by the previous day's plan, discounted by ``params.novelty``.
    baseline
        A baseline solution already at hand (skips the unperturbed solve).
    solve
        ``solve(problem, time_limit_s, seed)``; defaults to ``get_engine(engine).solve``.

    Returns
    -------
    VariedSolution
        The kept solution, its value and loss against the baseline, the strength used.
    """
    params = params or VariationParams()
    if not time_limit_s > 0:
        raise InputError("time_limit_s", time_limit_s, "a number of seconds > 0")
    run = solve or _engine_solve(engine)
    started = time.perf_counter()
    s = day_seed(day, seed)
    base = baseline if baseline is not None else run(problem, time_limit_s, seed)
    base_value = solution_value(problem, base)
    floor = (1.0 - params.max_value_loss) * base_value
    strength, novelty, order = params.strength, params.novelty, params.order_strength
    kept, kept_strength, attempts = base, 0.0, 0
    if strength > 0 or order > 0 or (novelty > 0 and previous):
        for attempt in range(params.max_attempts):
            attempts = attempt + 1
            varied = perturb_problem(
                problem,
                seed=s + attempt,
                strength=strength,
                novelty=novelty,
                previous=previous,
                order_strength=order,
            )
            try:
                candidate = retime(problem, run(varied, time_limit_s, s + attempt))
            except InfeasibleError:  # the perturbed times made a post unreachable: shrink
                strength, novelty, order = strength / 2, novelty / 2, order / 2
                continue
            ok = candidate.feasible or not base.feasible
            if ok and solution_value(problem, candidate) >= floor - 1e-9:
                kept, kept_strength = candidate, strength
                break
            strength, novelty, order = strength / 2, novelty / 2, order / 2
    value = solution_value(problem, kept)
    return VariedSolution(
        solution=kept,
        baseline=base,
        baseline_value=base_value,
        value=value,
        loss=(1.0 - value / base_value) if base_value > 0 else 0.0,
        strength=kept_strength,
        attempts=attempts,
        overlap=jaccard(visited_keys(problem, kept), visited_keys(problem, base)),
        runtime_s=time.perf_counter() - started,
    )


def _windows(plan: Any) -> tuple[WindowPlan, ...]:
    """A DayPlan's windows, or a WindowPlan alone."""
    return tuple(plan.windows) if hasattr(plan, "windows") else (plan,)


def _stop_sets(windows: Iterable[WindowPlan]) -> tuple[set[tuple[str, ...]], set[tuple[str, ...]]]:
    visits: set[tuple[str, ...]] = set()
    pairs: set[tuple[str, ...]] = set()
    for wp in windows:
        w = wp.window.label()
        for route in wp.routes:
            ids = [s.site_id for s in route.stops if s.kind in ("hotspot", "post")]
            visits.update((w, sid) for sid in ids if sid)
            pairs.update((w, a, b) for a, b in itertools.pairwise(ids))
    return visits, pairs


def route_overlap(plan_a: DayPlan | WindowPlan, plan_b: DayPlan | WindowPlan) -> dict[str, float]:
    """Return how alike two plans' routes are (e.g. consecutive days).

    Parameters
    ----------
    plan_a, plan_b
        Two day plans, or two window plans.

    Returns
    -------
    dict
        ``visits``: Jaccard of visited (window, hotspot or post) sets; ``pairs``: Jaccard of
        consecutive stop pairs (the order); ``overlap``: their mean. 1.0 means identical routes.
    """
    va, pa = _stop_sets(_windows(plan_a))
    vb, pb = _stop_sets(_windows(plan_b))
    visits, pairs = jaccard(va, vb), jaccard(pa, pb)
    return {
        "visits": round(visits, 4),
        "pairs": round(pairs, 4),
        "overlap": round((visits + pairs) / 2, 4),
    }


def visited_site_ids(plan: DayPlan | WindowPlan) -> set[str]:
    """Return the hotspot ids a plan visits (pass as ``previous`` to the next day)."""
    return {
        s.site_id
        for wp in _windows(plan)
        for r in wp.routes
        for s in r.stops
        if s.kind == "hotspot"
    }
