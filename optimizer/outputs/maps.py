"""Static PNG maps of a plan, readable at 70 groups a window, drawn on the district's own streets.

Per window:

* ``map-<HHMM-HHMM>.png`` — a small overview of the whole district: routes as thin lines
  coloured by level-2 cell (neighbours differ), level-2 cells labelled, left-out hotspots marked;
* ``maps/<HHMM-HHMM>/L1-<cell>.png`` — the same overview per level-1 cell (written when the
  district has more than one);
* ``maps/<HHMM-HHMM>/L2-<cell>.png`` — an A4 landscape map per level-2 area in full detail: every
  group's route in its own colour (:mod:`optimizer.outputs.style`) with numbered stops, start
  and end, posts, hotspots sized by value, left-out hotspots and posts, level-3 cells labelled.

Every map has a scale bar and a north arrow, and its legend in a side panel outside the map so
that it never covers a route. Maps are drawn in the street graph's metric CRS (no web tiles).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from optimizer.district import District
from optimizer.outputs.basemap import StreetLines, street_lines
from optimizer.outputs.cells import CellIndex, window_labels
from optimizer.outputs.style import AREA_LEVEL, GroupStyle, cell_colours, group_area, group_styles
from optimizer.outputs.times import clock, timezone_note
from optimizer.outputs.wording import plural
from optimizer.plan.types import DayPlan, GroupRoute, WindowPlan

if TYPE_CHECKING:
    import geopandas as gpd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

AREA_FIGSIZE: tuple[float, float] = (11.69, 8.27)
"""A4 landscape, inches: the level-2 area maps and level-1 overviews."""

DISTRICT_FIGSIZE: tuple[float, float] = (9.0, 6.2)
"""The small whole-district overview, inches."""

SIDE_PANEL_SHARE = 0.3
"""Share of the figure's width given to the legend panel beside the map."""

STREET_STYLE: tuple[tuple[str, float], ...] = (
    ("#d9d9d9", 0.45),
    ("#c4c4c4", 0.8),
    ("#b0b0b0", 1.3),
)
"""Colour and line width per road class (minor, medium, major)."""

MAX_GROWTH = 1.5
"""An area map grows to show its routes whole up to this factor; beyond, they leave the map."""

HOTSPOT_COLOUR = "#e34a33"
LEFT_OUT_COLOUR = "#4d0000"
OSM_CREDIT = "streets © OpenStreetMap contributors"

CJK_FONTS: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
)
"""Fonts tried, in order, for Chinese place and cell names (Debian: ``fonts-noto-cjk``)."""

MPL_LINES: dict[str, object] = {"solid": "-", "dashed": (0, (5, 2)), "dotted": (0, (1, 1.5))}
"""Matplotlib line styles of :data:`optimizer.outputs.style.LINES`."""


@functools.cache
def font_family() -> tuple[str, ...]:
    """Return the font family list for maps: DejaVu Sans, then an installed CJK font, if any."""
    from matplotlib import font_manager

    def known() -> set[str]:
        return {f.name for f in font_manager.fontManager.ttflist}

    names = known()
    if not names & set(CJK_FONTS):
        # fonts installed after matplotlib built its cache are not in it yet
        for path in font_manager.findSystemFonts():
            low = Path(path).name.lower()
            if "cjk" in low or "wqy" in low or "droidsansfallback" in low:
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        names = known()
    return ("DejaVu Sans", *(f for f in CJK_FONTS if f in names))


# ---------------------------------------------------------------------------------------------
# What every map of a plan needs, prepared once


