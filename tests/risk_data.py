"""Hand-made street lattices and seeded incident histories for the forecaster's tests."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
from pyproj import Transformer

from optimizer.risk.incidents import street_segments

CRS = "EPSG:32635"
X0, Y0 = 500_000.0, 6_670_000.0


def lattice(n: int, spacing: float = 100.0) -> nx.MultiDiGraph:
    """An ``n x n`` lattice of two-way streets ``spacing`` m apart; every third row primary."""
    G = nx.MultiDiGraph(crs=CRS)
    to_wgs = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    for i in range(n):
        for j in range(n):
            x, y = X0 + j * spacing, Y0 + i * spacing
            lon, lat = to_wgs.transform(x, y)
            G.add_node(i * n + j, x=x, y=y, lon=lon, lat=lat)
    for i in range(n):
        for j in range(n):
            a = i * n + j
            for b, hw in (
                (a + 1 if j + 1 < n else None, "primary" if i % 3 == 0 else "residential"),
                (a + n if i + 1 < n else None, "residential"),
            ):
                if b is not None:
                    G.add_edge(a, b, 0, length=spacing, highway=hw)
                    G.add_edge(b, a, 0, length=spacing, highway=hw)
    return G


def synthetic_history(
    G: nx.MultiDiGraph,
    *,
    weeks: int,
    seed: int,
    hot: int = 6,
    start: str = "2024-01-01",
    tz: str = "UTC",
) -> pd.DataFrame:
    """Seeded incidents: ``hot`` stable hot segments (2 a week each) over a thin background."""
    rng = np.random.default_rng(seed)
    segs = street_segments(G)
    S = len(segs)
    rate = np.full(S, 0.03)
    rate[rng.choice(S, size=hot, replace=False)] = 2.0
    rows = []
    t0 = pd.Timestamp(start, tz=tz)
    k = 0
    for w in range(weeks):
        counts = rng.poisson(rate)
        for s in np.flatnonzero(counts):
            for _ in range(int(counts[s])):
                rows.append(
                    {
                        "incident_id": f"I{k}",
                        "category": "theft" if rng.random() < 0.7 else "dispute",
                        "occurred_at": t0 + pd.Timedelta(days=7 * w + float(rng.uniform(0, 7))),
                        "date_only": False,
                        "u": int(segs["u"].iat[s]),
                        "v": int(segs["v"].iat[s]),
                        "key": int(segs["key"].iat[s]),
                        "position": float(rng.uniform(0, 1)),
                    }
                )
                k += 1
    frame = pd.DataFrame(rows).sort_values("occurred_at", kind="stable").reset_index(drop=True)
    return frame
