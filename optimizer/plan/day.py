"""A day's plan in three steps: build the problems, solve them, assemble the plan.

:func:`plan_day` is what the CLI, the service and notebooks call:

1. :func:`optimizer.plan.build.build_day` — per window, the hotspots of every cell, groups
   formed and allocated (posts first, every cell with demand once, then by demand), muster
   points, one routing problem per cell with groups, and what is left out before solving;
2. :func:`optimizer.plan.solve.solve_day` — every problem solved with a deterministic budget
   and its own seed, in this process or on an executor (``LocalPool``, ...);
3. :func:`optimizer.plan.assemble.assemble_day` — timed street routes, left-out sites with
   their reasons, metrics and how the staff was used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from optimizer.district import District
from optimizer.errors import InputError
from optimizer.plan.assemble import assemble_day
from optimizer.plan.build import HotspotAdjustment, ProgressCallback, build_day
from optimizer.plan.cells import planning_grid_ids
from optimizer.plan.params import PlanParams
from optimizer.plan.solve import Executor, InProcess, LocalPool, solve_day
from optimizer.plan.types import DayPlan
from optimizer.timewindow import DEFAULT_WINDOWS, TimeWindow

PROGRESS_STEPS = 1000
"""Progress is reported as ``(done, PROGRESS_STEPS, message)``; it never goes back."""
BUILD_SHARE = 0.1
"""Share of the progress bar for building the windows' problems (solving takes the most)."""
ASSEMBLE_SHARE = 0.05
"""Share of the progress bar for assembling the plan."""

JOBS_PER_WORKER = 6
"""A local pool gets at most one process per this many cell problems (fewer: solved here)."""


def parse_windows(windows: Iterable[TimeWindow | str]) -> list[TimeWindow]:
    """Return the windows as :class:`TimeWindow` objects (``"HH:MM-HH:MM"`` parsed)."""
    out = []
    for i, w in enumerate(windows):
        out.append(
            w if isinstance(w, TimeWindow) else TimeWindow.parse(str(w), field=f"windows[{i}]")
        )
    if not out:
        raise InputError("windows", [], "at least one window 'HH:MM-HH:MM'")
    return out


def plan_day(
    district: District,
    *,
    day: dt.date,
    windows: Iterable[TimeWindow | str] = DEFAULT_WINDOWS,
    grid_ids: Iterable[str] | None = None,
    grid_level: int | None = None,
    params: PlanParams | None = None,
    seed: int = 0,
    workers: int = 1,
    executor: Executor | None = None,
    progress: ProgressCallback | None = None,
    previous: DayPlan | None = None,
    volunteer_hours: Mapping[str, float] | None = None,
    adjustments: Sequence[HotspotAdjustment] = (),
) -> DayPlan:
    """Plan a day of joint patrols: build → solve → assemble.

    Parameters
    ----------
    district
        The prepared district (see ``optimizer.storage.load_district``).
    day
        The date planned.
    windows
        Time windows (``TimeWindow`` or ``"HH:MM-HH:MM"``; a window may cross midnight).
    grid_ids
        Cells to plan (any level); ``None`` means every cell of ``grid_level``.
    grid_level
        Grid level planned when ``grid_ids`` is None (default
        :data:`~optimizer.plan.cells.DEFAULT_GRID_LEVEL`).
    params
        Engine, budget, group and route rules, variation (:class:`PlanParams` defaults).
    seed
        Seed of every stochastic step: the same inputs and seed give the same plan on any
        machine and under any load (budgets are deterministic work).
    workers
        Solve in a pool of this many local processes (1: in this process); ignored when an
        ``executor`` is given. The plan does not depend on it.
    executor
        Where the problems are solved (e.g. a :class:`~optimizer.plan.solve.LocalPool` kept
        warm between plans).
    progress
        Called as ``progress(done, total, message)`` after each window built, each problem
        solved and the assembly; ``total`` is :data:`PROGRESS_STEPS` and ``done`` never goes
        back.
    previous
        The previous day's plan: with variation, hotspots it visited in the same window and
        cell are discounted.
    volunteer_hours
        Hours each volunteer (by id) has already served this week; the hours placed in each
        window count in the next, so the weekly cap and the fair rotation hold across the day.
    adjustments
        Changes to each window's forecast hotspots before planning (alerts, dosage deficits:
        :class:`~optimizer.plan.build.HotspotAdjustment`); what they did is recorded in the
        plan's ``settings["notes"]``.

    Returns
    -------
    DayPlan

    Raises
    ------
    InputError
        An unknown cell, level or engine, a malformed window, bad parameters.
    """
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        raise InputError("day", day, "a datetime.date")
    wins = parse_windows(windows)
    params = PlanParams() if params is None else params
    if not isinstance(params, PlanParams):
        raise InputError("params", params, "a PlanParams")
    if not (isinstance(workers, int) and not isinstance(workers, bool) and 1 <= workers <= 64):
        raise InputError("workers", workers, "an integer from 1 to 64")
    if not (isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0):
        raise InputError("seed", seed, "an integer >= 0")
    ids = planning_grid_ids(district, level=grid_level, grid_ids=grid_ids)

    def report(done: float, message: str) -> None:
        if progress is not None:
            progress(round(PROGRESS_STEPS * done), PROGRESS_STEPS, message)

    def tick(windows_built: int, message: str) -> None:
        report(BUILD_SHARE * windows_built / len(wins), message)

    problems = build_day(
        district,
        day=day,
        windows=wins,
        grid_ids=ids,
        params=params,
        seed=seed,
        volunteer_hours=volunteer_hours,
        previous=previous,
        adjustments=adjustments,
        progress=tick,
    )

    def solved(done: int, total: int) -> None:
        share = BUILD_SHARE + (1 - BUILD_SHARE - ASSEMBLE_SHARE) * done / max(1, total)
        report(share, f"solved {done}/{total} cell problems")

    # a pool pays for its start-up (a few seconds of imports per process) only on larger days
    pooled = min(workers, len(problems.tasks) // JOBS_PER_WORKER)
    if executor is not None:
        outcomes = solve_day(problems, executor=executor, progress=solved)
    elif pooled > 1:
        with LocalPool(pooled) as pool:
            outcomes = solve_day(problems, executor=pool, progress=solved)
    else:
        outcomes = solve_day(problems, executor=InProcess(), progress=solved)
    settings: dict[str, object] = {
        "windows": [w.label() for w in wins],
        "grid_ids": ids,
        "grid_level": grid_level,
        "engine": params.engine,
        "budget_s": params.budget_s,
        "time_cap_s": params.time_cap_s,
        "variation": None if params.variation is None else vars(params.variation).copy(),
        "seed": seed,
        "timezone": district.metadata.get("timezone"),
        "workers": workers,
        "executor": type(executor).__name__ if executor is not None else None,
        "notes": list(problems.notes),
    }
    plan = assemble_day(district, problems, outcomes, settings=settings)
    report(1.0, "assembled the plan")
    return plan
