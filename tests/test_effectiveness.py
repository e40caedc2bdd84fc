"""The effectiveness backtest: every metric on hand-made cases with known answers, the routes of
the baselines on a tiny street chain, and the proof that a day's plans never see that day or
anything after it."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from optimizer.district import District
from optimizer.errors import InputError
from optimizer.evaluate.effectiveness.backtest import (
    BEAT_LOOP,
    SERVICE,
    EffectivenessParams,
    EffectivenessResult,
    effectiveness_backtest,
    history_before,
    incidents_on,
    realised_risk,
)
from optimizer.evaluate.effectiveness.bounds import BOUND_RANKINGS, per_metre, top_streets
from optimizer.evaluate.effectiveness.metrics import (
    covered_incidents,
    incident_points,
    patrolled_length_m,
    positions_at,
    presence_minutes,
    random_moments,
    reach_shares,
    risk_weighted_minutes,
)
from optimizer.evaluate.effectiveness.strategies import (
    Duty,
    UniformForecast,
    beat_loop,
    beat_loop_traces,
    loop_patrol,
    random_traces,
    run_duty,
    walk_loop,
)
from optimizer.evaluate.effectiveness.traces import SegmentLookup, Trace, TraceBuilder
from optimizer.plan.params import PlanParams
from optimizer.risk.forecaster import ForecastParams, fit_forecast
from optimizer.risk.incidents import street_segments
from optimizer.streets.network import StreetRouter
from optimizer.timewindow import TimeWindow
from tests.risk_data import lattice, synthetic_history

CRS = "EPSG:32635"
X0, Y0 = 500_000.0, 6_670_000.0
START = dt.datetime(2026, 3, 2, 19, 0)


def chain(n: int = 6, spacing: float = 100.0) -> nx.MultiDiGraph:
    """Nodes 1..n on a straight east-west street, ``spacing`` m apart, walked at 1 m/s.

    Cars and bicycles go 10 m/s; every edge is two-way.
    """
    G = nx.MultiDiGraph(crs=CRS)
    to_wgs = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    for i in range(1, n + 1):
        x, y = X0 + (i - 1) * spacing, Y0
        lon, lat = to_wgs.transform(x, y)
        G.add_node(i, x=x, y=y, lon=lon, lat=lat)
    for i in range(1, n):
        for a, b in ((i, i + 1), (i + 1, i)):
            G.add_edge(
                a,
                b,
                0,
                length=spacing,
                highway="residential",
                travel_time_foot=spacing / 1.0,
                travel_time_bicycle=spacing / 10.0,
                travel_time_car=spacing / 10.0,
            )
    return G


@pytest.fixture
def streets() -> nx.MultiDiGraph:
    return chain()


@pytest.fixture
def lookup(streets: nx.MultiDiGraph) -> SegmentLookup:
    return SegmentLookup(streets)


@pytest.fixture
def router(streets: nx.MultiDiGraph) -> StreetRouter:
    return StreetRouter(streets)


def seg(lookup: SegmentLookup, a: int, b: int) -> int:
    """Segment of the street between nodes a and b."""
    return lookup.of_edge[(a, b, 0)]


def trace(segments: list[int], t0: list[float], t1: list[float], mode: str = "foot") -> Trace:
    return Trace(
        "test",
        "19:00-23:00",
        "C1",
        "g1",
        mode,
        START,
        np.asarray(segments, dtype=np.int64),
        np.asarray(t0, dtype=float),
        np.asarray(t1, dtype=float),
    )


# ---------------------------------------------------------------------------------------------
# incidents on or within 50 m of a patrolled segment


def test_incidents_within_radius_of_a_patrolled_segment(
    streets: nx.MultiDiGraph, lookup: SegmentLookup
) -> None:
    geoms = np.asarray(street_segments(streets).geometry.values, dtype=object)
    s12 = seg(lookup, 1, 2)
    # beside the segment 1-2 (x from X0 to X0 + 100) at 0, 30, 50 and 50.5 m; beyond its end
    # at node 1 by 40 m (distance 40), and 120 m away
    points = [
        (X0 + 50, Y0),
        (X0 + 50, Y0 + 30),
        (X0 + 50, Y0 - 50),
        (X0 + 50, Y0 + 50.5),
        (X0 - 40, Y0),
        (X0 + 50, Y0 + 120),
    ]
    got = covered_incidents(points, geoms, [s12], radius_m=50.0)
    assert got.tolist() == [True, True, True, False, True, False]
    # an incident by segment 3-4 is not covered by patrolling 1-2 only, and is by 3-4
    far = [(X0 + 250, Y0 + 10)]
    assert covered_incidents(far, geoms, [s12]).tolist() == [False]
    assert covered_incidents(far, geoms, [s12, seg(lookup, 3, 4)]).tolist() == [True]
    # nothing patrolled: nothing covered; no incidents: an empty answer
    assert covered_incidents(points, geoms, []).tolist() == [False] * 6
    assert covered_incidents(np.zeros((0, 2)), geoms, [s12]).tolist() == []


def test_incident_points_are_projected_to_the_streets_crs(streets: nx.MultiDiGraph) -> None:
    lon, lat = streets.nodes[3]["lon"], streets.nodes[3]["lat"]
    xy = incident_points(pd.DataFrame({"lon": [lon], "lat": [lat]}), CRS)
    assert xy[0] == pytest.approx([X0 + 200, Y0], abs=1e-3)


# ---------------------------------------------------------------------------------------------
# presence and risk-weighted minutes


def test_presence_minutes_and_risk_weighting(lookup: SegmentLookup) -> None:
    a, b = seg(lookup, 1, 2), seg(lookup, 2, 3)
    t1 = trace([a, b, a], [0, 600, 900], [600, 900, 1200])  # 10 min on a, 5 on b, 5 on a
    t2 = trace([b], [0], [1800])  # 30 min on b
    n = len(lookup.segments)
    minutes = presence_minutes([t1, t2], n)
    assert minutes[a] == pytest.approx(15.0)
    assert minutes[b] == pytest.approx(35.0)
    assert minutes.sum() == pytest.approx(50.0)
    risk = np.zeros(n)
    risk[a], risk[b] = 2.0, 0.5
    assert risk_weighted_minutes(minutes, risk) == pytest.approx(15 * 2 + 35 * 0.5)
    # distinct streets: 1-2 and 2-3 once each, however often walked
    length = lookup.segments["length"].to_numpy()
    assert patrolled_length_m([t1, t2], length) == pytest.approx(200.0)
    assert patrolled_length_m([], length) == 0.0
    assert presence_minutes([], n).sum() == 0.0


def test_realised_risk_counts_incidents_at_the_windows_hours(
    streets: nx.MultiDiGraph, lookup: SegmentLookup
) -> None:
    tz = "Europe/Helsinki"
    frame = pd.DataFrame(
        {
            "u": [1, 2, 1, 3],
            "v": [2, 1, 2, 4],
            "key": [0, 0, 0, 0],
            "occurred_at": pd.DatetimeIndex(
                ["2026-03-02 19:30", "2026-03-03 22:59", "2026-03-03 08:00", "2026-03-04 00:00"]
            ).tz_localize(tz),
            "date_only": [False, False, False, True],
        }
    )
    evening = realised_risk(frame, streets, TimeWindow.parse("19:00-23:00"), tz)
    morning = realised_risk(frame, streets, TimeWindow.parse("07:00-11:00"), tz)
    a, c = seg(lookup, 1, 2), seg(lookup, 3, 4)
    assert evening[a] == 2 and morning[a] == 1  # the 2 -> 1 edge is the same street
    assert evening[c] == morning[c] == 1  # a date only counts in every window
    assert evening.sum() == 3 and morning.sum() == 2
    assert realised_risk(frame.iloc[:0], streets, TimeWindow.parse("07:00-11:00"), tz).sum() == 0


def test_trace_position_and_patrolled_streets(lookup: SegmentLookup) -> None:
    a, b = seg(lookup, 1, 2), seg(lookup, 2, 3)
    t = trace([a, b], [60, 160], [160, 260])
    assert t.at(0) == -1  # not yet on duty
    assert t.at(60) == a
    assert t.at(159.9) == a
    assert t.at(200) == b
    assert t.at(260) == -1  # done
    assert sorted(t.patrolled().tolist()) == sorted([a, b])
    assert t.minutes == pytest.approx(200 / 60)
    assert positions_at([t, trace([], [], [])], 100) == [(a, "foot")]


# ---------------------------------------------------------------------------------------------
# the 3 / 5 minute circle


def test_reach_shares_on_a_chain(router: StreetRouter, lookup: SegmentLookup) -> None:
    segs = lookup.segments
    area = np.ones(len(segs), dtype=bool)
    # on foot (1 m/s) on segment 1-2: nodes 1, 2 at 0 s, 3 at 100 s, 4 at 200 s, 5 at 300 s
    where = [(seg(lookup, 1, 2), "foot")]
    got = reach_shares(where, router, segs, area, minutes=(1.0, 3.0, 5.0))
    assert got[1.0] == pytest.approx(2 / 5)  # 1-2 (there), 2-3 (from node 2)
    assert got[3.0] == pytest.approx(3 / 5)  # and 3-4 (node 3 at 100 s)
    assert got[5.0] == pytest.approx(5 / 5)  # node 4 at 200 s, node 5 at 300 s
    # by bicycle (10 m/s) every node is within 40 s
    bike = reach_shares([(seg(lookup, 1, 2), "bicycle")], router, segs, area, minutes=(1.0,))
    assert bike[1.0] == pytest.approx(1.0)
    # two groups: 1-2 and 5-6 on foot, 1 minute: 1-2, 2-3, 4-5, 5-6
    two = [(seg(lookup, 1, 2), "foot"), (seg(lookup, 5, 6), "foot")]
    assert reach_shares(two, router, segs, area, minutes=(1.0,))[1.0] == pytest.approx(4 / 5)
    # only part of the streets measured: the area 3-4, 4-5 and nobody on duty
    part = np.zeros(len(segs), dtype=bool)
    part[[seg(lookup, 3, 4), seg(lookup, 4, 5)]] = True
    assert reach_shares(where, router, segs, part, minutes=(3.0,))[3.0] == pytest.approx(0.5)
    assert reach_shares([], router, segs, area, minutes=(5.0,))[5.0] == 0.0


def test_random_moments_are_seeded_and_inside_the_window() -> None:
    a = random_moments(np.random.default_rng(1), 0.0, 14_400.0, 8)
    b = random_moments(np.random.default_rng(1), 0.0, 14_400.0, 8)
    assert a.tolist() == b.tolist()
    assert (a >= 0).all() and (a < 14_400).all() and list(a) == sorted(a)


# ---------------------------------------------------------------------------------------------
# routes become traces


def test_builder_follows_streets_at_their_travel_times(
    router: StreetRouter, lookup: SegmentLookup
) -> None:
    b = TraceBuilder(router, lookup, node=1, mode="foot", start_s=0.0, end_s=250.0)
    assert b.go(4)
    t = b.trace(strategy="x", window="w", grid_id="C", group_id="g", start=START)
    assert t.segments.tolist() == [seg(lookup, 1, 2), seg(lookup, 2, 3), seg(lookup, 3, 4)]
    assert t.t0_s.tolist() == [0.0, 100.0, 200.0]
    assert t.t1_s.tolist() == [100.0, 200.0, 250.0]  # cut at the end of duty
    assert b.done


def test_builder_stays_on_a_hotspots_streets_by_length(
    router: StreetRouter, lookup: SegmentLookup
) -> None:
    b = TraceBuilder(router, lookup, node=3, mode="foot", start_s=60.0, end_s=3600.0)
    hot = [seg(lookup, 2, 3), seg(lookup, 3, 4)]
    b.stay(600.0, hot)
    b.wait_until(900.0)  # at the node: on a segment touching node 3
    t = b.trace(strategy="x", window="w", grid_id="C", group_id="g", start=START)
    assert t.segments[:2].tolist() == hot
    assert (t.t1_s - t.t0_s)[:2].tolist() == [300.0, 300.0]
    assert t.segments[2] in {seg(lookup, 2, 3), seg(lookup, 3, 4)}
    assert t.last_s == 900.0 and t.first_s == 60.0
    assert t.minutes == pytest.approx(14.0)


# ---------------------------------------------------------------------------------------------
# the baselines


def duty(node: int, group: str = "g1", end_s: float = 3600.0) -> Duty:
    return Duty("19:00-23:00", START, "C1", group, "foot", node, 0.0, end_s)


def test_beat_loop_walks_every_street_of_the_cell_in_order(
    router: StreetRouter, lookup: SegmentLookup
) -> None:
    cell = np.arange(len(lookup.segments))
    assert beat_loop(router, lookup.segments, cell, start=1, mode="foot") == [1, 2, 3, 4, 5, 6, 1]
    # from the middle: the nearer end first, then on
    loop = beat_loop(router, lookup.segments, cell, start=3, mode="foot")
    assert loop[0] == 3 and loop[-1] == 3
    walked = {tuple(sorted(p)) for p in itertools.pairwise(loop)}
    assert {(1, 2), (2, 3), (3, 4), (4, 5), (5, 6)} <= walked


def test_beat_loop_groups_share_the_hours_and_spread_along_the_loop(
    router: StreetRouter, lookup: SegmentLookup
) -> None:
    cells = {"C1": np.arange(len(lookup.segments))}
    duties = [duty(1, "g1", 1000.0), duty(1, "g2", 1000.0)]
    loops: dict[tuple[str, int, str], list[int]] = {}
    traces = beat_loop_traces(duties, router, lookup, cells, loops=loops)
    assert [t.minutes for t in traces] == pytest.approx([1000 / 60, 1000 / 60])
    assert len(loops) == 1  # computed once, kept for the next days
    # g1 starts along the loop at once; g2 first walks to the loop's middle (node 4)
    assert traces[0].segments[0] == seg(lookup, 1, 2)
    assert traces[1].segments[:3].tolist() == [seg(lookup, i, i + 1) for i in (1, 2, 3)]
    assert traces[1].segments[3] == seg(lookup, 4, 5)


def test_walk_loop_on_a_single_place_stays_there(
    router: StreetRouter, lookup: SegmentLookup
) -> None:
    b = TraceBuilder(router, lookup, node=2, mode="foot", start_s=0.0, end_s=300.0)
    walk_loop(b, [2, 2], 0)
    assert b.done and b.clock == 300.0


def test_builder_keeps_time_to_reach_a_post(router: StreetRouter, lookup: SegmentLookup) -> None:
    b = TraceBuilder(router, lookup, node=3, mode="foot", start_s=0.0, end_s=3600.0)
    b.until(400.0, 1)  # node 1 is 200 s from node 3: 200 s to spare
    b.stay(500.0)
    assert b.clock == pytest.approx(200.0) and b.blocked and b.done
    assert b.node == 3
    b.release()
    assert not b.done
    b.go(1)
    assert b.clock == pytest.approx(400.0)  # at the post in time


def test_baselines_keep_the_services_post_duties(
    router: StreetRouter, lookup: SegmentLookup
) -> None:
    cell = np.arange(len(lookup.segments))
    post = Duty("07:00-11:00", START, "C1", "g1", "foot", 1, 0.0, 2000.0, ((6, 1000.0, 1300.0),))
    t = run_duty(router, lookup, post, loop_patrol([1, 2, 3, 4, 5, 6, 1], 0), "beat_loop")
    assert t.minutes == pytest.approx(2000 / 60)
    gate = lookup.at_node[6]
    assert all(t.at(x) == gate for x in (1000.0, 1150.0, 1299.0))
    assert t.last_s == 2000.0
    random = random_traces([post], router, lookup, {"C1": cell}, seed=2)[0]
    assert random.at(1100.0) == gate and random.minutes == pytest.approx(2000 / 60)


def test_random_routes_are_seeded_and_keep_the_hours(
    router: StreetRouter, lookup: SegmentLookup
) -> None:
    cells = {"C1": np.arange(len(lookup.segments))}
    a = random_traces([duty(1)], router, lookup, cells, seed=4)
    b = random_traces([duty(1)], router, lookup, cells, seed=4)
    assert a[0].segments.tolist() == b[0].segments.tolist()
    assert a[0].minutes == pytest.approx(60.0)
    assert a[0].strategy == "random"


# ---------------------------------------------------------------------------------------------
# parameters, tables


def test_params_are_checked() -> None:
    with pytest.raises(InputError):
        EffectivenessParams(windows=("25:00-26:00",))
    with pytest.raises(InputError):
        EffectivenessParams(strategies=("oracle",))
    with pytest.raises(InputError):
        EffectivenessParams(radius_m=-1.0)


def test_summary_pools_days_and_compares_with_the_beat_loop() -> None:
    rows = []
    for day, (s_cov, b_cov) in (("2026-03-02", (6, 3)), ("2026-03-03", (3, 3))):
        for name, cov in ((SERVICE, s_cov), (BEAT_LOOP, b_cov)):
            rows.append(
                {
                    "day": day,
                    "strategy": name,
                    "groups": 2,
                    "hours": 8.0,
                    "incidents": 10 if day == "2026-03-02" else 5,
                    "covered": cov,
                    "share": cov / (10 if day == "2026-03-02" else 5),
                    "patrolled_km": 1.0,
                    "risk_minutes": 4.0 if name == SERVICE else 2.0,
                    "reach@3min": 0.5,
                }
            )
    result = EffectivenessResult(pd.DataFrame(rows), {}, EffectivenessParams())
    s = result.summary()
    assert s.loc[SERVICE, "share"] == pytest.approx(9 / 15)
    assert s.loc[BEAT_LOOP, "share"] == pytest.approx(6 / 15)
    assert s.loc[SERVICE, "share_vs_beat_loop"] == pytest.approx(1.5)
    assert s.loc[SERVICE, "risk_vs_beat_loop"] == pytest.approx(2.0)
    assert s.loc[BEAT_LOOP, "hours_ratio"] == pytest.approx(1.0)
    # the interval is around the mean daily share (0.6 and 0.6 for the service: no spread)
    assert s.loc[SERVICE, "share_lo"] == pytest.approx(0.6)
    assert s.loc[BEAT_LOOP, "share_lo"] < 0.45 < s.loc[BEAT_LOOP, "share_hi"]
    assert len(result.to_frame()) == 4


def test_top_streets_spend_the_length_on_the_best_streets_per_metre() -> None:
    length = np.array([100.0, 50.0, 200.0, 100.0, 10.0])
    risk = per_metre([1, 4, 2, 0, 5], length)  # 0.01, 0.08, 0.01, 0, 0.5 (0.5: a 10 m segment)
    # candidates exclude segment 4 (outside the planned cells)
    cand = [0, 1, 2, 3]
    assert top_streets(risk, cand, length, length_m=50).tolist() == [1]
    # the last segment taken may pass the length; ties keep the candidates' order
    assert top_streets(risk, cand, length, length_m=60).tolist() == [1, 0]
    assert top_streets(risk, cand, length, length_m=151).tolist() == [1, 0, 2]
    # more length than the cells hold: every candidate, unscored ones last
    assert top_streets(risk, cand, length, length_m=1e6).tolist() == [1, 0, 2, 3]
    assert top_streets(risk, cand, length, length_m=0).tolist() == []
    assert per_metre([3], [0.5]).tolist() == [3.0]  # shorter than a metre counts as one


def test_bounds_summary_compares_with_the_beat_loop() -> None:
    days = pd.DataFrame(
        [
            {"day": d, "strategy": BEAT_LOOP, "incidents": n, "covered": c, "share": c / n}
            for d, n, c in (("2026-03-02", 10, 4), ("2026-03-03", 10, 2))
        ]
    )
    bounds = pd.DataFrame(
        [
            {"day": "2026-03-02", "incidents": 10, "length_km": 5.0}
            | {"covered_forecast": 6, "covered_counts": 5, "covered_hindsight": 10},
            {"day": "2026-03-03", "incidents": 10, "length_km": 5.0}
            | {"covered_forecast": 3, "covered_counts": 4, "covered_hindsight": 9},
        ]
    )
    b = EffectivenessResult(days, {}, EffectivenessParams(), bounds=bounds).bounds_summary()
    assert list(b.index) == list(BOUND_RANKINGS)
    assert b.loc["forecast", "share"] == pytest.approx(9 / 20)
    assert b.loc["forecast", "share_vs_beat_loop"] == pytest.approx((9 / 20) / (6 / 20))
    assert b.loc["hindsight", "covered"] == 19
    assert EffectivenessResult(days, {}, EffectivenessParams()).bounds_summary().empty


# ---------------------------------------------------------------------------------------------
# the backtest cannot see its test days


def incidents_frame(times: list[str], tz: str = "Europe/Helsinki") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "incident_id": [f"I{i}" for i in range(len(times))],
            "occurred_at": pd.DatetimeIndex(pd.to_datetime(times)).tz_localize(tz),
        }
    )


def test_history_before_stops_at_local_midnight() -> None:
    inc = incidents_frame(
        ["2026-03-01 23:59", "2026-03-02 00:00", "2026-03-02 19:30", "2026-03-03 01:00"]
    )
    day = dt.date(2026, 3, 2)
    past = history_before(inc, day, "Europe/Helsinki")
    assert past["incident_id"].tolist() == ["I0"]
    assert incidents_on(inc, day, "Europe/Helsinki")["incident_id"].tolist() == ["I1", "I2"]
    # 23:30 UTC on the 1st is already the 2nd in Helsinki: not history
    utc = incidents_frame(["2026-03-01 21:59", "2026-03-01 23:30"], tz="UTC")
    assert history_before(utc, day, "Europe/Helsinki")["incident_id"].tolist() == ["I0"]


def poisoned(inc: pd.DataFrame, after: pd.Timestamp, seed: int) -> pd.DataFrame:
    """Scramble every incident from ``after`` on and add 400 more, all on one street."""
    rng = np.random.default_rng(seed)
    when = pd.DatetimeIndex(inc["occurred_at"])
    late = np.asarray(when >= after)
    out = inc.copy()
    out.loc[late, ["u", "v", "key", "lon", "lat"]] = (
        out.loc[late, ["u", "v", "key", "lon", "lat"]].sample(frac=1.0, random_state=seed).values
    )
    first = inc.iloc[[0] * 400].copy()
    first["incident_id"] = [f"POISON{i}" for i in range(400)]
    first["occurred_at"] = after + pd.to_timedelta(rng.uniform(0, 5, size=400), unit="D")
    return pd.concat([out, first], ignore_index=True)


@pytest.mark.slow
def test_backtest_cannot_see_its_test_days(demo: District) -> None:
    """Poisoning every incident after the evaluated day changes nothing the backtest reports,
    and no day's plans were given an incident of that day or later."""
    assert demo.incidents is not None
    inc = demo.incidents
    tz = str(demo.metadata["timezone"])
    last = pd.DatetimeIndex(inc["occurred_at"]).tz_convert(tz).max().date()
    day = last - dt.timedelta(days=6)
    params = EffectivenessParams(
        windows=("19:00-23:00",),
        plan=PlanParams(budget_s=0.05),
        strategies=(SERVICE, BEAT_LOOP),
        moments_per_window=2,
    )
    clean = effectiveness_backtest(demo, inc, [day], params=params)
    after = pd.Timestamp(day + dt.timedelta(days=1)).tz_localize(tz)
    dirty = effectiveness_backtest(demo, poisoned(inc, after, 1), [day], params=params)
    pd.testing.assert_frame_equal(clean.days, dirty.days)
    pd.testing.assert_frame_equal(clean.bounds, dirty.bounds)
    (bound,) = clean.bounds.to_dict("records")
    beat = clean.days[clean.days["strategy"] == BEAT_LOOP].iloc[0]
    assert bound["incidents"] == beat["incidents"]
    assert bound["length_km"] == pytest.approx(beat["patrolled_km"])
    for ranking in BOUND_RANKINGS:
        assert 0 <= bound[f"covered_{ranking}"] <= bound["incidents"]
    end = pd.Timestamp(clean.history_end[day.isoformat()])
    assert end < pd.Timestamp(day).tz_localize(tz)
    # the baselines get the service's groups and hours, exactly
    s = clean.summary()
    assert s.loc[BEAT_LOOP, "hours_ratio"] == pytest.approx(1.0)
    assert s.loc[SERVICE, "groups"] == s.loc[BEAT_LOOP, "groups"] > 0
    assert clean.days["incidents"].iloc[0] > 0


