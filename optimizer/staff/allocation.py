"""Allocation of one window's staff to cells: officers lead groups, volunteers join nearby.

:func:`form_groups` decides, for one day and window, how many groups each cell gets, which
officers lead them and which volunteers join them. Two exact, deterministic steps:

1. **Officers to cells** — an assignment problem (``scipy.optimize.linear_sum_assignment``).
   Officers of one station and mode form crews of ``min_officers``; the cells offer *slots*
   in strict priority tiers: one slot per post duty that overlaps another in the cell (every
   post is staffed first), then one slot in every cell with demand (every cell with demand
   gets a patrol before any gets a second), then further slots worth ``demand / k`` for the
   ``k``-th group of a cell (D'Hondt: a split in proportion to demand in whole groups). A crew
   fills a slot only where its travel mode has streets in the cell; within a tier, crews stay
   near their station (the distance to the cell's muster point costs a little). Each tier
   outweighs all lower tiers together, so no crew sits idle while a cell with demand has no
   group, and no post is left while a crew could staff it.
2. **Volunteers to groups** — a minimum-cost flow (OR-Tools ``SimpleMinCostFlow``): a
   volunteer may join a group whose cell touches the home cell or lies within
   ``volunteer_reach_km`` of it ("combining with those nearby and patrolling contiguous
   areas"); every group gets ``volunteers_first`` volunteers before any gets more, up to
   ``max_volunteers``; among volunteers who could go, those with fewer hours this week
   (against their weekly cap) go first, then those nearer home; remaining ties are broken by
   the seed. Groups no volunteer can reach patrol police-only. With
   ``GroupParams.pace_week`` a volunteer whose next duty of the week is not yet due
   (:func:`optimizer.staff.groups.pace_from`) rests (code ``paced``), so the weekly caps are
   spread over the week.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
from ortools.graph.python import min_cost_flow
from scipy.optimize import linear_sum_assignment

from optimizer.errors import InputError
from optimizer.staff.groups import (
    GroupFormation,
    GroupParams,
    PatrolGroup,
    Unassigned,
    UnstaffedPost,
    grid_neighbours,
    pace_from,
    week_fraction,
    window_hours,
)
from optimizer.staff.muster import Muster, cell_centres, km_between
from optimizer.staff.roster import Officer, Resources, Volunteer
from optimizer.timewindow import TimeWindow

POST_TIER = 1e7
"""Weight of a slot that staffs an overlapping post duty (above every other tier)."""
COVER_TIER = 1e5
"""Weight of a cell's first group (above every proportional slot together)."""
SHARE_TIER = 1e3
"""Weight of the proportional part: a further slot is worth ``SHARE_TIER * (1 + share / k)``."""
KM_COST = 1.0
"""Cost per km between an officer's station and the cell's muster point (times
``GroupParams.commute_weight``)."""
FIRST_REWARD = 10_000_000
"""Flow reward for a group's first volunteer; each next one of its first ``volunteers_first``
is worth ``RANK_STEP`` less (so volunteers spread: every group gets one before any gets two)."""
MORE_REWARD = 100_000
"""Flow reward for the first volunteer beyond ``volunteers_first``; each next one is worth
``RANK_STEP // 100`` less."""
RANK_STEP = 1_000_000
"""How much less each further volunteer of a group is worth (see ``FIRST_REWARD``)."""
FAIR_COST = 3_000
"""Flow cost of a volunteer at the weekly cap (times ``fairness_weight``; 0 for a fresh one)."""
VOLUNTEER_KM_COST = 100
"""Flow cost per km between a volunteer's home cell and the group's muster point."""
HOME_BONUS = 50
"""Flow bonus for a volunteer patrolling the home cell itself."""


@dataclass(frozen=True)
class PostDuty:
    """One duty of a fixed post inside the planning window."""

    post_id: str
    grid_id: str
    duty: TimeWindow
    start: dt.datetime
    end: dt.datetime
    dwell_min: float = 30.0

    @property
    def fixed(self) -> bool:
        """Whether the duty holds a group for most of its window (a school gate at 07:20-08:00),
        rather than a short stay somewhere in a long window (a hospital hall by day)."""
        length = (self.end - self.start).total_seconds() / 60
        return length - self.dwell_min < self.dwell_min


