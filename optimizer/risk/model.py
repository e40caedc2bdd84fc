"""Risk per street segment and time window: network kernel density, decay, profiles, near repeats.

The model, per category ``c`` and street segment ``t`` (length ``L_t``), at reference time ``T``:

* **decayed counts** ``n_ct = sum_i 2^(-(T - t_i) / h)`` over the incidents ``i`` of ``c`` on
  ``t`` before ``T`` (half-life ``h``);
* **network kernel density** ``k_ct = sum_s n_cs K(d_st) / Z_s``: ``d_st`` is the walking
  distance along streets between segment midpoints, ``K(d) = exp(-d^2 / 2b^2)`` cut at
  ``2.5 b`` (bandwidth ``b``), and ``Z_s = sum_t K(d_st) L_t`` so each incident's mass is
  conserved (``sum_t k_ct L_t = sum_s n_cs``) however many streets meet near it;
* **wide density** ``k2``: the local density smoothed again ``(B / b)^2 - 1`` times with the
  same kernel (a diffusion along the streets, bandwidth about ``B``);
* **segment rate** per metre and day: ``(n_ct / (L_t + o) + a k_ct + c k2_ct) / (1 + a + c) / E``:
  the segment's own count per metre mixed with the local and the wide density, ``E`` the
  decayed exposure in days (so the rate is per day);
* **near repeats**: the same estimate with a half-life of days, mixed in with weight ``w``:
  a fresh incident raises nearby risk for some days;
* **time of day and day of week**: per category profiles (24 and 7 values, mean 1) estimated
  from the timed incidents and shrunk toward the vocabulary's defaults; date-only incidents
  count for the day-of-week profile only. The risk of a window on a day is
  ``sum_c severity_c * rate_c * share_c(window, day)``.

Default parameters were chosen by an earlier backtest on the six weeks of SF incidents before
September 2012 (a grid over bandwidths, mixing weights, half-life and near-repeat weight). The
near-repeat weight it chose on that date-only data is 0, and a rolling backtest on the demo's
synthetic history (which has self-exciting repeats) did not reward it either; pass
``near_repeat_weight`` > 0 where a backtest on your data shows repeats pay. Hotspots use this
model through ``optimizer.risk.forecaster``, which has its own KDE defaults (``ForecastParams.kde``)
and adds near repeats as a learned feature.

Incremental: :meth:`RiskModel.add` appends incidents; the cached per-category counts and kernel
densities are updated by the new incidents' kernel columns only (no rebuild), and decay to a
later reference time is a rescaling.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import InitVar, dataclass, field

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from optimizer.errors import InputError
from optimizer.risk.categories import VOCABULARY, Category
from optimizer.risk.incidents import segment_index, snap_incidents, street_segments
from optimizer.timewindow import TimeWindow

_LN2 = math.log(2.0)
_DAY_NS = 86_400 * 10**9
KERNEL_CUTOFF = 2.5
"""The kernel is cut at this many bandwidths (K = 0.044 there)."""


@dataclass(frozen=True)
class RiskParams:
    """Parameters of the risk model (defaults chosen by the backtest).

    The rate per metre of a segment mixes three estimates of the same (decayed) incidents:
    the segment's own count per metre, a network kernel density at ``bandwidth_m`` and a wide
    one at ``wide_bandwidth_m``, with weights ``1 : local_weight : wide_weight``.

    Attributes
    ----------
    bandwidth_m
        Kernel bandwidth along streets (metres); the kernel is cut at ``KERNEL_CUTOFF``
        bandwidths.
    wide_bandwidth_m
        Bandwidth of the wide density, made by diffusing the local one along the network
        (``(wide / local)^2`` kernel steps).
    own_offset_m
        Metres added to a segment's length in its own count per metre (keeps a 2 m segment
        with one incident from outranking everything).
    local_weight, wide_weight
        Weights of the local and wide densities against the segment's own count (weight 1).
    half_life_days
        Half-life of an incident's weight in the long-term estimate.
    near_repeat_weight
        Share of the near-repeat (short half-life) estimate in the rate, 0..1.
    near_repeat_half_life_days
        Half-life of the near-repeat estimate.
    profile_prior
        Pseudo-incidents of the vocabulary's default profiles when the hour-of-day and
        day-of-week profiles are estimated from data.
    """

    bandwidth_m: float = 100.0
    wide_bandwidth_m: float = 250.0
    own_offset_m: float = 5.0
    local_weight: float = 1.0
    wide_weight: float = 5.0
    half_life_days: float = 60.0
    near_repeat_weight: float = 0.0
    near_repeat_half_life_days: float = 7.0
    profile_prior: float = 24.0

    def __post_init__(self) -> None:
        checks = {
            "bandwidth_m": (self.bandwidth_m, 10.0, 2000.0),
            "wide_bandwidth_m": (self.wide_bandwidth_m, self.bandwidth_m, 8 * self.bandwidth_m),
            "own_offset_m": (self.own_offset_m, 0.0, 1e6),
            "local_weight": (self.local_weight, 0.0, 1e6),
            "wide_weight": (self.wide_weight, 0.0, 1e6),
            "half_life_days": (self.half_life_days, 0.5, 10_000.0),
            "near_repeat_weight": (self.near_repeat_weight, 0.0, 1.0),
            "near_repeat_half_life_days": (self.near_repeat_half_life_days, 0.1, 365.0),
            "profile_prior": (self.profile_prior, 0.0, 1e6),
        }
        for name, (value, lo, hi) in checks.items():
            if not (isinstance(value, int | float) and lo <= value <= hi):
                raise InputError(f"risk.{name}", value, f"a number in [{lo}, {hi}]")

    @property
    def wide_steps(self) -> int:
        """Kernel steps whose repeated smoothing makes the wide bandwidth."""
        return max(1, round((self.wide_bandwidth_m / self.bandwidth_m) ** 2))


# ---------------------------------------------------------------------------------------------
# network kernel


@dataclass(frozen=True)
class NetworkKernel:
    """Kernel weights between street segments along the network.

    ``weights[s, t] = K(d_st)`` (sparse, symmetric, diagonal 1) and ``norm[s] = sum_t
    K(d_st) L_t``.
    """

    bandwidth_m: float
    weights: sp.csr_matrix
    norm: np.ndarray
    build_s: float

    def distance(self, values: np.ndarray) -> np.ndarray:
        """Return the distances (m) that kernel weights ``values`` stand for."""
        v = np.clip(values, 1e-300, 1.0)
        return self.bandwidth_m * np.sqrt(-2.0 * np.log(v))


def network_kernel(G: nx.MultiDiGraph, bandwidth_m: float) -> NetworkKernel:
    """Build the network kernel of a projected graph.

    Building is the expensive step of the model; keep the result (``RiskModel(kernel=...)``,
    ``optimizer.risk.cache.RiskCache.kernel``) rather than building it again.

    Distances are shortest walking paths (direction ignored) between segment midpoints, found
    by ``scipy.sparse.csgraph.dijkstra`` with ``limit`` = three bandwidths on the graph whose
    edges are split at their midpoints.

    Parameters
    ----------
    G
        Projected street graph.
    bandwidth_m
        Kernel bandwidth in metres.

    Returns
    -------
    NetworkKernel
    """
    import time

    started = time.perf_counter()
    segs = street_segments(G)
    nodes = sorted({int(n) for n in segs["u"]} | {int(n) for n in segs["v"]})
    pos = {n: i for i, n in enumerate(nodes)}
    n_nodes, n_segs = len(nodes), len(segs)
    a = np.array([pos[int(u)] for u in segs["u"]], dtype=np.int64)
    b = np.array([pos[int(v)] for v in segs["v"]], dtype=np.int64)
    half = segs["length"].to_numpy(dtype=float) / 2.0
    mid = n_nodes + np.arange(n_segs)
    rows = np.concatenate([a, mid])
    cols = np.concatenate([mid, b])
    vals = np.concatenate([half, half])
    size = n_nodes + n_segs
    graph = sp.coo_matrix((np.maximum(vals, 1e-3), (rows, cols)), shape=(size, size)).tocsr()
    limit = KERNEL_CUTOFF * bandwidth_m
    chunk = max(1, int(4_000_000 // size))
    out_r: list[np.ndarray] = []
    out_c: list[np.ndarray] = []
    out_v: list[np.ndarray] = []
    for start in range(0, n_segs, chunk):
        src = mid[start : start + chunk]
        dist = dijkstra(graph, directed=False, indices=src, limit=limit)[:, n_nodes:]
        r, c = np.nonzero(np.isfinite(dist))
        d = dist[r, c]
        out_r.append(r + start)
        out_c.append(c)
        out_v.append(np.exp(-0.5 * (d / bandwidth_m) ** 2))
    W = sp.csr_matrix(
        (np.concatenate(out_v), (np.concatenate(out_r), np.concatenate(out_c))),
        shape=(n_segs, n_segs),
    )
    norm = np.asarray(W @ segs["length"].to_numpy(dtype=float)).ravel()
    return NetworkKernel(bandwidth_m, W, norm, time.perf_counter() - started)


def smooth_counts(
    kernel: NetworkKernel, length: np.ndarray, n: np.ndarray, wide_steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return the local and the wide network density of counts per segment.

    Parameters
    ----------
    kernel
        Network kernel of the graph.
    length
        Segment lengths (m).
    n
        Counts, ``rows x S`` (one row per series, e.g. per category).
    wide_steps
        Kernel steps of the wide density (1: the local density again).

    Returns
    -------
    (k1, k2)
        Densities per metre, each ``rows x S``; every incident's mass is conserved
        (``(k1 * length).sum(axis=1) == n.sum(axis=1)``).
    """
    Wt = kernel.weights.T.tocsr()
    inv = 1.0 / kernel.norm
    k1 = np.asarray(Wt @ (n * inv).T).T
    k2 = k1
    for _ in range(wide_steps - 1):
        k2 = np.asarray(Wt @ (k2 * (length * inv)).T).T
    return k1, k2


