"""plan_day on the demo district and on a small real OSM extract: feasibility and determinism.

Every plan here is made with the default, deterministic (work-limited) budget: the same inputs
and seed give the same plan on any machine and load, so plans can be compared exactly.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from optimizer.district import District
from optimizer.errors import InputError
from optimizer.plan.day import plan_day
from optimizer.plan.params import PlanParams, RouteParams
from optimizer.plan.solve import LocalPool
from optimizer.plan.types import DayPlan
from optimizer.synthetic.demo import synthetic_district
from optimizer.timewindow import DEFAULT_WINDOWS, TimeWindow
from tests.conftest import DEMO_DAY, comparable

pytestmark = pytest.mark.slow  # plans whole days: full run only, not the fast lane

MONDAY = DEMO_DAY  # a school day: the school-gate posts are on duty
ROUTES = RouteParams()


@pytest.fixture(scope="module")
def plan(demo_plan: DayPlan) -> DayPlan:
    return demo_plan


class _EdgeChains:
    """Consecutive vertex pairs of every street edge (its geometry, or its two end nodes).

    Points are compared in the graph's metric CRS with a tolerance of a few centimetres, so
    projection round trips do not matter.
    """

    def __init__(self, district: District) -> None:
        from pyproj import Transformer
        from scipy.spatial import cKDTree

        G = district.graph
        self.to_xy = Transformer.from_crs("EPSG:4326", G.graph["crs"], always_xy=True)
        keys: dict[tuple[int, int], int] = {}
        self.pairs: set[tuple[int, int]] = set()

        def key(x: float, y: float) -> int:
            return keys.setdefault((round(x * 100), round(y * 100)), len(keys))

        for u, v, data in G.edges(data=True):
            ends = [(G.nodes[n]["x"], G.nodes[n]["y"]) for n in (u, v)]
            geom = data.get("geometry")
            chain = [ends[0], *(list(geom.coords)[1:-1] if geom is not None else []), ends[1]]
            if geom is not None:
                x0, y0 = geom.coords[0][:2]
                if (x0 - ends[1][0]) ** 2 + (y0 - ends[1][1]) ** 2 < (x0 - ends[0][0]) ** 2 + (
                    y0 - ends[0][1]
                ) ** 2:
                    chain = [ends[0], *list(geom.coords)[1:-1][::-1], ends[1]]
            ids = [key(x, y) for x, y, *_ in chain]
            for p, q in itertools.pairwise(ids):
                self.pairs.update({(p, q), (q, p)})
        self.coords = sorted(keys, key=keys.__getitem__)
        self.tree = cKDTree([(x / 100, y / 100) for x, y in self.coords])

    def check(self, lonlat: list[tuple[float, float]], label: str) -> None:
        xs, ys = self.to_xy.transform([p[0] for p in lonlat], [p[1] for p in lonlat])
        dist, idx = self.tree.query(list(zip(xs, ys, strict=True)))
        assert dist.max() < 0.05, (label, float(dist.max()))  # every point is a street vertex
        for p, q in itertools.pairwise(idx.tolist()):
            assert p == q or (p, q) in self.pairs, (label, p, q)  # joined by an edge


def _assert_feasible(district: District, plan: DayPlan) -> None:
    res = district.resources
    officers = {o.id: o for o in res.officers}
    volunteers = {v.id: v for v in res.volunteers}
    posts = {p.id: p for p in res.posts}
    edges = _EdgeChains(district)
    for wp in plan.windows:
        w0, w1 = wp.window.on(plan.date)
        assert (wp.start, wp.end) == (w0, w1)
        people: list[str] = []
        for route in wp.routes:
            g = route.group
            # every group is led by at least one officer who is on shift for the whole window
            assert g.officer_ids, g
            for oid in g.officer_ids:
                assert officers[oid].available(plan.date, wp.window), (oid, wp.window)
            for vid in g.volunteer_ids:
                assert volunteers[vid].available(plan.date, wp.window), (vid, wp.window)
            people.extend(g.members)
            # stops in order, inside the window (= the group's shift)
            assert route.stops[0].kind == "start" and route.stops[-1].kind == "end"
            assert len(route.stops) >= 3
            for a, b in zip(route.stops, route.stops[1:], strict=False):
                assert a.departure <= b.arrival, (a, b)
            for s in route.stops:
                assert w0 <= s.arrival <= s.departure <= w1, (g.id, s)
                assert 0 <= s.wait_min * 60 <= (s.departure - s.arrival).total_seconds() + 1e-6
                if s.kind == "post":
                    duty = [pw.on(plan.date) for pw in posts[s.site_id].windows]
                    # staffed from the duty start (or arrival, if later) to the end of the visit
                    assert any(p0 <= s.departure <= p1 for p0, p1 in duty), s
            assert route.patrol_min <= wp.window.minutes + 1e-6
            assert (
                route.stops[-1].arrival - route.stops[0].departure
            ).total_seconds() <= wp.window.minutes * 60
            # the path follows street edges of the district graph, start to end
            coords = [(float(x), float(y)) for x, y in route.path.coords]
            assert len(coords) >= 2
            edges.check(coords, g.id)
            first, last = route.stops[0], route.stops[-1]
            assert coords[0] == pytest.approx((first.lon, first.lat), abs=2e-3)
            assert coords[-1] == pytest.approx((last.lon, last.lat), abs=2e-3)
        assert len(people) == len(set(people)), "someone is in two groups of one window"


def test_every_window_has_a_route(plan: DayPlan) -> None:
    labels = {w.label() for w in DEFAULT_WINDOWS}
    with_routes = {wp.window.label() for wp in plan.windows if any(r.stops for r in wp.routes)}
    assert with_routes == labels


def test_plan_is_feasible(demo: District, plan: DayPlan) -> None:
    _assert_feasible(demo, plan)


def test_school_gates_are_staffed_on_a_school_day(plan: DayPlan) -> None:
    staffed = {
        (wp.window.label(), s.site_id)
        for wp in plan.windows
        for r in wp.routes
        for s in r.stops
        if s.kind == "post"
    }
    for window in ("07:00-11:00", "14:00-18:00"):
        assert {(window, "P1"), (window, "P2")} <= staffed, staffed


def test_metrics_are_consistent(plan: DayPlan) -> None:
    for wp in plan.windows:
        m = wp.metrics
        assert 0.0 <= m["coverage"] <= 1.0 + 1e-9
        assert m["value_covered"] == pytest.approx(sum(r.value for r in wp.routes), abs=1e-3)
        # coverage counts the recommended passes; extra passes add to value_covered only
        assert m["value_recommended"] <= m["value_total"] + 1e-9
        assert m["coverage"] == pytest.approx(
            m["value_recommended"] / m["value_total"] if m["value_total"] else 0.0, abs=1e-3
        )
        assert m["km"] == pytest.approx(sum(r.distance_m for r in wp.routes) / 1000, abs=1e-3)
        for r in wp.routes:
            assert r.distance_m > 0
            assert 0 <= r.dwell_min <= r.patrol_min
            assert r.path.length > 0
    assert plan.metrics["visits"] > 0
    assert 0.0 < plan.metrics["coverage"] <= 1.0
    frame = plan.to_frame()
    assert len(frame) == sum(len(r.stops) for r in plan.routes)
    assert {
        "window",
        "grid",
        "group",
        "members",
        "arrival",
        "departure",
        "place",
        "purpose",
    } <= set(frame.columns)
    summary = plan.summary()
    assert len(summary) == len(plan.windows)


def test_groups_patrol_their_whole_window(plan: DayPlan) -> None:
    # Out on patrol (moving or dwelling, not waiting) for most of the window. Before routes
    # were filled, the demo had groups out for 31 of 240 minutes and 47 % of all group time.
    patrolling = window_total = 0.0
    for wp in plan.windows:
        for r in wp.routes:
            out = (r.stops[-1].arrival - r.stops[0].departure).total_seconds() / 60
            waits = sum(s.wait_min for s in r.stops)
            assert out - waits >= 0.45 * wp.window.minutes, (wp.window.label(), r.group.id)
            patrolling += out - waits
            window_total += wp.window.minutes
    assert patrolling >= 0.75 * window_total


def test_long_waits_are_rare_and_shown_as_area_patrol(plan: DayPlan) -> None:
    LONG_WAIT_MIN = ROUTES.long_wait_min
    window_min = sum(wp.window.minutes * len(wp.routes) for wp in plan.windows)
    long_hot = 0.0
    for r in plan.routes:
        for s in r.stops:
            if s.kind == "hotspot" and s.wait_min > LONG_WAIT_MIN:
                assert s.purpose.startswith(f"area patrol around {s.name}"), s
                long_hot += s.wait_min
        for a, b in itertools.pairwise(r.stops):
            if a.kind == b.kind == "hotspot" and a.site_id == b.site_id:
                # straight on to the next pass at the same place: shown as area patrol
                assert b.purpose.startswith(f"area patrol around {b.name}"), b
    assert long_hot <= 0.1 * window_min
    assert plan.metrics["long_waits"] >= 0


def test_hotter_hotspots_get_more_spread_passes(plan: DayPlan) -> None:
    hot = cool = 0
    for wp in plan.windows:
        if not wp.routes:
            continue
        visits: dict[str, list[dt.datetime]] = {}
        for r in wp.routes:
            for s in r.stops:
                if s.kind == "hotspot":
                    visits.setdefault(s.site_id, []).append(s.departure)
        ranked = sorted(wp.hotspots, key=lambda h: -h.value)
        half = len(ranked) // 2
        hot += sum(len(visits.get(h.id, [])) for h in ranked[:half])
        cool += sum(len(visits.get(h.id, [])) for h in ranked[len(ranked) - half :])
        for times in visits.values():  # passes of one place are spread, never back to back
            times.sort()
            for a, b in itertools.pairwise(times):
                assert (b - a).total_seconds() >= ROUTES.pass_gap * ROUTES.min_spacing_min * 60
    assert hot > cool  # the hotter half of each grid's hotspots gets more passes
    assert plan.metrics["extra_visits"] > 0  # spare time goes to extra passes


def heat_frequency(plan: DayPlan) -> dict[str, dict[str, float]]:
    """Per window, over the district: passes per hotspot against its value.

    ``top_q`` / ``bottom_q``: mean passes of the hottest / coolest quarter of the window's
    hotspots; ``top5_min``: fewest passes among its five hottest; ``rho``: Spearman rank
    correlation of value and passes.
    """
    from scipy.stats import spearmanr

    out: dict[str, dict[str, float]] = {}
    for label in sorted({wp.window.label() for wp in plan.windows}):
        made: dict[str, int] = {}
        hot = []
        for wp in plan.windows:
            if wp.window.label() != label:
                continue
            hot.extend(wp.hotspots)
            for r in wp.routes:
                for s in r.stops:
                    if s.kind == "hotspot":
                        made[s.site_id] = made.get(s.site_id, 0) + 1
        hot.sort(key=lambda h: -h.value)
        passes = [made.get(h.id, 0) for h in hot]
        q = max(1, len(hot) // 4)
        out[label] = {
            "top_q": sum(passes[:q]) / q,
            "bottom_q": sum(passes[-q:]) / q,
            "top5_min": float(min(passes[:5])),
            "rho": float(spearmanr([h.value for h in hot], passes).statistic),
        }
    return out


def test_hottest_hotspots_are_visited_most_often(plan: DayPlan) -> None:
    # Issue #5 is checked by "a demo plan whose hottest hotspots are visited more often".
    # Before extra passes ranked below every first pass and were offered by heat, the demo's
    # hottest place of a grid could get 1 pass while a place at 40 % of its value got 6; with
    # prizes that ignore heat, top and bottom quarters get the same passes.
    stats = heat_frequency(plan)
    assert set(stats) == {w.label() for w in DEFAULT_WINDOWS}
    for label, st in stats.items():
        # 4-hour windows: each of the five hottest places is patrolled more than once
        assert st["top5_min"] >= 2, (label, st)
        assert st["top_q"] >= 1.5 * st["bottom_q"], (label, st)
        assert st["rho"] >= 0.4, (label, st)


def test_passes_are_staggered_with_diminishing_prizes(demo: District) -> None:
    from optimizer.plan.build import build_problem
    from optimizer.risk.hotspots import hotspots_for_window
    from optimizer.staff.muster import choose_muster_points

    window = TimeWindow.parse("19:00-23:00")
    hot = hotspots_for_window(demo, day=MONDAY, window=window, grid_ids=["D-2"])
    plan = plan_day(demo, day=MONDAY, windows=[window], grid_ids=["D-2"])
    groups = [r.group for r in plan.routes]
    assert groups
    problem, _, cut = build_problem(
        demo,
        grid_id="D-2",
        day=MONDAY,
        window=window,
        groups=groups,
        hotspots=hot,
        posts=[],
        muster=choose_muster_points(demo, ["D-2"])["D-2"],
        params=ROUTES,
    )
    assert cut == []
    LOOP_S = round(ROUTES.loop_min * 60)
    for h in hot:
        copies = sorted((s for s in problem.sites if s.key == h.id), key=lambda s: s.visit_number)
        assert len(copies) >= max(1, h.visits)  # at least the recommended passes
        for s in copies[: max(1, h.visits)]:
            assert s.prize == pytest.approx(h.value)
        for a, b in itertools.pairwise(copies):
            assert b.prize <= a.prize and b.earliest_s > a.earliest_s
            assert b.min_spacing_s > 0
            # windows rise at both ends: passes numbered in visiting order keep their windows
            latest = [problem.horizon_s if s.latest_s is None else s.latest_s for s in (a, b)]
            assert latest[0] <= latest[1]
        if len(copies) > 1:
            assert copies[0].latest_s is not None  # the first pass is bounded too
    # every extra pass is worth less than any place's recommended pass
    extra = [s.prize for s in problem.sites if s.kind == "hotspot" and s.meta["extra"]]
    first = [s.prize for s in problem.sites if s.kind == "hotspot" and not s.meta["extra"]]
    assert extra and max(extra) < min(first)
    for h in hot:
        # each further pass has its own matrix row; staying on costs a loop of the hotspot
        locs = [s.location for s in problem.sites if s.key == h.id]
        assert len(set(locs)) == len(locs)
        for mode, d in problem.durations.items():
            for la, lb in itertools.permutations(locs, 2):
                assert d[la, lb] == LOOP_S, mode
            other = next((s.location for s in problem.sites if s.key != h.id), None)
            if other is not None:
                assert len({int(d[other, loc]) for loc in locs}) == 1  # same place, same way
    hottest = max(hot, key=lambda h: h.value)
    coolest = min(hot, key=lambda h: h.value)
    n_hot = sum(1 for s in problem.sites if s.key == hottest.id)
    assert n_hot > max(1, hottest.visits)  # extra passes are offered
    assert n_hot >= sum(1 for s in problem.sites if s.key == coolest.id)


def test_left_out_sites_have_reasons(plan: DayPlan) -> None:
    for wp in plan.windows:
        visited = {s.site_id for r in wp.routes for s in r.stops}
        for lo in wp.left_out:
            assert lo.reason and lo.grid_id == wp.grid_id and lo.kind in {"hotspot", "post"}
            assert lo.site_id not in visited, lo  # left out means no pass at all
    frame = plan.left_out_frame()
    assert len(frame) == sum(len(wp.left_out) for wp in plan.windows)
    assert list(frame.columns) == ["window", "grid", "site_id", "kind", "reason"]


def test_same_seed_same_plan(demo: District) -> None:
    # work-limited search: the same seed gives the same plan, whatever the machine's load
    kwargs = {"day": MONDAY, "windows": ["19:00-23:00"], "grid_ids": ["D-2"], "seed": 5}
    a = plan_day(demo, **kwargs)  # type: ignore[arg-type]
    b = plan_day(demo, **kwargs)  # type: ignore[arg-type]
    assert comparable(a) == comparable(b)
    assert a.metrics["time_cap_bound"] == 0
    other = plan_day(demo, **{**kwargs, "seed": 6})  # type: ignore[arg-type]
    assert comparable(other) != comparable(a)


def test_window_crossing_midnight(demo: District) -> None:
    night = plan_day(demo, day=MONDAY, windows=["22:00-02:00"])
    assert night.windows and night.routes  # night-shift officers and volunteers patrol
    for wp in night.windows:
        assert wp.end - wp.start == dt.timedelta(hours=4)
        assert wp.end.date() == MONDAY + dt.timedelta(days=1)
    _assert_feasible(demo, night)


def test_progress_is_reported(demo: District) -> None:
    calls: list[tuple[int, int, str]] = []
    plan_day(
        demo,
        day=MONDAY,
        windows=[TimeWindow.parse("19:00-23:00")],
        grid_ids=["D-1"],
        progress=lambda done, total, msg: calls.append((done, total, msg)),
    )
    assert calls and calls[-1][0] == calls[-1][1]
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)
    # the forecast (the slow first step on a fresh district) is announced before it runs
    assert calls[0] == (0, calls[0][1], "19:00-23:00: forecasting hotspots")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"windows": ["25:00-26:00"]}, "windows[0]"),
        ({"windows": []}, "windows"),
        ({"grid_ids": ["nowhere"]}, "grid_ids[0]"),
        ({"grid_level": 7}, "grid_level"),
        ({"workers": 0}, "workers"),
        ({"seed": -1}, "seed"),
        ({"day": "2026-11-30"}, "day"),
    ],
)
def test_bad_input_names_the_field(demo: District, kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as info:
        plan_day(demo, **{"day": MONDAY, **kwargs})  # type: ignore[arg-type]
    assert info.value.field == field


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: PlanParams(engine="simplex"), "engine"),
        (lambda: PlanParams(budget_s=0), "budget_s"),
        (lambda: PlanParams(budget_s=float("nan")), "budget_s"),
        (lambda: PlanParams(time_cap_s=-1), "time_cap_s"),
        (lambda: RouteParams(pass_gap=2), "routes.pass_gap"),
        (lambda: RouteParams(spacing_scales=(0.5, 1.0)), "routes.spacing_scales"),
    ],
)
def test_bad_params_name_the_field(make: Callable[[], object], field: str) -> None:
    with pytest.raises(InputError) as info:
        make()
    assert info.value.field == field


def test_plan_on_a_real_osm_extract(shared_osm: Path, tmp_path: Path) -> None:
    streets = pytest.importorskip(
        "optimizer.streets.graph", reason="optimizer.streets.graph not available"
    )
    G = streets.prepare_graph(streets.graph_from_osm_file(shared_osm / "shanghai_fengxian.osm"))
    district = synthetic_district("fengxian", G, seed=7)
    plan = plan_day(district, day=MONDAY, windows=["19:00-23:00"], seed=1)
    assert plan.routes, "no route on the Fengxian extract"
    _assert_feasible(district, plan)


def test_variation_changes_routes_within_the_value_bound(demo: District) -> None:
    from optimizer.plan.variation import VariationParams

    base = plan_day(demo, day=MONDAY, windows=["19:00-23:00"], seed=2)
    params = VariationParams(max_value_loss=0.05, strength=0.8)
    varied = plan_day(
        demo,
        day=MONDAY,
        windows=["19:00-23:00"],
        seed=2,
        params=PlanParams(variation=params),
        previous=base,
    )
    _assert_feasible(demo, varied)
    for wp in varied.windows:
        if wp.routes:
            assert wp.metrics["variation_loss"] <= 0.05 + 1e-9
    assert varied.settings["variation"]["max_value_loss"] == 0.05


def test_worker_processes_give_the_same_plan(demo: District) -> None:
    kwargs = {"day": MONDAY, "windows": ["14:00-18:00"], "grid_ids": ["D-1", "D-3"], "seed": 9}
    one = plan_day(demo, workers=1, **kwargs)  # type: ignore[arg-type]
    with LocalPool(2) as pool:
        two = plan_day(demo, executor=pool, **kwargs)  # type: ignore[arg-type]
        again = plan_day(demo, executor=pool, **kwargs)  # type: ignore[arg-type]  # kept warm
    assert comparable(one) == comparable(two) == comparable(again)


def test_stops_are_named_for_people(demo: District, plan: DayPlan) -> None:
    from optimizer.streets.names import place_name

    hotspot_stops = [s for r in plan.routes for s in r.stops if s.kind == "hotspot"]
    assert hotspot_stops and all(s.name for s in hotspot_stops)
    named = [s for s in hotspot_stops if s.name[:1].isupper() or s.name.startswith("near ")]
    assert len(named) >= len(hotspot_stops) // 2  # most are named after nearby streets
    node = next(iter(demo.graph.nodes))
    assert isinstance(place_name(demo.graph, node), str)


def test_an_unstaffable_post_does_not_sink_the_grid(demo: District) -> None:
    from dataclasses import replace

    from optimizer.plan.assemble import routes_from_solution
    from optimizer.plan.build import build_problem
    from optimizer.plan.solve import SolveJob, SolveSettings, solve_job
    from optimizer.risk.hotspots import hotspots_for_window
    from optimizer.staff.groups import PatrolGroup
    from optimizer.staff.muster import choose_muster_points

    window = TimeWindow.parse("07:00-11:00")
    group = PatrolGroup("G1", "D-1", window, ("O01",), ("T2-V01", "T2-V02"), "S1", "foot")
    post = next(p for p in demo.resources.posts if p.id == "P1")
    hot = hotspots_for_window(demo, day=MONDAY, window=window, grid_ids=["D-1"])
    problem, ctx, _ = build_problem(
        demo,
        grid_id="D-1",
        day=MONDAY,
        window=window,
        groups=[group],
        hotspots=hot,
        posts=[post],
        muster=choose_muster_points(demo, ["D-1"])["D-1"],
        params=ROUTES,
    )
    # The post must start the moment the group leaves its muster point, which is elsewhere.
    sites = tuple(replace(s, earliest_s=0, latest_s=0) if s.required else s for s in problem.sites)
    bad = replace(problem, sites=sites)
    outcome = solve_job(SolveJob(bad, 0, SolveSettings("patrol", 0.5)))
    assert outcome.metrics["posts_infeasible"] == 1.0
    routes, left = routes_from_solution(demo, bad, ctx, outcome.solution, ROUTES)
    assert [lo.site_id for lo in left if lo.kind == "post"] == ["P1"]
    assert routes and any(s.kind == "hotspot" for s in routes[0].stops)


def _volunteer_windows(day_plan: DayPlan) -> dict[str, set[str]]:
    windows: dict[str, set[str]] = {}
    for wp in day_plan.windows:
        for route in wp.routes:
            for vid in route.group.volunteer_ids:
                windows.setdefault(vid, set()).add(wp.window.label())
    return windows


def test_volunteer_hours_accumulate_across_the_days_windows(demo: District, plan: DayPlan) -> None:
    caps = {v.id: v.max_hours_week for v in demo.resources.volunteers}
    # Everyone has room for exactly one more 4-hour window this week.
    nearly_full = {vid: cap - 4.0 for vid, cap in caps.items()}
    capped = plan_day(demo, day=MONDAY, seed=3, volunteer_hours=nearly_full)
    served = _volunteer_windows(capped)
    assert served, "some volunteers should still be placed"
    assert all(len(w) == 1 for w in served.values()), served
    # Without the history, the same day places some volunteers in more than one window.
    assert any(len(w) > 1 for w in _volunteer_windows(plan).values())


class _Boost:
    """A hotspot adjustment: every hotspot of one cell worth ``factor`` times more."""

    def __init__(self, cell: str, factor: float) -> None:
        self.cell, self.factor = cell, factor

    def apply(self, hotspots, *, district, day, window):  # type: ignore[no-untyped-def]
        from dataclasses import replace

        return [
            replace(h, value=h.value * self.factor) if h.grid_id == self.cell else h
            for h in hotspots
        ]

    def describe(self, *, day: dt.date, window: TimeWindow) -> str:
        return f"{self.cell} x{self.factor:g}"


def test_adjustments_change_the_hotspots_and_the_plan_says_so(demo: District) -> None:
    kwargs = {"day": MONDAY, "windows": ["19:00-23:00"], "seed": 1}
    base = plan_day(demo, **kwargs)  # type: ignore[arg-type]
    boosted = plan_day(demo, adjustments=[_Boost("D-1", 20.0)], **kwargs)  # type: ignore[arg-type]
    assert boosted.settings["notes"] == ["19:00-23:00: D-1 x20"]
    assert base.settings["notes"] == []
    before = {wp.grid_id: len(wp.routes) for wp in base.windows}
    after = {wp.grid_id: len(wp.routes) for wp in boosted.windows}
    assert after["D-1"] > before["D-1"], (before, after)
    assert sum(after.values()) == sum(before.values())


@pytest.mark.slow
def test_plan_cuts_hotspots_with_the_plans_hotspot_params(demo: District) -> None:
    """``PlanParams.hotspots`` reaches the hotspots of every window and cell."""
    from optimizer.risk.hotspots import HotspotParams

    window = ("19:00-23:00",)
    default = plan_day(demo, day=DEMO_DAY, windows=window, params=PlanParams(budget_s=0.05))
    few = plan_day(
        demo,
        day=DEMO_DAY,
        windows=window,
        params=PlanParams(budget_s=0.05, hotspots=HotspotParams(max_per_grid=2)),
    )
    assert max(len(wp.hotspots) for wp in default.windows) > 2
    assert 0 < max(len(wp.hotspots) for wp in few.windows) <= 2
    with pytest.raises(InputError):
        PlanParams(hotspots=RouteParams())  # type: ignore[arg-type]
