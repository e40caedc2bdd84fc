"""Exact Team Orienteering optimum of small TOP instances, to check best-known scores.

Protocol
--------
Question
    Is the best-known score (``bks.csv``) of a TOP instance attainable under the stated
    convention: first row start depot, last row end depot, Euclidean distances *unrounded*,
    every route of length <= ``tmax``, at most ``m`` routes, each point scored once?
Method (exact, no heuristics)
    1. Route enumeration: breadth-first label setting over elementary paths from the start
       depot. A label is (visited subset, last point, shortest length of a path from the start
       through exactly that subset ending at that point); per (subset, last) only the shortest
       is kept (Bellman: any completion of a longer label is also a completion of the shorter).
       A label is created only if ``length + dist(last, end) <= tmax + EPS`` (``EPS = 1e-9``),
       so every kept subset is servable by one route and every servable subset is found.
       Points with score 0 and points that no route can reach alone are left out (visiting
       them never raises the score; by the triangle inequality skipping them never lengthens
       a route).
    2. Selection: feasible subsets are closed under taking subsets (triangle inequality), so
       the optimum is a maximum-coverage problem over the *maximal* feasible subsets only:
       choose at most ``m`` of them, maximise the total score of the points covered.
       ``--selector bnb`` (default): a deterministic branch and bound over selections in
       greedy order (marginal gains never rise, so with k picks left a node needs score + k x
       next gain above the incumbent; gains are one matrix-vector product; the last two
       picks are evaluated together; the first incumbent is greedy).
       ``--selector cpsat``: OR-Tools CP-SAT on the same model (one worker, ``random_seed =
       0``); kept as an independent cross-check, it is far slower here (p1.2.i: 988 maximal
       subsets, no proof in 60 s where the branch and bound takes 0.04 s). Both stop at
       ``--time-limit`` seconds. OPTIMAL proves the optimum; FEASIBLE gives a lower bound and
       an upper bound.
    3. Routes: chosen subsets overlapping are made disjoint (a point stays on the first route
       that has it); each route is the shortest order of its subset, read back from the
       labels, and its length is recomputed from the coordinates with unrounded
       ``numpy.hypot`` distances exactly as ``benchmarks/top.py`` scores (start -> points ->
       end, summed in that order) and must be <= ``tmax + EPS``. The slack ``tmax - length``
       of each route is printed so that an optimum resting on a hair's breadth shows.
Budget conventions
    ``--tmax VALUE`` replaces the file's ``tmax`` (a float or a fraction such as ``40/3``).
    ``--tmax-convention chao`` uses ``round(m * tmax) / m``: in Chao's sets the budget of ``m``
    routes is a single-route budget (an integer, e.g. 40) divided by ``m`` and printed rounded
    to one decimal (13.3); this undoes the rounding. Both options run in addition to the
    file's own budget when ``--also-file-tmax`` is given.
Threshold
    ``--min-tmax-for-bks`` also finds, unless the file's budget gives the bks, by bisection on
    the budget (tolerance 1e-7), the smallest ``tmax`` under which the bks is attainable (the
    longest route of that solution), so that a bks can be matched with the budget convention
    it needs.
Limits
    ``--max-labels N`` (default 20,000,000) abandons an instance whose enumeration exceeds N
    labels in total; it is reported as ``"status": "exploded"`` with the count reached.
Command
    ``nice -n 10 python benchmarks/top_exact.py --instances FILE [FILE ...] [--bks FILE]
    [--tmax VALUE | --tmax-convention {file,chao}] [--also-file-tmax] [--time-limit S]
    [--max-labels N] [--selector {bnb,cpsat}] [--min-tmax-for-bks]``
Findings (2026-11-29, p1/p2/p3, file tmax)
    137 of 147 instances proven optimal; 134 equal the bks. Not attainable: p1.3.h 70 (bks 75,
    needs tmax >= 13.3179), p1.3.o 205 (bks 215, needs 24.3325), p2.3.h 165 (bks 170, needs
    12.0720). Details: the helper's report in the session notes.
Output
    Per instance and budget: the optimum, the bks, the routes with their unrounded lengths and
    slack, label counts and times; the last line of stdout is one JSON object with every
    result.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optimizer.errors import InfeasibleError, InputError  # noqa: E402

EPS = 1e-9
"""Tolerance on the length budget, as in ``benchmarks/top.py``."""
SEED = 0
"""CP-SAT random seed (fixed)."""
FIGURES = ("instance", "budget", "tmax", "optimum", "bks", "verdict")
"""Fields of a result repeated in the summary of differences from the bks."""

IntArray = npt.NDArray[np.int64]
SmallArray = npt.NDArray[np.int16]
IndexArray = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TopInstance:
    """A TOP instance: ``rows`` are ``x y score``, row 0 the start, row ``n - 1`` the end."""

    name: str
    m: int
    tmax: float
    rows: FloatArray


@dataclass
class Layer:
    """Labels of one subset size: subset bit mask, last row, path length, parent label."""

    mask: IntArray
    last: SmallArray
    length: FloatArray
    parent: IndexArray


@dataclass
class ExactResult:
    """Outcome of :func:`solve_exact` for one instance and one budget."""

    instance: str
    m: int
    tmax: float
    status: str
    optimum: float | None = None
    bound: float | None = None
    routes: list[list[int]] = field(default_factory=list)
    lengths: list[float] = field(default_factory=list)
    labels: int = 0
    feasible_subsets: int = 0
    maximal_subsets: int = 0
    enumerate_s: float = 0.0
    select_s: float = 0.0


def read_instance(path: str | Path) -> TopInstance:
    """Read a TOP file (``n``, ``m``, ``tmax`` header, then ``x y score`` rows).

    Parameters
    ----------
    path
        The ``pX.M.L.txt`` file.

    Returns
    -------
    TopInstance
        The instance with rows in file order.

    Raises
    ------
    InputError
        A malformed header or rows.
    """
    path = Path(path)
    lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
    try:
        header = {ln[0]: ln[1] for ln in lines[:3]}
        m, tmax, n = int(header["m"]), float(header["tmax"]), int(header["n"])
        rows = np.array([[float(x) for x in ln[:3]] for ln in lines[3:]], dtype=np.float64)
    except (KeyError, ValueError, IndexError) as exc:
        raise InputError(str(path), str(exc), "header n, m, tmax then 'x y score' rows") from exc
    if rows.ndim != 2 or len(rows) != n or n < 2:
        raise InputError(f"{path}.rows", len(rows), f"n = {n} rows of 'x y score', n >= 2")
    return TopInstance(path.name, m, tmax, rows)


def distances(rows: FloatArray) -> FloatArray:
    """Return the unrounded Euclidean distance matrix of the rows' ``x y``."""
    diff = rows[:, None, :2] - rows[None, :, :2]
    return np.asarray(np.hypot(diff[..., 0], diff[..., 1]), dtype=np.float64)


