"""Hotspot passes and post duties as routing sites: how many, when, and what each is worth.

The rules (parameters in :class:`~optimizer.plan.params.RouteParams`):

* each hotspot is offered its recommended passes (prize = value) and extra passes while the
  window has room (:func:`visit_copies`), more for hotter places (:func:`hotspot_heat`), each
  extra pass worth less than the one before and less than any recommended pass
  (:func:`visit_prize`, :func:`extra_pass_scale`);
* the passes of a hotspot are spread over the window in slots of its spacing
  (:func:`spacing_scale` tightens the spacing where groups would stand idle), at least
  ``pass_gap`` of it apart (:func:`pass_gap_s`);
* a post duty is a required site inside its duty window (:func:`post_site_window`).

Used by the day's build step (:mod:`optimizer.plan.build`) and by re-planning
(:mod:`optimizer.plan.replan`): one copy of each rule.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from optimizer.plan.params import RouteParams
from optimizer.problem import Site
from optimizer.risk.hotspots import Hotspot
from optimizer.staff.roster import FixedPost
from optimizer.timewindow import TimeWindow


def post_site_window(
    post: FixedPost, duty: TimeWindow, day: dt.date, start: dt.datetime, horizon_s: int
) -> tuple[int, int, int]:
    """Return ``(earliest, latest, dwell)`` in window seconds for a post's duty window.

    The duty is clipped to the planning window that starts at ``start`` and lasts
    ``horizon_s``; a duty of the next day (a window crossing midnight) is moved there.
    """
    p0, p1 = duty.on(day)
    if p0 + dt.timedelta(days=1) <= start + dt.timedelta(seconds=horizon_s) and p1 <= start:
        p0, p1 = p0 + dt.timedelta(days=1), p1 + dt.timedelta(days=1)
    a = int((p0 - start).total_seconds())
    b = int((p1 - start).total_seconds())
    a, b = max(a, 0), min(b, horizon_s)
    dwell = min(post.dwell_min * 60, b - a)
    return a, b - dwell, dwell


def post_duty_site(
    post: FixedPost,
    duty: TimeWindow,
    *,
    day: dt.date,
    start: dt.datetime,
    horizon_s: int,
    location: int,
    key: str | None = None,
) -> Site | None:
    """Return a post duty as a required site inside its duty window, or ``None`` where the
    duty does not fall in the window (see :func:`post_site_window`).

    ``key`` groups the site with others of the same key (default: the post and the duty's
    start, ``"P1@0720"``).
    """
    a, latest, dwell = post_site_window(post, duty, day, start, horizon_s)
    if latest < a or dwell <= 0:
        return None
    site_id = f"{post.id}@{duty.start:%H%M}"
    return Site(
        id=site_id,
        location=location,
        prize=0.0,
        dwell_s=dwell,
        earliest_s=a,
        latest_s=latest,
        required=True,
        kind="post",
        key=key or site_id,
        meta={"post": post.id, "purpose": post.purpose, "name": post.name},
    )


def spacing_s(hotspot: Hotspot, params: RouteParams, scale: float = 1.0) -> int:
    """Return the slot length ``S`` of the hotspot's passes at spacing factor ``scale``."""
    floor = max(round(params.min_spacing_min * 60), int(hotspot.dwell_min * 60))
    return max(floor, round(hotspot.spacing_min * 60 * scale))


def pass_gap_s(hotspot: Hotspot, slot_s: int, params: RouteParams) -> int:
    """Return the least time between the starts of two passes with slot length ``slot_s``."""
    return max(int(params.pass_gap * slot_s), int(hotspot.dwell_min * 60))


def min_pass_gap_s(hotspot: Hotspot, params: RouteParams) -> int:
    """Return the least time between the starts of two passes of ``hotspot`` in any plan.

    The build step may tighten the spacing (:func:`spacing_scale`) down to the narrowest of
    ``params.spacing_scales``; re-planning uses this bound so it keeps planned passes.
    """
    return pass_gap_s(hotspot, spacing_s(hotspot, params, params.spacing_scales[-1]), params)


def visit_copies(
    hotspot: Hotspot,
    horizon_s: int,
    params: RouteParams,
    slot_s: int | None = None,
    *,
    heat: float = 1.0,
) -> int:
    """Return how many passes of ``hotspot`` a window of ``horizon_s`` seconds offers.

    The recommended ``hotspot.visits`` plus optional extra passes: of the passes one per
    slot (``slot_s``, default the hotspot's spacing) that fit in the window, the share
    ``heat`` (the hotspot's value over the cell's hottest, see :func:`hotspot_heat`), at most
    ``params.max_visit_copies`` in all. A group with time left patrols its hottest places
    again rather than returning early, and a cool place is not offered as many passes as a
    hot one.
    """
    slot = spacing_s(hotspot, params) if slot_s is None else max(60, int(slot_s))
    fits = 1 + max(0, horizon_s - int(hotspot.dwell_min * 60)) // slot
    recommended = max(1, hotspot.visits)
    extra = math.ceil(max(0, fits - recommended) * min(1.0, max(0.0, heat)) - 1e-9)
    return min(params.max_visit_copies, max(recommended, hotspot.visits + extra))


