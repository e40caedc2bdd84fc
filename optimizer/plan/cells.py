"""The planning cells: which to plan, where a point lies, what each cell needs and who can
patrol it.

:func:`planning_grid_ids` chooses the cells; :func:`locate` finds the cell of a point;
:func:`cell_need` says what a cell needs in a window (demand, post duties) and which travel
modes can patrol it (:func:`reaches`), and :func:`cell_capacity` how many groups it keeps busy.
:func:`place_node` picks the street node a patrol of a hotspot goes to.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import geopandas as gpd
import numpy as np
import numpy.typing as npt
from shapely.geometry import Point

from optimizer.district import District
from optimizer.errors import InputError
from optimizer.plan.params import RouteParams
from optimizer.plan.passes import hotspot_heat, spacing_s, visit_copies
from optimizer.risk.hotspots import Hotspot
from optimizer.staff.allocation import CellNeed, PostDuty
from optimizer.streets.graph import MODES
from optimizer.streets.network import StreetRouter

DEFAULT_GRID_LEVEL = 2
"""Grid level planned when none is named (or the finest level of a district with fewer)."""


def planning_grid_ids(
    district: District, *, level: int | None = None, grid_ids: Iterable[str] | None = None
) -> list[str]:
    """Return the cells to plan: ``grid_ids`` if given (validated), else all cells of ``level``.

    Parameters
    ----------
    district
        The district.
    level
        Grid level (1 = the coarsest); ``None`` means :data:`DEFAULT_GRID_LEVEL`, or the finest
        level where the district has fewer levels.
    grid_ids
        Explicit grid ids (any level).
    """
    grids = district.grids
    known = sorted(str(i) for i in grids.index)
    if grid_ids is not None:
        ids = list(dict.fromkeys(str(g) for g in grid_ids))
        for i, g in enumerate(ids):
            if g not in grids.index:
                shown = known if len(known) <= 30 else [*known[:30], "..."]
                raise InputError(
                    f"grid_ids[{i}]", g, f"a grid id of district {district.name!r}: {shown}"
                )
        if not ids:
            raise InputError("grid_ids", [], "at least one grid id")
        return ids
    levels = sorted(int(v) for v in grids["level"].unique())
    chosen = min(DEFAULT_GRID_LEVEL, levels[-1]) if level is None else level
    if not isinstance(chosen, int) or chosen not in levels:
        raise InputError("grid_level", level, f"one of the district's grid levels {levels}")
    return sorted(str(i) for i in grids.index[grids["level"] == chosen])


def locate(
    district: District, grid_ids: Sequence[str], points: Sequence[tuple[float, float]]
) -> list[str | None]:
    """Return the planning cell containing each ``(lon, lat)``, or ``None``."""
    if not points:
        return []
    cells = gpd.GeoDataFrame(
        {"cell": list(grid_ids)}, geometry=list(district.grids.loc[list(grid_ids)].geometry)
    ).set_crs("EPSG:4326")
    pts = gpd.GeoDataFrame(geometry=[Point(x, y) for x, y in points], crs="EPSG:4326")
    joined = gpd.sjoin(pts, cells, how="left", predicate="covered_by")
    first = joined[~joined.index.duplicated(keep="first")].sort_index()
    return [None if not isinstance(c, str) else c for c in first["cell"].tolist()]


def reaches(network: StreetRouter, nodes: Sequence[int], mode: str) -> npt.NDArray[np.bool_]:
    """Return whether a group of ``mode`` can patrol at each node and come back.

    A node counts where it lies on the mode's connected street network (see
    ``StreetRouter.connected``); cars and bicycles also reach what walkers reach (they park
    and walk, as :func:`~optimizer.plan.streets.mode_matrices` times it).
    """
    ok = network.connected(nodes, mode)
    if mode != "foot":
        ok = ok | network.connected(nodes, "foot")
    return ok


def place_node(network: StreetRouter, candidates: Sequence[int], modes: Sequence[str]) -> int:
    """Return the first of ``candidates`` every mode in ``modes`` reaches (see :func:`reaches`),
    else the first some mode reaches, else the first."""
    ok = np.ones(len(candidates), dtype=bool)
    some = np.zeros(len(candidates), dtype=bool)
    for m in modes:
        r = reaches(network, candidates, m)
        ok &= r
        some |= r
    for mask in (ok, some):
        if mask.any():
            return int(candidates[int(np.argmax(mask))])
    return int(candidates[0])


def hotspot_nodes(h: Hotspot) -> list[int]:
    """Street nodes a patrol of ``h`` may go to: its node first, then its streets' ends."""
    out = [int(h.node)]
    for u, v, _ in h.edges:
        for n in (int(u), int(v)):
            if n not in out:
                out.append(n)
    return out