# ---------------------------------------------------------------------------------------------
# profiles


def window_hours(window: TimeWindow) -> np.ndarray:
    """Return the share (0..1) of each local hour 0..23 that a window covers."""
    cover = np.zeros(24)
    start = window.start.hour * 60 + window.start.minute
    for m in range(start, start + window.minutes):
        cover[(m // 60) % 24] += 1.0 / 60.0
    return cover


def estimate_profile(counts: np.ndarray, default: Sequence[float], prior: float) -> np.ndarray:
    """Return a profile with mean 1 from counts shrunk toward a default profile.

    Parameters
    ----------
    counts
        Observed counts per bin (24 hours or 7 days).
    default
        Default profile (mean 1) of the same length.
    prior
        Pseudo-counts given to the default.

    Returns
    -------
    numpy.ndarray
        ``len(counts) * (counts + prior * default / n) / (sum(counts) + prior)``.
    """
    counts = np.asarray(counts, dtype=float)
    n = len(counts)
    d = np.asarray(default, dtype=float)
    d = d / d.mean() / n
    total = counts.sum() + prior
    if total <= 0:
        return np.ones(n)
    return n * (counts + prior * d) / total


# ---------------------------------------------------------------------------------------------
# model


@dataclass
class _State:
    """Decayed counts and densities at one time; rows ``0..C-1`` long-term, ``C..2C-1`` short."""

    at_ns: int
    n: np.ndarray
    k1: np.ndarray
    k2: np.ndarray
    n_seen: int


@dataclass
class RiskModel:
    """Risk per street segment of one district's graph, fed with incidents over time.

    Parameters
    ----------
    G
        Projected street graph (see ``optimizer.streets.graph.prepare_graph``).
    params
        Model parameters.
    vocabulary
        Category vocabulary (severity and default profiles).
    prebuilt
        The graph's network kernel at ``params.bandwidth_m`` if already built
        (:func:`network_kernel`); built here otherwise.
    """

    G: nx.MultiDiGraph
    params: RiskParams = field(default_factory=RiskParams)
    vocabulary: Mapping[str, Category] = field(default_factory=lambda: dict(VOCABULARY))
    prebuilt: InitVar[NetworkKernel | None] = None

    def __post_init__(self, prebuilt: NetworkKernel | None) -> None:
        self.segments = street_segments(self.G)
        self.length = self.segments["length"].to_numpy(dtype=float)
        if prebuilt is not None and (
            prebuilt.bandwidth_m != self.params.bandwidth_m
            or prebuilt.weights.shape[0] != len(self.length)
        ):
            raise InputError(
                "kernel",
                prebuilt.bandwidth_m,
                f"a kernel of this graph at the model's bandwidth ({self.params.bandwidth_m} m)",
            )
        self.kernel: NetworkKernel = (
            prebuilt
            if prebuilt is not None
            else network_kernel(self.G, float(self.params.bandwidth_m))
        )
        self.categories: list[str] = []
        self._cat: list[np.ndarray] = []
        self._seg: list[np.ndarray] = []
        self._t: list[np.ndarray] = []
        self._timed: list[np.ndarray] = []
        self._hour: list[np.ndarray] = []
        self._dow: list[np.ndarray] = []
        self._pos: list[np.ndarray] = []
        self._ids: set[str] = set()
        self._state: _State | None = None

    # -- input ---------------------------------------------------------------------------------

    @property
    def n_incidents(self) -> int:
        """Number of incidents the model holds."""
        return int(sum(len(s) for s in self._seg))

    def _arrays(self) -> tuple[np.ndarray, ...]:
        if not self._seg:
            e = np.zeros(0, dtype=np.int64)
            return e, e, e, np.zeros(0, dtype=bool), e, e
        return (
            np.concatenate(self._cat),
            np.concatenate(self._seg),
            np.concatenate(self._t),
            np.concatenate(self._timed),
            np.concatenate(self._hour),
            np.concatenate(self._dow),
        )

    def add(self, incidents: pd.DataFrame) -> int:
        """Add incidents; update the cached risk incrementally.

        Parameters
        ----------
        incidents
            Incident frame (schema of ``optimizer.risk.incidents``); unsnapped rows are snapped
            here. Incidents whose ``incident_id`` the model already holds are skipped.

        Returns
        -------
        int
            Number of incidents added.
        """
        if len(incidents) == 0:
            return 0
        inc = incidents
        if "incident_id" in inc.columns:
            ids = inc["incident_id"].astype(str).to_numpy()
            fresh = np.array([i not in self._ids for i in ids], dtype=bool)
            _, first = np.unique(ids, return_index=True)
            once = np.zeros(len(ids), dtype=bool)
            once[first] = True
            inc = inc[fresh & once]
            self._ids.update(ids[fresh & once].tolist())
        if len(inc) == 0:
            return 0
        if {"u", "v", "key"} <= set(inc.columns):
            seg = segment_index(inc, self.G)
        else:
            snapped, _ = snap_incidents(inc, self.G)  # type: ignore[arg-type]
            inc = snapped
            seg = segment_index(inc, self.G)
        keep = seg >= 0
        inc = inc[keep]
        seg = seg[keep]
        when = pd.DatetimeIndex(pd.to_datetime(inc["occurred_at"]))
        if when.tz is None:
            raise InputError("occurred_at", str(when.dtype), "tz-aware timestamps")
        date_only = (
            inc["date_only"].to_numpy(dtype=bool)
            if "date_only" in inc.columns
            else np.zeros(len(inc), dtype=bool)
        )
        t_ns = when.tz_convert("UTC").as_unit("ns").asi8.copy()
        t_ns[date_only] += _DAY_NS // 2  # a date-only incident sits at mid-day
        cat_idx = np.empty(len(inc), dtype=np.int64)
        for i, c in enumerate(inc["category"].astype(str).to_numpy()):
            if c not in self.categories:
                self.categories.append(c)
                if self._state is not None:
                    self._grow_state()
            cat_idx[i] = self.categories.index(c)
        self._cat.append(cat_idx)
        self._seg.append(seg.astype(np.int64))
        self._t.append(t_ns)
        self._timed.append(~date_only)
        self._hour.append(when.hour.to_numpy().astype(np.int64))
        self._dow.append(when.day_of_week.to_numpy().astype(np.int64))
        pos = (
            inc["position"].to_numpy(dtype=float)
            if "position" in inc.columns
            else np.full(len(inc), 0.5)
        )
        self._pos.append(np.nan_to_num(pos, nan=0.5))
        st = self._state
        if st is not None:
            # Move the cached state to the newest time, then add the new kernel columns.
            self._state = self._rescaled(st, max(st.at_ns, int(t_ns.max())))
            self._update_state(cat_idx, seg, t_ns)
        return len(inc)

    def incident_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Return the incidents the model holds as arrays, in the order they were added.

        Returns
        -------
        (category, segment, t_ns, position)
            Category index (into :attr:`categories`), segment index, time in UTC nanoseconds
            (date-only incidents at mid-day) and position along the segment from its ``u``
            end (0..1; 0.5 where unknown).
        """
        cat, seg, t_ns, *_ = self._arrays()
        pos = np.concatenate(self._pos) if self._pos else np.zeros(0)
        return cat, seg, t_ns, pos

    def _factors(self, at_ns: int, t_ns: np.ndarray | int) -> np.ndarray:
        """Decay factors (long-term rows then short) from times ``t_ns`` to ``at_ns``."""
        age = (at_ns - np.asarray(t_ns, dtype=np.float64)) / _DAY_NS
        return np.stack(
            [
                np.exp2(-age / self.params.half_life_days),
                np.exp2(-age / self.params.near_repeat_half_life_days),
            ]
        )

    def _rescaled(self, st: _State, at_ns: int) -> _State:
        if at_ns == st.at_ns:
            return st
        f = self._factors(at_ns, st.at_ns)
        C = len(self.categories)
        col = np.repeat(f, C)[:, None]
        return _State(at_ns, st.n * col, st.k1 * col, st.k2 * col, st.n_seen)

    def _grow_state(self) -> None:
        st = self._state
        assert st is not None
        C = len(self.categories) - 1
        z = np.zeros((1, len(self.length)))

        def grow(m: np.ndarray) -> np.ndarray:
            return np.vstack([m[:C], z, m[C:], z])

        st.n, st.k1, st.k2 = grow(st.n), grow(st.k1), grow(st.k2)

    def _smooth(self, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the local and wide network densities of decayed counts (rows x S)."""
        return smooth_counts(self.kernel, self.length, n, self.params.wide_steps)

    def _update_state(self, cat: np.ndarray, seg: np.ndarray, t_ns: np.ndarray) -> None:
        st = self._state
        assert st is not None
        C, S = len(self.categories), len(self.length)
        f = self._factors(st.at_ns, t_ns)
        rows = np.concatenate([cat, cat + C])
        delta = sp.csr_matrix(
            (np.concatenate([f[0], f[1]]), (rows, np.concatenate([seg, seg]))), shape=(2 * C, S)
        )
        touched = np.unique(rows)
        dn = delta[touched].toarray()
        # only the kernel rows of the touched segments are read for the local density
        inv = sp.diags(1.0 / self.kernel.norm)
        dk1 = np.asarray((delta[touched] @ inv @ self.kernel.weights).todense())
        dk2 = dk1
        Wt = self.kernel.weights.T.tocsr()
        scale = self.length / self.kernel.norm
        for _ in range(self.params.wide_steps - 1):
            dk2 = np.asarray(Wt @ (dk2 * scale).T).T
        st.n[touched] += dn
        st.k1[touched] += dk1
        st.k2[touched] += dk2
        st.n_seen += len(seg)

    def _compute_state(self, at_ns: int) -> _State:
        cat, seg, t_ns, *_ = self._arrays()
        use = t_ns <= at_ns
        C, S = max(1, len(self.categories)), len(self.length)
        f = self._factors(at_ns, t_ns[use])
        flat = cat[use] * S + seg[use]
        n = np.vstack(
            [
                np.bincount(flat, weights=f[0], minlength=C * S).reshape(C, S),
                np.bincount(flat, weights=f[1], minlength=C * S).reshape(C, S),
            ]
        )
        k1, k2 = self._smooth(n)
        return _State(at_ns, n, k1, k2, int(use.sum()))

    def _state_at(self, at_ns: int) -> _State:
        st = self._state
        last = self._last_ns()
        if st is not None and st.n_seen == self.n_incidents and at_ns >= st.at_ns:
            st = self._rescaled(st, at_ns)
            self._state = st
            return st
        st = self._compute_state(at_ns)
        if last is None or at_ns >= last:
            self._state = st
        return st

    def _last_ns(self) -> int | None:
        if not any(len(t) for t in self._t):
            return None
        return int(max(int(t.max()) for t in self._t if len(t)))

    def _first_ns(self) -> int | None:
        if not any(len(t) for t in self._t):
            return None
        return int(min(int(t.min()) for t in self._t if len(t)))

    # -- output --------------------------------------------------------------------------------

    def profiles(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the hour-of-day (C x 24) and day-of-week (C x 7) profiles, mean 1 each."""
        cat, _, _, timed, hour, dow = self._arrays()
        C = len(self.categories)
        hours = np.zeros((C, 24))
        days = np.zeros((C, 7))
        for ci, key in enumerate(self.categories):
            voc = self.vocabulary.get(key)
            dh = voc.hourly if voc else tuple(1.0 for _ in range(24))
            dd = voc.weekly if voc else tuple(1.0 for _ in range(7))
            mine = cat == ci
            hc = np.bincount(hour[mine & timed], minlength=24)
            dc = np.bincount(dow[mine], minlength=7)
            hours[ci] = estimate_profile(hc, dh, self.params.profile_prior)
            days[ci] = estimate_profile(dc, dd, self.params.profile_prior)
        return hours, days

    def category_rates(self, at: pd.Timestamp | str) -> np.ndarray:
        """Return the daily incident rate per metre, per category and segment, at a time.

        Parameters
        ----------
        at
            Reference time (tz-aware, or UTC if naive); incidents after it are ignored. When
            the history ends more than a day before ``at``, decay is measured to one day after
            the last incident instead (the model forecasts as of its latest data).

        Returns
        -------
        numpy.ndarray
            ``C x S``, rows in the order of :attr:`categories`.
        """
        at_ns = _to_ns(at)
        C, S = len(self.categories), len(self.length)
        first = self._first_ns()
        if C == 0 or first is None or at_ns <= first:
            return np.zeros((C, S))
        # Forecast as of the latest data: a history that stops long before ``at`` (a stale
        # import, a demo) is not evidence that crime stopped, so decay ends a day after it.
        last = self._last_ns()
        if last is not None:
            at_ns = min(at_ns, last + _DAY_NS)
        st = self._state_at(at_ns)
        span = (at_ns - first) / _DAY_NS
        p = self.params
        mix = (
            st.n / (self.length + p.own_offset_m) + p.local_weight * st.k1 + p.wide_weight * st.k2
        ) / (1.0 + p.local_weight + p.wide_weight)
        out = np.zeros((C, S))
        for row, hl, w in (
            (slice(0, C), p.half_life_days, 1.0 - p.near_repeat_weight),
            (slice(C, 2 * C), p.near_repeat_half_life_days, p.near_repeat_weight),
        ):
            exposure = hl / _LN2 * (1.0 - 2.0 ** (-span / hl))
            out += w * mix[row] / exposure
        return out

    def risk(
        self,
        at: pd.Timestamp | str,
        *,
        window: TimeWindow | None = None,
        day: pd.Timestamp | None = None,
        days: float = 1.0,
        severity: bool = True,
        by_category: bool = False,
    ) -> np.ndarray:
        """Return the expected (severity-weighted) incidents per metre of each segment.

        Parameters
        ----------
        at
            Reference time of the estimate (usually the start of the planned window).
        window
            Daily window; ``None`` means the whole day.
        day
            Date whose weekday profile applies; ``None`` means an average day.
        days
            Number of days the forecast covers (``7`` for a week of whole days).
        severity
            Weight categories by their severity (``False``: plain counts).
        by_category
            Return the ``C x S`` matrix instead of the sum over categories.

        Returns
        -------
        numpy.ndarray
            Expected incidents per metre (``S``, or ``C x S``) in the window.
        """
        rates = self.category_rates(at)
        if rates.shape[0] == 0:
            return rates if by_category else np.zeros(len(self.length))
        factors = self.window_factors(window=window, day=day, severity=severity)
        out = rates * (factors * days)[:, None]
        return out if by_category else out.sum(axis=0)

    def window_factors(
        self,
        *,
        window: TimeWindow | None = None,
        day: pd.Timestamp | None = None,
        severity: bool = True,
    ) -> np.ndarray:
        """Return, per category, the share of a day's incidents in a window times severity.

        Parameters
        ----------
        window
            Daily window; ``None`` means the whole day.
        day
            Date whose weekday profile applies; ``None`` means an average day.
        severity
            Multiply by the category's severity (1 for categories outside the vocabulary).

        Returns
        -------
        numpy.ndarray
            One factor per category, in the order of :attr:`categories`.
        """
        hours, dows = self.profiles()
        cover = window_hours(window) if window is not None else np.ones(24)
        share = (hours * cover[None, :]).sum(axis=1) / 24.0
        if day is not None:
            share = share * dows[:, pd.Timestamp(day).day_of_week]
        sev = np.array(
            [
                (self.vocabulary[c].severity if c in self.vocabulary else 1.0) if severity else 1.0
                for c in self.categories
            ]
        )
        return np.asarray(share * sev, dtype=float)


def _to_ns(at: pd.Timestamp | str) -> int:
    ts = pd.Timestamp(at)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.tz_convert("UTC").as_unit("ns").value)


def fit_risk(
    G: nx.MultiDiGraph,
    incidents: pd.DataFrame | None,
    params: RiskParams | None = None,
    *,
    vocabulary: Mapping[str, Category] | None = None,
) -> RiskModel:
    """Build a risk model of a graph and feed it an incident history.

    Parameters
    ----------
    G
        Projected street graph.
    incidents
        Incident history (may be None or empty).
    params
        Model parameters (:class:`RiskParams` defaults when None).
    vocabulary
        Category vocabulary (the default one when None).

    Returns
    -------
    RiskModel
    """
    model = RiskModel(G, params or RiskParams(), dict(vocabulary or VOCABULARY))
    if incidents is not None and len(incidents):
        model.add(incidents)
    return model
