"""A tiny prepared district built in memory (no ../shared): 1 / 2 / 4 cells over a lattice."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
from pyproj import Transformer
from shapely.geometry import box

from optimizer.district import District
from optimizer.staff.roster import Resources
from optimizer.storage import save_district

LON0, LAT0, LON1, LAT1 = 114.200, 22.680, 114.220, 22.700
MID_LON, MID_LAT = (LON0 + LON1) / 2, (LAT0 + LAT1) / 2
CELL_NAMES = {"A-1": "西南社区", "A-2": "西北社区", "B-1": "东南社区", "B-2": "东北社区"}


def tiny_grids() -> gpd.GeoDataFrame:
    """Level 1 ``D``, level 2 ``A`` (west) and ``B`` (east), level 3 two rows in each."""
    rows = [
        {
            "id": "D",
            "level": 1,
            "parent": None,
            "name": "示范辖区",
            "geometry": box(LON0, LAT0, LON1, LAT1),
        }
    ]
    for col, (x0, x1) in {"A": (LON0, MID_LON), "B": (MID_LON, LON1)}.items():
        rows.append(
            {
                "id": col,
                "level": 2,
                "parent": "D",
                "name": f"{col}片区",
                "geometry": box(x0, LAT0, x1, LAT1),
            }
        )
        for r, (y0, y1) in enumerate(((LAT0, MID_LAT), (MID_LAT, LAT1)), start=1):
            gid = f"{col}-{r}"
            rows.append(
                {
                    "id": gid,
                    "level": 3,
                    "parent": col,
                    "name": CELL_NAMES[gid],
                    "geometry": box(x0, y0, x1, y1),
                }
            )
    return gpd.GeoDataFrame(rows, crs="EPSG:4326").set_index("id")


def tiny_graph(n: int = 6) -> nx.MultiDiGraph:
    """A two-way street lattice of ``n`` x ``n`` nodes inside the district, UTM 50N."""
    crs = "EPSG:32650"
    to_utm = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    G = nx.MultiDiGraph(crs=crs)
    step_lon = (LON1 - LON0) / (n + 1)
    step_lat = (LAT1 - LAT0) / (n + 1)
    for i in range(n):
        for j in range(n):
            lon, lat = LON0 + step_lon * (i + 1), LAT0 + step_lat * (j + 1)
            x, y = to_utm.transform(lon, lat)
            G.add_node(i * n + j, x=float(x), y=float(y), lon=lon, lat=lat)
    for i in range(n):
        for j in range(n):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < n and j + dj < n:
                    a, b = i * n + j, (i + di) * n + (j + dj)
                    da, db = G.nodes[a], G.nodes[b]
                    length = ((da["x"] - db["x"]) ** 2 + (da["y"] - db["y"]) ** 2) ** 0.5
                    for u, v in ((a, b), (b, a)):
                        G.add_edge(
                            u,
                            v,
                            length=length,
                            travel_time_foot=length / 1.3,
                            travel_time_bicycle=length / 4.0,
                            travel_time_car=length / 8.0,
                        )
    return G


def save_tiny_district(folder: Path, resources: Resources | None = None) -> Path:
    """Write the tiny district (time zone Asia/Shanghai) to ``folder/tiny``."""
    district = District(
        "tiny",
        tiny_grids(),
        tiny_graph(),
        resources or Resources(),
        None,
        {"timezone": "Asia/Shanghai", "timezone_source": "given", "resources_synthetic": True},
    )
    return save_district(district, folder / "tiny")
