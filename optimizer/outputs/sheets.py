"""Printable sheets: one A4 page per group and one overview page per cell, as HTML with SVG maps.

Each group's sheet has its route on the district's own streets with numbered stops (an SVG
drawn here, no tiles), the stop list with arrival, departure, wait and time on duty, the
members with the leader first (phone numbers only where asked for) and the posts it staffs.
Each cell's overview has every route of the window in the cell with its colour and a table of
the groups. The page is plain HTML with print CSS (``@page A4``): a browser prints it as it is
and an HTML-to-PDF converter (the service uses WeasyPrint) makes the PDF from the same text.
Labels are in English or Chinese.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pyproj import Transformer

from optimizer.district import District
from optimizer.outputs.basemap import street_lines
from optimizer.outputs.cells import CellIndex
from optimizer.outputs.schedule import dwell_minutes, member_names
from optimizer.outputs.style import group_styles
from optimizer.outputs.times import clock, timezone_note
from optimizer.plan.types import DayPlan, GroupRoute, WindowPlan
from optimizer.risk.categories import VOCABULARY

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "group": "Group",
        "cell": "Cell",
        "window": "Window",
        "date": "Date",
        "mode": "Mode",
        "leader": "Leader",
        "members": "Members",
        "phone": "Phone",
        "role": "Role",
        "officer": "officer",
        "volunteer": "volunteer",
        "stops": "Stops",
        "n": "No.",
        "arrive": "Arrive",
        "leave": "Leave",
        "dwell": "On duty (min)",
        "wait": "Wait (min)",
        "place": "Place",
        "duty": "Duty",
        "posts": "Posts",
        "none": "none",
        "overview": "Cell overview",
        "groups": "Groups",
        "km": "km",
        "visits": "Visits",
        "start": "Start",
        "end": "End",
        "foot": "on foot",
        "car": "car",
        "bike": "bicycle",
        "bicycle": "bicycle",
        "left_out": "Left out",
        "reason": "Reason",
    },
    "zh": {
        "group": "巡逻组",
        "cell": "网格",
        "window": "时段",
        "date": "日期",
        "mode": "方式",
        "leader": "带队民警",
        "members": "成员",
        "phone": "电话",
        "role": "身份",
        "officer": "民警",
        "volunteer": "义警",
        "stops": "巡逻点",
        "n": "序号",
        "arrive": "到达",
        "leave": "离开",
        "dwell": "停留(分钟)",
        "wait": "等候(分钟)",
        "place": "地点",
        "duty": "任务",
        "posts": "固定岗",
        "none": "无",
        "overview": "网格总览",
        "groups": "巡逻组",
        "km": "公里",
        "visits": "巡逻次数",
        "start": "出发",
        "end": "返回",
        "foot": "步行",
        "car": "车巡",
        "bike": "骑行",
        "bicycle": "骑行",
        "left_out": "未安排",
        "reason": "原因",
    },
}
"""Sheet labels per language (``en``, ``zh``)."""

LANGUAGES: tuple[str, ...] = tuple(LABELS)

DUTIES_ZH: tuple[tuple[str, str], ...] = (
    (r"around near (.+?) \(", r"around \1附近 ("),
    (r"^leave muster point$", "从集合点出发"),
    (r"^return to muster point$", "返回集合点"),
    (r"^start at the post$", "从岗位出发"),
    (r"^area patrol around (.+) \((\d+) min\), then (.+)$", r"\1周边巡逻（\2分钟），然后\3"),
    (r"patrol hotspot \(visit (\d+)\)", r"巡逻热点（第\1次）"),
    (r"patrol hotspot", "巡逻热点"),
    (r"^staff (.+)$", r"值守：\1"),
)
"""The plan's English duty texts as Chinese sheets say them (categories stay as they are)."""


def _place(name: str, lang: str) -> str:
    """A stop's place for the sheet: ``near X`` reads ``X附近`` in Chinese."""
    if lang == "zh" and name.startswith("near "):
        return f"{name[5:]}附近"
    return name


def _duty(text: str, lang: str) -> str:
    """A stop's duty for the sheet, in Chinese where asked."""
    if lang != "zh":
        return text
    for pattern, repl in DUTIES_ZH:
        text = re.sub(pattern, repl, text)
    for c in sorted(VOCABULARY.values(), key=lambda c: -len(c.en)):
        text = text.replace(c.en, c.zh)
    return text