@dataclass(frozen=True)
class CellNeed:
    """What one cell needs in the window and what can patrol it."""

    grid_id: str
    demand: float
    """Patrol demand: the summed value of the cell's hotspots."""
    duties: tuple[PostDuty, ...] = ()
    modes: frozenset[str] = frozenset({"foot", "bicycle", "car"})
    """Travel modes that can patrol the cell."""
    reach: Mapping[str, float] = field(default_factory=dict)
    """Share of the demand each mode reaches (missing: all of it); a crew whose mode reaches
    less is a little less welcome (``SHARE_TIER`` per share missed)."""
    capacity: int | None = None
    """Most groups the cell's hotspots and posts can keep busy (``None``: no bound)."""

    @property
    def post_groups(self) -> int:
        """Groups the cell's posts need: the most fixed duties overlapping in time (at least one
        where the cell has any duty)."""
        fixed = [d for d in self.duties if d.fixed]
        events = sorted(
            [(d.start, 1) for d in fixed] + [(d.end, -1) for d in fixed],
            key=lambda e: (e[0], e[1]),
        )
        best = level = 0
        for _, step in events:
            level += step
            best = max(best, level)
        return max(best, 1 if self.duties else 0)


@dataclass(frozen=True)
class _Slot:
    grid_id: str
    tier: int
    """0: post, 1: first group, 2: further group."""
    weight: float
    rank: int
    """The slot's position among the cell's groups (1 = first)."""


@dataclass(frozen=True)
class _Crew:
    officers: tuple[Officer, ...]

    @property
    def lead(self) -> Officer:
        return self.officers[0]


def _check_cells(cells: Sequence[CellNeed], grid_ids: set[str]) -> None:
    seen: set[str] = set()
    for i, c in enumerate(cells):
        if c.grid_id not in grid_ids:
            raise InputError(f"cells[{i}].grid_id", c.grid_id, "a grid id present in grids")
        if c.grid_id in seen:
            raise InputError(f"cells[{i}].grid_id", c.grid_id, "each cell once")
        seen.add(c.grid_id)
        if not (isinstance(c.demand, int | float) and np.isfinite(c.demand) and c.demand >= 0):
            raise InputError(f"cells[{i}].demand", c.demand, "a finite number >= 0")


def _slots(cells: Sequence[CellNeed], params: GroupParams, n_crews: int) -> list[_Slot]:
    """Every slot worth filling, in priority tiers (see the module docstring)."""
    top = max((c.demand for c in cells), default=0.0)
    slots: list[_Slot] = []
    further: list[_Slot] = []
    for c in sorted(cells, key=lambda c: (-c.demand, c.grid_id)):
        share = c.demand / top if top > 0 else 0.0
        caps = [x for x in (params.max_groups_per_cell, c.capacity) if x is not None]
        cap = min(caps) if caps else None
        fixed = c.post_groups
        if params.max_groups_per_cell is not None:
            fixed = min(fixed, params.max_groups_per_cell)
        for k in range(fixed):
            slots.append(_Slot(c.grid_id, 0, POST_TIER + SHARE_TIER * share, k + 1))
        first = fixed
        if fixed == 0 and c.demand > 0 and c.demand >= params.cover_share * top:
            slots.append(_Slot(c.grid_id, 1, COVER_TIER + SHARE_TIER * share, 1))
            first = 1
        if c.demand <= 0 or first == 0:
            continue
        most = n_crews if cap is None else min(n_crews, cap)
        for k in range(first + 1, most + 1):
            further.append(_Slot(c.grid_id, 2, SHARE_TIER * (1.0 + share / k), k))
    # a crew fills one slot: more than three further slots per crew never pay
    further.sort(key=lambda s: (-s.weight, s.grid_id, s.rank))
    return slots + further[: 3 * n_crews]


