"""PyVRP engine (hybrid iterated local search) for :class:`~optimizer.problem.PatrolProblem`.

Model
-----
- PyVRP locations are the problem's matrix rows, so repeat-visit copies share a location;
- one depot per distinct start/end location, one vehicle type per vehicle (its own depots,
  its shift as time window, its mode as routing profile with that mode's duration matrix as
  both distance and duration);
- sites are clients with service duration (dwell), time window (earliest/latest service
  start), ``required`` for posts, and for hotspots ``required=False`` with a prize scaled so
  that any prize outweighs all travel (prize first, then shorter routes).

Repeat-visit spacing is not native to PyVRP. It is handled in three steps:

1. implied windows: copy ``n`` of a key cannot start before the earliest shift start
   + ``(n - 1) * min_spacing_s`` (a valid bound: it only removes infeasible timings);
2. after the search, interchangeable copies are renamed in visiting order
   (:func:`optimizer.engines.schedule.relabel_copies`);
3. the routes are timed by :func:`optimizer.engines.schedule.schedule_routes`, which delays
   later copies until the spacing holds (across routes) and drops a copy that then no longer
   fits; ``stats["repair_dropped"]`` counts them.

Breaks are not native either: each vehicle's shift duration is shortened by ``break_s`` in
the search, and the scheduler places the break in its window (dropping a visit if it cannot).

Parallel searches: by default two independent searches run in threads with seeds ``seed`` and
``seed + 1``; PyVRP's local search runs outside the GIL, so on two cores they take the time of
one, and the best is kept. The count is fixed, not taken from the machine's cores, so that the
same seed gives the same routes on any machine (when the iteration cap binds).

Seed and determinism: the ``seed`` seeds PyVRP's random number generator. The search stops at
an iteration cap or at the time limit, whichever comes first. The default cap scales with the
budget (``ITERATIONS_PER_S`` x ``time_limit_s``) so that a larger budget is actually searched;
an explicit ``max_iterations`` fixes it. Only when the iteration cap is hit first does the same
seed give the same routes on every machine; on large instances (e.g. TOP families p4/p7, about
1,500-3,500 iterations per second) the time limit binds first and routes may vary with load.
``stats["iteration_cap_reached"]`` (1.0 or 0.0) says which happened.

Search parameters (:func:`solve_params`, :func:`start_penalty`), tuned on the ten hardest TOP
instances (p4/p5/p6/p7, 100 points, 5 s, two seeds; ``benchmarks/top.py``): mean gap 4.9 % with
PyVRP's defaults, 1.3 % with these. PyVRP updates its penalties only every few hundred
iterations and starts them at the midpoint of ``[min_penalty, max_penalty]``; within a few
seconds (1,500-5,000 iterations on 100 points) they hardly move from that start, so the start
decides how far the search may wander outside the shift limits. The start here is a low penalty
relative to the prizes (an overrun of one typical hop between sites costs a fifth of the largest
prize), updated every 100 iterations towards 40 % feasible solutions, under a cap above every
prize (so that excess can always be priced out and the best solution is feasible). A short
late-acceptance history (50), 30 neighbours and larger perturbations (5-40 moves) let the few
iterations explore more.
"""

from __future__ import annotations

import math
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import numpy as np
import pyvrp
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.IteratedLocalSearch import IteratedLocalSearch, IteratedLocalSearchParams
from pyvrp.PenaltyManager import PenaltyManager, PenaltyParams
from pyvrp.search import (
    LocalSearch,
    NeighbourhoodParams,
    PerturbationManager,
    PerturbationParams,
    compute_neighbours,
)
from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria, StoppingCriterion

from optimizer.engines.base import Solution
from optimizer.engines.schedule import (
    build_solution,
    check_request,
    relabel_copies,
    site_latest,
)
from optimizer.errors import InputError
from optimizer.problem import PatrolProblem

ITERATIONS_PER_S = 5000
"""Default iteration cap per second of time limit (above PyVRP's rate on most instances)."""

DEFAULT_SEARCHES = 2
"""Searches run side by side by default (the service's machines have two cores)."""

MAX_PRIZE = 10**12
"""Largest scaled prize of one client (keeps PyVRP's objective inside int64)."""


def prize_scale(problem: PatrolProblem) -> float:
    """Return the factor turning prizes into integers that outweigh all travel time."""
    positive = [s.prize for s in problem.sites if s.prize > 0]
    if not positive:
        return 1.0
    travel = sum(v.shift_end_s - v.shift_start_s for v in problem.vehicles) + 1
    return min(travel / min(positive), MAX_PRIZE / max(positive))


