"""Replay held-out days: plans made only from earlier incidents, scored on the day's incidents.

For each day evaluated (:func:`effectiveness_backtest`):

1. the district is given only the incidents **before** the day (:func:`history_before`, local
   midnight in the district's time zone; the latest time given is recorded in
   :attr:`EffectivenessResult.history_end`);
2. the service plans the day (``optimizer.plan.day.plan_day``: forecast, hotspots, groups,
   routes; deterministic work budget and seed), and again with :class:`~optimizer.evaluate.
   effectiveness.strategies.UniformRisk` (the forecast replaced by uniform risk);
3. the baselines get the service's groups at the service's hours (:func:`~optimizer.evaluate.
   effectiveness.strategies.plan_duties`): beat loop, random routes, greedy nearest hotspot;
4. every strategy's routes become traces on the street segments and are scored on the day's
   incidents: an incident with a time counts when it falls in a window and lies on or within
   ``radius_m`` of a segment patrolled in that window; an incident with a date only when it lies
   that close to a segment patrolled that day; the distinct street length patrolled in each
   window (``patrolled_km``, summed over the windows); the minutes on each segment in each window
   (weighted, at the end, by the held-out incidents on that segment from the first to the last
   day evaluated, every day in between included, at that window's hours where they have a time:
   the risk that realised, :func:`realised_risk`); and the share of the planned cells'
   street length within 3 and 5 minutes of a group at ``moments_per_window`` random moments of
   each window (the same moments for every strategy);
5. with the beat loop among the strategies, the bounds of
   :mod:`~optimizer.evaluate.effectiveness.bounds`: the beat loop's street length spent on the
   best streets by the forecast, by earlier counts and in hindsight, unconnected
   (:attr:`EffectivenessResult.bounds`).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import networkx as nx
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from optimizer.district import District
from optimizer.errors import InputError
from optimizer.evaluate.effectiveness.bounds import BOUND_RANKINGS, per_metre, top_streets
from optimizer.evaluate.effectiveness.metrics import (
    covered_incidents,
    incident_points,
    patrolled_length_m,
    positions_at,
    presence_minutes,
    random_moments,
    reach_shares,
    risk_weighted_minutes,
)
from optimizer.evaluate.effectiveness.strategies import (
    UniformRisk,
    beat_loop_traces,
    cell_segments,
    greedy_traces,
    plan_duties,
    random_traces,
)
from optimizer.evaluate.effectiveness.traces import SegmentLookup, Trace, service_traces
from optimizer.plan.cells import planning_grid_ids
from optimizer.plan.day import plan_day
from optimizer.plan.params import PlanParams
from optimizer.plan.types import DayPlan
from optimizer.risk.hotspots import district_forecast, window_start
from optimizer.risk.incidents import segment_index, street_segments
from optimizer.timewindow import DEFAULT_WINDOWS, TimeWindow

SERVICE = "service"
BEAT_LOOP = "beat_loop"
RANDOM = "random"
GREEDY = "greedy_hotspot"
UNIFORM = "service_uniform"
STRATEGIES: tuple[str, ...] = (SERVICE, BEAT_LOOP, RANDOM, GREEDY, UNIFORM)
"""Strategies compared; the service's plan is always made (it gives every baseline its groups)."""

DAY_COLUMNS: tuple[str, ...] = (
    "day",
    "strategy",
    "groups",
    "hours",
    "incidents",
    "covered",
    "share",
    "patrolled_km",
    "risk_minutes",
)


