"""Reports from the field: clues and hazards from volunteers and residents.

A report (:class:`FieldReport`) has a kind (``clue`` or ``hazard``), a category, a text, a time,
a place — longitude and latitude in WGS-84, GCJ-02 or BD-09, as a messaging app shares it,
stored in WGS-84 — and optionally a photo (a file name or link; the service does not keep the
image). Hazards carry a status (``open`` until ``fixed``). :func:`make_report` validates one,
:func:`read_reports` a CSV sheet (Chinese or English headers), keeping the good rows and
listing every bad one.

Clues feed the risk as a weak, decaying signal (:class:`ClueSignal`, a
:class:`~optimizer.plan.build.HotspotAdjustment`): a hotspot within ``radius_m`` of clues of
the last ``memory_days`` is worth ``1 + weight * min(cap, sum(0.5 ** (age / half_life)))``
times its forecast. The weight is chosen by a backtest (:func:`choose_clue_weight`): on past
days, the share of the day's incidents that fell near the top hotspots, with the clues of the
days before raising them at each candidate weight; the smallest weight with the best share
wins, so clues that do not help get weight 0 and the backtest says so.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from optimizer.coords import convert, coord_system
from optimizer.district import District
from optimizer.errors import InputError, checked_number
from optimizer.risk.hotspots import Hotspot, hotspots_for_window
from optimizer.timewindow import TimeWindow

REPORT_KINDS: tuple[str, ...] = ("clue", "hazard")
HAZARD_STATUSES: tuple[str, ...] = ("open", "fixed")


@dataclass(frozen=True)
class FieldReport:
    """A clue or hazard reported from the field (place in WGS-84, local wall-clock time)."""

    id: str
    kind: str
    category: str
    text: str
    time: dt.datetime
    lon: float
    lat: float
    crs: str = "wgs84"
    """The coordinate system the place was given in."""
    reporter: str = ""
    photo: str = ""
    """A photo's file name or link (the image itself is not kept)."""
    status: str = "open"
    """Hazards: ``open`` or ``fixed``; clues: ``open``."""
    fixed_at: dt.datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-able data (read back by :func:`report_from_dict`)."""
        out = dataclasses.asdict(self)
        out["time"] = self.time.isoformat(timespec="minutes")
        out["fixed_at"] = None if self.fixed_at is None else self.fixed_at.isoformat()
        return out


def _local(name: str, value: Any, tz: dt.tzinfo | None) -> dt.datetime:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise InputError(name, value, "an ISO 8601 time YYYY-MM-DDTHH:MM") from None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if not isinstance(value, dt.datetime):
        raise InputError(name, value, "a date and time YYYY-MM-DDTHH:MM")
    if value.tzinfo is not None:
        value = value.astimezone(tz or dt.UTC).replace(tzinfo=None)
    if not 1900 <= value.year <= 2200:
        raise InputError(name, value.isoformat(), "a time from 1900 to 2200")
    return value


def _text(name: str, value: Any, most: int, *, required: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        value = ""
    if not isinstance(value, str):
        value = str(value)
    value = value.strip()
    if required and not value:
        raise InputError(name, value, "a non-empty text")
    if len(value) > most or "\x00" in value:
        raise InputError(name, value, f"at most {most} characters, no NUL")
    return value


def _coord(name: str, value: Any, bound: float) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(name, value, f"a number from -{bound:g} to {bound:g}") from None
    if not (math.isfinite(x) and -bound <= x <= bound):
        raise InputError(name, value, f"a number from -{bound:g} to {bound:g}")
    return x


def make_report(
    *,
    id: str,
    kind: str,
    category: str,
    time: dt.datetime | str,
    lon: float,
    lat: float,
    text: str = "",
    crs: str = "wgs84",
    reporter: str = "",
    photo: str = "",
    status: str = "open",
    fixed_at: dt.datetime | str | None = None,
    timezone: dt.tzinfo | None = None,
) -> FieldReport:
    """Validate a report and convert its place to WGS-84.

    Times with a UTC offset are converted to ``timezone`` (the district's); times without one
    are local already.

    Raises
    ------
    InputError
        Naming the field, the value and what is accepted.
    """
    rid = _text("id", id, 64, required=True)
    k = _text("kind", kind, 20).lower()
    if k not in REPORT_KINDS:
        raise InputError("kind", kind, f"one of {list(REPORT_KINDS)}")
    st = _text("status", status, 20).lower() or "open"
    if st not in HAZARD_STATUSES or (k == "clue" and st != "open"):
        accepted = list(HAZARD_STATUSES) if k == "hazard" else ["open"]
        raise InputError("status", status, f"one of {accepted} for a {k}")
    system = coord_system(crs, "crs")
    x, y = _coord("lon", lon, 180), _coord("lat", lat, 90)
    wlon, wlat = convert([x], [y], system, "wgs84")
    when = _local("time", time, timezone)
    fixed = None
    if fixed_at is not None and fixed_at != "":
        fixed = _local("fixed_at", fixed_at, timezone)
        if st != "fixed":
            raise InputError("fixed_at", str(fixed_at), "no time unless the status is fixed")
    return FieldReport(
        id=rid,
        kind=k,
        category=_text("category", category, 100, required=True),
        text=_text("text", text, 2000),
        time=when,
        lon=float(wlon[0]),
        lat=float(wlat[0]),
        crs=system,
        reporter=_text("reporter", reporter, 100),
        photo=_text("photo", photo, 500),
        status=st,
        fixed_at=fixed,
    )


def report_from_dict(data: Any, *, field: str = "report") -> FieldReport:
    """Rebuild a :class:`FieldReport` from :meth:`FieldReport.to_dict` (the place is WGS-84)."""
    if not isinstance(data, Mapping):
        raise InputError(field, data, "an object written by FieldReport.to_dict")
    try:
        report = make_report(
            id=str(data.get("id") or ""),
            kind=str(data.get("kind") or ""),
            category=str(data.get("category") or ""),
            time=data.get("time"),  # type: ignore[arg-type]
            lon=data.get("lon"),  # type: ignore[arg-type]
            lat=data.get("lat"),  # type: ignore[arg-type]
            text=data.get("text", ""),
            reporter=data.get("reporter", ""),
            photo=data.get("photo", ""),
            status=data.get("status", "open"),
            fixed_at=data.get("fixed_at"),
        )
    except InputError as exc:
        raise InputError(f"{field}.{exc.field}", exc.value, exc.accepted) from None
    return dataclasses.replace(report, crs=coord_system(data.get("crs", "wgs84"), f"{field}.crs"))


REPORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "report_id", "编号"),
    "kind": ("kind", "type", "类型"),
    "category": ("category", "类别"),
    "text": ("text", "description", "内容", "描述"),
    "time": ("time", "reported_at", "时间"),
    "lon": ("lon", "lng", "longitude", "经度"),
    "lat": ("lat", "latitude", "纬度"),
    "crs": ("crs", "坐标系"),
    "reporter": ("reporter", "上报人"),
    "photo": ("photo", "照片"),
    "status": ("status", "状态"),
}
"""Accepted headers of the report CSV, per field (``id``, ``kind``, ``category``, ``time``,
``lon``, ``lat`` are required)."""

KIND_WORDS: dict[str, str] = {"线索": "clue", "隐患": "hazard"}
STATUS_WORDS: dict[str, str] = {"未整改": "open", "待整改": "open", "已整改": "fixed"}


@dataclass(frozen=True)
class ReportProblem:
    """A bad row of a report sheet."""

    row: int
    """1-based data row (the header is row 0)."""
    column: str
    value: str
    accepted: str


@dataclass(frozen=True)
class ReportImport:
    """The good reports of a sheet and its bad rows."""

    reports: tuple[FieldReport, ...]
    problems: tuple[ReportProblem, ...]

    def to_frame(self) -> pd.DataFrame:
        """Return one row per problem: row, column, value, accepted."""
        return pd.DataFrame(
            [dataclasses.asdict(p) for p in self.problems],
            columns=["row", "column", "value", "accepted"],
        )


def read_reports(
    source: str | Path | bytes | pd.DataFrame,
    *,
    crs: str = "wgs84",
    timezone: dt.tzinfo | None = None,
) -> ReportImport:
    """Read a CSV of reports (headers of :data:`REPORT_COLUMNS`; UTF-8 or GB18030).

    Parameters
    ----------
    source
        A file path, the file's bytes, or a frame.
    crs
        The coordinate system of rows without a ``crs`` / 坐标系 cell.
    timezone
        The district's time zone (times with an offset are converted to it).

    Returns
    -------
    ReportImport
        The good rows as reports; every bad row with its column, value and what is accepted.

    Raises
    ------
    InputError
        The file cannot be read, or a required column is missing.
    """
    default_crs = coord_system(crs, "crs")
    if isinstance(source, pd.DataFrame):
        rows = [{str(k): v for k, v in r.items()} for r in source.to_dict(orient="records")]
        headers = [str(c) for c in source.columns]
    else:
        if isinstance(source, bytes):
            raw = source
        else:
            try:
                raw = Path(source).read_bytes()
            except OSError as exc:
                raise InputError("file", str(source), f"a readable CSV ({exc.strerror})") from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("gb18030", errors="replace")
        reader = csv.DictReader(io.StringIO(text))
        rows = list(reader)
        headers = list(reader.fieldnames or [])
    lookup = {h.strip().lower(): h for h in headers if h is not None}
    columns: dict[str, str] = {}
    for name, aliases in REPORT_COLUMNS.items():
        found = next((lookup[a.lower()] for a in aliases if a.lower() in lookup), None)
        if found is not None:
            columns[name] = found
        elif name in ("id", "kind", "category", "time", "lon", "lat"):
            raise InputError("columns", headers, f"a {name} column (headers {list(aliases)})")
    good: list[FieldReport] = []
    bad: list[ReportProblem] = []
    seen: set[str] = set()
    for i, row in enumerate(rows, start=1):
        values = {k: row.get(h) for k, h in columns.items()}
        kind = str(values.get("kind") or "").strip()
        status = str(values.get("status") or "").strip()
        try:
            report = make_report(
                id=str(values.get("id") or ""),
                kind=KIND_WORDS.get(kind, kind),
                category=str(values.get("category") or ""),
                text=str(values.get("text") or ""),
                time=str(values.get("time") or ""),
                lon=values.get("lon"),  # type: ignore[arg-type]
                lat=values.get("lat"),  # type: ignore[arg-type]
                crs=str(values.get("crs") or "").strip() or default_crs,
                reporter=str(values.get("reporter") or ""),
                photo=str(values.get("photo") or ""),
                status=STATUS_WORDS.get(status, status) or "open",
                timezone=timezone,
            )
        except InputError as exc:
            bad.append(
                ReportProblem(i, columns.get(exc.field, exc.field), str(exc.value), exc.accepted)
            )
            continue
        if report.id in seen:
            bad.append(
                ReportProblem(i, columns["id"], report.id, "an id not used by an earlier row")
            )
            continue
        seen.add(report.id)
        good.append(report)
    return ReportImport(tuple(good), tuple(bad))


def reports_frame(reports: Iterable[FieldReport]) -> pd.DataFrame:
    """Return one row per report (WGS-84 place, local time)."""
    cols = [f.name for f in dataclasses.fields(FieldReport)]
    return pd.DataFrame([dataclasses.astuple(r) for r in reports], columns=cols)


# ---------------------------------------------------------------------------------------------
# Clues as a weak, decaying risk signal


def _projected(district: District, reports: Sequence[FieldReport]) -> np.ndarray:
    from pyproj import Transformer

    if not reports:
        return np.zeros((0, 2))
    to_xy = Transformer.from_crs("EPSG:4326", district.crs, always_xy=True)
    xs, ys = to_xy.transform(
        np.asarray([r.lon for r in reports]), np.asarray([r.lat for r in reports])
    )
    return np.column_stack([xs, ys])


@dataclass(frozen=True)
class ClueSignal:
    """Clues raise the hotspots near them, weakly and decaying (a ``HotspotAdjustment``).

    Attributes
    ----------
    clues
        Reports (hazards are ignored; only clues before the window's start count).
    weight
        How much a unit of clue signal raises a hotspot's value (chosen by
        :func:`choose_clue_weight`; 0 leaves the forecast as it is).
    half_life_days
        A clue's signal halves every this many days.
    memory_days
        Clues older than this are forgotten.
    radius_m
        A clue counts for the hotspots this close.
    cap
        The most signal a hotspot takes (so a flood of clues stays a weak signal).
    """

    clues: tuple[FieldReport, ...]
    weight: float = 0.0
    half_life_days: float = 3.0
    memory_days: float = 14.0
    radius_m: float = 150.0
    cap: float = 3.0
    effects: dict[tuple[dt.date, str], list[tuple[str, float]]] = field(
        default_factory=dict, repr=False, compare=False
    )
    """What :meth:`apply` raised, per day and window (read by :meth:`describe`)."""

    def __post_init__(self) -> None:
        for name, low, high in (
            ("weight", 0.0, 10.0),
            ("half_life_days", 0.1, 365.0),
            ("memory_days", 0.1, 365.0),
            ("radius_m", 1.0, 5000.0),
            ("cap", 0.0, 100.0),
        ):
            checked_number(name, getattr(self, name), low, high)

    def signal(
        self, hotspots: Sequence[Hotspot], *, district: District, start: dt.datetime
    ) -> np.ndarray:
        """Return each hotspot's clue signal at ``start`` (capped sum of decayed clues near it)."""
        clues = [
            c
            for c in self.clues
            if c.kind == "clue"
            and c.time < start
            and (start - c.time).total_seconds() <= self.memory_days * 86400
        ]
        out = np.zeros(len(hotspots))
        if not clues or not hotspots:
            return out
        xy = _projected(district, clues)
        age = np.asarray([(start - c.time).total_seconds() / 86400 for c in clues])
        decay = 0.5 ** (age / self.half_life_days)
        hx = np.asarray([[h.x, h.y] for h in hotspots])
        d = np.hypot(hx[:, None, 0] - xy[None, :, 0], hx[:, None, 1] - xy[None, :, 1])
        out = ((d <= self.radius_m) * decay[None, :]).sum(axis=1)
        return np.minimum(out, self.cap)

    def apply(
        self,
        hotspots: Sequence[Hotspot],
        *,
        district: District,
        day: dt.date,
        window: TimeWindow,
    ) -> Sequence[Hotspot]:
        """Return the window's hotspots with those near recent clues raised."""
        start, _ = window.on(day)
        sig = self.signal(hotspots, district=district, start=start)
        out = []
        raised = []
        for h, s in zip(hotspots, sig, strict=True):
            f = 1.0 + self.weight * float(s)
            if f > 1.0:
                raised.append((h.id, f))
                h = dataclasses.replace(h, value=h.value * f)
            out.append(h)
        self.effects[(day, window.label())] = raised
        return out

    def describe(self, *, day: dt.date, window: TimeWindow) -> str:
        """Say which hotspots clues raised (or that the weight is 0)."""
        if self.weight == 0:
            return "clues: weight 0 (the backtest found they do not help), no hotspot raised"
        raised = self.effects.get((day, window.label()), [])
        if not raised:
            return f"clues (weight {self.weight:g}): no recent clue near a hotspot"
        parts = ", ".join(f"{h} x{f:.2f}" for h, f in raised)
        return f"clues (weight {self.weight:g}): {len(raised)} hotspots near recent clues: {parts}"


@dataclass(frozen=True)
class ClueBacktest:
    """The clue weight chosen by the backtest, with the score of every candidate."""

    weight: float
    scores: dict[float, float]
    """Candidate weight -> mean share of the days' incidents near the top hotspots."""
    days: tuple[dt.date, ...]
    incidents: int
    verdict: str

    def to_frame(self) -> pd.DataFrame:
        """Return one row per candidate weight: its score and whether it was chosen."""
        return pd.DataFrame(
            [
                {"weight": w, "hit_share": round(s, 4), "chosen": w == self.weight}
                for w, s in sorted(self.scores.items())
            ]
        )


def choose_clue_weight(
    district: District,
    clues: Sequence[FieldReport],
    *,
    days: Sequence[dt.date],
    windows: Sequence[TimeWindow],
    weights: Sequence[float] = (0.0, 0.1, 0.25, 0.5, 1.0),
    top_share: float = 0.2,
    hit_m: float = 100.0,
    signal: ClueSignal | None = None,
    incidents: pd.DataFrame | None = None,
    hotspots: Callable[[dt.date, TimeWindow], Sequence[Hotspot]] | None = None,
) -> ClueBacktest:
    """Choose the clue weight that best puts the next incidents near the top hotspots.

    For each past day and window, the window's hotspots (forecast from the incidents before it)
    are raised by the clues before it at each candidate weight; the score is the share of the
    window's incidents within ``hit_m`` of the ``top_share`` most valuable hotspots. The
    smallest weight with the best mean score is chosen: 0 when clues do not help.

    Parameters
    ----------
    district
        The district with its incident history.
    clues
        The reports (clues) of the period.
    days, windows
        The days and windows tested.
    weights
        Candidate weights (0 is always tried).
    top_share
        Share of the hotspots that count as the top ones (at least one).
    hit_m
        An incident this close to a top hotspot is a hit.
    signal
        Decay, memory, radius and cap of the signal (its weight is ignored).
    incidents
        The incidents scored (``occurred_at``, ``lon``, ``lat``); default the district's.
    hotspots
        ``hotspots(day, window)``: the forecast hotspots of a window; default
        :func:`~optimizer.risk.hotspots.hotspots_for_window` (each past day is forecast from
        the incidents before it, which takes a while on a large history).

    Returns
    -------
    ClueBacktest
    """
    if not days or not windows:
        raise InputError("days", list(days), "at least one day and one window")
    if not 0 < top_share <= 1:
        raise InputError("top_share", top_share, "a share in (0, 1]")
    base = signal or ClueSignal(tuple(clues))
    base = dataclasses.replace(base, clues=tuple(clues), weight=0.0)
    cands = sorted({0.0, *(float(w) for w in weights)})
    incidents = district.incidents if incidents is None else incidents
    if incidents is None or not len(incidents):
        raise InputError("district", district.name, "a district with an incident history")
    times = pd.to_datetime(incidents["occurred_at"])
    if times.dt.tz is not None:
        times = times.dt.tz_localize(None)
    from pyproj import Transformer

    to_xy = Transformer.from_crs("EPSG:4326", district.crs, always_xy=True)
    ix, iy = to_xy.transform(incidents["lon"].to_numpy(float), incidents["lat"].to_numpy(float))
    totals = dict.fromkeys(cands, 0.0)
    runs = 0
    counted = 0
    for day in days:
        for window in windows:
            start, end = window.on(day)
            inside = ((times >= start) & (times < end)).to_numpy()
            if not inside.any():
                continue
            found = (
                hotspots(day, window)
                if hotspots is not None
                else hotspots_for_window(district, day=day, window=window)
            )
            if not found:
                continue
            sig = base.signal(found, district=district, start=start)
            px, py = ix[inside], iy[inside]
            hx = np.asarray([h.x for h in found])
            hy = np.asarray([h.y for h in found])
            near = np.hypot(hx[:, None] - px[None, :], hy[:, None] - py[None, :]) <= hit_m
            k = max(1, round(top_share * len(found)))
            values = np.asarray([h.value for h in found])
            for w in cands:
                top = np.argsort(-(values * (1 + w * sig)), kind="stable")[:k]
                totals[w] += float(near[top].any(axis=0).mean())
            runs += 1
            counted += int(inside.sum())
    if runs == 0:
        raise InputError(
            "days", [d.isoformat() for d in days], "days with incidents in the windows"
        )
    scores = {w: totals[w] / runs for w in cands}
    best = max(scores.values())
    chosen = min(w for w in cands if scores[w] >= best - 1e-12)
    if chosen == 0:
        verdict = (
            f"clues do not help: weight 0 (hit share {scores[0.0]:.3f}; no candidate weight "
            f"did better over {runs} day-windows, {counted} incidents)"
        )
    else:
        verdict = (
            f"clues help: weight {chosen:g} raises the hit share from {scores[0.0]:.3f} to "
            f"{scores[chosen]:.3f} over {runs} day-windows, {counted} incidents"
        )
    return ClueBacktest(chosen, scores, tuple(days), counted, verdict)