def _crews(officers: Sequence[Officer], params: GroupParams) -> tuple[list[_Crew], list[Officer]]:
    """Crews of ``min_officers`` of one station and mode; the officers left over."""
    by_kind: dict[tuple[str, str], list[Officer]] = {}
    for o in officers:
        by_kind.setdefault((o.station_id, o.mode), []).append(o)
    crews: list[_Crew] = []
    spare: list[Officer] = []
    size = params.min_officers
    for key in sorted(by_kind):
        members = by_kind[key]
        whole = len(members) // size * size
        crews += [_Crew(tuple(members[i : i + size])) for i in range(0, whole, size)]
        spare += members[whole:]
    return crews, spare


def form_groups(
    resources: Resources,
    *,
    day: dt.date,
    window: TimeWindow,
    cells: Sequence[CellNeed],
    muster: Mapping[str, Muster],
    grids: gpd.GeoDataFrame,
    params: GroupParams | None = None,
    history: Mapping[str, float] | None = None,
    seed: int = 0,
) -> GroupFormation:
    """Form the joint patrol groups of one window and allocate them to cells.

    Parameters
    ----------
    resources
        Officers, volunteer teams and stations of the district.
    day, window
        The date and window; only people available for the whole window take part.
    cells
        The planning cells with their demand, post duties and patrollable modes.
    muster
        The muster point of every cell (where its groups start; distances are measured to it).
    grids
        Grid polygons indexed by id (WGS-84): home cells of volunteers and their neighbours.
    params
        Group rules, :class:`~optimizer.staff.groups.GroupParams` defaults when ``None``.
    history
        Hours each volunteer (by id) has served this week; missing ids count 0.
    seed
        Breaks ties between equal volunteers (reproducibly).

    Returns
    -------
    GroupFormation
        Groups, people left out with their reasons, groups per cell, posts without a group and
        cells with demand but no group, each with the binding constraint.

    Raises
    ------
    InputError
        A cell unknown to ``grids``, listed twice, with a negative demand or without a muster
        point.
    """
    params = params or GroupParams()
    history = history or {}
    grid_ids = {str(i) for i in grids.index}
    _check_cells(cells, grid_ids)
    for c in cells:
        if c.grid_id not in muster:
            raise InputError("muster", c.grid_id, "a muster point for every cell")
    unassigned: list[Unassigned] = []
    officers: list[Officer] = []
    for off in sorted(resources.officers, key=lambda o: o.id):
        if off.available(day, window):
            officers.append(off)
        else:
            reason = f"no shift covers {window.label()} on {day:%a %Y-%m-%d}"
            unassigned.append(Unassigned(off.id, "officer", "unavailable", reason))
    crews, spare = _crews(officers, params)
    stations = {s.id: (s.lon, s.lat) for s in resources.stations}
    need = {c.grid_id: c for c in cells}

    # --- 1. crews to cells ---------------------------------------------------------------
    slots = _slots(cells, params, len(crews))
    if params.max_groups is not None:
        ranked = sorted(range(len(slots)), key=lambda j: -slots[j].weight)
        slots = [slots[j] for j in sorted(ranked[: params.max_groups])]
    n, m = len(crews), len(slots)
    weight = np.full((n, m + n), -1e12)
    weight[:, m:] = 0.0  # one "stay unused" column per crew
    for i, crew in enumerate(crews):
        base = stations.get(crew.lead.station_id)
        for j, s in enumerate(slots):
            if crew.lead.mode not in need[s.grid_id].modes:
                continue
            m_ = muster[s.grid_id]
            km = km_between(base, (m_.lon, m_.lat)) if base is not None else 0.0
            missed = 1.0 - need[s.grid_id].reach.get(crew.lead.mode, 1.0)
            weight[i, j] = s.weight - params.commute_weight * KM_COST * km - SHARE_TIER * missed
    filled: dict[int, int] = {}
    if n and m:
        rows, cols = linear_sum_assignment(weight, maximize=True)
        filled = {int(j): int(i) for i, j in zip(rows, cols, strict=True) if j < m}
    crew_of_group: list[tuple[_Slot, _Crew]] = sorted(
        ((slots[j], crews[i]) for j, i in filled.items()),
        key=lambda sc: (sc[0].grid_id, sc[0].rank, sc[1].lead.id),
    )
    used_crews = set(filled.values())
    extras = spare + [o for i, c in enumerate(crews) if i not in used_crews for o in c.officers]
    crew_members = [list(c.officers) for _, c in crew_of_group]
    unused_officers: list[Officer] = []
    if params.max_officers > params.min_officers and crew_members:
        # officers left over join groups of their mode, the busiest cells first
        order = sorted(
            range(len(crew_of_group)),
            key=lambda g: (-need[crew_of_group[g][0].grid_id].demand, g),
        )
        for off in extras:
            spot = next(
                (
                    g
                    for g in order
                    if len(crew_members[g]) < params.max_officers
                    and crew_of_group[g][1].lead.mode == off.mode
                ),
                None,
            )
            if spot is None:
                unused_officers.append(off)
            else:
                crew_members[spot].append(off)
    else:
        unused_officers = list(extras)
    taken_modes = {need[s.grid_id].grid_id: need[s.grid_id].modes for s in slots}
    for off in sorted(unused_officers, key=lambda o: o.id):
        if len(officers) < params.min_officers or (
            off in spare and params.max_officers == params.min_officers
        ):
            code, reason = (
                "no_partner",
                (f"groups need {params.min_officers} officers of one station and mode"),
            )
        elif not any(off.mode in modes for modes in taken_modes.values()):
            code, reason = (
                "no_cell_for_mode",
                (f"no cell needing a group has streets to patrol by {off.mode}"),
            )
        else:
            code, reason = (
                "not_needed",
                (
                    "every cell with demand or posts has as many groups as its hotspots and posts "
                    "keep busy"
                ),
            )
        unassigned.append(Unassigned(off.id, "officer", code, reason))

    # --- 2. volunteers to groups ---------------------------------------------------------
    groups_cells = [s.grid_id for s, _ in crew_of_group]
    volunteers, allowed, vol_km, vol_left = _eligible_volunteers(
        resources, day, window, history, grids, groups_cells, muster, params
    )
    unassigned += vol_left
    chosen = _volunteer_flow(
        volunteers, allowed, vol_km, groups_cells, history, params, seed, resources
    )

    groups: list[PatrolGroup] = []
    for g, ((slot, _), members) in enumerate(zip(crew_of_group, crew_members, strict=True)):
        lead = members[0]
        groups.append(
            PatrolGroup(
                id=f"{day:%Y%m%d}-{window.start:%H%M}-{lead.id}",
                grid_id=slot.grid_id,
                window=window,
                officer_ids=tuple(o.id for o in members),
                volunteer_ids=tuple(sorted(volunteers[v].id for v in chosen.get(g, []))),
                station_id=lead.station_id,
                mode=lead.mode,
                muster_id=muster[slot.grid_id].id,
            )
        )
    placed = {v for vs in chosen.values() for v in vs}
    for k, v in enumerate(volunteers):
        if k in placed:
            continue
        home_cell = resources.home_grid(v)
        if not allowed[k]:
            code = "no_group_nearby"
            reason = (
                f"no group patrols within {params.volunteer_reach_km:g} km of home cell "
                f"{home_cell} or in a cell touching it"
            )
        else:
            code = "groups_full"
            reason = "the groups within reach are full, or volunteers with fewer hours went"
        unassigned.append(Unassigned(v.id, "volunteer", code, reason))
    unassigned.sort(key=lambda u: (u.role, u.person_id))

    allocation = {c.grid_id: sum(1 for g in groups if g.grid_id == c.grid_id) for c in cells}
    total = sum(c.demand for c in cells)
    target = {c.grid_id: len(groups) * c.demand / total if total > 0 else 0.0 for c in cells}
    unstaffed = _unstaffed_posts(cells, allocation, crews, len(officers))
    uncovered = {
        c.grid_id: _uncovered_reason(c, crews, len(officers))
        for c in cells
        if c.demand > 0 and allocation[c.grid_id] == 0
    }
    return GroupFormation(
        day=day,
        window=window,
        groups=tuple(sorted(groups, key=lambda p: (p.grid_id, p.id))),
        unassigned=tuple(unassigned),
        allocation=allocation,
        target=target,
        unstaffed_posts=tuple(unstaffed),
        uncovered=uncovered,
        seed=seed,
        stats={
            "officers_on_shift": float(len(officers)),
            "officers_in_groups": float(sum(len(g.officer_ids) for g in groups)),
            "officers_unused": float(len(unused_officers)),
            "volunteers_eligible": float(len(volunteers)),
            "volunteers_in_groups": float(sum(len(g.volunteer_ids) for g in groups)),
            "groups": float(len(groups)),
            "police_only_groups": float(sum(1 for g in groups if not g.volunteer_ids)),
            "cells_with_demand": float(sum(1 for c in cells if c.demand > 0)),
            "cells_with_groups": float(sum(1 for v in allocation.values() if v)),
            "post_duties": float(sum(len(c.duties) for c in cells)),
        },
    )


