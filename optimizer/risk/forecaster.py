"""The hotspot forecaster: a learned correction of the network KDE, chosen by rolling validation.

Model
-----
For every street segment ``s`` and forecast origin ``T`` the expected incidents of the next
``horizon_days`` are ``E_s = B_s exp(f(x_s))``: ``B_s`` is the network KDE's forecast
(``optimizer.risk.model``, per metre times the segment's length) and ``f`` a gradient-boosted
tree ensemble (LightGBM, Poisson objective, ``B_s`` as offset) over the features of
``optimizer.risk.features`` (multi-scale history smoothed along the network, category rates,
intersections, near repeats, risk terrain, the KDE itself). With the KDE as offset the trees
learn only where it errs; with few, shallow trees they cannot stray far from it.

Training rows are (segment, origin) pairs: origins every ``step_days`` back from ``T``, each
with the features from the incidents before it and, as target, the incidents of the
``horizon_days`` after it, all of them before ``T``.

Choice per district (rolling validation, only weeks before ``T``)
------------------------------------------------------------------
For each of the ``validation_weeks`` weeks before ``T``, every candidate - the learned model,
the network KDE alone and the baselines of :data:`optimizer.risk.features.BASELINE_SIGNALS` -
is fitted on what came before that week and forecasts it; the candidate with the best geometric
mean, over ``select_coverages``, of its mean PAI across the weeks is used (each coverage counts
alike whatever the size of its PAI: the top streets and the wider patrol area both matter).
When that is not the learned model the forecaster falls back,
and :attr:`RiskForecast.notes` says so. Too short a history (fewer than ``min_train_origins``
training origins before the first validation week) skips the learned model with a note.

Categories
----------
Category columns are those of the fitted history. Incidents of a category added later
(:meth:`RiskForecast.add`) count in the totals and the note says to refit; categories outside the
vocabulary get severity 1 and flat time profiles, with a warning that names them.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from optimizer.errors import InputError
from optimizer.risk.accuracy import DEFAULT_COVERAGES, coverage_tag, pai_pei
from optimizer.risk.categories import VOCABULARY, Category
from optimizer.risk.features import BASELINE_SIGNALS, DAY_NS, History, SegmentFeatures
from optimizer.risk.model import NetworkKernel, RiskModel, RiskParams
from optimizer.timewindow import TimeWindow

LEARNED = "learned"
NETWORK_KDE = "network_kde"
CANDIDATES: tuple[str, ...] = (LEARNED, NETWORK_KDE, *BASELINE_SIGNALS)
"""Methods the rolling validation chooses from."""


BOOSTING_THREADS = 2
"""Threads LightGBM trains with: fixed, so that a seed gives the same model on any machine
(``deterministic`` with column-wise histograms makes a fixed thread count reproducible)."""


@dataclass(frozen=True)
class ForecastParams:
    """Parameters of the forecaster.

    Attributes
    ----------
    kde
        Parameters of the network KDE (the offset of the learned model, and a candidate).
        The default keeps old incidents (half-life 1000 days) and weighs the wide density
        less than ``RiskParams``' own default: the trees add what smoothing and recency pay.
    horizon_days
        Days each training target covers (the forecast period of the validation).
    step_days
        Days between training origins.
    min_history_days
        History an origin needs before it (features of a shorter one are too thin).
    max_origins
        Most recent training origins used.
    min_train_origins
        Fewer training origins than this: no learned model.
    validation_weeks
        Weeks before the forecast origin that choose the method (0: always the learned model
        where it can be fitted).
    select_coverages
        Shares of street length whose PAI choose the method.
    rounds, learning_rate, num_leaves, min_data_in_leaf, l2
        Boosting: trees, shrinkage, leaves per tree, least rows per leaf, L2 penalty.
    bags
        Boosted ensembles averaged (each on 70 % of the rows and features, seeds ``seed``,
        ``seed + 1``, ...); 1: one ensemble on everything.
    seed
        Seed of the boosting (it is deterministic on one thread).
    node_radius_m
        Incidents this close to an intersection count for it.
    """

    kde: RiskParams = field(
        default_factory=lambda: RiskParams(half_life_days=1000.0, wide_weight=2.0)
    )
    horizon_days: int = 7
    step_days: int = 7
    min_history_days: int = 14
    max_origins: int = 16
    min_train_origins: int = 3
    validation_weeks: int = 4
    select_coverages: tuple[float, ...] = (0.01, 0.05, 0.10)
    rounds: int = 100
    learning_rate: float = 0.05
    num_leaves: int = 7
    min_data_in_leaf: int = 100
    l2: float = 1.0
    bags: int = 1
    seed: int = 0
    node_radius_m: float = 15.0

    def __post_init__(self) -> None:
        ints = {
            "horizon_days": (self.horizon_days, 1, 91),
            "step_days": (self.step_days, 1, 91),
            "min_history_days": (self.min_history_days, 1, 3650),
            "max_origins": (self.max_origins, 1, 1000),
            "min_train_origins": (self.min_train_origins, 1, 1000),
            "validation_weeks": (self.validation_weeks, 0, 52),
            "rounds": (self.rounds, 1, 5000),
            "num_leaves": (self.num_leaves, 2, 256),
            "min_data_in_leaf": (self.min_data_in_leaf, 1, 1_000_000),
            "bags": (self.bags, 1, 50),
            "seed": (self.seed, 0, 2**31 - 1),
        }
        for name, (value, lo, hi) in ints.items():
            if not (isinstance(value, int) and lo <= value <= hi):
                raise InputError(f"forecast.{name}", value, f"an integer in [{lo}, {hi}]")
        floats = {
            "learning_rate": (self.learning_rate, 1e-4, 1.0),
            "l2": (self.l2, 0.0, 1e6),
            "node_radius_m": (self.node_radius_m, 0.0, 200.0),
        }
        for name, (fvalue, flo, fhi) in floats.items():
            if not (isinstance(fvalue, int | float) and flo <= fvalue <= fhi):
                raise InputError(f"forecast.{name}", fvalue, f"a number in [{flo}, {fhi}]")
        if not self.select_coverages or not all(
            isinstance(c, int | float) and 0 < c <= 1 for c in self.select_coverages
        ):
            raise InputError(
                "forecast.select_coverages", self.select_coverages, "shares in (0, 1], at least one"
            )
        if not isinstance(self.kde, RiskParams):
            raise InputError("forecast.kde", self.kde, "a RiskParams")


def selection_score(results: pd.DataFrame, coverages: Sequence[float]) -> pd.Series:
    """Return each method's score for the choice: the geometric mean over ``coverages`` of its
    mean PAI across the periods of ``results`` (rows: ``method`` and ``pai@<coverage>``).
    """
    tags = [f"pai@{coverage_tag(c)}" for c in coverages]
    means = results.groupby("method")[tags].mean()
    return np.exp(np.log(means.clip(lower=1e-9)).mean(axis=1))


def _ns(at: pd.Timestamp | str | int) -> int:
    if isinstance(at, int | np.integer):
        return int(at)
    ts = pd.Timestamp(at)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.tz_convert("UTC").as_unit("ns").value)


@dataclass
class Fold:
    """Training rows of the learned model: features, targets and offsets of some origins."""

    X: pd.DataFrame
    y: np.ndarray
    offset: np.ndarray
    origins: int


class RiskForecast:
    """A district's fitted forecaster: the network KDE, the learned model and the choice.

    Build it with :func:`fit_forecast`. It is the object to keep (and the cache of the fitted
    model): :meth:`risk` answers any window quickly from it, :meth:`add` feeds it new incidents
    without refitting.

    Attributes
    ----------
    model
        The network KDE (category profiles and mix come from it).
    method
        The method in use (one of :data:`CANDIDATES`).
    validation
        One row per validation week and candidate: ``period``, ``n``, ``method`` and the
        PAI / PEI / hits / rho columns.
    notes
        What a user should know: fall-backs, skipped parts, unknown categories.
    """

    def __init__(
        self,
        model: RiskModel,
        params: ForecastParams,
        *,
        terrain: pd.DataFrame | None = None,
        tz: Any = "UTC",
    ) -> None:
        self.model = model
        self.params = params
        self.tz = tz
        self.features = SegmentFeatures(model, terrain=terrain, node_radius_m=params.node_radius_m)
        self.has_terrain = terrain is not None
        self.categories: tuple[str, ...] = tuple(model.categories)
        self.booster: list[Any] | None = None
        self.feature_names: list[str] = []
        self.method = NETWORK_KDE
        self.validation = pd.DataFrame()
        self.notes: list[str] = []
        self.fitted_at_ns: int | None = None
        self._hist: History = self.features.history()
        self._frames: dict[int, pd.DataFrame] = {}

    # -- what hotspots need --------------------------------------------------------------------

    @property
    def segments(self) -> pd.DataFrame:
        """Street segments (``optimizer.risk.incidents.street_segments``)."""
        return self.model.segments

    @property
    def length(self) -> np.ndarray:
        """Segment lengths (m)."""
        return self.model.length

    @property
    def kernel(self) -> NetworkKernel:
        """The network kernel (hotspots are grown with it)."""
        return self.model.kernel

    @property
    def n_incidents(self) -> int:
        """Number of incidents held."""
        return self.model.n_incidents

    # -- fitting -------------------------------------------------------------------------------

    def _kde(self, at_ns: int) -> np.ndarray:
        """Network KDE forecast per metre and day at ``at_ns`` (all categories, unweighted)."""
        return self.model.risk(pd.Timestamp(at_ns, tz="UTC"), days=1.0, severity=False)

    def _frame(self, at_ns: int) -> pd.DataFrame:
        cached = self._frames.get(at_ns)
        if cached is None:
            cached = self.features.frame(self._hist, at_ns, self.categories, self._kde(at_ns))
            self._frames[at_ns] = cached
        return cached

    def _offset(self, frame: pd.DataFrame, days: float) -> np.ndarray:
        base = frame["kde"].to_numpy() / 7.0 * self.length * days
        floor = max(float(base.mean()), 1e-12) * 1e-3
        return np.log(np.maximum(base, floor))

    def _origins(self, end_ns: int) -> list[int]:
        """Training origins whose target window ends by ``end_ns``, newest first."""
        p = self.params
        first = self._hist.first_ns
        if first is None:
            return []
        out: list[int] = []
        o = end_ns - p.horizon_days * DAY_NS
        while o >= first + p.min_history_days * DAY_NS and len(out) < p.max_origins:
            out.append(o)
            o -= p.step_days * DAY_NS
        return out

    def _fold(self, end_ns: int) -> Fold | None:
        origins = self._origins(end_ns)
        if len(origins) < self.params.min_train_origins:
            return None
        days = float(self.params.horizon_days)
        frames = [self._frame(o) for o in origins]
        y = [
            self.features.counts(self._hist, o, o + self.params.horizon_days * DAY_NS)
            for o in origins
        ]
        off = [self._offset(f, days) for f in frames]
        return Fold(
            pd.concat(frames, ignore_index=True),
            np.concatenate(y),
            np.concatenate(off),
            len(origins),
        )

    def _train(self, fold: Fold) -> list[Any]:
        import lightgbm as lgb

        p = self.params
        boosters = []
        for b in range(p.bags):
            params = {
                "objective": "poisson",
                "learning_rate": p.learning_rate,
                "num_leaves": p.num_leaves,
                "min_data_in_leaf": p.min_data_in_leaf,
                "lambda_l2": p.l2,
                # a fixed thread count (not the machine's): the same trees on any machine
                "num_threads": BOOSTING_THREADS,
                "deterministic": True,
                "force_col_wise": True,
                "max_bin": 63,
                "seed": p.seed + b,
                "verbose": -1,
            }
            if p.bags > 1:
                params.update(bagging_fraction=0.7, bagging_freq=1, feature_fraction=0.7)
            data = lgb.Dataset(
                fold.X.to_numpy(dtype=np.float32),
                fold.y,
                init_score=fold.offset,
                feature_name=list(fold.X.columns),
                free_raw_data=True,
            )
            boosters.append(lgb.train(params, data, num_boost_round=p.rounds))
        return boosters

    def _scores(self, method: str, at_ns: int, booster: Any = None) -> np.ndarray:
        """Ranking score per metre of a method at ``at_ns`` (higher = riskier)."""
        if method == LEARNED:
            frame = self._frame(at_ns)
            X = frame[self.feature_names].to_numpy(dtype=np.float32)
            raw = np.mean([b.predict(X, raw_score=True) for b in booster], axis=0)
            return np.exp(raw + self._offset(frame, 1.0)) / self.length
        if method == NETWORK_KDE:
            return self._kde(at_ns)
        return self.features.signal(method, self._hist, at_ns)

    def fit(self, at: pd.Timestamp | str | int | None = None) -> RiskForecast:
        """Choose the method by rolling validation and fit it on everything before ``at``.

        Parameters
        ----------
        at
            Forecast origin; default the start of the day after the last incident (in the
            history's time zone).

        Returns
        -------
        RiskForecast
            ``self``.
        """
        p = self.params
        last = self._hist.last_ns
        if last is None:
            self.notes.append("no incident history: nothing to forecast")
            return self
        if at is None:
            day = pd.Timestamp(last, tz="UTC").tz_convert(self.tz).normalize()
            at_ns = _ns(day + pd.Timedelta(days=1))
        else:
            at_ns = _ns(at)
        self.fitted_at_ns = at_ns
        unknown = sorted(c for c in self.categories if c not in self.model.vocabulary)
        if unknown:
            msg = (
                f"categories {unknown} are not in the vocabulary: counted with severity 1 and "
                "flat hour/weekday profiles (map them to known keys with category_map)"
            )
            self.notes.append(msg)
            warnings.warn(msg, stacklevel=2)
        rows: list[dict[str, object]] = []
        coverages = sorted({*DEFAULT_COVERAGES, *p.select_coverages})
        for j in range(p.validation_weeks, 0, -1):
            v = at_ns - j * 7 * DAY_NS
            counts = self.features.counts(self._hist, v, v + 7 * DAY_NS)
            if counts.sum() == 0:
                continue
            fold = self._fold(v)
            booster = self._train(fold) if fold is not None else None
            if booster is not None:
                self.feature_names = list(fold.X.columns) if fold is not None else []
            for method in CANDIDATES:
                if method == LEARNED and booster is None:
                    continue
                scores = self._scores(method, v, booster)
                row: dict[str, object] = {
                    "period": pd.Timestamp(v, tz="UTC").tz_convert(self.tz).date().isoformat(),
                    "n": int(counts.sum()),
                    "method": method,
                }
                row.update(pai_pei(scores, self.length, counts, coverages))
                rows.append(row)
        self.validation = pd.DataFrame(rows)
        final = self._fold(at_ns)
        if final is not None:
            self.booster = self._train(final)
            self.feature_names = list(final.X.columns)
        self.method = self._choose(final is not None)
        self._frames.clear()
        return self

    def _choose(self, can_learn: bool) -> str:
        tags = [f"pai@{coverage_tag(c)}" for c in self.params.select_coverages]
        if not can_learn:
            self.notes.append(
                f"history too short for the learned model (fewer than "
                f"{self.params.min_train_origins} training weeks): using the network KDE"
            )
        if self.validation.empty or not set(tags) <= set(self.validation.columns):
            if can_learn:
                self.notes.append("no validation week with incidents: using the learned model")
                return LEARNED
            return NETWORK_KDE
        score = selection_score(self.validation, self.params.select_coverages)
        if not can_learn:
            score = score.drop(LEARNED, errors="ignore")
        best = str(score.idxmax())
        if best != LEARNED and LEARNED in score.index:
            shown = "/".join(t.removeprefix("pai@") for t in tags)
            self.notes.append(
                f"the learned model (PAI@{shown} geometric mean {score[LEARNED]:.2f}) did not "
                f"beat {best} ({score[best]:.2f}) in validation on "
                f"{self.validation['period'].nunique()} weeks: falling back to {best}"
            )
        return best

    # -- forecasting ---------------------------------------------------------------------------

    def scores(self, at: pd.Timestamp | str | int, method: str | None = None) -> np.ndarray:
        """Return a method's ranking score per metre at ``at`` (default: the chosen method).

        Parameters
        ----------
        at
            Reference time; only incidents before it count.
        method
            One of :data:`CANDIDATES`.
        """
        name = method or self.method
        if name not in CANDIDATES:
            raise InputError("method", name, f"one of {list(CANDIDATES)}")
        if name == LEARNED and self.booster is None:
            raise InputError("method", name, "a fitted learned model (history too short)")
        at_ns = _ns(at)
        self._frames.pop(at_ns, None)  # incidents may have arrived since
        return self._scores(name, at_ns, self.booster)

    def feature_frame(self, at: pd.Timestamp | str | int) -> pd.DataFrame:
        """Return the feature table of every segment at ``at`` (incidents before it only)."""
        at_ns = _ns(at)
        return self.features.frame(self._hist, at_ns, self.categories, self._kde(at_ns))

    def expected(self, at: pd.Timestamp | str | int) -> np.ndarray:
        """Return the expected incidents per segment and day after ``at`` (all categories).

        The chosen method's scores, scaled so that the district's total is the network KDE's
        total (the learned model's own scale is kept).
        """
        at_ns = _ns(at)
        if self.method == LEARNED and self.booster is not None:
            return self.scores(at_ns) * self.length
        kde_total = float((self._kde(at_ns) * self.length).sum())
        raw = self.scores(at_ns) * self.length
        total = float(raw.sum())
        return raw * (kde_total / total) if total > 0 else raw

    def risk(
        self,
        at: pd.Timestamp | str | int,
        *,
        window: TimeWindow | None = None,
        day: pd.Timestamp | None = None,
        days: float = 1.0,
        severity: bool = True,
        by_category: bool = False,
    ) -> np.ndarray:
        """Return the expected (severity-weighted) incidents per metre of each segment.

        The spatial forecast is :meth:`expected`; each segment's incidents are split into
        categories by the network KDE's category mix there, and each category's share of the
        window and day and its severity come from the KDE's profiles
        (:meth:`optimizer.risk.model.RiskModel.window_factors`).

        Parameters
        ----------
        at, window, day, days, severity, by_category
            As :meth:`optimizer.risk.model.RiskModel.risk`.

        Returns
        -------
        numpy.ndarray
            ``S`` values, or ``C x S`` (rows in the order of ``model.categories``).
        """
        at_ns = _ns(at)
        rates = self.model.category_rates(pd.Timestamp(at_ns, tz="UTC"))
        C, S = rates.shape[0], len(self.length)
        if C == 0:
            return np.zeros((0, S)) if by_category else np.zeros(S)
        total = rates.sum(axis=0)
        overall = rates.sum(axis=1)
        prior = overall / overall.sum() if overall.sum() > 0 else np.full(C, 1.0 / C)
        mix = np.where(total > 0, rates / np.where(total > 0, total, 1.0), prior[:, None])
        lam = self.expected(at_ns) / self.length
        factors = self.model.window_factors(window=window, day=day, severity=severity)
        out = mix * (factors * days)[:, None] * lam[None, :]
        return out if by_category else out.sum(axis=0)

    def add(self, incidents: pd.DataFrame) -> int:
        """Add incidents (features follow at once; the learned model is not refitted).

        Returns
        -------
        int
            Number of incidents added (known ids are skipped).
        """
        added = self.model.add(incidents)
        if added:
            self._hist = self.features.history()
            self._frames.clear()
            new = sorted(set(self.model.categories) - set(self.categories))
            if new:
                msg = (
                    f"categories {new} arrived after the forecaster was fitted: counted in the "
                    "totals, not in category features; refit to learn them"
                )
                if msg not in self.notes:
                    self.notes.append(msg)
                warnings.warn(msg, stacklevel=2)
        return added

    def importance(self) -> pd.DataFrame:
        """Return the learned model's feature importance (total gain, and its share).

        Returns
        -------
        pandas.DataFrame
            Columns ``feature``, ``gain``, ``share``, ``splits``; sorted by gain; empty when
            no learned model was fitted.
        """
        if self.booster is None:
            return pd.DataFrame(columns=["feature", "gain", "share", "splits"])
        gain = np.sum([b.feature_importance("gain") for b in self.booster], axis=0).astype(float)
        splits = np.sum([b.feature_importance("split") for b in self.booster], axis=0).astype(int)
        frame = pd.DataFrame(
            {
                "feature": self.feature_names,
                "gain": gain,
                "share": gain / gain.sum() if gain.sum() > 0 else gain,
                "splits": splits,
            }
        )
        return frame.sort_values("gain", ascending=False, kind="stable").reset_index(drop=True)

    def summary(self) -> str:
        """Return a few lines: method, validation means, notes."""
        lines = [f"method: {self.method}"]
        if not self.validation.empty:
            cols = [c for c in self.validation.columns if c.startswith("pai@")]
            mean = self.validation.groupby("method", sort=False)[cols].mean()
            lines.append(mean.to_string(float_format=lambda v: f"{v:6.2f}"))
        lines.extend(f"note: {n}" for n in self.notes)
        return "\n".join(lines)


def fit_forecast(
    G: nx.MultiDiGraph,
    incidents: pd.DataFrame | None,
    params: ForecastParams | None = None,
    *,
    terrain: pd.DataFrame | None = None,
    vocabulary: Mapping[str, Category] | None = None,
    at: pd.Timestamp | str | int | None = None,
    kernel: NetworkKernel | None = None,
) -> RiskForecast:
    """Fit the forecaster of a district's streets on an incident history.

    Parameters
    ----------
    G
        Projected street graph.
    incidents
        Incident history (may be None or empty: the forecast is then empty).
    params
        Forecaster parameters.
    terrain
        Places of the risk-terrain layer, or None.
    vocabulary
        Category vocabulary.
    at
        Forecast origin (default: the day after the last incident).
    kernel
        The graph's network kernel at ``params.kde.bandwidth_m`` if already built.

    Returns
    -------
    RiskForecast
    """
    p = params or ForecastParams()
    model = RiskModel(G, p.kde, dict(vocabulary or VOCABULARY), kernel)
    tz: Any = "UTC"
    if incidents is not None and len(incidents):
        model.add(incidents)
        found = pd.DatetimeIndex(incidents["occurred_at"]).tz
        tz = found if found is not None else "UTC"
    return RiskForecast(model, p, terrain=terrain, tz=tz).fit(at)
