"""Explanations of left-out sites and infeasibility on hand-checkable instances."""

from __future__ import annotations

import numpy as np

from optimizer.engines.base import Route, Solution, Visit, get_engine
from optimizer.errors import InfeasibleError
from optimizer.plan.explain import (
    diagnose_infeasible,
    explain_left_out,
    explain_site,
    explain_without_groups,
    reasons_frame,
)
from optimizer.problem import PatrolProblem, Site, Vehicle
from optimizer.risk.hotspots import Hotspot

# locations: 0 station, 1 post A, 2 post B, 3 near hotspot, 4 far hotspot, 5 near hotspot
_T = np.array(
    [
        [0, 300, 300, 200, 5000, 250],
        [300, 0, 500, 200, 5000, 300],
        [300, 500, 0, 200, 5000, 300],
        [200, 200, 200, 0, 5000, 100],
        [5000, 5000, 5000, 5000, 0, 5000],
        [250, 300, 300, 100, 5000, 0],
    ],
    dtype=np.int64,
)


def _problem(vehicles: int = 1) -> PatrolProblem:
    sites = (
        Site(
            "A",
            1,
            0.0,
            1200,
            earliest_s=600,
            latest_s=900,
            required=True,
            kind="post",
            meta={"post": "PA"},
        ),
        Site(
            "B",
            2,
            0.0,
            1200,
            earliest_s=600,
            latest_s=900,
            required=True,
            kind="post",
            meta={"post": "PB"},
        ),
        Site("H1", 3, 2.0, 600),
        Site("HFAR", 4, 9.0, 600),
        Site("H2", 5, 0.5, 600),
    )
    vs = tuple(Vehicle(f"G{k}", 0, 0, "foot", 0, 7200) for k in range(vehicles))
    return PatrolProblem(1, sites, vs, {"foot": _T}, 7200, None, "explain")


def _solution() -> Solution:
    # G0: station -> A (arrive 300, wait to 600, leave 1800) -> H1 (2000..2600) -> station
    route = Route(0, (Visit(0, 300, 600, 1800), Visit(2, 2000, 2000, 2600)), 0, 2800)
    return Solution((route,), 2.0, False, "hand", 0.0, 0, dropped=(1, 3, 4))


def test_each_left_out_site_gets_its_reason() -> None:
    p = _problem()
    reasons = {r.site_id: r for r in explain_left_out(p, _solution(), grid_id="D-1-1")}
    assert set(reasons) == {"PB", "HFAR", "H2"}
    assert reasons["PB"].code == "post_conflict" and "PA" in reasons["PB"].detail
    assert reasons["PB"].kind == "post"
    assert reasons["HFAR"].code == "unreachable"
    assert "177 min" in reasons["HFAR"].detail  # 5000 + 600 + 5000 s
    assert reasons["H2"].code == "low_value"
    assert all(r.grid_id == "D-1-1" for r in reasons.values())
    left = reasons["PB"].to_left_out()
    assert left.site_id == "PB" and left.reason.startswith("post_conflict:")
    assert list(reasons_frame(reasons.values()).columns) == [
        "site_id",
        "kind",
        "grid_id",
        "code",
        "detail",
    ]


def test_with_two_groups_posts_are_not_in_conflict() -> None:
    p = _problem(vehicles=2)
    assert diagnose_infeasible(p) is None
    reason = explain_site(p, _solution(), 1)
    assert reason.code == "post_capacity"


def test_post_window_unreachable() -> None:
    p = _problem()
    late = Site("C", 4, 0.0, 300, earliest_s=0, latest_s=1000, required=True, kind="post")
    p2 = PatrolProblem(1, (*p.sites, late), p.vehicles, p.durations, p.horizon_s)
    err = diagnose_infeasible(p2)
    assert err is not None and err.constraint == "post_unreachable" and "C" in err.detail
    assert explain_site(p2, None, 5).code == "unreachable"


def test_diagnose_conflict_and_no_group() -> None:
    err = diagnose_infeasible(_problem())
    assert err is not None and err.constraint == "post_conflict"
    assert "PA" in err.detail and "PB" in err.detail
    empty = PatrolProblem(1, _problem().sites, (), {"foot": _T}, 7200)
    err = diagnose_infeasible(empty)
    assert err is not None and err.constraint == "no_group"
    assert explain_site(empty, None, 2).code == "no_group"


def test_repeat_visits_reported_only_when_asked() -> None:
    p = _problem(vehicles=2)
    again = Site("H1#2", 3, 2.0, 600, key="H1", visit_number=2, min_spacing_s=5400)
    p2 = PatrolProblem(1, (*p.sites, again), p.vehicles, p.durations, p.horizon_s)
    sol = _solution()
    assert "H1" not in {r.site_id for r in explain_left_out(p2, sol)}
    codes = {r.site_id: r.code for r in explain_left_out(p2, sol, include_repeats=True)}
    assert codes["H1"] == "repeat_not_fitted"


def test_without_groups() -> None:
    h = Hotspot("H9", "D-1-1", 0.0, 0.0, 0.0, 0.0, 1, 1.0)
    reasons = explain_without_groups([h], [], grid_id="D-1-1", detail="no officer on duty")
    assert [(r.site_id, r.code, r.detail) for r in reasons] == [
        ("H9", "no_group", "no officer on duty")
    ]


def test_engine_refusal_matches_diagnosis() -> None:
    """One group, two posts at the same time: the engine refuses, the diagnosis names why."""
    p = _problem(1)
    err = diagnose_infeasible(p)
    assert err is not None and err.constraint == "post_conflict"
    try:
        sol = get_engine("ortools").solve(p, time_limit_s=1.0, seed=0)
    except InfeasibleError:
        return
    assert not sol.feasible  # an engine that answers anyway must flag the dropped post


def test_solver_leaves_out_what_explain_says() -> None:
    """Solve for real: every dropped key is explained, the far hotspot as unreachable."""
    p = _problem(2)
    sol = get_engine("ortools").solve(p, time_limit_s=1.0, seed=0)
    reasons = {r.site_id: r.code for r in explain_left_out(p, sol)}
    visited = {p.sites[v.site].key or p.sites[v.site].id for r in sol.routes for v in r.visits}
    assert reasons["HFAR"] == "unreachable"
    for i, s in enumerate(p.sites):
        sid = s.meta.get("post", s.id) if s.required else s.id
        assert (s.id in visited) or (sid in reasons), (i, s.id)


def test_no_street_path_is_said_so_never_as_minutes() -> None:
    """A site cut off from the groups' start gets ``no_path``, not a capped time in minutes."""
    from optimizer.plan.explain import unservable_sites
    from optimizer.problem import NO_PATH_S

    p = _problem(2)
    t = p.durations["foot"].copy()
    far = next(i for i, s in enumerate(p.sites) if s.id == "HFAR")
    loc = p.sites[far].location
    t[:, loc] = NO_PATH_S
    t[loc, :] = NO_PATH_S
    t[loc, loc] = 0
    cut = PatrolProblem(p.n_depots, p.sites, p.vehicles, {"foot": t}, p.horizon_s)
    reasons = unservable_sites(cut)
    assert list(reasons) == [far]
    assert reasons[far].code == "no_path" and "min" not in reasons[far].detail
    assert "no street path" in reasons[far].detail
