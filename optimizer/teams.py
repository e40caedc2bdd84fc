"""Joint patrol groups: at least one officer leads each group of volunteers."""

from __future__ import annotations

from dataclasses import dataclass

from optimizer.timewindow import TimeWindow


@dataclass(frozen=True)
class PatrolGroup:
    """A joint patrol group for one window, allocated to one grid."""

    id: str
    grid_id: str
    window: TimeWindow
    officer_ids: tuple[str, ...]
    volunteer_ids: tuple[str, ...]
    station_id: str
    mode: str = "foot"

    @property
    def members(self) -> tuple[str, ...]:
        """Officer ids first, then volunteer ids."""
        return self.officer_ids + self.volunteer_ids
