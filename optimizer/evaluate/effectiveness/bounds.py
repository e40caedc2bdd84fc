"""How far any patrol of the beat loop's street length could go: the best streets, unconnected.

The incident share a strategy can reach is bounded by the street length it patrols. These
bounds take the beat loop's distinct street length in the planned cells (per window where
incidents have a time, per day where they have a date only) and spend it on the best streets
by a ranking, with no cost for getting from one street to the next:

* ``forecast``: the forecast's risk per metre (what the service plans from);
* ``counts``: all earlier incidents per metre (what an analyst gets by counting);
* ``hindsight``: the held-out incidents per metre themselves (no plan made beforehand can do
  better with streets ranked one by one).

A connected route of that length covers at most about what its ranking's bound covers, so when
the ``forecast`` bound is below 1.5 x the beat loop's share, no route planned from the forecast
at those hours reaches 1.5 x.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

BOUND_RANKINGS: tuple[str, ...] = ("forecast", "counts", "hindsight")
"""The rankings of :mod:`optimizer.evaluate.effectiveness.bounds`, in the order reported."""


def top_streets(
    score: npt.ArrayLike,
    candidates: npt.ArrayLike,
    length: npt.ArrayLike,
    *,
    length_m: float,
) -> npt.NDArray[np.int64]:
    """Return the best-scored candidate segments whose total length first reaches ``length_m``.

    Parameters
    ----------
    score
        Score of every segment (e.g. risk per metre); higher is better.
    candidates
        Indices of the segments that may be chosen (the planned cells' streets).
    length
        Length (m) of every segment.
    length_m
        Street length to spend; the last segment taken may pass it.

    Returns
    -------
    numpy.ndarray
        Segment indices, best first (ties kept in ``candidates`` order). Segments of score 0
        are taken only after every scored one; none when ``length_m`` <= 0.
    """
    cand = np.asarray(candidates, dtype=np.int64)
    if length_m <= 0 or len(cand) == 0:
        return np.zeros(0, dtype=np.int64)
    s = np.asarray(score, dtype=float)[cand]
    order = cand[np.argsort(-s, kind="stable")]
    spent = np.cumsum(np.asarray(length, dtype=float)[order])
    k = int(np.searchsorted(spent, float(length_m), side="left")) + 1
    return order[: min(k, len(order))]


def per_metre(counts: npt.ArrayLike, length: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Return ``counts / length`` (a segment shorter than a metre counts as one metre)."""
    return np.asarray(counts, dtype=float) / np.maximum(np.asarray(length, dtype=float), 1.0)
