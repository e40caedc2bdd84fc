"""Joint patrol groups: at least one officer leads each group of volunteers.

:func:`form_groups` builds the groups of one day and window with OR-Tools CP-SAT:

* only people available for the whole window take part;
* every group has ``min_officers..max_officers`` officers and ``min_volunteers..max_volunteers``
  volunteers; the first officer leads it and gives it its travel mode and start station;
* a volunteer patrols only in or next to the home grid of their team;
* a volunteer's hours this week (``history``) plus the window stay within their weekly cap,
  and volunteers with fewer hours are preferred (fair rotation across days);
* every grid with real demand (at least ``GroupParams.cover_share`` of the highest grid's)
  gets a group before any grid gets a second one, as far as groups and volunteers allow;
* the remaining groups go to grids in proportion to patrol demand (D'Hondt apportionment: the
  ``k``-th group of a grid is worth ``demand / k``), which is what a proportional split means
  in whole groups.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from ortools.sat.python import cp_model

from optimizer.errors import InfeasibleError, InputError
from optimizer.staff.roster import Officer, Resources, Volunteer, VolunteerTeam
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


@dataclass(frozen=True)
class GroupParams:
    """Rules of group formation; checks itself on creation.

    Parameters
    ----------
    min_officers, max_officers
        Officers per group (at least one always leads).
    min_volunteers, max_volunteers
        Volunteers per group.
    max_groups
        Upper bound on the number of groups in the window (``None``: as many as officers allow).
    neighbour_tolerance_deg
        Grids closer than this (degrees) count as touching, absorbing rounding at shared edges.
    fairness_weight
        Weight of "prefer volunteers with fewer hours this week" against filling groups up;
        0 disables the preference (ties are then broken by the seed).
    fill_groups
        Whether to add volunteers beyond ``min_volunteers`` when available.
    start_at
        ``"officer"``: routes start at the lead officer's station; ``"team"``: at the base of the
        team most of the group's volunteers belong to.
    cover_share
        A grid whose demand is at least this share of the highest grid's demand has real
        demand: every such grid gets one group before any grid gets a second (with fewer
        groups than such grids, the grids with the most demand get one each). ``0``: every
        grid with demand; above ``1``: no such priority, a purely proportional split.
    """

    min_officers: int = 1
    max_officers: int = 1
    min_volunteers: int = 2
    max_volunteers: int = 4
    max_groups: int | None = None
    neighbour_tolerance_deg: float = 1e-6
    fairness_weight: float = 1.0
    fill_groups: bool = True
    start_at: Literal["officer", "team"] = "officer"
    cover_share: float = 0.05

    def __post_init__(self) -> None:
        if self.min_officers < 1:
            raise InputError(
                "min_officers", self.min_officers, "an integer >= 1 (an officer leads)"
            )
        if self.max_officers < self.min_officers:
            raise InputError(
                "max_officers",
                self.max_officers,
                f"an integer >= min_officers ({self.min_officers})",
            )
        if self.min_volunteers < 0:
            raise InputError("min_volunteers", self.min_volunteers, "an integer >= 0")
        if self.max_volunteers < self.min_volunteers:
            raise InputError(
                "max_volunteers",
                self.max_volunteers,
                f"an integer >= min_volunteers ({self.min_volunteers})",
            )
        if self.max_groups is not None and self.max_groups < 1:
            raise InputError("max_groups", self.max_groups, "None or an integer >= 1")
        if self.fairness_weight < 0:
            raise InputError("fairness_weight", self.fairness_weight, "a number >= 0")
        if self.start_at not in ("officer", "team"):
            raise InputError("start_at", self.start_at, "'officer' or 'team'")
        if not (isinstance(self.cover_share, int | float) and self.cover_share >= 0):
            raise InputError("cover_share", self.cover_share, "a number >= 0")


@dataclass(frozen=True)
class Unassigned:
    """A person left out of every group, with a machine code and a human reason."""

    person_id: str
    role: str
    """``"officer"`` or ``"volunteer"``."""
    code: str
    """``unavailable``, ``weekly_cap``, ``home_grid_unknown``, ``no_group_nearby``,
    ``not_needed`` or ``no_volunteers``."""
    reason: str


@dataclass(frozen=True)
class GroupFormation:
    """The answer of :func:`form_groups`."""

    day: dt.date
    window: TimeWindow
    groups: tuple[PatrolGroup, ...]
    unassigned: tuple[Unassigned, ...]
    allocation: dict[str, int]
    """Number of groups per grid (every demand grid listed, zeros included)."""
    target: dict[str, float]
    """Proportional share of the groups each grid would get if groups were divisible."""
    status: str
    """CP-SAT status name: ``OPTIMAL`` or ``FEASIBLE``."""
    objective: float
    runtime_s: float
    seed: int
    stats: dict[str, float] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Return one row per group: id, grid, mode, station, officers, volunteers."""
        return pd.DataFrame(
            [
                {
                    "group": g.id,
                    "grid_id": g.grid_id,
                    "window": g.window.label(),
                    "mode": g.mode,
                    "station_id": g.station_id,
                    "officers": ",".join(g.officer_ids),
                    "volunteers": ",".join(g.volunteer_ids),
                    "size": len(g.members),
                }
                for g in self.groups
            ],
            columns=[
                "group",
                "grid_id",
                "window",
                "mode",
                "station_id",
                "officers",
                "volunteers",
                "size",
            ],
        )

    def unassigned_frame(self) -> pd.DataFrame:
        """Return one row per person left out, with the reason."""
        return pd.DataFrame(
            [vars(u) for u in self.unassigned], columns=["person_id", "role", "code", "reason"]
        )