MAP_W, MAP_H = 680, 340
"""Size of a sheet's map in CSS pixels (fits an A4 page's width with margins); a group's sheet
takes the height its page leaves (:func:`group_map_height`)."""

PAGE_MM = (186.0, 273.0)
"""Width and height of an A4 page inside its 12 mm margins."""

LINE_MM = 3.9
"""Height of a line of 8.5 pt text at the sheets' line height (1.3)."""

ROW_MM = LINE_MM + 1.3
"""Height of a one-line table row (padding and borders)."""

STOP_COLUMNS_MM = (8.0, 11.0, 11.0, 13.0, 12.0, 50.0, 81.0)
"""Widths of the stop table's columns: no., arrive, leave, on duty, wait, place, duty."""

SHEET_FIXED_MM = 64.0
"""Height of a group sheet's parts other than the map and the table rows: title, meta line,
the two headings and the stop table's two-line header, the members' header, the posts line and
the time-zone note, with their margins (and 6 mm to spare for a browser's own layout)."""

MAP_MM = (45.0, 125.0)
"""Least and most height of a group sheet's map."""

CSS = """
@page { size: A4; margin: 12mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei",
       "DejaVu Sans", sans-serif; font-size: 8.5pt; line-height: 1.3; color: #111; margin: 0; }
.sheet { page-break-after: always; break-after: page; }
.sheet:last-child { page-break-after: auto; break-after: auto; }
h1 { font-size: 14pt; margin: 0 0 1.5mm 0; }
.meta { margin: 0 0 2mm 0; color: #333; }
.meta span { margin-right: 5mm; }
svg.map { border: 1px solid #888; display: block; width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; margin-top: 2mm; }
table.stops { table-layout: fixed; }
p { margin: 2mm 0; }
th, td { border: 1px solid #999; padding: 0.5mm 1.2mm; text-align: left; vertical-align: top; }
tr { page-break-inside: avoid; break-inside: avoid; }
th { background: #eee; }
td.num { text-align: right; white-space: nowrap; }
h2 { font-size: 10pt; margin: 2mm 0 0 0; }
.swatch { display: inline-block; width: 10mm; height: 3mm; vertical-align: middle; }
.note { color: #444; font-size: 8.5pt; margin-top: 2mm; }
"""


@dataclass(frozen=True)
class _Frame:
    """Projects WGS-84 points into the map's pixels (metric CRS, north up, aspect kept).

    ``box`` is the whole map's extent in the metric CRS (``minx, miny, maxx, maxy``).
    """

    to_xy: Transformer
    box: tuple[float, float, float, float]
    scale: float

    @classmethod
    def around(
        cls,
        crs: Any,
        points: Sequence[tuple[float, float]],
        pad_m: float,
        *,
        height: int = MAP_H,
    ) -> _Frame:
        to_xy = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        xs, ys = to_xy.transform([p[0] for p in points], [p[1] for p in points])
        x0, x1 = min(xs) - pad_m, max(xs) + pad_m
        y0, y1 = min(ys) - pad_m, max(ys) + pad_m
        scale = min(MAP_W / max(x1 - x0, 1.0), height / max(y1 - y0, 1.0))
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        half_w, half_h = MAP_W / scale / 2, height / scale / 2
        return cls(to_xy, (cx - half_w, cy - half_h, cx + half_w, cy + half_h), scale)

    def px(self, x: float, y: float) -> tuple[float, float]:
        x0, _, _, y1 = self.box
        return ((x - x0) * self.scale, (y1 - y) * self.scale)

    def lonlat(self, coords: Iterable[Sequence[float]]) -> list[tuple[float, float]]:
        pts = list(coords)
        xs, ys = self.to_xy.transform([p[0] for p in pts], [p[1] for p in pts])
        return [self.px(x, y) for x, y in zip(xs, ys, strict=True)]


def _points(pts: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)


def _streets_svg(district: District, frame: _Frame) -> str:
    lines = street_lines(district).within(frame.box)
    width = {0: 0.6, 1: 1.2, 2: 2.0}
    out = []
    for line, cls in zip(lines.lines, lines.road_class, strict=True):
        pts = [frame.px(float(x), float(y)) for x, y in line]
        out.append(
            f'<polyline points="{_points(pts)}" fill="none" stroke="#bbb" '
            f'stroke-width="{width.get(int(cls), 0.6)}"/>'
        )
    return "".join(out)


