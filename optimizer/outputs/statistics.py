"""The bureau's statistics: joint patrols, hours, posts, hazards, clues and incidents.

:func:`bureau_statistics` reads the duty ledger (``optimizer.operations.ledger.DUTY_COLUMNS``),
the field reports (``optimizer.operations.reports.reports_frame``), the incidents
(``optimizer.risk.incidents``) and the patrolled paths (:func:`patrolled_paths` of the day
plans) and returns one row per period (``day``, ``week`` or ``month``) and team, cell or the
whole district. Hours sum ``duty == "patrol"`` rows only (post rows are nested in them).
Reports and incidents have no team: by team they are left empty and counted in the district's
row. An incident counts as near a patrol when it happened inside a window of its day and lies
within 50 m of a path patrolled in that window
(:func:`optimizer.evaluate.effectiveness.metrics.covered_incidents`, the one rule).

:func:`statistics_charts` draws sorted bar charts (PNG) and :func:`write_report_xlsx` /
:func:`report_pdf` write the monthly report, in Chinese or English.
"""

from __future__ import annotations

import datetime as dt
import html
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from optimizer.district import District
from optimizer.errors import InputError
from optimizer.evaluate.effectiveness.metrics import covered_incidents, incident_points
from optimizer.plan.types import DayPlan

PERIODS: tuple[str, ...] = ("day", "week", "month")
BY: tuple[str, ...] = ("team", "cell", "district")
SOURCES: tuple[str, ...] = ("planned", "actual")
LANGS: tuple[str, ...] = ("zh", "en")
NEAR_M = 50.0
"""Largest distance (m) from a patrolled path at which an incident counts as near a patrol."""
OFFICERS_ROW = "police"
"""The team column's value for officers' duties (they belong to stations, not teams)."""

COLUMNS: tuple[str, ...] = (
    "period",
    "unit",
    "patrol_groups",
    "person_times",
    "officer_times",
    "volunteer_times",
    "patrol_hours",
    "posts_staffed",
    "posts_planned",
    "hazards_found",
    "hazards_fixed",
    "clues",
    "incidents_near_patrol",
    "incidents_in_windows",
    "incidents",
)
"""The statistics' columns, in order."""

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "period": "Period",
        "unit": "Team / cell",
        "patrol_groups": "Patrol groups",
        "person_times": "Joint patrols (person-times)",
        "officer_times": "Officers (person-times)",
        "volunteer_times": "Volunteers (person-times)",
        "patrol_hours": "Patrol hours",
        "posts_staffed": "Posts staffed",
        "posts_planned": "Posts planned",
        "hazards_found": "Hazards found",
        "hazards_fixed": "Hazards fixed",
        "clues": "Clues",
        "incidents_near_patrol": "Incidents within 50 m of a patrol",
        "incidents_in_windows": "Incidents in patrolled windows",
        "incidents": "Incidents",
        "district": "District",
        "police": "Police",
        "title": "Patrol statistics",
        "summary": "Summary",
        "by_team": "By team",
        "by_cell": "By cell",
        "by_day": "By day",
        "generated": "Generated",
        "others": "others",
        "share_near": "Share of the incidents in patrolled windows near a patrol",
    },
    "zh": {
        "period": "时间",
        "unit": "队伍 / 网格",
        "patrol_groups": "巡逻组次",
        "person_times": "联合巡逻（人次）",
        "officer_times": "民警（人次）",
        "volunteer_times": "义警（人次）",
        "patrol_hours": "巡逻时长（小时）",
        "posts_staffed": "固定岗到岗",
        "posts_planned": "固定岗计划",
        "hazards_found": "发现隐患",
        "hazards_fixed": "整改隐患",
        "clues": "收集线索",
        "incidents_near_patrol": "巡逻路段50米内警情",
        "incidents_in_windows": "巡逻时段内警情",
        "incidents": "警情总数",
        "district": "全辖区",
        "police": "民警",
        "title": "巡防工作统计",
        "summary": "汇总",
        "by_team": "按队伍",
        "by_cell": "按网格",
        "by_day": "按日",
        "generated": "生成时间",
        "others": "其他",
        "share_near": "巡逻时段内警情在巡逻路段附近的占比",
    },
}
"""Display labels per language of the columns and the report's words."""


