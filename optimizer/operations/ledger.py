"""The participation ledger: every planned and actual patrol and post duty, per person.

One row per duty (columns :data:`DUTY_COLUMNS`):

* a ``"patrol"`` row per person (officer or volunteer) and group route: the person was in the
  group that patrolled ``grid_id`` in ``window`` on ``date``. Planned hours are the window's
  hours, by the rule :func:`optimizer.staff.groups.window_hours` that
  :func:`~optimizer.staff.groups.record_service` applies (the rule the weekly cap and the fair
  rotation of the allocation read);
* a ``"post"`` row per person and post stop of the route: ``site_id`` is the post, ``start`` the
  start of the duty (arrival plus the wait for the post's window), ``end`` the departure,
  ``hours`` the minutes at the post / 60.

**Post rows are nested in patrol rows**: the minutes at a post are part of the window the
group patrolled. A person's hours are the sum of ``duty == "patrol"`` rows only; post rows say
how much of them was spent at posts.

``source`` is ``"planned"`` (:func:`ledger_from_plan`) or ``"actual"``
(:func:`ledger_from_actuals`, from tracks and check-ins matched by
:func:`optimizer.operations.tracks.match_tracks`). ``date`` is a ``datetime.date`` (the plan's
day: a window crossing midnight counts on the day it starts); ``start`` and ``end`` are the
plan's local wall-clock datetimes.

:class:`Ledger` keeps the rows of many days and answers: hours per person and ISO week, the
hours each volunteer served in the week before a day (what
:func:`optimizer.plan.day.plan_day` takes as ``volunteer_hours``), a summary per person (duties,
hours per week, post duties, rest days, share of the fair load) and the weeks where a
volunteer's hours exceed the roster's ``max_hours_week``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimizer.errors import InputError
from optimizer.operations.tracks import LATE, MADE, PlanActuals, plan_groups
from optimizer.plan.types import DayPlan, GroupRoute, WindowPlan
from optimizer.staff.groups import window_hours
from optimizer.staff.roster import Resources

DUTY_COLUMNS: tuple[str, ...] = (
    "date",
    "window",
    "grid_id",
    "group_id",
    "person_id",
    "role",
    "team_id",
    "station_id",
    "duty",
    "site_id",
    "start",
    "end",
    "hours",
    "source",
)
"""Columns of the ledger's frame, in order."""

OFFICER = "officer"
VOLUNTEER = "volunteer"
ROLES: tuple[str, ...] = (OFFICER, VOLUNTEER)
PATROL = "patrol"
POST = "post"
DUTIES: tuple[str, ...] = (PATROL, POST)
PLANNED = "planned"
ACTUAL = "actual"
SOURCES: tuple[str, ...] = (PLANNED, ACTUAL)

CAP_TOLERANCE_H = 1e-6
"""Hours above a cap that still count as within it (float sums of window hours)."""

KEY_COLUMNS: tuple[str, ...] = ("date", "window", "grid_id", "source")
"""Rows sharing these values come from one planned (or tracked) cell window; adding rows for a
key replaces the ledger's rows of that key (a re-stored plan replaces its duties)."""


# ---------------------------------------------------------------------------------------------
# Rows from plans and actuals


@dataclass(frozen=True)
class _Person:
    role: str
    team_id: str
    station_id: str


def _people(resources: Resources) -> dict[str, _Person]:
    out = {o.id: _Person(OFFICER, "", o.station_id) for o in resources.officers}
    for team in resources.teams:
        for v in team.members:
            out[v.id] = _Person(VOLUNTEER, v.team_id or team.id, "")
    return out


def _members(route: GroupRoute, people: Mapping[str, _Person]) -> list[tuple[str, _Person]]:
    """The group's people with role, team and station (the group's station for an officer
    missing from the roster, no team for a volunteer missing from it)."""
    group = route.group
    out = [
        (pid, people.get(pid, _Person(OFFICER, "", group.station_id))) for pid in group.officer_ids
    ]
    out += [(pid, people.get(pid, _Person(VOLUNTEER, "", ""))) for pid in group.volunteer_ids]
    return out


