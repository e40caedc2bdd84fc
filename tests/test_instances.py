"""TOP and OPTW readers: scaling, depots, windows, and agreement with unrounded lengths."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from optimizer.engines.check import check_solution
from optimizer.engines.pyvrp import PyVRPEngine
from optimizer.errors import InputError
from optimizer.instances import OPTW_SCALE, TOP_SCALE, read_optw, read_top, top_route_length

TOP_TEXT = """n 5
m 2
tmax 3.5
0.0 0.0 0
1.0 0.0 10
1.0 1.0 20
0.0 1.0 5
0.5 0.0 0
"""

OPTW_TEXT = """1 1 3 1
0 200
0 0.00 0.00 0.00 0.00 0 0 0 100
1 3.00 4.00 1.00 10.00 1 1 1 0 100
2 1.00 1.00 2.50 7.00 1 1 1 20 30
3 30.00 40.00 1.00 9.00 1 1 1 0 100
"""


def test_read_top_small(tmp_path: Path) -> None:
    f = tmp_path / "p0.2.a.txt"
    f.write_text(TOP_TEXT)
    p = read_top(f)
    assert p.n_depots == 2 and len(p.vehicles) == 2 and len(p.sites) == 3
    assert [s.prize for s in p.sites] == [10.0, 20.0, 5.0]
    d = p.durations["euclid"]
    assert d[0, 1] == 5_000  # start (0,0) -> end (0.5,0)
    assert d[0, 3] == math.ceil(math.sqrt(2) * TOP_SCALE)  # ceil keeps scaled lengths >= real
    assert p.vehicles[0].shift_end_s == 35_000
    assert top_route_length(p, [0, 1]) == pytest.approx(1 + 1 + math.hypot(0.5, 1))


def test_top_solution_is_feasible_unrounded(tmp_path: Path) -> None:
    f = tmp_path / "p0.2.a.txt"
    f.write_text(TOP_TEXT)
    p = read_top(f)
    s = PyVRPEngine(max_iterations=300).solve(p, time_limit_s=3, seed=0)
    assert check_solution(p, s) == []
    assert s.prize == 35.0  # each route <= 3.5: (1,0),(1,1) = 1+1+1.118; (0,1) = 1+1.118
    for r in s.routes:
        assert top_route_length(p, [v.site for v in r.visits]) <= 3.5 + 1e-9


def test_read_optw_small(tmp_path: Path) -> None:
    f = tmp_path / "x.txt"
    f.write_text(OPTW_TEXT)
    p = read_optw(f)
    assert p.n_depots == 1 and len(p.sites) == 3 and len(p.vehicles) == 1
    s2 = p.sites[1]
    assert (s2.dwell_s, s2.earliest_s, s2.latest_s, s2.prize) == (25, 200, 300, 7.0)
    d = p.durations["euclid"]
    assert d[0, 1] == 50  # 5.0 exactly
    assert d[0, 2] == 14  # sqrt(2) = 1.414.. truncated to 1.4 -> 14 tenths
    assert p.vehicles[0].shift_end_s == 100 * OPTW_SCALE


def test_bad_files(tmp_path: Path) -> None:
    f = tmp_path / "bad.txt"
    f.write_text("n 3\nm x\ntmax 1\n")
    with pytest.raises(InputError):
        read_top(f)
    f.write_text("1 1 5 1\n0 200\n0 0 0 0 0 0 0 0 100\n")
    with pytest.raises(InputError):
        read_optw(f)


def test_shared_top_and_optw(shared: Path) -> None:
    top = read_top(shared / "benchmarks" / "top" / "instances" / "p1.2.b.txt")
    assert len(top.sites) == 30 and len(top.vehicles) == 2
    assert top.vehicles[0].shift_end_s == 50_000
    optw = read_optw(shared / "benchmarks" / "optw" / "instances" / "c101.txt")
    assert len(optw.sites) == 100
    assert optw.vehicles[0].shift_end_s == 12_360
    assert np.all(np.diag(optw.durations["euclid"]) == 0)
