"""Incident intake: read, validate, map categories, convert coordinates, snap to streets.

The incident schema (GeoDataFrame, EPSG:4326), one row per incident:

``incident_id`` (str), ``category`` (vocabulary key, see ``optimizer.risk.categories``),
``occurred_at`` (tz-aware pandas datetime; midnight local time for date-only sources),
``date_only`` (bool), ``severity`` (float), ``lon``, ``lat``, ``geometry``; after snapping also
``u``, ``v``, ``key`` (the street edge), ``snap_m`` (metres from the reported point to the street),
``node`` (nearer end of the edge) and ``grid_id`` (finest grid containing the point) where grids
are known.

:func:`read_incidents` never drops a row silently: every rejected row (and every incident too far
from any street) is listed in :attr:`IntakeResult.problems` with its line, field, value and reason.
"""

from __future__ import annotations

import io
import json
import re
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from shapely.geometry import LineString

from optimizer.errors import InputError
from optimizer.risk.categories import VOCABULARY, Category, resolve_category
from optimizer.timewindow import DATE_RANGE, FIRST_DATE, LAST_DATE

INCIDENT_COLUMNS: tuple[str, ...] = (
    "incident_id",
    "category",
    "occurred_at",
    "date_only",
    "severity",
    "lon",
    "lat",
    "geometry",
)
"""Columns every incident frame has (snapping adds ``u, v, key, snap_m, node, grid_id``)."""

CRS_NAMES: tuple[str, ...] = ("wgs84", "gcj02", "bd09")
DEFAULT_MAX_SNAP_M = 100.0

# ---------------------------------------------------------------------------------------------
# street segments


