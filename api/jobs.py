"""Background jobs: a thread pool runs planning, re-planning and imports; state lives in the DB.

A job row is created ``queued``; a worker marks it ``running``, reports progress (0..1 and a
message) and ends it ``done`` with a result or ``failed`` with an error naming the field or
constraint. Jobs still ``queued`` or ``running`` when the process stopped are run again on the
next start (:meth:`JobRunner.resume`).
"""

from __future__ import annotations

import logging
import threading
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from api.audit import record_now
from api.db import session_scope
from api.keys import creator
from api.models import Job, utcnow
from optimizer.errors import InfeasibleError, InputError

if TYPE_CHECKING:
    from api.services import Services

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
Handler = Callable[["Services", dict[str, Any], Progress, str | None], dict[str, Any]]
"""``handler(services, inputs, progress, created_by) -> result``."""

JOB_KINDS: tuple[str, ...] = ("plan", "replan", "import")


def error_body(exc: BaseException) -> dict[str, Any]:
    """Return the JSON error of an exception (field/value/accepted or constraint/detail)."""
    if isinstance(exc, InputError):
        return {
            "type": "input",
            "field": exc.field,
            "value": _jsonable(exc.value),
            "accepted": exc.accepted,
            "message": str(exc),
        }
    if isinstance(exc, InfeasibleError):
        return {
            "type": "infeasible",
            "constraint": exc.constraint,
            "detail": exc.detail,
            "message": str(exc),
        }
    return {"type": "internal", "message": f"{type(exc).__name__}: {exc}"}


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)


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
    """

    def __init__(self, services: Services, handlers: dict[str, Handler], workers: int = 1) -> None:
        self.services = services
        self.handlers = handlers
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="patrol-job")
        self._futures: dict[str, Future[None]] = {}
        self._lock = threading.Lock()

    def submit(self, kind: str, inputs: dict[str, Any], created_by: str | None) -> Job:
        """Store a new ``queued`` job and schedule it; return the row."""
        if kind not in self.handlers:
            raise InputError("kind", kind, f"one of {sorted(self.handlers)}")
        job = Job(
            id=str(uuid.uuid4()),
            kind=kind,
            status="queued",
            progress=0.0,
            message="queued",
            inputs=inputs,
            created_by=created_by,
            attempts=0,
        )
        with session_scope(self.services.sessions) as session:
            session.add(job)
        self._schedule(job.id)
        return job

    def _schedule(self, job_id: str) -> None:
        with self._lock:
            self._futures[job_id] = self.pool.submit(self._run, job_id)

    def resume(self) -> list[str]:
        """Schedule again the jobs left ``queued`` or ``running`` by a previous process."""
        with session_scope(self.services.sessions) as session:
            rows = session.scalars(
                select(Job).where(Job.status.in_(("queued", "running"))).order_by(Job.created_at)
            ).all()
            ids = [r.id for r in rows]
            for r in rows:
                r.status = "queued"
                r.message = "queued again after a restart"
        for job_id in ids:
            self._schedule(job_id)
        return ids

    def wait(self, job_id: str, timeout: float | None = None) -> None:
        """Block until job ``job_id`` (scheduled by this runner) has finished."""
        with self._lock:
            future = self._futures.get(job_id)
        if future is not None:
            future.result(timeout=timeout)

    def _update(self, job_id: str, **values: Any) -> None:
        with session_scope(self.services.sessions) as session:
            job = session.get(Job, job_id)
            if job is not None:
                for k, v in values.items():
                    setattr(job, k, v)

    def _run(self, job_id: str) -> None:
        with session_scope(self.services.sessions) as session:
            job = session.get(Job, job_id)
            if job is None or job.status not in ("queued", "running"):
                return
            job.status = "running"
            job.started_at = utcnow()
            job.attempts = (job.attempts or 0) + 1
            kind, created_by = job.kind, job.created_by
            inputs = {**dict(job.inputs), "_job_id": job.id}

        def progress(done: int, total: int, message: str) -> None:
            share = 0.0 if total <= 0 else min(1.0, max(0.0, done / total))
            self._update(job_id, progress=round(share, 4), message=message[:500])

        try:
            result = self.handlers[kind](self.services, inputs, progress, created_by)
        except Exception as exc:
            if not isinstance(exc, InputError | InfeasibleError):
                log.error("job %s failed:\n%s", job_id, traceback.format_exc())
            error = error_body(exc)
            # Audit first: whoever sees the job failed can already find its audit row.
            record_now(
                self.services.sessions,
                principal=creator(created_by),
                action=f"{kind}.failed",
                inputs=inputs,
                result={"error": error},
            )
            self._update(
                job_id,
                status="failed",
                error=error,
                message=str(exc)[:500],
                finished_at=utcnow(),
            )
            return
        self._update(
            job_id,
            status="done",
            progress=1.0,
            result=result,
            message="done",
            finished_at=utcnow(),
        )

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking jobs; with ``wait`` finish the running ones."""
        self.pool.shutdown(wait=wait, cancel_futures=not wait)
