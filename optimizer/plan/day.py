"""A day's plan: grids x windows -> groups -> routes.

The pipeline, for each time window of the day (:func:`plan_day`):

1. hotspots of the window (``optimizer.risk.hotspots.hotspots_for_window``) and the patrol demand
   per grid they imply;
2. joint patrol groups (``optimizer.staff.groups.form_groups``): at least one officer each,
allocated
   to grids;
3. for each planning grid that has groups: a :class:`~optimizer.problem.PatrolProblem`
   (:func:`~optimizer.plan.build.build_problem`) — depots are the groups' stations, sites are
   the hotspots (prize = value, dwell, repeat visits with spacing) and the fixed posts on duty
   in the window (required, with their time windows); travel times per mode from the street
   graph;
4. the routing engine solves it; :func:`~optimizer.plan.assemble.routes_from_solution` turns the
   answer into :class:`GroupRoute` objects with timed stops and the street path between them.

The parts live in modules by concern, and every name below is importable from here too:

* :mod:`optimizer.plan.types` — :class:`Stop`, :class:`GroupRoute`, :class:`LeftOut`,
  :class:`WindowPlan`, :class:`DayPlan` (the contract: they keep their fields) and tables;
* :mod:`optimizer.plan.streets` — travel times per mode, street paths, place names;
* :mod:`optimizer.plan.build` — the routing problem: hotspot passes, prizes, spacing, posts;
* :mod:`optimizer.plan.assemble` — solutions as timed, street-following routes;
* :mod:`optimizer.plan.metrics` — window and day metrics;
* this module — planning grids, demand and groups, solving, and :func:`plan_day`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING

from shapely.geometry import Point

from optimizer.district import District
from optimizer.engines.base import DEFAULT_ENGINE, ENGINE_NAMES, Solution, get_engine
from optimizer.errors import InfeasibleError, InputError
from optimizer.plan.assemble import routes_from_solution
from optimizer.plan.build import (
    ProblemContext,
    build_problem,
)
from optimizer.plan.metrics import day_metrics, window_metrics
from optimizer.plan.streets import (
    street_router,
)
from optimizer.plan.types import (
    DayPlan,
    LeftOut,
    WindowPlan,
)
from optimizer.problem import PatrolProblem
from optimizer.risk.hotspots import Hotspot, hotspots_for_window, patrol_demand
from optimizer.staff.groups import GroupFormation, PatrolGroup, form_groups, record_service
from optimizer.staff.roster import FixedPost
from optimizer.timewindow import DEFAULT_WINDOWS, TimeWindow

if TYPE_CHECKING:  # variation.py imports this module at run time
    from optimizer.plan.variation import VariationParams

ProgressCallback = Callable[[int, int, str], None]
"""``progress(done, total, message)``."""

DEFAULT_GRID_LEVEL = 2
"""Grid level planned when none is named: level 2 (the demo's three sectors)."""


# ---------------------------------------------------------------------------------------------
# Planning grids, hotspots, groups


def planning_grid_ids(
    district: District, *, level: int | None = None, grid_ids: Iterable[str] | None = None
) -> list[str]:
    """Return the grids to plan: ``grid_ids`` if given (validated), else all cells of ``level``.

    Parameters
    ----------
    district
        The district.
    level
        Grid level (1 = whole district); ``None`` means :data:`DEFAULT_GRID_LEVEL`, or the finest
        level where the district has fewer levels.
    grid_ids
        Explicit grid ids (any level).
    """
    grids = district.grids
    known = sorted(str(i) for i in grids.index)
    if grid_ids is not None:
        ids = list(dict.fromkeys(str(g) for g in grid_ids))
        for i, g in enumerate(ids):
            if g not in grids.index:
                raise InputError(
                    f"grid_ids[{i}]", g, f"a grid id of district {district.name!r}: {known}"
                )
        if not ids:
            raise InputError("grid_ids", [], "at least one grid id")
        return ids
    levels = sorted(int(v) for v in grids["level"].unique())
    chosen = min(DEFAULT_GRID_LEVEL, levels[-1]) if level is None else int(level)
    if chosen not in levels:
        raise InputError("grid_level", level, f"one of the district's grid levels {levels}")
    return sorted(str(i) for i in grids.index[grids["level"] == chosen])


def assign_to_grids(
    district: District, grid_ids: Sequence[str], points: Sequence[tuple[float, float]]
) -> list[str | None]:
    """Return the planning grid containing each ``(lon, lat)``, or None."""
    polys = [(g, district.grids.loc[g].geometry) for g in grid_ids]
    out: list[str | None] = []
    for lon, lat in points:
        p = Point(lon, lat)
        out.append(next((g for g, poly in polys if poly.covers(p)), None))
    return out


def window_hotspots(
    district: District, day: dt.date, window: TimeWindow, grid_ids: Sequence[str]
) -> list[Hotspot]:
    """Return the window's hotspots in ``grid_ids`` (``optimizer.risk.hotspots``)."""
    return hotspots_for_window(district, day=day, window=window, grid_ids=list(grid_ids))


def form_window_groups(
    district: District,
    day: dt.date,
    window: TimeWindow,
    hotspots: Sequence[Hotspot],
    grid_ids: Sequence[str],
    seed: int,
    time_limit_s: float,
    history: Mapping[str, float] | None = None,
) -> list[PatrolGroup]:
    """Return the joint patrol groups of one window, allocated to ``grid_ids`` by demand.

    Demand per grid is the value of its hotspots (``optimizer.risk.hotspots.patrol_demand``); a
    grid with a fixed post on duty gets demand too. Groups come from
    ``optimizer.staff.groups.form_groups``: every grid with real demand gets one before any gets a
    second, the rest go in proportion to demand.

    Parameters
    ----------
    district
        The district (grids, resources).
    day, window
        The date and window.
    hotspots
        The window's hotspots (:func:`window_hotspots`).
    grid_ids
        The planning grids.
    seed, time_limit_s
        Seed and time limit (seconds, clipped to 0.5-5) of the CP-SAT search.
    history
        Hours each volunteer has served this week.

    Returns
    -------
    list of PatrolGroup
        Empty when no grid has demand.
    """
    formation = _formation(district, day, window, hotspots, grid_ids, seed, time_limit_s, history)
    return [] if formation is None else list(formation.groups)


def _formation(
    district: District,
    day: dt.date,
    window: TimeWindow,
    hotspots: Sequence[Hotspot],
    grid_ids: Sequence[str],
    seed: int,
    time_limit_s: float,
    history: Mapping[str, float] | None,
) -> GroupFormation | None:
    # Demand per planning grid, whatever grid level the hotspot model labelled them with.
    by_grid: dict[str, list[Hotspot]] = {}
    located = assign_to_grids(district, grid_ids, [(h.lon, h.lat) for h in hotspots])
    for h, g in zip(hotspots, located, strict=True):
        if g is not None:
            by_grid.setdefault(g, []).append(replace(h, grid_id=g))
    demand = {g: float(sum(patrol_demand(by_grid.get(g, [])).values())) for g in grid_ids}
    # A grid with a fixed post on duty needs a group even without hotspots.
    for p in district.resources.posts:
        if p.active_windows(day, window):
            g = assign_to_grids(district, grid_ids, [(p.lon, p.lat)])[0]
            if g is not None:
                demand[g] = max(demand[g], 1e-3) + 0.5 * max(demand.values())
    if not any(v > 0 for v in demand.values()):
        return None
    return form_groups(
        district.resources,
        day=day,
        window=window,
        demand=demand,
        grids=district.grids,
        history=history,
        seed=seed,
        time_limit_s=max(0.5, min(5.0, time_limit_s)),
    )


# ---------------------------------------------------------------------------------------------
# Solving


def solve_problem(problem: PatrolProblem, engine: str, time_limit_s: float, seed: int) -> Solution:
    """Solve one problem with the named engine (``optimizer.engines``)."""
    return get_engine(engine).solve(problem, time_limit_s=time_limit_s, seed=seed)


# ---------------------------------------------------------------------------------------------
# The day


def _parse_windows(windows: Iterable[TimeWindow | str]) -> list[TimeWindow]:
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
    engine: str = DEFAULT_ENGINE,
    seed: int = 0,
    time_limit_s: float = 10.0,
    progress: ProgressCallback | None = None,
    variation: VariationParams | None = None,
    previous: DayPlan | None = None,
    workers: int = 1,
    volunteer_hours: Mapping[str, float] | None = None,
) -> DayPlan:
    """Plan a day of joint patrols: hotspots -> groups -> routes, window by window, grid by grid.

    Parameters
    ----------
    district
        The prepared district (see ``optimizer.storage.load_district``).
    day
        The date planned.
    windows
        Time windows (``TimeWindow`` or ``"HH:MM-HH:MM"``; a window may cross midnight).
    grid_ids
        Grids to plan (any level); ``None`` means every cell of ``grid_level``.
    grid_level
        Grid level planned when ``grid_ids`` is None (default :data:`DEFAULT_GRID_LEVEL`).
    engine
        Routing engine name, one of :data:`ENGINE_NAMES` (default :data:`DEFAULT_ENGINE`).
    seed
        Seed for every stochastic step; the same seed gives the same plan.
    time_limit_s
        Solver time limit per grid x window problem, in seconds.
    progress
        Called as ``progress(done, total, message)`` after each step.
    variation
        Day-to-day unpredictability (``optimizer.plan.variation``): routes are re-solved with seeded
        prize noise (seed from ``day`` and ``seed``) and kept within ``max_value_loss`` of the
        best route's value. ``None`` (default) plans without variation.
    previous
        The previous day's plan: with ``variation``, hotspots it visited in the same window and
        grid are discounted (``VariationParams.novelty``).
    workers
        Solve the grid x window problems in this many processes (1: in this process). Each
        solve is seeded on its own, so the plan does not depend on ``workers``.
    volunteer_hours
        Hours each volunteer (by id) has already served this week. Hours placed in each window
        of the day are added before the next window is formed, so the weekly cap
        (``Volunteer.max_hours_week``) and the fair rotation hold across the day's windows.

    Returns
    -------
    DayPlan
        One :class:`WindowPlan` per window x grid that has hotspots, posts or groups.

    Raises
    ------
    InputError
        For an unknown grid, level or engine, a malformed window, or a bad time limit.
    """
    if not isinstance(day, dt.date):
        raise InputError("day", day, "a datetime.date")
    wins = _parse_windows(windows)
    if not (isinstance(time_limit_s, int | float) and 0 < float(time_limit_s) <= 3600):
        raise InputError("time_limit_s", time_limit_s, "a number of seconds in (0, 3600]")
    if not (isinstance(workers, int) and 1 <= workers <= 64):
        raise InputError("workers", workers, "an integer from 1 to 64")
    if engine not in ENGINE_NAMES:
        raise InputError("engine", engine, f"one of {list(ENGINE_NAMES)}")
    ids = planning_grid_ids(district, level=grid_level, grid_ids=grid_ids)
    router = street_router(district.graph)
    total = len(wins) * (1 + len(ids))
    done = 0

    def tick(message: str, steps: int = 1) -> None:
        nonlocal done
        done += steps
        if progress is not None:
            progress(min(done, total), total, message)

    # Slots keep the plan's order (window, then grid) whatever order the solves finish in.
    slots: list[WindowPlan | _Job] = []
    served: dict[str, float] = dict(volunteer_hours or {})
    for wi, window in enumerate(wins):
        w_seed = seed * 1000 + wi
        start, end = window.on(day)
        hotspots = window_hotspots(district, day, window, ids)
        hot_grid = assign_to_grids(district, ids, [(h.lon, h.lat) for h in hotspots])
        no_group_reason = "no patrol group is allocated to this grid in this window"
        try:
            formation = _formation(
                district, day, window, hotspots, ids, w_seed, float(time_limit_s), served
            )
        except InfeasibleError as exc:
            formation = None
            no_group_reason = f"no patrol group could be formed: {exc.detail}"
        groups = [] if formation is None else list(formation.groups)
        if formation is not None:
            # Hours served in this window count against the weekly cap of later windows.
            served = record_service(served, formation)
        tick(f"{window.label()}: {len(hotspots)} hotspots, {len(groups)} groups")
        posts_by_grid: dict[str, list[FixedPost]] = {}
        for p in district.resources.posts:
            if p.active_windows(day, window):
                g = assign_to_grids(district, ids, [(p.lon, p.lat)])[0]
                if g is not None:
                    posts_by_grid.setdefault(g, []).append(p)
        for gid in ids:
            g_hot = [h for h, g in zip(hotspots, hot_grid, strict=True) if g == gid]
            g_groups = [g for g in groups if g.grid_id == gid]
            g_posts = posts_by_grid.get(gid, [])
            if not g_groups:
                left = _no_group_left_out(g_hot, g_posts, gid, no_group_reason)
                if g_hot or g_posts:
                    metrics = window_metrics(None, [], g_hot, len(g_posts))
                    slots.append(
                        WindowPlan(gid, window, start, end, (), tuple(g_hot), tuple(left), metrics)
                    )
                tick(f"{window.label()} {gid}: no groups")
                continue
            problem, context = build_problem(
                district,
                grid_id=gid,
                day=day,
                window=window,
                groups=g_groups,
                hotspots=g_hot,
                posts=g_posts,
                router=router,
            )
            previous_keys = frozenset(_visited_keys(previous, window, gid))
            slots.append(_Job(problem, context, g_hot, w_seed, previous_keys))

    jobs = [j for j in slots if isinstance(j, _Job)]
    args = [
        (j.problem, engine, float(time_limit_s), j.seed, variation, day, seed, j.previous)
        for j in jobs
    ]
    results: dict[int, tuple[Solution, dict[str, float]]] = {}

    def finish(k: int, result: tuple[Solution, dict[str, float]]) -> None:
        results[k] = result
        job = jobs[k]
        tick(f"{job.context.window.label()} {job.context.grid_id}: solved")

    if workers > 1 and len(jobs) > 1:
        import concurrent.futures as cf
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=ctx) as pool:
            futures = {pool.submit(_solve_job, *a): k for k, a in enumerate(args)}
            for fut in cf.as_completed(futures):
                finish(futures[fut], fut.result())
    else:
        for k, a in enumerate(args):
            finish(k, _solve_job(*a))

    plans: list[WindowPlan] = []
    job_index = {id(j): k for k, j in enumerate(jobs)}
    for slot in slots:
        if isinstance(slot, WindowPlan):
            plans.append(slot)
            continue
        solution, extra = results[job_index[id(slot)]]
        ctx_ = slot.context
        routes, left = routes_from_solution(district, slot.problem, ctx_, solution, router)
        n_req = sum(1 for s in slot.problem.sites if s.required)
        metrics = window_metrics(slot.problem, routes, slot.hotspots, n_req)
        metrics["solver_runtime_s"] = round(solution.runtime_s, 3)
        metrics.update(extra)
        start, end = ctx_.window.on(day)
        plans.append(
            WindowPlan(
                ctx_.grid_id,
                ctx_.window,
                start,
                end,
                tuple(routes),
                tuple(slot.hotspots),
                tuple(left),
                metrics,
            )
        )
    metrics_of_day = day_metrics(plans)
    settings = {
        "windows": [w.label() for w in wins],
        "grid_ids": ids,
        "grid_level": grid_level,
        "time_limit_s": float(time_limit_s),
        "variation": None if variation is None else vars(variation).copy(),
        "engine": engine,
        "seed": seed,
        "timezone": district.metadata.get("timezone"),
        "workers": workers,
    }
    return DayPlan(district.name, day, tuple(plans), engine, seed, metrics_of_day, settings)