def check_choice(field: str, value: str, accepted: Sequence[str]) -> str:
    """Return ``value`` when it is one of ``accepted``, else raise :class:`InputError`."""
    if value not in accepted:
        raise InputError(field, value, f"one of {list(accepted)}")
    return value


def period_of(day: dt.date, period: str) -> str:
    """Return the label of the period holding ``day``: ``2026-11-30``, ``2026-W49``, ``2026-11``."""
    if period == "day":
        return day.isoformat()
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def month_span(month: str) -> tuple[dt.date, dt.date]:
    """Return the first and last day of ``YYYY-MM``."""
    try:
        first = dt.date.fromisoformat(f"{month}-01")
    except (TypeError, ValueError):
        raise InputError("month", month, "a month YYYY-MM, e.g. 2026-11") from None
    nxt = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def patrolled_paths(plans: Iterable[DayPlan]) -> gpd.GeoDataFrame:
    """Return one row per group route: ``date``, ``window``, ``grid_id``, ``group_id``,
    ``start``, ``end`` (local) and the route's ``geometry`` (WGS-84)."""
    rows = [
        (plan.date, wp.window.label(), wp.grid_id, r.group.id, wp.start, wp.end, r.path)
        for plan in plans
        for wp in plan.windows
        for r in wp.routes
        if r.path is not None and not r.path.is_empty
    ]
    cols = ["date", "window", "grid_id", "group_id", "start", "end", "geometry"]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=cols), geometry="geometry", crs=4326)


