"""A city: the day plans of many districts made as one job through one executor.

A city is a list of prepared districts, each with its own grids, streets, roster and time zone.
:func:`plan_city` plans every district's day with :func:`~optimizer.plan.day.plan_day` on one
shared executor (a :class:`~optimizer.plan.solve.LocalPool`, a
:class:`~optimizer.plan.dask_executor.DaskExecutor`, ...). Several districts are in hand at a
time (``districts_at_once``): while one district's problems are being solved on the workers,
the next is built and the previous assembled here, so the workers are not left waiting for
this process. Every district's plan is the one :func:`plan_day` makes alone: it depends on its
inputs and the seed only, never on the executor or the order.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from optimizer.district import District
from optimizer.errors import InputError
from optimizer.plan.dask_executor import RERUN_METRIC
from optimizer.plan.day import plan_day
from optimizer.plan.params import PlanParams
from optimizer.plan.solve import Executor, InProcess, SolveJob, SolveOutcome
from optimizer.plan.types import DayPlan
from optimizer.timewindow import DEFAULT_WINDOWS, TimeWindow

CityProgress = Callable[[int, int, str], None]
"""``progress(done, total, message)``: ``done`` of ``total`` cell problems solved so far."""


@dataclass(frozen=True)
class DistrictTiming:
    """Where one district's day went, in seconds of this process's clock."""

    district: str
    cells: int
    problems: int
    """Cell x window problems solved (cells with groups)."""
    build_s: float
    """From the start of the district to its first job handed to the executor."""
    solve_s: float
    """From the first job handed to the executor to its last outcome."""
    assemble_s: float
    """From the last outcome to the district's plan."""


@dataclass(frozen=True)
class CityPlan:
    """The day plans of a city's districts, in the city's order, and where the time went."""

    date: dt.date
    plans: tuple[DayPlan, ...]
    timings: tuple[DistrictTiming, ...]
    wall_s: float
    metrics: dict[str, float] = field(default_factory=dict)
    """Sums over the districts' day metrics (groups, visits, value, km, ...) and counts."""

    def plan_of(self, district: str) -> DayPlan:
        """Return the plan of ``district`` (by name)."""
        for p in self.plans:
            if p.district == district:
                return p
        raise InputError("district", district, f"one of {[p.district for p in self.plans]}")

    def timings_frame(self) -> pd.DataFrame:
        """Return one row per district: cells, problems, build, solve and assemble seconds."""
        return pd.DataFrame([vars(t) for t in self.timings])


class _Timed:
    """An executor that passes jobs on, counts them for progress and notes when the first went
    and the last came back."""

    def __init__(
        self, inner: Executor, added: Callable[[int], None], solved: Callable[[], None]
    ) -> None:
        self.inner = inner
        self.added = added
        self.solved = solved
        self.first: float | None = None
        self.last: float | None = None
        self.problems = 0

    def run(self, jobs: Sequence[SolveJob]) -> Iterator[tuple[int, SolveOutcome]]:
        """Pass ``jobs`` on to the inner executor; time and count them."""
        self.first = time.perf_counter()
        self.problems = len(jobs)
        self.added(len(jobs))
        for item in self.inner.run(jobs):
            self.solved()
            yield item
        self.last = time.perf_counter()

    def close(self) -> None:
        """The inner executor is the caller's to close."""


def _load(district: District | str | Path) -> District:
    if isinstance(district, District):
        return district
    from optimizer.storage import load_district

    return load_district(district)


def _name(district: District | str | Path) -> str:
    return district.name if isinstance(district, District) else Path(district).name


def plan_city(
    districts: Sequence[District | str | Path],
    *,
    day: dt.date,
    windows: Iterable[TimeWindow | str] = DEFAULT_WINDOWS,
    grid_level: int | None = None,
    params: PlanParams | None = None,
    seed: int = 0,
    executor: Executor | None = None,
    districts_at_once: int = 2,
    progress: CityProgress | None = None,
) -> CityPlan:
    """Plan one day of every district of a city through one executor.

    Parameters
    ----------
    districts
        The city: prepared districts, or their names or folders (loaded when their turn
        comes, so that only ``districts_at_once`` street networks are in memory at a time).
    day, windows, grid_level, params, seed
        As for :func:`~optimizer.plan.day.plan_day`, the same for every district.
    executor
        Where every district's problems are solved (default: in this process).
    districts_at_once
        Districts planned at the same time (threads of this process feeding the one
        executor); with 1 they go one after another.
    progress
        Called as ``progress(done, total, message)`` after each cell problem solved; ``total``
        grows as districts are built.

    Returns
    -------
    CityPlan
        One plan per district in the order of ``districts``, each the plan ``plan_day`` makes
        for it alone.
    """
    if not districts:
        raise InputError("districts", [], "at least one district")
    names = [_name(d) for d in districts]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError("districts", repeated, "districts of different names")
    if not (isinstance(districts_at_once, int) and 1 <= districts_at_once <= 64):
        raise InputError("districts_at_once", districts_at_once, "an integer from 1 to 64")
    wins = list(windows)
    shared = executor or InProcess()
    lock = threading.Lock()
    counts = {"done": 0, "total": 0}

    def one(district: District | str | Path) -> tuple[DayPlan, DistrictTiming]:
        started = time.perf_counter()
        loaded = _load(district)

        def added(n: int) -> None:
            with lock:
                counts["total"] += n

        def solved() -> None:
            with lock:  # reported under the lock: ``done`` never goes back
                counts["done"] += 1
                done, total = counts["done"], counts["total"]
                if progress is not None:
                    progress(done, total, f"{loaded.name}: solved {done}/{total} cell problems")

        timed = _Timed(shared, added, solved)
        plan = plan_day(
            loaded,
            day=day,
            windows=wins,
            grid_level=grid_level,
            params=params,
            seed=seed,
            executor=timed,
        )
        ended = time.perf_counter()
        first = timed.first if timed.first is not None else ended
        last = timed.last if timed.last is not None else first
        timing = DistrictTiming(
            loaded.name,
            len(plan.settings.get("grid_ids", ())),
            timed.problems,
            round(first - started, 3),
            round(last - first, 3),
            round(ended - last, 3),
        )
        return plan, timing

    started = time.perf_counter()
    with cf.ThreadPoolExecutor(max_workers=districts_at_once) as threads:
        results = list(threads.map(one, districts))
    wall = time.perf_counter() - started
    plans = tuple(p for p, _ in results)
    timings = tuple(t for _, t in results)
    return CityPlan(day, plans, timings, round(wall, 3), city_metrics(plans))


CITY_SUMS = ("groups", "visits", "value_total", "value_covered", "km", "posts_required")
"""Day metrics summed over a city's districts (besides the counts)."""


def city_metrics(plans: Sequence[DayPlan]) -> dict[str, float]:
    """Return a city's metrics: districts, cells, sums of :data:`CITY_SUMS`, coverage, reruns."""
    out: dict[str, float] = {
        "districts": float(len(plans)),
        "cells": float(sum(len(p.settings.get("grid_ids", ())) for p in plans)),
        "cell_windows": float(sum(len(p.windows) for p in plans)),
    }
    for key in (*CITY_SUMS, "posts_staffed", "value_recommended", "time_cap_bound"):
        out[key] = round(sum(float(p.metrics.get(key, 0.0)) for p in plans), 6)
    total = out["value_total"]
    out["coverage"] = round(min(1.0, out["value_recommended"] / total), 4) if total > 0 else 0.0
    out[RERUN_METRIC] = float(
        sum(wp.metrics.get(RERUN_METRIC, 0.0) for p in plans for wp in p.windows)
    )
    return out
