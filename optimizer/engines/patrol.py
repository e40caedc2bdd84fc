"""The service's combined engine: PyVRP's search, then OR-Tools local search for spacing.

PyVRP (hybrid iterated local search) finds good prize-collecting routes fast but knows
neither repeat-visit spacing nor breaks (see :mod:`optimizer.engines.pyvrp`); OR-Tools routing
models both exactly. This engine:

1. solves with :class:`~optimizer.engines.pyvrp.PyVRPEngine` (iteration-capped) — the whole
   time limit when the problem has no spaced repeat visits and no breaks (then PyVRP's model
   is exact, as on the TOP/OPTW benchmarks), else half of it;
2. in the second case, hands the repaired, feasible PyVRP routes to OR-Tools as the initial
   assignment and runs OR-Tools guided local search from them, capped at 50 solutions, within
   the rest of the time; the better of the two (prize, then shorter total route time) is
   returned;
3. when PyVRP's routes cannot serve every required post, OR-Tools (which models posts,
   spacing and breaks exactly) solves from scratch in the remaining time; only if that fails
   too is :class:`~optimizer.errors.InfeasibleError` raised.

Seed and determinism: the seed goes to PyVRP (iteration cap: by default
``pyvrp.ITERATIONS_PER_S`` per second of its share of the time limit, see
:class:`~optimizer.engines.pyvrp.PyVRPEngine`); the OR-Tools phase has no randomness. The
result is the same for the same seed only when both caps are reached before the time limit;
on large instances the time limit binds first and a loaded machine may change the routes.
Without spacing or breaks (e.g. TOP/OPTW) there is no polish: PyVRP gets the whole limit.
"""

from __future__ import annotations

import time
from typing import Literal

from optimizer.engines.base import Solution
from optimizer.engines.ortools import OrToolsEngine
from optimizer.engines.pyvrp import PyVRPEngine
from optimizer.errors import InfeasibleError, InputError
from optimizer.problem import PatrolProblem


def needs_polish(problem: PatrolProblem) -> bool:
    """True when PyVRP's model is approximate: spaced repeat visits or breaks."""
    keys: dict[str, int] = {}
    for s in problem.sites:
        keys[s.key or s.id] = keys.get(s.key or s.id, 0) + 1
    spaced = any(s.min_spacing_s > 0 and keys[s.key or s.id] > 1 for s in problem.sites)
    return spaced or any(v.break_s > 0 for v in problem.vehicles)


def _key(problem: PatrolProblem, solution: Solution) -> tuple[float, int]:
    travel = sum(r.end_s - r.start_s for r in solution.routes if r.visits)
    return (round(solution.prize, 9), -travel)


class PatrolEngine:
    """PyVRP search plus OR-Tools polishing where PyVRP's model is approximate.

    Parameters
    ----------
    max_iterations
        PyVRP iteration cap (``None``: time limit only; ``"auto"``: scales with the limit).
    metaheuristic
        OR-Tools metaheuristic of the polishing phase.
    solution_limit
        OR-Tools solution cap of the polishing phase (``None``: none).
    """

    name = "patrol"

    def __init__(
        self,
        max_iterations: int | Literal["auto"] | None = "auto",
        metaheuristic: str = "GUIDED_LOCAL_SEARCH",
        solution_limit: int | None = 50,
    ) -> None:
        self.pyvrp = PyVRPEngine(max_iterations=max_iterations)
        self.ortools = OrToolsEngine(solution_limit=solution_limit, metaheuristic=metaheuristic)
        self.ortools_scratch = OrToolsEngine()

    def solve(self, problem: PatrolProblem, *, time_limit_s: float, seed: int) -> Solution:
        """Solve ``problem`` within ``time_limit_s`` seconds, deterministically for ``seed``.

        Raises
        ------
        InputError
            A non-positive time limit.
        InfeasibleError
            A required site cannot be served.
        """
        if not time_limit_s > 0:
            raise InputError("time_limit_s", time_limit_s, "a positive number of seconds")
        t0 = time.perf_counter()
        polish = needs_polish(problem) and bool(problem.sites) and bool(problem.vehicles)
        try:
            first = self.pyvrp.solve(
                problem, time_limit_s=time_limit_s / 2 if polish else time_limit_s, seed=seed
            )
        except InfeasibleError as exc:
            if exc.constraint == "required_site_window":
                raise  # no vehicle can serve a post at all: no search will
            # PyVRP found no assignment serving every post: OR-Tools models posts exactly
            rest = max(0.1, time_limit_s - (time.perf_counter() - t0))
            fallback = self.ortools_scratch.solve(problem, time_limit_s=rest, seed=seed)
            return Solution(
                routes=fallback.routes,
                prize=fallback.prize,
                feasible=fallback.feasible,
                engine=self.name,
                runtime_s=time.perf_counter() - t0,
                seed=seed,
                dropped=fallback.dropped,
                stats={**fallback.stats, "pyvrp_failed": 1.0},
            )
        best = first
        if polish:
            rest = max(0.05, time_limit_s - (time.perf_counter() - t0))
            routes = [[v.site for v in r.visits] for r in first.routes]
            second = self.ortools.improve(problem, routes, time_limit_s=rest, seed=seed)
            if _key(problem, second) > _key(problem, first):
                best = second
        stats = dict(best.stats)
        stats["pyvrp_prize"] = first.prize
        return Solution(
            routes=best.routes,
            prize=best.prize,
            feasible=best.feasible,
            engine=self.name,
            runtime_s=time.perf_counter() - t0,
            seed=seed,
            dropped=best.dropped,
            stats=stats,
        )