def grid_neighbours(grids: gpd.GeoDataFrame, *, tolerance_deg: float = 1e-6) -> dict[str, set[str]]:
    """Return, for each grid id, the ids of grids it touches, overlaps or contains (and itself).

    A grid of another level counts when the geometries meet: a level-2 home grid is "next to"
    every leaf cell inside or along it.

    Parameters
    ----------
    grids
        Grids indexed by id, WGS-84 polygons.
    tolerance_deg
        Buffer (degrees) absorbing rounding where edges are shared.

    Returns
    -------
    dict
        ``{grid_id: {neighbour ids}}``.
    """
    if grids.empty:
        return {}
    ids = [str(i) for i in grids.index]
    geoms = np.asarray(grids.geometry.values)
    if tolerance_deg > 0:
        # a tiny buffer in degrees only absorbs rounding; no metric meaning is intended
        geoms = shapely.buffer(geoms, tolerance_deg)
    left, right = grids.sindex.query(geoms, predicate="intersects")
    out: dict[str, set[str]] = {i: {i} for i in ids}
    for a, b in zip(left, right, strict=True):
        out[ids[int(a)]].add(ids[int(b)])
    return out


def _hours(window: TimeWindow) -> float:
    return window.minutes / 60.0


def _tie_breaks(ids: list[str], seed: int) -> dict[str, int]:
    """Seeded, reproducible small integers that break ties between equal people."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(ids))
    return {pid: int(order[i]) for i, pid in enumerate(ids)}


def _centroids(grids: gpd.GeoDataFrame) -> dict[str, tuple[float, float]]:
    out = {}
    for gid, geom in zip(grids.index, grids.geometry, strict=True):
        c = geom.representative_point() if geom is not None else None
        if c is not None:
            out[str(gid)] = (float(c.x), float(c.y))
    return out


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Equirectangular distance in km between two lon/lat points (good at district scale)."""
    lat = math.radians((a[1] + b[1]) / 2)
    dx = math.radians(b[0] - a[0]) * math.cos(lat)
    dy = math.radians(b[1] - a[1])
    return 6371.0 * math.hypot(dx, dy)


