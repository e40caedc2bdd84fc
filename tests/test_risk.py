"""Risk model: decay, profiles and near repeats on hand-made graphs with known answers."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from optimizer.errors import InputError
from optimizer.risk.incidents import street_segments
from optimizer.risk.model import (
    RiskParams,
    estimate_profile,
    fit_risk,
    network_kernel,
    window_hours,
)
from optimizer.timewindow import TimeWindow

CRS = "EPSG:32635"


def line_graph(lines: list[tuple[float, int]], spacing: float = 100.0) -> nx.MultiDiGraph:
    """Parallel straight streets (y, node count), unconnected, two-way, ``spacing`` apart."""
    G = nx.MultiDiGraph(crs=CRS)
    to_wgs = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    nid = 0
    for y, count in lines:
        for i in range(count):
            x = 500_000.0 + i * spacing
            lon, lat = to_wgs.transform(x, 6_670_000.0 + y)
            G.add_node(nid, x=x, y=6_670_000.0 + y, lon=lon, lat=lat)
            if i:
                G.add_edge(nid - 1, nid, 0, length=spacing)
                G.add_edge(nid, nid - 1, 0, length=spacing)
            nid += 1
    return G


def seg_of(G: nx.MultiDiGraph, u: int, v: int) -> int:
    segs = street_segments(G)
    hit = segs.index[(segs["u"] == min(u, v)) & (segs["v"] == max(u, v))]
    return int(hit[0])


def incidents(
    rows: list[tuple[str, int, int, str, str]], *, date_only: bool = False
) -> pd.DataFrame:
    """Rows of (id, u, v, local time 'YYYY-MM-DD HH:MM', category) in UTC."""
    return pd.DataFrame(
        {
            "incident_id": [r[0] for r in rows],
            "u": [r[1] for r in rows],
            "v": [r[2] for r in rows],
            "key": 0,
            "occurred_at": pd.to_datetime([r[3] for r in rows]).tz_localize("UTC"),
            "category": [r[4] for r in rows],
            "date_only": date_only,
        }
    )


def test_window_hours_and_profile_known_answers() -> None:
    cover = window_hours(TimeWindow.parse("22:30-01:00"))
    assert cover[22] == pytest.approx(0.5)
    assert cover[23] == pytest.approx(1.0) and cover[0] == pytest.approx(1.0)
    assert cover.sum() == pytest.approx(2.5)
    counts = np.zeros(24)
    counts[22] = 10
    assert estimate_profile(counts, np.ones(24), 0.0)[22] == pytest.approx(24.0)
    # 10 observed + 24 pseudo spread evenly: hour 22 gets (10 + 1) / 34 of the day
    prof = estimate_profile(counts, np.ones(24), 24.0)
    assert prof[22] == pytest.approx(24 * 11 / 34)
    assert prof.mean() == pytest.approx(1.0)


def test_half_life_halves_weight_on_unconnected_streets() -> None:
    G = line_graph([(0.0, 2), (5000.0, 2)])
    a, b = seg_of(G, 0, 1), seg_of(G, 2, 3)
    p = RiskParams(half_life_days=10.0, near_repeat_weight=0.0)
    inc = incidents(
        [("A", 0, 1, "2024-01-21 00:00", "theft"), ("B", 2, 3, "2024-01-11 00:00", "theft")]
    )
    model = fit_risk(G, inc, p)
    rates = model.category_rates(pd.Timestamp("2024-01-21", tz="UTC")).sum(axis=0)
    assert rates[a] / rates[b] == pytest.approx(2.0, rel=1e-9)
    # ten more days: both halve, the ratio stays
    later = model.category_rates(pd.Timestamp("2024-01-31", tz="UTC")).sum(axis=0)
    assert later[a] / later[b] == pytest.approx(2.0, rel=1e-9)


def test_kernel_conserves_mass_and_decreases_with_distance() -> None:
    G = line_graph([(0.0, 30)])
    K = network_kernel(G, 100.0)
    L = street_segments(G)["length"].to_numpy()
    n = np.zeros(len(L))
    n[seg_of(G, 14, 15)] = 3.0
    k = np.asarray(K.weights.T @ (n / K.norm)).ravel()
    assert (k * L).sum() == pytest.approx(3.0)
    s = seg_of(G, 14, 15)
    assert k[s] > k[seg_of(G, 15, 16)] > k[seg_of(G, 16, 17)] > 0
    # cut at 2.5 bandwidths: 300 m away along the street is outside
    assert k[seg_of(G, 17, 18)] == 0.0
    dist = K.distance(np.array([K.weights[s, seg_of(G, 15, 16)]]))
    assert dist[0] == pytest.approx(100.0)


def test_network_distance_not_straight_line() -> None:
    # Two parallel streets 50 m apart, joined only at their west ends: close in the plane,
    # 1 km apart along the streets at the east end.
    G = line_graph([(0.0, 11), (50.0, 11)])
    G.add_edge(0, 11, 0, length=50.0)
    G.add_edge(11, 0, 0, length=50.0)
    K = network_kernel(G, 100.0)
    east_a, east_b = seg_of(G, 9, 10), seg_of(G, 20, 21)
    assert K.weights[east_a, east_b] == 0.0
    west_a, west_b = seg_of(G, 0, 1), seg_of(G, 11, 12)
    assert K.weights[west_a, west_b] > 0.0


def test_time_of_day_profiles_give_different_window_hotspots() -> None:
    G = line_graph([(0.0, 2), (5000.0, 2)])
    night, morning = seg_of(G, 0, 1), seg_of(G, 2, 3)
    rows = [(f"N{i}", 0, 1, f"2024-01-{i + 1:02d} 21:30", "dispute") for i in range(20)]
    rows += [(f"M{i}", 2, 3, f"2024-01-{i + 1:02d} 07:30", "pickpocketing") for i in range(20)]
    model = fit_risk(G, incidents(rows), RiskParams(profile_prior=0.0))
    at = pd.Timestamp("2024-02-01", tz="UTC")
    evening = model.risk(at, window=TimeWindow.parse("19:00-23:00"))
    early = model.risk(at, window=TimeWindow.parse("07:00-09:00"))
    assert evening[night] > 0 and evening[morning] == 0
    assert early[morning] > 0 and early[night] == 0


def test_day_of_week_profile() -> None:
    G = line_graph([(0.0, 2)])
    s = seg_of(G, 0, 1)
    saturdays = pd.date_range("2024-01-06", periods=8, freq="7D")
    rows = [(f"S{i}", 0, 1, f"{d:%Y-%m-%d} 12:00", "theft") for i, d in enumerate(saturdays)]
    model = fit_risk(G, incidents(rows), RiskParams(profile_prior=7.0))
    at = pd.Timestamp("2024-03-01", tz="UTC")
    sat = model.risk(at, day=pd.Timestamp("2024-03-02"))[s]
    mon = model.risk(at, day=pd.Timestamp("2024-03-04"))[s]
    # 8 Saturdays + 7 pseudo-days spread evenly: Saturday (8+1)/15, Monday 1/15 of the week
    assert sat / mon == pytest.approx(9.0)


def test_date_only_incidents_leave_hour_profile_to_defaults() -> None:
    G = line_graph([(0.0, 2)])
    rows = [(f"D{i}", 0, 1, f"2024-01-{i + 1:02d} 00:00", "vehicle_break_in") for i in range(10)]
    model = fit_risk(G, incidents(rows, date_only=True))
    hours, _ = model.profiles()
    from optimizer.risk.categories import VOCABULARY

    assert np.allclose(hours[0], np.asarray(VOCABULARY["vehicle_break_in"].hourly))


def test_near_repeat_raises_nearby_risk_for_days() -> None:
    G = line_graph([(0.0, 12)])
    fresh = seg_of(G, 5, 6)
    near = seg_of(G, 6, 7)
    # a steady far-away background that goes on after the spike (so time runs on)
    days = pd.date_range("2024-01-01", "2024-02-29", freq="D")
    base_rows = [(f"B{i}", 0, 1, f"{d:%Y-%m-%d} 11:00", "theft") for i, d in enumerate(days)]
    spike = [("X", 5, 6, "2024-02-01 12:00", "theft")]
    p = RiskParams(near_repeat_weight=0.5, near_repeat_half_life_days=3.0)
    with_nr = fit_risk(G, incidents(base_rows + spike), p)
    without = fit_risk(G, incidents(base_rows), p)

    def boost(days: float) -> float:
        at = pd.Timestamp("2024-02-01 12:00", tz="UTC") + pd.Timedelta(days=days)
        return float(with_nr.risk(at)[near] - without.risk(at)[near])

    assert boost(1) > 0
    assert boost(1) > 3 * boost(21)  # the raise fades within weeks
    plain = RiskParams(near_repeat_weight=0.0)
    a = fit_risk(G, incidents(base_rows + spike), plain)
    b = fit_risk(G, incidents(base_rows), plain)
    at1 = pd.Timestamp("2024-02-02 12:00", tz="UTC")
    assert boost(1) > float(a.risk(at1)[near] - b.risk(at1)[near])
    assert with_nr.risk(at1)[fresh] > with_nr.risk(at1)[near]


def test_incremental_add_equals_full_fit_and_skips_duplicates() -> None:
    G = line_graph([(0.0, 20), (300.0, 20)])
    rng = np.random.default_rng(3)
    rows = []
    for i in range(300):
        u = int(rng.integers(0, 19)) + (20 if i % 2 else 0)
        day = 1 + int(rng.integers(0, 28))
        cat = ["theft", "dispute", "robbery"][i % 3]
        rows.append(
            (f"I{i}", u, u + 1, f"2024-01-{day:02d} {int(rng.integers(0, 24)):02d}:00", cat)
        )
    rows.sort(key=lambda r: r[3])
    frame = incidents(rows)
    p = RiskParams(near_repeat_weight=0.2)
    at = pd.Timestamp("2024-02-01", tz="UTC")
    inc = fit_risk(G, frame.iloc[:250], p)
    inc.risk(at)  # builds the cached state
    extra = pd.concat([frame.iloc[250:], frame.iloc[:5]])  # 5 already known
    assert inc.add(extra) == 50
    full = fit_risk(G, frame, p)
    w = TimeWindow.parse("19:00-23:00")
    assert np.allclose(inc.risk(at, window=w), full.risk(at, window=w), rtol=1e-9, atol=1e-15)


def test_params_validate() -> None:
    with pytest.raises(InputError, match=r"risk\.half_life_days"):
        RiskParams(half_life_days=0.0)
    with pytest.raises(InputError, match=r"risk\.wide_bandwidth_m"):
        RiskParams(bandwidth_m=100.0, wide_bandwidth_m=50.0)


def test_naive_times_rejected() -> None:
    G = line_graph([(0.0, 2)])
    frame = incidents([("A", 0, 1, "2024-01-01 00:00", "theft")])
    frame["occurred_at"] = frame["occurred_at"].dt.tz_localize(None)
    with pytest.raises(InputError, match="occurred_at"):
        fit_risk(G, frame)


def test_stale_history_does_not_decay_to_nothing() -> None:
    G = line_graph([(0.0, 2)])
    s = seg_of(G, 0, 1)
    rows = [(f"A{i}", 0, 1, f"2024-01-{i + 1:02d} 12:00", "theft") for i in range(20)]
    model = fit_risk(G, incidents(rows), RiskParams(half_life_days=10.0))
    soon = model.risk(pd.Timestamp("2024-01-21 12:00", tz="UTC"))[s]
    years = model.risk(pd.Timestamp("2027-01-21 12:00", tz="UTC"))[s]
    assert years == pytest.approx(soon) and soon > 0
    # before the last incident, only earlier incidents count
    early = model.risk(pd.Timestamp("2024-01-05 13:00", tz="UTC"))[s]
    assert early > 0 and early != pytest.approx(soon)