def _ensure_projected(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Return ``G`` projected to a metric CRS with node ``lon``/``lat`` (unchanged if it is)."""
    crs = CRS.from_user_input(G.graph.get("crs", "EPSG:4326"))
    if crs.is_geographic:
        import osmnx as ox

        for _, d in G.nodes(data=True):
            d.setdefault("lon", float(d["x"]))
            d.setdefault("lat", float(d["y"]))
        return ox.project_graph(G)
    missing = [n for n, d in G.nodes(data=True) if "lon" not in d or "lat" not in d]
    if missing:
        to_wgs = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        xs = np.array([G.nodes[n]["x"] for n in missing], dtype=float)
        ys = np.array([G.nodes[n]["y"] for n in missing], dtype=float)
        lons, lats = to_wgs.transform(xs, ys)
        for n, lo, la in zip(missing, lons, lats, strict=True):
            G.nodes[n]["lon"] = float(lo)
            G.nodes[n]["lat"] = float(la)
    return G


_SEGMENTS: weakref.WeakKeyDictionary[nx.MultiDiGraph, gpd.GeoDataFrame] = (
    weakref.WeakKeyDictionary()
)


def street_segments(G: nx.MultiDiGraph) -> gpd.GeoDataFrame:
    """Return the undirected street segments of a projected graph, one row per street piece.

    A two-way street is two directed edges ``(u, v, k)`` and ``(v, u, k)`` in the graph and one
    segment here (``u < v`` kept, or the only direction that exists). Cached per graph object.

    Parameters
    ----------
    G
        Projected street graph (node ``x``/``y`` in metres, ``lon``/``lat``; edge ``length``).

    Returns
    -------
    geopandas.GeoDataFrame
        Index ``0..S-1``; columns ``u``, ``v``, ``key``, ``length`` (m), ``highway``,
        ``patrollable`` (walkable or cyclable in some direction; True where the graph has no
        travel times), ``x``, ``y`` (midpoint, metres), ``lon``, ``lat`` (midpoint) and
        projected ``geometry``.
    """
    cached = _SEGMENTS.get(G)
    if cached is not None:
        return cached
    crs = CRS.from_user_input(G.graph.get("crs", "EPSG:4326"))
    if crs.is_geographic:
        raise InputError("graph.crs", str(crs), "a projected street graph (metres)")
    seen: set[tuple[int, int, int]] = set()
    rows: list[tuple[int, int, int, float, str, bool]] = []
    geoms: list[LineString] = []

    def walkable(d: Mapping[str, Any]) -> bool:
        times = [d.get(f"travel_time_{m}") for m in ("foot", "bicycle")]
        known = [float(t) for t in times if t is not None]
        return not known or any(np.isfinite(t) for t in known)

    for u, v, k, d in sorted(G.edges(keys=True, data=True), key=lambda e: (e[0], e[1], e[2])):
        a, b = (u, v) if u <= v else (v, u)
        if (a, b, k) in seen:
            continue
        seen.add((a, b, k))
        geom = d.get("geometry")
        if geom is None:
            geom = LineString(
                [(G.nodes[u]["x"], G.nodes[u]["y"]), (G.nodes[v]["x"], G.nodes[v]["y"])]
            )
        hw = d.get("highway", "")
        if isinstance(hw, list):
            hw = hw[0] if hw else ""
        length = float(d.get("length", geom.length))
        back = G.get_edge_data(v, u, k) if G.has_edge(v, u, k) else None
        ok = walkable(d) or (back is not None and walkable(back))
        rows.append((int(u), int(v), int(k), max(length, 0.1), str(hw), ok))
        geoms.append(geom)
    frame = pd.DataFrame(rows, columns=["u", "v", "key", "length", "highway", "patrollable"])
    mids = shapely.line_interpolate_point(np.array(geoms, dtype=object), 0.5, normalized=True)
    frame["x"] = shapely.get_x(mids)
    frame["y"] = shapely.get_y(mids)
    to_wgs = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    lon, lat = to_wgs.transform(frame["x"].to_numpy(), frame["y"].to_numpy())
    frame["lon"] = lon
    frame["lat"] = lat
    segs = gpd.GeoDataFrame(frame, geometry=geoms, crs=crs)
    _SEGMENTS[G] = segs
    return segs


def grid_of_points(grids: gpd.GeoDataFrame | None, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Return the finest-level grid id containing each point (None outside every grid)."""
    out = np.full(len(lon), None, dtype=object)
    if grids is None or len(grids) == 0 or len(lon) == 0:
        return out
    level = grids["level"].max() if "level" in grids.columns else None
    leaf = grids if level is None else grids[grids["level"] == level]
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    polys = gpd.GeoDataFrame(
        {"grid_id": [str(i) for i in leaf.index]}, geometry=list(leaf.geometry), crs="EPSG:4326"
    )
    joined = gpd.sjoin(pts, polys, how="left", predicate="intersects")
    first = joined[~joined.index.duplicated(keep="first")]
    vals = first["grid_id"].reindex(range(len(lon))).to_numpy(dtype=object)
    for i, g in enumerate(vals):
        out[i] = None if g is None or (isinstance(g, float) and np.isnan(g)) else str(g)
    return out


@dataclass(frozen=True)
class Snapped:
    """Nearest street segment of some points."""

    segment: np.ndarray
    """Index into :func:`street_segments` (``-1`` where nothing is within the limit)."""
    snap_m: np.ndarray
    """Distance to that segment in metres (``nan`` where nothing is within the limit)."""
    position: np.ndarray
    """Fraction along the segment from its ``u`` end (0..1)."""


def snap_points(
    G: nx.MultiDiGraph, lon: np.ndarray, lat: np.ndarray, *, max_snap_m: float = DEFAULT_MAX_SNAP_M
) -> Snapped:
    """Snap WGS-84 points to the nearest street segment of a projected graph.

    Parameters
    ----------
    G
        Projected street graph.
    lon, lat
        WGS-84 coordinates.
    max_snap_m
        Points farther than this from every street get segment ``-1``.

    Returns
    -------
    Snapped
    """
    segs = street_segments(G)
    to_proj = Transformer.from_crs("EPSG:4326", segs.crs, always_xy=True)
    x, y = to_proj.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    pts = shapely.points(x, y)
    tree = shapely.STRtree(np.asarray(segs.geometry.array, dtype=object))
    n = len(pts)
    seg = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.nan)
    pos = np.zeros(n)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.any():
        idx = np.flatnonzero(ok)
        (pi, si), d = tree.query_nearest(
            pts[idx], max_distance=max_snap_m, return_distance=True, all_matches=False
        )
        seg[idx[pi]] = si
        dist[idx[pi]] = d
        lines = np.asarray(segs.geometry.array, dtype=object)[si]
        pos[idx[pi]] = shapely.line_locate_point(lines, pts[idx[pi]], normalized=True)
    return Snapped(seg, dist, np.nan_to_num(pos))


