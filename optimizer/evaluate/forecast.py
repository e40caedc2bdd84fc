"""Forecast accuracy of hotspot models: PAI, PEI and a rolling-origin backtest with baselines.

* **PAI** (predictive accuracy index, Chainey et al. 2008) at a coverage ``f``: the share of
  the forecast period's incidents that fall on the top-ranked streets making up ``f`` of the
  total street length, divided by ``f``. Uniform guessing scores 1.
* **PEI** (predictive efficiency index, Hunt 2016): those hits divided by the most hits any
  choice of the same street length could have made (the period's own densest streets).

Ties are handled without luck: a block of segments with equal scores that straddles the
coverage limit counts with the share of its length that fits (the expected hits of a random
pick), so a uniform score gives PAI exactly 1.

:func:`rolling_backtest` fits every model on everything before each forecast period and scores
the period, side by side with the baselines of :data:`BASELINES`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from optimizer.errors import InputError
from optimizer.risk.incidents import segment_index, street_segments
from optimizer.risk.model import RiskParams, fit_risk

DEFAULT_COVERAGES: tuple[float, ...] = (0.01, 0.05, 0.10)


def _hits_at(scores: np.ndarray, lengths: np.ndarray, counts: np.ndarray, coverage: float) -> float:
    """Expected hits on the top-ranked segments of ``coverage`` of the length (ties shared)."""
    budget = coverage * float(lengths.sum())
    uniq, inv = np.unique(-scores, return_inverse=True)  # ascending -score = descending score
    block_len = np.bincount(inv, weights=lengths, minlength=len(uniq))
    block_hit = np.bincount(inv, weights=counts, minlength=len(uniq))
    cum = np.cumsum(block_len)
    full = cum <= budget
    hits = float(block_hit[full].sum())
    k = int(full.sum())
    if k < len(uniq):
        left = budget - (float(cum[k - 1]) if k > 0 else 0.0)
        if block_len[k] > 0:
            hits += float(block_hit[k]) * max(0.0, left) / float(block_len[k])
    return hits


def pai_pei(
    scores: np.ndarray,
    lengths: np.ndarray,
    counts: np.ndarray,
    coverages: Sequence[float] = DEFAULT_COVERAGES,
) -> dict[str, float]:
    """Return PAI and PEI of a segment ranking at some coverages of street length.

    Parameters
    ----------
    scores
        Forecast score per segment (higher = riskier per metre).
    lengths
        Segment lengths (m).
    counts
        Incidents observed per segment in the forecast period.
    coverages
        Shares of the total street length, e.g. ``(0.01, 0.05, 0.10)``.

    Returns
    -------
    dict
        ``{"pai@5%": ..., "pei@5%": ..., "hits@5%": ...}`` for each coverage; ``nan`` when the
        period has no incidents.
    """
    scores = np.asarray(scores, dtype=float)
    lengths = np.asarray(lengths, dtype=float)
    counts = np.asarray(counts, dtype=float)
    if not (scores.shape == lengths.shape == counts.shape):
        raise InputError("scores", scores.shape, f"one value per segment ({lengths.shape})")
    total = float(counts.sum())
    out: dict[str, float] = {}
    density = counts / np.maximum(lengths, 1e-9)
    for f in coverages:
        if not 0 < f <= 1:
            raise InputError("coverages", f, "shares in (0, 1]")
        tag = f"{round(f * 100, 3):g}%"
        if total == 0:
            out[f"pai@{tag}"] = out[f"pei@{tag}"] = out[f"hits@{tag}"] = float("nan")
            continue
        hits = _hits_at(scores, lengths, counts, f)
        best = _hits_at(density, lengths, counts, f)
        out[f"pai@{tag}"] = (hits / total) / f
        out[f"pei@{tag}"] = hits / best if best > 0 else float("nan")
        out[f"hits@{tag}"] = hits
    return out


# ---------------------------------------------------------------------------------------------
# baselines and the model as forecasters


@dataclass(frozen=True)
class ForecastInput:
    """What a forecaster sees: the graph, earlier incidents (snapped), and the period."""

    G: nx.MultiDiGraph
    history: pd.DataFrame
    seg: np.ndarray
    """Segment index of each history row."""
    start: pd.Timestamp
    days: float


Forecaster = Callable[[ForecastInput], np.ndarray]


def _lengths(G: nx.MultiDiGraph) -> np.ndarray:
    return street_segments(G)["length"].to_numpy(dtype=float)


def uniform_baseline(inp: ForecastInput) -> np.ndarray:
    """Every street equally risky (PAI 1)."""
    return np.ones(len(_lengths(inp.G)))


def recent_counts_baseline(inp: ForecastInput, weeks: int = 4) -> np.ndarray:
    """Incidents of the last ``weeks`` weeks per metre of each segment."""
    L = _lengths(inp.G)
    when = pd.DatetimeIndex(pd.to_datetime(inp.history["occurred_at"]))
    recent = np.asarray(when >= inp.start - pd.Timedelta(weeks=weeks))
    return np.bincount(inp.seg[recent], minlength=len(L)) / L


def all_counts_baseline(inp: ForecastInput) -> np.ndarray:
    """All earlier incidents per metre of each segment."""
    L = _lengths(inp.G)
    return np.bincount(inp.seg, minlength=len(L)) / L


def planar_kde_baseline(inp: ForecastInput, bandwidth_m: float = 150.0) -> np.ndarray:
    """Gaussian kernel density in the plane (straight-line distance) at segment midpoints."""
    segs = street_segments(inp.G)
    xy = segs[["x", "y"]].to_numpy(dtype=float)
    pts = xy[inp.seg] if len(inp.seg) else np.zeros((0, 2))
    if "x" in inp.history.columns and "y" in inp.history.columns:
        pts = inp.history[["x", "y"]].to_numpy(dtype=float)
    out = np.zeros(len(xy))
    if len(pts) == 0:
        return out
    tree = cKDTree(pts)
    pairs = tree.query_ball_point(xy, 3.0 * bandwidth_m)
    for i, idx in enumerate(pairs):
        if idx:
            d2 = ((pts[idx] - xy[i]) ** 2).sum(axis=1)
            out[i] = np.exp(-0.5 * d2 / bandwidth_m**2).sum()
    return out


def model_forecaster(params: RiskParams) -> Forecaster:
    """Return a forecaster running :class:`optimizer.risk.model.RiskModel` with ``params``."""

    def run(inp: ForecastInput) -> np.ndarray:
        model = fit_risk(inp.G, inp.history, params)
        return model.risk(inp.start, days=inp.days, severity=False)

    return run


BASELINES: dict[str, Forecaster] = {
    "uniform": uniform_baseline,
    "prev_4_weeks": recent_counts_baseline,
    "all_earlier": all_counts_baseline,
    "planar_kde": planar_kde_baseline,
}
"""Baselines of the backtest, by name."""


def weekly_origins(start: dt.date, end: dt.date, tz: str) -> list[tuple[pd.Timestamp, float]]:
    """Return (start, days) of consecutive 7-day periods from ``start`` to ``end`` inclusive."""
    if end < start:
        raise InputError("end", end.isoformat(), f"a date on or after {start.isoformat()}")
    out: list[tuple[pd.Timestamp, float]] = []
    day = start
    while day <= end:
        days = min(7, (end - day).days + 1)
        out.append((pd.Timestamp(day).tz_localize(tz), float(days)))
        day += dt.timedelta(days=7)
    return out


def rolling_backtest(
    G: nx.MultiDiGraph,
    incidents: pd.DataFrame,
    origins: Sequence[tuple[pd.Timestamp, float]],
    forecasters: Mapping[str, Forecaster],
    *,
    coverages: Sequence[float] = DEFAULT_COVERAGES,
) -> pd.DataFrame:
    """Score forecasters period by period, each fitted on everything before its period.

    Parameters
    ----------
    G
        Projected street graph.
    incidents
        Snapped incidents (``u``, ``v``, ``key``, ``occurred_at``).
    origins
        ``(start, days)`` of each forecast period.
    forecasters
        Name -> function of a :class:`ForecastInput` returning a score per segment.
    coverages
        Shares of street length of PAI/PEI.

    Returns
    -------
    pandas.DataFrame
        One row per period and forecaster: ``period``, ``days``, ``n``, ``method`` and the
        PAI/PEI/hits columns.
    """
    seg = segment_index(incidents, G)
    ok = seg >= 0
    inc = incidents[ok].reset_index(drop=True)
    seg = seg[ok]
    when = pd.DatetimeIndex(pd.to_datetime(inc["occurred_at"]))
    L = _lengths(G)
    rows: list[dict[str, object]] = []
    for start, days in origins:
        end = start + pd.Timedelta(days=days)
        past = np.asarray(when < start)
        future = np.asarray((when >= start) & (when < end))
        counts = np.bincount(seg[future], minlength=len(L)).astype(float)
        inp = ForecastInput(G, inc[past], seg[past], start, days)
        for name, fc in forecasters.items():
            scores = fc(inp)
            row: dict[str, object] = {
                "period": start.date().isoformat(),
                "days": days,
                "n": int(future.sum()),
                "method": name,
            }
            row.update(pai_pei(scores, L, counts, coverages))
            rows.append(row)
    return pd.DataFrame(rows)


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Return the mean of every PAI/PEI column per method (periods weighted equally)."""
    cols = [c for c in results.columns if c.startswith(("pai@", "pei@"))]
    return results.groupby("method", sort=False)[cols].mean()