@dataclass(frozen=True)
class PlanMapData:
    """A plan and its district, prepared for drawing (metric CRS).

    Build with :meth:`build`; the figure functions take it first.
    """

    plan: DayPlan
    cells: CellIndex
    styles: dict[tuple[str, str], GroupStyle]
    crs: Any
    streets: StreetLines | None
    grids: gpd.GeoDataFrame | None
    area_colours: dict[str, str]
    paths: dict[tuple[str, str], np.ndarray]
    """``(window, group id)`` -> the route's street path, ``(n, 2)`` metric."""
    stops: dict[tuple[str, str], np.ndarray]
    """``(window, group id)`` -> its stops' metric ``x, y``, in sequence."""
    hotspots: dict[tuple[str, str], tuple[float, float]]
    """``(window, hotspot id)`` -> metric ``x, y``."""
    posts: dict[str, tuple[float, float]]
    """Post id -> metric ``x, y`` (from the district's resources)."""
    value_max: dict[str, float]
    """Window -> its largest hotspot value (hotspot sizes are comparable across its maps)."""

    @classmethod
    def build(cls, plan: DayPlan, district: District | None = None) -> PlanMapData:
        """Project the plan (and the district's streets, cells and posts) to a metric CRS."""
        import geopandas as gpd
        from pyproj import Transformer

        cells = CellIndex.from_district(district)
        if district is not None:
            crs = district.graph.graph["crs"]
        else:
            lonlat = [(s.lon, s.lat) for r in plan.routes for s in r.stops] or [(0.0, 0.0)]
            crs = gpd.GeoSeries(gpd.points_from_xy(*zip(*lonlat, strict=True)), crs=4326)
            crs = crs.estimate_utm_crs()
        to_metric = Transformer.from_crs("EPSG:4326", crs, always_xy=True)

        def project(lonlat: Sequence[tuple[float, float]]) -> np.ndarray:
            if not lonlat:
                return np.zeros((0, 2))
            arr = np.asarray(lonlat, dtype=float)
            xs, ys = to_metric.transform(arr[:, 0], arr[:, 1])
            return np.column_stack([xs, ys])

        paths: dict[tuple[str, str], np.ndarray] = {}
        stops: dict[tuple[str, str], np.ndarray] = {}
        hotspots: dict[tuple[str, str], tuple[float, float]] = {}
        value_max: dict[str, float] = {}
        for wp in plan.windows:
            label = wp.window.label()
            for route in wp.routes:
                key = (label, route.group.id)
                paths[key] = project([(float(c[0]), float(c[1])) for c in route.path.coords])
                stops[key] = project([(s.lon, s.lat) for s in route.stops])
            xy = project([(h.lon, h.lat) for h in wp.hotspots])
            for h, p in zip(wp.hotspots, xy, strict=True):
                hotspots[(label, h.id)] = (float(p[0]), float(p[1]))
            top = max((h.value for h in wp.hotspots), default=0.0)
            value_max[label] = max(value_max.get(label, 0.0), top)
        posts: dict[str, tuple[float, float]] = {}
        grids = None
        streets = None
        colours: dict[str, str] = {}
        if district is not None:
            xy = project([(p.lon, p.lat) for p in district.resources.posts])
            posts = {
                p.id: (float(q[0]), float(q[1]))
                for p, q in zip(district.resources.posts, xy, strict=True)
            }
            grids = district.grids.to_crs(crs)
            grids.index = grids.index.astype(str)
            streets = street_lines(district)
            colours = cell_colours(district, level=AREA_LEVEL)
        return cls(
            plan=plan,
            cells=cells,
            styles=group_styles(plan, cells),
            crs=crs,
            streets=streets,
            grids=grids,
            area_colours=colours,
            paths=paths,
            stops=stops,
            hotspots=hotspots,
            posts=posts,
            value_max=value_max,
        )

    def window_plans(self, window: str, area: str | None = None) -> list[WindowPlan]:
        """Return the window's cell plans, those in ``area`` only where it is given."""
        return [
            wp
            for wp in self.plan.windows
            if wp.window.label() == window and (area is None or self.cells.within(wp.grid_id, area))
        ]

    def areas(self, window: str, level: int) -> list[str]:
        """Return the cells of ``level`` that hold a planned cell of ``window``, in order."""
        found = (self.cells.at_level(wp.grid_id, level) for wp in self.window_plans(window))
        return self.cells.order(c for c in found if c)


# ---------------------------------------------------------------------------------------------
# Pieces of a map


def _nice_length(span_m: float) -> float:
    """A round scale-bar length near a fifth of ``span_m``: 1, 2 or 5 times a power of ten."""
    target = max(span_m / 5, 1.0)
    power = 10 ** math.floor(math.log10(target))
    return float(max(m * power for m in (1, 2, 5) if m * power <= target))


def add_scale_bar(ax: Axes) -> None:
    """Draw a scale bar (metric data units) in the lower left of the map."""
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    x0, x1 = ax.get_xlim()
    length = _nice_length(abs(x1 - x0))
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    bar = AnchoredSizeBar(
        ax.transData,
        length,
        label,
        loc="lower left",
        pad=0.4,
        borderpad=0.6,
        sep=3,
        frameon=True,
        size_vertical=abs(x1 - x0) / 250,
        fontproperties={"size": 8},
    )
    bar.patch.set_alpha(0.85)
    bar.set_zorder(20)
    bar.set_gid("scale-bar")
    ax.add_artist(bar)


