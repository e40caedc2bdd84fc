"""Roster sheets to a validated roster, with every bad row reported; stored atomically.

:func:`read_roster` reads the files against a district's grids and returns a
:class:`RosterImport`: the roster built from the good rows and one :class:`RowProblem` per bad
field (file, sheet, row, column, value, what is accepted). An ``error`` leaves its row out (and
rows that refer to it); a ``warning`` keeps the row. :func:`import_roster` stores the result as
the district's ``resources.json``:

* sheet kinds present in the files replace the stored ones; kinds not present are kept from the
  stored roster (import only the posts, and the officers stay);
* by default the good rows are stored and the bad ones reported (``strict=True`` refuses the
  whole import on any error); an import that would leave no station or no officer is refused;
* nothing stored changes unless the import succeeds: ``resources.json`` and ``metadata.json``
  are written beside the old files and renamed over them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point

from optimizer.coords import convert
from optimizer.errors import InputError
from optimizer.staff.roster import (
    FixedPost,
    MusterPoint,
    Officer,
    Resources,
    Shift,
    Station,
    Volunteer,
    VolunteerTeam,
    check_resource_grids,
    resources_from_json,
    resources_to_json,
    save_resources,
)
from optimizer.staff.roster_sheets import cells
from optimizer.staff.roster_sheets.read import Sheet, read_sheets
from optimizer.staff.roster_sheets.vocabulary import (
    EXAMPLE_PREFIXES,
    MUSTER_KIND_VALUES,
    NOTES_SHEET_NAMES,
    POST_PURPOSE_VALUES,
    SHEET_KINDS,
    TEAM_KIND_VALUES,
    SheetKind,
    kind_named,
    normalise_header,
)

ERROR = "error"
WARNING = "warning"
BOUNDS_MARGIN_DEG = 0.02
"""Points this far (about 2 km) outside the district's grids are refused as misplaced."""
POST_CELL_TOLERANCE_M = 30.0
"""A post this close to its named cell counts as inside it."""

T = TypeVar("T")


@dataclass(frozen=True)
class RowProblem:
    """One problem in a roster file.

    Attributes
    ----------
    source, sheet
        File name and sheet name.
    row
        Row number as the spreadsheet shows it; ``None`` for a problem with the whole sheet.
    field
        The column header as written in the file (or the expected header where it is missing).
    value
        The cell's text.
    accepted
        What would have been accepted.
    severity
        ``error`` (the row is left out) or ``warning`` (the row is kept).
    """

    source: str
    sheet: str
    row: int | None
    field: str
    value: str
    accepted: str
    severity: str = ERROR

    def __str__(self) -> str:
        where = f"{self.source} [{self.sheet}]" + (f" row {self.row}" if self.row else "")
        return (
            f"{self.severity}: {where}, {self.field}: got {self.value!r}; expected {self.accepted}"
        )


@dataclass(frozen=True)
class RosterImport:
    """The result of reading roster sheets.

    Attributes
    ----------
    resources
        The roster built from the good rows (and the stored roster's kinds not in the files).
    problems
        Every problem found, in file order.
    rows
        Per sheet kind: (data rows read, rows kept).
    replaced
        Sheet kinds read from the files (they replace the stored ones).
    kept_from_stored
        Sheet kinds taken over from the stored roster.
    path
        Where the roster was stored; ``None`` when it was not (a dry run, or not asked to).
    """

    resources: Resources
    problems: tuple[RowProblem, ...]
    rows: Mapping[str, tuple[int, int]]
    replaced: tuple[str, ...]
    kept_from_stored: tuple[str, ...] = ()
    path: Path | None = None

    @property
    def errors(self) -> list[RowProblem]:
        """Problems that left a row out."""
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def warnings(self) -> list[RowProblem]:
        """Problems with rows that were kept."""
        return [p for p in self.problems if p.severity == WARNING]

    @property
    def ok(self) -> bool:
        """Whether every row was imported."""
        return not self.errors

    def to_frame(self) -> pd.DataFrame:
        """One row per problem: severity, source, sheet, row, field, value, accepted."""
        columns = ["severity", "source", "sheet", "row", "field", "value", "accepted"]
        return pd.DataFrame(
            [{c: getattr(p, c) for c in columns} for p in self.problems], columns=columns
        )

    def summary(self, *, limit: int = 50) -> str:
        """Lines for a terminal: counts per kind, then the problems (up to ``limit``)."""
        res = self.resources
        lines = [
            f"roster: {len(res.stations)} stations, {len(res.officers)} officers, "
            f"{len(res.teams)} teams ({len(res.volunteers)} volunteers), {len(res.posts)} posts, "
            f"{len(res.muster_points)} muster points"
            + (f" -> {self.path}" if self.path else " (not stored)")
        ]
        for kind, (read, kept) in self.rows.items():
            lines.append(f"  {kind}: {kept} of {read} rows imported")
        if self.kept_from_stored:
            lines.append(f"  kept from the stored roster: {', '.join(self.kept_from_stored)}")
        if self.problems:
            lines.append(
                f"  {len(self.errors)} errors (rows left out), {len(self.warnings)} warnings"
            )
            lines.extend(f"  {p}" for p in self.problems[:limit])
            if len(self.problems) > limit:
                lines.append(f"  ... and {len(self.problems) - limit} more (see --report)")
        return "\n".join(lines)


