"""The fitted risk state a district keeps: forecasters per incident history, segment grids.

A :class:`RiskCache` lives on its :class:`optimizer.district.District` (``district.risk_cache``),
so the planner's many calls of ``optimizer.risk.hotspots.hotspots_for_window`` (one per window,
for every grid) fit the forecaster once and then only read from it. Districts derived with
``dataclasses.replace`` (the API adds ingested incidents that way) share the cache; entries are
keyed by a fingerprint of the incident frame and the parameters, so a changed history gets its
own forecaster.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import networkx as nx

    from optimizer.risk.forecaster import RiskForecast
    from optimizer.risk.model import NetworkKernel


def frame_key(incidents: pd.DataFrame | None) -> tuple[Hashable, ...]:
    """Return a fingerprint of an incident frame (identity, size, first and last id and time)."""
    if incidents is None or len(incidents) == 0:
        return ("none",)
    ids = incidents["incident_id"] if "incident_id" in incidents.columns else None
    times = incidents["occurred_at"] if "occurred_at" in incidents.columns else None
    return (
        id(incidents),
        len(incidents),
        "" if ids is None else str(ids.iloc[0]),
        "" if ids is None else str(ids.iloc[-1]),
        "" if times is None else str(times.iloc[-1]),
    )


@dataclass
class RiskCache:
    """Fitted forecasters and segment-to-grid lookups of one district.

    Attributes
    ----------
    forecasts
        Fitted forecasters by (incident fingerprint, parameters); the oldest is dropped beyond
        ``max_forecasts``.
    segment_grids
        Grid id of each street segment, by (grids object id, level).
    kernels
        Network kernels of the district's graph, by bandwidth (m).
    max_forecasts
        Most forecasters kept.
    """

    forecasts: dict[tuple[Hashable, ...], RiskForecast] = field(default_factory=dict)
    segment_grids: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)
    kernels: dict[float, NetworkKernel] = field(default_factory=dict)
    max_forecasts: int = 4

    def kernel(self, G: nx.MultiDiGraph, bandwidth_m: float) -> NetworkKernel:
        """Return the network kernel of the district's graph ``G`` (built on first use)."""
        from optimizer.risk.model import network_kernel

        found = self.kernels.get(float(bandwidth_m))
        if found is None:
            found = network_kernel(G, float(bandwidth_m))
            self.kernels[float(bandwidth_m)] = found
        return found

    def forecast(
        self, key: tuple[Hashable, ...], build: Callable[[], RiskForecast]
    ) -> RiskForecast:
        """Return the forecaster stored under ``key``, building (and storing) it when missing."""
        found = self.forecasts.get(key)
        if found is None:
            found = build()
            while len(self.forecasts) >= self.max_forecasts:
                self.forecasts.pop(next(iter(self.forecasts)))
            self.forecasts[key] = found
        return found

    def clear(self) -> None:
        """Forget everything (e.g. after the street graph changed)."""
        self.forecasts.clear()
        self.segment_grids.clear()
        self.kernels.clear()