def _eligible_volunteers(
    resources: Resources,
    day: dt.date,
    window: TimeWindow,
    history: Mapping[str, float],
    grids: gpd.GeoDataFrame,
    group_cells: Sequence[str],
    muster: Mapping[str, Muster],
    params: GroupParams,
) -> tuple[list[Volunteer], list[list[int]], list[list[float]], list[Unassigned]]:
    """Volunteers who may join, the groups each may join and how far; the others' reasons."""
    hours = window_hours(window)
    neighbours = grid_neighbours(grids, tolerance_deg=params.neighbour_tolerance_deg)
    centres: dict[str, tuple[float, float]] = {}
    volunteers: list[Volunteer] = []
    allowed: list[list[int]] = []
    distance: list[list[float]] = []
    left: list[Unassigned] = []
    for team in sorted(resources.teams, key=lambda t: t.id):
        for v in sorted(team.members, key=lambda v: v.id):
            served = float(history.get(v.id, 0.0))
            home = v.home_grid or team.home_grid
            if not v.available(day, window):
                reason = f"availability does not cover {window.label()} on {day:%a}"
                left.append(Unassigned(v.id, "volunteer", "unavailable", reason))
                continue
            if served + hours > v.max_hours_week + 1e-9:
                reason = (
                    f"{served:g} h served this week + {hours:g} h would exceed the cap of "
                    f"{v.max_hours_week:g} h"
                )
                left.append(Unassigned(v.id, "volunteer", "weekly_cap", reason))
                continue
            if params.pace_week:
                due = pace_from(v.id, served_h=served, window_h=hours, cap_h=v.max_hours_week)
                if week_fraction(day, window, availability=v.availability) + 1e-9 < due:
                    reason = (
                        f"rests to spread the weekly cap of {v.max_hours_week:g} h over the "
                        f"week ({served:g} h served): the next duty is due once {due:.0%} of "
                        "the volunteer's available time this week has passed"
                    )
                    left.append(Unassigned(v.id, "volunteer", "paced", reason))
                    continue
            if home not in neighbours:
                reason = f"home cell {home!r} is not a cell of the district"
                left.append(Unassigned(v.id, "volunteer", "home_grid_unknown", reason))
                continue
            if home not in centres:
                centres.update(cell_centres(grids, [home]))
            mine: list[int] = []
            km: list[float] = []
            for g, cell in enumerate(group_cells):
                m = muster[cell]
                d = km_between(centres[home], (m.lon, m.lat))
                if cell in neighbours[home] or d <= params.volunteer_reach_km:
                    mine.append(g)
                    km.append(d)
            volunteers.append(v)
            allowed.append(mine)
            distance.append(km)
    return volunteers, allowed, distance, left


