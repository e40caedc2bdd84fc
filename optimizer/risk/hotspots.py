"""Patrol points from risk: hotspots per grid and window, with value, dwell and visit count.

Contract (owned by the hotspot work): :class:`Hotspot` and :func:`hotspots_for_window` keep
their shape; the model behind them may change.

The risk of each street segment in the window comes from the district's forecaster
(``optimizer.risk.forecaster``: the network KDE of ``optimizer.risk.model`` corrected by a learned
model, or the method its rolling validation chose) with the hour and weekday profiles and the
category mix of the KDE. The fitted forecaster is kept on the district (``district.risk_cache``),
so only the first window of a history pays for fitting. In each grid, hotspots
are grown greedily: the segment with the highest risk per metre seeds a hotspot that takes the
untaken segments of the grid within ``cluster_radius_m`` along the streets; its value is the
expected severity-weighted incidents of those segments in the window. Dwell (10-16 min, the
Koper curve) and visits (one every ``hot_spacing_min`` for the hottest hotspot of the district,
fewer for cooler ones) scale with the value; the spacing between passes shrinks as the value
grows (``min_spacing_min``-``max_spacing_min``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from optimizer.district import District
from optimizer.errors import InputError
from optimizer.risk.cache import frame_key
from optimizer.risk.categories import VOCABULARY, Category
from optimizer.risk.forecaster import ForecastParams, RiskForecast, fit_forecast
from optimizer.risk.incidents import grid_of_points, street_segments
from optimizer.timewindow import TimeWindow


@dataclass(frozen=True)
class Hotspot:
    """A place worth patrolling in one grid and window.

    Coordinates are WGS-84 ``lon``/``lat`` plus the district's projected ``x``/``y`` (metres);
    ``node`` is the nearest street-graph node (routes go there).
    """

    id: str
    grid_id: str
    lon: float
    lat: float
    x: float
    y: float
    node: int
    value: float
    """Expected incidents prevented-weight; comparable across grids of one district and window."""
    dwell_min: int = 12
    visits: int = 1
    spacing_min: int = 120
    label: str = ""
    """Main categories, e.g. ``"vehicle break-in, dispute"``."""
    edges: tuple[tuple[int, int, int], ...] = ()
    """Street edges ``(u, v, key)`` the hotspot covers (the seed segment first)."""
    length_m: float = 0.0
    """Street length of the hotspot's edges."""


@dataclass(frozen=True)
class HotspotParams:
    """How hotspots are cut from risk.

    Attributes
    ----------
    forecast
        Parameters of the forecaster (``forecast.kde``: those of the network KDE).
    max_per_grid
        Most hotspots per grid and window.
    cluster_radius_m
        A hotspot covers the grid's untaken segments within this walking distance of its seed;
        no other hotspot is seeded there.
    max_length_m
        Street length of a hotspot's own segments (the nearest ones first; the seed always).
    min_share
        A grid's hotspot is kept only if its value is at least this share of the grid's best.
    min_dwell_min, max_dwell_min
        Dwell range (Koper curve: 10-16 minutes).
    hot_spacing_min
        Spacing of visits of the district's hottest hotspot (its visits are the window's length
        divided by this); cooler hotspots get proportionally fewer visits, at least one.
    min_spacing_min, max_spacing_min
        Least time between the starts of two passes of a hotspot: ``min_spacing_min`` for the
        district's hottest, rising linearly to ``max_spacing_min`` as the value falls to 0
        (planners spread passes this far apart and add extra passes where time allows).
    """

    forecast: ForecastParams = field(default_factory=ForecastParams)
    max_per_grid: int = 8
    cluster_radius_m: float = 120.0
    max_length_m: float = 400.0
    min_share: float = 0.1
    min_dwell_min: int = 10
    max_dwell_min: int = 16
    hot_spacing_min: int = 120
    min_spacing_min: int = 45
    max_spacing_min: int = 90

    def __post_init__(self) -> None:
        if not (isinstance(self.max_per_grid, int) and self.max_per_grid >= 1):
            raise InputError("hotspots.max_per_grid", self.max_per_grid, "an integer >= 1")
        bandwidth = self.forecast.kde.bandwidth_m
        if not 0 < self.cluster_radius_m <= 3 * bandwidth:
            raise InputError(
                "hotspots.cluster_radius_m",
                self.cluster_radius_m,
                f"a distance in (0, {3 * bandwidth}] m (3 kernel bandwidths)",
            )
        if not 0 <= self.min_share <= 1:
            raise InputError("hotspots.min_share", self.min_share, "a number in [0, 1]")
        if not 1 <= self.min_dwell_min <= self.max_dwell_min:
            raise InputError(
                "hotspots.min_dwell_min",
                (self.min_dwell_min, self.max_dwell_min),
                "1 <= min_dwell_min <= max_dwell_min",
            )
        if not self.hot_spacing_min >= 10:
            raise InputError("hotspots.hot_spacing_min", self.hot_spacing_min, "minutes >= 10")
        if not 10 <= self.min_spacing_min <= self.max_spacing_min:
            raise InputError(
                "hotspots.min_spacing_min",
                (self.min_spacing_min, self.max_spacing_min),
                "10 <= min_spacing_min <= max_spacing_min",
            )


