"""Street routing for plans: travel times per mode, street paths, nearest nodes, place names.

Cars and bicycles cannot use footways and pedestrian zones; where a mode has no path, the leg
is walked (:func:`mode_matrices`, :func:`street_path`), so no pair is unreachable by the mode
alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

import networkx as nx
import numpy as np
import numpy.typing as npt

from optimizer.errors import InputError
from optimizer.streets.network import StreetRouter


class Router(Protocol):
    """What the pipeline needs from ``optimizer.streets.network.StreetRouter``."""

    def matrix(self, nodes: Sequence[int], mode: str) -> Any:
        """Return travel times (``.seconds``) and distances (``.metres``) between ``nodes``."""
        ...

    def path(self, u: int, v: int, mode: str) -> list[int]:
        """Return the node path from ``u`` to ``v``."""
        ...

    def path_coords(self, nodes: Sequence[int]) -> list[tuple[float, float]]:
        """Return ``(lon, lat)`` points following the edges of a node path."""
        ...


def street_router(G: nx.MultiDiGraph) -> Router:
    """Return the street router of ``G`` (:class:`optimizer.streets.network.StreetRouter`)."""
    router: Router = StreetRouter(G)
    return router


def nearest_node(G: nx.MultiDiGraph, lon: float, lat: float) -> int:
    """Return the graph node nearest to ``(lon, lat)`` (WGS-84, equirectangular distance)."""
    best, best_d = -1, math.inf
    coslat = math.cos(math.radians(lat))
    for n, d in G.nodes(data=True):
        dd = ((float(d["lon"]) - lon) * coslat) ** 2 + (float(d["lat"]) - lat) ** 2
        if dd < best_d:
            best, best_d = int(n), dd
    return best


_UNREACHABLE_S = 10**8
"""Travel times at or above this are treated as "no path"
(``optimizer.streets.network.UNREACHABLE``)."""


def _reachable(values: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    return np.asarray(np.isfinite(values) & (values < _UNREACHABLE_S))


def mode_matrices(
    router: Router, nodes: Sequence[int], modes: Sequence[str], horizon: int
) -> tuple[dict[str, npt.NDArray[np.int64]], npt.NDArray[np.float64]]:
    """Travel times per mode and walking metres; where a mode cannot reach, the group walks.

    Cars and bicycles cannot enter footways and pedestrian zones: those legs are walked
    (park, walk there and back), so the pair is never left unreachable by the mode alone.
    Pairs nobody can reach get a time longer than the window.
    """
    foot = router.matrix(nodes, "foot")
    foot_s = np.asarray(foot.seconds, dtype=float)
    foot_m = np.asarray(foot.metres, dtype=float)
    durations: dict[str, npt.NDArray[np.int64]] = {}
    for mode in modes:
        sec = (
            foot_s
            if mode == "foot"
            else np.asarray(router.matrix(nodes, mode).seconds, dtype=float)
        )
        sec = np.where(_reachable(sec), sec, foot_s)
        sec = np.where(_reachable(sec), sec, 10 * horizon)
        durations[mode] = np.rint(sec).astype(np.int64)
    metres = np.where(_reachable(foot_m), foot_m, 0.0)
    return durations, metres


def street_path(router: Router, u: int, v: int, mode: str) -> list[int]:
    """Node path by ``mode``, walking where the mode has no path (see :func:`mode_matrices`)."""
    try:
        return router.path(u, v, mode)
    except InputError:
        if mode == "foot":
            raise
        return router.path(u, v, "foot")


def _street_names(value: Any) -> list[str]:
    if isinstance(value, list | tuple | set):
        return [n for v in value for n in _street_names(v)]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    text = str(value).strip()
    return [text] if text and text.lower() not in {"nan", "none"} else []


def place_name(G: nx.MultiDiGraph, node: int, *, limit: int = 2, hops: int = 6) -> str:
    """Name a street node for people: its streets' names (``"Bulevardi / Fredrikinkatu"``).

    Unnamed paths (sidewalks, squares) take the name of the nearest named street within
    ``hops`` edges (``"near Bulevardi"``); failing that, the kind of way (``"footway"``).
    """
    frontier = {node}
    seen = {node}
    kinds: list[str] = []
    for hop in range(hops + 1):
        names: list[str] = []
        nxt: set[int] = set()
        for n in sorted(frontier):
            for u, v, data in [*G.out_edges(n, data=True), *G.in_edges(n, data=True)]:
                for name in _street_names(data.get("name")):
                    if name not in names:
                        names.append(name)
                for k in _street_names(data.get("highway")):
                    if k not in kinds:
                        kinds.append(k)
                nxt.update(x for x in (u, v) if x not in seen)
        if names:
            text = " / ".join(sorted(names)[:limit])
            return text if hop == 0 else f"near {text}"
        seen |= nxt
        frontier = nxt
    return kinds[0].replace("_", " ") if kinds else ""
