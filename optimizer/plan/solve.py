"""Solve a day's problems: the engine, its deterministic budget, the seed and an executor.

The second of the three steps of a day plan (:mod:`~optimizer.plan.build` → solve →
:mod:`~optimizer.plan.assemble`). Each cell x window problem becomes a :class:`SolveJob`
(picklable: the problem with its matrices, the seed, the settings) and :func:`solve_job` solves
it anywhere: in this process, in a local process pool or on another engine's workers. The
executor is the one seam (:class:`Executor`): it runs jobs and yields their outcomes as they
finish; a distributed engine is another :class:`Executor`, nothing else changes.

Budgets are deterministic work (``optimizer.engines.budget``): the same job gives the same
solution on any machine and under any load. A wall-clock cap stays as a safety net; an outcome
says when it bound (``metrics["time_cap_bound"]``).
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import multiprocessing
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Protocol

from optimizer.engines.base import Solution, get_engine
from optimizer.engines.budget import problem_budget_s, work_for
from optimizer.errors import InfeasibleError
from optimizer.plan.build import DayProblems
from optimizer.plan.variation import SolveFn, VariationParams, solve_with_variation
from optimizer.problem import PatrolProblem

MIN_TIME_CAP_S = 10.0
"""Least wall-clock safety cap of one problem's search."""
TIME_CAP_FACTOR = 20.0
"""Default safety cap: this many times the problem's budget (at least ``MIN_TIME_CAP_S``)."""


@dataclass(frozen=True)
class SolveSettings:
    """How every problem of a plan is solved."""

    engine: str
    budget_s: float
    time_cap_s: float | None = None
    variation: VariationParams | None = None
    day: dt.date | None = None
    base_seed: int = 0

    def time_cap(self, problem: PatrolProblem) -> float:
        """Return the wall-clock safety cap of ``problem``'s search, in seconds."""
        if self.time_cap_s is not None:
            return float(self.time_cap_s)
        return max(MIN_TIME_CAP_S, TIME_CAP_FACTOR * problem_budget_s(problem, self.budget_s))


@dataclass(frozen=True)
class SolveJob:
    """One problem to solve, with all it needs (sent to worker processes as it is)."""

    problem: PatrolProblem
    seed: int
    settings: SolveSettings
    previous: frozenset[str] = frozenset()
    """Hotspot keys the previous day visited (discounted by variation)."""

    @property
    def size(self) -> int:
        """A rough measure of the work (sites x vehicles), for scheduling the largest first."""
        return len(self.problem.sites) * max(1, len(self.problem.vehicles))


@dataclass(frozen=True)
class SolveOutcome:
    """An engine's solution and the metrics of the solve."""

    solution: Solution
    metrics: dict[str, float] = field(default_factory=dict)


def solver(settings: SolveSettings) -> SolveFn:
    """Return ``solve(problem, time_limit_s, seed)`` with the settings' deterministic budget.

    ``time_limit_s`` is ignored in favour of the settings' safety cap: the work limit decides.
    """

    def solve(problem: PatrolProblem, time_limit_s: float, seed: int) -> Solution:
        budget = problem_budget_s(problem, settings.budget_s)
        engine = get_engine(settings.engine, work=work_for(problem, budget))
        return engine.solve(problem, time_limit_s=settings.time_cap(problem), seed=seed)

    return solve


def posts_optional(problem: PatrolProblem) -> PatrolProblem:
    """Return ``problem`` with its required sites optional and above all hotspots in value."""
    bonus = 10.0 * (sum(s.prize for s in problem.sites if not s.required) or 1.0)
    sites = tuple(
        replace(s, required=False, prize=bonus) if s.required else s for s in problem.sites
    )
    return replace(problem, sites=sites)


def _solve_once(job: SolveJob, problem: PatrolProblem) -> tuple[Solution, dict[str, float]]:
    run = solver(job.settings)
    settings = job.settings
    if settings.variation is None or settings.day is None:
        return run(problem, 0.0, job.seed), {}
    varied = solve_with_variation(
        problem,
        day=settings.day,
        seed=settings.base_seed,
        engine=settings.engine,
        params=settings.variation,
        previous=job.previous,
        solve=run,
    )
    extra = {
        "variation_loss": round(varied.loss, 4),
        "variation_overlap": round(varied.overlap, 4),
    }
    return varied.solution, extra