# ---------------------------------------------------------------------------------------------
# the district's forecaster


def district_forecast(
    district: District,
    incidents: pd.DataFrame | None = None,
    params: ForecastParams | None = None,
) -> RiskForecast:
    """Return the fitted forecaster of a district and incident history (fitted on first use).

    Parameters
    ----------
    district
        The district (its ``graph``, ``terrain`` and, unless ``incidents`` is given, its
        ``incidents``).
    incidents
        Incident history to use instead of ``district.incidents``.
    params
        Forecaster parameters.

    Returns
    -------
    RiskForecast
        Kept in ``district.risk_cache`` under the incident frame and the parameters; call
        :meth:`RiskForecast.add` on it (or use :class:`HotspotTracker`) to add incidents.
    """
    p = params or ForecastParams()
    inc = _usable(district.incidents if incidents is None else incidents)
    key = (*frame_key(inc), p, id(district.terrain))
    cache = district.risk_cache
    return cache.forecast(
        key,
        lambda: fit_forecast(
            district.graph,
            inc,
            p,
            terrain=district.terrain,
            kernel=cache.kernel(district.graph, p.kde.bandwidth_m),
        ),
    )


def _usable(inc: pd.DataFrame | None) -> pd.DataFrame | None:
    """Accept the schema of ``optimizer.risk.incidents`` (and old ``time``/``id`` frames)."""
    if inc is None or len(inc) == 0:
        return None
    if "occurred_at" in inc.columns:
        return inc
    if "time" not in inc.columns:
        raise InputError("incidents", list(inc.columns), "the incident schema with occurred_at")
    out = inc.copy()
    when = pd.to_datetime(out["time"])
    out["occurred_at"] = when if when.dt.tz is not None else when.dt.tz_localize("UTC")
    if "incident_id" not in out.columns and "id" in out.columns:
        out["incident_id"] = out["id"].astype(str)
    return out


def _incident_tz(inc: pd.DataFrame | None) -> dt.tzinfo | None:
    if inc is None or len(inc) == 0 or "occurred_at" not in inc.columns:
        return None
    tz = pd.DatetimeIndex(inc["occurred_at"]).tz
    return tz  # type: ignore[no-any-return]


def segment_grids(district: District, level: int | None = None) -> np.ndarray:
    """Return the grid id (of ``level``, default the finest) of each street segment's midpoint.

    Segments outside every grid of that level get None.
    """
    grids = district.grids
    if level is None:
        level = int(grids["level"].max())
    per_graph = district.risk_cache.segment_grids
    key = (id(grids), int(level))
    if key not in per_graph:
        segs = street_segments(district.graph)
        per_graph[key] = grid_of_points(
            grids[grids["level"] == level], segs["lon"].to_numpy(), segs["lat"].to_numpy()
        )
    return per_graph[key]


# ---------------------------------------------------------------------------------------------
# hotspots


