"""Re-planning mid-window on the demo district: completed stops kept, changes counted."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from optimizer.district import District
from optimizer.errors import InputError
from optimizer.plan.day import plan_day
from optimizer.plan.params import PlanParams
from optimizer.plan.replan import changed_stops, repair, replan_window, simulate
from optimizer.plan.types import DayPlan, WindowPlan
from optimizer.problem import PatrolProblem, Site, Vehicle
from optimizer.risk.hotspots import Hotspot

pytestmark = pytest.mark.slow  # plans whole days: full run only, not the fast lane

DAY = dt.date(2026, 11, 30)


QUICK = PlanParams(budget_s=0.2)
"""A small deterministic budget for the re-plans."""


@pytest.fixture(scope="module")
def day_plan(demo: District) -> DayPlan:
    return plan_day(demo, day=DAY, windows=["14:00-18:00"], seed=0)


@pytest.fixture(scope="module")
def window_plan(day_plan: DayPlan) -> WindowPlan:
    best = max(day_plan.windows, key=lambda w: sum(len(r.stops) for r in w.routes))
    assert best.routes, "the demo afternoon has routes"
    return best


def _completed(wp: WindowPlan, now: dt.datetime) -> dict[str, list[str]]:
    return {
        r.group.id: [
            s.site_id for s in r.stops if s.kind in ("hotspot", "post") and s.departure <= now
        ]
        for r in wp.routes
    }


def test_changed_stops_counts_insertions_and_deletions() -> None:
    assert changed_stops(["a", "b", "c"], ["a", "b", "c"]) == 0
    assert changed_stops(["a", "b", "c"], ["a", "x", "b", "c"]) == 1
    assert changed_stops(["a", "b", "c"], ["a", "c"]) == 1
    assert changed_stops(["a", "b"], ["b", "a"]) == 2
    assert changed_stops([], ["x"]) == 1


def test_keeps_completed_stops_and_changes_nothing_needlessly(
    demo: District, window_plan: WindowPlan
) -> None:
    now = window_plan.start + dt.timedelta(minutes=90)
    done = _completed(window_plan, now)
    # a re-solve must gain at least min_gain to replace the old order; with a huge min_gain the
    # old plan is kept exactly (nothing new happened)
    rp = replan_window(
        window_plan,
        district=demo,
        now=now,
        positions={},
        completed=done,
        params=QUICK,
        min_gain=100.0,
    )
    assert rp.changed_stops == 0 and rp.strategy == "repair"
    default = replan_window(
        window_plan, district=demo, now=now, positions={}, completed=done, params=QUICK
    )
    if default.strategy == "resolve":
        assert default.stats["value_resolve"] > 1.05 * default.stats["value_repair"]
    else:
        assert default.changed_stops == 0
    old = {r.group.id: r for r in window_plan.routes}
    for route in rp.plan.routes:
        gid = route.group.id
        kept = [s for s in route.stops if s.kind in ("hotspot", "post")][: len(done[gid])]
        assert [s.site_id for s in kept] == done[gid]
        before = [s for s in old[gid].stops if s.site_id in done[gid] and s.departure <= now]
        assert [(s.arrival, s.departure) for s in kept] == [
            (s.arrival, s.departure) for s in before
        ]
        rest = route.stops[len(kept) + 1 :]
        underway = [s for s in old[gid].stops[1:-1] if s.arrival <= now < s.departure]
        if rest and rest[0].arrival < now:  # the stop underway at ``now`` is finished as planned
            assert [(rest[0].site_id, rest[0].arrival, rest[0].departure)] == [
                (s.site_id, s.arrival, s.departure) for s in underway
            ]
            rest = rest[1:]
        for s in rest:
            assert s.arrival >= now and s.departure <= window_plan.end


def test_new_incident_is_inserted_and_counted(demo: District, window_plan: WindowPlan) -> None:
    now = window_plan.start + dt.timedelta(minutes=60)
    G = demo.graph
    group = window_plan.routes[0]
    # a new incident near the group's station: reachable and valuable
    first = group.stops[0]
    node = min(
        G.nodes,
        key=lambda n: (G.nodes[n]["lon"] - first.lon) ** 2 + (G.nodes[n]["lat"] - first.lat) ** 2,
    )
    nd = G.nodes[node]
    inc = Hotspot(
        "NEW-1",
        window_plan.grid_id,
        float(nd["lon"]),
        float(nd["lat"]),
        float(nd["x"]),
        float(nd["y"]),
        int(node),
        50.0,
        dwell_min=5,
    )
    rp = replan_window(
        window_plan,
        district=demo,
        now=now,
        positions={},
        completed=_completed(window_plan, now),
        new_incidents=[inc],
        params=QUICK,
    )
    visited = {s.site_id for r in rp.plan.routes for s in r.stops}
    assert "NEW-1" in visited
    assert rp.changed_stops >= 1
    assert rp.changed_stops == sum(rp.changed_by_group.values())
    assert rp.plan.metrics["changed_stops"] == float(rp.changed_stops)


def test_bad_input(demo: District, window_plan: WindowPlan) -> None:
    with pytest.raises(InputError) as exc:
        replan_window(
            window_plan, district=demo, now=window_plan.end + dt.timedelta(hours=1), positions={}
        )
    assert exc.value.field == "now"
    with pytest.raises(InputError) as exc:
        replan_window(window_plan, district=demo, now=window_plan.start, positions={"nope": 1})
    assert "positions" in exc.value.field


def _line() -> PatrolProblem:
    # depots: 0 position, 1 station; sites at 2, 3, 4 on a line, 600 s apart
    x = np.array([0, 0, 600, 1200, 1800])
    t = np.abs(x[:, None] - x[None, :]).astype(np.int64)
    sites = (
        Site("A", 2, 1.0, 300),
        Site("B", 3, 1.0, 300),
        Site("C", 4, 1.0, 300),
        Site("P", 3, 0.0, 300, earliest_s=0, latest_s=1500, required=True, kind="post"),
    )
    return PatrolProblem(2, sites, (Vehicle("G", 0, 1, "foot", 0, 3600),), {"foot": t}, 3600)


def test_repair_drops_what_no_longer_fits_and_places_posts() -> None:
    p = _line()
    assert simulate(p, 0, [0, 1, 2]) is None  # 600+300+600+300+600+300+1800 > 3600
    sol = repair(p, [["A", "B", "C"]], extra=[3])
    order = [p.sites[v.site].id for v in sol.routes[0].visits]
    assert order == ["A", "P", "B"] and sol.feasible  # C no longer fits; P goes where it fits
    assert sol.dropped == (2,)
    assert simulate(p, 0, [v.site for v in sol.routes[0].visits]) is not None


def test_day_plan_input_picks_the_running_window(
    demo: District, day_plan: DayPlan, window_plan: WindowPlan
) -> None:
    now = window_plan.start + dt.timedelta(minutes=30)
    rp = replan_window(
        day_plan,
        district=demo,
        now=now,
        positions={},
        grid_id=window_plan.grid_id,
        completed=_completed(window_plan, now),
        params=QUICK,
        min_gain=100.0,
    )
    assert rp.plan.grid_id == window_plan.grid_id and rp.changed_stops == 0
    with pytest.raises(InputError) as exc:
        replan_window(day_plan, district=demo, now=now, positions={}, grid_id="nowhere")
    assert exc.value.field == "grid_id"


@pytest.mark.parametrize(
    ("seed", "budget_s", "minutes"), [(0, 0.1, 30), (0, 0.1, 90), (3, 0.3, 30), (5, 1.0, 90)]
)
def test_nothing_new_keeps_the_plan(
    demo: District, seed: int, budget_s: float, minutes: int
) -> None:
    # plans solved briefly have waits, loops round a hotspot, car legs walked and stops
    # underway at ``now``: with nothing new the repair keeps every remaining stop
    dp = plan_day(
        demo, day=DAY, windows=["14:00-18:00"], params=PlanParams(budget_s=budget_s), seed=seed
    )
    planned = [wp for wp in dp.windows if wp.routes]
    assert planned
    for wp in planned:
        now = wp.start + dt.timedelta(minutes=minutes)
        rp = replan_window(
            wp,
            district=demo,
            now=now,
            positions={},
            completed=_completed(wp, now),
            params=QUICK,
            min_gain=100.0,
        )
        assert (rp.strategy, rp.changed_stops) == ("repair", 0), (wp.grid_id, rp.stats)
        old = {r.group.id: r for r in wp.routes}
        for route in rp.plan.routes:
            before = [s.site_id for s in old[route.group.id].stops if s.kind != "start"]
            assert [s.site_id for s in route.stops if s.kind != "start"] == before
