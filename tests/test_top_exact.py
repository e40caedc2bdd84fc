"""The exact TOP solver (benchmarks/top_exact.py) against hand-checked and brute-force optima."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from benchmarks import top as top_bench
from benchmarks import top_exact
from optimizer.errors import InputError


def _write(path: Path, m: int, tmax: float, rows: Sequence[Sequence[float]]) -> Path:
    lines = [f"n {len(rows)}", f"m {m}", f"tmax {tmax}"]
    lines += [f"{x}\t{y}\t{s:g}" for x, y, s in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


# start and end at the origin; A and B east on the x axis, C north, D south.
# One route, tmax 4: {A, B} is 0 -> 1 -> 2 -> 0 = 4.0 exactly (score 15); C needs 6.
HAND = [(0, 0, 0), (1, 0, 10), (2, 0, 5), (0, 3, 20), (0, -1, 3), (0, 0, 0)]


@pytest.mark.parametrize(
    ("m", "tmax", "optimum"),
    [(1, 4.0, 15), (2, 4.0, 18), (1, 6.0, 20), (2, 6.0, 38), (1, 0.5, 0)],
)
@pytest.mark.parametrize("selector", ["bnb", "cpsat"])
def test_hand_instance_optimum_and_unrounded_lengths(
    tmp_path: Path, m: int, tmax: float, optimum: float, selector: str
) -> None:
    inst = top_exact.read_instance(_write(tmp_path / "hand.txt", m, tmax, HAND))
    res = top_exact.solve_exact(inst, time_limit=10, selector=selector)
    assert res.status == "optimal"
    assert res.optimum == optimum
    assert res.bound == optimum
    rows = np.array(HAND, dtype=float)
    points = [p for r in res.routes for p in r]
    assert len(points) == len(set(points)) and len(res.routes) <= m
    assert sum(rows[p, 2] for p in points) == optimum
    for route, length in zip(res.routes, res.lengths, strict=True):
        # the benchmark harness's own unrounded check
        assert length == top_bench.route_length(rows, route)
        assert length <= tmax + 1e-9


def test_budget_override_and_epsilon(tmp_path: Path) -> None:
    inst = top_exact.read_instance(_write(tmp_path / "hand.txt", 1, 4.0, HAND))
    # {A, B} is exactly 4.0 long: a budget a hair below loses it, leaving {A, D} (13)
    assert top_exact.solve_exact(inst, tmax=4.0 - 1e-6).optimum == 13
    assert top_exact.solve_exact(inst, tmax=4.0 - 1e-12).optimum == 15  # within EPS


def test_min_tmax_for_target(tmp_path: Path) -> None:
    inst = top_exact.read_instance(_write(tmp_path / "hand.txt", 1, 3.5, HAND))
    # 15 needs {A, B}: 4.0 exactly; 20 needs C alone: 6.0 exactly
    need, res = top_exact.min_tmax_for(inst, 15, time_limit=10)
    assert need == pytest.approx(4.0, abs=1e-7) and res is not None and res.optimum == 15
    need, _ = top_exact.min_tmax_for(inst, 20, time_limit=10)
    assert need == pytest.approx(6.0, abs=1e-7)
    assert top_exact.min_tmax_for(inst, 1000, time_limit=10) == (None, None)


def _brute_force(rows: np.ndarray, m: int, tmax: float) -> float:
    """Best score over all orders of all subsets, then all m-tuples of disjoint subsets."""
    pts = list(range(1, len(rows) - 1))
    feasible: dict[frozenset[int], float] = {frozenset(): 0.0}
    for k in range(1, len(pts) + 1):
        for subset in itertools.combinations(pts, k):
            if any(
                top_bench.route_length(rows, list(order)) <= tmax + 1e-9
                for order in itertools.permutations(subset)
            ):
                feasible[frozenset(subset)] = float(sum(rows[list(subset), 2]))
    best = 0.0
    for combo in itertools.combinations_with_replacement(list(feasible), m):
        union = frozenset().union(*combo)
        if len(union) == sum(len(s) for s in combo):
            best = max(best, sum(feasible[s] for s in combo))
    return best


@pytest.mark.parametrize(("seed", "m"), [(1, 2), (2, 2), (4, 2), (7, 3), (7, 4)])
def test_random_instances_match_brute_force(tmp_path: Path, seed: int, m: int) -> None:
    rng = np.random.default_rng(seed)
    n = 8  # start, 6 points, end
    xy = rng.uniform(0, 10, size=(n, 2)).round(1)
    score = np.r_[0, rng.integers(1, 10, size=n - 2) * 5, 0]
    rows = np.c_[xy, score]
    tmax = float(np.round(math.dist(xy[0], xy[-1]) + 8.0, 1))
    path = _write(tmp_path / "rand.txt", m, tmax, rows.tolist())
    inst = top_exact.read_instance(path)
    expected = _brute_force(rows, m, tmax)
    assert 0 < expected < score.sum()  # neither trivial nor everything
    for selector in ("bnb", "cpsat"):
        res = top_exact.solve_exact(inst, time_limit=10, selector=selector)
        assert res.status == "optimal"
        assert res.optimum == expected
        assert all(ln <= tmax + 1e-9 for ln in res.lengths)


def test_budget_parsing() -> None:
    assert top_exact.parse_tmax("40/3") == 40 / 3
    assert top_exact.parse_tmax("13.3") == 13.3
    assert top_exact.chao_tmax(3, 13.3) == 40 / 3
    assert top_exact.chao_tmax(4, 13.8) == 13.75
    with pytest.raises(InputError):
        top_exact.parse_tmax("-1")
    with pytest.raises(InputError):
        top_exact.chao_tmax(3, 13.25)


@pytest.mark.shared
def test_disputed_bks_instances(shared: Path) -> None:
    """p1.3.h: 70 at tmax 13.3, 75 at 40/3; p2.3.h: 165 at 11.7 and at 35/3 (bks says 170)."""
    inst_dir = shared / "benchmarks" / "top" / "instances"
    p1 = top_exact.read_instance(inst_dir / "p1.3.h.txt")
    p2 = top_exact.read_instance(inst_dir / "p2.3.h.txt")
    cases = [(p1, None, 70.0), (p1, 40 / 3, 75.0), (p2, None, 165.0), (p2, 35 / 3, 165.0)]
    for inst, tmax, optimum in cases:
        res = top_exact.solve_exact(inst, tmax=tmax, time_limit=20)
        assert (res.status, res.optimum) == ("optimal", optimum), (inst.name, tmax)
        budget = inst.tmax if tmax is None else tmax
        assert all(top_bench.route_length(inst.rows, r) <= budget + 1e-9 for r in res.routes)
