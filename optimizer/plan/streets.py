"""Street routing for plans: travel times per mode between a cell's places, and street paths.

Cars and bicycles cannot use footways and pedestrian zones; where a mode has no path, the leg
is walked (:func:`mode_matrices`, :func:`street_path`): every leg timed has a street path the
group can follow. Pairs with neither get :data:`~optimizer.problem.NO_PATH_S`, never a time
anybody is shown.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from optimizer.errors import InputError
from optimizer.problem import NO_PATH_S
from optimizer.streets.network import StreetRouter


def mode_matrices(
    router: StreetRouter, nodes: Sequence[int], modes: Sequence[str]
) -> tuple[dict[str, npt.NDArray[np.int64]], npt.NDArray[np.float64]]:
    """Return travel times per mode and walking metres between ``nodes``.

    Parameters
    ----------
    router
        The district's street network.
    nodes
        Street nodes of the places (depots first, then sites), repeats allowed.
    modes
        Travel modes wanted.

    Returns
    -------
    durations, metres
        Whole seconds per mode (:data:`~optimizer.problem.NO_PATH_S` where no path exists by
        the mode or on foot) and the walking distance in metres (0 where no walking path).
    """
    foot = router.matrix(nodes, "foot")
    foot_s = np.where(foot.reachable, foot.seconds, np.inf).astype(float)
    foot_m = np.asarray(foot.metres, dtype=float)
    durations: dict[str, npt.NDArray[np.int64]] = {}
    for mode in modes:
        if mode == "foot":
            sec = foot_s
        else:
            m = router.matrix(nodes, mode, metres=False)
            sec = np.where(m.reachable, m.seconds, foot_s).astype(float)
        sec = np.where(np.isfinite(sec), np.minimum(sec, NO_PATH_S), NO_PATH_S)
        durations[mode] = np.rint(sec).astype(np.int64)
    metres = np.where(foot.reachable, foot_m, 0.0)
    return durations, metres


def street_path(router: StreetRouter, u: int, v: int, mode: str) -> list[int]:
    """Node path by ``mode``, walking where the mode has no path (see :func:`mode_matrices`)."""
    try:
        return router.path(u, v, mode)
    except InputError:
        if mode == "foot":
            raise
        return router.path(u, v, "foot")