class RosterRejectedError(InputError):
    """An import refused as a whole; ``report`` holds what was found."""

    def __init__(self, reason: str, report: RosterImport) -> None:
        self.report = report
        super().__init__("roster", reason, "a roster without errors (the import was refused)")


# -- one row ----------------------------------------------------------------------------------


class _Row:
    """The cells of one data row by column key, collecting problems as they are read."""

    def __init__(
        self, sheet: Sheet, number: int, values: dict[str, str], headers: dict[str, str]
    ) -> None:
        self.sheet = sheet
        self.number = number
        self.values = values
        self.headers = headers
        self.problems: list[RowProblem] = []

    def text(self, key: str) -> str:
        return self.values.get(key, "").strip()

    def problem(self, key: str, value: str, accepted: str, severity: str = ERROR) -> None:
        self.problems.append(
            RowProblem(
                self.sheet.source,
                self.sheet.name,
                self.number,
                self.headers.get(key, key),
                value,
                accepted,
                severity,
            )
        )

    def get(self, key: str, parse: Callable[[str, str], T], *, required: bool = False) -> T | None:
        """Parse the cell ``key``; ``None`` when empty (a problem when ``required``)."""
        text = self.text(key)
        if not text:
            if required:
                self.problem(key, "", "a value (this column is required)")
            return None
        try:
            return parse(text, self.headers.get(key, key))
        except InputError as exc:
            self.problem(key, text, exc.accepted)
            return None

    @property
    def bad(self) -> bool:
        return any(p.severity == ERROR for p in self.problems)


@dataclass
class _Parsed:
    """Rows of one kind that read cleanly, with what identifies them."""

    rows: list[tuple[_Row, dict[str, Any]]] = field(default_factory=list)
    read: int = 0


# -- the district: cells, names, bounds ---------------------------------------------------------


class _District:
    """Grid lookups by id or name, the leaf cells and the bounds a point must lie in."""

    def __init__(self, grids: gpd.GeoDataFrame) -> None:
        frame = grids if grids.crs is None or grids.crs.to_epsg() == 4326 else grids.to_crs(4326)
        self.ids = [str(i) for i in frame.index]
        self.by_id = {normalise_header(i): i for i in self.ids}
        names: dict[str, list[str]] = {}
        for gid, name in zip(
            self.ids, frame.get("name", pd.Series(index=frame.index)), strict=True
        ):
            if isinstance(name, str) and name.strip():
                names.setdefault(normalise_header(name), []).append(gid)
        self.by_name = names
        self.level = {str(i): int(v) for i, v in frame["level"].items()}
        top = max(self.level.values())
        leaf = frame[frame["level"] == top]
        self.leaf_ids = [str(i) for i in leaf.index]
        self.leaf_geoms = np.asarray(leaf.geometry.values)
        self.geoms = {str(i): g for i, g in zip(frame.index, frame.geometry, strict=True)}
        x0, y0, x1, y1 = frame.total_bounds
        m = BOUNDS_MARGIN_DEG
        self.bounds = (x0 - m, y0 - m, x1 + m, y1 + m)
        self.metric = leaf.estimate_utm_crs()
        self.example = ", ".join(sorted(self.ids)[:3])

    def grid(self, text: str, field_name: str) -> str:
        key = normalise_header(text)
        if key in self.by_id:
            return self.by_id[key]
        hits = self.by_name.get(key, [])
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise InputError(field_name, text, f"a grid id: the name is shared by {hits}")
        raise InputError(
            field_name, text, f"a grid id or name of the district, e.g. {self.example}"
        )

    def leaf_of(self, lon: float, lat: float) -> str | None:
        inside = shapely.contains_xy(self.leaf_geoms, lon, lat)
        hits = np.flatnonzero(inside)
        return self.leaf_ids[int(hits[0])] if len(hits) else None

    def distance_m(self, gid: str, lon: float, lat: float) -> float:
        frame = gpd.GeoSeries([self.geoms[gid], Point(lon, lat)], crs=4326).to_crs(self.metric)
        return float(frame.iloc[0].distance(frame.iloc[1]))


