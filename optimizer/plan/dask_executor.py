"""Solve a day's problems on a Dask distributed cluster: :class:`DaskExecutor`.

The solve step's seam (:class:`optimizer.plan.solve.Executor`) on an existing distributed
engine: each :class:`~optimizer.plan.solve.SolveJob` runs :func:`~optimizer.plan.solve.solve_job`
in a Dask task on some worker; build and assemble stay where they were.

* **What travels.** A job is self-contained: the cell's own travel matrices, its sites and
  vehicles, the seed and the settings (a few KB to some tens of KB pickled; the executor
  counts them, :class:`DaskReport`). Nothing else is needed on a worker: street networks and
  rosters stay with build and assemble. What every task would otherwise pay again, the imports
  of the engines, each worker pays once at start-up (:class:`WarmSolver`, a worker plugin).
* **Sized and ordered.** Jobs go largest first (Dask priority), so no large cell is left to run
  alone at the end; cells of less than ``batch_s`` of search are packed together into one task
  (:func:`pack`). Only a bounded number of tasks is on the cluster at a time (``in_flight``):
  the scheduler holds a few tasks per worker thread, not a city's thousands of matrices.
* **Progress.** Outcomes are yielded as tasks finish, whatever their order.
* **Lost workers.** When a worker dies, the scheduler runs its tasks again on the others (up to
  Dask's ``distributed.scheduler.allowed-failures`` deaths per task); ``retries`` runs a task
  again that raised. Each task logs its starts as a Dask event; an outcome whose task started
  more than once carries ``metrics["solve_reruns"]`` (kept by the plan in that cell's window
  metrics; :func:`plan_reruns` sums them) and :attr:`DaskExecutor.reports` count them.
* **The same plan.** Budgets are deterministic work, so a job's outcome does not depend on the
  worker, the order or a re-run.
"""

from __future__ import annotations

import contextlib
import pickle
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from distributed import Client, WorkerPlugin, as_completed, get_worker

from optimizer.engines.base import ENGINE_NAMES, get_engine
from optimizer.engines.budget import problem_budget_s
from optimizer.errors import InputError
from optimizer.plan.solve import SolveJob, SolveOutcome, solve_job

if TYPE_CHECKING:
    from distributed import Future

    from optimizer.plan.types import DayPlan

RERUN_METRIC = "solve_reruns"
"""Outcome (and window) metric: times the cell's task started again after the first."""
START_TOPIC = "patrol-solve-start"
"""Dask event topic: one event per start of a solve task on a worker."""
DEFAULT_BATCH_S = 0.25
"""Jobs of less search than this (seconds of the reference machine) are packed together."""
TASKS_PER_THREAD = 4
"""Tasks kept on the cluster per worker thread (the rest wait in this process)."""


@dataclass
class DaskReport:
    """What the last :meth:`DaskExecutor.run` sent and how it went."""

    jobs: int = 0
    tasks: int = 0
    """Dask tasks: one per job, or per batch of small jobs."""
    bytes_sent: int = 0
    """Pickled size of every task's jobs (what the scheduler forwards to the workers)."""
    max_task_bytes: int = 0
    reruns: int = 0
    """Task starts beyond the first: tasks run again after a worker was lost."""
    rerun_jobs: int = 0
    """Jobs whose task ran more than once."""
    workers: int = 0
    """Workers connected when the run started."""
    threads: int = 0
    """Worker threads connected when the run started."""
    pickle_s: float = 0.0
    """Seconds spent here pickling the jobs to measure them (Dask pickles them again)."""
    wall_s: float = 0.0

    @property
    def bytes_per_task(self) -> float:
        """Mean pickled bytes per task."""
        return self.bytes_sent / self.tasks if self.tasks else 0.0

    def as_dict(self) -> dict[str, float]:
        """Return the report as plain numbers (for a plan's settings or a benchmark line)."""
        return {
            "jobs": float(self.jobs),
            "tasks": float(self.tasks),
            "bytes_sent": float(self.bytes_sent),
            "bytes_per_task": round(self.bytes_per_task, 1),
            "max_task_bytes": float(self.max_task_bytes),
            "reruns": float(self.reruns),
            "rerun_jobs": float(self.rerun_jobs),
            "workers": float(self.workers),
            "threads": float(self.threads),
            "wall_s": round(self.wall_s, 3),
        }


