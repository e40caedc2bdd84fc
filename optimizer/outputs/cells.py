"""How outputs group a plan: by window, then level-1 → level-2 → level-3 cell, then group.

A plan is made per cell of one level (``WindowPlan.grid_id``); schedules, summaries and maps
group those cells under their level-1 and level-2 ancestors. :class:`CellIndex` answers
"which level-2 cell is this in", "what is it called" and "in which order are cells listed".
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from optimizer.district import District
from optimizer.plan.types import DayPlan, GroupRoute, WindowPlan

OUTPUT_LEVELS: tuple[int, ...] = (1, 2, 3)
"""The levels a schedule row names: the bureau's level-1, level-2 and level-3 cells."""


def _natural_key(text: str) -> tuple[object, ...]:
    """Sort ``G1-2`` before ``G1-10``: digit runs compare as numbers."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


def _clean(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


@dataclass(frozen=True)
class CellIndex:
    """Levels, parents and names of a district's grid cells.

    Attributes
    ----------
    level
        Cell id -> level (1 = coarsest).
    parent
        Cell id -> the id of the cell one level up (``None`` on level 1).
    name
        Cell id -> its name (may be empty).
    """

    level: dict[str, int] = field(default_factory=dict)
    parent: dict[str, str | None] = field(default_factory=dict)
    name: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_district(cls, district: District | None) -> CellIndex:
        """Read the hierarchy of ``district.grids`` (an empty index for ``None``)."""
        if district is None:
            return cls()
        grids = district.grids
        level = {str(i): int(v) for i, v in zip(grids.index, grids["level"], strict=True)}
        parent = {str(i): _clean(p) for i, p in zip(grids.index, grids["parent"], strict=True)}
        names = (
            {str(i): _clean(n) or "" for i, n in zip(grids.index, grids["name"], strict=True)}
            if "name" in grids.columns
            else {}
        )
        return cls(level=level, parent=parent, name=names)

    def __contains__(self, cell: object) -> bool:
        return cell in self.level

    def ancestors(self, cell: str) -> list[str]:
        """Return the chain from the level-1 cell down to ``cell`` (just ``[cell]`` if unknown)."""
        chain = [cell]
        seen = {cell}
        while (up := self.parent.get(chain[0])) is not None and up not in seen:
            chain.insert(0, up)
            seen.add(up)
        return chain

    def at_level(self, cell: str, level: int) -> str:
        """Return the ancestor of ``cell`` on ``level`` (``cell`` itself there; ``""`` if none)."""
        for c in self.ancestors(cell):
            if self.level.get(c) == level:
                return c
        return ""

    def chain(self, cell: str) -> tuple[str, ...]:
        """Return the cell's level-1, level-2 and level-3 ids (``""`` where it has none)."""
        return tuple(self.at_level(cell, lv) for lv in OUTPUT_LEVELS)

    def cells(self, level: int) -> list[str]:
        """Return the ids of every cell of ``level`` in :meth:`sort_key` order."""
        return sorted((c for c, lv in self.level.items() if lv == level), key=self.sort_key)

    def children(self, cell: str) -> list[str]:
        """Return the ids of the cells one level below ``cell``, in order."""
        return sorted((c for c, p in self.parent.items() if p == cell), key=self.sort_key)

    def within(self, cell: str, area: str) -> bool:
        """Whether ``cell`` is ``area`` or lies inside it."""
        return area in self.ancestors(cell)

    def label(self, cell: str) -> str:
        """Return ``id (name)``, or the id alone where the name adds nothing."""
        name = self.name.get(cell, "")
        return f"{cell} ({name})" if name and cell not in name else cell

    def sort_key(self, cell: str) -> tuple[object, ...]:
        """Order cells as the hierarchy lists them: by their chain of ids, naturally sorted."""
        return tuple(_natural_key(c) for c in self.ancestors(cell))

    def order(self, cells: Iterable[str]) -> list[str]:
        """Return ``cells`` without repeats in hierarchy order."""
        return sorted(set(cells), key=self.sort_key)


def window_labels(plan: DayPlan) -> list[str]:
    """Return the plan's window labels (``HH:MM-HH:MM``) in the plan's order, once each."""
    return list(dict.fromkeys(wp.window.label() for wp in plan.windows))


def windows_in_order(plan: DayPlan, cells: CellIndex) -> list[WindowPlan]:
    """Return the plan's window plans by window, then level-1 → level-2 → level-3 cell."""
    rank = {label: i for i, label in enumerate(window_labels(plan))}
    return sorted(
        plan.windows, key=lambda wp: (rank[wp.window.label()], cells.sort_key(wp.grid_id))
    )


def routes_in_order(plan: DayPlan, cells: CellIndex) -> list[tuple[WindowPlan, GroupRoute]]:
    """Return every route with its window plan: by window, cell (level 1 → 3), then group id."""
    return [
        (wp, route)
        for wp in windows_in_order(plan, cells)
        for route in sorted(wp.routes, key=lambda r: _natural_key(r.group.id))
    ]
