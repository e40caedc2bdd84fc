"""Search budgets as deterministic work: seconds of the reference machine -> iterations.

A plan must be the same for the same inputs and seed on any machine and under any load, so the
engines stop on amounts of work (PyVRP iterations, OR-Tools solutions), never on the clock.
:func:`work_for` turns a budget in seconds into such amounts for one problem, from rates
measured on the development machine (2-core x86-64, one search per core) on the patrol
problems of real districts: the work a problem of that size got done in that many seconds
there. Larger problems get fewer iterations per second but, through the planner's per-problem
budget (:func:`problem_budget_s`), more seconds.

Calibration: ``benchmarks/engine_rates.py`` measures the rates; the constants below are its
fitted values.
"""

from __future__ import annotations

import math

from optimizer.engines.base import WorkLimit
from optimizer.errors import InputError
from optimizer.problem import PatrolProblem

PYVRP_RATE = 60_000.0
"""PyVRP iterations per second on a problem of one site and vehicle; the rate falls as
``(sites * vehicles) ** PYVRP_EXPONENT``."""
PYVRP_EXPONENT = 0.75
ORTOOLS_RATE = 2_500.0
"""OR-Tools solutions per second on a problem of one site; falls as
``sites ** ORTOOLS_EXPONENT``."""
ORTOOLS_EXPONENT = 0.9
PYVRP_SHARE = 0.35
"""Share of the budget the patrol engine's PyVRP phase gets; OR-Tools from its own start gets
``ORTOOLS_SHARE`` and the polish from PyVRP's routes the rest."""
ORTOOLS_SHARE = 0.45
BASE_SITES = 40
"""Problem size (sites) that gets exactly the plan's ``budget_s`` (see :func:`problem_budget_s`)."""


def _size(problem: PatrolProblem) -> tuple[int, int]:
    return max(1, len(problem.sites)), max(1, len(problem.vehicles))


def problem_budget_s(problem: PatrolProblem, budget_s: float) -> float:
    """Return the seconds a problem gets: ``budget_s`` at ``BASE_SITES`` sites, in proportion to
    its sites beyond (between a quarter and four times ``budget_s``)."""
    sites, vehicles = _size(problem)
    scale = (sites / BASE_SITES) * math.sqrt(vehicles)
    return budget_s * min(4.0, max(0.25, scale))


def work_for(problem: PatrolProblem, budget_s: float) -> WorkLimit:
    """Return the deterministic work that takes about ``budget_s`` on the reference machine.

    Parameters
    ----------
    problem
        The problem to solve.
    budget_s
        Seconds of search on the reference machine (one core).

    Returns
    -------
    WorkLimit
        PyVRP iterations and OR-Tools solutions for the patrol engine's phases (the plain
        engines take their own phase's share of the whole budget).
    """
    if not (isinstance(budget_s, int | float) and math.isfinite(budget_s) and budget_s > 0):
        raise InputError("budget_s", budget_s, "a positive number of seconds")
    sites, vehicles = _size(problem)
    pyvrp_rate = PYVRP_RATE / float(sites * vehicles) ** PYVRP_EXPONENT
    ortools_rate = ORTOOLS_RATE / float(sites) ** ORTOOLS_EXPONENT
    polish_share = max(0.05, 1.0 - PYVRP_SHARE - ORTOOLS_SHARE)
    return WorkLimit(
        pyvrp_iterations=max(50, round(pyvrp_rate * PYVRP_SHARE * budget_s)),
        ortools_solutions=max(20, round(ortools_rate * ORTOOLS_SHARE * budget_s)),
        polish_solutions=max(10, round(ortools_rate * polish_share * budget_s)),
    )