def near_patrol(
    incidents: pd.DataFrame, paths: gpd.GeoDataFrame
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Return whether each incident happened in a patrolled window of its day, and whether
    it also lies within :data:`NEAR_M` of a path patrolled in that window.

    Parameters
    ----------
    incidents
        ``occurred_at`` (local time, tz-aware or naive), ``lon``, ``lat`` (WGS-84).
    paths
        :func:`patrolled_paths`.
    """
    out = np.zeros(len(incidents), dtype=bool)
    in_window = np.zeros(len(incidents), dtype=bool)
    if len(incidents) == 0 or len(paths) == 0:
        return in_window, out
    crs = paths.estimate_utm_crs()
    xy = incident_points(incidents, crs)
    when = _naive(incidents["occurred_at"])
    projected = paths.to_crs(crs)
    for (_, _), group in projected.groupby(["date", "window"], sort=False):
        start = _naive(pd.Series([group["start"].iloc[0]])).iloc[0]
        end = _naive(pd.Series([group["end"].iloc[0]])).iloc[0]
        inside = ((when >= start) & (when < end)).to_numpy()
        if not inside.any():
            continue
        in_window |= inside
        geoms = group.geometry.to_numpy()
        hit = covered_incidents(xy[inside], geoms, np.arange(len(geoms)), radius_m=NEAR_M)
        out[np.flatnonzero(inside)[hit]] = True
    return in_window, out


def _naive(times: pd.Series) -> pd.Series:
    """Local wall-clock times without their zone (the ledger's and plans' times are local)."""
    t = pd.to_datetime(times)
    if getattr(t.dt, "tz", None) is not None:
        t = t.dt.tz_localize(None)
    return t


def _distinct(rows: pd.DataFrame, keys: list[str], columns: list[str]) -> pd.Series:
    """Count the distinct ``columns`` values of ``rows`` per ``keys`` (a Series, also when
    ``rows`` is empty: a grouped ``apply`` gives an empty DataFrame there, which failed the
    statistics of any month without a post duty)."""
    return rows.drop_duplicates([*keys, *columns]).groupby(keys).size().astype(float)


def bureau_statistics(
    duties: pd.DataFrame,
    *,
    reports: pd.DataFrame | None = None,
    incidents: pd.DataFrame | None = None,
    paths: gpd.GeoDataFrame | None = None,
    cells: gpd.GeoDataFrame | None = None,
    period: str = "month",
    by: str = "district",
    source: str = "planned",
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> pd.DataFrame:
    """Return the bureau's statistics, one row per period and team, cell or the district.

    Parameters
    ----------
    duties
        The duty ledger (``optimizer.operations.ledger.DUTY_COLUMNS``).
    reports
        Field reports (``kind``, ``time``, ``status``, ``fixed_at``, ``lon``, ``lat``): hazards
        are found at their ``time`` and fixed at ``fixed_at`` (or their time when a fixed one
        has none), clues counted at their time.
    incidents
        ``occurred_at``, ``lon``, ``lat``.
    paths
        :func:`patrolled_paths` of the plans whose incidents near a patrol are counted.
    cells
        The cells (index = grid id, WGS-84 polygons) that reports and incidents are placed
        in when ``by="cell"``.
    period
        ``"day"``, ``"week"`` (ISO) or ``"month"``.
    by
        ``"team"`` (officers in the row :data:`OFFICERS_ROW`), ``"cell"`` or ``"district"``.
    source
        ``"planned"`` or ``"actual"`` duties (posts planned always count planned duties).
    start, end
        The first and last day counted (inclusive); all days when None.

    Returns
    -------
    pandas.DataFrame
        :data:`COLUMNS`; report and incident columns are NaN in the rows of teams.
    """
    check_choice("period", period, PERIODS)
    check_choice("by", by, BY)
    check_choice("source", source, SOURCES)
    missing = [c for c in ("date", "window", "group_id", "person_id", "role") if c not in duties]
    missing += [
        c for c in ("team_id", "grid_id", "duty", "site_id", "hours", "source") if c not in duties
    ]
    if missing:
        raise InputError(
            "duties", missing, "a ledger with optimizer.operations.ledger.DUTY_COLUMNS"
        )
    d = duties.copy()
    d["date"] = pd.to_datetime(d["date"]).dt.date
    if start is not None:
        d = d[d["date"] >= start]
    if end is not None:
        d = d[d["date"] <= end]
    d["period"] = [period_of(x, period) for x in d["date"]]
    d["unit"] = _unit(d, by)
    rows = d[d["source"] == source]
    patrol = rows[rows["duty"] == "patrol"]
    posts = rows[rows["duty"] == "post"]
    planned_posts = d[(d["source"] == "planned") & (d["duty"] == "post")]
    keys = ["period", "unit"]
    post_key = ["date", "window", "site_id"]
    table = pd.DataFrame(
        {
            "patrol_groups": _distinct(patrol, keys, ["date", "window", "group_id"]),
            "person_times": patrol.groupby(keys).size().astype(float),
            "officer_times": patrol[patrol["role"] == "officer"].groupby(keys).size(),
            "volunteer_times": patrol[patrol["role"] == "volunteer"].groupby(keys).size(),
            "patrol_hours": patrol.groupby(keys)["hours"].sum(),
            "posts_staffed": _distinct(posts, keys, post_key),
            "posts_planned": _distinct(planned_posts, keys, post_key),
        }
    )
    counts = [c for c in table.columns]
    table[counts] = table[counts].fillna(0.0)
    events = _events(reports, incidents, paths, cells, by=by, period=period, start=start, end=end)
    table = table.join(events, how="outer") if len(events) else table
    for c in COLUMNS[2:]:
        if c not in table:
            table[c] = np.nan
    if by != "team":
        table[list(COLUMNS[2:])] = table[list(COLUMNS[2:])].fillna(0.0)
    out = table.reset_index()[list(COLUMNS)]
    counts = [c for c in COLUMNS[2:] if c != "patrol_hours"]
    out[counts] = out[counts].round().astype("Int64")
    return out.sort_values(["period", "unit"], kind="stable").reset_index(drop=True)


def _unit(d: pd.DataFrame, by: str) -> pd.Series:
    if by == "team":
        team = d["team_id"].fillna("").astype(str)
        return team.where(team != "", OFFICERS_ROW)
    if by == "cell":
        return d["grid_id"].astype(str)
    return pd.Series("district", index=d.index)


def _events(
    reports: pd.DataFrame | None,
    incidents: pd.DataFrame | None,
    paths: gpd.GeoDataFrame | None,
    cells: gpd.GeoDataFrame | None,
    *,
    by: str,
    period: str,
    start: dt.date | None,
    end: dt.date | None,
) -> pd.DataFrame:
    """Counts of reports and incidents per period and unit (none by team)."""
    if by == "team":
        return pd.DataFrame()
    series: dict[str, pd.Series] = {}

    def count(name: str, frame: pd.DataFrame, when: pd.Series) -> None:
        stamp = _naive(when).dt.normalize()
        keep = stamp.notna().to_numpy().copy()
        if start is not None:
            keep &= (stamp >= pd.Timestamp(start)).to_numpy()
        if end is not None:
            keep &= (stamp <= pd.Timestamp(end)).to_numpy()
        day = stamp.dt.date
        f = pd.DataFrame(
            {
                "period": [period_of(x, period) for x in day[keep]],
                "unit": _place_unit(frame[keep], cells, by),
            }
        )
        series[name] = f.groupby(["period", "unit"]).size().astype(float)

    if reports is not None and len(reports):
        hazards = reports[reports["kind"] == "hazard"]
        count("hazards_found", hazards, hazards["time"])
        fixed = hazards[hazards["status"] == "fixed"]
        fixed_at = fixed["fixed_at"].where(fixed["fixed_at"].notna(), fixed["time"])
        count("hazards_fixed", fixed, fixed_at)
        clues = reports[reports["kind"] == "clue"]
        count("clues", clues, clues["time"])
    if incidents is not None and len(incidents):
        count("incidents", incidents, incidents["occurred_at"])
        if paths is not None:
            in_window, near = near_patrol(incidents, paths)
            count("incidents_near_patrol", incidents[near], incidents[near]["occurred_at"])
            inside = incidents[in_window]
            count("incidents_in_windows", inside, inside["occurred_at"])
    if not series:
        return pd.DataFrame()
    return pd.DataFrame(series)


def _place_unit(frame: pd.DataFrame, cells: gpd.GeoDataFrame | None, by: str) -> list[str]:
    if by == "district":
        return ["district"] * len(frame)
    if cells is None:
        raise InputError("cells", None, "the cells (grids) to place reports and incidents by cell")
    if len(frame) == 0:
        return []
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(frame["lon"].astype(float), frame["lat"].astype(float)),
        crs=4326,
    )
    polys = gpd.GeoDataFrame(geometry=cells.geometry.to_crs(4326).to_numpy(), crs=4326)
    polys["cell"] = [str(i) for i in cells.index]
    joined = gpd.sjoin(pts, polys, how="left", predicate="within")
    first = joined[~joined.index.duplicated()]
    return [str(c) if isinstance(c, str) else "outside" for c in first["cell"]]


def labelled(table: pd.DataFrame, *, lang: str = "en") -> pd.DataFrame:
    """Return ``table`` with display headers and unit names in ``lang``."""
    check_choice("lang", lang, LANGS)
    words = LABELS[lang]
    out = table.copy()
    if "unit" in out:
        out["unit"] = [
            words.get(u, u) if u in ("district", OFFICERS_ROW) else u for u in out["unit"]
        ]
    return out.rename(columns={c: words[c] for c in out.columns if c in words})


# ---------------------------------------------------------------------------------------------
# Charts


def png_bytes(fig: Any, path: str | Path | None = None) -> bytes:
    """Return a matplotlib figure as PNG bytes (also written to ``path``); close the figure."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    data = buf.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data


def bar_chart(
    table: pd.DataFrame,
    column: str,
    path: str | Path | None = None,
    *,
    lang: str = "en",
    top: int = 15,
    title: str = "",
) -> bytes:
    """Draw ``column`` summed per unit as sorted horizontal bars (top ``top`` and "others").

    Returns
    -------
    bytes
        The PNG (also written to ``path`` when given).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from optimizer.outputs.maps import font_family

    check_choice("lang", lang, LANGS)
    words = LABELS[lang]
    per = table.groupby("unit")[column].sum().sort_values(ascending=False)
    if len(per) > top:
        rest = float(per.iloc[top - 1 :].sum())
        per = pd.concat([per.iloc[: top - 1], pd.Series({words["others"]: rest})])
    names = [words.get(str(u), str(u)) for u in per.index]
    with plt.rc_context({"font.family": list(font_family())}):
        fig, ax = plt.subplots(figsize=(7.5, 0.32 * len(per) + 1.3), dpi=120)
        ax.barh(range(len(per)), per.to_numpy(dtype=float), color="#3182bd")
        ax.set_yticks(range(len(per)), names, fontsize=8)
        ax.invert_yaxis()
        for i, v in enumerate(per.to_numpy(dtype=float)):
            ax.text(v, i, f" {v:g}", va="center", fontsize=7)
        ax.set_xlabel(words.get(column, column))
        ax.set_title(title or words.get(column, column), fontsize=10)
        ax.spines[["top", "right"]].set_visible(False)
        return png_bytes(fig, path)


def daily_chart(table: pd.DataFrame, path: str | Path | None = None, *, lang: str = "en") -> bytes:
    """Draw person-times and patrol hours per day (``table`` by day and district) as bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from optimizer.outputs.maps import font_family

    words = LABELS[check_choice("lang", lang, LANGS)]
    per = table.groupby("period")[["person_times", "patrol_hours"]].sum()
    with plt.rc_context({"font.family": list(font_family())}):
        fig, ax = plt.subplots(figsize=(7.5, 3.2), dpi=120)
        x = np.arange(len(per))
        ax.bar(x - 0.2, per["person_times"], width=0.4, label=words["person_times"])
        ax.bar(x + 0.2, per["patrol_hours"], width=0.4, label=words["patrol_hours"])
        ax.set_xticks(x, [p[5:] for p in per.index], rotation=90, fontsize=7)
        ax.legend(fontsize=8)
        ax.spines[["top", "right"]].set_visible(False)
        return png_bytes(fig, path)


# ---------------------------------------------------------------------------------------------
# The monthly report


def report_tables(
    duties: pd.DataFrame, *, month: str, source: str = "planned", **events: Any
) -> dict[str, pd.DataFrame]:
    """Return the monthly report's tables: ``summary`` (district), ``team``, ``cell``, ``day``.

    ``events`` are :func:`bureau_statistics`' ``reports``, ``incidents``, ``paths`` and
    ``cells``; without ``cells`` the per-cell table counts duties only.
    """
    first, last = month_span(month)
    common: dict[str, Any] = {"source": source, "start": first, "end": last}
    cells = events.get("cells")
    cell_events = events if cells is not None else {}
    return {
        "summary": bureau_statistics(duties, period="month", by="district", **common, **events),
        "team": bureau_statistics(duties, period="month", by="team", **common),
        "cell": bureau_statistics(duties, period="month", by="cell", **common, **cell_events),
        "day": bureau_statistics(duties, period="day", by="district", **common, **events),
    }


def printable(table: pd.DataFrame) -> pd.DataFrame:
    """The table as printed: without columns that are empty in every row (reports and
    incidents by team) and without the unit where every row is the district."""
    out = table.loc[:, [c for c in table.columns if not table[c].isna().all()]]
    if "unit" in out and len(out) and (out["unit"] == "district").all():
        out = out.drop(columns="unit")
    return out


def _sheet_title(key: str, words: dict[str, str]) -> str:
    return {
        "summary": words["summary"],
        "team": words["by_team"],
        "cell": words["by_cell"],
        "day": words["by_day"],
    }[key]


def write_report_xlsx(
    tables: dict[str, pd.DataFrame],
    path: str | Path,
    *,
    district: str,
    month: str,
    lang: str = "en",
) -> Path:
    """Write the monthly report as a print-ready workbook (one sheet per table)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    words = LABELS[check_choice("lang", lang, LANGS)]
    title = f"{district} {month} {words['title']}"
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    for key, table in tables.items():
        ws = wb.create_sheet(_sheet_title(key, words))
        shown = labelled(printable(table), lang=lang)
        ws.append([title])
        ws["A1"].font = Font(bold=True, size=13)
        ws.append(list(shown.columns))
        for cell in ws[2]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in shown.itertuples(index=False):
            ws.append([None if pd.isna(v) else v for v in row])
        for i, col in enumerate(shown.columns, start=1):
            width = max(
                [len(str(col)) * (2 if lang == "zh" else 1)] + [len(str(v)) for v in shown[col]]
            )
            ws.column_dimensions[get_column_letter(i)].width = min(max(8, width * 0.9), 30)
        ws.freeze_panes = "C3" if "unit" in printable(table) else "B3"
        ws.print_title_rows = "2:2"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.oddHeader.left.text = title
        ws.oddFooter.right.text = "&P / &N"
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


REPORT_CSS = """
@page { size: A4; margin: 15mm 12mm; @bottom-right { content: counter(page) " / " counter(pages);
  font-size: 8pt; } }
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei",
  "DejaVu Sans", sans-serif; font-size: 9pt; }
