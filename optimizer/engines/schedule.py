"""Timing of visit sequences shared by the engines: earliest-start schedules with windows,
repeat-visit spacing across routes and a break, plus repair by dropping what cannot fit.

An engine decides *which* sites each vehicle visits and in *what order*; this module decides
*when*, the same way for every engine, so that :func:`optimizer.engines.check.check_solution`
judges all engines by one rule set:

- travel from ``a`` to ``b`` takes ``durations[mode][loc a, loc b]`` after the dwell at ``a``;
- service at a site starts no earlier than its ``earliest_s`` (waiting is allowed) and no
  later than its ``latest_s``;
- the route leaves its start depot at ``shift_start_s`` and is back by ``shift_end_s``;
- a break of ``break_s`` starts in ``[break_earliest_s, break_latest_s]`` between two visits
  (it delays the next travel);
- visit ``n + 1`` of a key starts at least ``min_spacing_s`` after visit ``n`` started.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from optimizer.engines.base import Route, Solution, Visit
from optimizer.errors import InfeasibleError, InputError
from optimizer.problem import PatrolProblem, Site, Vehicle


@dataclass(frozen=True)
class Timed:
    """A timed route: its visits, end time and break start."""

    visits: tuple[Visit, ...]
    end_s: int
    break_start_s: int | None


def break_window(vehicle: Vehicle) -> tuple[int, int]:
    """Return the earliest and latest start of ``vehicle``'s break."""
    earliest = max(vehicle.break_earliest_s, vehicle.shift_start_s)
    latest = vehicle.break_latest_s
    if latest is None:
        latest = vehicle.shift_end_s - vehicle.break_s
    return earliest, min(latest, vehicle.shift_end_s - vehicle.break_s)


def site_latest(problem: PatrolProblem, site: Site) -> int:
    """Return the latest service start of ``site`` (its own, else the horizon minus dwell)."""
    if site.latest_s is not None:
        return site.latest_s
    return max(site.earliest_s, problem.horizon_s - site.dwell_s)


def _time_once(
    problem: PatrolProblem,
    vehicle: Vehicle,
    seq: Sequence[int],
    lower: dict[int, int],
    break_at: int | None,
) -> Timed | None:
    mat = problem.durations[vehicle.mode]
    t = vehicle.shift_start_s
    prev = vehicle.start_location
    visits: list[Visit] = []
    brk: int | None = None
    b_early, b_late = break_window(vehicle)
    last_copy: dict[str, int] = {}
    for pos in range(len(seq) + 1):
        if break_at == pos:
            b = max(t, b_early)
            if b > b_late:
                return None
            brk = b
            t = b + vehicle.break_s
        if pos == len(seq):
            break
        i = seq[pos]
        site = problem.sites[i]
        arrival = t + int(mat[prev, site.location])
        start = max(arrival, site.earliest_s, lower.get(i, 0))
        key = site.key or site.id
        if key in last_copy:  # spacing from the previous copy in this same route
            start = max(start, last_copy[key] + site.min_spacing_s)
        last_copy[key] = start
        if start > site_latest(problem, site):
            return None
        departure = start + site.dwell_s
        visits.append(Visit(i, arrival, start, departure))
        t, prev = departure, site.location
    end = t + int(mat[prev, vehicle.end_location])
    if end > vehicle.shift_end_s:
        return None
    return Timed(tuple(visits), end, brk)


def time_route(
    problem: PatrolProblem,
    vehicle: Vehicle,
    seq: Sequence[int],
    lower: dict[int, int] | None = None,
) -> Timed | None:
    """Time the visit sequence ``seq`` of ``vehicle`` as early as possible.

    Parameters
    ----------
    problem
        The problem.
    vehicle
        The vehicle driving the route.
    seq
        Site indices in visiting order.
    lower
        Extra lower bounds on service start per site (from repeat-visit spacing).

    Returns
    -------
    Timed or None
        The schedule, with the break placed where the route ends earliest; ``None`` when the
        sequence cannot be timed within windows and shift.
    """
    lower = lower or {}
    if vehicle.break_s <= 0:
        return _time_once(problem, vehicle, seq, lower, None)
    best: Timed | None = None
    for pos in range(len(seq) + 1):
        timed = _time_once(problem, vehicle, seq, lower, pos)
        if timed is not None and (best is None or timed.end_s < best.end_s):
            best = timed
    return best