@dataclass(frozen=True)
class EffectivenessParams:
    """How the backtest plans and scores each day.

    Parameters
    ----------
    windows
        Windows planned each day (``"HH:MM-HH:MM"``).
    grid_level
        Grid level planned (``None``: the planner's default).
    plan
        The plan's parameters (engine, deterministic ``budget_s`` ...).
    seed
        Seed of the plans, the random routes and the random moments.
    radius_m
        An incident this close to a patrolled segment counts as covered.
    reach_minutes
        Minutes of the reach circle.
    moments_per_window
        Random moments per window at which the reach circle is measured.
    strategies
        Strategies scored (a subset of :data:`STRATEGIES`; the service's plan is always made).
    workers
        Worker processes of each plan (the plan does not depend on it).
    keep_traces
        Keep every strategy's traces in :attr:`EffectivenessResult.traces` (to draw a day).
    """

    windows: tuple[str, ...] = tuple(w.label() for w in DEFAULT_WINDOWS)
    grid_level: int | None = None
    plan: PlanParams = field(default_factory=PlanParams)
    seed: int = 0
    radius_m: float = 50.0
    reach_minutes: tuple[float, ...] = (3.0, 5.0)
    moments_per_window: int = 4
    strategies: tuple[str, ...] = STRATEGIES
    workers: int = 1
    keep_traces: bool = False

    def __post_init__(self) -> None:
        for i, w in enumerate(self.windows):
            TimeWindow.parse(str(w), field=f"windows[{i}]")
        if not self.windows:
            raise InputError("windows", self.windows, "at least one window 'HH:MM-HH:MM'")
        if not isinstance(self.plan, PlanParams):
            raise InputError("plan", self.plan, "a PlanParams")
        if not (isinstance(self.seed, int) and self.seed >= 0):
            raise InputError("seed", self.seed, "an integer >= 0")
        if not 0 <= self.radius_m <= 1000:
            raise InputError("radius_m", self.radius_m, "metres in [0, 1000]")
        if not all(isinstance(m, int | float) and m > 0 for m in self.reach_minutes):
            raise InputError("reach_minutes", self.reach_minutes, "minutes > 0")
        if not (isinstance(self.moments_per_window, int) and self.moments_per_window >= 0):
            raise InputError("moments_per_window", self.moments_per_window, "an integer >= 0")
        unknown = [s for s in self.strategies if s not in STRATEGIES]
        if unknown or not self.strategies:
            raise InputError("strategies", self.strategies, f"some of {list(STRATEGIES)}")
        if not (isinstance(self.workers, int) and 1 <= self.workers <= 64):
            raise InputError("workers", self.workers, "an integer from 1 to 64")
        if not isinstance(self.keep_traces, bool):
            raise InputError("keep_traces", self.keep_traces, "True or False")


def reach_column(minutes: float) -> str:
    """Return the column name of a reach share, e.g. ``"reach@3min"``."""
    return f"reach@{minutes:g}min"