# -- the reader -----------------------------------------------------------------------------------


class _Reader:
    """Reads sheets of each kind into records, then resolves references between them."""

    def __init__(self, district: _District, crs: str) -> None:
        self.district = district
        self.crs = cells.parse_crs(crs, "crs")
        self.problems: list[RowProblem] = []
        """Problems with whole sheets (a row's problems stay with the row)."""
        self.rows: list[_Row] = []
        self.parsed: dict[str, _Parsed] = {}
        self.seen: dict[str, set[str]] = {}
        """Normalised ids and names of every row read, good or bad, per kind."""

    # sheets -> rows
    def add_sheet(self, sheet: Sheet) -> None:
        if normalise_header(sheet.name) in NOTES_SHEET_NAMES or not sheet.headers:
            return
        kind = kind_named(sheet.name) or self._kind_by_headers(sheet)
        if kind is None:
            self._sheet_problem(
                sheet,
                "sheet",
                sheet.name,
                "a sheet or file named for what it holds: "
                + ", ".join(f"{k.zh} / {k.en}" for k in SHEET_KINDS),
            )
            return
        headers = self._map_headers(sheet, kind)
        if headers is None:
            return
        parsed = self.parsed.setdefault(kind.key, _Parsed())
        for number, values in sheet.rows:
            if not any(v.strip() for v in values):
                continue
            first = next(v for v in values if v.strip()).strip().casefold()
            if first.startswith(EXAMPLE_PREFIXES):
                continue
            row_values = {key: values[i] for key, i in headers.items()}
            row = _Row(sheet, number, row_values, {k: sheet.headers[i] for k, i in headers.items()})
            parsed.read += 1
            self.rows.append(row)
            seen = self.seen.setdefault(kind.key, set())
            seen.update(normalise_header(row.text(k)) for k in ("id", "name") if row.text(k))
            record = getattr(self, f"_row_{kind.key}")(row)
            if not row.bad:
                parsed.rows.append((row, record))

    def _kind_by_headers(self, sheet: Sheet) -> SheetKind | None:
        found = {normalise_header(h) for h in sheet.headers}
        scored = []
        for kind in SHEET_KINDS:
            present = {c.key for c in kind.columns if found & set(c.names())}
            required = {c.key for c in kind.columns if c.required}
            if required <= present:
                scored.append((len(present) - 0.01 * len(kind.columns), kind))
        scored.sort(key=lambda s: -s[0])
        if scored and (len(scored) == 1 or scored[0][0] > scored[1][0] + 0.5):
            return scored[0][1]
        return None

    def _map_headers(self, sheet: Sheet, kind: SheetKind) -> dict[str, int] | None:
        out: dict[str, int] = {}
        for i, header in enumerate(sheet.headers):
            if not header.strip():
                continue
            key = normalise_header(header)
            match = next((c for c in kind.columns if key in c.names()), None)
            if match is None:
                self._sheet_problem(
                    sheet,
                    header,
                    "(column not used)",
                    f"a column of the {kind.en} sheet: "
                    + ", ".join(f"{c.zh} / {c.en}" for c in kind.columns),
                    WARNING,
                )
            elif match.key in out:
                self._sheet_problem(
                    sheet,
                    header,
                    "(second column)",
                    f"one {match.zh} / {match.en} column; the first is used",
                    WARNING,
                )
            else:
                out[match.key] = i
        missing = [c for c in kind.columns if c.required and c.key not in out]
        for c in missing:
            self._sheet_problem(
                sheet,
                f"{c.zh} / {c.en}",
                "(no such column)",
                f"a column headed {c.zh} or {c.en} (or {', '.join(c.aliases[:4])})",
            )
        for group in kind.one_of:
            if not any(k in out for k in group):
                names = " or ".join(f"{kind.column(k).zh} / {kind.column(k).en}" for k in group)
                self._sheet_problem(sheet, names, "(no such column)", f"a column {names}")
                missing.append(kind.column(group[0]))
        return None if missing else out

    def _sheet_problem(
        self, sheet: Sheet, header: str, value: str, accepted: str, severity: str = ERROR
    ) -> None:
        self.problems.append(
            RowProblem(sheet.source, sheet.name, None, header, value, accepted, severity)
        )

    # one row of each kind -> a record (references resolved later)
    def _point(self, row: _Row) -> tuple[float, float] | None:
        crs = row.get("crs", cells.parse_crs) or self.crs
        if row.text("location"):
            pair = row.get("location", cells.parse_location)
            if pair is None:
                return None
            lon, lat = pair
            key = "location"
        else:
            lon_v = row.get("lon", lambda t, f: cells.parse_number(t, f, -180, 180), required=True)
            lat_v = row.get("lat", lambda t, f: cells.parse_number(t, f, -90, 90), required=True)
            if lon_v is None or lat_v is None:
                return None
            lon, lat, key = lon_v, lat_v, "lon"
        x, y = convert(lon, lat, crs, "wgs84")
        lon, lat = round(float(x[()]), 7), round(float(y[()]), 7)
        x0, y0, x1, y1 = self.district.bounds
        if not (x0 <= lon <= x1 and y0 <= lat <= y1):
            shown = row.text(key) if key == "location" else f"{row.text('lon')}, {row.text('lat')}"
            row.problem(
                key,
                shown,
                f"a point in or near the district (lon {x0:.4f} to {x1:.4f}, lat {y0:.4f} to "
                f"{y1:.4f} in WGS-84); check the coordinate system ({crs}) and the order lon, lat",
            )
            return None
        return lon, lat

    def _grid(self, row: _Row, *, required: bool = False) -> str | None:
        return row.get("grid", self.district.grid, required=required)

    def _row_stations(self, row: _Row) -> dict[str, Any]:
        point = self._point(row)
        return {"id": row.text("id"), "name": row.text("name"), "point": point} | _need(row, "id")

    def _row_muster_points(self, row: _Row) -> dict[str, Any]:
        kind = row.get("kind", lambda t, f: cells.choose(t, MUSTER_KIND_VALUES, f, free=True))
        point = self._point(row)
        return {
            "id": row.text("id"),
            "name": row.text("name"),
            "kind": kind or "muster point",
            "point": point,
            "grid": self._grid(row),
        } | _need(row, "id")

    def _row_officers(self, row: _Row) -> dict[str, Any]:
        return {
            "id": row.text("id"),
            "name": row.text("name") or None,
            "phone": row.get("phone", cells.parse_phone),
            "station": row.text("station"),
            "shifts": row.get("shift", cells.parse_availability) or (),
            "mode": row.get("mode", cells.parse_mode) or "foot",
        } | _need(row, "id", "name", "station")

    def _row_teams(self, row: _Row) -> dict[str, Any]:
        return {
            "id": row.text("id"),
            "name": row.text("name"),
            "kind": row.get("kind", lambda t, f: cells.choose(t, TEAM_KIND_VALUES, f, free=True))
            or "volunteer",
            "grid": self._grid(row, required=True),
            "station": row.text("station"),
        } | _need(row, "id")

    def _row_volunteers(self, row: _Row) -> dict[str, Any]:
        id_number = row.get("id_number", cells.parse_id_number)
        if id_number is not None and id_number[1]:
            row.problem("id_number", row.text("id_number"), id_number[1], WARNING)
        return {
            "id": row.text("id"),
            "name": row.text("name"),
            "phone": row.get("phone", cells.parse_phone),
            "id_number": None if id_number is None else id_number[0],
            "team": row.text("team"),
            "role": row.text("role") or None,
            "grid": self._grid(row),
            "availability": row.get("availability", cells.parse_availability) or (),
            "max_hours": row.get(
                "max_hours", lambda t, f: cells.parse_number(t, f, 0, 168, "hours")
            ),
        } | _need(row, "id", "name", "team")

    def _row_availability(self, row: _Row) -> dict[str, Any]:
        return {
            "person": row.text("person"),
            "shifts": row.get("availability", cells.parse_availability, required=True),
        } | _need(row, "person")

    def _row_posts(self, row: _Row) -> dict[str, Any]:
        times = row.get("windows", cells.parse_post_times, required=True)
        days = row.get("days", cells.parse_days)
        if times is not None and times[1] is not None and days is not None and days != times[1]:
            row.problem("days", row.text("days"), "the same days as written with the times")
        purpose = row.get(
            "purpose", lambda t, f: cells.choose(t, POST_PURPOSE_VALUES, f, free=True)
        )
        point = self._point(row)
        grid = self._grid(row)
        record = {
            "id": row.text("id"),
            "name": row.text("name"),
            "purpose": purpose or "fixed post",
            "point": point,
            "windows": None if times is None else times[0],
            "weekdays": (times[1] if times and times[1] is not None else days) or (0, 1, 2, 3, 4),
            "dwell": row.get("dwell", lambda t, f: cells.parse_number(t, f, 1, 24 * 60, "min")),
        } | _need(row, "id")
        if point is not None and not row.bad:
            record["grid"] = self._post_cell(row, grid, point)
        return record

    def _post_cell(self, row: _Row, given: str | None, point: tuple[float, float]) -> str | None:
        leaf = self.district.leaf_of(*point)
        if given is None:
            if leaf is None:
                row.problem(
                    "lon", f"{point[0]}, {point[1]}", "a point inside a cell of the district"
                )
            return leaf
        if given in self.district.leaf_ids:
            if leaf != given and self.district.distance_m(given, *point) > POST_CELL_TOLERANCE_M:
                row.problem(
                    "grid",
                    row.text("grid"),
                    f"the cell the post lies in ({leaf}); kept in {given} as written",
                    WARNING,
                )
            return given
        # A coarser cell: the finest cell inside it that holds the point.
        if leaf is not None and self.district.distance_m(given, *point) <= POST_CELL_TOLERANCE_M:
            return leaf
        row.problem("grid", row.text("grid"), f"a cell that holds the post's point ({leaf})")
        return None


