"""Routing engines behind one interface; engine objects never leave their module.

``get_engine(name).solve(problem, time_limit_s=..., seed=...)`` with ``name`` in
:data:`ENGINE_NAMES` ("ortools", "pyvrp", "patrol"); :data:`DEFAULT_ENGINE` is the service's
choice. :func:`check_solution` re-checks any solution against its problem.
"""

from optimizer.engines.base import (
    DEFAULT_ENGINE,
    ENGINE_NAMES,
    Engine,
    Route,
    Solution,
    Visit,
    get_engine,
)
from optimizer.engines.check import check_solution

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINE_NAMES",
    "Engine",
    "Route",
    "Solution",
    "Visit",
    "check_solution",
    "get_engine",
]