def add_north_arrow(ax: Axes) -> None:
    """Draw a north arrow in the upper right of the map (grid north of the metric CRS)."""
    ax.annotate(
        "N",
        xy=(0.965, 0.975),
        xytext=(0.965, 0.895),
        xycoords="axes fraction",
        textcoords="axes fraction",
        ha="center",
        va="center",
        fontsize=10,
        fontweight="bold",
        arrowprops={"facecolor": "black", "edgecolor": "black", "width": 2.5, "headwidth": 9},
        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
        zorder=20,
    )


def _halo(width: float = 2.5) -> list[Any]:
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=width, foreground="white")]


def _draw_streets(ax: Axes, data: PlanMapData, box: tuple[float, float, float, float]) -> None:
    from matplotlib.collections import LineCollection

    if data.streets is None:
        return
    shown = data.streets.within(box)
    for cls_index, (colour, width) in enumerate(STREET_STYLE):
        lines = [ln for ln, c in zip(shown.lines, shown.road_class, strict=True) if c == cls_index]
        if lines:
            ax.add_collection(
                LineCollection(lines, colors=colour, linewidths=width, zorder=1, capstyle="round")
            )


def _outline(ax: Axes, geom: Any, **style: Any) -> None:
    polys = [geom] if geom.geom_type == "Polygon" else list(getattr(geom, "geoms", []))
    for poly in polys:
        xs, ys = poly.exterior.xy
        ax.plot(xs, ys, **style)


def _draw_cells(
    ax: Axes,
    data: PlanMapData,
    *,
    focus: str | None,
    label_levels: Iterable[int],
    line_levels: Iterable[int],
    label_size: float,
) -> None:
    """Cell outlines (coarser levels bolder) and labels at each cell's representative point."""
    if data.grids is None:
        return
    style = {
        1: {"color": "#222222", "lw": 2.0, "ls": "-"},
        2: {"color": "#555555", "lw": 1.2, "ls": "-"},
        3: {"color": "#888888", "lw": 0.6, "ls": (0, (3, 2))},
    }
    labels = set(label_levels)
    for cid, row in data.grids.iterrows():
        level = int(row["level"])
        geom = row.geometry
        if geom is None or geom.is_empty or level not in set(line_levels):
            continue
        s = dict(style.get(level, style[3]))
        inside = focus is None or data.cells.within(str(cid), focus)
        if focus is not None and str(cid) == focus:
            s.update(color="#000000", lw=2.4, ls="-")
        elif not inside:
            s.update(color="#aaaaaa")
        _outline(ax, geom, zorder=2, **s)
        if level in labels and inside:
            p = geom.representative_point()
            ax.text(
                p.x,
                p.y,
                str(cid),
                fontsize=label_size * (1.6 if level <= 2 else 1.0),
                fontweight="bold" if level <= 2 else "normal",
                color="#222222" if level <= 2 else "#666666",
                ha="center",
                va="center",
                zorder=8 if level <= 2 else 7,
                path_effects=None if level <= 2 else _halo(),
                bbox=(
                    {"boxstyle": "round,pad=0.2", "fc": "white", "ec": "#555555", "alpha": 0.85}
                    if level <= 2
                    else None
                ),
                gid="cell-label",
            )


def _hotspot_sizes(values: Sequence[float], vmax: float, *, scale: float) -> list[float]:
    top = vmax if vmax > 0 else 1.0
    return [scale * (0.15 + 0.85 * v / top) for v in values]


def _left_out(wps: Iterable[WindowPlan], kind: str) -> set[str]:
    return {lo.site_id for wp in wps for lo in wp.left_out if lo.kind == kind}


