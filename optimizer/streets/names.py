"""Names of street places for people: a node's streets, or the nearest named street."""

from __future__ import annotations

import math
from typing import Any

import networkx as nx


def _street_names(value: Any) -> list[str]:
    if isinstance(value, list | tuple | set):
        return [n for v in value for n in _street_names(v)]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    text = str(value).strip()
    return [text] if text and text.lower() not in {"nan", "none"} else []


NAME_KEYS_ZH: tuple[str, ...] = ("name:zh", "name")
"""OSM name tags read for a district in China: the Chinese name where the map has one."""


def place_name(
    G: nx.MultiDiGraph,
    node: int,
    *,
    limit: int = 2,
    hops: int = 6,
    name_keys: tuple[str, ...] = ("name",),
) -> str:
    """Name a street node for people: its streets' names (``"Bulevardi / Fredrikinkatu"``).

    Unnamed paths (sidewalks, squares) take the name of the nearest named street within
    ``hops`` edges (``"near Bulevardi"``); failing that, the kind of way (``"footway"``).
    Each street is named by the first of ``name_keys`` it has (:data:`NAME_KEYS_ZH` for a
    district in China).
    """
    frontier = {node}
    seen = {node}
    kinds: list[str] = []
    for hop in range(hops + 1):
        names: list[str] = []
        nxt: set[int] = set()
        for n in sorted(frontier):
            for u, v, data in [*G.out_edges(n, data=True), *G.in_edges(n, data=True)]:
                tag = next((k for k in name_keys if _street_names(data.get(k))), name_keys[0])
                for name in _street_names(data.get(tag)):
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
