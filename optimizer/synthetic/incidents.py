"""Synthetic incident history: seeded, with place, time and near-repeat patterns per category.

Used by the embedded demo (``optimizer.synthetic.demo``) and by tests. The generator is a marked
self-exciting point process on the street segments of a real graph:

* **background** incidents per category and day: a Poisson count (rate x day-of-week factor),
  each on a street segment drawn by a category-specific *place* weight (length x street type x
  closeness to a few seeded "attractors" x a persistent per-street lognormal factor), at a local
  hour drawn from the category's hour profile;
* **near repeats**: every incident triggers Poisson(``branching``) follow-ups of the same category
  after an exponential delay (mean ~2 days) on a street within ~200 m, which trigger their own.

Categories and their places: vehicle break-ins at night on residential and service streets
(parking), pickpocketing by day around busy places (pedestrian streets, main streets, major
junctions standing in for stations and shops; more on weekends), disputes in the evening and at
night around a few nightlife spots (Friday/Saturday), burglary by day on weekdays on residential
streets.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree

from optimizer.errors import InputError
from optimizer.risk.categories import VOCABULARY
from optimizer.risk.incidents import _ensure_projected, grid_of_points, street_segments

_RESIDENTIAL = {"residential", "living_street", "service", "unclassified"}
_BUSY = {"pedestrian", "primary", "secondary", "footway", "living_street"}
_NIGHTLIFE = {"pedestrian", "tertiary", "secondary", "residential", "living_street", "footway"}


@dataclass(frozen=True)
class _Spec:
    key: str
    per_day: float
    hour_peak: tuple[float, ...]
    """24 relative weights of local hours."""
    weekday: tuple[float, ...]
    """7 relative weights, Monday first."""


def _hours(spans: dict[int, float]) -> tuple[float, ...]:
    raw = np.full(24, 0.02)
    for h, w in spans.items():
        raw[h % 24] += w
    return tuple(float(v) for v in raw / raw.sum())


_SPECS: tuple[_Spec, ...] = (
    _Spec(
        "vehicle_break_in",
        4.0,
        _hours({22: 0.5, 23: 0.8, 0: 1.0, 1: 1.0, 2: 1.0, 3: 0.9, 4: 0.6, 5: 0.3}),
        (1.0, 1.0, 1.0, 1.0, 1.1, 1.2, 1.0),
    ),
    _Spec(
        "pickpocketing",
        4.5,
        _hours(
            {
                9: 0.3,
                10: 0.6,
                11: 0.8,
                12: 1.0,
                13: 1.0,
                14: 0.9,
                15: 1.0,
                16: 1.0,
                17: 0.9,
                18: 0.6,
            }
        ),
        (0.8, 0.8, 0.85, 0.9, 1.1, 1.6, 1.3),
    ),
    _Spec(
        "dispute",
        2.5,
        _hours({18: 0.2, 19: 0.4, 20: 0.6, 21: 0.8, 22: 1.0, 23: 1.0, 0: 0.8, 1: 0.6, 2: 0.3}),
        (0.6, 0.6, 0.7, 0.9, 1.6, 2.0, 1.0),
    ),
    _Spec(
        "burglary",
        1.2,
        _hours({8: 0.3, 9: 0.6, 10: 0.9, 11: 0.9, 12: 0.7, 13: 0.8, 14: 0.9, 15: 0.8, 16: 0.5}),
        (1.2, 1.2, 1.2, 1.2, 1.1, 0.6, 0.5),
    ),
)


def _attractor_weight(
    xy: np.ndarray, centres: np.ndarray, sigma_m: float, boost: float
) -> np.ndarray:
    if len(centres) == 0:
        return np.ones(len(xy))
    d2 = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2).min(axis=1)
    return 1.0 + boost * np.exp(-d2 / (2.0 * sigma_m**2))


def _place_weights(
    G: nx.MultiDiGraph, segs: gpd.GeoDataFrame, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Return per-category weights over segments (sum 1)."""
    hw = segs["highway"].astype(str).to_numpy()
    length = segs["length"].to_numpy(dtype=float)
    xy = segs[["x", "y"]].to_numpy(dtype=float)
    deg = np.array(
        [G.degree(int(u)) + G.degree(int(v)) for u, v in zip(segs["u"], segs["v"], strict=True)],
        dtype=float,
    )
    n = len(segs)

    def pick(mask: np.ndarray, k: int, score: np.ndarray) -> np.ndarray:
        idx = np.flatnonzero(mask)
        if len(idx) == 0:
            idx = np.arange(n)
        p = score[idx] / score[idx].sum()
        chosen = rng.choice(idx, size=min(k, len(idx)), replace=False, p=p)
        return xy[np.sort(chosen)]

    persistent = rng.lognormal(0.0, 0.8, size=n)
    residential = np.isin(hw, list(_RESIDENTIAL))
    busy = np.isin(hw, list(_BUSY)) | (deg >= np.quantile(deg, 0.9))
    nightlife = np.isin(hw, list(_NIGHTLIFE))

    busy_centres = pick(busy, 6, deg**2)
    night_centres = pick(nightlife, 4, np.ones(n))
    parking_centres = pick(residential, 8, np.ones(n))

    weights = {
        "vehicle_break_in": length
        * np.where(residential, 1.0, 0.08)
        * _attractor_weight(xy, parking_centres, 150.0, 6.0)
        * persistent,
        "pickpocketing": length
        * np.where(busy, 1.0, 0.05)
        * _attractor_weight(xy, busy_centres, 120.0, 12.0)
        * persistent,
        "dispute": length
        * np.where(nightlife, 1.0, 0.1)
        * _attractor_weight(xy, night_centres, 90.0, 25.0)
        * persistent,
        "burglary": length * np.where(residential, 1.0, 0.02) * persistent,
    }
    # incidents happen where people walk or cycle (no tunnels or motorways)
    ok = segs["patrollable"].to_numpy(dtype=bool)
    if ok.any():
        weights = {k: w * ok for k, w in weights.items()}
    return {k: w / w.sum() for k, w in weights.items()}