def _row(
    plan: DayPlan,
    wp: WindowPlan,
    route: GroupRoute,
    pid: str,
    person: _Person,
    *,
    duty: str,
    site_id: str,
    start: dt.datetime,
    end: dt.datetime,
    hours: float,
    source: str,
) -> tuple[Any, ...]:
    return (
        plan.date,
        wp.window.label(),
        wp.grid_id,
        route.group.id,
        pid,
        person.role,
        person.team_id,
        person.station_id,
        duty,
        site_id,
        start,
        end,
        float(hours),
        source,
    )


def _frame(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(DUTY_COLUMNS))
    frame["hours"] = frame["hours"].astype(float)
    return frame


def ledger_from_plan(plan: DayPlan, *, resources: Resources) -> pd.DataFrame:
    """Return the planned duties of a day plan (columns :data:`DUTY_COLUMNS`).

    Parameters
    ----------
    plan
        The day plan.
    resources
        The district's roster: each person's role, a volunteer's team, an officer's station.
        A person missing from it keeps the role the group gives (an officer gets the group's
        station, a volunteer no team).

    Returns
    -------
    pandas.DataFrame
        One ``"patrol"`` row per person and group route (the window's hours), one ``"post"``
        row per person and post stop (nested in the patrol: see the module docstring).
    """
    people = _people(resources)
    rows: list[tuple[Any, ...]] = []
    for wp in plan.windows:
        hours = window_hours(wp.window)
        for route in wp.routes:
            posts = [s for s in route.stops if s.kind == "post"]
            for pid, person in _members(route, people):
                rows.append(
                    _row(
                        plan,
                        wp,
                        route,
                        pid,
                        person,
                        duty=PATROL,
                        site_id="",
                        start=wp.start,
                        end=wp.end,
                        hours=hours,
                        source=PLANNED,
                    )
                )
                for s in posts:
                    start = s.arrival + dt.timedelta(minutes=s.wait_min)
                    minutes = max(0.0, (s.departure - start).total_seconds() / 60.0)
                    rows.append(
                        _row(
                            plan,
                            wp,
                            route,
                            pid,
                            person,
                            duty=POST,
                            site_id=s.site_id,
                            start=start,
                            end=s.departure,
                            hours=minutes / 60.0,
                            source=PLANNED,
                        )
                    )
    return _frame(rows)


def ledger_from_actuals(
    actuals: PlanActuals, *, plan: DayPlan, resources: Resources
) -> pd.DataFrame:
    """Return the actual duties of a day: what the tracks and check-ins show was done.

    The rules, stated because a track proves less than a plan promises:

    * a group's **patrol** counts when its track has a point inside the window or a check-in
      (or visit) made one of its stops (made or late). Hours: the track's span (first to last
      point) clipped to the window; a group known to be out by check-ins only is credited the
      window's hours (nothing measures how long it stayed — the planned rule stands);
      a group neither tracked in the window nor checked in has no actual row;
    * a **post** counts when its stop was made or late: ``start`` is the arrival, ``hours`` the
      dosage the track measured (minutes within the radius); with a check-in and no track
      minutes, the planned minutes. Missed posts have no row.

    Every member of the group gets the group's rows (a track is the group's handheld, not each
    person's).

    Parameters
    ----------
    actuals
        :func:`optimizer.operations.tracks.match_tracks` of ``plan``.
    plan
        The day plan the actuals were matched to.
    resources
        The district's roster (see :func:`ledger_from_plan`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DUTY_COLUMNS`, ``source == "actual"``.

    Raises
    ------
    InputError
        Actuals of another district or day, or of a group not in the plan.
    """
    if actuals.district != plan.district:
        raise InputError("actuals.district", actuals.district, f"the plan's {plan.district!r}")
    if actuals.day != plan.date:
        raise InputError("actuals.day", actuals.day, f"the plan's date {plan.date.isoformat()}")
    people = _people(resources)
    groups = plan_groups(plan)
    stops_of: dict[str, list[Any]] = {}
    for s in actuals.stops:
        stops_of.setdefault(s.group_id, []).append(s)
    rows: list[tuple[Any, ...]] = []
    for ga in actuals.groups:
        if ga.group_id not in groups:
            raise InputError("actuals.group", ga.group_id, f"a group of the plan: {sorted(groups)}")
        wp, route = groups[ga.group_id]
        done = [s for s in stops_of.get(ga.group_id, []) if s.status in (MADE, LATE)]
        start = end = None
        if ga.first_seen is not None and ga.last_seen is not None:
            start, end = max(ga.first_seen, wp.start), min(ga.last_seen, wp.end)
            if end < start:  # the track lies wholly outside the window
                start = end = None
        if start is not None and end is not None:
            hours = (end - start).total_seconds() / 3600.0
        elif done:
            start, end, hours = wp.start, wp.end, window_hours(wp.window)
        else:
            continue
        for pid, person in _members(route, people):
            rows.append(
                _row(
                    plan,
                    wp,
                    route,
                    pid,
                    person,
                    duty=PATROL,
                    site_id="",
                    start=start,
                    end=end,
                    hours=hours,
                    source=ACTUAL,
                )
            )
            for s in done:
                if s.kind != "post" or s.arrival is None:
                    continue
                minutes = s.dosage_min if s.dosage_min > 0 else s.planned_min
                rows.append(
                    _row(
                        plan,
                        wp,
                        route,
                        pid,
                        person,
                        duty=POST,
                        site_id=s.site_id,
                        start=s.arrival,
                        end=s.arrival + dt.timedelta(minutes=minutes),
                        hours=minutes / 60.0,
                        source=ACTUAL,
                    )
                )
    return _frame(rows)


