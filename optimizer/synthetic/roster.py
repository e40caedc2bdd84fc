"""Synthetic rosters at any scale: stations, officers, volunteer teams, muster points, posts.

Shaped on the sub-bureau this service is for (302 officers, 690 volunteers in 15 teams, 24
school-gate posts, 4 police stations over 91 level-3 cells) and scaled to any district:

* **stations** on car-accessible streets, spread over the district (k-means over the street
  nodes every mode can reach);
* **officers** on three shifts, each covering one of the day's default planning windows
  (:data:`optimizer.timewindow.DEFAULT_WINDOWS`) from start to end, about a third of the officers
  on each; on foot, bicycle or car in a fixed mix; spread over the stations;
* **volunteer teams** of five kinds (security guards, grid workers, parking attendants, school
  guards, hospital guards), their homes spread over the level-2 cells, each member with a home
  cell (finest level) near the team's, availability by kind and a weekly hour cap;
* **muster points**: a police post or community office on a well-connected street node of each
  level-2 cell, and each team's base in its home cell;
* **fixed posts**: school gates (07:20-08:00 and 16:30-17:30 on school days) and hospital halls,
  on street nodes inside finest-level cells.

Names, phones and ID numbers are fake (:mod:`optimizer.synthetic.people`), Chinese for districts
in China. The same inputs and seed give the same roster.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from optimizer.coords import out_of_china
from optimizer.errors import InputError
from optimizer.staff.roster import (
    ALL_WEEKDAYS,
    TRAVEL_MODES,
    FixedPost,
    MusterPoint,
    Officer,
    Resources,
    Shift,
    Station,
    Volunteer,
    VolunteerTeam,
)
from optimizer.streets.grids import mode_core
from optimizer.synthetic.people import (
    Locale,
    check_locale,
    fake_id_number,
    fake_name,
    fake_phone,
    locale_for,
)
from optimizer.timewindow import DEFAULT_WINDOWS, TimeWindow

SCHOOL_DAYS: tuple[int, ...] = (0, 1, 2, 3, 4)
SCHOOL_GATE_WINDOWS: tuple[TimeWindow, ...] = (
    TimeWindow.parse("07:20-08:00"),
    TimeWindow.parse("16:30-17:30"),
)
HOSPITAL_WINDOWS: tuple[TimeWindow, ...] = (TimeWindow.parse("08:00-18:00"),)

MODE_SHARES: dict[str, float] = {"foot": 0.55, "bicycle": 0.25, "car": 0.20}
"""Officers by travel mode (bicycle includes the e-bikes most foot beats use)."""

SHIFT_LEAD_MIN = 30
"""An officer's shift starts this long before its planning window (briefing, kit)."""
SHIFT_HOURS = 8

BUREAU_CELLS = 91
"""Finest-level cells of the bureau the default scale describes."""