def route_length(rows: FloatArray, points: list[int]) -> float:
    """Unrounded length of start -> points (row indices) -> end, as ``benchmarks/top.py``."""
    seq = [0, *points, len(rows) - 1]
    xy = rows[seq, :2]
    return float(np.hypot(*(xy[1:] - xy[:-1]).T).sum())


def parse_tmax(text: str) -> float:
    """Parse a budget given as a float (``13.3``) or a fraction (``40/3``).

    Raises
    ------
    InputError
        Not a positive number.
    """
    try:
        value = float(Fraction(text.strip()))
    except (ValueError, ZeroDivisionError) as exc:
        raise InputError("tmax", text, "a positive number or fraction such as 40/3") from exc
    if not value > 0:
        raise InputError("tmax", text, "a positive number or fraction such as 40/3")
    return value


def chao_tmax(m: int, tmax: float) -> float:
    """Undo the one-decimal rounding of Chao's ``single-route budget / m``.

    Raises
    ------
    InputError
        ``m * tmax`` is not within rounding of an integer single-route budget.
    """
    single = round(m * tmax)
    if abs(m * tmax - single) > 0.05 * m + 1e-9:
        raise InputError("tmax", tmax, f"a one-decimal rounding of an integer divided by m={m}")
    return single / m


def enumerate_routes(
    inst: TopInstance, tmax: float, *, max_labels: int = 20_000_000
) -> tuple[list[Layer], list[int], bool, int]:
    """Enumerate every subset of points one route can serve within ``tmax``.

    Parameters
    ----------
    inst
        The instance.
    tmax
        Route length budget (unrounded; ``EPS`` tolerance).
    max_labels
        Stop once more labels than this exist in total.

    Returns
    -------
    layers
        ``layers[k]`` holds the labels whose subset has ``k + 1`` points; bit ``b`` of a mask
        stands for row ``points[b]``.
    points
        Row indices of the candidate points (positive score, reachable alone).
    complete
        False when the enumeration stopped at ``max_labels``.
    labels
        Total number of labels kept.
    """
    rows = inst.rows
    n = len(rows)
    end = n - 1
    D = distances(rows)
    limit = tmax + EPS
    points = [i for i in range(1, n - 1) if rows[i, 2] > 0 and D[0, i] + D[i, end] <= limit]
    if len(points) > 62:
        raise InputError("instance.n", n, "at most 62 candidate points (64-bit subset masks)")
    if not points:
        return [], points, True, 0
    pts = np.array(points, dtype=np.int64)
    to_end = D[:, end]
    first = Layer(
        mask=np.left_shift(np.int64(1), np.arange(len(pts), dtype=np.int64)),
        last=pts.astype(np.int16),
        length=D[0, pts].copy(),
        parent=np.full(len(pts), -1, dtype=np.int32),
    )
    layers = [first]
    total = len(pts)
    while True:
        cur = layers[-1]
        masks, lasts, lens, parents = [], [], [], []
        idx = np.arange(len(cur.mask), dtype=np.int32)
        made = 0
        for b, j in enumerate(points):
            bit = np.int64(1) << np.int64(b)
            new_len = cur.length + D[cur.last, j]
            ok = np.flatnonzero(((cur.mask & bit) == 0) & (new_len + to_end[j] <= limit))
            if not ok.size:
                continue
            # all these labels end at j: keep the shortest per subset (sort, take firsts)
            mask, length = cur.mask[ok] | bit, new_len[ok]
            order = np.lexsort((length, mask))
            mask = mask[order]
            keep = np.ones(len(mask), dtype=bool)
            keep[1:] = mask[1:] != mask[:-1]
            sel = order[keep]
            masks.append(mask[keep])
            lasts.append(np.full(len(sel), j, dtype=np.int16))
            lens.append(length[sel])
            parents.append(idx[ok[sel]])
            made += len(sel)
            if total + made > max_labels:
                return layers, points, False, total + made
        if not masks:
            break
        layers.append(
            Layer(
                np.concatenate(masks),
                np.concatenate(lasts),
                np.concatenate(lens),
                np.concatenate(parents),
            )
        )
        total += made
    return layers, points, True, total