def synthetic_incidents(
    G: nx.MultiDiGraph,
    grids: gpd.GeoDataFrame | None,
    *,
    start: dt.date,
    end: dt.date,
    seed: int,
    tz: str = "Europe/Helsinki",
    rate_scale: float = 1.0,
    branching: float = 0.3,
    repeat_radius_m: float = 200.0,
    repeat_delay_days: float = 2.0,
) -> gpd.GeoDataFrame:
    """Generate a seeded incident history on a street graph.

    Parameters
    ----------
    G
        Street graph; projected (with node ``lon``/``lat``) or WGS-84 (projected here).
    grids
        District grids (EPSG:4326, with ``level``); the finest grid of each incident becomes its
        ``grid_id``. ``None``: no ``grid_id`` values.
    start, end
        First and last day of the history (local dates, inclusive).
    seed
        Seed; the same graph, dates and seed give the same incidents.
    tz
        IANA time zone of the local times.
    rate_scale
        Multiplies every category's daily rate (1.0: about 12 background incidents a day).
    branching
        Mean number of near-repeat follow-ups each incident triggers (< 1).
    repeat_radius_m
        Follow-ups land on a street whose midpoint is within this distance of the trigger's.
    repeat_delay_days
        Mean delay of a follow-up (exponential), truncated at 14 days and at ``end``.

    Returns
    -------
    geopandas.GeoDataFrame
        The incident schema of ``optimizer.risk.incidents``, snapped (``u``, ``v``, ``key``,
        ``snap_m``, ``node``, ``grid_id``), sorted by time, plus ``trigger`` (the id of the
        incident a near-repeat follows, or "" for background).
    """
    if end < start:
        raise InputError("end", end.isoformat(), f"a date on or after start {start.isoformat()}")
    if not 0 <= branching < 1:
        raise InputError("branching", branching, "a number in [0, 1)")
    if not rate_scale > 0:
        raise InputError("rate_scale", rate_scale, "a number > 0")
    G = _ensure_projected(G)
    rng = np.random.default_rng(seed)
    segs = street_segments(G)
    n_days = (end - start).days + 1
    weights = _place_weights(G, segs, rng)
    xy = segs[["x", "y"]].to_numpy(dtype=float)
    tree = cKDTree(xy)
    walk = segs["patrollable"].to_numpy(dtype=bool)
    days = pd.date_range(start, periods=n_days, freq="D")
    dow = days.day_of_week.to_numpy()

    # rows: (category index, day offset, minute of day, segment, parent row or -1)
    cats: list[int] = []
    day_off: list[int] = []
    minute: list[int] = []
    seg: list[int] = []
    parent: list[int] = []
    for ci, spec in enumerate(_SPECS):
        wk = np.asarray(spec.weekday) / np.mean(spec.weekday)
        counts = rng.poisson(spec.per_day * rate_scale * wk[dow])
        total = int(counts.sum())
        cats.extend([ci] * total)
        day_off.extend(np.repeat(np.arange(n_days), counts).tolist())
        hours = rng.choice(24, size=total, p=np.asarray(spec.hour_peak))
        minute.extend((hours * 60 + rng.integers(0, 60, size=total)).tolist())
        seg.extend(rng.choice(len(segs), size=total, p=weights[spec.key]).tolist())
        parent.extend([-1] * total)

    # Self-exciting near repeats, generation by generation.
    frontier = list(range(len(cats)))
    while frontier:
        nxt: list[int] = []
        kids = rng.poisson(branching, size=len(frontier))
        for row, k in zip(frontier, kids, strict=True):
            if k == 0:
                continue
            spec = _SPECS[cats[row]]
            near = tree.query_ball_point(xy[seg[row]], repeat_radius_m)
            near_arr = np.asarray(sorted(near), dtype=np.int64)
            d = np.hypot(*(xy[near_arr] - xy[seg[row]]).T)
            p = np.exp(-d / (repeat_radius_m / 2.0)) * np.where(walk[near_arr], 1.0, 1e-9)
            p /= p.sum()
            for _ in range(int(k)):
                delay = min(14.0, rng.exponential(repeat_delay_days))
                t = day_off[row] * 1440 + minute[row] + delay * 1440
                new_day = int(t // 1440)
                if new_day >= n_days:
                    continue
                hour = int(rng.choice(24, p=np.asarray(spec.hour_peak)))
                m = hour * 60 + int(rng.integers(0, 60))
                if new_day == day_off[row] and m <= minute[row]:
                    new_day += 1
                    if new_day >= n_days:
                        continue
                cats.append(cats[row])
                day_off.append(new_day)
                minute.append(m)
                seg.append(int(near_arr[rng.choice(len(near_arr), p=p)]))
                parent.append(row)
                nxt.append(len(cats) - 1)
        frontier = nxt

    cat_arr = np.asarray(cats)
    seg_arr = np.asarray(seg, dtype=np.int64)
    local = (
        pd.to_datetime(start)
        + pd.to_timedelta(np.asarray(day_off), unit="D")
        + pd.to_timedelta(np.asarray(minute), unit="min")
    )
    occurred = pd.DatetimeIndex(local).tz_localize(tz, nonexistent="shift_forward", ambiguous=False)
    # Position along the street and a few metres of geocoding scatter.
    frac = rng.uniform(0.05, 0.95, size=len(seg_arr))
    lines = np.asarray(segs.geometry.array, dtype=object)[seg_arr]
    on_line = shapely.line_interpolate_point(lines, frac, normalized=True)
    ang = rng.uniform(0, 2 * np.pi, size=len(seg_arr))
    r = rng.uniform(0, 6.0, size=len(seg_arr))
    px = shapely.get_x(on_line) + r * np.cos(ang)
    py = shapely.get_y(on_line) + r * np.sin(ang)
    snap_m = shapely.distance(shapely.points(px, py), lines)
    to_wgs = Transformer.from_crs(segs.crs, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs.transform(px, py)

    keys = [_SPECS[c].key for c in cat_arr]
    u = segs["u"].to_numpy()[seg_arr]
    v = segs["v"].to_numpy()[seg_arr]
    frame = pd.DataFrame(
        {
            "category": keys,
            "occurred_at": occurred,
            "date_only": np.zeros(len(keys), dtype=bool),
            "severity": [VOCABULARY[k].severity for k in keys],
            "lon": np.round(lon, 7),
            "lat": np.round(lat, 7),
            "u": u,
            "v": v,
            "key": segs["key"].to_numpy()[seg_arr],
            "snap_m": np.round(snap_m, 2),
            "position": frac,
            "node": np.where(frac <= 0.5, u, v),
            "_parent": parent,
        }
    )
    order = np.lexsort((np.arange(len(frame)), frame["occurred_at"].to_numpy()))
    frame = frame.iloc[order].reset_index(drop=True)
    new_id = np.empty(len(frame), dtype=np.int64)
    new_id[order] = np.arange(len(frame))
    frame["incident_id"] = [f"S{i:06d}" for i in range(len(frame))]
    frame["trigger"] = [f"S{new_id[p]:06d}" if p >= 0 else "" for p in frame["_parent"]]
    frame = frame.drop(columns="_parent")
    frame["grid_id"] = grid_of_points(grids, frame["lon"].to_numpy(), frame["lat"].to_numpy())
    cols = ["incident_id", *[c for c in frame.columns if c != "incident_id"]]
    frame = frame[cols]
    return gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326"
    )