def _draw_hotspots(
    ax: Axes, data: PlanMapData, window: str, wps: Sequence[WindowPlan], *, scale: float
) -> None:
    left = _left_out(wps, "hotspot")
    vmax = data.value_max.get(window, 0.0)
    served = [h for wp in wps for h in wp.hotspots if h.id not in left]
    missed = [h for wp in wps for h in wp.hotspots if h.id in left]
    if served:
        xy = np.array([data.hotspots[(window, h.id)] for h in served])
        ax.scatter(
            xy[:, 0],
            xy[:, 1],
            s=_hotspot_sizes([h.value for h in served], vmax, scale=scale),
            c=HOTSPOT_COLOUR,
            alpha=0.3,
            edgecolors=HOTSPOT_COLOUR,
            linewidths=1.0,
            zorder=4,
        )
    if missed:
        xy = np.array([data.hotspots[(window, h.id)] for h in missed])
        sizes = _hotspot_sizes([h.value for h in missed], vmax, scale=scale)
        ax.scatter(
            xy[:, 0],
            xy[:, 1],
            s=sizes,
            facecolors="none",
            edgecolors=LEFT_OUT_COLOUR,
            linewidths=1.0,
            linestyles="--",
            zorder=4,
        )
        ax.scatter(
            xy[:, 0],
            xy[:, 1],
            s=max(12.0, scale * 0.12),
            marker="x",
            c=LEFT_OUT_COLOUR,
            linewidths=1.1,
            zorder=4,
        )
    posts = [p for p in _left_out(wps, "post") if p in data.posts]
    if posts:
        xy = np.array([data.posts[p] for p in sorted(posts)])
        ax.scatter(
            xy[:, 0],
            xy[:, 1],
            s=scale * 0.6,
            marker="*",
            facecolors="white",
            edgecolors=LEFT_OUT_COLOUR,
            linewidths=1.1,
            zorder=6,
        )


def _stop_labels(route: GroupRoute, xy: np.ndarray) -> list[tuple[str, float, float, bool]]:
    """Numbered stops merged by place: ``(label, x, y, is_post)``; start and end left out."""
    merged: dict[tuple[int, int], list[Any]] = {}
    for s, (x, y) in zip(route.stops, xy, strict=True):
        if s.kind in ("start", "end"):
            continue
        key = (round(x / 5), round(y / 5))  # the same place within 5 m
        entry = merged.setdefault(key, [[], x, y, False])
        entry[0].append(s.sequence)
        entry[3] = entry[3] or s.kind == "post"
    out = []
    for seqs, x, y, post in merged.values():
        nums = [str(n) for n in seqs]
        lines = [",".join(nums[i : i + 4]) for i in range(0, len(nums), 4)]
        out.append(("\n".join(lines), float(x), float(y), bool(post)))
    return out


def _draw_route_detail(
    ax: Axes,
    data: PlanMapData,
    window: str,
    route: GroupRoute,
    taken: list[tuple[float, float, float]],
) -> None:
    """A route in its colour with numbered stops (circles; squares for posts)."""
    key = (window, route.group.id)
    style = data.styles[key]
    path = data.paths[key]
    ax.plot(
        path[:, 0],
        path[:, 1],
        color=style.colour,
        lw=2.2,
        alpha=0.9,
        ls=MPL_LINES[style.line],
        zorder=5,
        solid_capstyle="round",
        path_effects=_halo(3.6),
        gid=f"route:{route.group.id}",
    )
    per_pt = _points_to_data(ax, 1.0)
    for text, x, y, post in _stop_labels(route, data.stops[key]):
        offset = _place_label(text, x, y, taken, per_pt)
        ax.annotate(
            text,
            (x, y),
            xytext=offset,
            textcoords="offset points",
            ha="center",
            va="center",
            fontsize=6.2,
            fontweight="bold",
            color="white",
            linespacing=0.95,
            bbox={
                "boxstyle": "square,pad=0.25"
                if post
                else "circle,pad=0.18"
                if "," not in text
                else "round,pad=0.2",
                "fc": style.colour,
                "ec": "black" if post else "white",
                "lw": 0.9 if post else 0.6,
            },
            arrowprops=(
                {"arrowstyle": "-", "color": style.colour, "lw": 0.6} if offset != (0, 0) else None
            ),
            zorder=8,
            gid=f"stop:{route.group.id}",
        )


LABEL_CHAR_PT = 4.0
"""Width of one character of a stop label, in points (6.2 pt bold digits and commas)."""