@dataclass(frozen=True)
class _Job:
    """One grid x window problem waiting for its solve."""

    problem: PatrolProblem
    context: ProblemContext
    hotspots: list[Hotspot]
    seed: int
    previous: frozenset[str]


def _solve_job(
    problem: PatrolProblem,
    engine: str,
    time_limit_s: float,
    seed: int,
    variation: VariationParams | None,
    day: dt.date,
    base_seed: int,
    previous: frozenset[str],
) -> tuple[Solution, dict[str, float]]:
    """Solve one problem (module level, so a process pool can run it).

    When the fixed posts cannot all be staffed (the engine raises ``InfeasibleError``), the
    problem is solved again with the posts optional but worth more than every hotspot
    together: the grid still gets its routes, and the posts left out are explained in the
    plan (``metrics["posts_infeasible"] = 1``) instead of failing the whole day.
    """
    try:
        return _solve_once(problem, engine, time_limit_s, seed, variation, day, base_seed, previous)
    except InfeasibleError:
        relaxed = _posts_optional(problem)
        solution, extra = _solve_once(
            relaxed, engine, time_limit_s, seed, variation, day, base_seed, previous
        )
        return solution, {**extra, "posts_infeasible": 1.0}


def _posts_optional(problem: PatrolProblem) -> PatrolProblem:
    """Return ``problem`` with its required sites optional and above all hotspots in value."""
    bonus = 10.0 * (sum(s.prize for s in problem.sites if not s.required) or 1.0)
    sites = tuple(
        replace(s, required=False, prize=bonus) if s.required else s for s in problem.sites
    )
    return replace(problem, sites=sites)