def snap_incidents(
    incidents: gpd.GeoDataFrame,
    G: nx.MultiDiGraph,
    *,
    grids: gpd.GeoDataFrame | None = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Add ``u``, ``v``, ``key``, ``snap_m``, ``node`` (and ``grid_id``) to incidents.

    Parameters
    ----------
    incidents
        Incident frame (schema in the module docstring).
    G
        Projected street graph.
    grids
        Grids of the district; adds ``grid_id`` (finest level) when given.
    max_snap_m
        Incidents farther than this from every street are not snapped.

    Returns
    -------
    (snapped, too_far)
        The snapped incidents, and those farther than ``max_snap_m`` from every street (with
        ``snap_m`` = distance to the nearest street, or nan if none within 10 km).
    """
    segs = street_segments(G)
    lon = incidents["lon"].to_numpy(dtype=float)
    lat = incidents["lat"].to_numpy(dtype=float)
    sn = snap_points(G, lon, lat, max_snap_m=max_snap_m)
    out = incidents.copy()
    good = sn.segment >= 0
    si = np.where(good, sn.segment, 0)
    out["u"] = segs["u"].to_numpy()[si]
    out["v"] = segs["v"].to_numpy()[si]
    out["key"] = segs["key"].to_numpy()[si]
    out["snap_m"] = sn.snap_m
    out["position"] = sn.position
    out["node"] = np.where(sn.position <= 0.5, out["u"].to_numpy(), out["v"].to_numpy())
    if grids is not None:
        out["grid_id"] = grid_of_points(grids, lon, lat)
    far = out[~good].copy()
    if len(far):
        wide = snap_points(G, far["lon"].to_numpy(), far["lat"].to_numpy(), max_snap_m=10_000.0)
        far["snap_m"] = wide.snap_m
    return out[good].reset_index(drop=True), far.reset_index(drop=True)


def segment_index(incidents: pd.DataFrame, G: nx.MultiDiGraph) -> np.ndarray:
    """Return the street-segment index of snapped incidents (``-1`` where the edge is unknown)."""
    segs = street_segments(G)
    lookup: dict[tuple[int, int, int], int] = {}
    for i, (u, v, k) in enumerate(
        zip(segs["u"].to_numpy(), segs["v"].to_numpy(), segs["key"].to_numpy(), strict=True)
    ):
        lookup[(int(u), int(v), int(k))] = i
        lookup.setdefault((int(v), int(u), int(k)), i)
    us = incidents["u"].to_numpy()
    vs = incidents["v"].to_numpy()
    ks = incidents["key"].to_numpy()
    return np.array(
        [lookup.get((int(u), int(v), int(k)), -1) for u, v, k in zip(us, vs, ks, strict=True)],
        dtype=np.int64,
    )


def empty_incidents() -> gpd.GeoDataFrame:
    """Return an incident frame with the schema's columns and no rows."""
    frame = pd.DataFrame(
        {
            "incident_id": pd.Series([], dtype=str),
            "category": pd.Series([], dtype=str),
            "occurred_at": pd.Series([], dtype="datetime64[ns, UTC]"),
            "date_only": pd.Series([], dtype=bool),
            "severity": pd.Series([], dtype=float),
            "lon": pd.Series([], dtype=float),
            "lat": pd.Series([], dtype=float),
        }
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy([], []), crs="EPSG:4326")


# ---------------------------------------------------------------------------------------------
# intake

_ALIASES: dict[str, tuple[str, ...]] = {
    "incident_id": (
        "incident_id",
        "id",
        "incident_num",
        "incidnt_num",
        "case_id",
        "case_no",
        "external_id",
        "案件编号",
        "警情编号",
        "编号",
    ),
    "category": (
        "category",
        "type",
        "offense",
        "crime_type",
        "类别",
        "警情类别",
        "案件类别",
        "类型",
    ),
    "occurred_at": (
        "occurred_at",
        "datetime",
        "timestamp",
        "time",
        "date",
        "发生时间",
        "报警时间",
        "时间",
        "日期",
    ),
    "lon": ("lon", "lng", "long", "longitude", "x", "经度"),
    "lat": ("lat", "latitude", "y", "纬度"),
    "severity": ("severity", "weight", "严重程度"),
}
REQUIRED_FIELDS: tuple[str, ...] = ("occurred_at", "lon", "lat")

_DATE_ONLY_RE = re.compile(r"^\s*\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\s*$")
_ZH_DATE = str.maketrans(
    {"年": "-", "月": "-", "日": " ", "时": ":", "点": ":", "分": " ", "秒": " "}
)


@dataclass(frozen=True)
class Problem:
    """One problem found in a source row.

    ``line`` is the line of a CSV file (the header is line 1) or the 1-based feature number of
    a GeoJSON file (0 for problems of the whole file); ``kept`` says whether the row was still
    taken in (e.g. an unknown category counted as ``other``).
    """

    line: int
    field: str
    value: Any
    reason: str
    kept: bool = False


@dataclass(frozen=True)
class IntakeResult:
    """Incidents read from a source and the problems found.

    Attributes
    ----------
    incidents
        Good rows in the incident schema (snapped when a graph was given).
    problems
        One entry per problem; rows with a problem that is not ``kept`` are not in
        ``incidents``.
    too_far
        Rows farther than ``max_snap_m`` from every street (also listed in ``problems``).
    """

    incidents: gpd.GeoDataFrame
    problems: list[Problem] = field(default_factory=list)
    too_far: gpd.GeoDataFrame | None = None

    def problems_frame(self) -> pd.DataFrame:
        """Return the problems as a table (``line, field, value, reason, kept``)."""
        return pd.DataFrame(
            [(p.line, p.field, p.value, p.reason, p.kept) for p in self.problems],
            columns=["line", "field", "value", "reason", "kept"],
        )


def _decoded(path: Path) -> str:
    """Return the text of ``path`` as UTF-8 (a BOM is dropped) or name the first bad byte."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(
            "source",
            f"{path.name} line {line}",
            f"UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start} is not UTF-8; "
            "save the file as UTF-8)",
        ) from None


def _geojson_rows(path: Path, text: str) -> list[dict[str, Any]]:
    """Return the properties (plus ``lon``/``lat`` of Point geometries) of each feature."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            "source",
            f"{path.name} line {exc.lineno}",
            f"a complete GeoJSON FeatureCollection ({exc.msg} at line {exc.lineno} "
            f"column {exc.colno}; the file may be truncated)",
        ) from None
    feats = data.get("features") if isinstance(data, dict) else None
    if not isinstance(feats, list):
        raise InputError("source", path.name, "a GeoJSON FeatureCollection")
    rows: list[dict[str, Any]] = []
    for number, f in enumerate(feats, start=1):
        feature = f if isinstance(f, dict) else {}
        props = feature.get("properties")
        geom = feature.get("geometry")
        if not isinstance(f, dict) or not isinstance(props or {}, dict):
            raise InputError(
                f"features[{number - 1}]", str(f)[:80], "a GeoJSON Feature with properties"
            )
        row = dict(props or {})
        coords = geom.get("coordinates") if isinstance(geom, dict) else None
        point = isinstance(geom, dict) and geom.get("type") == "Point"
        if point and isinstance(coords, list) and len(coords) >= 2:
            row.setdefault("lon", coords[0])
            row.setdefault("lat", coords[1])
        rows.append(row)
    return rows


