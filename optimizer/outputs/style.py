"""Colours of groups and cells, shared by the PNG maps and the HTML map.

A group keeps one colour on every map of its window: groups are numbered in cell, then group
order - across the whole window where it has no more groups than :data:`GROUP_PALETTE` has
colours, else within their level-2 area - and take the palette's colours in turn; past the
palette's length the same colours come back dashed, then dotted (48 groups told apart).
Overview maps colour routes by their level-2 cell, with neighbouring cells in different colours
(a greedy colouring of the cells that touch).
"""

from __future__ import annotations

from dataclasses import dataclass

from optimizer.district import District
from optimizer.outputs.cells import CellIndex
from optimizer.plan.types import DayPlan

GROUP_PALETTE: tuple[str, ...] = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#393b79",
    "#637939",
    "#843c39",
    "#7b4173",
    "#e7969c",
    "#3182bd",
    "#31a354",
)
"""Route colours, distinguishable on a light grey street basemap (no grey among them)."""

CELL_PALETTE: tuple[str, ...] = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#393b79",
)
"""Colours of level-2 cells on overview maps: neighbours never share one, and no colour is used
twice while another is unused."""

AREA_LEVEL = 2
"""The level whose cells get one detailed map each (a dispatcher's area)."""


@dataclass(frozen=True)
class GroupStyle:
    """How one group's route is drawn in its window."""

    colour: str
    line: str
    """``"solid"``, ``"dashed"`` or ``"dotted"`` (see :data:`LINES`)."""
    area: str
    """The level-2 cell the group patrols in (its planned cell where that is coarser)."""
    index: int
    """Position of the group in its colour scope (window or area), from 0."""

    @property
    def dashed(self) -> bool:
        """Whether the line is broken (dashed or dotted)."""
        return self.line != "solid"


LINES: tuple[str, ...] = ("solid", "dashed", "dotted")
"""Line styles taken in turn each time the palette runs out."""


def group_area(cells: CellIndex, grid_id: str) -> str:
    """Return the level-2 cell a group planned on ``grid_id`` belongs to."""
    return cells.at_level(grid_id, AREA_LEVEL) or grid_id


def group_styles(plan: DayPlan, cells: CellIndex) -> dict[tuple[str, str], GroupStyle]:
    """Return ``(window label, group id) -> GroupStyle`` for every route of the plan."""
    n = len(GROUP_PALETTE)
    keyed: dict[str, list[tuple[tuple[object, ...], str, str]]] = {}
    for wp in plan.windows:
        area = group_area(cells, wp.grid_id)
        for route in wp.routes:
            key = (cells.sort_key(wp.grid_id), route.group.id, area)
            keyed.setdefault(wp.window.label(), []).append(key)
    styles: dict[tuple[str, str], GroupStyle] = {}
    for label, keys in keyed.items():
        whole_window = len(keys) <= n
        counters: dict[str, int] = {}
        for _, group_id, area in sorted(keys):
            scope = "" if whole_window else area
            i = counters.get(scope, 0)
            counters[scope] = i + 1
            styles[(label, group_id)] = GroupStyle(
                colour=GROUP_PALETTE[i % n], line=LINES[(i // n) % len(LINES)], area=area, index=i
            )
    return styles


def cell_colours(district: District, *, level: int = AREA_LEVEL) -> dict[str, str]:
    """Return cell id -> colour for the cells of ``level``, neighbours in different colours."""
    import networkx as nx

    grids = district.grids[district.grids["level"] == level]
    cells = CellIndex.from_district(district)
    ids = cells.order(str(i) for i in grids.index)
    geoms = {str(i): g for i, g in zip(grids.index, grids.geometry, strict=True)}
    G = nx.Graph()
    G.add_nodes_from(ids)
    for k, a in enumerate(ids):
        ga = geoms[a]
        if ga is None or ga.is_empty:
            continue
        for b in ids[k + 1 :]:
            gb = geoms[b]
            if gb is not None and not gb.is_empty and ga.intersects(gb):
                G.add_edge(a, b)
    # greedy: each cell takes the least used colour that no coloured neighbour has
    used = dict.fromkeys(CELL_PALETTE, 0)
    colours: dict[str, str] = {}
    for c in ids:
        taken = {colours[n] for n in G.neighbors(c) if n in colours}
        free = [p for p in CELL_PALETTE if p not in taken] or list(CELL_PALETTE)
        pick = min(free, key=lambda p: used[p])
        colours[c] = pick
        used[pick] += 1
    return colours