@pytest.mark.shared
def test_sf_september_days_are_planned_from_july_and_august_only(shared: Path) -> None:
    from optimizer.risk.incidents import read_incidents

    inc = read_incidents(
        shared / "data" / "incidents" / "sf_2012_q3.csv",
        columns={"incident_id": "incident_num", "occurred_at": "date"},
        tz="America/Los_Angeles",
    ).incidents
    tz = "America/Los_Angeles"
    day = dt.date(2012, 9, 1)
    past = history_before(inc, day, tz)
    when = pd.DatetimeIndex(past["occurred_at"]).tz_convert(tz)
    assert len(past) > 0 and when.max() < pd.Timestamp("2012-09-01", tz=tz)
    assert set(when.month) == {7, 8}
    today = incidents_on(inc, day, tz)
    assert len(today) > 0
    assert set(pd.DatetimeIndex(today["occurred_at"]).tz_convert(tz).day) == {1}
    assert len(past) + len(today) + len(incidents_on(inc, dt.date(2012, 9, 2), tz)) <= len(inc)


@pytest.mark.slow
def test_benchmark_runs_on_the_demo_and_ends_with_one_json_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from benchmarks import effectiveness as bench

    code = bench.main(
        ["--city", "demo", "--days", "1", "--window", "19:00-23:00", "--budget", "0.05"]
    )
    assert code == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["benchmark"] == "effectiveness"
    assert set(figures["strategies"]) == {
        "service",
        "beat_loop",
        "random",
        "greedy_hotspot",
        "service_uniform",
    }
    assert figures["strategies"]["beat_loop"]["hours_ratio"] == pytest.approx(1.0)
    assert figures["windows"] == ["19:00-23:00"]
    (day,) = figures["days"]
    assert figures["history_end"][day] < day  # the day's plans ended their history before it
    assert isinstance(figures["target_met"], bool)
    assert set(figures["bounds"]) == {"forecast", "counts", "hindsight"}
    hindsight = figures["bounds"]["hindsight"]
    assert 0 <= hindsight["share"] <= 1


def test_uniform_forecast_spreads_each_categorys_total_evenly() -> None:
    G = lattice(4)
    base = fit_forecast(
        G, synthetic_history(G, weeks=3, seed=1), ForecastParams(validation_weeks=0)
    )
    flat = UniformForecast(base)
    at = pd.Timestamp("2024-01-22 19:00", tz="UTC")
    window = TimeWindow.parse("19:00-23:00")
    b = base.risk(at, window=window, by_category=True)
    u = flat.risk(at, window=window, by_category=True)
    length = base.length
    assert u.shape == b.shape
    assert np.allclose(u, u[:, :1])  # the same per metre on every street
    assert np.allclose((u * length).sum(axis=1), (b * length).sum(axis=1))  # totals kept
    assert np.allclose(flat.risk(at, window=window), u.sum(axis=0))