def maximal_masks(layers: list[Layer]) -> tuple[IntArray, int]:
    """Return the maximal feasible subsets (masks) and the number of feasible subsets."""
    uniq = [np.unique(layer.mask) for layer in layers]
    nbits = int(uniq[0].size) if uniq else 0
    out: list[IntArray] = []
    for k, masks in enumerate(uniq):
        if k + 1 == len(uniq):
            out.append(masks)
            break
        bigger = uniq[k + 1]
        extendable = np.zeros(len(masks), dtype=bool)
        for b in range(nbits):
            bit = np.int64(1) << np.int64(b)
            free = (masks & bit) == 0
            cand = masks[free] | bit
            pos = np.searchsorted(bigger, cand)
            pos[pos == len(bigger)] = 0
            hit = bigger[pos] == cand
            extendable[np.flatnonzero(free)[hit]] = True
        out.append(masks[~extendable])
    total = sum(len(u) for u in uniq)
    return (np.concatenate(out) if out else np.zeros(0, dtype=np.int64)), total


def shortest_route(
    layers: list[Layer], mask: int, points: list[int], end_dist: FloatArray
) -> list[int] | None:
    """Return the shortest start-to-end order of the subset ``mask`` (rows), or None."""
    size = bin(mask).count("1")
    if size == 0:
        return []
    if size > len(layers):
        return None
    layer = layers[size - 1]
    hit = np.flatnonzero(layer.mask == mask)
    if hit.size == 0:
        return None
    best = int(hit[np.argmin(layer.length[hit] + end_dist[layer.last[hit]])])
    route: list[int] = []
    k = size - 1
    while best >= 0:
        route.append(int(layers[k].last[best]))
        best = int(layers[k].parent[best])
        k -= 1
    return route[::-1]


