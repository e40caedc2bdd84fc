"""Background jobs: a thread pool runs planning, re-planning and imports; state lives in the DB.

A job row is created ``queued`` (in the transaction of the request that asks for it, with its
audit entry); a worker marks it ``running``, reports progress (0..1 and a message) and ends it
``done`` with a result or ``failed`` with an error naming the field or constraint.

Ending is idempotent and atomic: a handler stores what it made (a plan, its audit entry) and
marks the job done in one transaction (:func:`finish`), so a stop between the two cannot
leave a stored plan behind a job that is then run again. Jobs still ``queued`` or ``running``
when the process stopped are run again on the next start (:meth:`JobRunner.resume`) until
they have been started ``job_attempts`` times; then they fail with that reason.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api.audit import record
from api.db import run_transaction, session_scope
from api.errors import RateLimited, error_body, json_safe
from api.keys import Principal, creator, principal_tag
from api.models import Job, utcnow
from optimizer.errors import InfeasibleError, InputError

if TYPE_CHECKING:
    from api.services import Services

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
Handler = Callable[["Services", dict[str, Any], Progress, str | None], dict[str, Any]]
"""``handler(services, inputs, progress, created_by) -> result``; ``inputs["_job_id"]`` is set."""

JOB_KINDS: tuple[str, ...] = ("plan", "replan", "import", "week")
ACTIVE: tuple[str, ...] = ("queued", "running")
RETRY_AFTER_S = 10.0
"""``Retry-After`` of a refusal for too many active jobs."""


def finish(session: Session, job_id: str | None, result: dict[str, Any]) -> bool:
    """Mark job ``job_id`` done with ``result`` in ``session`` (the caller's transaction).

    Returns
    -------
    bool
        Whether the job was still running (False: already ended, nothing changed).
    """
    if job_id is None:
        return False
    done = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(ACTIVE))
        .values(
            status="done",
            progress=1.0,
            result=json_safe(result),
            message="done",
            finished_at=utcnow(),
        )
    )
    return bool(getattr(done, "rowcount", 0))


class JobRunner:
    """Runs jobs on a thread pool and keeps their state in the database.

    Parameters
    ----------
    services
        Shared service state (database sessions, districts).
    handlers
        Function per job kind.
    workers
        Number of worker threads.
    attempts
        Times a job is started at most (a resumed job counts again).
    active_per_key
        Jobs one API key may have queued or running at once.
    """

    def __init__(
        self,
        services: Services,
        handlers: dict[str, Handler],
        *,
        workers: int = 1,
        attempts: int = 2,
        active_per_key: int = 4,
    ) -> None:
        self.services = services
        self.handlers = handlers
        self.attempts = attempts
        self.active_per_key = active_per_key
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="patrol-job")
        self._futures: dict[str, Future[None]] = {}
        self._lock = threading.Lock()

    def create(
        self, session: Session, kind: str, inputs: dict[str, Any], principal: Principal
    ) -> Job:
        """Add a new ``queued`` job to ``session`` (scheduled by :meth:`schedule` after commit).

        Raises
        ------
        RateLimited
            The key already has ``active_per_key`` jobs queued or running.
        """
        if kind not in self.handlers:
            raise InputError("kind", kind, f"one of {sorted(self.handlers)}")
        tag = principal_tag(principal)
        active = session.scalar(
            select(func.count())
            .select_from(Job)
            .where(Job.status.in_(ACTIVE), Job.created_by.startswith(f"{principal.key_id}:"))
        )
        if (active or 0) >= self.active_per_key:
            raise RateLimited(
                "jobs",
                f"at most {self.active_per_key} queued or running jobs per key",
                RETRY_AFTER_S,
            )
        job = Job(
            id=str(uuid.uuid4()),
            kind=kind,
            status="queued",
            progress=0.0,
            message="queued",
            inputs=inputs,
            created_by=tag,
            created_at=utcnow(),
            attempts=0,
        )
        session.add(job)
        session.flush()
        return job

    def schedule(self, job_id: str) -> None:
        """Run job ``job_id`` (already committed) on the pool."""
        with self._lock:
            self._futures[job_id] = self.pool.submit(self._run, job_id)

    def resume(self) -> list[str]:
        """Schedule again the jobs left ``queued`` or ``running`` by a previous process."""
        with session_scope(self.services.sessions) as session:
            rows = session.scalars(
                select(Job).where(Job.status.in_(ACTIVE)).order_by(Job.created_at, Job.id)
            ).all()
            ids = [r.id for r in rows]
            for r in rows:
                if r.status == "running":
                    r.status = "queued"
                    r.message = "queued again after a restart"
        for job_id in ids:
            self.schedule(job_id)
        return ids

    def wait(self, job_id: str, timeout: float | None = None) -> None:
        """Block until job ``job_id`` (scheduled by this runner) has finished."""
        with self._lock:
            future = self._futures.get(job_id)
        if future is not None:
            future.result(timeout=timeout)

    def _update(self, job_id: str, **values: Any) -> None:
        with session_scope(self.services.sessions) as session:
            session.execute(
                update(Job).where(Job.id == job_id, Job.status.in_(ACTIVE)).values(**values)
            )

    def _start(self, job_id: str) -> tuple[str, str | None, dict[str, Any]] | None:
        """Mark the job running (one more attempt); None when it is not to be run."""

        def work(session: Session) -> tuple[str, str | None, dict[str, Any]] | None:
            job = session.get(Job, job_id)
            if job is None or job.status not in ACTIVE:
                return None
            inputs = {**dict(job.inputs), "_job_id": job.id}
            if (job.attempts or 0) >= self.attempts:
                error = {
                    "type": "interrupted",
                    "message": f"the service stopped while this job ran, {job.attempts} "
                    f"time(s); it is not started again (at most {self.attempts} starts)",
                }
                self._fail(session, job, inputs, error)
                return None
            job.status = "running"
            job.started_at = utcnow()
            job.attempts = (job.attempts or 0) + 1
            job.message = "running" if job.attempts == 1 else f"running (start {job.attempts})"
            return job.kind, job.created_by, inputs

        return run_transaction(self.services.sessions, work)

    def _fail(
        self, session: Session, job: Job, inputs: dict[str, Any], error: dict[str, Any]
    ) -> None:
        """End ``job`` failed with ``error`` and its audit entry, in ``session``."""
        record(
            session,
            principal=creator(job.created_by),
            action=f"{job.kind}.failed",
            inputs=inputs,
            result={"error": error},
        )
        job.status = "failed"
        job.error = json_safe(error)
        job.message = str(error.get("message", ""))[:500]
        job.finished_at = utcnow()

    def _run(self, job_id: str) -> None:
        started = self._start(job_id)
        if started is None:
            return
        kind, created_by, inputs = started

        def progress(done: int, total: int, message: str) -> None:
            share = 0.0 if total <= 0 else min(1.0, max(0.0, done / total))
            self._update(job_id, progress=round(share, 4), message=message[:500])

        try:
            result = self.handlers[kind](self.services, inputs, progress, created_by)
        except Exception as exc:
            if not isinstance(exc, InputError | InfeasibleError):
                log.exception("job %s failed", job_id)
            error = error_body(exc)

            def fail(session: Session) -> None:
                job = session.get(Job, job_id)
                if job is not None and job.status in ACTIVE:
                    self._fail(session, job, inputs, error)

            run_transaction(self.services.sessions, fail)
            return
        run_transaction(self.services.sessions, lambda session: finish(session, job_id, result))

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking jobs; with ``wait`` finish the running ones."""
        self.pool.shutdown(wait=wait, cancel_futures=not wait)
