"""Immutable data of one routing problem: one grid x one time window (or a benchmark instance).

Times are integer seconds from the start of the window. Locations are indices into the
travel-time matrices: ``0 .. n_depots-1`` are depots (stations / bases), then one per site.
A site that must be visited ``k`` times appears as ``k`` sites sharing ``key`` with
``min_spacing_s`` between consecutive visits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from optimizer.errors import InputError

SiteKind = str  # "hotspot" | "post"

NO_PATH_S = 10**6
"""Travel time (s) standing for "no street path": a leg no shift can take (about 12 days). A
matrix entry at or above it is never a time to show anybody; it is small enough that engines
may sum and penalise a few such legs inside int64."""


@dataclass(frozen=True)
class Site:
    """A place a group may (hotspot) or must (post) visit."""

    id: str
    location: int
    prize: float
    dwell_s: int
    earliest_s: int = 0
    latest_s: int | None = None
    required: bool = False
    kind: SiteKind = "hotspot"
    key: str | None = None
    """Visits of the same hotspot share a key; ``None`` means the site id."""
    visit_number: int = 1
    min_spacing_s: int = 0
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Vehicle:
    """One patrol group's route: where it starts and ends, when, and how it moves."""

    id: str
    start_location: int
    end_location: int
    mode: str
    shift_start_s: int = 0
    shift_end_s: int = 4 * 3600
    break_s: int = 0
    """Length of a break that must fit in the route (0: none)."""
    break_earliest_s: int = 0
    break_latest_s: int | None = None


@dataclass(frozen=True)
class PatrolProblem:
    """All an engine needs: sites, vehicles and travel times per mode.

    Parameters
    ----------
    n_depots
        Number of depot locations at the front of the matrices.
    sites
        Sites; ``site.location`` indexes the matrices.
    vehicles
        Routes to build.
    durations
        Travel time in seconds per travel mode, a square integer matrix over all locations.
    distances
        Travel distance in metres, same shape (for reporting), optional.
    horizon_s
        Length of the window in seconds.
    """

    n_depots: int
    sites: tuple[Site, ...]
    vehicles: tuple[Vehicle, ...]
    durations: Mapping[str, npt.NDArray[np.int64]]
    horizon_s: int
    distances: npt.NDArray[np.float64] | None = None
    name: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)
    """Free-form extras, e.g. a benchmark's coordinates and integer scale."""

    def __post_init__(self) -> None:
        n = self.n_locations
        for mode, matrix in self.durations.items():
            if matrix.shape != (n, n):
                raise InputError(f"durations[{mode}]", matrix.shape, f"a ({n}, {n}) matrix")
        for v in self.vehicles:
            if v.mode not in self.durations:
                raise InputError(
                    f"vehicles.{v.id}.mode", v.mode, f"one of {sorted(self.durations)}"
                )
            if v.shift_end_s <= v.shift_start_s:
                raise InputError(
                    f"vehicles.{v.id}.shift_end_s", v.shift_end_s, "a time after shift_start_s"
                )
        for s in self.sites:
            if not self.n_depots <= s.location < n:
                raise InputError(
                    f"sites.{s.id}.location", s.location, f"an index in [{self.n_depots}, {n})"
                )
            if s.latest_s is not None and s.latest_s < s.earliest_s:
                raise InputError(
                    f"sites.{s.id}.latest_s", s.latest_s, "a time not before earliest_s"
                )

    @property
    def n_locations(self) -> int:
        """Number of matrix rows: depots plus sites."""
        return next(iter(self.durations.values())).shape[0] if self.durations else 0