def form_groups(
    resources: Resources,
    *,
    day: dt.date,
    window: TimeWindow,
    demand: Mapping[str, float],
    grids: gpd.GeoDataFrame,
    params: GroupParams | None = None,
    history: Mapping[str, float] | None = None,
    seed: int = 0,
    time_limit_s: float = 5.0,
) -> GroupFormation:
    """Form the joint patrol groups of one window and allocate them to grids.

    Parameters
    ----------
    resources
        Officers, volunteer teams and stations of the district.
    day, window
        The date and window planned; only people available for the whole window take part.
    demand
        Patrol demand per grid id (e.g. from ``optimizer.risk.hotspots.patrol_demand``); grids with
        zero demand get no group.
    grids
        Grid polygons indexed by id (WGS-84), used to find the grids next to a team's home grid.
    params
        Group rules, :class:`GroupParams` defaults when ``None``.
    history
        Hours each volunteer (by id) has already served this week; missing ids count 0.
    seed
        Seed of the CP-SAT search and of tie-breaking between equal volunteers.
    time_limit_s
        Deterministic-time budget of the search (CP-SAT units, about seconds on one core); the
        wall-clock limit is three times that plus two seconds, a guard for a loaded machine.

    Returns
    -------
    GroupFormation
        Groups, unassigned people with their reasons, groups per grid, solver status.

    Raises
    ------
    InputError
        Demand empty, negative or for grids not in ``grids``; bad ``time_limit_s``.
    InfeasibleError
        No group can be formed: ``officer_available`` (no officer covers the window),
        ``volunteers_per_group`` (too few volunteers available), ``volunteer_home_grid`` (no
        demand grid is in or next to enough volunteers' home grids).
    """
    params = params or GroupParams()
    history = history or {}
    started = time.perf_counter()
    if not time_limit_s > 0:
        raise InputError("time_limit_s", time_limit_s, "a number of seconds > 0")
    grid_ids = {str(i) for i in grids.index}
    for gid, value in demand.items():
        if str(gid) not in grid_ids:
            raise InputError(f"demand[{gid!r}]", gid, "a grid id present in grids")
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
            raise InputError(f"demand[{gid!r}]", value, "a finite number >= 0")
    cells = sorted(str(g) for g, v in demand.items() if v > 0)
    if not cells:
        raise InputError("demand", dict(demand), "at least one grid with demand > 0")
    hours = _hours(window)
    unassigned: list[Unassigned] = []

    # --- who can take part -------------------------------------------------------------
    officers: list[Officer] = []
    for off in sorted(resources.officers, key=lambda x: x.id):
        if off.available(day, window):
            officers.append(off)
        else:
            unassigned.append(
                Unassigned(
                    off.id,
                    "officer",
                    "unavailable",
                    f"no shift covers {window.label()} on {day:%a %Y-%m-%d}",
                )
            )
    if not officers:
        raise InfeasibleError(
            "officer_available",
            f"no officer has a shift covering {window.label()} on {day:%a %Y-%m-%d}; "
            "every group needs one",
        )

    neighbours = grid_neighbours(grids, tolerance_deg=params.neighbour_tolerance_deg)
    team_of: dict[str, VolunteerTeam] = {}
    volunteers: list[Volunteer] = []
    allowed: dict[str, list[str]] = {}
    for team in sorted(resources.teams, key=lambda t: t.id):
        for v in sorted(team.members, key=lambda v: v.id):
            team_of[v.id] = team
            served = float(history.get(v.id, 0.0))
            if not v.available(day, window):
                unassigned.append(
                    Unassigned(
                        v.id,
                        "volunteer",
                        "unavailable",
                        f"availability does not cover {window.label()} on {day:%a}",
                    )
                )
            elif served + hours > v.max_hours_week + 1e-9:
                unassigned.append(
                    Unassigned(
                        v.id,
                        "volunteer",
                        "weekly_cap",
                        f"{served:g} h served this week + {hours:g} h would exceed the cap of "
                        f"{v.max_hours_week:g} h",
                    )
                )
            elif team.home_grid not in neighbours:
                unassigned.append(
                    Unassigned(
                        v.id,
                        "volunteer",
                        "home_grid_unknown",
                        f"home grid {team.home_grid!r} of team {team.id} is not a known grid",
                    )
                )
            else:
                near = [c for c in cells if c in neighbours[team.home_grid]]
                if not near:
                    unassigned.append(
                        Unassigned(
                            v.id,
                            "volunteer",
                            "no_group_nearby",
                            f"no grid with patrol demand is in or next to home grid "
                            f"{team.home_grid}",
                        )
                    )
                else:
                    volunteers.append(v)
                    allowed[v.id] = near

    if len(volunteers) < params.min_volunteers:
        avail = sum(1 for t in resources.teams for v in t.members if v.available(day, window))
        if avail < params.min_volunteers:
            raise InfeasibleError(
                "volunteers_per_group",
                f"{avail} volunteer(s) available for {window.label()} on {day:%Y-%m-%d}; "
                f"a group needs "
                f"at least {params.min_volunteers}",
            )
        raise InfeasibleError(
            "volunteer_home_grid" if avail - len(volunteers) > 0 else "volunteers_per_group",
            f"only {len(volunteers)} volunteer(s) are available, under their weekly cap "
            f"and in or next to a grid with demand; a group needs at least {params.min_volunteers}",
        )

    # --- model -------------------------------------------------------------------------
    # People are assigned to grids, not to groups: officer g *leading* in grid c opens a
    # group there; volunteers and extra officers are counted per grid and split into that
    # grid's groups afterwards (n groups can take N volunteers iff min*n <= N <= max*n).
    # This removes the volunteer-to-group symmetry that makes a per-group model slow.
    model = cp_model.CpModel()
    # Lexicographic by magnitude: more groups, then more grids with real demand covered
    # (W_COVER > W_DEMAND, the most any one D'Hondt step adds), then the proportional split,
    # then full groups, fair rotation, home grids and short trips from the station.
    W_GROUP, W_COVER, W_DEMAND, W_VOL, W_FAIR = 1_000_000, 200_000, 100_000, 1_000, 800
    n_off = len(officers)
    n_vol = len(volunteers)
    max_groups = min(n_off, params.max_groups or n_off)
    if params.min_volunteers > 0:
        max_groups = min(max_groups, n_vol // params.min_volunteers)
    lead = {(g, c): model.new_bool_var(f"lead[{g},{c}]") for g in range(n_off) for c in cells}
    extra: dict[tuple[int, str], cp_model.IntVar] = {}
    if params.max_officers > 1:
        extra = {(g, c): model.new_bool_var(f"extra[{g},{c}]") for g in range(n_off) for c in cells}
    for g in range(n_off):
        model.add(sum(lead[g, c] for c in cells) + sum(extra[g, c] for c in cells if extra) <= 1)
    # Volunteers of one team with the same weekly load are interchangeable in the model:
    # count them per grid (one integer per class and grid) instead of one boolean each, which
    # removes their symmetry; who exactly goes is decided afterwards in a seeded order.
    fill = W_VOL if params.fill_groups else 0
    classes: dict[tuple[str, int], list[int]] = {}
    for i, v in enumerate(volunteers):
        load = float(history.get(v.id, 0.0)) / max(v.max_hours_week, 1e-9)  # 0 fresh .. 1 cap
        classes.setdefault((v.team_id, round(1000 * load)), []).append(i)
    class_keys = sorted(classes)
    take: dict[tuple[int, str], cp_model.IntVar] = {}
    for k, key in enumerate(class_keys):
        members = classes[key]
        for c in allowed[volunteers[members[0]].id]:
            take[k, c] = model.new_int_var(0, len(members), f"take[{k},{c}]")
        model.add(sum(take[k, c] for c in allowed[volunteers[members[0]].id]) <= len(members))
    n_groups: dict[str, Any] = {}
    for c in cells:
        opened = sum(lead[g, c] for g in range(n_off))
        n_groups[c] = opened
        n_take = sum(take[k, c] for k in range(len(class_keys)) if (k, c) in take)
        model.add(n_take >= params.min_volunteers * opened)
        model.add(n_take <= params.max_volunteers * opened)
        if extra:
            more = sum(extra[g, c] for g in range(n_off))
            model.add(more <= (params.max_officers - 1) * opened)
            model.add(more >= (params.min_officers - 1) * opened)
    model.add(sum(lead.values()) <= max_groups)
    # identical officers (same station and mode) lead in id order: breaks symmetry
    for a, b in itertools.pairwise(range(n_off)):
        if (officers[a].station_id, officers[a].mode) == (officers[b].station_id, officers[b].mode):
            model.add(sum(lead[a, c] for c in cells) >= sum(lead[b, c] for c in cells))

    # a first group in every grid with real demand, then proportional allocation: the k-th
    # group of a grid is worth demand/k (D'Hondt)
    top = max(float(demand[c]) for c in cells)
    terms: list[Any] = []
    weights: list[int] = []
    W_HOME, W_DIST = 50, 20
    for c in cells:
        steps = [model.new_bool_var(f"step[{c},{k}]") for k in range(max_groups)]
        for s0, s1 in itertools.pairwise(steps):
            model.add_implication(s1, s0)
        model.add(sum(steps) == n_groups[c])
        real = float(demand[c]) >= params.cover_share * top
        for k, s in enumerate(steps):
            terms.append(s)
            weights.append(
                W_GROUP
                + (W_COVER if k == 0 and real else 0)
                + round(W_DEMAND * float(demand[c]) / top / (k + 1))
            )

    # officers stay near their station: a small cost per km from station to grid
    centre = _centroids(grids)
    station_xy = {s.id: (s.lon, s.lat) for s in resources.stations}
    for g in range(n_off):
        sxy = station_xy.get(officers[g].station_id)
        for c in cells:
            if sxy is not None and c in centre:
                cost = round(W_DIST * min(_km(sxy, centre[c]), 50.0))
                terms.append(lead[g, c])
                weights.append(-cost)
                if extra:
                    terms.append(extra[g, c])
                    weights.append(-cost + W_VOL // 2)

    for k, key in enumerate(class_keys):
        first = volunteers[classes[key][0]]
        w = fill - round(W_FAIR * params.fairness_weight * key[1] / 1000)
        home = team_of[first.id].home_grid
        for c in allowed[first.id]:
            terms.append(take[k, c])
            weights.append(w + (W_HOME if c == home else 0))
    model.maximize(sum(w * t for w, t in zip(weights, terms, strict=True) if w != 0))

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = int(seed) % (2**31)
    solver.parameters.max_deterministic_time = float(time_limit_s)
    solver.parameters.max_time_in_seconds = 3.0 * float(time_limit_s) + 2.0
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise InfeasibleError(
            "group_formation",
            f"CP-SAT found no grouping within {time_limit_s:g} s "
            f"(status {solver.status_name(status)})",
        )

    # --- read the answer ---------------------------------------------------------------
    groups: list[PatrolGroup] = []
    used_officers: set[int] = set()
    used_volunteers: set[int] = set()
    # who of each class goes where: a seeded order, so equal volunteers take turns across seeds
    ties = _tie_breaks([v.id for v in volunteers], seed)
    chosen: dict[str, list[int]] = {c: [] for c in cells}
    for k, key in enumerate(class_keys):
        queue = sorted(classes[key], key=lambda i: ties[volunteers[i].id])
        for c in cells:
            n = int(solver.value(take[k, c])) if (k, c) in take else 0
            chosen[c] += queue[:n]
            queue = queue[n:]
    for c in cells:
        leaders = [g for g in range(n_off) if solver.boolean_value(lead[g, c])]
        if not leaders:
            continue
        extras = [g for g in range(n_off) if extra and solver.boolean_value(extra[g, c])]
        # teammates stay together: deal volunteers sorted by (team, id) into consecutive groups
        vols = sorted(chosen[c], key=lambda i: (volunteers[i].team_id, volunteers[i].id))
        k = len(leaders)
        sizes = [len(vols) // k + (1 if j < len(vols) % k else 0) for j in range(k)]
        extra_split = [extras[j::k] for j in range(k)]
        pos = 0
        for j, g in enumerate(leaders):
            mine = vols[pos : pos + sizes[j]]
            pos += sizes[j]
            crew = [g, *extra_split[j]]
            used_officers.update(crew)
            used_volunteers.update(mine)
            leader = officers[g]
            station = leader.station_id
            if params.start_at == "team" and mine:
                counts: dict[str, int] = {}
                for i in mine:
                    base = team_of[volunteers[i].id].base_station_id
                    counts[base] = counts.get(base, 0) + 1
                station = max(sorted(counts), key=lambda s: counts[s])
            groups.append(
                PatrolGroup(
                    id=f"{day:%Y%m%d}-{window.start:%H%M}-{leader.id}",
                    grid_id=c,
                    window=window,
                    officer_ids=tuple(officers[o].id for o in crew),
                    volunteer_ids=tuple(sorted(volunteers[i].id for i in mine)),
                    station_id=station,
                    mode=leader.mode,
                )
            )
    if not groups:
        raise InfeasibleError(
            "volunteer_home_grid",
            f"{len(officers)} officer(s) and {len(volunteers)} volunteer(s) are available, but no "
            f"grid with demand has {params.min_volunteers} volunteers whose home grid is in or "
            "next to it",
        )
    groups.sort(key=lambda p: (p.grid_id, p.id))

    for o in range(n_off):
        if o not in used_officers:
            code, reason = (
                ("not_needed", "the group limit is reached")
                if len(groups) >= max_groups
                else (
                    "no_volunteers",
                    f"too few volunteers in or next to the grids with demand for another group "
                    f"(needs {params.min_volunteers})",
                )
            )
            unassigned.append(Unassigned(officers[o].id, "officer", code, reason))
    near_groups = {g.grid_id for g in groups}
    for i, v in enumerate(volunteers):
        if i in used_volunteers:
            continue
        if not any(c in near_groups for c in allowed[v.id]):
            unassigned.append(
                Unassigned(
                    v.id,
                    "volunteer",
                    "no_group_nearby",
                    f"no group patrols in or next to home grid {team_of[v.id].home_grid}",
                )
            )
        else:
            unassigned.append(
                Unassigned(
                    v.id,
                    "volunteer",
                    "not_needed",
                    "groups nearby are full or others with fewer hours this week were preferred",
                )
            )
    unassigned.sort(key=lambda u: (u.role, u.person_id))

    allocation = {c: sum(1 for p in groups if p.grid_id == c) for c in cells}
    total = sum(float(demand[c]) for c in cells)
    target = {c: len(groups) * float(demand[c]) / total for c in cells}
    return GroupFormation(
        day=day,
        window=window,
        groups=tuple(groups),
        unassigned=tuple(unassigned),
        allocation=allocation,
        target=target,
        status=solver.status_name(status),
        objective=float(solver.objective_value),
        runtime_s=time.perf_counter() - started,
        seed=seed,
        stats={
            "officers_available": float(len(officers)),
            "volunteers_eligible": float(len(volunteers)),
            "groups": float(len(groups)),
            "wall_time_s": float(solver.wall_time),
            "deterministic_time": float(solver.deterministic_time),
        },
    )


def record_service(
    history: Mapping[str, float] | None, formation: GroupFormation
) -> dict[str, float]:
    """Return ``history`` plus the window hours of every volunteer placed in ``formation``.

    Use it to chain windows and days of one week: pass the result as ``history`` to the next
    :func:`form_groups` call so that the weekly cap and the fair rotation see the hours served.
    """
    out = dict(history or {})
    hours = _hours(formation.window)
    for g in formation.groups:
        for vid in g.volunteer_ids:
            out[vid] = out.get(vid, 0.0) + hours
    return out