@dataclass(frozen=True)
class RosterScale:
    """How many of each a synthetic roster has.

    Attributes
    ----------
    officers, volunteers, teams
        People, and the teams the volunteers belong to.
    posts
        School-gate posts.
    hospital_posts
        Hospital-hall posts besides the school gates; ``None``: one per eight school gates.
    stations
        Police stations.
    muster_points
        Police posts / community offices; ``None``: one per level-2 cell. Each team's base is
        a muster point besides these.
    """

    officers: int = 302
    volunteers: int = 690
    teams: int = 15
    posts: int = 24
    hospital_posts: int | None = None
    stations: int = 4
    muster_points: int | None = None

    def __post_init__(self) -> None:
        for name in ("officers", "volunteers", "teams", "posts", "stations"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InputError(name, value, "a whole number >= 0")
        for name in ("hospital_posts", "muster_points"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise InputError(name, value, "a whole number >= 0, or None for the default")
        if self.officers < 1:
            raise InputError("officers", self.officers, "at least 1 (every group has an officer)")
        if self.stations < 1:
            raise InputError("stations", self.stations, "at least 1")
        if self.volunteers and not 1 <= self.teams <= self.volunteers:
            raise InputError("teams", self.teams, f"1 to {self.volunteers} (the volunteers)")
        if not self.volunteers and self.teams:
            raise InputError("teams", self.teams, "0 when there are no volunteers")

    @property
    def hospital_post_count(self) -> int:
        """Hospital posts, the default resolved."""
        return self.posts // 8 if self.hospital_posts is None else self.hospital_posts

    @classmethod
    def for_cells(cls, cells: int) -> RosterScale:
        """Scale the bureau's roster (302 / 690 / 15 / 24 / 4 over 91 cells) to ``cells``.

        At least 6 officers (two per default window), 10 volunteers in 2 teams (fewer teams
        than five kinds where the district is small), 1 school gate and 1 station.
        """
        if cells < 1:
            raise InputError("cells", cells, "at least 1")
        base = cls()
        share = cells / BUREAU_CELLS
        volunteers = max(10, round(base.volunteers * share))
        return cls(
            officers=max(6, round(base.officers * share)),
            volunteers=volunteers,
            teams=min(volunteers, max(2, round(base.teams * share))),
            posts=max(1, round(base.posts * share)),
            stations=max(1, round(base.stations * share)),
        )


@dataclass(frozen=True)
class TeamKind:
    """A kind of volunteer team: who they are and when they can patrol."""

    kind: str
    label_en: str
    label_zh: str
    weight: float
    """Relative team size."""
    options: tuple[tuple[str, tuple[int, ...]], ...]
    """Availability options (window, weekdays); a member takes one or two."""
    hours: tuple[int, int]
    """Range of weekly hour caps."""


TEAM_KINDS: tuple[TeamKind, ...] = (
    TeamKind(
        "security guards",
        "Security guards",
        "保安队",
        1.2,
        (
            ("18:30-23:30", ALL_WEEKDAYS),
            ("13:30-18:30", ALL_WEEKDAYS),
            ("06:30-11:30", ALL_WEEKDAYS),
        ),
        (8, 12),
    ),
    TeamKind(
        "grid workers",
        "Grid workers",
        "网格员队",
        1.0,
        (("06:45-18:15", SCHOOL_DAYS), ("18:30-23:30", SCHOOL_DAYS)),
        (12, 20),
    ),
    TeamKind(
        "parking attendants",
        "Parking attendants",
        "停车管理员队",
        0.8,
        (("13:30-23:30", ALL_WEEKDAYS), ("06:30-11:30", ALL_WEEKDAYS)),
        (8, 12),
    ),
    TeamKind(
        "school guards",
        "School guards",
        "护学岗队",
        0.9,
        (("06:45-11:30", SCHOOL_DAYS), ("13:30-18:00", SCHOOL_DAYS)),
        (10, 14),
    ),
    TeamKind(
        "hospital guards",
        "Hospital guards",
        "医院保安队",
        1.1,
        (("06:30-18:30", ALL_WEEKDAYS), ("18:30-23:30", ALL_WEEKDAYS)),
        (8, 12),
    ),
)

_ZH_PLACES = (
    "东升",
    "和平",
    "新华",
    "建设",
    "幸福",
    "光明",
    "友谊",
    "胜利",
    "向阳",
    "朝阳",
    "长安",
    "兴华",
    "振兴",
    "文化",
    "团结",
    "红星",
    "民主",
    "平安",
    "华侨",
    "新村",
    "滨河",
    "翠园",
    "锦绣",
    "花园",
)
_ZH_STATIONS = ("中心", "新城", "园区", "湖滨", "高新", "港湾", "城关", "滨江", "工业园", "开发区")
_ZH_HOSPITALS = (
    "区人民医院",
    "区中医院",
    "妇幼保健院",
    "第二人民医院",
    "骨科医院",
    "社区卫生服务中心",
)
_EN_HOSPITALS = ("General Hospital", "Children's Hospital", "City Clinic", "Memorial Hospital")


def officer_shifts(windows: Sequence[TimeWindow] = DEFAULT_WINDOWS) -> tuple[TimeWindow, ...]:
    """One officer shift per planning window, covering it from start to end.

    A shift starts :data:`SHIFT_LEAD_MIN` before its window and lasts :data:`SHIFT_HOURS`
    (longer where the window needs it): for the default windows 06:30-14:30, 13:30-21:30 and
    18:30-02:30.
    """
    out = []
    for w in windows:
        start = dt.datetime.combine(dt.date(2000, 1, 3), w.start) - dt.timedelta(
            minutes=SHIFT_LEAD_MIN
        )
        minutes = max(SHIFT_HOURS * 60, w.minutes + 2 * SHIFT_LEAD_MIN)
        end = start + dt.timedelta(minutes=minutes)
        out.append(TimeWindow.parse(f"{start:%H:%M}-{end:%H:%M}"))
    return tuple(out)


def _street_nodes(G: nx.MultiDiGraph, grids: gpd.GeoDataFrame) -> pd.DataFrame:
    """One row per street node: projected ``x``/``y``, ``lon``/``lat``, ``degree`` (distinct
    neighbours), finest ``cell`` (None outside), ``core`` (in the part of the network every
    mode reaches and leaves), ``foot`` (in the walkers' part)."""
    cores = {mode: set(mode_core(G, mode).nodes) for mode in TRAVEL_MODES}
    shared = set(G.nodes)
    for core in cores.values():
        if core:
            shared &= core
    ids = sorted(G.nodes)
    undirected = nx.Graph(G)
    nodes = pd.DataFrame(
        {
            "x": [float(G.nodes[n]["x"]) for n in ids],
            "y": [float(G.nodes[n]["y"]) for n in ids],
            "lon": [float(G.nodes[n]["lon"]) for n in ids],
            "lat": [float(G.nodes[n]["lat"]) for n in ids],
            "degree": [undirected.degree(n) for n in ids],
            "core": [n in shared for n in ids],
            "foot": [n in cores["foot"] for n in ids] if cores["foot"] else True,
        },
        index=pd.Index(ids, name="node"),
    )
    leaf = grids[grids["level"] == grids["level"].max()].sort_index()
    cell = np.full(len(nodes), None, dtype=object)
    lon, lat = nodes["lon"].to_numpy(), nodes["lat"].to_numpy()
    for gid, geom in zip(leaf.index, leaf.geometry, strict=True):
        inside = shapely.contains_xy(geom, lon, lat) & pd.isna(cell)
        cell[inside] = str(gid)
    nodes["cell"] = cell
    if not nodes["core"].any():
        nodes["core"] = True
    return nodes


def _kmeans(xy: np.ndarray, k: int, rng: np.random.Generator, iterations: int = 25) -> np.ndarray:
    """Centres of ``k`` clusters (k-means++ start, Lloyd iterations)."""
    k = min(k, len(xy))
    centres = [xy[int(rng.integers(0, len(xy)))]]
    for _ in range(1, k):
        d2 = np.min(((xy[:, None, :] - np.array(centres)[None, :, :]) ** 2).sum(-1), axis=1)
        total = float(d2.sum())
        pick = int(rng.choice(len(xy), p=d2 / total)) if total > 0 else int(rng.integers(len(xy)))
        centres.append(xy[pick])
    c = np.array(centres, dtype=float)
    for _ in range(iterations):
        label = cKDTree(c).query(xy)[1]
        for j in range(k):
            members = xy[label == j]
            if len(members):
                c[j] = members.mean(axis=0)
    return c


def _allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder), each part >= 1."""
    w = np.asarray(weights, dtype=float)
    n = len(w)
    if n == 0:
        return []
    spare = total - n
    raw = w / w.sum() * spare
    parts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - parts), kind="stable")[: spare - int(parts.sum())]:
        parts[i] += 1
    return [int(p) + 1 for p in parts]


def _decide_locale(locale: str | None, timezone: str | None, nodes: pd.DataFrame) -> Locale:
    if locale is not None:
        return check_locale(locale)
    if timezone is not None:
        return locale_for(timezone)
    lon, lat = float(nodes["lon"].median()), float(nodes["lat"].median())
    return "zh" if not bool(out_of_china(lon, lat)) else "en"


class _Builder:
    """The steps of one synthetic roster, sharing the street table, the cells and the seeds."""

    def __init__(
        self,
        grids: gpd.GeoDataFrame,
        G: nx.MultiDiGraph,
        scale: RosterScale,
        seed: int,
        locale: Locale | None,
        timezone: str | None,
    ) -> None:
        self.grids = grids
        self.scale = scale
        self.nodes = _street_nodes(G, grids)
        self.locale = _decide_locale(locale, timezone, self.nodes)
        seeds = np.random.SeedSequence(seed).spawn(6)
        self.rng = {
            part: np.random.default_rng(s)
            for part, s in zip(
                ("stations", "officers", "posts", "muster", "teams", "members"), seeds, strict=True
            )
        }
        top = int(grids["level"].max())
        self.leaf_level = top
        self.mid_level = min(2, top)
        leaf = grids[grids["level"] == top].sort_index()
        centres = leaf.to_crs(G.graph["crs"]).geometry.representative_point()
        # Every finest cell's middle (projected metres): where people live.
        self.leaf_xy = pd.DataFrame(
            {"x": centres.x.to_numpy(), "y": centres.y.to_numpy()},
            index=pd.Index([str(i) for i in leaf.index]),
        )
        self.parent_of = {gid: self._ancestor(gid, self.mid_level) for gid in self.leaf_xy.index}
        # Cells with a street node every mode reaches: where posts and team bases go.
        core = self.nodes[self.nodes["core"] & self.nodes["cell"].notna()]
        self.site_cells = sorted(str(c) for c in core["cell"].unique())
        if not self.site_cells:
            raise InputError("grids", "no street in any finest-level cell", "cells with streets")
        self.station_nodes: list[int] = []
        self.lonlat: dict[int, tuple[float, float]] = {
            int(n): (float(x), float(y))
            for n, x, y in zip(self.nodes.index, self.nodes["lon"], self.nodes["lat"], strict=True)
        }

    def _leaf_ids(self) -> list[str]:
        return sorted(str(i) for i in self.grids.index[self.grids["level"] == self.leaf_level])

    def _ancestor(self, gid: str, level: int) -> str:
        current = gid
        while int(self.grids.loc[current, "level"]) > level:
            parent = self.grids.loc[current, "parent"]
            if parent is None or (isinstance(parent, float) and math.isnan(parent)):
                break
            current = str(parent)
        return current

    def _node_lonlat(self, node: int) -> tuple[float, float]:
        lon, lat = self.lonlat[node]
        return round(lon, 7), round(lat, 7)

    def _zh(self) -> bool:
        return self.locale == "zh"

    # -- stations ------------------------------------------------------------------------------
    def stations(self) -> list[Station]:
        rng = self.rng["stations"]
        nodes = self.nodes[self.nodes["core"]]
        xy = nodes[["x", "y"]].to_numpy()
        centres = _kmeans(xy, self.scale.stations, rng)
        # West to east, so station numbers read across the map.
        centres = centres[np.argsort(centres[:, 0], kind="stable")]
        well = nodes[nodes["degree"] >= 3]
        pool = well if len(well) >= len(centres) else nodes
        tree = cKDTree(pool[["x", "y"]].to_numpy())
        used: set[int] = set()
        out = []
        for i, c in enumerate(centres):
            _, idx = tree.query(c, k=min(len(pool), len(centres) + 1))
            node = next(int(pool.index[j]) for j in np.atleast_1d(idx) if pool.index[j] not in used)
            used.add(node)
            self.station_nodes.append(node)
            lon, lat = self._node_lonlat(node)
            if self._zh():
                name = f"{_ZH_STATIONS[i % len(_ZH_STATIONS)]}派出所"
            else:
                name = f"Police station {chr(ord('A') + i % 26)}"
            out.append(Station(f"S{i + 1}", name, lon, lat))
        return out

    # -- officers ------------------------------------------------------------------------------
    def officers(self, stations: Sequence[Station]) -> list[Officer]:
        rng = self.rng["officers"]
        n = self.scale.officers
        shifts = officer_shifts()
        counts = _allocate(n, list(MODE_SHARES.values())) if n >= len(MODE_SHARES) else [n]
        modes = [m for m, c in zip(MODE_SHARES, counts, strict=False) for _ in range(c)]
        modes = [modes[i] for i in rng.permutation(n)]
        out = []
        for i in range(n):
            name = fake_name(rng, self.locale)
            out.append(
                Officer(
                    f"O{i + 1:03d}",
                    name,
                    stations[i % len(stations)].id,
                    (Shift(shifts[i % len(shifts)], ALL_WEEKDAYS),),
                    modes[i],
                    fake_phone(rng, self.locale),
                )
            )
        return out

    # -- posts ---------------------------------------------------------------------------------
    def _spread_cells(self, count: int, rng: np.random.Generator, avoid: set[str]) -> list[str]:
        """``count`` leaf cells with streets, taking level-2 cells in turn (then repeating)."""
        by_mid: dict[str, list[str]] = {}
        for gid in self.site_cells:
            by_mid.setdefault(self.parent_of.get(gid, gid), []).append(gid)
        mids = sorted(by_mid)
        mids = [mids[i] for i in rng.permutation(len(mids))]
        pools = {m: [by_mid[m][i] for i in rng.permutation(len(by_mid[m]))] for m in mids}
        out: list[str] = []
        taken = set(avoid)
        while len(out) < count:
            progress = False
            for m in mids:
                free = [g for g in pools[m] if g not in taken]
                if free and len(out) < count:
                    out.append(free[0])
                    taken.add(free[0])
                    progress = True
            if not progress:  # every cell taken once: start another round
                taken = set()
        return out

    def _node_in(
        self, cells: Sequence[str], used: set[int], rng: np.random.Generator | None = None
    ) -> int | None:
        """A free street node in ``cells``, the best reachable kind first: in the every-mode core,
        else in the walkers' part, else any; not a dead end where there is a choice. With
        ``rng`` a random one of those, else the best connected near the cells' middle."""
        inside = self.nodes[self.nodes["cell"].isin(list(cells))]
        for tier in (inside[inside["core"]], inside[inside["foot"]], inside):
            free = tier[~tier.index.isin(list(used))]
            pool = free if len(free) else tier
            if pool.empty:
                continue
            if rng is not None:
                street = pool[pool["degree"] >= 2]
                pick = street if len(street) else pool
                node = int(pick.index[int(rng.integers(0, len(pick)))])
                used.add(node)
                return node
            cx, cy = float(pool["x"].median()), float(pool["y"].median())
            dist = np.hypot(pool["x"].to_numpy() - cx, pool["y"].to_numpy() - cy)
            ranked = pool.assign(
                d=dist, dead=(pool["degree"] < 2).astype(int), weak=(pool["degree"] < 3)
            )
            node = int(ranked.sort_values(["dead", "weak", "d"], kind="stable").index[0])
            used.add(node)
            return node
        return None

    def posts(self, used: set[int]) -> list[FixedPost]:
        rng = self.rng["posts"]
        schools = self.scale.posts
        hospitals = self.scale.hospital_post_count
        cells = self._spread_cells(schools, rng, set())
        cells += self._spread_cells(hospitals, rng, set(cells) if hospitals else set())
        out = []
        for i, cell in enumerate(cells):
            node = self._node_in([cell], used, rng)
            assert node is not None  # cells come from site_cells
            lon, lat = self._node_lonlat(node)
            if i < schools:
                n = i + 1
                if self._zh():
                    place = _ZH_PLACES[i % len(_ZH_PLACES)]
                    name = f"{place}小学校门" if i % 3 else f"{place}中学校门"
                else:
                    name = f"School gate {n}"
                out.append(
                    FixedPost(
                        f"P{n:02d}",
                        name,
                        lon,
                        lat,
                        cell,
                        SCHOOL_GATE_WINDOWS,
                        SCHOOL_DAYS,
                        40,
                        "school gate",
                    )
                )
            else:
                j = i - schools
                if self._zh():
                    name = f"{_ZH_HOSPITALS[j % len(_ZH_HOSPITALS)]}门诊大厅"
                else:
                    name = f"{_EN_HOSPITALS[j % len(_EN_HOSPITALS)]} main hall"
                out.append(
                    FixedPost(
                        f"H{j + 1:02d}",
                        name,
                        lon,
                        lat,
                        cell,
                        HOSPITAL_WINDOWS,
                        ALL_WEEKDAYS,
                        30,
                        "hospital hall",
                    )
                )
        return out

    # -- muster points -------------------------------------------------------------------------
    def muster_points(self, used: set[int]) -> list[MusterPoint]:
        rng = self.rng["muster"]
        mids = sorted(set(self.parent_of.values()))
        if self.scale.muster_points is not None:
            # A chosen number: level-2 cells in a seeded order, repeated if there are more.
            order = rng.permutation(len(mids))
            mids = [mids[int(order[i % len(mids)])] for i in range(self.scale.muster_points)]
        out = []
        for i, mid in enumerate(mids):
            cells = [g for g, parent in self.parent_of.items() if parent == mid]
            node = self._node_in(cells, used)
            if node is None:  # a level-2 cell without a street node
                continue
            lon, lat = self._node_lonlat(node)
            police = i % 2 == 0
            kind = "police post" if police else "community office"
            if self._zh():
                place = _ZH_PLACES[(i * 7) % len(_ZH_PLACES)]
                name = f"{place}警务室" if police else f"{place}社区居委会"
            else:
                name = f"{'Police post' if police else 'Community office'} {i + 1}"
            out.append(MusterPoint(f"M{i + 1:02d}", name, lon, lat, kind, mid))
        return out

    # -- teams ---------------------------------------------------------------------------------
    def teams(
        self, stations: Sequence[Station], posts: Sequence[FixedPost], used: set[int]
    ) -> tuple[list[VolunteerTeam], list[MusterPoint]]:
        rng = self.rng["teams"]
        n = self.scale.teams
        if n == 0:
            return [], []
        kinds = [TEAM_KINDS[i % len(TEAM_KINDS)] for i in range(n)]
        jitter = rng.uniform(0.8, 1.2, size=n)
        sizes = _allocate(
            self.scale.volunteers, [k.weight * j for k, j in zip(kinds, jitter, strict=True)]
        )
        # School and hospital guards live by their schools and hospitals; others spread out.
        school_cells = [p.grid_id for p in posts if p.purpose == "school gate"]
        hospital_cells = [p.grid_id for p in posts if p.purpose == "hospital hall"]
        spread = iter(self._spread_cells(n, rng, set()))
        homes = []
        counters = {"school guards": 0, "hospital guards": 0}
        for k in kinds:
            near = {"school guards": school_cells, "hospital guards": hospital_cells}.get(k.kind)
            if near:
                homes.append(near[counters[k.kind] % len(near)])
                counters[k.kind] += 1
                next(spread)
            else:
                homes.append(next(spread))
        station_xy = self.nodes.loc[self.station_nodes, ["x", "y"]].to_numpy()
        station_tree = cKDTree(station_xy)
        teams, bases = [], []
        members_rng = self.rng["members"]
        next_volunteer = 1
        for t, (kind, home, size) in enumerate(zip(kinds, homes, sizes, strict=True)):
            team_id = f"T{t + 1:02d}"
            hx, hy = self.leaf_xy.loc[home]
            base_station = stations[int(station_tree.query([hx, hy])[1])].id
            place = _ZH_PLACES[(t * 5 + 3) % len(_ZH_PLACES)]
            team_name = f"{place}{kind.label_zh}" if self._zh() else f"{kind.label_en} {t + 1}"
            members = []
            for _ in range(size):
                members.append(self._member(kind, team_id, home, next_volunteer, members_rng))
                next_volunteer += 1
            teams.append(
                VolunteerTeam(team_id, team_name, kind.kind, home, base_station, tuple(members))
            )
            node = self._node_in([home], used)
            assert node is not None  # homes come from site_cells
            lon, lat = self._node_lonlat(node)
            base_name = f"{team_name}驻点" if self._zh() else f"{team_name} base"
            bases.append(MusterPoint(f"B{t + 1:02d}", base_name, lon, lat, "team base", home))
        return teams, bases

    def _member(
        self, kind: TeamKind, team_id: str, home: str, number: int, rng: np.random.Generator
    ) -> Volunteer:
        # Home cell: most live near the team's home (weight falls by e every 1.5 km).
        cells = self.leaf_xy.index
        hx, hy = self.leaf_xy.loc[home]
        d = np.hypot(self.leaf_xy["x"].to_numpy() - hx, self.leaf_xy["y"].to_numpy() - hy)
        w = np.exp(-d / 1500.0)
        cell = str(cells[int(rng.choice(len(cells), p=w / w.sum()))])
        # Availability: one of the kind's options, sometimes two; some lose a regular day.
        order = rng.permutation(len(kind.options))
        take = 2 if len(order) > 1 and rng.random() < 0.35 else 1
        chosen = sorted(int(i) for i in order[:take])
        shifts = []
        day_off = int(rng.integers(0, 7)) if rng.random() < 0.3 else None
        for i in chosen:
            window, days = kind.options[i]
            kept = tuple(d for d in days if d != day_off) or days
            shifts.append(Shift(TimeWindow.parse(window), kept))
        lo, hi = kind.hours
        hours = float(lo + 2 * int(rng.integers(0, (hi - lo) // 2 + 1)))
        return Volunteer(
            f"V{number:04d}",
            fake_name(rng, self.locale),
            team_id,
            kind.kind,
            tuple(shifts),
            hours,
            fake_phone(rng, self.locale),
            fake_id_number(rng, self.locale),
            cell,
        )


def synthetic_roster(
    grids: gpd.GeoDataFrame,
    G: nx.MultiDiGraph,
    *,
    scale: RosterScale | None = None,
    seed: int = 0,
    locale: str | None = None,
    timezone: str | None = None,
) -> Resources:
    """Make a plausible, fake roster for a district at any scale.

    Parameters
    ----------
    grids
        Grid hierarchy (WGS-84; ``level``, ``parent``), e.g. ``district.grids``.
    G
        Prepared street graph (projected ``x``/``y``, ``lon``/``lat``, ``travel_time_<mode>``).
    scale
        How many of each; default :meth:`RosterScale.for_cells` of the finest level's cells.
    seed
        The same seed (and inputs) gives the same roster.
    locale
        ``zh``, ``fi`` or ``en`` for names, phones and ID numbers; default from ``timezone``
        (China: ``zh``), or without one from the location (inside the box where Chinese map
        coordinates apply: ``zh``).
    timezone
        The district's IANA time zone.

    Returns
    -------
    Resources
        Stations, officers, teams with members, fixed posts and muster points; every place on
        a street node that all travel modes reach and leave; posts and home cells at the finest
        level.
    """
    leaf_count = int((grids["level"] == grids["level"].max()).sum())
    chosen = scale if scale is not None else RosterScale.for_cells(leaf_count)
    builder = _Builder(
        grids, G, chosen, seed, None if locale is None else check_locale(locale), timezone
    )
    stations = builder.stations()
    used: set[int] = set()
    officers = builder.officers(stations)
    posts = builder.posts(used)
    muster = builder.muster_points(used)
    teams, bases = builder.teams(stations, posts, used)
    return Resources(
        tuple(stations), tuple(officers), tuple(teams), tuple(posts), tuple(muster + bases)
    )