def to_pyvrp(problem: PatrolProblem) -> tuple[pyvrp.ProblemData, list[list[int]]]:
    """Translate ``problem`` into PyVRP ``ProblemData`` (see the module docstring).

    Returns
    -------
    data, vehicles_of_type
        The data and, per PyVRP vehicle type, the problem's vehicle indices it stands for
        (identical vehicles share one type).
    """
    modes = sorted({v.mode for v in problem.vehicles})
    n = problem.n_locations
    locations = [pyvrp.Location(x=0, y=0) for _ in range(n)]
    depot_locs = sorted(
        {v.start_location for v in problem.vehicles} | {v.end_location for v in problem.vehicles}
    )
    depot_of = {loc: d for d, loc in enumerate(depot_locs)}
    depots = [pyvrp.Depot(location=loc) for loc in depot_locs]
    scale = prize_scale(problem)
    first_start = min(v.shift_start_s for v in problem.vehicles)
    clients = []
    for s in problem.sites:
        latest = site_latest(problem, s)
        early = s.earliest_s
        if s.min_spacing_s > 0 and s.visit_number > 1:
            early = max(early, first_start + (s.visit_number - 1) * s.min_spacing_s)
        clients.append(
            pyvrp.Client(
                location=s.location,
                service_duration=s.dwell_s,
                tw_early=min(early, latest),
                tw_late=latest,
                prize=round(s.prize * scale),
                required=s.required,
                name=s.id,
            )
        )
    untimed = _untimed(problem)
    groups: dict[tuple[object, ...], list[int]] = {}
    for k, v in enumerate(problem.vehicles):
        sig = (
            v.start_location,
            v.end_location,
            v.shift_start_s,
            v.shift_end_s,
            v.break_s,
            v.break_earliest_s,
            v.break_latest_s,
            v.mode,
        )
        groups.setdefault(sig, []).append(k)
    vehicle_types = []
    for members in groups.values():
        v = problem.vehicles[members[0]]
        length = max(0, v.shift_end_s - v.shift_start_s - max(0, v.break_s))
        vehicle_types.append(
            pyvrp.VehicleType(
                num_available=len(members),
                start_depot=depot_of[v.start_location],
                end_depot=depot_of[v.end_location],
                tw_early=v.shift_start_s,
                tw_late=v.shift_end_s,
                shift_duration=length,
                max_distance=length if untimed else np.iinfo(np.int64).max,
                unit_distance_cost=1,
                profile=modes.index(v.mode),
                name=",".join(problem.vehicles[k].id for k in members),
            )
        )
    matrices = [np.ascontiguousarray(problem.durations[m], dtype=np.int64) for m in modes]
    durations = [np.zeros_like(m) for m in matrices] if untimed else matrices
    data = pyvrp.ProblemData(
        locations,
        clients,
        depots,
        vehicle_types,
        matrices,  # type: ignore[arg-type]
        durations,  # type: ignore[arg-type]
    )
    return data, list(groups.values())


def solve_params(data: pyvrp.ProblemData) -> pyvrp.SolveParams:
    """Return PyVRP parameters for prize-collecting patrol and orienteering problems.

    The penalty cap lies above the largest scaled prize (a route exceeding its shift by one
    unit must never pay for itself); penalties are updated every 100 iterations towards 40 %
    feasible solutions; late-acceptance history 50, 30 neighbours, 5-40 perturbation moves
    (see the module docstring for the tuning).
    """
    top = max((c.prize for c in data.clients()), default=0)
    cap = max(PenaltyParams().max_penalty, PENALTY_FACTOR * float(top))
    return pyvrp.SolveParams(
        ils=IteratedLocalSearchParams(history_length=50),
        penalty=PenaltyParams(max_penalty=cap, solutions_between_updates=100, target_feasible=0.4),
        neighbourhood=NeighbourhoodParams(num_neighbours=30),
        perturbation=PerturbationParams(min_perturbations=5, max_perturbations=40),
    )


PENALTY_FACTOR = 2.0
"""Largest penalty per unit of excess, as a multiple of the largest scaled prize."""

START_PENALTY = 0.2
"""Starting penalty for an excess of one typical hop, as a share of the largest scaled prize."""


def start_penalty(problem: PatrolProblem, data: pyvrp.ProblemData) -> float:
    """Return the starting penalty per unit of excess duration or distance.

    ``START_PENALTY`` x the largest scaled prize / the typical hop, where the typical hop is
    the median distance from a site's location to the nearest other site location (first
    travel mode); clipped to ``[PenaltyParams().min_penalty, cap]`` by the penalty manager.
    """
    top = max((c.prize for c in data.clients()), default=0)
    locations = sorted({s.location for s in problem.sites})
    hop = 1.0
    if len(locations) > 1:
        mode = min(v.mode for v in problem.vehicles)
        matrix = np.asarray(problem.durations[mode], dtype=np.float64)[np.ix_(locations, locations)]
        np.fill_diagonal(matrix, np.inf)
        hop = max(1.0, float(np.median(matrix.min(axis=1))))
    return START_PENALTY * max(1.0, float(top)) / hop