def solve_job(job: SolveJob) -> SolveOutcome:
    """Solve one job (module level, so that any executor can run it).

    When the posts cannot all be staffed (the engine raises ``InfeasibleError``), the problem
    is solved again with the posts optional but worth more than every hotspot together: the
    cell still gets its routes, the posts left out are explained in the plan, and
    ``metrics["posts_infeasible"]`` is 1.
    """
    started = time.perf_counter()
    try:
        solution, extra = _solve_once(job, job.problem)
    except InfeasibleError:
        solution, extra = _solve_once(job, posts_optional(job.problem))
        extra["posts_infeasible"] = 1.0
    extra["solver_runtime_s"] = round(time.perf_counter() - started, 3)
    extra["time_cap_bound"] = float(solution.stats.get("time_cap_bound", 0.0))
    return SolveOutcome(solution, extra)


class Executor(Protocol):
    """Runs solve jobs and yields ``(position, outcome)`` as each finishes, in any order."""

    def run(self, jobs: Sequence[SolveJob]) -> Iterator[tuple[int, SolveOutcome]]:
        """Solve every job; yield its position in ``jobs`` and its outcome as it finishes."""
        ...

    def close(self) -> None:
        """Release what the executor holds (processes, connections)."""
        ...


class InProcess:
    """Solve the jobs one after another in this process."""

    def run(self, jobs: Sequence[SolveJob]) -> Iterator[tuple[int, SolveOutcome]]:
        """Solve every job in order."""
        for k, job in enumerate(jobs):
            yield k, solve_job(job)

    def close(self) -> None:
        """Nothing to release."""


class LocalPool:
    """Solve the jobs in a pool of local worker processes, kept warm between runs.

    The largest jobs are sent first, so that no large cell is left to run alone at the end.
    Use as a context manager, or call :meth:`close`; the processes start on first use.

    Parameters
    ----------
    workers
        Number of worker processes.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: cf.ProcessPoolExecutor | None = None

    def _executor(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            ctx = multiprocessing.get_context("spawn")
            self._pool = cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)
        return self._pool

    def run(self, jobs: Sequence[SolveJob]) -> Iterator[tuple[int, SolveOutcome]]:
        """Solve every job in the pool, largest first; yield outcomes as they finish."""
        if len(jobs) <= 1:
            yield from InProcess().run(jobs)
            return
        pool = self._executor()
        order = sorted(range(len(jobs)), key=lambda k: (-jobs[k].size, k))
        futures = {pool.submit(solve_job, jobs[k]): k for k in order}
        try:
            for fut in cf.as_completed(futures):
                yield futures[fut], fut.result()
        finally:
            for fut in futures:
                fut.cancel()

    def close(self) -> None:
        """Stop the worker processes."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def jobs_of(problems: DayProblems) -> list[SolveJob]:
    """Return the solve jobs of a day's problems, in the order of ``problems.tasks``."""
    params = problems.params
    settings = SolveSettings(
        engine=params.engine,
        budget_s=params.budget_s,
        time_cap_s=params.time_cap_s,
        variation=params.variation,
        day=problems.day,
        base_seed=problems.seed,
    )
    return [SolveJob(t.problem, t.seed, settings, t.previous) for t in problems.tasks]


def solve_day(
    problems: DayProblems,
    *,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[SolveOutcome]:
    """Solve every problem of the day.

    Parameters
    ----------
    problems
        The build step's answer.
    executor
        Where the jobs run (default :class:`InProcess`).
    progress
        Called as ``progress(done, total)`` after each job.

    Returns
    -------
    list of SolveOutcome
        One per task, in the order of ``problems.tasks``; independent of the executor.
    """
    jobs = jobs_of(problems)
    outcomes: list[SolveOutcome | None] = [None] * len(jobs)
    for done, (k, outcome) in enumerate((executor or InProcess()).run(jobs), start=1):
        outcomes[k] = outcome
        if progress is not None:
            progress(done, len(jobs))
    missing = [k for k, o in enumerate(outcomes) if o is None]
    if missing:  # pragma: no cover - an executor that drops jobs is a bug
        raise RuntimeError(f"the executor returned no outcome for jobs {missing}")
    return [o for o in outcomes if o is not None]
