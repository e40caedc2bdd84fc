"""Parameters of a day plan, validated on creation: one object instead of module constants.

:class:`PlanParams` holds everything that shapes a plan besides the district, the day and the
windows: the engine and its search budget, group rules (:class:`~optimizer.staff.groups.
GroupParams`), how each cell's routing problem is built (:class:`RouteParams`) and day-to-day
variation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from optimizer.engines.base import DEFAULT_ENGINE, ENGINE_NAMES
from optimizer.errors import InputError, checked_number
from optimizer.plan.variation import VariationParams
from optimizer.risk.hotspots import HotspotParams
from optimizer.staff.groups import GroupParams


@dataclass(frozen=True)
class RouteParams:
    """How a cell's routing problem is built from its hotspots, posts and groups.

    Parameters
    ----------
    extra_visit_decay
        Prize of the ``n``-th extra pass of a hotspot: ``value * extra_visit_decay ** n`` (times
        the cell's extra-pass scale).
    extra_below_first
        The most valuable extra pass of a cell is worth at most this share of its least
        valuable recommended pass.
    max_visit_copies
        Most passes of one hotspot offered in one window.
    fill_factor
        Passes offered per group-time to fill (above 1: the solver needs choices at each time).
    slot_overlap
        Pass ``k`` of a hotspot offered ``n > 1`` passes (spacing ``S``) starts within
        ``[(k - 1) S, max((k + slot_overlap) S, first_pass_by * window)]``, the last one any
        time after ``(k - 1) S``: both ends rise with ``k``, so passes can be numbered in
        visiting order without breaking a window.
    first_pass_by
        Share of the window within which every pass but the last may start.
    pass_gap
        Two passes of one hotspot start at least ``pass_gap * S`` apart (never closer than the
        dwell).
    loop_min
        Minutes charged for going from one pass of a hotspot straight to the next at the same
        place (area patrol round its streets).
    return_reserve_min
        Groups are planned back at their muster point this long before the window ends (room
        for delays, re-planning and the handover).
    min_spacing_min
        Least slot length ``S`` of a hotspot's passes (and never below its dwell).
    spacing_scales
        Factors tried on the hotspots' pass spacing, widest first: the widest whose passes fill
        the groups' time is used.
    long_wait_min
        A wait longer than this at a hotspot is shown as area patrol around it.
    """

    extra_visit_decay: float = 0.6
    extra_below_first: float = 0.9
    max_visit_copies: int = 8
    fill_factor: float = 1.5
    slot_overlap: float = 1.0
    first_pass_by: float = 0.75
    pass_gap: float = 0.5
    loop_min: float = 10.0
    return_reserve_min: float = 15.0
    min_spacing_min: float = 20.0
    spacing_scales: tuple[float, ...] = (1.0, 0.85, 0.7, 0.6, 0.5)
    long_wait_min: float = 15.0

    def __post_init__(self) -> None:
        checked_number("routes.extra_visit_decay", self.extra_visit_decay, 0, 1, open_low=True)
        checked_number("routes.extra_below_first", self.extra_below_first, 0, 1, open_low=True)
        if not (isinstance(self.max_visit_copies, int) and 1 <= self.max_visit_copies <= 32):
            raise InputError("routes.max_visit_copies", self.max_visit_copies, "1 to 32")
        checked_number("routes.fill_factor", self.fill_factor, 0, 10, open_low=True)
        checked_number("routes.slot_overlap", self.slot_overlap, 0, 10)
        checked_number("routes.first_pass_by", self.first_pass_by, 0, 1, open_low=True)
        checked_number("routes.pass_gap", self.pass_gap, 0, 1)
        checked_number("routes.loop_min", self.loop_min, 0, 120)
        checked_number("routes.return_reserve_min", self.return_reserve_min, 0, 120)
        checked_number("routes.min_spacing_min", self.min_spacing_min, 1, 600)
        checked_number("routes.long_wait_min", self.long_wait_min, 0, 600)
        scales = self.spacing_scales
        if not scales or any(not (isinstance(s, int | float) and 0 < s <= 1) for s in scales):
            raise InputError("routes.spacing_scales", scales, "factors in (0, 1], widest first")
        if list(scales) != sorted(scales, reverse=True):
            raise InputError("routes.spacing_scales", scales, "factors in (0, 1], widest first")


@dataclass(frozen=True)
class PlanParams:
    """Everything that shapes a day plan besides the district, the day and the windows.

    Parameters
    ----------
    engine
        Routing engine, one of ``optimizer.engines.base.ENGINE_NAMES``.
    budget_s
        Search work per cell and window, in seconds of the reference machine: it is turned
        into a deterministic amount of work (iterations and solutions, more for larger
        problems), so the same inputs and seed give the same plan on any machine and load.
    time_cap_s
        Wall-clock safety cap of each cell's search (``None``: 20 x the problem's budget, at
        least 10 s). The plan records where it bound (then the plan may vary with load).
    groups
        Group formation rules.
    routes
        How each cell's routing problem is built.
    variation
        Day-to-day variation of the routes (``None``: none).
    hotspots
        How each window's hotspots are cut from the forecast (how many per cell, how long a
        stretch of street each, dwell and passes).
    hotspot_level
        Cut hotspots in the cells of this finer grid level inside each planning cell (more,
        smaller hotspots per cell); ``None``: in the planning cells themselves.
    muster_reach_m
        A roster muster point or station within this distance outside a cell serves it.
    min_mode_share
        A travel mode can patrol a cell when it reaches hotspots holding at least this share of
        the cell's demand, and every post (``optimizer.plan.build.cell_need``).
    """

    engine: str = DEFAULT_ENGINE
    budget_s: float = 0.5
    time_cap_s: float | None = None
    groups: GroupParams = field(default_factory=GroupParams)
    routes: RouteParams = field(default_factory=RouteParams)
    variation: VariationParams | None = None
    hotspots: HotspotParams = field(default_factory=HotspotParams)
    hotspot_level: int | None = None
    muster_reach_m: float = 300.0
    min_mode_share: float = 0.5

    def __post_init__(self) -> None:
        if self.engine not in ENGINE_NAMES:
            raise InputError("engine", self.engine, f"one of {list(ENGINE_NAMES)}")
        checked_number("budget_s", self.budget_s, 0, 600, open_low=True)
        if self.time_cap_s is not None:
            checked_number("time_cap_s", self.time_cap_s, 0, 3600, open_low=True)
        for name, value, kind in (
            ("groups", self.groups, GroupParams),
            ("routes", self.routes, RouteParams),
            ("hotspots", self.hotspots, HotspotParams),
        ):
            if not isinstance(value, kind):
                raise InputError(name, value, f"a {kind.__name__}")
        if self.variation is not None and not isinstance(self.variation, VariationParams):
            raise InputError("variation", self.variation, "None or a VariationParams")
        if self.hotspot_level is not None and not (
            isinstance(self.hotspot_level, int) and 1 <= self.hotspot_level <= 9
        ):
            raise InputError("hotspot_level", self.hotspot_level, "None or a grid level 1 to 9")
        checked_number("muster_reach_m", self.muster_reach_m, 0, 5000)
        checked_number("min_mode_share", self.min_mode_share, 0, 1)