def run_search(
    data: pyvrp.ProblemData,
    stop: StoppingCriterion,
    *,
    seed: int,
    params: pyvrp.SolveParams,
    penalty: float,
) -> pyvrp.Result:
    """Run PyVRP's iterated local search as ``pyvrp.solve`` does, from ``penalty``.

    ``pyvrp.solve`` starts the penalties at the midpoint of their range; this starts them at
    ``penalty`` (all load, duration and distance penalties) and keeps the range's cap.
    """
    rng = pyvrp.RandomNumberGenerator(seed=seed)
    neighbours = compute_neighbours(data, params.neighbourhood)
    search = LocalSearch(data, rng, neighbours, PerturbationManager(params.perturbation))
    for op in params.operators:
        if op.supports(data):
            search.add_operator(op(data))
    start = ([penalty] * data.num_load_dimensions, penalty, penalty)
    manager = PenaltyManager(start, params.penalty)
    random = pyvrp.Solution.make_random(data, rng)
    initial = search(random, manager.max_cost_evaluator(), exhaustive=True)
    algorithm = IteratedLocalSearch(data, manager, search, initial, params.ils)
    return algorithm.run(stop, collect_stats=False)


def _untimed(problem: PatrolProblem) -> bool:
    """True when only route length matters: no dwell, windows, spacing or breaks.

    Then the route length limit is modelled as PyVRP's ``max_distance`` on the travel-time
    matrix with zero durations, which PyVRP searches faster than a duration constraint.
    """
    start = min(v.shift_start_s for v in problem.vehicles)
    end = max(v.shift_end_s for v in problem.vehicles)
    return all(v.break_s <= 0 for v in problem.vehicles) and all(
        s.dwell_s == 0
        and s.min_spacing_s == 0
        and s.earliest_s <= start
        and site_latest(problem, s) >= end
        for s in problem.sites
    )


class PyVRPEngine:
    """Prize-collecting routing with time windows on PyVRP.

    Parameters
    ----------
    max_iterations
        Stop each search after this many iterations (reproducible routes); ``None``: time
        limit only; ``"auto"`` (default): ``ITERATIONS_PER_S`` iterations per second of time
        limit.
    searches
        Independent searches run side by side in threads (PyVRP's local search releases the
        GIL), seeded ``seed``, ``seed + 1``, ...; the best solution is kept (ties: the lowest
        seed). Default ``DEFAULT_SEARCHES``.
    """

    name = "pyvrp"

    def __init__(
        self,
        max_iterations: int | Literal["auto"] | None = "auto",
        searches: int = DEFAULT_SEARCHES,
    ) -> None:
        if not (isinstance(searches, int) and searches >= 1):
            raise InputError("searches", searches, "a positive integer")
        self.max_iterations = max_iterations
        self.searches = searches

    def iteration_cap(self, time_limit_s: float) -> int | None:
        """Return the iteration cap for a budget of ``time_limit_s`` seconds (``None``: none)."""
        if self.max_iterations == "auto":
            return max(1, math.ceil(ITERATIONS_PER_S * time_limit_s))
        return self.max_iterations

    def solve(self, problem: PatrolProblem, *, time_limit_s: float, seed: int) -> Solution:
        """Solve ``problem`` within ``time_limit_s`` seconds with PyVRP seeded by ``seed``.

        Raises
        ------
        InputError
            A non-positive time limit.
        InfeasibleError
            A required site cannot be served.
        """
        t0 = time.perf_counter()
        check_request(problem, time_limit_s)
        if not problem.vehicles or not problem.sites:
            seqs: list[list[int]] = [[] for _ in problem.vehicles]
            return build_solution(problem, seqs, engine=self.name, runtime_s=0.0, seed=seed)
        data, vehicles_of_type = to_pyvrp(problem)
        params = solve_params(data)
        penalty = start_penalty(problem, data)
        runtime = max(0.01, time_limit_s - (time.perf_counter() - t0))
        cap = self.iteration_cap(time_limit_s)

        def search(k: int) -> pyvrp.Result:
            stop: StoppingCriterion = MaxRuntime(runtime)
            if cap is not None:
                stop = MultipleCriteria([stop, MaxIterations(cap)])
            return run_search(data, stop, seed=(seed + k) % 2**31, params=params, penalty=penalty)

        n = self.searches
        with warnings.catch_warnings():  # penalty-bound notes: the repair handles infeasibility
            warnings.simplefilter("ignore", PenaltyBoundWarning)
            if n == 1:
                results = [search(0)]
            else:
                with ThreadPoolExecutor(max_workers=n) as pool:
                    results = list(pool.map(search, range(n)))
        result = min(results, key=lambda r: r.cost())  # min keeps the first of equals
        best = result.best
        seqs = [[] for _ in problem.vehicles]
        order: dict[int, int] = {}
        free = [list(members) for members in vehicles_of_type]
        for route in best.routes():
            k = free[route.vehicle_type()].pop(0)
            for act in route.schedule():
                if act.is_client():
                    seqs[k].append(act.idx)
                    order[act.idx] = act.start_time
        relabel_copies(problem, seqs, order)
        stats = {
            "iterations": float(sum(r.num_iterations for r in results)),
            "searches": float(n),
            "iteration_cap_reached": float(
                cap is not None and all(r.num_iterations >= cap for r in results)
            ),
            "pyvrp_feasible": float(best.is_feasible()),
            "objective": float(result.cost()) if best.is_feasible() else float("nan"),
        }
        return build_solution(
            problem,
            seqs,
            engine=self.name,
            runtime_s=time.perf_counter() - t0,
            seed=seed,
            stats=stats,
        )
