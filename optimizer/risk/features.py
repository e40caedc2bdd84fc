"""Per-segment features of an incident history at a point in time, and the single signals.

At a reference time ``T`` every street segment gets, from the incidents before ``T`` only:

* **multi-scale history**: its own incidents per week over the last 7, 28 and 91 days and over
  the whole history, each also smoothed along the network (``local_*``: one kernel step of the
  risk model's bandwidth; ``wide_*``: the risk model's wide diffusion);
* **category rates**: per category, its own and its locally smoothed incidents per week;
* **intersections**: incidents per week within ``node_radius_m`` of either end (geocoders put
  many incidents on intersections; which of the meeting segments they snap to is chance);
* **near repeats**: incidents decayed with a short half-life, smoothed locally, and the days
  since the segment's last incident;
* **risk terrain**: the static columns of :func:`optimizer.risk.terrain.segment_terrain`;
* **network KDE**: the risk model's forecast (passed in: ``kde``).

The **single signals** that the backtest also scores alone (and the forecaster falls back to)
are defined here once: :data:`BASELINE_SIGNALS`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.spatial import cKDTree

from optimizer.risk.model import NetworkKernel, RiskModel, smooth_counts
from optimizer.risk.terrain import segment_terrain

DAY_NS = 86_400 * 10**9
WINDOWS_DAYS: tuple[int | None, ...] = (7, 28, 91, None)
"""History windows of the multi-scale counts (None: the whole history)."""
SINGLE_SIGNALS: tuple[str, ...] = (
    "own_7d",
    "own_28d",
    "own_91d",
    "local_all",
    "wide_all",
    "intersection",
    "near_repeat",
    "kde",
)
"""Feature columns that the backtest also ranks by alone (per metre, see :func:`signal_scores`)."""
BASELINE_SIGNALS: tuple[str, ...] = ("all_earlier", "prev_4_weeks", "planar_kde")
"""Simple forecasts an analyst gets by counting: all earlier incidents per metre, those of the
previous four weeks per metre, and a planar Gaussian kernel density (150 m)."""
PLANAR_BANDWIDTH_M = 150.0
NEAR_REPEAT_HALF_LIFE_DAYS = 7.0


def _window_name(days: int | None) -> str:
    return "all" if days is None else f"{days}d"


@dataclass(frozen=True)
class History:
    """Incidents of a district as arrays (from :meth:`RiskModel.incident_arrays`)."""

    cat: np.ndarray
    seg: np.ndarray
    t_ns: np.ndarray
    node: np.ndarray
    """Index of the intersection the incident lies at (``-1``: mid-block)."""
    categories: tuple[str, ...]

    @property
    def first_ns(self) -> int | None:
        """Time of the first incident (None when empty)."""
        return int(self.t_ns.min()) if len(self.t_ns) else None

    @property
    def last_ns(self) -> int | None:
        """Time of the last incident (None when empty)."""
        return int(self.t_ns.max()) if len(self.t_ns) else None


class SegmentFeatures:
    """Features of the street segments of one district at any reference time.

    Parameters
    ----------
    model
        The district's network KDE (its graph, segments, kernel and incidents are used).
    terrain
        Places of the terrain layer (:func:`optimizer.risk.terrain.read_terrain`) or None.
    node_radius_m
        Incidents this close to a segment end count for the intersection.
    """

    def __init__(
        self, model: RiskModel, *, terrain: pd.DataFrame | None = None, node_radius_m: float = 15.0
    ) -> None:
        self.model = model
        self.segments = model.segments
        self.length = model.length
        self.kernel: NetworkKernel = model.kernel
        self.wide_steps = model.params.wide_steps
        self.node_radius_m = node_radius_m
        self.static = segment_terrain(model.G, terrain)
        self.static.insert(0, "length", self.length)
        ends = np.concatenate([self.segments["u"].to_numpy(), self.segments["v"].to_numpy()])
        nodes, idx = np.unique(ends.astype(np.int64), return_inverse=True)
        S = len(self.length)
        self.n_nodes = len(nodes)
        self.end_u = idx[:S]
        self.end_v = idx[S:]
        self._xy = self.segments[["x", "y"]].to_numpy(dtype=float)
        self._planar: sp.csr_matrix | None = None

    def _planar_weights(self) -> sp.csr_matrix:
        """Gaussian weights (``PLANAR_BANDWIDTH_M``) between segment midpoints, cut at 3 sd."""
        if self._planar is None:
            tree = cKDTree(self._xy)
            D = tree.sparse_distance_matrix(
                tree, 3.0 * PLANAR_BANDWIDTH_M, output_type="coo_matrix"
            )
            W = sp.coo_matrix(
                (np.exp(-0.5 * (D.data / PLANAR_BANDWIDTH_M) ** 2), (D.row, D.col)), shape=D.shape
            ).tocsr()
            W.setdiag(1.0)
            self._planar = W
        return self._planar

    # -- history -------------------------------------------------------------------------------

    def history(self) -> History:
        """Return the incidents the risk model holds as a :class:`History`."""
        cat, seg, t_ns, pos = self.model.incident_arrays()
        along = pos * self.length[seg] if len(seg) else np.zeros(0)
        back = (1.0 - pos) * self.length[seg] if len(seg) else np.zeros(0)
        node = np.where(
            along <= self.node_radius_m,
            self.end_u[seg] if len(seg) else along,
            np.where(back <= self.node_radius_m, self.end_v[seg] if len(seg) else back, -1),
        ).astype(np.int64)
        return History(cat, seg, t_ns, node, tuple(self.model.categories))

    def counts(self, hist: History, start_ns: int, end_ns: int) -> np.ndarray:
        """Return the incidents per segment in ``[start_ns, end_ns)``."""
        m = (hist.t_ns >= start_ns) & (hist.t_ns < end_ns)
        return np.bincount(hist.seg[m], minlength=len(self.length)).astype(float)

    # -- single signals ------------------------------------------------------------------------

    def signal(self, name: str, hist: History, at_ns: int) -> np.ndarray:
        """Return one baseline signal (score per metre, higher = riskier) at ``at_ns``.

        Parameters
        ----------
        name
            One of :data:`BASELINE_SIGNALS`.
        hist
            The incident history.
        at_ns
            Reference time; only incidents before it count.
        """
        L = self.length
        past = hist.t_ns < at_ns
        if name == "all_earlier":
            return np.bincount(hist.seg[past], minlength=len(L)) / L
        if name == "prev_4_weeks":
            recent = past & (hist.t_ns >= at_ns - 28 * DAY_NS)
            return np.bincount(hist.seg[recent], minlength=len(L)) / L
        if name == "planar_kde":
            n = np.bincount(hist.seg[past], minlength=len(L)).astype(float)
            return np.asarray(self._planar_weights() @ n).ravel()
        raise ValueError(f"unknown signal {name!r}; one of {BASELINE_SIGNALS}")

    # -- features ------------------------------------------------------------------------------

    def frame(
        self, hist: History, at_ns: int, categories: Sequence[str], kde: np.ndarray
    ) -> pd.DataFrame:
        """Return the feature table of every segment at ``at_ns``.

        Parameters
        ----------
        hist
            The incident history (only incidents before ``at_ns`` are read).
        at_ns
            Reference time (UTC nanoseconds).
        categories
            Categories that get their own columns (those the model was fitted with);
            incidents of other categories count in the totals only.
        kde
            The network KDE's forecast per metre at ``at_ns``.

        Returns
        -------
        pandas.DataFrame
            One row per segment; rates are incidents per week.
        """
        S = len(self.length)
        past = hist.t_ns < at_ns
        seg = hist.seg[past]
        age = (at_ns - hist.t_ns[past]) / DAY_NS
        first = hist.first_ns
        span = max(1.0, (at_ns - first) / DAY_NS) if first is not None else 1.0
        cols: dict[str, np.ndarray] = {}
        series: list[np.ndarray] = []
        names: list[str] = []
        for w in WINDOWS_DAYS:
            m = np.ones(len(seg), dtype=bool) if w is None else age < w
            days = span if w is None else min(float(w), span)
            series.append(np.bincount(seg[m], minlength=S) * 7.0 / days)
            names.append(_window_name(w))
        cat_of = hist.cat[past]
        code = {c: i for i, c in enumerate(hist.categories)}
        for c in categories:
            ci = code.get(c, -1)
            series.append(np.bincount(seg[cat_of == ci], minlength=S) * 7.0 / span)
            names.append("cat_" + re.sub(r"[^0-9A-Za-z_]", "_", c))
        n = np.vstack(series)
        k1, k2 = smooth_counts(self.kernel, self.length, n, self.wide_steps)
        for i, name in enumerate(names):
            if name.startswith("cat_"):
                cols[name] = n[i]
                cols[f"local_{name}"] = k1[i]
            else:
                cols[f"own_{name}"] = n[i]
                cols[f"local_{name}"] = k1[i]
                cols[f"wide_{name}"] = k2[i]
        node = hist.node[past]
        at_node = np.bincount(node[node >= 0], minlength=self.n_nodes) * 7.0 / span
        cols["intersection"] = np.maximum(at_node[self.end_u], at_node[self.end_v])
        decay = np.exp2(-age / NEAR_REPEAT_HALF_LIFE_DAYS)
        fresh = np.bincount(seg, weights=decay, minlength=S)[None, :]
        cols["near_repeat"] = smooth_counts(self.kernel, self.length, fresh, 1)[0][0]
        since = np.full(S, span)
        if len(seg):
            np.minimum.at(since, seg, age)
        cols["days_since"] = since
        cols["kde"] = np.asarray(kde, dtype=float) * 7.0
        out = pd.concat([self.static, pd.DataFrame(cols, index=self.static.index)], axis=1)
        return out


def signal_scores(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Return the ranking score per metre of each of :data:`SINGLE_SIGNALS` alone.

    Counts of a segment (``own_*``, ``intersection``) are divided by its length; densities
    (``local_*``, ``wide_*``, ``near_repeat``, ``kde``) are per metre already.
    """
    length = frame["length"].to_numpy(dtype=float)
    out: dict[str, np.ndarray] = {}
    for name in SINGLE_SIGNALS:
        values = frame[name].to_numpy(dtype=float)
        out[name] = values / length if name.startswith("own_") or name == "intersection" else values
    return out