@dataclass(frozen=True)
class EffectivenessResult:
    """What :func:`effectiveness_backtest` measured.

    Attributes
    ----------
    days
        One row per day and strategy: columns :data:`DAY_COLUMNS` (``hours`` on the streets,
        ``patrolled_km`` distinct street length patrolled per window, summed) and one
        :func:`reach_column` per reach time.
    history_end
        Day -> the latest incident time the day's plans were given (ISO; ``""``: none).
    params
        The parameters used.
    traces
        Day -> strategy -> the groups' traces (only with ``params.keep_traces``).
    bounds
        One row per day (with the beat loop scored): ``day``, ``incidents`` (counted as for
        the strategies), ``length_km`` (the beat loop's distinct street length, per window
        where incidents have a time and per day where they have a date only, summed) and
        ``covered_<ranking>`` for each of
        :data:`~optimizer.evaluate.effectiveness.bounds.BOUND_RANKINGS`.
    """

    days: pd.DataFrame
    history_end: dict[str, str]
    params: EffectivenessParams
    traces: dict[str, dict[str, list[Trace]]] = field(default_factory=dict)
    bounds: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_frame(self) -> pd.DataFrame:
        """Return :attr:`days`."""
        return self.days.copy()

    def summary(self, *, level: float = 0.95) -> pd.DataFrame:
        """Return one row per strategy: hours, incidents covered, share, ratios, reach.

        Columns ``days``, ``groups``, ``hours``, ``hours_ratio`` (to the service's),
        ``incidents``, ``covered``, ``share`` (covered / incidents over all days),
        ``share_lo`` / ``share_hi`` (mean daily share +- Student t interval across days, cut
        to [0, 1]), ``share_vs_beat_loop``, ``risk_minutes``, ``risk_vs_beat_loop`` and the
        mean reach shares.
        """
        d = self.days
        reach = [c for c in d.columns if c.startswith("reach@")]
        g = d.groupby("strategy", sort=False)
        out = pd.DataFrame(
            {
                "days": g["day"].nunique(),
                "groups": g["groups"].sum(),
                "hours": g["hours"].sum(),
                "incidents": g["incidents"].sum(),
                "covered": g["covered"].sum(),
                "patrolled_km": g["patrolled_km"].sum(),
                "risk_minutes": g["risk_minutes"].sum(),
            }
        )
        out["share"] = out["covered"] / out["incidents"].where(out["incidents"] > 0)
        daily = g["share"]
        n = daily.count()
        q = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1))
        half = q * daily.std(ddof=1).fillna(0.0) / np.sqrt(np.maximum(n, 1))
        out["share_lo"] = (daily.mean() - half).clip(lower=0.0)
        out["share_hi"] = (daily.mean() + half).clip(upper=1.0)
        for c in reach:
            out[c] = g[c].mean()
        if SERVICE in out.index:
            base_hours = float(out["hours"].to_numpy()[out.index.get_loc(SERVICE)])
            out.insert(3, "hours_ratio", out["hours"] / base_hours)
        if BEAT_LOOP in out.index:
            base_share = float(out["share"].to_numpy()[out.index.get_loc(BEAT_LOOP)])
            base_risk = float(out["risk_minutes"].to_numpy()[out.index.get_loc(BEAT_LOOP)])
            out["share_vs_beat_loop"] = out["share"] / base_share
            out["risk_vs_beat_loop"] = out["risk_minutes"] / base_risk
        return out

    def bounds_summary(self) -> pd.DataFrame:
        """Return one row per bound ranking: ``covered``, ``share`` and ``share_vs_beat_loop``.

        Empty when the beat loop was not scored. ``share`` is covered / incidents over all
        days, like :meth:`summary`'s.
        """
        b = self.bounds
        if b.empty:
            return pd.DataFrame(columns=["covered", "share", "share_vs_beat_loop"])
        beat = self.days[self.days["strategy"] == BEAT_LOOP]
        beat_share = float(beat["covered"].sum()) / max(1, int(beat["incidents"].sum()))
        rows = {}
        for ranking in BOUND_RANKINGS:
            covered = int(b[f"covered_{ranking}"].sum())
            share = covered / max(1, int(b["incidents"].sum()))
            rows[ranking] = {
                "covered": covered,
                "share": share,
                "share_vs_beat_loop": share / beat_share if beat_share > 0 else float("nan"),
            }
        return pd.DataFrame.from_dict(rows, orient="index")


def local_times(incidents: pd.DataFrame, tz: str) -> pd.DatetimeIndex:
    """Return the incidents' times in ``tz`` (tz-aware; naive times are taken as ``tz``)."""
    when = pd.DatetimeIndex(pd.to_datetime(incidents["occurred_at"]))
    return when.tz_localize(tz) if when.tz is None else when.tz_convert(tz)


def day_start(day: dt.date, tz: str) -> pd.Timestamp:
    """Return local midnight at the start of ``day`` in ``tz``."""
    return pd.Timestamp(day).tz_localize(tz, nonexistent="shift_forward", ambiguous=False)


def history_before(incidents: pd.DataFrame, day: dt.date, tz: str) -> pd.DataFrame:
    """Return the incidents that occurred before the local start of ``day`` (a copy).

    This is all a day's plans are given: nothing of the day or after it.
    """
    past = incidents[np.asarray(local_times(incidents, tz) < day_start(day, tz))].copy()
    if len(past) and local_times(past, tz).max() >= day_start(day, tz):
        raise AssertionError("history_before kept an incident of the day or later")
    return past


def incidents_on(incidents: pd.DataFrame, day: dt.date, tz: str) -> pd.DataFrame:
    """Return the incidents of ``day`` (local midnight to midnight)."""
    when = local_times(incidents, tz)
    a = day_start(day, tz)
    return incidents[np.asarray((when >= a) & (when < a + pd.Timedelta(days=1)))]


@dataclass
class _Context:
    """What every day of one backtest shares (built once)."""

    lookup: SegmentLookup
    cells: dict[str, npt.NDArray[np.int64]]
    area: npt.NDArray[np.bool_]
    loops: dict[tuple[str, int, str], list[int]]


