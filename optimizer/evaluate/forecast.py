"""Rolling-origin backtest of the hotspot forecaster against its signals and the baselines.

For each forecast period (usually a week) the forecaster (``optimizer.risk.forecaster``) is
fitted on the incidents **before** the period only - the frame it gets is cut there, so it
cannot see the period or anything after it - and the period's incidents are scored with PAI,
PEI and a rank correlation (``optimizer.risk.accuracy``) for:

* ``model``: the method the forecaster chose by its own rolling validation on earlier weeks;
* ``learned``, ``network_kde``: the learned model and the network KDE whatever was chosen;
* the baselines of ``optimizer.risk.features.BASELINE_SIGNALS`` and ``uniform``;
* ``signal:<name>``: each of ``optimizer.risk.features.SINGLE_SIGNALS`` alone.

:func:`summarize` gives the mean over periods with a confidence interval across periods.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd
from scipy import stats

from optimizer.errors import InputError
from optimizer.risk.accuracy import DEFAULT_COVERAGES, pai_pei
from optimizer.risk.features import BASELINE_SIGNALS, signal_scores
from optimizer.risk.forecaster import LEARNED, NETWORK_KDE, ForecastParams, fit_forecast
from optimizer.risk.incidents import segment_index, street_segments
from optimizer.risk.model import NetworkKernel, network_kernel


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


@dataclass
class Backtest:
    """What :func:`rolling_backtest` measured.

    Attributes
    ----------
    results
        One row per period and method: ``period``, ``days``, ``n``, ``method`` and the
        PAI / PEI / hits columns and ``rho``.
    importance
        Feature importance of the learned model per period (``period``, ``feature``,
        ``gain``, ``share``, ``splits``).
    chosen
        Period -> the method the forecaster chose.
    notes
        Period -> the forecaster's notes.
    """

    results: pd.DataFrame
    importance: pd.DataFrame
    chosen: dict[str, str] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)


def rolling_backtest(
    G: nx.MultiDiGraph,
    incidents: pd.DataFrame,
    origins: Sequence[tuple[pd.Timestamp, float]],
    *,
    params: ForecastParams | None = None,
    terrain: pd.DataFrame | None = None,
    coverages: Sequence[float] = DEFAULT_COVERAGES,
    signals: bool = True,
    kernel: NetworkKernel | None = None,
) -> Backtest:
    """Score the forecaster, its signals and the baselines period by period.

    Parameters
    ----------
    G
        Projected street graph.
    incidents
        Snapped incidents (``u``, ``v``, ``key``, ``occurred_at``, ``category``).
    origins
        ``(start, days)`` of each forecast period.
    params
        Forecaster parameters.
    terrain
        Risk-terrain places of the district, or None.
    coverages
        Shares of street length of PAI / PEI.
    signals
        Also score each single signal alone.
    kernel
        The graph's network kernel at the KDE's bandwidth (built once here when None).

    Returns
    -------
    Backtest
    """
    p = params or ForecastParams()
    K = kernel if kernel is not None else network_kernel(G, p.kde.bandwidth_m)
    seg = segment_index(incidents, G)
    ok = seg >= 0
    inc = incidents[ok].reset_index(drop=True)
    seg = seg[ok]
    when = pd.DatetimeIndex(pd.to_datetime(inc["occurred_at"]))
    L = street_segments(G)["length"].to_numpy(dtype=float)
    rows: list[dict[str, object]] = []
    imp: list[pd.DataFrame] = []
    out = Backtest(pd.DataFrame(), pd.DataFrame())
    for start, days in origins:
        end = start + pd.Timedelta(days=days)
        past = np.asarray(when < start)
        future = np.asarray((when >= start) & (when < end))
        counts = np.bincount(seg[future], minlength=len(L)).astype(float)
        period = start.date().isoformat()
        fc = fit_forecast(G, inc[past], p, terrain=terrain, at=start, kernel=K)
        out.chosen[period] = fc.method
        out.notes[period] = list(fc.notes)
        scores: dict[str, np.ndarray] = {"model": fc.scores(start), "uniform": np.ones(len(L))}
        if fc.booster is not None:
            scores[LEARNED] = fc.scores(start, LEARNED)
            table = fc.importance()
            table.insert(0, "period", period)
            imp.append(table)
        scores[NETWORK_KDE] = fc.scores(start, NETWORK_KDE)
        for name in BASELINE_SIGNALS:
            scores[name] = fc.scores(start, name)
        if signals:
            for name, values in signal_scores(fc.feature_frame(start)).items():
                scores[f"signal:{name}"] = values
        for name, values in scores.items():
            row: dict[str, object] = {
                "period": period,
                "days": days,
                "n": int(future.sum()),
                "method": name,
            }
            row.update(pai_pei(values, L, counts, coverages))
            rows.append(row)
    out.results = pd.DataFrame(rows)
    out.importance = pd.concat(imp, ignore_index=True) if imp else pd.DataFrame()
    return out


def summarize(results: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Return the mean of every PAI / PEI / rho column per method, with a confidence interval.

    Periods count equally. The interval is the mean plus or minus Student's t quantile times
    the standard error across periods (a period without incidents is left out).

    Parameters
    ----------
    results
        :attr:`Backtest.results`.
    level
        Confidence level of the interval.

    Returns
    -------
    pandas.DataFrame
        Indexed by method; for each metric ``m`` the columns ``m`` (mean), ``m_lo``, ``m_hi``.
    """
    cols = [c for c in results.columns if c.startswith(("pai@", "pei@")) or c == "rho"]
    grouped = results.groupby("method", sort=False)[cols]
    mean = grouped.mean()
    sd = grouped.std(ddof=1)
    n = grouped.count()
    out = pd.DataFrame(index=mean.index)
    for c in cols:
        q = stats.t.ppf(0.5 + level / 2, np.maximum(n[c] - 1, 1))
        half = q * sd[c].fillna(0.0) / np.sqrt(np.maximum(n[c], 1))
        out[c] = mean[c]
        out[f"{c}_lo"] = mean[c] - half
        out[f"{c}_hi"] = mean[c] + half
    return out