def _need(row: _Row, *keys: str) -> dict[str, Any]:
    """Report the required text cells among ``keys`` that are empty."""
    for key in keys:
        if not row.text(key):
            row.problem(key, "", "a value (this column is required)")
    return {}


# -- references ----------------------------------------------------------------------------------


class _Lookup:
    """Items of one kind by id, then by unique name."""

    def __init__(
        self, items: Sequence[tuple[str, str]], what: str, seen: set[str] | None = None
    ) -> None:
        self.what = what
        self.seen = seen or set()
        self.ids = {normalise_header(i): i for i, _ in items}
        names: dict[str, list[str]] = {}
        for i, name in items:
            if name:
                names.setdefault(normalise_header(name), []).append(i)
        self.names = names
        self.shown = [i for i, _ in items][:8]

    def find(self, text: str, field_name: str) -> str:
        key = normalise_header(text)
        if key in self.ids:
            return self.ids[key]
        hits = self.names.get(key, [])
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise InputError(field_name, text, f"an id: the name is shared by {hits}")
        if key in self.seen:
            raise InputError(
                field_name,
                text,
                f"one of the {self.what} imported ({text!r} was left out: see its row)",
            )
        raise InputError(
            field_name, text, f"the id or name of one of the {self.what}: {self.shown}"
        )


