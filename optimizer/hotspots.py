"""Patrol points from risk: hotspots per grid and window, with value, dwell and visit count.

Contract (owned by the hotspot work): :class:`Hotspot` and :func:`hotspots_for_window` keep
their shape; the model behind them may change.
"""

from __future__ import annotations

from dataclasses import dataclass


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