def _keys(problem: PatrolProblem) -> dict[str, list[int]]:
    by_key: dict[str, list[int]] = {}
    for i, s in enumerate(problem.sites):
        by_key.setdefault(s.key or s.id, []).append(i)
    for members in by_key.values():
        members.sort(key=lambda i: problem.sites[i].visit_number)
    return by_key


def _alike(a: Site, b: Site) -> bool:
    return (a.location, a.dwell_s, a.earliest_s, a.latest_s, a.required) == (
        b.location,
        b.dwell_s,
        b.earliest_s,
        b.latest_s,
        b.required,
    )


def relabel_copies(problem: PatrolProblem, seqs: list[list[int]], order: dict[int, int]) -> None:
    """Rename interchangeable copies of a repeat-visited site so that copies are used in order.

    ``order[site]`` is a sort key (e.g. a tentative start time). Among visited copies of one
    key that are alike (same location, dwell, window), the earliest visited gets visit 1, the
    next visit 2 and so on; ``seqs`` is changed in place.
    """
    where: dict[int, tuple[int, int]] = {}
    for r, seq in enumerate(seqs):
        for p, i in enumerate(seq):
            where[i] = (r, p)
    for members in _keys(problem).values():
        if len(members) < 2 or not all(
            _alike(problem.sites[members[0]], problem.sites[m]) for m in members
        ):
            continue
        used = sorted((m for m in members if m in where), key=lambda m: order.get(m, 0))
        slots = [where[m] for m in used]
        for new, (r, p) in zip(members, slots, strict=False):
            seqs[r][p] = new


def schedule_routes(
    problem: PatrolProblem, seqs: list[list[int]], *, max_rounds: int = 100
) -> tuple[list[Timed], list[int]]:
    """Time all routes with spacing across routes, dropping optional visits that cannot fit.

    Parameters
    ----------
    problem
        The problem.
    seqs
        One site sequence per vehicle (changed in place when visits are dropped).
    max_rounds
        Bound on the spacing fix-point rounds.

    Returns
    -------
    timed, dropped
        One schedule per vehicle and the site indices removed by the repair.
    """
    by_key = _keys(problem)
    lower: dict[int, int] = {}
    removed: list[int] = []
    visited = {i for seq in seqs for i in seq}
    for members in by_key.values():  # visit n + 1 only after visit n
        for a, b in itertools.pairwise(members):
            if b in visited and a not in visited:
                for seq in seqs:
                    if b in seq:
                        seq.remove(b)
                removed.append(b)
                visited.discard(b)
    timed: list[Timed] = []
    for _ in range(max_rounds):
        n_removed = len(removed)
        timed = []
        for k, seq in enumerate(seqs):
            t = time_route(problem, problem.vehicles[k], seq, lower)
            while t is None and seq:
                victim = _victim(problem, seq, lower)
                site = problem.sites[victim]
                members = by_key[site.key or site.id]
                for m in members[members.index(victim) :]:  # later copies go too
                    for other in seqs:
                        if m in other:
                            other.remove(m)
                            removed.append(m)
                    lower.pop(m, None)
                t = time_route(problem, problem.vehicles[k], seq, lower)
            if t is None:  # even the empty route does not fit the shift and break
                t = Timed((), problem.vehicles[k].shift_start_s, None)
            timed.append(t)
        start = {v.site: v.start_s for t in timed for v in t.visits}
        changed = len(removed) > n_removed  # a drop may have touched a route timed earlier
        for members in by_key.values():
            prev_start: int | None = None
            for m in members:
                if m not in start:
                    continue
                need = 0 if prev_start is None else prev_start + problem.sites[m].min_spacing_s
                if start[m] < need:
                    lower[m] = need
                    changed = True
                    break
                prev_start = start[m]
        if not changed:
            return timed, removed
    # no fix-point: drop every copy that still violates its spacing (with its later copies)
    # and start again; each call removes at least one visit, so this ends
    start = {v.site: v.start_s for t in timed for v in t.visits}
    for members in by_key.values():
        prev_start = None
        for n, m in enumerate(members):
            if m not in start:
                continue
            if prev_start is not None and start[m] < prev_start + problem.sites[m].min_spacing_s:
                for late in members[n:]:
                    for seq in seqs:
                        if late in seq:
                            seq.remove(late)
                            removed.append(late)
                break
            prev_start = start[m]
    timed, again = schedule_routes(problem, seqs, max_rounds=max_rounds)
    return timed, removed + again


