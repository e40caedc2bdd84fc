"""PNG maps: the legend never covers the map, every stop number is drawn, scale and north shown."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from optimizer.district import District
from optimizer.outputs.maps import PlanMapData, area_figure, overview_figure, write_maps
from optimizer.plan.day import plan_day
from optimizer.plan.types import DayPlan, LeftOut

pytestmark = pytest.mark.slow  # draws a planned day: full run only, not the fast lane

MONDAY = dt.date(2026, 11, 30)
WINDOW = "07:00-11:00"


@pytest.fixture(scope="module")
def plan(demo: District) -> DayPlan:
    return plan_day(demo, day=MONDAY, windows=[WINDOW], seed=3)


def crowded(plan: DayPlan, copies: int) -> DayPlan:
    """The plan with each group repeated ``copies`` times (new ids) and a hotspot left out."""
    windows = []
    for wp in plan.windows:
        routes = tuple(
            dataclasses.replace(r, group=dataclasses.replace(r.group, id=f"{r.group.id}-{k:02d}"))
            for k in range(copies)
            for r in wp.routes
        )
        left = (LeftOut(wp.hotspots[0].id, "hotspot", wp.grid_id, "no_group: test"),)
        windows.append(dataclasses.replace(wp, routes=routes, left_out=left))
    return dataclasses.replace(plan, windows=tuple(windows))


def _data_area(fig: Figure) -> object:
    fig.canvas.draw()
    return fig.axes[0].get_window_extent()


def _legend_clear(fig: Figure) -> None:
    ax_box = _data_area(fig)
    legend = fig.axes[1].get_legend()
    assert legend is not None
    box = legend.get_window_extent()
    assert not box.overlaps(ax_box)  # type: ignore[attr-defined]
    fig_box = fig.bbox
    assert box.x0 >= fig_box.x0 and box.x1 <= fig_box.x1 + 1
    assert box.y0 >= fig_box.y0 and box.y1 <= fig_box.y1 + 1


def _numbers(fig: Figure, group: str) -> set[int]:
    texts = [t for t in fig.axes[0].texts if t.get_gid() == f"stop:{group}"]
    return {int(n) for t in texts for n in re.split(r"[,\n]", t.get_text())}


def test_area_map_legend_outside_and_every_stop_numbered(plan: DayPlan, demo: District) -> None:
    data = PlanMapData.build(plan, demo)
    for wp in plan.windows:
        fig = area_figure(data, window=WINDOW, area=wp.grid_id)
        _legend_clear(fig)
        for route in wp.routes:
            wanted = {s.sequence for s in route.stops if s.kind not in ("start", "end")}
            assert _numbers(fig, route.group.id) == wanted
            assert any(a.get_gid() == f"route:{route.group.id}" for a in fig.axes[0].lines)
        labels = [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "start-end"]
        assert labels and set(labels) <= {"S", "E", "S/E"}
        bars = [a for a in fig.axes[0].artists if a.get_gid() == "scale-bar"]
        assert len(bars) == 1 and re.fullmatch(r"\d+ k?m", bars[0].txt_label.get_text())
        assert any(t.get_text() == "N" for t in fig.axes[0].texts), "north arrow"


def test_crowded_area_stays_readable(plan: DayPlan, demo: District) -> None:
    busy = crowded(plan, copies=12)  # two dozen groups in one level-2 area
    data = PlanMapData.build(busy, demo)
    wp = max(busy.windows, key=lambda w: len(w.routes))
    fig = area_figure(data, window=WINDOW, area=wp.grid_id)
    _legend_clear(fig)
    legend = fig.axes[1].get_legend()
    entries = [t.get_text() for t in legend.get_texts()]
    assert sum(1 for r in wp.routes if any(e.startswith(r.group.id) for e in entries)) == len(
        wp.routes
    )
    assert "hotspot left out" in entries
    styles = [data.styles[(WINDOW, r.group.id)] for r in wp.routes]
    first = [st.colour for st in styles if not st.dashed]
    assert len(set(first)) == len(first) == 16  # distinct colours, then dashed, then dotted
    assert len({(st.colour, st.line) for st in styles}) == len(styles) <= 48
    for route in wp.routes:
        assert _numbers(fig, route.group.id)


def test_overviews_legend_outside(plan: DayPlan, demo: District) -> None:
    data = PlanMapData.build(crowded(plan, copies=5), demo)
    for small in (True, False):
        fig = overview_figure(data, window=WINDOW, small=small)
        _legend_clear(fig)
        entries = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
        assert [e.split(":")[0] for e in entries[:3]] == ["D-1", "D-2", "D-3"]


def test_write_maps_without_a_district(plan: DayPlan, tmp_path: Path) -> None:
    files = write_maps(plan, tmp_path, dpi=60)
    assert [p.name for p in files] == ["map-0700-1100.png"]