def _place_label(
    text: str, x: float, y: float, taken: list[tuple[float, float, float]], per_pt: float
) -> tuple[float, float]:
    """Choose where a stop label goes, in points from its stop: on it, else the nearest free spot.

    Labels are taken as circles as wide as their text; the first of the stop itself and two
    rings of eight places around it where the label meets no label drawn before wins (else the
    last). ``taken`` gains the chosen circle (data units).
    """
    lines = text.split("\n")
    radius_pt = 0.5 * max(LABEL_CHAR_PT * max(len(ln) for ln in lines) + 5, 8.0 * len(lines) + 3)
    candidates = [(0.0, 0.0)]
    for ring in (1, 2):
        d = ring * (2 * radius_pt + 2)
        candidates += [
            (d * math.cos(a * math.pi / 4), d * math.sin(a * math.pi / 4)) for a in range(8)
        ]
    r = radius_pt * per_pt
    for dx, dy in candidates:
        cx, cy = x + dx * per_pt, y + dy * per_pt
        if all(math.hypot(cx - px, cy - py) >= r + pr for px, py, pr in taken):
            break
    taken.append((cx, cy, r))
    return (dx, dy)


def _points_to_data(ax: Axes, points: float) -> float:
    """Return how many data units (metres) ``points`` typographic points span on the map."""
    x0, x1 = ax.get_xlim()
    width_pt = ax.get_position().width * ax.get_figure().get_size_inches()[0] * 72  # type: ignore[union-attr]
    return abs(x1 - x0) * points / max(width_pt, 1.0)


def _draw_ends(
    ax: Axes, data: PlanMapData, window: str, routes: Sequence[GroupRoute], *, size: float
) -> None:
    """One marker per start or end place: ``S``, ``E`` or ``S/E``.

    A place beyond the map is marked at the map's edge, towards it, with its distance.
    """
    places: dict[tuple[int, int], list[Any]] = {}
    for route in routes:
        xy = data.stops[(window, route.group.id)]
        for tag, (x, y) in (("S", xy[0]), ("E", xy[-1])):
            entry = places.setdefault((round(x / 10), round(y / 10)), [set(), x, y])
            entry[0].add(tag)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    inset = 0.03 * (x1 - x0)
    for tags, x, y in places.values():
        text = "S/E" if len(tags) == 2 else next(iter(tags))
        cx = min(max(x, x0 + inset), x1 - inset)
        cy = min(max(y, y0 + inset), y1 - inset)
        away = math.hypot(x - cx, y - cy)
        if away > 1.0:
            text += f" {away / 1000:.1f} km " + _arrow(x - cx, y - cy)
        ax.annotate(
            text,
            (float(cx), float(cy)),
            ha="center",
            va="center",
            fontsize=size,
            fontweight="bold",
            color="white",
            bbox={"boxstyle": "square,pad=0.2", "fc": "black", "ec": "white", "lw": 0.6},
            zorder=9,
            gid="start-end",
        )


def _arrow(dx: float, dy: float) -> str:
    """An arrow pointing along ``dx, dy`` (one of eight)."""
    arrows = "→↗↑↖←↙↓↘"
    return arrows[round(math.atan2(dy, dx) / (math.pi / 4)) % 8]