def _csv_frame(path: Path, text: str, sep: str) -> pd.DataFrame:
    """Parse CSV text (every value a string); a malformed file names the line."""
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep, engine="c")
    except pd.errors.EmptyDataError:
        raise InputError("source", path.name, "a CSV file with a header row") from None
    except pd.errors.ParserError as exc:
        detail = str(exc).replace("Error tokenizing data. C error: ", "").strip()
        # pandas counts "line" from 1 and "row" from 0, both including the header
        line = re.search(r"line (\d+)", detail)
        row = re.search(r"row (\d+)", detail)
        number = int(line.group(1)) if line else int(row.group(1)) + 1 if row else None
        where = path.name if number is None else f"{path.name} line {number}"
        raise InputError(
            "source",
            where,
            f"a CSV file whose rows have the header's fields and closed quotes ({detail})",
        ) from None


def _xlsx_frame(path: Path) -> pd.DataFrame:
    """Read the first sheet of a workbook (every value a string, empty cells "")."""
    try:
        frame = pd.read_excel(path, sheet_name=0, dtype=str, engine="openpyxl")
    except Exception as exc:  # openpyxl and zipfile raise many types for damaged workbooks
        raise InputError(
            "source",
            path.name,
            f"a complete .xlsx workbook with a header row (reading failed: {type(exc).__name__})",
        ) from None
    return frame.fillna("")