def _unique(parsed: _Parsed | None, key: str = "id") -> list[tuple[_Row, dict[str, Any]]]:
    """The rows with an id not used by an earlier row (a repeat is an error)."""
    if parsed is None:
        return []
    seen: dict[str, _Row] = {}
    out = []
    for row, rec in parsed.rows:
        k = normalise_header(rec[key])
        if k in seen:
            first = seen[k]
            row.problem(
                key,
                rec[key],
                f"an id not used before (already in {first.sheet.name} row {first.number})",
            )
            continue
        seen[k] = row
        out.append((row, rec))
    return out


class _Assembler:
    """Resolves references between the kinds and builds the roster."""

    def __init__(self, reader: _Reader, stored: Resources | None) -> None:
        self.reader = reader
        self.parsed = reader.parsed
        self.stored = stored or Resources()
        self.kept: dict[str, list[_Row]] = {}

    def present(self, kind: str) -> bool:
        return kind in self.parsed

    def _keep(self, kind: str, row: _Row) -> None:
        self.kept.setdefault(kind, []).append(row)

    def _resolve(self, row: _Row, key: str, lookup: _Lookup) -> str | None:
        try:
            return lookup.find(row.text(key), row.headers.get(key, key))
        except InputError as exc:
            row.problem(key, row.text(key), exc.accepted)
            return None

    def stations(self) -> list[Station]:
        if not self.present("stations"):
            return list(self.stored.stations)
        out = []
        for row, rec in _unique(self.parsed["stations"]):
            lon, lat = rec["point"]
            out.append(Station(rec["id"], rec["name"] or rec["id"], lon, lat))
            self._keep("stations", row)
        return out

    def muster_points(self) -> list[MusterPoint]:
        if not self.present("muster_points"):
            return list(self.stored.muster_points)
        out = []
        for row, rec in _unique(self.parsed["muster_points"]):
            lon, lat = rec["point"]
            grid = rec["grid"] or self.reader.district.leaf_of(lon, lat)
            out.append(
                MusterPoint(rec["id"], rec["name"] or rec["id"], lon, lat, rec["kind"], grid)
            )
            self._keep("muster_points", row)
        return out

    def officers(self, stations: _Lookup) -> dict[str, Officer]:
        if not self.present("officers"):
            return {o.id: o for o in self.stored.officers}
        out = {}
        for row, rec in _unique(self.parsed["officers"]):
            station = self._resolve(row, "station", stations)
            if station is None:
                continue
            out[rec["id"]] = Officer(
                rec["id"], rec["name"], station, tuple(rec["shifts"]), rec["mode"], rec["phone"]
            )
            self._keep("officers", row)
        return out

    def teams(self, stations: _Lookup, station_list: Sequence[Station]) -> list[VolunteerTeam]:
        if not self.present("teams"):
            return [
                VolunteerTeam(t.id, t.name, t.kind, t.home_grid, t.base_station_id, ())
                for t in self.stored.teams
            ]
        out = []
        for row, rec in _unique(self.parsed["teams"]):
            if row.text("station"):
                station = self._resolve(row, "station", stations)
                if station is None:
                    continue
            else:
                station = self._nearest_station(rec["grid"], station_list)
                if station is None:
                    row.problem("station", "", "a station (there is none to choose from)")
                    continue
            out.append(
                VolunteerTeam(
                    rec["id"], rec["name"] or rec["id"], rec["kind"], rec["grid"], station, ()
                )
            )
            self._keep("teams", row)
        return out

    def _nearest_station(self, grid: str, stations: Sequence[Station]) -> str | None:
        if not stations:
            return None
        c = self.reader.district.geoms[grid].representative_point()
        d = [(s.lon - c.x) ** 2 + (s.lat - c.y) ** 2 for s in stations]
        return stations[int(np.argmin(d))].id

    def volunteers(self, teams: Sequence[VolunteerTeam]) -> dict[str, Volunteer]:
        lookup = _Lookup([(t.id, t.name) for t in teams], "teams", self.reader.seen.get("teams"))
        kind_of = {t.id: t.kind for t in teams}
        out: dict[str, Volunteer] = {}
        if not self.present("volunteers"):
            for v in self.stored.volunteers:
                if v.team_id in kind_of:
                    out[v.id] = v
            return out
        for row, rec in _unique(self.parsed["volunteers"]):
            team = self._resolve(row, "team", lookup)
            if team is None:
                continue
            out[rec["id"]] = Volunteer(
                rec["id"],
                rec["name"],
                team,
                rec["role"] or kind_of[team],
                tuple(rec["availability"]),
                12.0 if rec["max_hours"] is None else rec["max_hours"],
                rec["phone"],
                rec["id_number"],
                rec["grid"],
            )
            self._keep("volunteers", row)
        return out

    def availability(self, officers: dict[str, Officer], volunteers: dict[str, Volunteer]) -> None:
        parsed = self.parsed.get("availability")
        if parsed is None:
            return
        read_now = {
            r.values.get("id", "").strip()
            for kind in ("officers", "volunteers")
            for r in self.kept.get(kind, [])
        }
        ids = {normalise_header(i): i for i in [*officers, *volunteers] if i in read_now}
        for row, rec in parsed.rows:
            person = ids.get(normalise_header(rec["person"]))
            if person is None:
                row.problem(
                    "person",
                    rec["person"],
                    "the id of an officer or volunteer imported from these files",
                )
                continue
            shifts: tuple[Shift, ...] = rec["shifts"]
            if person in officers:
                o = officers[person]
                officers[person] = Officer(
                    o.id, o.name, o.station_id, o.shifts + shifts, o.mode, o.phone
                )
            else:
                v = volunteers[person]
                volunteers[person] = Volunteer(
                    v.id,
                    v.name,
                    v.team_id,
                    v.role,
                    v.availability + shifts,
                    v.max_hours_week,
                    v.phone,
                    v.id_number,
                    v.home_grid,
                )
            self._keep("availability", row)

    def _never_available(
        self, officers: dict[str, Officer], volunteers: dict[str, Volunteer]
    ) -> None:
        for kind, key in (("officers", "shift"), ("volunteers", "availability")):
            for row in self.kept.get(kind, []):
                person = officers.get(row.text("id")) or volunteers.get(row.text("id"))
                shifts = getattr(person, "shifts", None) or getattr(person, "availability", None)
                if person is not None and not shifts:
                    row.problem(key, "", "a time the person can patrol (never available)", WARNING)

    def posts(self) -> list[FixedPost]:
        if not self.present("posts"):
            return list(self.stored.posts)
        out = []
        for row, rec in _unique(self.parsed["posts"]):
            lon, lat = rec["point"]
            dwell = 30 if rec["dwell"] is None else round(rec["dwell"])
            out.append(
                FixedPost(
                    rec["id"],
                    rec["name"] or rec["id"],
                    lon,
                    lat,
                    rec["grid"],
                    tuple(rec["windows"]),
                    tuple(rec["weekdays"]),
                    dwell,
                    rec["purpose"],
                )
            )
            self._keep("posts", row)
        return out

    def build(self) -> Resources:
        stations = self.stations()
        station_lookup = _Lookup(
            [(s.id, s.name) for s in stations], "stations", self.reader.seen.get("stations")
        )
        officers = self.officers(station_lookup)
        teams = self.teams(station_lookup, stations)
        volunteers = self.volunteers(teams)
        self.availability(officers, volunteers)
        self._never_available(officers, volunteers)
        members: dict[str, list[Volunteer]] = {}
        for v in volunteers.values():
            members.setdefault(v.team_id, []).append(v)
        full_teams = tuple(
            VolunteerTeam(
                t.id, t.name, t.kind, t.home_grid, t.base_station_id, tuple(members.get(t.id, []))
            )
            for t in teams
        )
        return Resources(
            tuple(stations),
            tuple(officers.values()),
            full_teams,
            tuple(self.posts()),
            tuple(self.muster_points()),
        )