def _victim(problem: PatrolProblem, seq: list[int], lower: dict[int, int]) -> int:
    """Pick the visit to drop from an untimeable route: a spaced copy, else the least prize."""
    spaced = [i for i in seq if lower.get(i, 0) > 0 and not problem.sites[i].required]
    if spaced:
        return spaced[-1]
    optional = [i for i in seq if not problem.sites[i].required]
    pool = optional or seq
    return min(pool, key=lambda i: problem.sites[i].prize)


def to_routes(timed: Sequence[Timed], problem: PatrolProblem) -> tuple[Route, ...]:
    """Turn schedules into :class:`Route` objects, one per vehicle."""
    return tuple(
        Route(k, t.visits, problem.vehicles[k].shift_start_s, t.end_s, t.break_start_s)
        for k, t in enumerate(timed)
    )


def build_solution(
    problem: PatrolProblem,
    seqs: list[list[int]],
    *,
    engine: str,
    runtime_s: float,
    seed: int,
    stats: dict[str, float] | None = None,
) -> Solution:
    """Time ``seqs`` (one site sequence per vehicle), repair, and wrap them as a Solution.

    Raises
    ------
    InfeasibleError
        ``required_site`` when a required site (a post) is left unserved.
    """
    work = [list(s) for s in seqs]
    timed, removed = schedule_routes(problem, work)
    inserted = fill_routes(problem, work, timed) if problem.sites else 0
    if inserted:
        timed, again = schedule_routes(problem, work)
        removed += again
    visited = {v.site for t in timed for v in t.visits}
    missing = [s for i, s in enumerate(problem.sites) if s.required and i not in visited]
    if missing:
        raise InfeasibleError(
            "required_site",
            "no route can serve required site(s) "
            + ", ".join(
                f"{s.id} (window {s.earliest_s}-{site_latest(problem, s)} s)" for s in missing
            )
            + " within the vehicles' shifts, travel times and the other required visits",
        )
    prize = sum(problem.sites[i].prize for i in visited)
    out = dict(stats or {})
    out["repair_dropped"] = float(len(removed))
    out["repair_inserted"] = float(inserted)
    return Solution(
        routes=to_routes(timed, problem),
        prize=prize,
        feasible=True,
        engine=engine,
        runtime_s=runtime_s,
        seed=seed,
        dropped=tuple(i for i in range(len(problem.sites)) if i not in visited),
        stats=out,
    )


def check_request(problem: PatrolProblem, time_limit_s: float) -> None:
    """Check what every engine checks before it searches: the time limit and required sites.

    Raises
    ------
    InputError
        A non-positive time limit.
    InfeasibleError
        A required site cannot be served (see :func:`diagnose_required`).
    """
    if not time_limit_s > 0:
        raise InputError("time_limit_s", time_limit_s, "a positive number of seconds")
    diagnose_required(problem)