def job_cost_s(job: SolveJob) -> float:
    """Return a job's search budget in seconds of the reference machine (its size estimate)."""
    return problem_budget_s(job.problem, job.settings.budget_s)


def pack(jobs: Sequence[SolveJob], *, batch_s: float) -> list[tuple[int, ...]]:
    """Return the tasks to run: positions of ``jobs``, the largest tasks first.

    A job with at least ``batch_s`` of search (:func:`job_cost_s`) is a task of its own; smaller
    ones are packed, largest first, into tasks of about ``batch_s`` each (``0``: no packing).
    Ties keep the order of ``jobs``.

    Parameters
    ----------
    jobs
        The jobs.
    batch_s
        Least search per task, in seconds of the reference machine.
    """
    if not (isinstance(batch_s, int | float) and 0 <= batch_s < float("inf")):
        raise InputError("batch_s", batch_s, "a number of seconds >= 0")
    cost = [job_cost_s(j) for j in jobs]
    order = sorted(range(len(jobs)), key=lambda k: (-cost[k], -jobs[k].size, k))
    tasks: list[tuple[float, tuple[int, ...]]] = []
    batch: list[int] = []
    total = 0.0
    for k in order:
        if cost[k] >= batch_s:
            tasks.append((cost[k], (k,)))
            continue
        batch.append(k)
        total += cost[k]
        if total >= batch_s:
            tasks.append((total, tuple(batch)))
            batch, total = [], 0.0
    if batch:
        tasks.append((total, tuple(batch)))
    tasks.sort(key=lambda t: (-t[0], t[1][0]))
    return [positions for _, positions in tasks]


def solve_batch(jobs: Sequence[SolveJob], topic: str = START_TOPIC) -> list[SolveOutcome]:
    """Solve ``jobs`` one after another on a Dask worker; log the start under ``topic``.

    Module level, so that workers unpickle it by reference (the project is installed there).
    Outside a worker it simply solves.
    """
    try:
        worker = get_worker()
    except ValueError:
        worker = None
    if worker is not None:
        worker.log_event(topic, {"key": str(worker.get_current_task()), "at": worker.address})
    return [solve_job(job) for job in jobs]


class WarmSolver(WorkerPlugin):
    """Worker plugin: import the engines when a worker starts, not in its first task."""

    name = "patrol-warm-solver"

    def setup(self, worker: Any) -> None:
        """Import every routing engine (their native libraries load once per worker)."""
        for engine in ENGINE_NAMES:
            get_engine(engine)


def plan_reruns(plan: DayPlan) -> int:
    """Return how many cell problems of ``plan`` were solved again after a lost worker."""
    return round(sum(wp.metrics.get(RERUN_METRIC, 0.0) for wp in plan.windows))