def read_roster(
    files: Sequence[str | Path],
    grids: gpd.GeoDataFrame,
    *,
    crs: str = "wgs84",
    stored: Resources | None = None,
) -> RosterImport:
    """Read roster sheets against a district's grids (nothing is stored).

    Parameters
    ----------
    files
        XLSX workbooks (every sheet) and CSV files; each sheet is recognised by its name (or a
        CSV file's name), else by its headers (see :mod:`.vocabulary`).
    grids
        The district's grid hierarchy (``district.grids``): grid columns may name a cell by id
        or by name; coordinates must lie in or near it.
    crs
        Coordinate system of coordinates whose row has no ``crs`` / 坐标系 cell.
    stored
        The roster stored now: kinds absent from ``files`` are taken from it.

    Returns
    -------
    RosterImport
        The roster and every problem found.

    Raises
    ------
    InputError
        A file that is missing or unreadable, or a bad ``crs``.
    """
    reader = _Reader(_District(grids), crs)
    for sheet in read_sheets(files):
        reader.add_sheet(sheet)
    assembler = _Assembler(reader, stored)
    resources = assembler.build()
    check_resource_grids(resources, reader.district.ids)
    resources = resources_from_json(resources_to_json(resources))  # the one set of rules
    sheet_order = {(p.source, p.sheet): i for i, p in enumerate(reader.problems)}
    for row in reader.rows:
        sheet_order.setdefault((row.sheet.source, row.sheet.name), len(sheet_order))
    problems = reader.problems + [p for row in reader.rows for p in row.problems]
    problems.sort(key=lambda p: (sheet_order.get((p.source, p.sheet), 0), p.row or 0))
    rows = {
        k.key: (reader.parsed[k.key].read, len(assembler.kept.get(k.key, [])))
        for k in SHEET_KINDS
        if k.key in reader.parsed
    }
    replaced = tuple(k.key for k in SHEET_KINDS if k.key in reader.parsed)
    kept = tuple(
        k
        for k in ("stations", "muster_points", "officers", "teams", "volunteers", "posts")
        if k not in reader.parsed and stored is not None and _count(stored, k)
    )
    return RosterImport(resources, tuple(problems), rows, replaced, kept)