def mask_scores(masks: IntArray, scores: FloatArray) -> IntArray:
    """Return the total integer score of each mask (bit ``b`` worth ``scores[b]``)."""
    out = np.zeros(len(masks), dtype=np.int64)
    for t in range(0, len(scores), 8):
        chunk = scores[t : t + 8].astype(np.int64)
        table = np.array(
            [sum(int(chunk[b]) for b in range(len(chunk)) if v >> b & 1) for v in range(256)],
            dtype=np.int64,
        )
        out += table[(masks >> np.int64(t)) & 255]
    return out


def select_bnb(
    cover: IntArray, scores: FloatArray, m: int, time_limit: float
) -> tuple[str, list[int], float, float]:
    """Choose at most ``m`` subsets of ``cover`` covering the most score (branch and bound).

    Any selection can be listed in *greedy order*: each set has the largest marginal gain
    among the selected sets still unlisted (ties: lowest index), so the gains do not rise.
    The search lists only such orders: the next set's gain is at most the previous one's
    (equal only at a higher index), and with ``k`` picks left a node is cut unless ``score +
    k x gain`` of the next set, or ``score +`` the ``k`` largest admissible gains, beats the
    best selection found. The first incumbent is greedy; sets with larger gains go first.

    Returns
    -------
    status
        ``"OPTIMAL"``, or ``"FEASIBLE"`` when ``time_limit`` stopped the search.
    chosen
        Chosen masks.
    value
        Score covered by the chosen masks.
    bound
        Upper bound on the value (the value itself when optimal).
    """
    if not all(float(s).is_integer() for s in scores):
        raise InputError("scores", scores.tolist(), "integer scores")
    sets = cover
    # membership matrix: gains of every set = A @ (scores of the points not yet covered)
    A = ((sets[:, None] >> np.arange(len(scores), dtype=np.int64)) & 1).astype(np.float64)
    index = np.arange(len(sets))
    deadline = time.perf_counter() + time_limit

    def gains_of(free: FloatArray) -> IntArray:
        return np.rint(A @ free).astype(np.int64)

    free0 = scores.astype(np.float64)
    free, chosen_g = free0.copy(), []  # greedy incumbent
    for _ in range(m):
        gains = gains_of(free)
        j = int(np.argmax(gains)) if len(gains) else 0
        if not len(gains) or gains[j] <= 0:
            break
        chosen_g.append(int(sets[j]))
        free = free * (1 - A[j])
    best: list[Any] = [int(np.rint(free0.sum() - free.sum())), chosen_g]
    root_bound = int(np.sort(gains_of(free0))[::-1][:m].sum())
    timed_out = [False]

    def last_two(free: FloatArray, cur: int, picks: list[int], g: IntArray) -> None:
        """Best two more sets: the second's best completion for many candidates at once."""
        cand = np.flatnonzero(g * 2 > best[0] - cur)
        cand = cand[np.argsort(-g[cand], kind="stable")]
        for c0 in range(0, len(cand), 256):
            chunk = cand[c0 : c0 + 256]
            if cur + 2 * int(g[chunk[0]]) <= best[0] or time.perf_counter() > deadline:
                timed_out[0] = time.perf_counter() > deadline
                return
            third = np.rint(A @ (free[:, None] * (1 - A[chunk].T))).astype(np.int64)
            arg = third.argmax(axis=0)
            value = cur + g[chunk] + third[arg, np.arange(len(chunk))]
            i = int(np.argmax(value))
            if value[i] > best[0]:
                best[0] = int(value[i])
                best[1] = [*picks, int(sets[chunk[i]]), int(sets[arg[i]])]

    def dfs(free: FloatArray, cur: int, picks: list[int], left: int, cap: int, prev: int) -> None:
        if cur > best[0]:
            best[0], best[1] = cur, picks
        if left == 0 or timed_out[0]:
            return
        if time.perf_counter() > deadline:
            timed_out[0] = True
            return
        gains = gains_of(free)
        if left == 1:  # any set completes a valid selection
            j = int(np.argmax(gains))
            if cur + int(gains[j]) > best[0]:
                best[0], best[1] = cur + int(gains[j]), [*picks, int(sets[j])]
            return
        ok = (gains < cap) | ((gains == cap) & (index > prev))
        g = np.where(ok, gains, 0)
        if cur + int(np.sort(g)[::-1][:left].sum()) <= best[0]:
            return
        if left == 2:
            last_two(free, cur, picks, g)
            return
        cand = np.flatnonzero(g * left > best[0] - cur)
        for k in cand[np.argsort(-g[cand], kind="stable")].tolist():
            gk = int(g[k])
            if cur + left * gk <= best[0]:
                break
            dfs(free * (1 - A[k]), cur + gk, [*picks, int(sets[k])], left - 1, gk, k)

    if m > 0 and len(sets):
        dfs(free0, 0, [], m, int(scores.sum()) + 1, -1)
    if timed_out[0]:
        return "FEASIBLE", best[1], float(best[0]), float(max(root_bound, best[0]))
    return "OPTIMAL", best[1], float(best[0]), float(best[0])


