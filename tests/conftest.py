"""Shared fixtures: ``../shared`` (skipped where absent), and the demo district and its plan,
each built once per test session (across xdist workers, under a file lock).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from optimizer.district import District
from optimizer.outputs.plan_io import plan_to_dict
from optimizer.plan.types import DayPlan
from optimizer.synthetic.demo import DEMO_DAY_ENV

DEMO_DAY = dt.date(2026, 11, 30)
"""A Monday, a school day: the demo's school-gate posts are on duty."""
DEMO_SEED = 3

# The demo's incident history ends the day before the day it is built for (today by default):
# pin that day so the demo, its plans and what the tests assert about them are the same on
# every date, in this process, its xdist workers and the CLI processes the tests start.
os.environ[DEMO_DAY_ENV] = DEMO_DAY.isoformat()


def comparable(plan: DayPlan) -> dict[str, Any]:
    """The plan as data without what may differ between equal plans: the solvers' run times,
    the Dask re-run count and where it was solved (worker count, executor)."""
    from optimizer.plan.dask_executor import RERUN_METRIC  # imports Dask: only when used

    data = plan_to_dict(plan)
    for w in data["windows"]:
        w["metrics"].pop("solver_runtime_s", None)
        w["metrics"].pop(RERUN_METRIC, None)
    data["settings"].pop("workers", None)
    data["settings"].pop("executor", None)
    return data


SHARED_ENV = "PATROL_SHARED_DIR"


def shared_dir() -> Path | None:
    """Return the shared evaluation data folder (``$PATROL_SHARED_DIR`` or ``../shared``)."""
    env = os.environ.get(SHARED_ENV)
    path = Path(env) if env else Path(__file__).resolve().parent.parent.parent / "shared"
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def shared() -> Path:
    """The ``../shared`` folder; skips the test where it is absent."""
    path = shared_dir()
    if path is None:
        pytest.skip("../shared is absent (set PATROL_SHARED_DIR to point at it)")
    return path


@pytest.fixture(scope="session")
def shared_osm(shared: Path) -> Path:
    """The folder of real OSM extracts in ``../shared``."""
    return shared / "data" / "osm"


def _session_root(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A folder shared by every worker of this test session (xdist or not)."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path.with_suffix(".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def once_per_session(
    tmp_path_factory: pytest.TempPathFactory, worker_id: str, name: str, make: Callable[[Path], Any]
) -> Path:
    """Run ``make(path)`` once per session (the first worker to get here); return ``path``."""
    path = _session_root(tmp_path_factory, worker_id) / name
    with _locked(path):
        done = path.with_suffix(".done")
        if not done.exists():
            make(path)
            done.write_text("ok")
    return path


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The demo district's folder, built once per test session."""
    from optimizer.synthetic.demo import build_demo_district

    return once_per_session(tmp_path_factory, worker_id, "demo", build_demo_district)


@pytest.fixture(scope="session")
def demo(demo_dir: Path) -> District:
    """The demo district (loaded once per worker; treat it as read-only)."""
    from optimizer.storage import load_district

    return load_district(demo_dir)


@pytest.fixture(scope="session")
def demo_plan(tmp_path_factory: pytest.TempPathFactory, worker_id: str, demo: District) -> DayPlan:
    """The demo's plan of :data:`DEMO_DAY` with :data:`DEMO_SEED`, made once per test session.

    Plans are deterministic (work-limited search), so every worker reads the same plan.
    """
    from optimizer.outputs.plan_io import plan_from_dict, plan_to_dict
    from optimizer.plan.day import plan_day

    def make(path: Path) -> None:
        plan = plan_day(demo, day=DEMO_DAY, seed=DEMO_SEED)
        path.write_text(json.dumps(plan_to_dict(plan)), encoding="utf-8")

    path = once_per_session(tmp_path_factory, worker_id, "demo-plan.json", make)
    return plan_from_dict(json.loads(path.read_text(encoding="utf-8")))
