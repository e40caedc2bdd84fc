"""The engine interface: ``solve(problem, time_limit_s=..., seed=...) -> Solution``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from optimizer.errors import InputError
from optimizer.problem import PatrolProblem


@dataclass(frozen=True)
class Visit:
    """A site visit in a route, with times in seconds from the window start."""

    site: int
    """Index into ``problem.sites``."""
    arrival_s: int
    start_s: int
    """Service start (``>= arrival_s``; later when waiting for a time window)."""
    departure_s: int


@dataclass(frozen=True)
class Route:
    """One vehicle's route; ``visits`` excludes start and end depots."""

    vehicle: int
    visits: tuple[Visit, ...]
    start_s: int
    end_s: int
    break_start_s: int | None = None
    """Start of the vehicle's break (``None``: no break); it lies between two visits."""


@dataclass(frozen=True)
class Solution:
    """An engine's answer, with its statistics."""

    routes: tuple[Route, ...]
    prize: float
    feasible: bool
    engine: str
    runtime_s: float
    seed: int
    dropped: tuple[int, ...] = ()
    stats: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkLimit:
    """A deterministic amount of search: the same problem, seed and limit give the same routes
    on any machine and under any load (the time limit is then only a safety cap).

    Attributes
    ----------
    pyvrp_iterations
        Iterations of each PyVRP search.
    ortools_solutions
        Solutions of OR-Tools routing from its own first solution.
    polish_solutions
        Solutions of OR-Tools local search from PyVRP's routes (the patrol engine's polish).
    """

    pyvrp_iterations: int
    ortools_solutions: int
    polish_solutions: int

    def __post_init__(self) -> None:
        for name in ("pyvrp_iterations", "ortools_solutions", "polish_solutions"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 1):
                raise InputError(name, value, "an integer >= 1")


class Engine(Protocol):
    """What every engine provides."""

    name: str

    def solve(self, problem: PatrolProblem, *, time_limit_s: float, seed: int) -> Solution:
        """Solve ``problem`` within ``time_limit_s`` seconds, deterministically for ``seed``."""
        ...


ENGINE_NAMES: tuple[str, ...] = ("ortools", "pyvrp", "patrol")

DEFAULT_ENGINE: str = "patrol"
"""The service's engine (:mod:`optimizer.engines.patrol`), chosen on the benchmarks: on pure
orienteering (TOP, OPTW: no spacing, no breaks) it is PyVRP's search, far ahead of OR-Tools
routing (``benchmarks/top.py``, ``benchmarks/optw.py``); on patrol problems with spaced repeat
passes and posts it runs OR-Tools routing (which models spacing exactly and was the best single
engine there) with PyVRP's answer competing, and on the 14 demo and Longgang instances of
``benchmarks/patrol.py`` at 1 s it was 0.6 % below the best engine on average against 7.2 %
for OR-Tools alone (which found no first solution for the 168-site instance in time) and
5.5 % for PyVRP alone."""


def get_engine(name: str, *, work: WorkLimit | None = None, **options: Any) -> Engine:
    """Return the engine called ``name`` (``"ortools"``, ``"pyvrp"`` or ``"patrol"``).

    Parameters
    ----------
    name
        One of :data:`ENGINE_NAMES`.
    work
        A deterministic amount of search (see :class:`WorkLimit`): the routes then depend on
        the problem and the seed only, and the time limit given to ``solve`` is a safety cap.
    options
        Passed to the engine's constructor, e.g. ``max_iterations=None`` (PyVRP) or
        ``solution_limit=None`` (OR-Tools) to stop on the time limit only, as the benchmarks do.
    """
    if name == "ortools":
        from optimizer.engines.ortools import OrToolsEngine

        if work is not None:
            options["solution_limit"] = work.ortools_solutions
        return OrToolsEngine(**options)
    if name == "pyvrp":
        from optimizer.engines.pyvrp import PyVRPEngine

        if work is not None:
            options["max_iterations"] = work.pyvrp_iterations
        return PyVRPEngine(**options)
    if name == "patrol":
        from optimizer.engines.patrol import PatrolEngine

        return PatrolEngine(work=work, **options)
    raise InputError("engine", name, f"one of {list(ENGINE_NAMES)}")