def select_routes(
    cover: IntArray, points: list[int], scores: FloatArray, m: int, time_limit: float
) -> tuple[str, list[int], float, float]:
    """Choose at most ``m`` subsets of ``cover`` covering the most score (CP-SAT).

    Returns
    -------
    status
        CP-SAT status name.
    chosen
        Chosen masks.
    value
        Score covered by the chosen masks.
    bound
        CP-SAT's upper bound on the value.
    """
    from ortools.sat.python import cp_model

    if not all(float(s).is_integer() for s in scores):
        raise InputError("scores", scores.tolist(), "integer scores")
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{i}") for i in range(len(cover))]
    y = [model.new_bool_var(f"y{b}") for b in range(len(points))]
    model.add(sum(x) <= m)
    for b in range(len(points)):
        bit = np.int64(1) << np.int64(b)
        holders = np.flatnonzero((cover & bit) != 0)
        model.add(y[b] <= sum(x[int(i)] for i in holders))
    model.maximize(sum(int(scores[b]) * y[b] for b in range(len(points))))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.random_seed = SEED
    solver.parameters.num_workers = 1
    status = solver.solve(model)
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return name, [], 0.0, float(solver.best_objective_bound)
    chosen = [int(cover[i]) for i in range(len(cover)) if solver.value(x[i])]
    return name, chosen, float(solver.objective_value), float(solver.best_objective_bound)