def window_start(day: dt.date, window: TimeWindow, tz: dt.tzinfo | None) -> pd.Timestamp:
    """Return the start of a window on a day as a tz-aware timestamp (UTC when ``tz`` is None)."""
    start = pd.Timestamp(dt.datetime.combine(day, window.start))
    return start.tz_localize(tz or "UTC", nonexistent="shift_forward", ambiguous=False)


def hotspots_for_window(
    district: District,
    *,
    day: dt.date,
    window: TimeWindow,
    grid_ids: Sequence[str] | None = None,
    incidents: pd.DataFrame | None = None,
    params: HotspotParams | None = None,
    model: RiskForecast | None = None,
) -> list[Hotspot]:
    """Return the hotspots of one window, per grid, from the risk of the district's streets.

    Parameters
    ----------
    district
        The district (graph, grids and incident history).
    day
        Planned day (its weekday profile applies; only incidents before the window count).
    window
        Planned daily window.
    grid_ids
        Grids to cut hotspots in; ``None`` means the finest-level grids.
    incidents
        Incident history to use instead of ``district.incidents``.
    params
        How hotspots are cut; :class:`HotspotParams` defaults when None.
    model
        A fitted forecaster to use as is (e.g. one kept up to date with
        :meth:`RiskForecast.add`); default the district's (:func:`district_forecast`).

    Returns
    -------
    list of Hotspot
        Sorted by grid, then by value (highest first). Empty when there is no incident history.
    """
    params = params or HotspotParams()
    if not isinstance(window, TimeWindow):
        raise InputError("window", window, "a TimeWindow, e.g. TimeWindow.parse('19:00-23:00')")
    known = {str(g) for g in district.grids.index}
    grid_list = list(district.leaf_grid_ids() if grid_ids is None else grid_ids)
    for g in grid_list:
        if str(g) not in known:
            raise InputError("grid_ids", g, f"a grid id of district {district.name!r}")
    inc = district.incidents if incidents is None else incidents
    if model is None:
        if inc is None or len(inc) == 0:
            return []
        model = district_forecast(district, inc, params.forecast)
    if model.n_incidents == 0:
        return []
    tz = _incident_tz(_usable(inc))
    at = window_start(day, window, tz)
    by_cat = model.risk(at, window=window, day=pd.Timestamp(day), by_category=True)
    if by_cat.shape[0] == 0:
        return []
    length = model.length
    density = by_cat.sum(axis=0)
    expected = by_cat * length[None, :]
    # each requested grid (of any level) holds the segments whose midpoint it contains
    seg_grid = np.full(len(length), None, dtype=object)
    levels = district.grids.loc[[str(g) for g in grid_list], "level"].astype(int)
    for level in sorted(set(levels)):
        of_level = segment_grids(district, level)
        wanted = {str(g) for g, lv in levels.items() if lv == level}
        pick = np.array([g in wanted for g in of_level], dtype=bool)
        seg_grid[pick] = of_level[pick]
    return _cut(district, model, params, window, grid_list, seg_grid, density, expected)


