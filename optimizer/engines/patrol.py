"""The service's combined engine: PyVRP where its model is exact, OR-Tools where it is not.

PyVRP (hybrid iterated local search) finds good prize-collecting routes fast but knows
neither repeat-visit spacing nor breaks (see :mod:`optimizer.engines.pyvrp`); OR-Tools routing
models both exactly. This engine:

1. without spaced repeat visits and breaks (PyVRP's model is exact, as on the TOP/OPTW
   benchmarks, where PyVRP beats OR-Tools routing by far) gives PyVRP the whole time limit;
2. otherwise (every real patrol problem: repeat passes with a minimum spacing) runs PyVRP for
   ``PYVRP_SHARE`` of the limit, then OR-Tools routing from its own first solution (guided
   local search, capped at its solution limit) in the rest; if time is still left, OR-Tools
   local search from PyVRP's repaired routes (capped at 50 solutions). The best of these
   (prize, then shorter total route time) is returned. The patrol benchmark
   (``benchmarks/patrol.py``) showed OR-Tools from its own start ahead of PyVRP-then-polish on
   such problems (0.9 % vs 5.4 % below the best engine at 5 s), so OR-Tools gets the larger
   share and PyVRP's answer competes;
3. when PyVRP's routes cannot serve every required post, OR-Tools (which models posts,
   spacing and breaks exactly) solves from scratch in the remaining time; only if that fails
   too is :class:`~optimizer.errors.InfeasibleError` raised.

Seed and determinism: the seed goes to PyVRP (iteration cap: by default
``pyvrp.ITERATIONS_PER_S`` per second of its share of the time limit, see
:class:`~optimizer.engines.pyvrp.PyVRPEngine`); the OR-Tools phases have no randomness. The
result is the same for the same seed when every phase stops on its cap before the time limit;
on large instances the time limit binds first and a loaded machine may change the routes.
"""

from __future__ import annotations

import contextlib
import time
from typing import Literal

from optimizer.engines.base import Solution, WorkLimit
from optimizer.engines.ortools import OrToolsEngine
from optimizer.engines.pyvrp import PyVRPEngine
from optimizer.errors import InfeasibleError, InputError
from optimizer.problem import PatrolProblem

PYVRP_SHARE = 0.25
"""Share of the time limit PyVRP gets on problems its model only approximates."""


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
    work
        A deterministic amount of search per phase (overrides ``max_iterations`` and
        ``solution_limit``): every phase runs to its work limit, whatever the clock says, and
        the time limit is only a safety cap; ``stats["time_cap_bound"]`` says whether it bound.
        Without it, the phases share the time limit (PyVRP ``PYVRP_SHARE`` of it) and skip
        what no longer fits.
    """

    name = "patrol"

    def __init__(
        self,
        max_iterations: int | Literal["auto"] | None = "auto",
        metaheuristic: str = "GUIDED_LOCAL_SEARCH",
        solution_limit: int | None = 50,
        *,
        work: WorkLimit | None = None,
    ) -> None:
        self.work = work
        if work is not None:
            max_iterations = work.pyvrp_iterations
            solution_limit = work.polish_solutions
        # with a work limit, one search: parallelism comes from solving cells side by side
        self.pyvrp = PyVRPEngine(max_iterations=max_iterations, searches=1 if work else 2)
        self.ortools = OrToolsEngine(solution_limit=solution_limit, metaheuristic=metaheuristic)
        self.ortools_scratch = OrToolsEngine(
            solution_limit=500 if work is None else work.ortools_solutions
        )

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
        by_work = self.work is not None
        polish = needs_polish(problem) and bool(problem.sites) and bool(problem.vehicles)
        try:
            first = self.pyvrp.solve(
                problem,
                time_limit_s=time_limit_s * PYVRP_SHARE if polish and not by_work else time_limit_s,
                seed=seed,
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
            candidates = {"pyvrp": first}
            # with a work limit every phase runs to its limit unless the safety cap is spent
            rest = time_limit_s - (time.perf_counter() - t0)
            if rest > 0.05:
                # no OR-Tools first solution in time (InfeasibleError): PyVRP's routes stand
                with contextlib.suppress(InfeasibleError):
                    candidates["ortools"] = self.ortools_scratch.solve(
                        problem, time_limit_s=rest, seed=seed
                    )
            rest = time_limit_s - (time.perf_counter() - t0)
            if rest > (0.05 if by_work else 0.05 * time_limit_s):
                routes = [[v.site for v in r.visits] for r in first.routes]
                candidates["polish"] = self.ortools.improve(
                    problem, routes, time_limit_s=rest, seed=seed
                )
            winner = max(candidates, key=lambda name: _key(problem, candidates[name]))
            best = candidates[winner]  # max keeps the first of equals: PyVRP, then OR-Tools
        stats = dict(best.stats)
        stats["pyvrp_prize"] = first.prize
        elapsed = time.perf_counter() - t0
        skipped = polish and by_work and len(candidates) < 3
        stats["time_cap_bound"] = float(
            elapsed >= 0.98 * time_limit_s
            or first.stats.get("iteration_cap_reached", 1.0) < 1
            or skipped
        )
        if polish:
            stats["winner_pyvrp_ortools_polish"] = float(list(candidates).index(winner))
            for name, candidate in candidates.items():
                stats[f"{name}_prize"] = candidate.prize
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
