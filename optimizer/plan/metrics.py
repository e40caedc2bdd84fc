"""Metrics of window and day plans: visits, value covered, coverage, km, minutes, posts."""

from __future__ import annotations

from collections.abc import Sequence

from optimizer.plan.types import GroupRoute, WindowPlan
from optimizer.risk.hotspots import Hotspot


def window_metrics(
    routes: Sequence[GroupRoute],
    hotspots: Sequence[Hotspot],
    posts_required: int,
    *,
    long_wait_min: float,
) -> dict[str, float]:
    """Return the metrics of one grid's routes in one window.

    ``value_covered`` sums the prizes of the passes made (extra passes included);
    ``coverage`` is the value of the recommended passes made over the value of all
    recommended passes; ``hotspots_visited`` counts places with at least one pass.

    Parameters
    ----------
    routes
        The grid's routes.
    hotspots
        The grid's hotspots of the window.
    posts_required
        Fixed posts on duty in the grid and window.
    long_wait_min
        A wait longer than this counts as a long wait.
    """
    total = float(sum(h.value * max(1, h.visits) for h in hotspots))
    covered = float(sum(r.value for r in routes))
    made: dict[str, int] = {}
    for r in routes:
        for s in r.stops:
            if s.kind == "hotspot":
                made[s.site_id] = made.get(s.site_id, 0) + 1
    recommended = float(sum(h.value * min(made.get(h.id, 0), max(1, h.visits)) for h in hotspots))
    extra = sum(max(0, made.get(h.id, 0) - max(1, h.visits)) for h in hotspots)
    visits = sum(made.values())
    posts = sum(1 for r in routes for s in r.stops if s.kind == "post")
    waits = [s.wait_min for r in routes for s in r.stops]
    return {
        "groups": float(len(routes)),
        "visits": float(visits),
        "extra_visits": float(extra),
        "value_total": round(total, 6),
        "value_covered": round(covered, 6),
        "value_recommended": round(recommended, 6),
        "coverage": round(min(1.0, recommended / total), 4) if total > 0 else 0.0,
        "hotspots_visited": float(sum(1 for h in hotspots if made.get(h.id, 0))),
        "long_waits": float(sum(1 for w in waits if w > long_wait_min)),
        "km": round(sum(r.distance_m for r in routes) / 1000, 3),
        "patrol_min": round(sum(r.patrol_min for r in routes), 1),
        "dwell_min": round(sum(r.dwell_min for r in routes), 1),
        "wait_min": round(sum(s.wait_min for r in routes for s in r.stops), 1),
        "posts_required": float(posts_required),
        "posts_staffed": float(posts),
    }


def day_metrics(plans: Sequence[WindowPlan]) -> dict[str, float]:
    """Return the day's metrics: sums of the windows' metrics, coverage and left-out count."""
    keys = (
        "groups",
        "visits",
        "value_total",
        "value_covered",
        "km",
        "patrol_min",
        "dwell_min",
        "wait_min",
        "posts_required",
        "posts_staffed",
        "extra_visits",
        "hotspots_visited",
        "long_waits",
        "value_recommended",
    )
    out = {k: round(sum(float(p.metrics.get(k, 0.0)) for p in plans), 6) for k in keys}
    out["coverage"] = (
        round(min(1.0, out["value_recommended"] / out["value_total"]), 4)
        if out["value_total"] > 0
        else 0.0
    )
    out["left_out"] = float(sum(len(p.left_out) for p in plans))
    return out