def _count(res: Resources, kind: str) -> int:
    return len(getattr(res, kind))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def import_roster(
    district: str | Path,
    files: Sequence[str | Path],
    *,
    crs: str = "wgs84",
    strict: bool = False,
    dry_run: bool = False,
    data_dir: str | Path | None = None,
) -> RosterImport:
    """Read roster sheets and store them as a prepared district's ``resources.json``.

    Parameters
    ----------
    district
        District name (in ``data_dir``) or folder.
    files
        Roster files, see :func:`read_roster`.
    crs
        Coordinate system of coordinates without their own.
    strict
        Refuse the whole import when any row has an error (default: store the good rows and
        report the bad ones).
    dry_run
        Check only; store nothing.
    data_dir
        Folder of districts.

    Returns
    -------
    RosterImport
        With ``path`` set when the roster was stored.

    Raises
    ------
    RosterRejectedError
        ``strict`` and a row has an error, or the roster would have no station or no officer;
        nothing is stored. Its ``report`` lists the problems.
    InputError
        No such district, a missing or unreadable file.
    """
    from optimizer.storage import METADATA_FILE, RESOURCES_FILE, load_district

    loaded = load_district(district, data_dir=data_dir)
    assert loaded.path is not None
    report = read_roster(files, loaded.grids, crs=crs, stored=loaded.resources)
    res = report.resources
    if strict and report.errors:
        raise RosterRejectedError(f"{len(report.errors)} errors with --strict", report)
    if not res.stations or not res.officers:
        raise RosterRejectedError("no station or no officer would be left", report)
    if dry_run:
        return report
    folder = Path(loaded.path)
    meta = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
    meta["resources_synthetic"] = False
    meta.pop("roster_scale", None)
    meta["synthetic"] = [s for s in meta.get("synthetic", []) if s != "resources"]
    meta["roster_source"] = {
        "files": [{"name": Path(f).name, "sha256": _sha256(Path(f))} for f in files],
        "imported": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rows": {k: list(v) for k, v in report.rows.items()},
        "kept_from_stored": list(report.kept_from_stored),
        "errors": len(report.errors),
        "warnings": len(report.warnings),
    }
    store_roster(folder, res, meta, resources_file=RESOURCES_FILE, metadata_file=METADATA_FILE)
    return RosterImport(
        res, report.problems, report.rows, report.replaced, report.kept_from_stored, folder
    )


def store_roster(
    folder: Path,
    res: Resources,
    metadata: Mapping[str, Any],
    *,
    resources_file: str,
    metadata_file: str,
) -> None:
    """Replace a district folder's roster and metadata; on any failure both stay as they were.

    Both files are written completely beside the old ones first, then renamed over them; if the
    second rename fails the first is undone.
    """
    target_res, target_meta = folder / resources_file, folder / metadata_file
    old_res = target_res.read_bytes() if target_res.is_file() else None
    tmp_res = Path(tempfile.mkstemp(prefix=".resources-", suffix=".tmp", dir=folder)[1])
    tmp_meta = Path(tempfile.mkstemp(prefix=".metadata-", suffix=".tmp", dir=folder)[1])
    try:
        save_resources(res, tmp_res)
        tmp_meta.write_text(
            json.dumps(metadata, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
        )
        os.replace(tmp_res, target_res)
        try:
            os.replace(tmp_meta, target_meta)
        except BaseException:
            if old_res is not None:
                restore = target_res.with_name(".resources-restore.tmp")
                restore.write_bytes(old_res)
                os.replace(restore, target_res)
            raise
    finally:
        for tmp in (tmp_res, tmp_meta):
            tmp.unlink(missing_ok=True)