@dataclass(frozen=True)
class _HeldOut:
    """A day's held-out incidents and the rule that scores patrolled streets against them."""

    points: npt.NDArray[np.float64]
    geometries: npt.NDArray[np.object_]
    dated: npt.NDArray[np.bool_]
    """Incidents with a date only: they count against the streets patrolled that day."""
    inside: dict[str, npt.NDArray[np.bool_]]
    """Window label -> the timed incidents inside it: they count against that window's streets."""
    radius_m: float

    @property
    def counted(self) -> npt.NDArray[np.bool_]:
        """The incidents that count: every date-only one, the timed ones inside a window."""
        counted = self.dated.copy()
        for inside in self.inside.values():
            counted |= inside
        return counted

    def covered(
        self,
        day_segments: npt.ArrayLike,
        window_segments: Mapping[str, npt.ArrayLike],
    ) -> npt.NDArray[np.bool_]:
        """Return whether each incident is covered by the streets patrolled that day (date-only
        incidents) or in its window (timed ones)."""
        covered = np.zeros(len(self.dated), dtype=bool)
        if self.dated.any():
            covered |= self.dated & self._near(day_segments)
        for w, inside in self.inside.items():
            if inside.any():
                covered |= inside & self._near(window_segments[w])
        return covered

    def _near(self, segments: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        return covered_incidents(self.points, self.geometries, segments, radius_m=self.radius_m)


def _patrolled(traces: Sequence[Trace]) -> npt.NDArray[np.int64]:
    return np.concatenate([t.patrolled() for t in traces] or [np.zeros(0, np.int64)])


def _strategy_traces(
    name: str,
    plan: DayPlan,
    view: District,
    params: EffectivenessParams,
    ctx: _Context,
    day: dt.date,
) -> list[Trace]:
    router = view.network
    duties = plan_duties(plan, router)
    seed = params.seed * 1_000_003 + day.toordinal()
    if name == SERVICE:
        return service_traces(plan, router, ctx.lookup)
    if name == BEAT_LOOP:
        return beat_loop_traces(duties, router, ctx.lookup, ctx.cells, loops=ctx.loops)
    if name == RANDOM:
        return random_traces(duties, router, ctx.lookup, ctx.cells, seed=seed)
    if name == GREEDY:
        return greedy_traces(duties, plan, router, ctx.lookup, ctx.cells, seed=seed)
    uniform = plan_day(
        view,
        day=day,
        windows=params.windows,
        grid_level=params.grid_level,
        params=params.plan,
        seed=params.seed,
        workers=params.workers,
        adjustments=[UniformRisk(params=params.plan.hotspots)],
    )
    return service_traces(uniform, router, ctx.lookup, strategy=UNIFORM)


def effectiveness_backtest(
    district: District,
    incidents: pd.DataFrame,
    days: Sequence[dt.date],
    *,
    params: EffectivenessParams | None = None,
    progress: Callable[[str], None] | None = None,
) -> EffectivenessResult:
    """Plan each day from the incidents before it and score every strategy on the day's.

    Parameters
    ----------
    district
        The district (streets, grids, roster); its own incident history is not used.
    incidents
        Snapped incidents (``optimizer.risk.incidents`` schema: ``occurred_at``, ``lon``,
        ``lat``, ``u``, ``v``, ``key``; ``date_only`` where only the date is known), before and
        on the days evaluated.
    days
        The held-out days, each planned and scored on its own.
    params
        See :class:`EffectivenessParams`.
    progress
        Called with a line after each day.

    Returns
    -------
    EffectivenessResult
    """
    p = params or EffectivenessParams()
    tz = str(district.metadata.get("timezone") or local_times(incidents, "UTC").tz)
    if not days:
        raise InputError("days", list(days), "at least one day")
    lookup = SegmentLookup(district.graph)
    segs = lookup.segments
    grid_ids = planning_grid_ids(district, level=p.grid_level)
    cells = cell_segments(district, grid_ids)
    area = np.zeros(len(segs), dtype=bool)
    for idx in cells.values():
        area[idx] = True
    ctx = _Context(lookup, cells, area, {})
    windows = [TimeWindow.parse(w) for w in p.windows]
    geoms = np.asarray(segs.geometry.values, dtype=object)
    length = segs["length"].to_numpy(dtype=float)
    rows: list[dict[str, object]] = []
    presence: dict[tuple[str, str, str], npt.NDArray[np.float64]] = {}
    history_end: dict[str, str] = {}
    kept: dict[str, dict[str, list[Trace]]] = {}
    bound_rows: list[dict[str, object]] = []
    for day in sorted(days):
        past = history_before(incidents, day, tz)
        held = incidents_on(incidents, day, tz)
        label = day.isoformat()
        history_end[label] = str(local_times(past, tz).max()) if len(past) else ""
        view = copy.copy(district)
        view.incidents = past
        plan = plan_day(
            view,
            day=day,
            windows=p.windows,
            grid_level=p.grid_level,
            params=p.plan,
            seed=p.seed,
            workers=p.workers,
        )
        xy = incident_points(held, district.crs)
        local = local_times(held, tz).tz_localize(None)
        dated = (
            held["date_only"].to_numpy(dtype=bool)
            if "date_only" in held.columns
            else np.zeros(len(held), dtype=bool)
        )
        rng = np.random.default_rng([p.seed, day.toordinal()])
        moments = {
            w.label(): random_moments(rng, 0.0, 60.0 * w.minutes, p.moments_per_window)
            for w in windows
        }
        inside_of = {}
        for w in windows:
            a, b = (pd.Timestamp(t) for t in w.on(day))
            inside_of[w.label()] = ~dated & np.asarray((local >= a) & (local < b))
        scoring = _HeldOut(xy, geoms, dated, inside_of, p.radius_m)
        beat: list[Trace] | None = None
        for name in p.strategies:
            traces = _strategy_traces(name, plan, view, p, ctx, day)
            if p.keep_traces:
                kept.setdefault(label, {})[name] = traces
            if name == BEAT_LOOP:
                beat = traces
            of_window = {w.label(): [t for t in traces if t.window == w.label()] for w in windows}
            covered = scoring.covered(
                _patrolled(traces), {w: _patrolled(mine) for w, mine in of_window.items()}
            )
            km = sum(patrolled_length_m(mine, length) for mine in of_window.values()) / 1000.0
            reach: dict[float, list[float]] = {m: [] for m in p.reach_minutes}
            for w in windows:
                mine = of_window[w.label()]
                for t_s in moments[w.label()]:
                    got = reach_shares(
                        positions_at(mine, float(t_s)),
                        view.network,
                        segs,
                        area,
                        minutes=p.reach_minutes,
                    )
                    for m, v in got.items():
                        reach[m].append(v)
            for w in windows:
                mine = of_window[w.label()]
                presence[(label, name, w.label())] = presence_minutes(mine, len(segs))
            n = int(scoring.counted.sum())
            row: dict[str, object] = {
                "day": label,
                "strategy": name,
                "groups": len(traces),
                "hours": sum(t.minutes for t in traces) / 60.0,
                "incidents": n,
                "covered": int(covered.sum()),
                "share": float(covered.sum()) / n if n else float("nan"),
                "patrolled_km": km,
            }
            for m, values in reach.items():
                row[reach_column(m)] = float(np.mean(values)) if values else float("nan")
            rows.append(row)
        if beat is not None:
            bound_rows.append(_bound_row(day, tz, beat, view, past, held, scoring, p, ctx))
        if progress is not None:
            shown = ", ".join(
                f"{r['strategy']} {r['covered']}/{r['incidents']}"
                for r in rows
                if r["day"] == label
            )
            progress(f"{label}: {shown}")
    first, last = min(days), max(days)
    when = local_times(incidents, tz)
    span = (when >= day_start(first, tz)) & (when < day_start(last + dt.timedelta(days=1), tz))
    test = incidents[np.asarray(span)]
    risk = {w.label(): realised_risk(test, district.graph, w, tz) for w in windows}
    frame = pd.DataFrame(rows)
    frame["risk_minutes"] = [
        sum(
            risk_weighted_minutes(presence[(str(r.day), str(r.strategy), w)], risk[w]) for w in risk
        )
        for r in frame.itertuples()
    ]
    reach_cols = [reach_column(m) for m in p.reach_minutes]
    return EffectivenessResult(
        frame[[*DAY_COLUMNS, *reach_cols]], history_end, p, kept, pd.DataFrame(bound_rows)
    )


def _bound_row(
    day: dt.date,
    tz: str,
    beat: Sequence[Trace],
    view: District,
    past: pd.DataFrame,
    held: pd.DataFrame,
    scoring: _HeldOut,
    p: EffectivenessParams,
    ctx: _Context,
) -> dict[str, object]:
    """Score the bounds of one day: the beat loop's street length on the best streets."""
    length = ctx.lookup.segments["length"].to_numpy(dtype=float)
    n = len(length)
    area = np.flatnonzero(ctx.area)
    model = district_forecast(view, past, p.plan.hotspots.forecast)
    if len(model.length) != n:
        raise AssertionError("the forecast's segments are not the street segments")
    density = {}
    for window in (TimeWindow.parse(x) for x in p.windows):
        at = window_start(day, window, ZoneInfo(tz))
        by_cat = model.risk(at, window=window, day=pd.Timestamp(day), by_category=True)
        density[window.label()] = by_cat.sum(axis=0) if by_cat.shape[0] else np.zeros(n)
    earlier = segment_index(past, view.graph)
    counts = per_metre(np.bincount(earlier[earlier >= 0], minlength=n), length)
    on = segment_index(held, view.graph)

    none = np.zeros(0, dtype=np.int64)

    def best(
        name: str, incidents: npt.NDArray[np.bool_], risk: npt.NDArray[np.float64], metres: float
    ) -> npt.NDArray[np.int64]:
        """The best streets of ``metres`` by a ranking (none when no incident can use them)."""
        if not incidents.any():
            return none
        if name == "forecast":
            score = risk
        elif name == "counts":
            score = counts
        else:  # hindsight: the incidents themselves
            score = per_metre(np.bincount(on[incidents & (on >= 0)], minlength=n), length)
        return top_streets(score, area, length, length_m=metres)

    # the beat loop's street length: of the whole day for date-only incidents, of each window
    # for the timed ones in it
    day_m = patrolled_length_m(beat, length)
    window_m = {w: patrolled_length_m([t for t in beat if t.window == w], length) for w in density}
    day_risk = np.sum(list(density.values()), axis=0)
    used = [m for w, m in window_m.items() if scoring.inside[w].any()]
    row: dict[str, object] = {
        "day": day.isoformat(),
        "incidents": int(scoring.counted.sum()),
        "length_km": ((day_m if scoring.dated.any() else 0.0) + sum(used)) / 1000.0,
    }
    for name in BOUND_RANKINGS:
        covered = scoring.covered(
            best(name, scoring.dated, day_risk, day_m),
            {w: best(name, scoring.inside[w], density[w], window_m[w]) for w in density},
        )
        row[f"covered_{name}"] = int(covered.sum())
    return row


def realised_risk(
    incidents: pd.DataFrame, G: nx.MultiDiGraph, window: TimeWindow, tz: str
) -> npt.NDArray[np.float64]:
    """Return the incidents per street segment that count as risk for a window.

    An incident with a time counts when its time of day falls in the window; one with a date
    only (``date_only``) counts for every window.

    Parameters
    ----------
    incidents
        Snapped incidents (``u``, ``v``, ``key``, ``occurred_at``; ``date_only`` optional).
    G
        The street graph.
    window
        The window.
    tz
        Time zone of the times of day.

    Returns
    -------
    numpy.ndarray
        Incidents per segment of ``optimizer.risk.incidents.street_segments(G)``.
    """
    n = len(street_segments(G))
    if len(incidents) == 0:
        return np.zeros(n)
    dated = (
        incidents["date_only"].to_numpy(dtype=bool)
        if "date_only" in incidents.columns
        else np.zeros(len(incidents), dtype=bool)
    )
    clock = local_times(incidents, tz)
    inside = np.array([window.contains(t) for t in clock.time], dtype=bool)
    seg = segment_index(incidents[dated | inside], G)
    return np.bincount(seg[seg >= 0], minlength=n).astype(float)