# ---------------------------------------------------------------------------------------------
# The ledger


def iso_week(day: dt.date) -> str:
    """Return the ISO week of ``day`` as ``"YYYY-Www"`` (e.g. ``"2026-W49"``)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def current_week(tz: dt.tzinfo | None, *, now: dt.datetime | None = None) -> str:
    """Return the ISO week it is now in the time zone ``tz`` (UTC when None).

    A district's week turns at its own midnight on Sunday, not the server's.
    """
    moment = now if now is not None else dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        raise InputError("now", moment, "a time with a time zone")
    return iso_week(moment.astimezone(tz or dt.UTC).date())


def week_start(week: str, *, field: str = "week") -> dt.date:
    """Return the Monday of an ISO week ``"YYYY-Www"``.

    Raises
    ------
    InputError
        Not an ISO week.
    """
    try:
        year, number = str(week).split("-W")
        return dt.date.fromisocalendar(int(year), int(number), 1)
    except ValueError:
        raise InputError(field, week, "an ISO week 'YYYY-Www', e.g. '2026-W49'") from None


def _check_source(source: str) -> str:
    if source not in SOURCES:
        raise InputError("source", source, f"one of {list(SOURCES)}")
    return source


def _check_day(value: object, field: str) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise InputError(field, value, "a datetime.date")
    return value


def check_duties(frame: pd.DataFrame, *, field: str = "ledger") -> pd.DataFrame:
    """Return ``frame`` as a ledger frame: the columns :data:`DUTY_COLUMNS`, typed.

    Dates may be ``datetime.date`` or ISO strings, ``start``/``end`` datetimes or ISO strings
    (as a CSV gives them back); ``team_id``, ``station_id`` and ``site_id`` may be empty.

    Raises
    ------
    InputError
        A missing column, or a value outside what the column accepts (named by column and row).
    """
    missing = [c for c in DUTY_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"{field}.columns", missing, f"the columns {list(DUTY_COLUMNS)}")
    out = frame.loc[:, list(DUTY_COLUMNS)].copy()
    if out.empty:
        return _frame([])
    for col in ("window", "grid_id", "group_id", "person_id", "team_id", "station_id", "site_id"):
        out[col] = out[col].fillna("").astype(str)
    try:
        out["date"] = [
            d if type(d) is dt.date else dt.date.fromisoformat(str(d)[:10]) for d in out["date"]
        ]
    except ValueError:
        raise InputError(f"{field}.date", None, "ISO dates YYYY-MM-DD") from None
    for col in ("start", "end"):
        try:
            out[col] = pd.to_datetime(out[col]).dt.to_pydatetime()
        except (ValueError, TypeError):
            raise InputError(f"{field}.{col}", None, "ISO date-times") from None
    hours = pd.to_numeric(out["hours"], errors="coerce")
    bad = hours.isna() | (hours < 0)
    if bad.any():
        i = int(bad.to_numpy().argmax())
        raise InputError(f"{field}.hours[{i}]", out["hours"].iloc[i], "a number of hours >= 0")
    out["hours"] = hours.astype(float)
    for col, accepted in (("role", ROLES), ("duty", DUTIES), ("source", SOURCES)):
        wrong = ~out[col].isin(accepted)
        if wrong.any():
            i = int(wrong.to_numpy().argmax())
            raise InputError(f"{field}.{col}[{i}]", out[col].iloc[i], f"one of {list(accepted)}")
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class Ledger:
    """The duties of many days (see the module docstring); immutable, built up with :meth:`add`.

    Hours are always sums of ``duty == "patrol"`` rows (post rows are nested in them).
    """

    frame: pd.DataFrame

    def __post_init__(self) -> None:
        object.__setattr__(self, "frame", check_duties(self.frame))

    @classmethod
    def empty(cls) -> Ledger:
        """Return a ledger without rows."""
        return cls(_frame([]))

    @classmethod
    def read_csv(cls, path: str | Path) -> Ledger:
        """Return the ledger written by :meth:`write_csv`.

        Raises
        ------
        InputError
            A missing file, or a table that is not a ledger.
        """
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        except FileNotFoundError:
            raise InputError("ledger", str(path), "an existing ledger CSV file") from None
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
            raise InputError("ledger", str(path), "a CSV with the ledger's columns") from None
        return cls(frame)

    def write_csv(self, path: str | Path) -> Path:
        """Write the ledger as CSV (ISO dates and times); return the path."""
        out = Path(path)
        self.to_frame().to_csv(out, index=False, date_format="%Y-%m-%dT%H:%M:%S")
        return out

    def to_frame(self) -> pd.DataFrame:
        """Return a copy of the rows, sorted by date, window, cell, group, person, duty."""
        order = ["date", "source", "window", "grid_id", "group_id", "person_id", "duty", "start"]
        return self.frame.sort_values(order, kind="stable").reset_index(drop=True)

    def add(self, rows: pd.DataFrame | Ledger) -> Ledger:
        """Return a ledger with ``rows`` added, replacing the rows of the same cell windows.

        Rows of a (date, window, grid_id, source) present in ``rows`` are dropped first, so
        storing a re-planned day (or re-matched tracks) again does not count its duties twice.
        """
        new = rows.frame if isinstance(rows, Ledger) else check_duties(rows, field="rows")
        if new.empty:
            return self
        keys = set(new.loc[:, list(KEY_COLUMNS)].itertuples(index=False, name=None))
        mine = self.frame.loc[:, list(KEY_COLUMNS)].itertuples(index=False, name=None)
        keep = [k not in keys for k in mine]
        return Ledger(pd.concat([self.frame[keep], new], ignore_index=True))

    def without_days(self, days: Iterable[dt.date], *, source: str) -> Ledger:
        """Return the ledger without the rows of ``source`` on ``days`` (a day re-planned)."""
        drop = set(days)
        mask = (self.frame["source"] == _check_source(source)) & self.frame["date"].isin(drop)
        return self if not mask.any() else Ledger(self.frame[~mask])

    def _select(
        self,
        *,
        source: str,
        first: dt.date | None = None,
        last: dt.date | None = None,
        duty: str | None = PATROL,
    ) -> pd.DataFrame:
        f = self.frame
        mask = f["source"] == _check_source(source)
        if duty is not None:
            mask &= f["duty"] == duty
        if first is not None:
            mask &= f["date"] >= first
        if last is not None:
            mask &= f["date"] <= last
        return f[mask]

    def hours_by_person(
        self, *, week_of: dt.date | None = None, source: str = PLANNED
    ) -> pd.DataFrame:
        """Return one row per person: role, team, station, patrols and hours (patrol rows).

        Parameters
        ----------
        week_of
            Count the ISO week of this day only (``None``: every row).
        source
            ``"planned"`` or ``"actual"``.

        Returns
        -------
        pandas.DataFrame
            Columns ``person_id, role, team_id, station_id, patrols, hours``, by person id.
        """
        first = last = None
        if week_of is not None:
            _check_day(week_of, "week_of")
            first = week_of - dt.timedelta(days=week_of.weekday())
            last = first + dt.timedelta(days=6)
        rows = self._select(source=source, first=first, last=last)
        cols = ["person_id", "role", "team_id", "station_id", "patrols", "hours"]
        if rows.empty:
            return pd.DataFrame(columns=cols)
        out = rows.groupby(["person_id", "role", "team_id", "station_id"], as_index=False).agg(
            patrols=("hours", "size"), hours=("hours", "sum")
        )
        return out.loc[:, cols].sort_values("person_id").reset_index(drop=True)

    def week_hours(self, day: dt.date, *, source: str = PLANNED) -> dict[str, float]:
        """Return the hours each volunteer served in the ISO week of ``day``, before ``day``.

        This is what :func:`optimizer.plan.day.plan_day` takes as ``volunteer_hours``: with
        it, the weekly cap and the fair rotation hold across the days of the week.
        """
        _check_day(day, "day")
        monday = day - dt.timedelta(days=day.weekday())
        rows = self._select(source=source, first=monday, last=day - dt.timedelta(days=1))
        rows = rows[rows["role"] == VOLUNTEER]
        return {str(k): float(v) for k, v in rows.groupby("person_id")["hours"].sum().items()}

    def week_table(self, *, source: str = PLANNED) -> pd.DataFrame:
        """Return one row per person and ISO week: role, team, station, patrols, hours."""
        rows = self._select(source=source)
        cols = ["person_id", "role", "team_id", "station_id", "week", "patrols", "hours"]
        if rows.empty:
            return pd.DataFrame(columns=cols)
        rows = rows.assign(week=[iso_week(d) for d in rows["date"]])
        out = rows.groupby(
            ["person_id", "role", "team_id", "station_id", "week"], as_index=False
        ).agg(patrols=("hours", "size"), hours=("hours", "sum"))
        return out.loc[:, cols].sort_values(["week", "person_id"]).reset_index(drop=True)

    def caps_exceeded(self, resources: Resources, *, source: str = PLANNED) -> pd.DataFrame:
        """Return the weeks where a volunteer's hours exceed the roster's ``max_hours_week``.

        Returns
        -------
        pandas.DataFrame
            Columns ``person_id, team_id, week, hours, cap, over``; empty when every cap holds.
        """
        caps = {v.id: float(v.max_hours_week) for v in resources.volunteers}
        table = self.week_table(source=source)
        table = table[table["role"] == VOLUNTEER]
        cols = ["person_id", "team_id", "week", "hours", "cap", "over"]
        if table.empty:
            return pd.DataFrame(columns=cols)
        table = table.assign(cap=[caps.get(p, float("inf")) for p in table["person_id"]])
        table = table[table["hours"] > table["cap"] + CAP_TOLERANCE_H]
        table = table.assign(over=table["hours"] - table["cap"])
        return table.loc[:, cols].reset_index(drop=True)

    def person_summary(
        self,
        *,
        resources: Resources | None = None,
        first: dt.date | None = None,
        last: dt.date | None = None,
        source: str = PLANNED,
    ) -> pd.DataFrame:
        """Return one row per person over the days ``first`` .. ``last``.

        Columns: ``person_id, role, team_id, station_id, cap`` (a volunteer's weekly cap, NaN
        for officers), ``patrols``, ``post_duties``, ``hours``, ``days_on_duty``,
        ``rest_days`` (days of the period without a patrol), ``fair_share`` (hours against the
        person's fair part of the role's hours: the role's total split in proportion to the
        weekly caps for volunteers, equally for officers; 1.0 is exactly fair) and one column
        ``hours YYYY-Www`` per ISO week of the period.

        Parameters
        ----------
        resources
            The roster: its people without any duty are listed too (all days rest), with caps.
        first, last
            The period (default: the ledger's first and last date of ``source``).
        source
            ``"planned"`` or ``"actual"``.
        """
        all_rows = self._select(source=source, duty=None)
        if first is None:
            first = min(all_rows["date"], default=None)
        if last is None:
            last = max(all_rows["date"], default=None)
        base = ["person_id", "role", "team_id", "station_id", "cap", "patrols", "post_duties"]
        base += ["hours", "days_on_duty", "rest_days", "fair_share"]
        if first is None or last is None:
            return pd.DataFrame(columns=base)
        _check_day(first, "first")
        _check_day(last, "last")
        if last < first:
            raise InputError("last", last, f"a date on or after first ({first.isoformat()})")
        rows = self._select(source=source, first=first, last=last, duty=None)
        days = (last - first).days + 1
        weeks = sorted({iso_week(first + dt.timedelta(days=k)) for k in range(days)})
        people: dict[str, dict[str, Any]] = {}
        if resources is not None:
            for pid, p in _people(resources).items():
                people[pid] = {"role": p.role, "team_id": p.team_id, "station_id": p.station_id}
        for r in rows.drop_duplicates("person_id").itertuples(index=False):
            people.setdefault(
                str(r.person_id),
                {"role": r.role, "team_id": r.team_id, "station_id": r.station_id},
            )
        caps = {v.id: float(v.max_hours_week) for v in (resources.volunteers if resources else ())}
        patrol = rows[rows["duty"] == PATROL]
        post = rows[rows["duty"] == POST]
        hours = patrol.groupby("person_id")["hours"].sum()
        count = patrol.groupby("person_id").size()
        posts = post.groupby("person_id").size()
        on_duty = patrol.groupby("person_id")["date"].nunique()
        by_week = patrol.assign(week=[iso_week(d) for d in patrol["date"]])
        week_sum = by_week.groupby(["person_id", "week"])["hours"].sum()
        out = []
        for pid in sorted(people):
            row: dict[str, Any] = {"person_id": pid, **people[pid]}
            row["cap"] = caps.get(pid, float("nan"))
            row["patrols"] = int(count.get(pid, 0))
            row["post_duties"] = int(posts.get(pid, 0))
            row["hours"] = float(hours.get(pid, 0.0))
            row["days_on_duty"] = int(on_duty.get(pid, 0))
            row["rest_days"] = days - row["days_on_duty"]
            for w in weeks:
                row[f"hours {w}"] = float(week_sum.get((pid, w), 0.0))
            out.append(row)
        frame = pd.DataFrame(out, columns=base + [f"hours {w}" for w in weeks])
        frame["fair_share"] = _fair_share(frame)
        return frame

    def days(self, *, source: str = PLANNED) -> list[dt.date]:
        """Return the dates with rows of ``source``, in order."""
        return sorted(set(self._select(source=source, duty=None)["date"]))


def _fair_share(frame: pd.DataFrame) -> npt.NDArray[np.float64]:
    """Hours over the fair part of the role's total (volunteers by cap, officers equally)."""
    share = np.full(len(frame), np.nan)
    hours = frame["hours"].to_numpy(dtype=float)
    caps = frame["cap"].to_numpy(dtype=float)
    for role in ROLES:
        mine = (frame["role"] == role).to_numpy()
        if not mine.any():
            continue
        weight = np.ones(int(mine.sum()))
        if role == VOLUNTEER:
            known = caps[mine]
            fill = float(np.nanmedian(known)) if np.isfinite(known).any() else 1.0
            weight = np.where(np.isfinite(known), known, fill)
        fair = hours[mine].sum() * weight / max(float(weight.sum()), 1e-12)
        with np.errstate(divide="ignore", invalid="ignore"):
            share[mine] = np.where(fair > 0, hours[mine] / fair, np.nan)
    return share


def ledger_of_plans(plans: Iterable[DayPlan], *, resources: Resources) -> Ledger:
    """Return the ledger of the planned duties of ``plans`` (a later plan of the same cell
    window replaces an earlier one)."""
    ledger = Ledger.empty()
    for plan in plans:
        ledger = ledger.add(ledger_from_plan(plan, resources=resources))
    return ledger
