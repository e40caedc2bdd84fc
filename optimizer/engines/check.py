"""Independent feasibility check of a :class:`~optimizer.engines.base.Solution`.

The rules are those stated in :mod:`optimizer.engines.schedule`; this module re-derives every
time from the problem's matrices instead of trusting the engine.
"""

from __future__ import annotations

from optimizer.engines.base import Solution
from optimizer.engines.schedule import break_window, site_latest
from optimizer.problem import PatrolProblem


def check_solution(problem: PatrolProblem, solution: Solution) -> list[str]:
    """List every rule ``solution`` breaks for ``problem`` (empty: feasible).

    Checks: one route per vehicle at most, each site at most once, travel times consistent
    with the mode's matrix, service inside site windows, departure = start + dwell, shift
    start and end, the break (length, window, not overlapping a visit), spacing and order of
    repeat visits, every required site visited, the reported prize and dropped list.

    Parameters
    ----------
    problem
        The problem that was solved.
    solution
        The engine's answer.

    Returns
    -------
    list of str
        One human-readable line per violation.
    """
    errors: list[str] = []
    seen: dict[int, int] = {}
    start_of: dict[int, int] = {}
    vehicles_used: set[int] = set()
    n_sites = len(problem.sites)
    for route in solution.routes:
        k = route.vehicle
        if not 0 <= k < len(problem.vehicles):
            errors.append(f"route of unknown vehicle {k}")
            continue
        if k in vehicles_used:
            errors.append(f"vehicle {k} has two routes")
        vehicles_used.add(k)
        if not route.visits:
            continue  # an unused vehicle does not travel
        v = problem.vehicles[k]
        mat = problem.durations[v.mode]
        if route.start_s < v.shift_start_s:
            errors.append(
                f"vehicle {v.id}: starts at {route.start_s} before its shift {v.shift_start_s}"
            )
        t = route.start_s
        prev = v.start_location
        brk = route.break_start_s
        brk_used = False
        if v.break_s > 0 and route.visits and brk is None:
            errors.append(f"vehicle {v.id}: no break of {v.break_s} s")
        if brk is not None:
            lo, hi = break_window(v)
            if not lo <= brk <= hi:
                errors.append(f"vehicle {v.id}: break at {brk} outside [{lo}, {hi}]")
        for visit in route.visits:
            i = visit.site
            if not 0 <= i < n_sites:
                errors.append(f"vehicle {v.id}: unknown site {i}")
                continue
            if i in seen:
                errors.append(f"site {problem.sites[i].id} visited twice")
            seen[i] = k
            s = problem.sites[i]
            travel = int(mat[prev, s.location])
            ready = t
            if brk is not None and not brk_used and brk < visit.arrival_s:
                if brk < t:
                    errors.append(
                        f"vehicle {v.id}: break at {brk} overlaps the visit before {s.id}"
                    )
                ready = max(t, brk + v.break_s)
                brk_used = True
            if visit.arrival_s < ready + travel:
                errors.append(
                    f"vehicle {v.id}: arrives at {s.id} at {visit.arrival_s}, "
                    f"earlier than {ready} + travel {travel}"
                )
            if visit.start_s < visit.arrival_s:
                errors.append(f"vehicle {v.id}: starts {s.id} before arriving")
            if visit.start_s < s.earliest_s or visit.start_s > site_latest(problem, s):
                errors.append(
                    f"site {s.id}: service starts at {visit.start_s} outside "
                    f"[{s.earliest_s}, {site_latest(problem, s)}]"
                )
            if visit.departure_s != visit.start_s + s.dwell_s:
                errors.append(
                    f"site {s.id}: departure {visit.departure_s} != start + dwell {s.dwell_s}"
                )
            start_of[i] = visit.start_s
            t, prev = visit.departure_s, s.location
        if brk is not None and not brk_used:
            if brk < t:
                errors.append(f"vehicle {v.id}: break at {brk} overlaps its last visit")
            t = max(t, brk + v.break_s)
        back = t + int(mat[prev, v.end_location])
        if route.end_s < back:
            errors.append(f"vehicle {v.id}: ends at {route.end_s}, earlier than possible {back}")
        if max(route.end_s, back) > v.shift_end_s:
            errors.append(
                f"vehicle {v.id}: back at {max(route.end_s, back)} after shift end {v.shift_end_s}"
            )
    by_key: dict[str, list[int]] = {}
    for i, s in enumerate(problem.sites):
        by_key.setdefault(s.key or s.id, []).append(i)
        if s.required and i not in seen:
            errors.append(f"required site {s.id} not visited")
    for key, members in by_key.items():
        members.sort(key=lambda i: problem.sites[i].visit_number)
        prev_start: int | None = None
        gap = False
        for m in members:
            if m not in start_of:
                gap = True
                continue
            number, spacing = problem.sites[m].visit_number, problem.sites[m].min_spacing_s
            if gap:
                errors.append(f"key {key}: visit {number} made but an earlier one skipped")
            if prev_start is not None and start_of[m] < prev_start + spacing:
                errors.append(
                    f"key {key}: visit {number} at {start_of[m]} "
                    f"closer than {spacing} s to the previous at {prev_start}"
                )
            prev_start = start_of[m]
    prize = sum(problem.sites[i].prize for i in seen)
    if abs(prize - solution.prize) > 1e-6 * max(1.0, abs(prize)):
        errors.append(f"reported prize {solution.prize} != sum of visited prizes {prize}")
    missing = set(range(n_sites)) - set(seen)
    if set(solution.dropped) != missing:
        errors.append("dropped list does not match the unvisited sites")
    return errors