def diagnose_required(problem: PatrolProblem) -> None:
    """Raise when a required site cannot be served even by a vehicle doing nothing else.

    Raises
    ------
    InfeasibleError
        ``required_site_window`` naming each such site, its window and the best reach.
    """
    bad: list[str] = []
    for i, s in enumerate(problem.sites):
        if not s.required:
            continue
        if any(time_route(problem, v, [i]) is not None for v in problem.vehicles):
            continue
        reach = min(
            (
                v.shift_start_s + int(problem.durations[v.mode][v.start_location, s.location])
                for v in problem.vehicles
            ),
            default=None,
        )
        bad.append(
            f"{s.id} (service must start in {s.earliest_s}-{site_latest(problem, s)} s; "
            f"earliest arrival {reach} s; dwell {s.dwell_s} s; no vehicle can fit it in its shift)"
        )
    if bad:
        raise InfeasibleError(
            "required_site_window", "required site(s) cannot be served: " + "; ".join(bad)
        )


def fill_routes(
    problem: PatrolProblem,
    seqs: list[list[int]],
    timed: list[Timed],
    *,
    max_evaluations: int = 20_000,
) -> int:
    """Insert unvisited sites where they fit, most valuable first (cheapest insertion).

    Used after the repair so that visits dropped for spacing (or never planned by an engine
    that ignores spacing) come back at a later point of some route. A site is inserted at the
    position that lengthens its route least, only when the whole plan still times without
    dropping anything (checked with :func:`schedule_routes`). Deterministic: the work is
    bounded by ``max_evaluations`` route timings, not by the clock.

    Returns
    -------
    int
        Number of sites inserted (``seqs`` and ``timed`` are updated in place).
    """
    by_key = _keys(problem)
    key_of = [s.key or s.id for s in problem.sites]
    visited = {v.site for t in timed for v in t.visits}
    start = {v.site: v.start_s for t in timed for v in t.visits}
    route_of = {i: k for k, seq in enumerate(seqs) for i in seq}
    candidates = sorted(
        (i for i in range(len(problem.sites)) if i not in visited and problem.sites[i].prize > 0),
        key=lambda i: (-problem.sites[i].prize, problem.sites[i].visit_number, i),
    )
    evaluations = 0
    inserted = 0
    for i in candidates:
        members = by_key[key_of[i]]
        n = members.index(i)
        if n > 0 and members[n - 1] not in visited:
            continue  # copy n waits for copy n - 1
        best: tuple[int, int, int] | None = None  # (added time, route, position)
        for k, seq in enumerate(seqs):
            vehicle = problem.vehicles[k]
            lower: dict[int, int] = {}
            for j in [*seq, i]:  # spacing from copies in other routes
                mj = by_key[key_of[j]]
                pj = mj.index(j)
                if pj > 0 and mj[pj - 1] in start and route_of.get(mj[pj - 1]) != k:
                    lower[j] = start[mj[pj - 1]] + problem.sites[j].min_spacing_s
            base = timed[k].end_s if seq else vehicle.shift_start_s
            for pos in range(len(seq) + 1):
                evaluations += 1
                if evaluations > max_evaluations:
                    return inserted
                t = time_route(problem, vehicle, [*seq[:pos], i, *seq[pos:]], lower)
                if t is not None and (best is None or t.end_s - base < best[0]):
                    best = (t.end_s - base, k, pos)
        if best is None:
            continue
        _, k, pos = best
        trial = [list(s) for s in seqs]
        trial[k].insert(pos, i)
        new_timed, dropped = schedule_routes(problem, trial)
        if dropped:
            continue
        seqs[:] = trial
        timed[:] = new_timed
        visited.add(i)
        start = {v.site: v.start_s for t in timed for v in t.visits}
        route_of = {j: r for r, seq in enumerate(seqs) for j in seq}
        inserted += 1
    return inserted