class DaskExecutor:
    """Solve the jobs on a Dask distributed cluster (:class:`optimizer.plan.solve.Executor`).

    Use as a context manager, or call :meth:`close`; the connection opens on first use and is
    kept between runs, which may overlap (threads). The scheduler and the workers need the
    project installed, the same version (the scheduler unpickles the tasks); one thread per
    worker process is the intended shape (``dask worker --nthreads 1 --nworkers N``). One
    executor per client: the start events of a client go to the last executor made on it.

    Parameters
    ----------
    scheduler
        Address of a running scheduler, e.g. ``tcp://10.0.0.5:8786``.
    client
        An open :class:`distributed.Client` to use instead (not closed by :meth:`close`).
    batch_s
        Jobs of less search than this, in seconds of the reference machine, are packed into
        one task (see :func:`pack`); ``0`` sends one task per job.
    retries
        Times a task that raised is run again (a lost worker's tasks run again regardless).
    in_flight
        Most tasks on the cluster at once; default :data:`TASKS_PER_THREAD` per worker thread.
    timeout_s
        Seconds to wait for the scheduler and for a first worker.
    """

    def __init__(
        self,
        scheduler: str | None = None,
        *,
        client: Client | None = None,
        batch_s: float = DEFAULT_BATCH_S,
        retries: int = 1,
        in_flight: int | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        if (scheduler is None) == (client is None):
            raise InputError("scheduler", scheduler, "exactly one of a scheduler or a client")
        if scheduler is not None and not (isinstance(scheduler, str) and scheduler.strip()):
            raise InputError("scheduler", scheduler, "a scheduler address, e.g. tcp://host:8786")
        pack([], batch_s=batch_s)  # validates batch_s
        if not (isinstance(retries, int) and not isinstance(retries, bool) and retries >= 0):
            raise InputError("retries", retries, "an integer >= 0")
        if in_flight is not None and not (isinstance(in_flight, int) and in_flight >= 1):
            raise InputError("in_flight", in_flight, "an integer >= 1")
        self.scheduler = scheduler
        self.batch_s = float(batch_s)
        self.retries = retries
        self.in_flight = in_flight
        self.timeout_s = timeout_s
        self.reports: list[DaskReport] = []
        """One per :meth:`run`, in the order they started (runs may overlap in threads)."""
        self._client = client
        self._owned = client is None
        self._starts: Counter[str] = Counter()
        self._lock = threading.Lock()  # the start counts (also taken on Dask's event loop)
        self._connecting = threading.Lock()
        self._subscribed = False

    @property
    def report(self) -> DaskReport:
        """The report of the last run started (empty before the first)."""
        return self.reports[-1] if self.reports else DaskReport()

    @property
    def client(self) -> Client:
        """The Dask client, connected on first use."""
        with self._connecting:
            if self._client is None:
                self._client = Client(self.scheduler, timeout=self.timeout_s, set_as_default=False)
            if not self._subscribed:
                self._client.register_plugin(WarmSolver())
                self._client.subscribe_topic(START_TOPIC, self._started)
                self._subscribed = True
            return self._client

    def _started(self, event: tuple[float, dict[str, Any]]) -> None:
        # called on the client's event loop for each task start, before the task's result
        with self._lock:
            self._starts[str(event[1].get("key"))] += 1

    def _threads(self, client: Client) -> tuple[int, int]:
        client.wait_for_workers(1, timeout=self.timeout_s)
        nthreads = client.nthreads()
        return len(nthreads), int(sum(nthreads.values()))

    def run(self, jobs: Sequence[SolveJob]) -> Iterator[tuple[int, SolveOutcome]]:
        """Solve every job on the cluster, largest first; yield outcomes as they finish."""
        started = time.perf_counter()
        client = self.client
        tasks = pack(jobs, batch_s=self.batch_s)
        workers, threads = self._threads(client) if tasks else (0, 0)
        report = DaskReport(jobs=len(jobs), tasks=len(tasks), workers=workers, threads=threads)
        with self._lock:
            self.reports.append(report)
        limit = self.in_flight or max(2, TASKS_PER_THREAD * threads)
        run_id = uuid.uuid4().hex[:12]
        pending: dict[Future, tuple[int, ...]] = {}
        done = as_completed(loop=client.loop, with_results=True)
        submitted = 0

        def submit() -> None:
            nonlocal submitted
            rank = submitted
            payload = [jobs[k] for k in tasks[rank]]
            t0 = time.perf_counter()
            size = len(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))
            report.pickle_s += time.perf_counter() - t0
            report.bytes_sent += size
            report.max_task_bytes = max(report.max_task_bytes, size)
            fut = client.submit(
                solve_batch,
                payload,
                START_TOPIC,
                key=f"patrol-solve-{run_id}-{rank}",
                priority=len(tasks) - rank,
                retries=self.retries,
                pure=False,
            )
            pending[fut] = tasks[rank]
            done.add(fut)
            submitted += 1

        try:
            while submitted < min(limit, len(tasks)):
                submit()
            for fut, outcomes in done:
                positions = pending.pop(fut)
                if submitted < len(tasks):
                    submit()
                with self._lock:
                    starts = self._starts.pop(str(fut.key), 1)
                reruns = max(0, starts - 1)
                report.reruns += reruns
                report.rerun_jobs += len(positions) if reruns else 0
                for k, outcome in zip(positions, outcomes, strict=True):
                    if reruns:
                        outcome = SolveOutcome(
                            outcome.solution, {**outcome.metrics, RERUN_METRIC: float(reruns)}
                        )
                    yield k, outcome
        finally:
            if pending:
                client.cancel(list(pending))
            report.wall_s = time.perf_counter() - started

    def close(self) -> None:
        """Close the connection (if this executor opened it)."""
        if self._client is not None and self._subscribed:
            with contextlib.suppress(ValueError):  # not subscribed any more
                self._client.unsubscribe_topic(START_TOPIC)
            self._subscribed = False
        if self._client is not None and self._owned:
            self._client.close()
            self._client = None
        with self._lock:
            self._starts.clear()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
