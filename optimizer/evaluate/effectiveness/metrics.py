"""The effectiveness measures, each on plain arrays so that tiny hand-made cases check them.

* :func:`covered_incidents` — which incidents lie on or within ``radius_m`` of a patrolled
  street segment (straight-line distance from the incident's point to the segment's line);
* :func:`patrolled_length_m` — the distinct street length the groups were on;
* :func:`presence_minutes` and :func:`risk_weighted_minutes` — minutes groups spent on each
  segment, and their sum weighted by each segment's risk;
* :func:`reach_shares` — the "1-3-5 minute circle": the share of the street length that a
  group can reach within each of a few minutes from where the groups are at one moment (travel
  times of each group's mode on the street network, from either end of the segment it is on);
* :func:`random_moments` — the moments at which the circle is measured.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import Transformer

from optimizer.evaluate.effectiveness.traces import Trace
from optimizer.streets.network import StreetRouter


def incident_points(incidents: pd.DataFrame, crs: object) -> npt.NDArray[np.float64]:
    """Return the incidents' ``lon``/``lat`` (WGS-84) as ``(n, 2)`` coordinates in ``crs``."""
    if len(incidents) == 0:
        return np.zeros((0, 2))
    to_crs = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = to_crs.transform(
        incidents["lon"].to_numpy(dtype=float), incidents["lat"].to_numpy(dtype=float)
    )
    return np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])


def covered_incidents(
    points: npt.ArrayLike,
    geometries: Sequence[shapely.Geometry] | npt.NDArray[np.object_],
    patrolled: npt.ArrayLike,
    *,
    radius_m: float = 50.0,
) -> npt.NDArray[np.bool_]:
    """Return whether each incident lies on or within ``radius_m`` of a patrolled segment.

    Parameters
    ----------
    points
        ``(n, 2)`` incident coordinates in the segments' projected CRS (metres).
    geometries
        Line of every street segment (projected), indexed like the segments.
    patrolled
        Indices of the segments patrolled.
    radius_m
        Largest distance (m) from the segment's line that counts as covered (inclusive).

    Returns
    -------
    numpy.ndarray
        ``n`` booleans.
    """
    xy = np.asarray(points, dtype=float).reshape(-1, 2)
    out = np.zeros(len(xy), dtype=bool)
    idx = np.unique(np.asarray(patrolled, dtype=np.int64))
    if len(xy) == 0 or len(idx) == 0:
        return out
    geoms = np.asarray(geometries, dtype=object)[idx]
    tree = shapely.STRtree(geoms)
    pts = shapely.points(xy)
    # a tolerance below a millimetre keeps a point at exactly radius_m covered
    hit, _ = tree.query(pts, predicate="dwithin", distance=float(radius_m) + 1e-6)
    out[np.unique(hit)] = True
    return out


def presence_minutes(traces: Sequence[Trace], n_segments: int) -> npt.NDArray[np.float64]:
    """Return the minutes groups spent on each segment (summed over groups and intervals)."""
    out = np.zeros(int(n_segments))
    for t in traces:
        if len(t.segments):
            out += np.bincount(t.segments, weights=t.t1_s - t.t0_s, minlength=int(n_segments))
    return out / 60.0


def patrolled_length_m(traces: Sequence[Trace], length: npt.ArrayLike) -> float:
    """Return the length (m) of the distinct segments any of ``traces`` was on."""
    segs = np.unique(np.concatenate([t.patrolled() for t in traces] or [np.zeros(0, np.int64)]))
    return float(np.asarray(length, dtype=float)[segs].sum())


def risk_weighted_minutes(presence: npt.ArrayLike, risk: npt.ArrayLike) -> float:
    """Return the presence minutes weighted by each segment's risk: ``sum(presence * risk)``."""
    return float(np.dot(np.asarray(presence, dtype=float), np.asarray(risk, dtype=float)))


def reach_shares(
    positions: Sequence[tuple[int, str]],
    router: StreetRouter,
    segments: pd.DataFrame,
    area: npt.ArrayLike,
    *,
    minutes: Sequence[float] = (3.0, 5.0),
) -> dict[float, float]:
    """Return the share of the area's street length a group reaches within each of ``minutes``.

    A segment is reached within ``m`` minutes when one of its ends is at most ``m`` minutes
    from an end of a segment where a group is, by that group's mode (travel times of
    :meth:`optimizer.streets.network.StreetRouter.matrix`). The segments with a group are
    reached at once.

    Parameters
    ----------
    positions
        ``(segment, mode)`` of each group on duty at the moment.
    router
        The district's street network.
    segments
        The street segments (``u``, ``v``, ``length``; ``optimizer.risk.incidents``).
    area
        Boolean per segment: the streets measured (e.g. the patrollable streets of the
        planned cells).
    minutes
        Reach times in minutes.

    Returns
    -------
    dict
        Minutes -> share of the area's length (0 where no group is on duty).
    """
    mask = np.asarray(area, dtype=bool)
    length = segments["length"].to_numpy(dtype=float)
    total = float(length[mask].sum())
    best = np.full(len(router.node_ids), np.inf)
    on = np.zeros(len(length), dtype=bool)
    by_mode: dict[str, set[int]] = {}
    seg_u = segments["u"].to_numpy(dtype=np.int64)
    seg_v = segments["v"].to_numpy(dtype=np.int64)
    for seg, mode in positions:
        if seg < 0:
            continue
        on[seg] = True
        by_mode.setdefault(mode, set()).update((int(seg_u[seg]), int(seg_v[seg])))
    limit = 60.0 * max(minutes) if len(minutes) else 0.0
    for mode, nodes in sorted(by_mode.items()):
        m = router.matrix(
            sorted(nodes), mode, router.node_ids.tolist(), metres=False, limit_s=limit
        )
        sec = np.where(m.reachable, m.seconds, np.inf).astype(float)
        best = np.minimum(best, sec.min(axis=0))
    seg_best = np.minimum(best[router.indices(seg_u)], best[router.indices(seg_v)])
    seg_best[on] = 0.0
    out: dict[float, float] = {}
    for m_min in minutes:
        reached = mask & (seg_best <= 60.0 * float(m_min))
        out[float(m_min)] = float(length[reached].sum()) / total if total > 0 else 0.0
    return out


def random_moments(
    rng: np.random.Generator, start_s: float, end_s: float, n: int
) -> npt.NDArray[np.float64]:
    """Return ``n`` sorted moments drawn uniformly from ``[start_s, end_s)``."""
    return np.sort(rng.uniform(float(start_s), float(end_s), size=int(n)))


def positions_at(traces: Sequence[Trace], t_s: float) -> list[tuple[int, str]]:
    """Return ``(segment, mode)`` of every trace's group on duty ``t_s`` seconds in."""
    out = []
    for t in traces:
        seg = t.at(t_s)
        if seg >= 0:
            out.append((seg, t.mode))
    return out