def _solve_once(
    problem: PatrolProblem,
    engine: str,
    time_limit_s: float,
    seed: int,
    variation: VariationParams | None,
    day: dt.date,
    base_seed: int,
    previous: frozenset[str],
) -> tuple[Solution, dict[str, float]]:
    if variation is None:
        return solve_problem(problem, engine, time_limit_s, seed), {}
    from optimizer.plan.variation import solve_with_variation

    varied = solve_with_variation(
        problem,
        day=day,
        seed=base_seed,
        engine=engine,
        time_limit_s=time_limit_s,
        params=variation,
        previous=previous,
        solve=partial(_solve_engine, engine),
    )
    extra = {
        "variation_loss": round(varied.loss, 4),
        "variation_overlap": round(varied.overlap, 4),
    }
    return varied.solution, extra


def _solve_engine(engine: str, problem: PatrolProblem, time_limit_s: float, seed: int) -> Solution:
    return solve_problem(problem, engine, time_limit_s, seed)


def _no_group_left_out(
    hotspots: Sequence[Hotspot], posts: Sequence[FixedPost], grid_id: str, detail: str
) -> list[LeftOut]:
    from optimizer.plan.explain import explain_without_groups  # explain imports this module

    reasons = explain_without_groups(hotspots, posts, grid_id=grid_id, detail=detail)
    return [r.to_left_out() for r in reasons]


def _visited_keys(plan: DayPlan | None, window: TimeWindow, grid_id: str) -> set[str]:
    """Hotspot keys a previous plan visited in the same window and grid."""
    if plan is None:
        return set()
    return {
        s.site_id
        for wp in plan.windows
        if wp.window == window and wp.grid_id == grid_id
        for r in wp.routes
        for s in r.stops
        if s.kind == "hotspot"
    }