def _cell_svg(district: District, frame: _Frame, grid_id: str) -> str:
    grids = district.grids.to_crs(4326)
    if grid_id not in grids.index:
        return ""
    geom = grids.loc[grid_id].geometry
    polys = [geom] if geom.geom_type == "Polygon" else list(getattr(geom, "geoms", []))
    return "".join(
        f'<polygon points="{_points(frame.lonlat(p.exterior.coords))}" fill="none" '
        'stroke="#555" stroke-width="1.5" stroke-dasharray="6 3"/>'
        for p in polys
    )


def _route_svg(route: GroupRoute, frame: _Frame, colour: str, *, numbers: bool) -> str:
    path = frame.lonlat(route.path.coords)
    out = [
        f'<polyline points="{_points(path)}" fill="none" stroke="white" stroke-width="6" '
        'stroke-linejoin="round"/>',
        f'<polyline points="{_points(path)}" fill="none" stroke="{colour}" stroke-width="3.2" '
        'stroke-linejoin="round"/>',
    ]
    if not numbers:
        return "".join(out)
    seen: dict[tuple[int, int], int] = {}
    for s in route.stops:
        x, y = frame.lonlat([(s.lon, s.lat)])[0]
        if s.kind in ("start", "end"):
            out.append(
                f'<rect x="{x - 6:.1f}" y="{y - 6:.1f}" width="12" height="12" fill="#111" '
                'stroke="white" stroke-width="1.5"/>'
            )
            continue
        # stops at the same place are fanned out so that every number stays readable
        key = (round(x / 8), round(y / 8))
        k = seen.get(key, 0)
        seen[key] = k + 1
        ox, oy = (k % 4) * 15, (k // 4) * 15
        fill = "#b00020" if s.kind == "post" else colour
        out.append(
            f'<circle cx="{x + ox:.1f}" cy="{y - oy:.1f}" r="8" fill="{fill}" stroke="white" '
            'stroke-width="1.5"/>'
            f'<text x="{x + ox:.1f}" y="{y - oy + 3.5:.1f}" font-size="10" font-weight="bold" '
            f'text-anchor="middle" fill="white">{s.sequence}</text>'
        )
    return "".join(out)


def _svg(body: str, *, height: int = MAP_H) -> str:
    return (
        f'<svg class="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {MAP_W} {height}" '
        f'width="{MAP_W}" height="{height}">'
        f'<rect width="{MAP_W}" height="{height}" fill="#fcfcf8"/>{body}</svg>'
    )


def text_lines(text: str, width_mm: float) -> int:
    """Return the lines ``text`` takes in 8.5 pt type in a box ``width_mm`` wide (an upper
    bound: CJK characters are a full em, others are taken wider than most are)."""
    em = LINE_MM / 1.3
    length = sum(em if ord(ch) >= 0x2E80 else 0.5 * em for ch in text)
    return max(1, -int(-length // max(width_mm - 2.4, 1.0)))


def group_map_height(rows: Sequence[Sequence[str]], members: int, extra: Sequence[str]) -> int:
    """Return the height (CSS pixels, at :data:`MAP_W` wide) of a group sheet's map that keeps
    the sheet on one A4 page.

    Parameters
    ----------
    rows
        The stop table's rows, one text per column (:data:`STOP_COLUMNS_MM`).
    members
        Rows of the members' table.
    extra
        Lines of full-width text (the meta line, the posts line).
    """
    used = SHEET_FIXED_MM + ROW_MM * members
    used += sum(
        ROW_MM
        + LINE_MM * (max(text_lines(t, w) for t, w in zip(row, STOP_COLUMNS_MM, strict=True)) - 1)
        for row in rows
    )
    used += sum(LINE_MM * (text_lines(t, PAGE_MM[0]) - 1) for t in extra)
    map_mm = min(MAP_MM[1], max(MAP_MM[0], PAGE_MM[1] - used))
    return round(map_mm * MAP_W / PAGE_MM[0])


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _people(district: District) -> dict[str, tuple[str, str | None]]:
    res = district.resources
    out: dict[str, tuple[str, str | None]] = {o.id: (o.name, o.phone) for o in res.officers}
    out.update({v.id: (v.name, v.phone) for v in res.volunteers})
    return out


def group_sheet(
    plan: DayPlan,
    district: District,
    window: WindowPlan,
    route: GroupRoute,
    *,
    colour: str = "#1f77b4",
    phones: bool = False,
    lang: str = "en",
) -> str:
    """Return one group's A4 sheet as an HTML ``<section>`` (see the module docstring).

    Parameters
    ----------
    plan, district, window, route
        The plan, its district, the window x cell plan and the group's route in it.
    colour
        The route's colour.
    phones
        Whether to print the leader's and members' phone numbers.
    lang
        ``"en"`` or ``"zh"``.
    """
    t = LABELS[lang]
    g = route.group
    people = _people(district)
    names = member_names(district)
    cells = []
    for s in route.stops:
        dwell = (
            dwell_minutes(s.arrival, s.departure, s.wait_min)
            if s.kind not in ("start", "end")
            else ""
        )
        cells.append(
            (
                str(s.sequence),
                clock(s.arrival),
                clock(s.departure),
                str(dwell),
                f"{s.wait_min:g}",
                _place(s.name, lang),
                _duty(s.purpose, lang),
            )
        )
    rows = [
        "<tr>"
        + "".join(f"<td class='num'>{_esc(v)}</td>" for v in row[:5])
        + "".join(f"<td>{_esc(v)}</td>" for v in row[5:])
        + "</tr>"
        for row in cells
    ]
    members = []
    for i, pid in enumerate(g.members):
        role = t["officer"] if pid in g.officer_ids else t["volunteer"]
        name, phone = people.get(pid, (names.get(pid, pid), None))
        lead = f" ({t['leader']})" if i == 0 else ""
        tel = f"<td>{_esc(phone or '')}</td>" if phones else ""
        members.append(
            f"<tr><td>{_esc(name)}{lead}</td><td>{_esc(pid)}</td><td>{role}</td>{tel}</tr>"
        )
    posts = [s for s in route.stops if s.kind == "post"]
    post_text = (
        ", ".join(f"{_place(s.name, lang)} {clock(s.arrival)}-{clock(s.departure)}" for s in posts)
        or t["none"]
    )
    leader = g.officer_ids[0] if g.officer_ids else ""
    lname, lphone = people.get(leader, (leader, None))
    phone_head = f"<th>{t['phone']}</th>" if phones else ""
    lead_phone = f" · {t['phone']} {lphone}" if phones and lphone else ""
    meta = [
        f"{t['date']}: {plan.date.isoformat()}",
        f"{t['window']}: {window.window.label()}",
        f"{t['cell']}: {window.grid_id}",
        f"{t['mode']}: {t.get(g.mode, g.mode)}",
        f"{t['leader']}: {lname}{lead_phone}",
    ]
    height = group_map_height(
        cells, len(members), ["     ".join(meta), f"{t['posts']}: {post_text}"]
    )
    pts = [(float(x), float(y)) for x, y, *_ in route.path.coords]
    pts += [(s.lon, s.lat) for s in route.stops]
    frame = _Frame.around(district.crs, pts, pad_m=120.0, height=height)
    body = (
        _streets_svg(district, frame)
        + _cell_svg(district, frame, window.grid_id)
        + _route_svg(route, frame, colour, numbers=True)
    )
    cols = "".join(f"<col style='width:{w:g}mm'>" for w in STOP_COLUMNS_MM)
    heads = ("n", "arrive", "leave", "dwell", "wait", "place", "duty")
    return (
        f"<section class='sheet' data-group='{_esc(g.id)}'>"
        f"<h1>{t['group']} {_esc(g.id)}</h1>"
        f"<p class='meta'>{''.join(f'<span>{_esc(m)}</span>' for m in meta)}</p>"
        f"{_svg(body, height=height)}"
        f"<h2>{t['stops']}</h2><table class='stops'><colgroup>{cols}</colgroup><tr>"
        + "".join(f"<th>{t[h]}</th>" for h in heads)
        + f"</tr>{''.join(rows)}</table>"
        f"<h2>{t['members']}</h2><table><tr><th>{t['members']}</th><th>ID</th>"
        f"<th>{t['role']}</th>{phone_head}</tr>{''.join(members)}</table>"
        f"<p><b>{t['posts']}:</b> {_esc(post_text)}</p>"
        f"<p class='note'>{_esc(timezone_note(plan))}</p></section>"
    )


def cell_sheet(plan: DayPlan, district: District, window: WindowPlan, *, lang: str = "en") -> str:
    """Return one cell's overview in one window as an HTML ``<section>``."""
    t = LABELS[lang]
    cells = CellIndex.from_district(district)
    styles = group_styles(plan, cells)
    label = window.window.label()
    grids = district.grids.to_crs(4326)
    pts: list[tuple[float, float]] = []
    if window.grid_id in grids.index:
        b = grids.loc[window.grid_id].geometry.bounds
        pts += [(b[0], b[1]), (b[2], b[3])]
    for r in window.routes:
        pts += [(float(x), float(y)) for x, y, *_ in r.path.coords]
    if not pts:
        pts = [(h.lon, h.lat) for h in window.hotspots] or [(0.0, 0.0)]
    frame = _Frame.around(district.crs, pts, pad_m=60.0)
    body = _streets_svg(district, frame) + _cell_svg(district, frame, window.grid_id)
    # the longest route first: a short one (a foot group around its muster point) stays on top
    for r in sorted(window.routes, key=lambda r: -r.distance_m):
        body += _route_svg(r, frame, styles[(label, r.group.id)].colour, numbers=False)
    rows = []
    for r in window.routes:
        colour = styles[(label, r.group.id)].colour
        visits = sum(1 for s in r.stops if s.kind in ("hotspot", "post"))
        rows.append(
            f"<tr><td><span class='swatch' style='background:{colour}'></span></td>"
            f"<td>{_esc(r.group.id)}</td><td>{_esc(t.get(r.group.mode, r.group.mode))}</td>"
            f"<td class='num'>{len(r.group.members)}</td><td class='num'>{visits}</td>"
            f"<td class='num'>{r.distance_m / 1000:.1f}</td>"
            f"<td class='num'>{clock(r.stops[0].departure)}</td>"
            f"<td class='num'>{clock(r.stops[-1].arrival)}</td></tr>"
        )
    for h in window.hotspots:
        x, y = frame.lonlat([(h.lon, h.lat)])[0]
        body += f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#e6550d" opacity="0.7"/>'
    left = "".join(
        f"<tr><td>{_esc(lo.site_id)}</td><td>{_esc(lo.kind)}</td><td>{_esc(lo.reason)}</td></tr>"
        for lo in window.left_out
    )
    left_table = (
        f"<h2>{t['left_out']}</h2><table><tr><th>ID</th><th></th><th>{t['reason']}</th></tr>"
        f"{left}</table>"
        if left
        else ""
    )
    return (
        f"<section class='sheet' data-cell='{_esc(window.grid_id)}'>"
        f"<h1>{t['overview']} {_esc(window.grid_id)}</h1>"
        f"<p class='meta'><span>{t['date']}: {plan.date.isoformat()}</span>"
        f"<span>{t['window']}: {_esc(label)}</span></p>{_svg(body)}"
        f"<h2>{t['groups']}</h2><table><tr><th></th><th>{t['group']}</th><th>{t['mode']}</th>"
        f"<th>{t['members']}</th><th>{t['visits']}</th><th>{t['km']}</th><th>{t['start']}</th>"
        f"<th>{t['end']}</th></tr>{''.join(rows)}</table>{left_table}"
        f"<p class='note'>{_esc(timezone_note(plan))}</p></section>"
    )


def sheets_html(
    plan: DayPlan,
    district: District,
    *,
    window: str,
    group_ids: Sequence[str] = (),
    grid_ids: Sequence[str] = (),
    phones: bool = False,
    lang: str = "en",
) -> str:
    """Return a printable HTML document: the cells' overviews, then the groups' sheets.

    Parameters
    ----------
    plan, district
        The plan and its district.
    window
        The window's label (``"19:00-23:00"``).
    group_ids
        Groups whose sheets to print.
    grid_ids
        Planned cells whose overviews to print (and, when ``group_ids`` is empty, the sheets of
        all their groups).
    phones
        Whether phone numbers are printed (only for callers who may read them).
    lang
        ``"en"`` or ``"zh"``.
    """
    cells = CellIndex.from_district(district)
    styles = group_styles(plan, cells)
    wps = [wp for wp in plan.windows if wp.window.label() == window]
    parts = [cell_sheet(plan, district, wp, lang=lang) for wp in wps if wp.grid_id in grid_ids]
    wanted = set(group_ids)
    for wp in wps:
        for r in wp.routes:
            if r.group.id in wanted or (not wanted and wp.grid_id in grid_ids):
                colour = styles[(window, r.group.id)].colour
                parts.append(
                    group_sheet(plan, district, wp, r, colour=colour, phones=phones, lang=lang)
                )
    title = f"{plan.district} {plan.date.isoformat()} {window}"
    return (
        f"<!DOCTYPE html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head>"
        f"<meta charset='utf-8'><title>{_esc(title)}</title><style>{CSS}</style></head>"
        f"<body>{''.join(parts)}</body></html>"
    )