def solve_exact(
    inst: TopInstance,
    *,
    tmax: float | None = None,
    time_limit: float = 60.0,
    max_labels: int = 20_000_000,
    selector: str = "bnb",
) -> ExactResult:
    """Compute the exact TOP optimum of a small instance.

    Parameters
    ----------
    inst
        The instance.
    tmax
        Route length budget; the file's when None.
    time_limit
        CP-SAT time limit in seconds for the selection step.
    max_labels
        Enumeration cap (see :func:`enumerate_routes`).
    selector
        ``"bnb"`` (:func:`select_bnb`) or ``"cpsat"`` (:func:`select_routes`) for the choice of
        routes among the maximal subsets.

    Returns
    -------
    ExactResult
        ``status`` is ``"optimal"`` (proven), ``"feasible"`` (time limit hit: ``optimum`` is a
        lower bound, ``bound`` an upper one) or ``"exploded"`` (label cap hit).
    """
    if selector not in ("bnb", "cpsat"):
        raise InputError("selector", selector, "'bnb' or 'cpsat'")
    budget = inst.tmax if tmax is None else tmax
    res = ExactResult(inst.name, inst.m, budget, status="exploded")
    t0 = time.perf_counter()
    layers, points, complete, labels = enumerate_routes(inst, budget, max_labels=max_labels)
    res.labels = labels
    res.enumerate_s = time.perf_counter() - t0
    if not complete:
        return res
    if not points:
        res.status, res.optimum, res.bound = "optimal", 0.0, 0.0
        return res
    cover, res.feasible_subsets = maximal_masks(layers)
    res.maximal_subsets = len(cover)
    scores = inst.rows[points, 2]
    t1 = time.perf_counter()
    if selector == "bnb":
        status, chosen, value, bound = select_bnb(cover, scores, inst.m, time_limit)
    else:
        status, chosen, value, bound = select_routes(cover, points, scores, inst.m, time_limit)
    res.select_s = time.perf_counter() - t1
    res.bound = bound
    if status not in ("OPTIMAL", "FEASIBLE"):
        res.status = status.lower()
        return res
    end_dist = distances(inst.rows)[:, len(inst.rows) - 1]
    taken = 0
    for mask in chosen:
        own = mask & ~taken
        taken |= mask
        if own == 0:
            continue
        route = shortest_route(layers, own, points, end_dist)
        if route is None:  # float edge of downward closure: keep the full subset's order
            full = shortest_route(layers, mask, points, end_dist) or []
            route = [p for p in full if own >> points.index(p) & 1]
        res.routes.append(route)
        res.lengths.append(route_length(inst.rows, route))
    res.optimum = float(sum(inst.rows[p, 2] for r in res.routes for p in r))
    if abs(res.optimum - value) > 1e-6 or any(ln > budget + EPS for ln in res.lengths):
        raise AssertionError(f"{inst.name}: routes do not reproduce the selected score")
    res.status = "optimal" if status == "OPTIMAL" else "feasible"
    return res


def min_tmax_for(
    inst: TopInstance,
    target: float,
    *,
    time_limit: float = 60.0,
    max_labels: int = 20_000_000,
    tol: float = 1e-7,
) -> tuple[float | None, ExactResult | None]:
    """Return the smallest route budget under which a score of ``target`` is attainable.

    Bisection on ``tmax`` (the optimum only grows with the budget) between 0 and a budget
    found by raising the file's ``tmax`` 5 % at a time, at most to twice it. The returned
    figure is the longest route of the solution at the upper end: within ``tol`` above the
    exact threshold.

    Returns
    -------
    threshold
        The budget, or None when ``target`` is not reached at twice the file's ``tmax`` or an
        enumeration explodes.
    result
        The exact solution at that budget.
    """

    def reaches(budget: float) -> ExactResult | None:
        r = solve_exact(inst, tmax=budget, time_limit=time_limit, max_labels=max_labels)
        if r.status != "optimal":
            raise InfeasibleError("exact", f"{inst.name} at tmax {budget}: {r.status}")
        return r if r.optimum is not None and r.optimum >= target else None

    try:
        lo, hi = 0.0, inst.tmax
        best = reaches(hi)
        while best is None:
            lo, hi = hi, hi * 1.05
            if hi > 2 * inst.tmax:
                return None, None
            best = reaches(hi)
        while hi - lo > tol:
            mid = (lo + hi) / 2
            r = reaches(mid)
            if r is None:
                lo = mid
            else:
                hi, best = mid, r
    except InfeasibleError:
        return None, None
    return max(best.lengths, default=0.0), best


