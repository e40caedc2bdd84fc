"""Accuracy of a ranking of street segments against the incidents that followed.

* **PAI** (predictive accuracy index, Chainey et al. 2008) at a coverage ``f``: the share of
  the forecast period's incidents that fall on the top-ranked streets making up ``f`` of the
  total street length, divided by ``f``. Uniform guessing scores 1.
* **PEI** (predictive efficiency index, Hunt 2016): those hits divided by the most hits any
  choice of the same street length could have made (the period's own densest streets).
* **Rank correlation**: Spearman's rho between the forecast score and the observed incidents
  per metre of each segment, weighted by nothing (each segment one observation).

Ties are handled without luck: a block of segments with equal scores that straddles the
coverage limit counts with the share of its length that fits (the expected hits of a random
pick), so a uniform score gives PAI exactly 1.

The forecaster's own validation (``optimizer.risk.forecaster``) and the backtest
(``optimizer.evaluate.forecast``) both score with these functions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import rankdata

from optimizer.errors import InputError

DEFAULT_COVERAGES: tuple[float, ...] = (0.01, 0.05, 0.10)


def coverage_tag(coverage: float) -> str:
    """Return the label of a coverage, e.g. ``"5%"`` for 0.05."""
    return f"{round(coverage * 100, 3):g}%"


def hits_at(scores: np.ndarray, lengths: np.ndarray, counts: np.ndarray, coverage: float) -> float:
    """Return the expected hits on the top-ranked segments of ``coverage`` of the length.

    Parameters
    ----------
    scores
        Forecast score per segment (higher = riskier per metre).
    lengths
        Segment lengths (m).
    counts
        Incidents observed per segment.
    coverage
        Share of the total street length, in (0, 1].

    Returns
    -------
    float
        Hits; a block of tied scores across the limit counts with the share that fits.
    """
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


def rank_correlation(scores: np.ndarray, lengths: np.ndarray, counts: np.ndarray) -> float:
    """Return Spearman's rho between scores and observed incidents per metre (nan if flat)."""
    density = np.asarray(counts, dtype=float) / np.maximum(np.asarray(lengths, dtype=float), 1e-9)
    a = rankdata(np.asarray(scores, dtype=float))
    b = rankdata(density)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def pai_pei(
    scores: np.ndarray,
    lengths: np.ndarray,
    counts: np.ndarray,
    coverages: Sequence[float] = DEFAULT_COVERAGES,
) -> dict[str, float]:
    """Return PAI, PEI and hits of a segment ranking at some coverages, and the rank correlation.

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
        ``{"pai@5%": ..., "pei@5%": ..., "hits@5%": ..., "rho": ...}``; ``nan`` when the
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
        tag = coverage_tag(f)
        if total == 0:
            out[f"pai@{tag}"] = out[f"pei@{tag}"] = out[f"hits@{tag}"] = float("nan")
            continue
        hits = hits_at(scores, lengths, counts, f)
        best = hits_at(density, lengths, counts, f)
        out[f"pai@{tag}"] = (hits / total) / f
        out[f"pei@{tag}"] = hits / best if best > 0 else float("nan")
        out[f"hits@{tag}"] = hits
    out["rho"] = rank_correlation(scores, lengths, counts) if total > 0 else float("nan")
    return out