def _read_table(source: str | Path | pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Return the raw table (all strings) and the source line of each row.

    Raises
    ------
    InputError
        Missing file, unknown suffix, text that is not UTF-8, a CSV row with more fields than
        the header or an unterminated quote, a GeoJSON file that does not parse, a workbook
        that does not open.
    """
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
        return frame, np.arange(len(frame)) + 2
    path = Path(source)
    if not path.is_file():
        raise InputError("source", str(path), "an existing CSV or GeoJSON file")
    suffix = path.suffix.lower()
    if suffix not in {".geojson", ".json", ".csv", ".txt", ".tsv", ".xlsx"}:
        raise InputError("source", str(path), "a .csv, .tsv, .xlsx, .geojson or .json file")
    if suffix == ".xlsx":
        frame = _xlsx_frame(path)
        return frame, np.arange(len(frame)) + 2
    text = _decoded(path)
    if suffix in {".geojson", ".json"}:
        rows = _geojson_rows(path, text)
        return pd.DataFrame(rows), np.arange(len(rows)) + 1
    frame = _csv_frame(path, text, "\t" if suffix == ".tsv" else ",")
    return frame, np.arange(len(frame)) + 2


def _resolve_columns(frame: pd.DataFrame, columns: Mapping[str, str] | None) -> dict[str, str]:
    """Return schema field -> source column."""
    out: dict[str, str] = {}
    lower = {str(c).strip().casefold(): c for c in frame.columns}
    for name, col in (columns or {}).items():
        if name not in {*_ALIASES, "time"}:
            raise InputError(f"columns.{name}", col, f"a field among {sorted({*_ALIASES, 'time'})}")
        if col not in frame.columns:
            raise InputError(f"columns.{name}", col, f"a column of the file {list(frame.columns)}")
        out[name] = col
    for name, aliases in _ALIASES.items():
        if name in out:
            continue
        for a in aliases:
            if a.casefold() in lower and lower[a.casefold()] not in out.values():
                out[name] = lower[a.casefold()]
                break
    missing = [f for f in REQUIRED_FIELDS if f not in out]
    if missing:
        raise InputError(
            "columns",
            list(frame.columns),
            f"columns for {missing} (pass columns={{field: column}}; known names: "
            + "; ".join(f"{f}: {', '.join(_ALIASES[f][:4])}" for f in missing)
            + ")",
        )
    return out


def _parse_when(text: str, tz: str) -> tuple[pd.Timestamp | None, bool]:
    """Parse one timestamp; return (tz-aware timestamp or None, date only)."""
    s = str(text).strip()
    if not s or s.casefold() in {"nan", "nat", "none", "null"}:
        return None, False
    s = s.translate(_ZH_DATE).strip()
    s = re.sub(r"\s+", " ", s).strip().rstrip(":")
    date_only = bool(_DATE_ONLY_RE.match(s))
    try:
        ts = pd.Timestamp(s)
    except (ValueError, TypeError, OverflowError):
        return None, False
    if ts is pd.NaT or pd.isna(ts):
        return None, False
    if not FIRST_DATE <= ts.date() <= LAST_DATE:
        return None, False
    if ts.tzinfo is None:
        try:
            ts = ts.tz_localize(tz, nonexistent="shift_forward", ambiguous=False)
        except (ValueError, TypeError):
            return None, False
    else:
        ts = ts.tz_convert(tz)
    return ts, date_only


def read_incidents(
    source: str | Path | pd.DataFrame,
    *,
    columns: Mapping[str, str] | None = None,
    crs: str = "wgs84",
    tz: str = "UTC",
    category_map: Mapping[str, str] | None = None,
    vocabulary: Mapping[str, Category] = VOCABULARY,
    severity: Mapping[str, float] | None = None,
    graph: nx.MultiDiGraph | None = None,
    grids: gpd.GeoDataFrame | None = None,
    area: Any = None,
    max_snap_m: float = DEFAULT_MAX_SNAP_M,
    unknown_category: str = "other",
) -> IntakeResult:
    """Read incidents from a CSV, XLSX or GeoJSON file (or a table), validate and snap them.

    Parameters
    ----------
    source
        Path of a ``.csv``/``.tsv``/``.xlsx`` (header row; a workbook's first sheet) or
        ``.geojson`` (Point features) file, or a DataFrame of raw values.
    columns
        Schema field -> source column, e.g. ``{"incident_id": "incident_num", "occurred_at":
        "date"}``; fields not given are looked up under common English and Chinese names. An
        extra field ``time`` names a separate time-of-day column joined to ``occurred_at``.
    crs
        Coordinate system of the source: ``"wgs84"``, ``"gcj02"`` or ``"bd09"``; converted to
        WGS-84.
    tz
        IANA time zone of timestamps without an offset (those with one are converted to it).
    category_map
        Extra source label -> category key pairs (tried before the vocabulary's labels).
    vocabulary
        Category vocabulary (keys, Chinese and English labels, default severity).
    severity
        Category key -> severity, overriding the vocabulary's (a ``severity`` column overrides
        both, row by row).
    graph
        Projected street graph: incidents are snapped to its edges (``u, v, key, snap_m``);
        those farther than ``max_snap_m`` are reported, not kept.
    grids
        District grids (EPSG:4326): incidents outside every grid are reported, not kept; the
        finest grid becomes ``grid_id``.
    area
        A shapely polygon (WGS-84) of the district, an alternative to ``grids`` for the
        outside check.
    max_snap_m
        Largest distance from a street for an incident to be snapped.
    unknown_category
        Key given to rows whose category is not recognised (reported, kept); ``""`` rejects
        such rows.

    Returns
    -------
    IntakeResult
        Good rows in the incident schema and the problems of the others.
    """
    from optimizer.coords import convert, coord_system

    system = coord_system(crs, "crs")
    try:
        tz_check = pd.Timestamp("2000-01-01").tz_localize(tz)
    except Exception as exc:  # pytz/zoneinfo raise different types
        raise InputError("tz", tz, "an IANA time zone name, e.g. 'Asia/Shanghai'") from exc
    del tz_check
    if unknown_category and unknown_category not in vocabulary:
        raise InputError("unknown_category", unknown_category, f"one of {sorted(vocabulary)}")
    for key, level in (severity or {}).items():
        if key not in vocabulary:
            raise InputError(f"severity.{key}", key, f"a category key, one of {sorted(vocabulary)}")
        if not (isinstance(level, int | float) and level > 0):
            raise InputError(f"severity.{key}", level, "a number > 0")
    raw, lines = _read_table(source)
    cols = _resolve_columns(raw, columns)
    n = len(raw)
    problems: list[Problem] = []
    bad = np.zeros(n, dtype=bool)

    def col(name: str) -> np.ndarray:
        return raw[cols[name]].astype(str).to_numpy() if name in cols else np.full(n, "")

    # --- time
    when_txt = col("occurred_at")
    if "time" in cols:
        when_txt = np.array(
            [f"{d} {t}".strip() for d, t in zip(when_txt, col("time"), strict=True)]
        )
    cache: dict[str, tuple[pd.Timestamp | None, bool]] = {}
    stamps: list[pd.Timestamp | None] = []
    date_only = np.zeros(n, dtype=bool)
    for i, text in enumerate(when_txt):
        if text not in cache:
            cache[text] = _parse_when(text, tz)
        ts, only = cache[text]
        stamps.append(ts)
        date_only[i] = only
        if ts is None:
            bad[i] = True
            problems.append(
                Problem(
                    int(lines[i]),
                    "occurred_at",
                    text,
                    "missing, unparseable or out-of-range date/time; expected e.g. "
                    "'2024-03-05 14:30', '2024-03-05T14:30+08:00', '2024年3月5日 14时30分' or a "
                    f"date; {DATE_RANGE}",
                )
            )
    # --- coordinates
    lon = pd.to_numeric(pd.Series(col("lon")), errors="coerce").to_numpy(dtype=float, copy=True)
    lat = pd.to_numeric(pd.Series(col("lat")), errors="coerce").to_numpy(dtype=float, copy=True)
    raw_lon, raw_lat = col("lon"), col("lat")
    for i in range(n):
        for name, val, txt, lim in (
            ("lon", lon[i], raw_lon[i], 180.0),
            ("lat", lat[i], raw_lat[i], 90.0),
        ):
            if not np.isfinite(val):
                bad[i] = True
                problems.append(Problem(int(lines[i]), name, txt, "missing or not a number"))
            elif abs(val) > lim:
                bad[i] = True
                problems.append(
                    Problem(int(lines[i]), name, txt, f"outside [-{lim:g}, {lim:g}] degrees")
                )
    ok = np.isfinite(lon) & np.isfinite(lat)
    if system != "wgs84" and ok.any():
        cl, ca = convert(lon[ok], lat[ok], system, "wgs84")
        lon[ok], lat[ok] = cl, ca
    # --- category and severity
    voc = dict(vocabulary)
    if severity:
        from optimizer.risk.categories import with_severity

        voc = with_severity(severity, voc)
    labels = col("category") if "category" in cols else np.full(n, "")
    cats = np.empty(n, dtype=object)
    resolved = {
        lab: resolve_category(lab, vocabulary=voc, mapping=category_map) for lab in set(labels)
    }
    for i, lab in enumerate(labels):
        found = resolved[lab]
        if found is None:
            if unknown_category:
                found = unknown_category
                problems.append(
                    Problem(
                        int(lines[i]),
                        "category",
                        lab,
                        f"unknown category, counted as {unknown_category!r}",
                        kept=True,
                    )
                )
            else:
                bad[i] = True
                problems.append(Problem(int(lines[i]), "category", lab, "unknown category"))
        cats[i] = found
    sev = np.array([voc[c].severity if c in voc else 1.0 for c in cats], dtype=float)
    if "severity" in cols:
        given = pd.to_numeric(pd.Series(col("severity")), errors="coerce").to_numpy(dtype=float)
        for i, (g, txt) in enumerate(zip(given, col("severity"), strict=True)):
            if np.isfinite(g) and g > 0:
                sev[i] = g
            elif str(txt).strip():
                problems.append(
                    Problem(
                        int(lines[i]),
                        "severity",
                        txt,
                        "not a number > 0; the category's severity is used",
                        kept=True,
                    )
                )
    # --- ids and duplicates
    if "incident_id" in cols:
        ids = np.array([str(v).strip() for v in col("incident_id")], dtype=object)
    else:
        ids = np.array([f"L{ln}" for ln in lines], dtype=object)
    first_line: dict[str, int] = {}
    for i in range(n):
        if not ids[i]:
            ids[i] = f"L{lines[i]}"
        if bad[i]:
            continue
        if "\x00" in ids[i]:  # no database text column can hold it (PostgreSQL refuses it)
            bad[i] = True
            problems.append(
                Problem(
                    int(lines[i]),
                    "incident_id",
                    repr(ids[i][:40]),
                    "text without NUL (\\u0000) characters",
                )
            )
        elif ids[i] in first_line:
            bad[i] = True
            problems.append(
                Problem(
                    int(lines[i]),
                    "incident_id",
                    ids[i],
                    f"duplicate of line {first_line[ids[i]]}; the first is kept",
                )
            )
        else:
            first_line[ids[i]] = int(lines[i])
    # --- inside the district
    region = area
    if region is None and grids is not None and len(grids):
        region = shapely.union_all(np.asarray(grids.geometry.array, dtype=object))
    if region is not None:
        inside = shapely.covers(region, shapely.points(np.nan_to_num(lon), np.nan_to_num(lat)))
        for j in np.flatnonzero(~inside & ~bad):
            bad[j] = True
            problems.append(
                Problem(
                    int(lines[j]), "lon/lat", (float(lon[j]), float(lat[j])), "outside the district"
                )
            )
    keep = ~bad
    frame = pd.DataFrame(
        {
            "incident_id": ids[keep].astype(str),
            "category": cats[keep].astype(str),
            "occurred_at": pd.DatetimeIndex(
                [s for s, k in zip(stamps, keep, strict=True) if k], dtype=f"datetime64[ns, {tz}]"
            ),
            "date_only": date_only[keep],
            "severity": sev[keep],
            "lon": lon[keep],
            "lat": lat[keep],
            "source_category": labels[keep].astype(str),
            "line": lines[keep].astype(np.int64),
        }
    )
    out = gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326"
    )
    too_far = None
    if graph is not None and len(out):
        out, too_far = snap_incidents(out, graph, grids=grids, max_snap_m=max_snap_m)
        for _, row in too_far.iterrows():
            d = row["snap_m"]
            shown = (
                "no street within 10 km"
                if not np.isfinite(d)
                else f"{d:.0f} m from the nearest street"
            )
            problems.append(
                Problem(
                    int(row["line"]),
                    "lon/lat",
                    (float(row["lon"]), float(row["lat"])),
                    f"{shown} (limit {max_snap_m:g} m); not snapped",
                )
            )
    elif grids is not None and len(out):
        out["grid_id"] = grid_of_points(grids, out["lon"].to_numpy(), out["lat"].to_numpy())
    problems.sort(key=lambda p: (p.line, p.field))
    return IntakeResult(out, problems, too_far)