h1 { font-size: 16pt; margin: 0 0 4mm; } h2 { font-size: 12pt; margin: 6mm 0 2mm; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 0.5pt solid #999; padding: 1mm 1.5mm; text-align: right; }
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) { text-align: left; }
th { background: #eee; } tr { page-break-inside: avoid; }
.figures { display: flex; flex-wrap: wrap; gap: 3mm; }
.figure { border: 0.5pt solid #999; padding: 2mm 3mm; width: 40mm; }
.figure b { display: block; font-size: 14pt; }
img { width: 100%; } .chart { page-break-inside: avoid; }
"""


def report_html(
    tables: dict[str, pd.DataFrame], *, district: str, month: str, lang: str = "en"
) -> str:
    """Return the monthly report as printable HTML (title, summary figures, tables, charts)."""
    import base64

    words = LABELS[check_choice("lang", lang, LANGS)]
    esc = html.escape
    summary = tables["summary"]
    figures = "".join(
        f"<div class='figure'>{esc(words[c])}<b>{summary[c].sum():g}</b></div>" for c in COLUMNS[2:]
    )
    total = float(summary["incidents_in_windows"].sum())
    if total > 0:
        share = float(summary["incidents_near_patrol"].sum()) / total
        figures += f"<div class='figure'>{esc(words['share_near'])}<b>{share:.0%}</b></div>"

    def table_html(frame: pd.DataFrame) -> str:
        shown = labelled(printable(frame), lang=lang)
        head = "".join(f"<th>{esc(str(c))}</th>" for c in shown.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{esc(_shown(v))}</td>" for v in row) + "</tr>"
            for row in shown.itertuples(index=False)
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def img(png: bytes) -> str:
        data = base64.b64encode(png).decode()
        return f"<div class='chart'><img src='data:image/png;base64,{data}'></div>"

    parts = [
        f"<h1>{esc(district)} — {esc(month)} {esc(words['title'])}</h1>",
        f"<p>{esc(words['generated'])}: {dt.date.today().isoformat()}</p>",
        f"<h2>{esc(words['summary'])}</h2><div class='figures'>{figures}</div>",
    ]
    if len(tables["day"]):
        parts.append(img(daily_chart(tables["day"], lang=lang)))
    for key, column in (("team", "person_times"), ("cell", "patrol_hours")):
        parts.append(f"<h2>{esc(_sheet_title(key, words))}</h2>")
        if len(tables[key]):
            parts.append(img(bar_chart(tables[key], column, lang=lang)))
        parts.append(table_html(tables[key]))
    parts.append(f"<h2>{esc(words['by_day'])}</h2>{table_html(tables['day'])}")
    return (
        f"<!DOCTYPE html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head>"
        "<meta charset='utf-8'>"
        f"<title>{esc(district)} {esc(month)}</title><style>{REPORT_CSS}</style></head>"
        f"<body>{''.join(parts)}</body></html>"
    )


def _shown(value: object) -> str:
    """A table cell's text: empty for NaN, ``%g`` for numbers."""
    if value is pd.NA:
        return ""
    if isinstance(value, float):
        return "" if np.isnan(value) else f"{value:g}"
    return str(value)


def report_pdf(
    tables: dict[str, pd.DataFrame], *, district: str, month: str, lang: str = "en"
) -> bytes:
    """Return the monthly report as an A4 PDF (WeasyPrint)."""
    from weasyprint import HTML

    pdf: bytes = HTML(
        string=report_html(tables, district=district, month=month, lang=lang)
    ).write_pdf()
    return pdf


def statistics_events(
    district: District, plans: Sequence[DayPlan], *, reports: pd.DataFrame | None = None
) -> dict[str, Any]:
    """Return :func:`bureau_statistics`' ``reports``, ``incidents``, ``paths`` and ``cells``
    for ``plans`` of ``district`` (cells at the level the plans were made on)."""
    grid_ids = {wp.grid_id for plan in plans for wp in plan.windows}
    grids = district.grids
    known = [g for g in grid_ids if g in grids.index]
    if known:
        level = int(grids.loc[known, "level"].mode().iloc[0])
        cells = grids[grids["level"] == level]
    else:
        cells = grids[grids["level"] == grids["level"].max()]
    incidents = district.incidents
    return {
        "reports": reports,
        "incidents": None if incidents is None else pd.DataFrame(incidents),
        "paths": patrolled_paths(plans),
        "cells": cells.to_crs(4326),
    }