def hotspot_heat(hotspots: Sequence[Hotspot]) -> list[float]:
    """Return each hotspot's value over the highest value of ``hotspots`` (0 to 1)."""
    top = max((float(h.value) for h in hotspots), default=0.0)
    return [float(h.value) / top if top > 0 else 1.0 for h in hotspots]


def spacing_scale(
    hotspots: Sequence[Hotspot],
    locations: Sequence[int],
    durations: Sequence[npt.NDArray[np.int64]],
    capacity_s: int,
    params: RouteParams,
) -> float:
    """Return the factor on the pass spacing that offers the groups enough to do.

    A pass of a hotspot takes its dwell plus the typical (median) travel from the other
    hotspots. The widest spacing of ``params.spacing_scales`` whose passes fill the groups'
    time (``capacity_s``, the window times the groups less the posts' duty) by
    ``params.fill_factor`` is chosen; a cell with more groups than its hotspots keep busy gets
    its passes closer together instead of groups standing still between passes.

    Parameters
    ----------
    hotspots, locations
        The cell's hotspots and their matrix locations.
    durations
        Travel-time matrix of each group's mode.
    capacity_s
        Group-seconds to fill.
    params
        The rules.
    """
    if not hotspots or capacity_s <= 0 or not durations:
        return 1.0
    locs = np.asarray(locations, dtype=np.int64)
    travel = np.zeros(len(locs))
    if len(locs) > 1:
        per_mode = [np.asarray(m, dtype=float)[np.ix_(locs, locs)] for m in durations]
        mean = np.mean(per_mode, axis=0)
        off = ~np.eye(len(locs), dtype=bool)
        travel = np.array([float(np.median(mean[i][off[i]])) for i in range(len(locs))])
    horizon = capacity_s // len(durations)
    heat = hotspot_heat(hotspots)
    for scale in params.spacing_scales:
        work = sum(
            visit_copies(h, horizon, params, spacing_s(h, params, scale), heat=q)
            * (h.dwell_min * 60 + t)
            for h, t, q in zip(hotspots, travel, heat, strict=True)
        )
        if work >= params.fill_factor * capacity_s:
            return scale
    return params.spacing_scales[-1]


def extra_pass_scale(hotspots: Sequence[Hotspot], params: RouteParams) -> float:
    """Return the factor on the extra passes' prizes of a cell's hotspots.

    It puts every extra pass below every recommended pass: the hottest hotspot's first extra
    pass (``value * extra_visit_decay``) is worth ``extra_below_first`` of the coolest
    hotspot's value. Every hotspot gets its recommended passes before any gets an extra one,
    and among extra passes the hotter place still comes first.
    """
    values = [float(h.value) for h in hotspots if h.value > 0]
    if not values:
        return 1.0
    decay = params.extra_visit_decay
    return min(1.0, params.extra_below_first * min(values) / (max(values) * decay))


def visit_prize(
    hotspot: Hotspot, visit_number: int, params: RouteParams, *, extra_scale: float = 1.0
) -> float:
    """Return the prize of pass ``visit_number`` (1-based) of ``hotspot``.

    Recommended passes (``visit_number <= hotspot.visits``) are worth the hotspot's value;
    the ``n``-th extra pass is worth ``extra_scale * value * extra_visit_decay ** n``: each
    extra pass is worth less than the one before, so spare time goes to the hottest places
    first.
    """
    extra = visit_number - max(1, hotspot.visits)
    if extra <= 0:
        return float(hotspot.value)
    return float(hotspot.value) * extra_scale * params.extra_visit_decay**extra


def loop_between_passes(
    durations: dict[str, npt.NDArray[np.int64]],
    same_place: Sequence[Sequence[int]],
    params: RouteParams,
) -> None:
    """Charge ``params.loop_min`` between the rows of each group of passes of one place.

    Each pass of a hotspot has its own matrix row; going straight from one to the next is a
    walk round the hotspot's streets, so the solver moves a group on rather than keeping it in
    place. Changes ``durations`` in place.
    """
    loop_s = round(params.loop_min * 60)
    for same in same_place:
        if len(same) > 1:
            for d in durations.values():
                d[np.ix_(same, same)] = loop_s
                np.fill_diagonal(d, 0)