def _frame_map(
    fig: Figure, ax: Axes, box: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    """Fit ``box`` to the map's shape (equal scale in x and y, grown on one side); return it."""
    x0, y0, x1, y1 = box
    fig_w, fig_h = fig.get_size_inches()
    pos = ax.get_position()
    shape = (pos.width * fig_w) / (pos.height * fig_h)  # width / height of the axes
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    w, h = x1 - x0, y1 - y0
    if w / h < shape:
        w = h * shape
    else:
        h = w / shape
    fitted = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    ax.set_xlim(fitted[0], fitted[2])
    ax.set_ylim(fitted[1], fitted[3])
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_facecolor("white")
    return fitted


def _box(bounds: Iterable[Sequence[float]], pad: float = 0.04) -> tuple[float, float, float, float]:
    arr = np.array([list(b) for b in bounds], dtype=float)
    x0, y0 = float(np.nanmin(arr[:, 0])), float(np.nanmin(arr[:, 1]))
    x1, y1 = float(np.nanmax(arr[:, 2])), float(np.nanmax(arr[:, 3]))
    dx, dy = max(x1 - x0, 50.0), max(y1 - y0, 50.0)
    return (x0 - pad * dx, y0 - pad * dy, x0 + dx * (1 + pad), y0 + dy * (1 + pad))


def _span(box: tuple[float, float, float, float]) -> float:
    return max(box[2] - box[0], box[3] - box[1])


def _path_bounds(arr: np.ndarray) -> list[float]:
    return [arr[:, 0].min(), arr[:, 1].min(), arr[:, 0].max(), arr[:, 1].max()]


def _figure(figsize: tuple[float, float]) -> tuple[Figure, Axes, Axes]:
    """A figure with the map on the left and the legend panel (no data) on the right."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)  # no pyplot: no global figure state, no GUI backend
    gs = fig.add_gridspec(
        1,
        2,
        width_ratios=[1 - SIDE_PANEL_SHARE, SIDE_PANEL_SHARE],
        left=0.015,
        right=0.99,
        bottom=0.02,
        top=0.93,
        wspace=0.03,
    )
    ax = fig.add_subplot(gs[0, 0])
    side = fig.add_subplot(gs[0, 1])
    side.set_axis_off()
    return fig, ax, side


def _symbol_handles(*, detail: bool, ends: bool) -> list[tuple[Any, str]]:
    from matplotlib.lines import Line2D

    def marker(**kw: Any) -> Line2D:
        return Line2D([], [], ls="none", **kw)

    handles: list[tuple[Any, str]] = [
        (
            marker(marker="o", ms=9, mfc=HOTSPOT_COLOUR, mec=HOTSPOT_COLOUR, alpha=0.35),
            "hotspot (area ∝ value)",
        ),
        (marker(marker="x", ms=6, mec=LEFT_OUT_COLOUR, mew=1.2), "hotspot left out"),
        (marker(marker="*", ms=10, mfc="white", mec=LEFT_OUT_COLOUR), "post left out"),
    ]
    if detail:
        handles += [
            (marker(marker="o", ms=8, mfc="#555555", mec="white"), "stop, numbered in order"),
            (marker(marker="s", ms=8, mfc="#555555", mec="black"), "post duty, numbered"),
        ]
    if ends:
        handles.append((marker(marker="s", ms=8, mfc="black", mec="white"), "S start · E end"))
    return handles


def _legend(side: Axes, entries: Sequence[tuple[Any, str]], *, title: str) -> Any:
    """The legend in the side panel, its font shrunk until it fits the panel."""
    size = 7.0
    panel = side.get_window_extent()
    while True:
        legend = side.legend(
            [h for h, _ in entries],
            [lb for _, lb in entries],
            loc="upper left",
            bbox_to_anchor=(0.0, 1.0),
            fontsize=size,
            title=title,
            title_fontsize=size + 1,
            frameon=False,
            handlelength=2.2,
            borderaxespad=0.0,
            alignment="left",
        )
        legend.set_gid("legend")
        box = legend.get_window_extent()
        # leave the bottom fifth of the panel to the notes
        fits = box.x1 <= panel.x1 + 0.5 and box.y0 >= panel.y0 + 0.2 * panel.height
        if fits or size <= 3.5:
            return legend
        legend.remove()
        size = max(3.5, size * 0.9)


def _notes(side: Axes, lines: Sequence[str]) -> None:
    side.text(
        0.0,
        0.0,
        "\n".join(lines),
        transform=side.transAxes,
        ha="left",
        va="bottom",
        fontsize=6.5,
        color="#444444",
        wrap=True,
        gid="notes",
    )


def _group_entry(route: GroupRoute) -> str:
    g = route.group
    visits = sum(1 for s in route.stops if s.kind not in ("start", "end"))
    return (
        f"{g.id} ({g.mode}, {len(g.members)} people)\n"
        f"{visits} stops · {route.distance_m / 1000:.1f} km · "
        f"{clock(route.stops[0].departure)}–{clock(route.stops[-1].arrival)}"
    )


def _title(fig: Figure, data: PlanMapData, what: str, window: str) -> None:
    plan = data.plan
    fig.suptitle(
        f"{what} — {plan.district}, {plan.date:%a %Y-%m-%d}, {window}",
        x=0.015,
        y=0.985,
        ha="left",
        va="top",
        fontsize=12,
        fontweight="bold",
    )


# ---------------------------------------------------------------------------------------------
# The maps


def area_figure(data: PlanMapData, *, window: str, area: str) -> Figure:
    """Draw the detailed map of one level-2 area (or any cell) in one window.

    Parameters
    ----------
    data
        The prepared plan (:meth:`PlanMapData.build`).
    window
        Window label ``HH:MM-HH:MM``.
    area
        Cell id; its groups, hotspots and left-out sites are drawn on its streets.

    Returns
    -------
    matplotlib.figure.Figure
        A4 landscape: the map (axes 0) and the legend panel (axes 1).
    """
    import matplotlib
    from matplotlib.lines import Line2D

    with matplotlib.rc_context({"font.family": list(font_family())}):
        fig, ax, side = _figure(AREA_FIGSIZE)
        wps = data.window_plans(window, area)
        routes = sorted(
            (r for wp in wps for r in wp.routes),
            key=lambda r: data.styles[(window, r.group.id)].index,
        )
        bounds: list[Sequence[float]] = []
        if data.grids is not None and area in data.grids.index:
            bounds.append(data.grids.loc[area].geometry.bounds)
        bounds += [[*data.hotspots[(window, h.id)]] * 2 for wp in wps for h in wp.hotspots]
        own = _box(bounds or [[0.0, 0.0, 1.0, 1.0]])
        box = _box([*bounds, *(_path_bounds(data.paths[(window, r.group.id)]) for r in routes)])
        if _span(box) > MAX_GROWTH * _span(own):
            box = own  # routes from far away (a distant station) leave the map; the area counts
        x0, y0, x1, y1 = _frame_map(fig, ax, box)
        _draw_streets(ax, data, (x0, y0, x1, y1))
        _draw_cells(ax, data, focus=area, label_levels=(3,), line_levels=(1, 2, 3), label_size=7)
        _draw_hotspots(ax, data, window, wps, scale=700)
        taken: list[tuple[float, float, float]] = []
        for route in routes:
            _draw_route_detail(ax, data, window, route, taken)
        _draw_ends(ax, data, window, routes, size=6.5)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        add_scale_bar(ax)
        add_north_arrow(ax)
        _title(fig, data, f"Area {data.cells.label(area)}", window)
        entries: list[tuple[Any, str]] = []
        for route in routes:
            st = data.styles[(window, route.group.id)]
            entries.append(
                (
                    Line2D([], [], color=st.colour, lw=2.4, ls=MPL_LINES[st.line]),
                    _group_entry(route),
                )
            )
        entries += _symbol_handles(detail=True, ends=bool(routes))
        _legend(side, entries, title=plural(len(routes), "group"))
        visits = sum(int(wp.metrics.get("visits", 0)) for wp in wps)
        left = sum(len(wp.left_out) for wp in wps)
        patrolled = sum(1 for wp in wps if wp.routes)
        _notes(
            side,
            [
                f"{patrolled} of {len(wps)} planned cells patrolled · {visits} visits · "
                f"{plural(left, 'site')} left out",
                timezone_note(data.plan),
                "reasons for left-out sites: schedule.xlsx, plan.json",
                OSM_CREDIT,
            ],
        )
    return fig


def overview_figure(
    data: PlanMapData, *, window: str, cell: str | None = None, small: bool = False
) -> Figure:
    """Draw an overview of one window: the district (``cell=None``) or one cell, by level-2 area.

    Routes are thin lines coloured by their level-2 cell (neighbouring cells differ), stops are
    dots, left-out hotspots and posts are marked; the legend panel lists each level-2 cell with
    its groups, visits, posts and left-out sites.

    Parameters
    ----------
    data
        The prepared plan.
    window
        Window label ``HH:MM-HH:MM``.
    cell
        A level-1 (or any) cell to show; ``None`` for the whole district.
    small
        Draw at :data:`DISTRICT_FIGSIZE` instead of A4 landscape.
    """
    import matplotlib
    from matplotlib.patches import Patch

    with matplotlib.rc_context({"font.family": list(font_family())}):
        fig, ax, side = _figure(DISTRICT_FIGSIZE if small else AREA_FIGSIZE)
        wps = data.window_plans(window, cell)
        routes = [(wp, r) for wp in wps for r in wp.routes]
        bounds: list[Sequence[float]] = []
        if data.grids is not None:
            shown = data.grids if cell is None else data.grids.loc[[cell]]
            bounds.append(shown.total_bounds)
        bounds += [_path_bounds(data.paths[(window, r.group.id)]) for _, r in routes]
        if not bounds:
            bounds.append([0.0, 0.0, 1.0, 1.0])
        box = _box(bounds, pad=0.02)
        x0, y0, x1, y1 = _frame_map(fig, ax, box)
        _draw_streets(ax, data, (x0, y0, x1, y1))
        _draw_cells(
            ax,
            data,
            focus=cell,
            label_levels=(2,) if small or cell is None else (2, 3),
            line_levels=(1, 2) if small else (1, 2, 3),
            label_size=6.5 if small else 7,
        )
        _draw_hotspots(ax, data, window, wps, scale=60 if small else 110)
        for wp, route in routes:
            area = group_area(data.cells, wp.grid_id)
            colour = data.area_colours.get(area, "#1f77b4")
            path = data.paths[(window, route.group.id)]
            ax.plot(
                path[:, 0], path[:, 1], color=colour, lw=0.7 if small else 1.0, alpha=0.85, zorder=5
            )
            xy = data.stops[(window, route.group.id)][1:-1]
            if len(xy):
                ax.scatter(
                    xy[:, 0], xy[:, 1], s=3 if small else 6, c=colour, zorder=6, linewidths=0
                )
        if routes:
            _draw_ends(ax, data, window, [r for _, r in routes], size=4.5 if small else 5.5)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        add_scale_bar(ax)
        add_north_arrow(ax)
        what = "Overview" if cell is None else f"Overview {data.cells.label(cell)}"
        _title(fig, data, what, window)
        entries: list[tuple[Any, str]] = [
            (Patch(fc=data.area_colours.get(area, "#1f77b4")), text)
            for area, text in _area_lines(data, window, cell)
        ]
        entries += _symbol_handles(detail=False, ends=bool(routes))
        _legend(
            side,
            entries,
            title=f"{plural(len(routes), 'group')}, by level-2 cell",
        )
        _notes(
            side,
            [
                "detail per level-2 cell: maps/<window>/L2-<cell>.png",
                timezone_note(data.plan),
                OSM_CREDIT,
            ],
        )
    return fig


def _area_lines(data: PlanMapData, window: str, cell: str | None) -> list[tuple[str, str]]:
    """Per level-2 cell of the view: ``(cell, "G1-01: 6 groups · 48 visits · …")``."""
    out = []
    for area in data.areas(window, AREA_LEVEL):
        if cell is not None and not data.cells.within(area, cell):
            continue
        wps = data.window_plans(window, area)
        groups = sum(len(wp.routes) for wp in wps)
        visits = sum(int(wp.metrics.get("visits", 0)) for wp in wps)
        left = sum(len(wp.left_out) for wp in wps)
        patrolled = sum(1 for wp in wps if wp.routes)
        out.append(
            (
                area,
                f"{area}: {plural(groups, 'group')} · {visits} visits\n"
                f"{patrolled}/{len(wps)} cells patrolled · {plural(left, 'site')} left out",
            )
        )
    return out


def window_file_stem(window: str) -> str:
    """Return ``0700-1100`` for the window ``07:00-11:00``."""
    return window.replace(":", "")


def write_maps(
    plan: DayPlan, directory: str | Path, *, district: District | None = None, dpi: int = 150
) -> list[Path]:
    """Write every map of the plan (see the module docstring) into ``directory``.

    Parameters
    ----------
    plan
        The day plan.
    directory
        The plan folder.
    district
        The plan's district: streets, cells, posts. Without it only the overview per window is
        drawn (routes and hotspots on white).
    dpi
        Resolution of the A4 maps (the small overview uses 3/4 of it).

    Returns
    -------
    list of Path
        The files written.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    data = PlanMapData.build(plan, district)
    written: list[Path] = []
    level1s = data.cells.cells(1)
    for window in window_labels(plan):
        stem = window_file_stem(window)
        fig = overview_figure(data, window=window, small=True)
        out = folder / f"map-{stem}.png"
        fig.savefig(out, dpi=round(dpi * 0.75))
        written.append(out)
        if district is None:
            continue
        sub = folder / "maps" / stem
        sub.mkdir(parents=True, exist_ok=True)
        if len(level1s) > 1:
            for cell in data.areas(window, 1):
                fig = overview_figure(data, window=window, cell=cell)
                out = sub / f"L1-{cell}.png"
                fig.savefig(out, dpi=dpi)
                written.append(out)
        for area in data.areas(window, AREA_LEVEL):
            fig = area_figure(data, window=window, area=area)
            out = sub / f"L2-{area}.png"
            fig.savefig(out, dpi=dpi)
            written.append(out)
    return written
