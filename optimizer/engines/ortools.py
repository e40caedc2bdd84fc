"""OR-Tools routing engine for :class:`~optimizer.problem.PatrolProblem`.

Model
-----
- one routing vehicle per problem vehicle, with its own start and end depot node;
- arc cost and transit of vehicle ``k`` = dwell at the origin site + ``durations[mode_k]``;
- a ``time`` dimension: slack = waiting, start cumul fixed to the shift start, end cumul
  within the shift, site cumul (service start) within ``[earliest_s, latest_s]``;
- every site sits in its own disjunction; the penalty for leaving it out is its prize scaled
  so that any prize outweighs all travel (prize first, then shorter routes); required sites
  (posts) get a penalty above the sum of all prizes, and any left out raise
  :class:`~optimizer.errors.InfeasibleError` naming them;
- copies of a repeat-visited key: copy ``n + 1`` active only if copy ``n`` is, and starts at
  least ``min_spacing_s`` after it (constraints on the CumulVars);
- a break interval per vehicle with ``break_s > 0`` (``SetBreakIntervalsOfVehicle``).

Seed and determinism
--------------------
OR-Tools routing has no random seed: its first solution (parallel cheapest insertion) and
guided local search are deterministic, so two runs give the same routes whenever the search
stops at the same point. The engine stops at ``solution_limit`` solutions (default 500) or at
the time limit, whichever comes first: when the solution limit is hit, the routes are the
same for every run; on a slow or loaded machine the time limit may cut the search earlier. The
``seed`` is recorded in the Solution and otherwise unused.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from optimizer.engines.base import Solution
from optimizer.engines.schedule import build_solution, check_request, site_latest
from optimizer.errors import InfeasibleError
from optimizer.problem import PatrolProblem

NO_SOLUTION_IN_TIME = routing_enums_pb2.RoutingSearchStatus.ROUTING_FAIL_TIMEOUT
"""OR-Tools status: the time limit came before any first solution."""

MAX_PENALTY = 10**12
"""Largest penalty for one optional site (keeps the objective inside int64)."""


def prize_scale(problem: PatrolProblem) -> float:
    """Return the factor turning prizes into penalties that outweigh all travel time."""
    positive = [s.prize for s in problem.sites if s.prize > 0 and not s.required]
    if not positive:
        return 1.0
    travel = sum(v.shift_end_s - v.shift_start_s for v in problem.vehicles) + 1
    scale = travel / min(positive)
    return min(scale, MAX_PENALTY / max(positive))


class OrToolsEngine:
    """Prize-collecting vehicle routing with time windows on OR-Tools routing.

    Parameters
    ----------
    solution_limit
        Stop after this many solutions (for reproducible routes); ``None``: time limit only.
    first_solution
        Name of an OR-Tools ``FirstSolutionStrategy``.
    metaheuristic
        Name of an OR-Tools ``LocalSearchMetaheuristic`` (``GREEDY_DESCENT`` stops by itself
        at a local optimum, so its result does not depend on the clock).
    """

    name = "ortools"

    def __init__(
        self,
        solution_limit: int | None = 500,
        first_solution: str = "PARALLEL_CHEAPEST_INSERTION",
        metaheuristic: str = "GUIDED_LOCAL_SEARCH",
    ) -> None:
        self.solution_limit = solution_limit
        self.first_solution = first_solution
        self.metaheuristic = metaheuristic

    def solve(self, problem: PatrolProblem, *, time_limit_s: float, seed: int) -> Solution:
        """Solve ``problem`` within ``time_limit_s`` seconds (``seed`` is recorded only).

        Raises
        ------
        InputError
            A non-positive time limit.
        InfeasibleError
            A required site cannot be served (``required_site``, or ``time_limit`` when no
            first solution was found in time and the required sites were left out).
        """
        t0 = time.perf_counter()
        check_request(problem, time_limit_s)
        if not problem.vehicles:
            return build_solution(problem, [], engine=self.name, runtime_s=0.0, seed=seed)
        seqs, stats = self._route(problem, time_limit_s)
        try:
            return build_solution(
                problem,
                seqs,
                engine=self.name,
                runtime_s=time.perf_counter() - t0,
                seed=seed,
                stats=stats,
            )
        except InfeasibleError as exc:
            if exc.constraint == "required_site" and stats.get("status") == NO_SOLUTION_IN_TIME:
                raise InfeasibleError(
                    "time_limit",
                    f"OR-Tools found no first solution within {time_limit_s:g} s, so the "
                    f"required sites were not placed ({exc.detail}); allow more time",
                ) from exc
            raise

    def improve(
        self, problem: PatrolProblem, routes: list[list[int]], *, time_limit_s: float, seed: int
    ) -> Solution:
        """Improve feasible ``routes`` (site indices per vehicle) by local search from them."""
        t0 = time.perf_counter()
        seqs, stats = self._route(problem, time_limit_s, initial=routes)
        return build_solution(
            problem,
            seqs,
            engine=self.name,
            runtime_s=time.perf_counter() - t0,
            seed=seed,
            stats=stats,
        )

    def _route(
        self, problem: PatrolProblem, time_limit_s: float, initial: list[list[int]] | None = None
    ) -> tuple[list[list[int]], dict[str, float]]:
        sites = problem.sites
        vehicles = problem.vehicles
        # only depots some vehicle starts or ends at become nodes: OR-Tools would make any
        # other depot location a place every route must visit
        used = sorted({v.start_location for v in vehicles} | {v.end_location for v in vehicles})
        node_of_depot = {d: n for n, d in enumerate(used)}
        nd = len(used)
        n_nodes = nd + len(sites)
        loc = [*used, *(s.location for s in sites)]
        dwell = [0] * nd + [s.dwell_s for s in sites]
        manager = pywrapcp.RoutingIndexManager(
            n_nodes,
            len(vehicles),
            [node_of_depot[v.start_location] for v in vehicles],
            [node_of_depot[v.end_location] for v in vehicles],
        )
        routing = pywrapcp.RoutingModel(manager)
        cb_of: dict[str, int] = {}
        locs = np.asarray(loc, dtype=np.int64)
        dwell_col = np.asarray(dwell, dtype=np.int64)[:, None]
        for mode in sorted({v.mode for v in vehicles}):
            # node x node matrix (travel + dwell at the origin), evaluated in C++
            node_mat = problem.durations[mode][np.ix_(locs, locs)] + dwell_col
            cb_of[mode] = routing.RegisterTransitMatrix(node_mat.tolist())
        per_vehicle = [cb_of[v.mode] for v in vehicles]
        for k, cb in enumerate(per_vehicle):
            routing.SetArcCostEvaluatorOfVehicle(cb, k)
        horizon = max([v.shift_end_s for v in vehicles] + [problem.horizon_s])
        routing.AddDimensionWithVehicleTransits(per_vehicle, horizon, horizon, False, "time")
        tdim = routing.GetDimensionOrDie("time")
        for k, v in enumerate(vehicles):
            tdim.CumulVar(routing.Start(k)).SetValue(v.shift_start_s)
            tdim.CumulVar(routing.End(k)).SetRange(v.shift_start_s, v.shift_end_s)
        scale = prize_scale(problem)
        required_penalty = int(
            min(4 * 10**15, sum(int(s.prize * scale) + 1 for s in sites) * 10 + 10**9)
        )
        for i, s in enumerate(sites):
            idx = manager.NodeToIndex(nd + i)
            latest = site_latest(problem, s)
            tdim.CumulVar(idx).SetRange(s.earliest_s, max(s.earliest_s, latest))
            penalty = required_penalty if s.required else round(s.prize * scale)
            routing.AddDisjunction([idx], penalty)
        solver = routing.solver()
        by_key: dict[str, list[int]] = {}
        for i, s in enumerate(sites):
            by_key.setdefault(s.key or s.id, []).append(i)
        for members in by_key.values():
            members.sort(key=lambda i: sites[i].visit_number)
            for a, b in itertools.pairwise(members):
                ia, ib = manager.NodeToIndex(nd + a), manager.NodeToIndex(nd + b)
                solver.Add(routing.ActiveVar(ib) <= routing.ActiveVar(ia))
                spacing = sites[b].min_spacing_s
                solver.Add(
                    tdim.CumulVar(ib)
                    >= tdim.CumulVar(ia)
                    + spacing * routing.ActiveVar(ib)
                    - 2 * horizon * (1 - routing.ActiveVar(ib))
                )
        if any(v.break_s > 0 for v in vehicles):
            visit_transit = [0] * routing.Size()
            for index in range(routing.Size()):
                node = manager.IndexToNode(index)
                visit_transit[index] = dwell[node]
            for k, v in enumerate(vehicles):
                if v.break_s <= 0:
                    continue
                lo = max(v.break_earliest_s, v.shift_start_s)
                hi = v.break_latest_s if v.break_latest_s is not None else v.shift_end_s - v.break_s
                hi = min(hi, v.shift_end_s - v.break_s)
                brk = solver.FixedDurationIntervalVar(
                    lo, max(lo, hi), v.break_s, False, f"break {v.id}"
                )
                tdim.SetBreakIntervalsOfVehicle([brk], k, visit_transit)
        params = pywrapcp.DefaultRoutingSearchParameters()
        params.first_solution_strategy = getattr(
            routing_enums_pb2.FirstSolutionStrategy, self.first_solution
        )
        params.local_search_metaheuristic = getattr(
            routing_enums_pb2.LocalSearchMetaheuristic, self.metaheuristic
        )
        params.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
        if self.solution_limit is not None:
            params.solution_limit = self.solution_limit
        assignment = None
        if initial is not None:
            routing.CloseModelWithParameters(params)
            indices = [[manager.NodeToIndex(nd + i) for i in r] for r in initial]
            start = routing.ReadAssignmentFromRoutes(indices, True)
            if start is not None:
                assignment = routing.SolveFromAssignmentWithParameters(start, params)
            if assignment is None:  # keep the given routes
                return [list(r) for r in initial], {"status": float(routing.status())}
        else:
            assignment = routing.SolveWithParameters(params)
        seqs: list[list[int]] = [[] for _ in vehicles]
        if assignment is None:
            return seqs, {"status": float(routing.status())}
        for k in range(len(vehicles)):
            idx = assignment.Value(routing.NextVar(routing.Start(k)))
            while not routing.IsEnd(idx):
                seqs[k].append(manager.IndexToNode(idx) - nd)
                idx = assignment.Value(routing.NextVar(idx))
        return seqs, {
            "objective": float(assignment.ObjectiveValue()),
            "status": float(routing.status()),
        }