def _verdict(result: ExactResult, bks: float | None) -> str:
    if bks is None or result.optimum is None:
        return "no bks" if result.optimum is not None else result.status
    if result.status != "optimal":  # a verified solution still shows the bks attainable
        if result.optimum > bks:
            return "verified solution above bks (optimality unproven)"
        if result.optimum == bks:
            return "bks attainable (optimality unproven)"
        return f"unsettled ({result.status}: {result.optimum:g} <= optimum <= {result.bound:g})"
    if result.optimum == bks:
        return "bks attainable and optimal"
    return "bks unattainable" if result.optimum < bks else "exact optimum above bks"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the exact solver on the given files and print the results (last line JSON)."""
    shared = Path(os.environ.get("PATROL_SHARED_DIR", ROOT.parent / "shared"))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--instances", type=Path, nargs="+", required=True)
    ap.add_argument("--bks", type=Path, default=shared / "benchmarks" / "top" / "bks.csv")
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--tmax", type=parse_tmax, default=None)
    group.add_argument("--tmax-convention", choices=("file", "chao"), default="file")
    ap.add_argument("--also-file-tmax", action="store_true")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--max-labels", type=int, default=20_000_000)
    ap.add_argument("--selector", choices=("bnb", "cpsat"), default="bnb")
    ap.add_argument("--min-tmax-for-bks", action="store_true")
    args = ap.parse_args(argv)
    bks: dict[str, float] = {}
    if args.bks.is_file():
        with args.bks.open() as fh:
            bks = {row["instance"]: float(row["bks_score"]) for row in csv.DictReader(fh)}
    results: list[dict[str, Any]] = []
    for path in args.instances:
        inst = read_instance(path)
        budgets: list[tuple[str, float]] = []
        if args.tmax is not None:
            budgets.append(("override", args.tmax))
        elif args.tmax_convention == "chao":
            budgets.append(("chao", chao_tmax(inst.m, inst.tmax)))
        if args.also_file_tmax or not budgets:
            budgets.insert(0, ("file", inst.tmax))
        done: dict[float, ExactResult] = {}
        b = bks.get(inst.name)
        for label, budget in budgets:
            r = done.get(budget) or solve_exact(
                inst,
                tmax=budget,
                time_limit=args.time_limit,
                max_labels=args.max_labels,
                selector=args.selector,
            )
            done[budget] = r
            row = asdict(r) | {"budget": label, "bks": b, "verdict": _verdict(r, b)}
            results.append(row)
            print(
                f"{inst.name} m={inst.m} tmax={budget!r} ({label}): {r.status} "
                f"optimum={r.optimum} bks={b} -> {row['verdict']}; labels={r.labels} "
                f"subsets={r.feasible_subsets} maximal={r.maximal_subsets} "
                f"enum={r.enumerate_s:.2f}s select={r.select_s:.2f}s",
                flush=True,
            )
            for route, length in zip(r.routes, r.lengths, strict=True):
                score = sum(inst.rows[p, 2] for p in route)
                print(
                    f"  route {route} score={score:g} length={length!r} "
                    f"slack={budget - length:.3e}",
                    flush=True,
                )
        at_file = done.get(inst.tmax)
        if args.min_tmax_for_bks and b is not None and not (at_file and at_file.optimum == b):
            need, _ = min_tmax_for(inst, b, time_limit=args.time_limit, max_labels=args.max_labels)
            for row in results[-len(budgets) :]:
                row["min_tmax_for_bks"] = need
            print(f"  smallest tmax reaching bks {b:g}: {need!r}", flush=True)
    summary = {
        "eps": EPS,
        "seed": SEED,
        "time_limit_s": args.time_limit,
        "max_labels": args.max_labels,
        "selector": args.selector,
        "load_1min": os.getloadavg()[0],
        "differs_from_bks": [
            {k: r.get(k) for k in (*FIGURES, "min_tmax_for_bks")}
            for r in results
            if r["bks"] is not None and r["optimum"] is not None and r["optimum"] != r["bks"]
        ],
        "results": [
            {k: v for k, v in r.items() if k not in ("routes", "lengths")}
            | {"routes": r["routes"], "lengths": r["lengths"]}
            for r in results
        ],
    }
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main()