def _cut(
    district: District,
    model: RiskForecast,
    params: HotspotParams,
    window: TimeWindow,
    grid_list: Sequence[str],
    seg_grid: np.ndarray,
    density: np.ndarray,
    expected: np.ndarray,
) -> list[Hotspot]:
    segs = model.segments
    length = model.length
    W = model.kernel.weights
    k_min = math.exp(-0.5 * (params.cluster_radius_m / model.kernel.bandwidth_m) ** 2)
    total = expected.sum(axis=0)
    patrollable = segs["patrollable"].to_numpy(dtype=bool)
    G = district.graph
    found: list[tuple[str, int, np.ndarray, float]] = []
    for gid in grid_list:
        mine = np.flatnonzero((seg_grid == str(gid)) & (total > 0) & patrollable)
        if len(mine) == 0:
            continue
        in_grid = np.zeros(len(total), dtype=bool)
        in_grid[mine] = True
        taken = np.zeros(len(total), dtype=bool)
        order = mine[np.argsort(-density[mine], kind="stable")]
        best = 0.0
        kept = 0
        for s in order:
            if kept >= params.max_per_grid:
                break
            if taken[s]:
                continue
            row = W.getrow(int(s))
            close = row.data >= k_min
            near, kw = row.indices[close], row.data[close]
            free = in_grid[near] & ~taken[near] & (near != s)
            near = near[free][np.argsort(-kw[free], kind="stable")]
            # nearest first, while the hotspot stays a short stretch of street
            budget = max(0.0, params.max_length_m - float(length[s]))
            fits = np.cumsum(length[near]) <= budget
            members = np.concatenate([[s], near[fits]]).astype(np.int64)
            taken[s] = True
            taken[near] = True  # the whole neighbourhood is covered by this hotspot's visits
            value = float(total[members].sum())
            if kept == 0:
                best = value
            elif value < params.min_share * best:
                continue
            found.append((str(gid), int(s), members, value))
            kept += 1
    if not found:
        return []
    vmax = max(v for *_, v in found)
    max_visits = max(1, window.minutes // params.hot_spacing_min)
    out: list[Hotspot] = []
    names = model.model.categories
    seg_u = segs["u"].to_numpy(dtype=np.int64)
    seg_v = segs["v"].to_numpy(dtype=np.int64)
    seg_k = segs["key"].to_numpy(dtype=np.int64)
    for gid, s, members, value in found:
        rel = value / vmax if vmax > 0 else 0.0
        dwell = round(params.min_dwell_min + (params.max_dwell_min - params.min_dwell_min) * rel)
        visits = max(1, round(max_visits * rel))
        # time between passes: min_spacing_min for the hottest, up to max_spacing_min
        spacing = round(
            params.min_spacing_min + (params.max_spacing_min - params.min_spacing_min) * (1 - rel)
        )
        by_cat = expected[:, members].sum(axis=1)
        top = [names[i] for i in np.argsort(-by_cat)[:2] if by_cat[i] > 0.25 * by_cat.max()]
        label = ", ".join(VOCABULARY[c].en if c in VOCABULARY else c for c in top)
        # The seed's end nearer the hotspot's risk-weighted centre is where routes go.
        u, v = int(seg_u[s]), int(seg_v[s])
        w = total[members]
        cx = float(np.average(segs["x"].to_numpy()[members], weights=w))
        cy = float(np.average(segs["y"].to_numpy()[members], weights=w))
        node = min((u, v), key=lambda n: math.hypot(G.nodes[n]["x"] - cx, G.nodes[n]["y"] - cy))
        nd = G.nodes[node]
        ordered = [s, *[int(m) for m in members if m != s]]
        edges = tuple((int(seg_u[m]), int(seg_v[m]), int(seg_k[m])) for m in ordered)
        out.append(
            Hotspot(
                f"{gid}-E{s}",
                gid,
                float(nd["lon"]),
                float(nd["lat"]),
                float(nd["x"]),
                float(nd["y"]),
                node,
                float(value),
                dwell_min=dwell,
                visits=visits,
                spacing_min=int(spacing),
                label=label,
                edges=edges,
                length_m=round(float(model.length[members].sum()), 1),
            )
        )
    out.sort(key=lambda h: (h.grid_id, -h.value, h.id))
    return out


def patrol_demand(hotspots: Sequence[Hotspot]) -> dict[str, float]:
    """Return each grid's patrol demand: the summed value of its hotspots.

    The value is the expected severity-weighted incidents of the window on the hotspots'
    streets, so demand is comparable between grids of a district and shares groups out in
    proportion to the risk they can cover.

    Parameters
    ----------
    hotspots
        Hotspots of one window (any grids).

    Returns
    -------
    dict
        Grid id -> demand (> 0 for every grid that has a hotspot).
    """
    out: dict[str, float] = {}
    for h in hotspots:
        out[h.grid_id] = out.get(h.grid_id, 0.0) + float(h.value)
    return out


def hotspot_changes(
    before: Sequence[Hotspot], after: Sequence[Hotspot], *, match_m: float = 100.0
) -> pd.DataFrame:
    """List hotspots that rose, fell, appeared or disappeared between two plans.

    Parameters
    ----------
    before, after
        Hotspots of the same window from the last plan and now.
    match_m
        Hotspots with different ids match when they lie in the same grid within this distance.

    Returns
    -------
    pandas.DataFrame
        Columns ``id``, ``grid_id``, ``before``, ``after``, ``change`` (after - before),
        ``ratio`` (after / before), ``status`` (``rose``, ``fell``, ``same``, ``new``, ``gone``),
        ``label``; sorted by the size of the change, largest first.
    """
    rows: list[dict[str, object]] = []
    used: set[str] = set()
    by_id = {h.id: h for h in before}
    for h in after:
        old = by_id.get(h.id)
        if old is None:
            near = [
                b
                for b in before
                if b.grid_id == h.grid_id
                and b.id not in used
                and math.hypot(b.x - h.x, b.y - h.y) <= match_m
            ]
            old = min(near, key=lambda b: math.hypot(b.x - h.x, b.y - h.y)) if near else None
        if old is not None:
            used.add(old.id)
        b_val = old.value if old is not None else 0.0
        change = h.value - b_val
        if old is None:
            status = "new"
        elif abs(change) <= 0.05 * max(b_val, 1e-12):
            status = "same"
        else:
            status = "rose" if change > 0 else "fell"
        rows.append(
            {
                "id": h.id,
                "grid_id": h.grid_id,
                "before": b_val,
                "after": h.value,
                "change": change,
                "ratio": h.value / b_val if b_val > 0 else math.inf,
                "status": status,
                "label": h.label,
            }
        )
    for b in before:
        if b.id not in used and b.id not in {h.id for h in after}:
            rows.append(
                {
                    "id": b.id,
                    "grid_id": b.grid_id,
                    "before": b.value,
                    "after": 0.0,
                    "change": -b.value,
                    "ratio": 0.0,
                    "status": "gone",
                    "label": b.label,
                }
            )
    frame = pd.DataFrame(
        rows, columns=["id", "grid_id", "before", "after", "change", "ratio", "status", "label"]
    )
    if len(frame):
        frame = frame.reindex(frame["change"].abs().sort_values(ascending=False).index)
    return frame.reset_index(drop=True)


@dataclass
class HotspotTracker:
    """Hotspots of a district kept up to date as incidents arrive.

    ``add`` feeds new incidents to the forecaster (its features follow at once, the learned
    model is not refitted); ``changes``
    compares the hotspots of a window now with those of the last call for that window.
    """

    district: District
    params: HotspotParams = field(default_factory=HotspotParams)
    vocabulary: Mapping[str, Category] = field(default_factory=lambda: dict(VOCABULARY))

    def __post_init__(self) -> None:
        self.model = fit_forecast(
            self.district.graph,
            _usable(self.district.incidents),
            self.params.forecast,
            terrain=self.district.terrain,
            vocabulary=self.vocabulary,
            kernel=self.district.risk_cache.kernel(
                self.district.graph, self.params.forecast.kde.bandwidth_m
            ),
        )
        self._tz = _incident_tz(_usable(self.district.incidents))
        self._last: dict[tuple[dt.date, str], list[Hotspot]] = {}

    def add(self, incidents: pd.DataFrame) -> int:
        """Add new incidents to the forecaster (no refit); return how many were added."""
        if self._tz is None:
            self._tz = _incident_tz(incidents)
        return self.model.add(incidents)

    def hotspots(
        self, day: dt.date, window: TimeWindow, grid_ids: Sequence[str] | None = None
    ) -> list[Hotspot]:
        """Return the hotspots of a window now and remember them for :meth:`changes`."""
        found = hotspots_for_window(
            self.district,
            day=day,
            window=window,
            grid_ids=grid_ids,
            params=self.params,
            model=self.model,
            incidents=self.district.incidents if self.district.incidents is not None else None,
        )
        self._last[(day, window.label())] = found
        return found

    def changes(
        self, day: dt.date, window: TimeWindow, grid_ids: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Return :func:`hotspot_changes` between the last plan of this window and now."""
        before = self._last.get((day, window.label()), [])
        after = self.hotspots(day, window, grid_ids)
        return hotspot_changes(before, after)