CUT_OFF = (
    "its streets are cut off from the district's connected network: no travel mode reaches "
    "them and comes back"
)
"""Why a cell whose hotspots no mode can reach gets no group."""

DETOUR = 1.3
"""Street distance over straight-line distance, for estimates before the matrices exist."""
WALK_M_PER_S = 1.4
"""Walking speed (m/s) of those estimates."""


def cell_capacity(
    hotspots: Sequence[Hotspot],
    duties: Sequence[PostDuty],
    horizon_s: int,
    params: RouteParams,
) -> int:
    """Return how many groups a cell's hotspots and posts can keep busy in a window.

    Every pass its hotspots could be offered at the tightest spacing
    (:func:`~optimizer.plan.passes.visit_copies`), each with its dwell and a walk to the
    nearest other hotspot (straight line x :data:`DETOUR` at :data:`WALK_M_PER_S`), plus the
    posts' dwell, over one group's working time; at least one group, and one per post duty.
    """
    tight = params.spacing_scales[-1]
    xy = np.asarray([(h.x, h.y) for h in hotspots], dtype=float).reshape(-1, 2)
    hop_s = np.full(len(hotspots), params.loop_min * 60)
    if len(hotspots) > 1:
        gaps = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
        np.fill_diagonal(gaps, np.inf)
        hop_s = np.minimum(hop_s, DETOUR * gaps.min(axis=1) / WALK_M_PER_S)
    work = sum(
        visit_copies(h, horizon_s, params, spacing_s(h, params, tight), heat=q)
        * (h.dwell_min * 60 + float(t))
        for h, q, t in zip(hotspots, hotspot_heat(hotspots), hop_s, strict=True)
    )
    work += sum(d.dwell_min * 60 for d in duties)
    usable = max(1.0, horizon_s - params.return_reserve_min * 60)
    return max(1, len(duties), math.ceil(work / usable))


def cell_need(
    network: StreetRouter,
    grid_id: str,
    hotspots: Sequence[Hotspot],
    duties: Sequence[PostDuty],
    post_nodes: Sequence[int],
    *,
    min_share: float,
    capacity: int | None = None,
) -> CellNeed:
    """Return what a cell needs and which travel modes can patrol it.

    A mode can patrol the cell when it reaches (:func:`reaches`) hotspots holding at least
    ``min_share`` of the cell's demand and every post; where no mode can, the mode reaching
    the most demand. The demand counts only hotspots some mode reaches; ``capacity`` bounds
    its groups (:func:`cell_capacity`).
    """
    value = np.asarray([float(h.value) for h in hotspots])
    reach_value: dict[str, float] = {}
    reach_posts: dict[str, bool] = {}
    any_mode = np.zeros(len(hotspots), dtype=bool)
    for m in MODES:
        hits = np.asarray(
            [bool(reaches(network, hotspot_nodes(h), m).any()) for h in hotspots], dtype=bool
        )
        any_mode |= hits
        reach_value[m] = float(value[hits].sum()) if len(hits) else 0.0
        reach_posts[m] = bool(reaches(network, post_nodes, m).all()) if post_nodes else True
    demand = float(value[any_mode].sum()) if len(hotspots) else 0.0
    modes = frozenset(
        m for m in MODES if reach_posts[m] and reach_value[m] >= min_share * demand - 1e-12
    )
    if not modes:
        modes = frozenset({max(MODES, key=lambda m: (reach_posts[m], reach_value[m]))})
    reach = {m: reach_value[m] / demand if demand > 0 else 1.0 for m in MODES}
    return CellNeed(grid_id, demand, tuple(duties), modes, reach, capacity)
