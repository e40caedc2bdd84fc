"""Readers of orienteering benchmark files into :class:`~optimizer.problem.PatrolProblem`.

- TOP (Chao, Golden & Wasil): ``pX.M.L.txt`` with ``n``, ``m``, ``tmax`` then ``x y score``
  rows; the first row is the start depot, the last the end depot; Euclidean, unrounded.
  Travel times are ``ceil(distance * TOP_SCALE)`` so that a route within the scaled budget is
  within ``tmax`` with unrounded distances too (checked again by :func:`top_route_length`).
- OPTW (KU Leuven TOPTW format, Solomon-based): vertex 0 is the depot (its closing time is
  the budget), other vertices carry service duration, score and a time window (last two
  fields); travel time is the Euclidean distance truncated to one decimal, as the optima were
  computed, so times are exact integers in tenths (``OPTW_SCALE = 10``).

Matrix locations: TOP puts the start depot at 0, the end depot at 1 and the points after;
OPTW puts the depot at 0. ``problem.meta`` keeps ``coords`` (original order for TOP:
start, points, end), ``scale`` and the budget.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import numpy.typing as npt

from optimizer.errors import InputError
from optimizer.problem import PatrolProblem, Site, Vehicle

TOP_SCALE = 10_000
"""Integer time units per TOP distance unit."""
OPTW_SCALE = 10
"""Integer time units per OPTW time unit (distances are truncated to one decimal)."""


def _euclid(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    diff = coords[:, None, :] - coords[None, :, :]
    return np.asarray(np.hypot(diff[..., 0], diff[..., 1]), dtype=np.float64)


def read_top(path: str | Path, *, mode: str = "euclid") -> PatrolProblem:
    """Read a TOP instance (Chao et al. format) as a PatrolProblem.

    Parameters
    ----------
    path
        The ``pX.M.L.txt`` file.
    mode
        Name of the single travel mode.

    Returns
    -------
    PatrolProblem
        ``m`` vehicles from location 0 to location 1 with shift ``floor(tmax * TOP_SCALE)``;
        one optional site per point with its score as prize.

    Raises
    ------
    InputError
        A malformed file.
    """
    path = Path(path)
    lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
    try:
        header = {ln[0]: ln[1] for ln in lines[:3]}
        n, m, tmax = int(header["n"]), int(header["m"]), float(header["tmax"])
        rows = np.array([[float(x) for x in ln[:3]] for ln in lines[3:]], dtype=np.float64)
    except (KeyError, ValueError, IndexError) as exc:
        raise InputError(
            str(path), str(exc), "a TOP file: n N, m M, tmax T, then x y score rows"
        ) from exc
    if rows.shape != (n, 3) or n < 2 or m < 1 or tmax < 0:
        raise InputError(str(path), f"n={n} m={m} rows={rows.shape}", f"{n} rows of x y score")
    coords = rows[:, :2]
    order = [0, n - 1, *range(1, n - 1)]  # start depot, end depot, points
    dist = _euclid(coords[order])
    durations = np.ceil(dist * TOP_SCALE - 1e-9).astype(np.int64)
    budget = math.floor(tmax * TOP_SCALE + 1e-9)
    sites = tuple(
        Site(id=str(p), location=2 + k, prize=float(rows[p, 2]), dwell_s=0)
        for k, p in enumerate(range(1, n - 1))
    )
    vehicles = tuple(
        Vehicle(id=f"v{j}", start_location=0, end_location=1, mode=mode, shift_end_s=budget)
        for j in range(m)
    )
    return PatrolProblem(
        n_depots=2,
        sites=sites,
        vehicles=vehicles,
        durations={mode: durations},
        horizon_s=budget,
        distances=dist,
        name=path.name,
        meta={"coords": coords, "scale": TOP_SCALE, "tmax": tmax, "format": "top"},
    )


def top_route_length(problem: PatrolProblem, sites: list[int]) -> float:
    """Unrounded Euclidean length of a TOP route visiting ``sites`` (indices into problem.sites)."""
    if problem.distances is None:
        raise InputError("problem.distances", None, "a TOP problem read by read_top")
    locs = [0, *(problem.sites[i].location for i in sites), 1]
    return float(sum(problem.distances[a, b] for a, b in itertools.pairwise(locs)))


def read_optw(path: str | Path, *, mode: str = "euclid") -> PatrolProblem:
    """Read an OPTW instance (KU Leuven TOPTW format) as a one-vehicle PatrolProblem.

    Parameters
    ----------
    path
        The instance file.
    mode
        Name of the single travel mode.

    Returns
    -------
    PatrolProblem
        One vehicle from and to the depot (location 0) within the depot's window; one
        optional site per vertex with score as prize, service duration as dwell and its
        window as ``[earliest_s, latest_s]`` of service start; all times x ``OPTW_SCALE``.

    Raises
    ------
    InputError
        A malformed file.
    """
    path = Path(path)
    lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
    try:
        n_vertices = int(lines[0][2])
        vertex_lines = lines[2 : 2 + n_vertices + 1]
        rows = [
            (float(v[1]), float(v[2]), float(v[3]), float(v[4]), float(v[-2]), float(v[-1]))
            for v in vertex_lines
        ]
    except (ValueError, IndexError) as exc:
        raise InputError(
            str(path), str(exc), "a TOPTW file: k v N t, D Q, then N + 1 vertex lines"
        ) from exc
    if len(rows) != n_vertices + 1:
        raise InputError(str(path), len(rows), f"{n_vertices + 1} vertex lines")
    arr = np.array(rows, dtype=np.float64)
    coords = arr[:, :2]
    dist = _euclid(coords)
    tenths = np.floor(dist * OPTW_SCALE + 1e-9).astype(np.int64)  # truncation to one decimal

    def scaled(x: float) -> int:
        return round(x * OPTW_SCALE)

    open_0, close_0 = scaled(arr[0, 4]), scaled(arr[0, 5])
    sites = tuple(
        Site(
            id=str(i),
            location=i,
            prize=float(arr[i, 3]),
            dwell_s=scaled(arr[i, 2]),
            earliest_s=scaled(arr[i, 4]),
            latest_s=scaled(arr[i, 5]),
        )
        for i in range(1, n_vertices + 1)
    )
    vehicle = Vehicle(
        id="v0",
        start_location=0,
        end_location=0,
        mode=mode,
        shift_start_s=open_0,
        shift_end_s=close_0,
    )
    return PatrolProblem(
        n_depots=1,
        sites=sites,
        vehicles=(vehicle,),
        durations={mode: tenths},
        horizon_s=close_0,
        distances=dist,
        name=path.stem,
        meta={"coords": coords, "scale": OPTW_SCALE, "format": "optw"},
    )