def _volunteer_flow(
    volunteers: Sequence[Volunteer],
    allowed: Sequence[Sequence[int]],
    distance: Sequence[Sequence[float]],
    group_cells: Sequence[str],
    history: Mapping[str, float],
    params: GroupParams,
    seed: int,
    resources: Resources,
) -> dict[int, list[int]]:
    """Return, per group index, the indices of the volunteers who join it (min-cost flow)."""
    n_vol, n_grp = len(volunteers), len(group_cells)
    if n_vol == 0 or n_grp == 0 or params.max_volunteers == 0:
        return {}
    flow = min_cost_flow.SimpleMinCostFlow()
    sink = n_vol + n_grp
    ties = np.random.default_rng(seed).permutation(n_vol)
    tails: list[int] = []
    heads: list[int] = []
    caps: list[int] = []
    costs: list[int] = []
    arc_pair: dict[int, tuple[int, int]] = {}
    for k, v in enumerate(volunteers):
        load = float(history.get(v.id, 0.0)) / max(v.max_hours_week, 1e-9)
        personal = round(FAIR_COST * params.fairness_weight * min(1.0, load)) + int(ties[k] % 10)
        home = resources.home_grid(v)
        for g, km in zip(allowed[k], distance[k], strict=True):
            arc_pair[len(tails)] = (k, g)
            bonus = HOME_BONUS if group_cells[g] == home else 0
            tails.append(k)
            heads.append(n_vol + g)
            caps.append(1)
            costs.append(personal + round(VOLUNTEER_KM_COST * km) - bonus)
        tails.append(k)  # not joining at all
        heads.append(sink)
        caps.append(1)
        costs.append(0)
    for g in range(n_grp):
        for rank in range(params.max_volunteers):
            if rank < params.volunteers_first:
                reward = FIRST_REWARD - RANK_STEP * rank
            else:
                reward = MORE_REWARD - (RANK_STEP // 100) * (rank - params.volunteers_first)
            tails.append(n_vol + g)
            heads.append(sink)
            caps.append(1)
            costs.append(-reward)
    flow.add_arcs_with_capacity_and_unit_cost(
        np.asarray(tails), np.asarray(heads), np.asarray(caps), np.asarray(costs)
    )
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n_vol] = 1
    supplies[sink] = -n_vol
    flow.set_nodes_supplies(np.arange(sink + 1), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:  # pragma: no cover - the network always has a feasible flow
        raise RuntimeError(f"volunteer allocation failed (min-cost flow status {status})")
    chosen: dict[int, list[int]] = {}
    for arc, (k, g) in arc_pair.items():
        if flow.flow(arc) > 0:
            chosen.setdefault(g, []).append(k)
    return chosen


def _unstaffed_posts(
    cells: Sequence[CellNeed], allocation: Mapping[str, int], crews: Sequence[_Crew], on_shift: int
) -> list[UnstaffedPost]:
    """Post duties beyond the groups their cell got, with the binding constraint."""
    out: list[UnstaffedPost] = []
    need_total = sum(c.post_groups for c in cells)
    for c in cells:
        short = c.post_groups - allocation.get(c.grid_id, 0)
        if short <= 0:
            continue
        fit = [cr for cr in crews if cr.lead.mode in c.modes]
        if not fit:
            code = "no_officer_for_mode"
            reason = (
                f"no officer on shift can patrol its cell's streets (open to "
                f"{', '.join(sorted(c.modes)) or 'no travel mode'})"
            )
            missing = short
        else:
            code = "no_officer"
            missing = max(short, need_total - len(crews))
            reason = (
                f"{need_total} post duties across the district need a group at the same time, "
                f"{len(crews)} crews were formed from {on_shift} officer(s) on shift: "
                f"{missing} more officer(s) needed"
            )
        for d in sorted(c.duties, key=lambda d: (d.start, d.post_id))[-short:]:
            out.append(UnstaffedPost(d.post_id, c.grid_id, d.duty.label(), code, reason, missing))
    return out


def _uncovered_reason(cell: CellNeed, crews: Sequence[_Crew], on_shift: int) -> str:
    """Why a cell with demand got no group."""
    if on_shift == 0:
        return "no officer is on shift for the whole window"
    if not crews:
        return f"the {on_shift} officer(s) on shift are too few to form a crew"
    if not any(cr.lead.mode in cell.modes for cr in crews):
        modes = ", ".join(sorted(cell.modes)) or "no travel mode"
        return f"no officer on shift can patrol its streets (open to {modes})"
    return (
        f"all {len(crews)} crew(s) from {on_shift} officer(s) on shift lead groups in cells with "
        "posts or more demand: more officers are needed"
    )
