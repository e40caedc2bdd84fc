"""A week of plans, day by day, with the participation ledger carried through.

:func:`plan_week` plans ``days`` consecutive days with :func:`optimizer.plan.day.plan_day`.
Before each day it reads from the ledger the hours every volunteer has served in that day's
ISO week (:meth:`optimizer.operations.ledger.Ledger.week_hours`) and passes them as
``volunteer_hours``; after it, the day's planned duties go into the ledger. So the weekly caps
(``Volunteer.max_hours_week``) hold across the days of a week and, when a second week is
planned with the first week's ledger, across weeks; and the allocation's fair rotation
(volunteers with fewer hours against their cap go first, :mod:`optimizer.staff.allocation`)
sees what each volunteer served on the days before. The allocation also paces each
volunteer's cap over the week (``GroupParams.pace_week``): without it, where groups want more
volunteers than the roster's weekly hours give, the caps are spent in the first days and the
last days of the week have groups without volunteers. Each day is also given the day before as
``previous`` (day-to-day variation, where the params ask for it).

This module sits in ``plan/`` but reads the ledger of ``operations/``: the week is where what
was planned (and done) feeds the next plan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import pandas as pd

from optimizer.district import District
from optimizer.errors import InputError
from optimizer.operations.ledger import PLANNED, Ledger, ledger_from_plan
from optimizer.plan.build import HotspotAdjustment, ProgressCallback
from optimizer.plan.day import PROGRESS_STEPS, plan_day
from optimizer.plan.params import PlanParams
from optimizer.plan.solve import Executor
from optimizer.plan.types import DayPlan
from optimizer.staff.roster import Resources
from optimizer.timewindow import DEFAULT_WINDOWS, TimeWindow, check_date

MAX_DAYS = 31
"""Most days one call plans."""


@dataclass(frozen=True)
class WeekPlan:
    """The day plans of consecutive days and the ledger after them.

    ``ledger`` holds the rows of the ledger given to :func:`plan_week` (earlier weeks) and the
    planned duties of every day planned.
    """

    district: str
    start: dt.date
    plans: tuple[DayPlan, ...]
    ledger: Ledger
    resources: Resources

    @property
    def days(self) -> list[dt.date]:
        """The planned dates, in order."""
        return [p.date for p in self.plans]

    def to_frame(self) -> pd.DataFrame:
        """Return one row per person of the roster over the planned days.

        Role, team or station, weekly cap, patrols, post duties, hours, days on duty, rest
        days, share of the fair load and hours per ISO week
        (:meth:`~optimizer.operations.ledger.Ledger.person_summary`).
        """
        return self.ledger.person_summary(
            resources=self.resources, first=self.plans[0].date, last=self.plans[-1].date
        )

    def day_hours_frame(self) -> pd.DataFrame:
        """Return one row per person and one column per planned day: the hours planned."""
        frame = self.ledger.to_frame()
        frame = frame[
            (frame["source"] == PLANNED)
            & (frame["duty"] == "patrol")
            & frame["date"].isin(self.days)
        ]
        table = frame.pivot_table(
            index="person_id", columns="date", values="hours", aggfunc="sum", fill_value=0.0
        )
        table = table.reindex(columns=self.days, fill_value=0.0)
        table.columns = [d.isoformat() for d in self.days]
        return table.reset_index()

    def over_cap(self) -> pd.DataFrame:
        """Return the weeks where a volunteer's planned hours exceed the cap (empty: none)."""
        return self.ledger.caps_exceeded(self.resources)


def plan_week(
    district: District,
    *,
    start: dt.date,
    days: int = 7,
    ledger: Ledger | None = None,
    windows: Iterable[TimeWindow | str] = DEFAULT_WINDOWS,
    grid_ids: Iterable[str] | None = None,
    grid_level: int | None = None,
    params: PlanParams | None = None,
    seed: int = 0,
    workers: int = 1,
    executor: Executor | None = None,
    progress: ProgressCallback | None = None,
    previous: DayPlan | None = None,
    adjustments: Sequence[HotspotAdjustment] = (),
    pace: bool = True,
) -> WeekPlan:
    """Plan ``days`` consecutive days, carrying each volunteer's hours through the ledger.

    Parameters
    ----------
    district
        The prepared district.
    start
        The first day planned.
    days
        How many days (1 to :data:`MAX_DAYS`; 7: a week).
    ledger
        Duties of earlier days (e.g. the week before, or the days of this week already
        planned or done); their hours count against the weekly caps. Planned rows of the days
        planned here are replaced.
    windows, grid_ids, grid_level, params, workers, executor, adjustments
        As for :func:`optimizer.plan.day.plan_day`, the same every day.
    seed
        Day ``k`` (from 0) is planned with seed ``seed + k``.
    progress
        Called as ``progress(done, total, message)``: ``total`` is ``days *
        PROGRESS_STEPS``, each day advancing by :data:`~optimizer.plan.day.PROGRESS_STEPS`;
        the message starts with the day.
    previous
        The plan of the day before ``start`` (day-to-day variation); later days get the day
        planned before them.
    pace
        Spread each volunteer's weekly cap over the week (``GroupParams.pace_week``, see
        :func:`optimizer.staff.groups.pace_from`): without it the allocation, which fills every
        group it can, spends most volunteers' caps on the first days of the week and leaves
        the last ones without volunteers.

    Returns
    -------
    WeekPlan

    Raises
    ------
    InputError
        A bad ``start``, ``days``, ``seed``, ``ledger`` or any input ``plan_day`` refuses.
    """
    if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
        raise InputError("start", start, "a datetime.date")
    check_date(start, field="start")
    if not (isinstance(days, int) and not isinstance(days, bool) and 1 <= days <= MAX_DAYS):
        raise InputError("days", days, f"an integer from 1 to {MAX_DAYS}")
    if not (isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0):
        raise InputError("seed", seed, "an integer >= 0")
    if ledger is not None and not isinstance(ledger, Ledger):
        raise InputError("ledger", type(ledger).__name__, "a Ledger or None")
    if not isinstance(pace, bool):
        raise InputError("pace", pace, "true or false")
    params = PlanParams() if params is None else params
    if pace and isinstance(params, PlanParams) and not params.groups.pace_week:
        params = replace(params, groups=replace(params.groups, pace_week=True))
    wins = list(windows)
    cells = None if grid_ids is None else list(grid_ids)
    book = Ledger.empty() if ledger is None else ledger
    dates = [start + dt.timedelta(days=k) for k in range(days)]
    book = book.without_days(dates, source=PLANNED)
    plans: list[DayPlan] = []
    for k, day in enumerate(dates):

        def report(done: int, total: int, message: str, *, k: int = k, day: dt.date = day) -> None:
            if progress is not None:
                step = round(PROGRESS_STEPS * done / max(1, total))
                progress(k * PROGRESS_STEPS + step, days * PROGRESS_STEPS, f"{day}: {message}")

        plan = plan_day(
            district,
            day=day,
            windows=wins,
            grid_ids=cells,
            grid_level=grid_level,
            params=params,
            seed=seed + k,
            workers=workers,
            executor=executor,
            progress=report,
            previous=previous,
            volunteer_hours=book.week_hours(day),
            adjustments=adjustments,
        )
        book = book.add(ledger_from_plan(plan, resources=district.resources))
        plans.append(plan)
        previous = plan
    return WeekPlan(district.name, start, tuple(plans), book, district.resources)
