"""Printable sheets: a group's sheet is one A4 page, its map taking the height the page leaves."""

from __future__ import annotations

import re

import pytest

from optimizer.district import District
from optimizer.outputs.cells import CellIndex
from optimizer.outputs.sheets import (
    MAP_MM,
    MAP_W,
    PAGE_MM,
    cell_sheet,
    group_map_height,
    sheets_html,
)
from optimizer.outputs.style import group_styles
from optimizer.plan.types import DayPlan


def test_map_height_shrinks_with_the_rows_within_its_bounds() -> None:
    row = ("1", "19:00", "19:10", "10", "0", "near Kalevankatu", "patrol hotspot: dispute")
    heights = [group_map_height([row] * n, 4, ["Date: 2026-11-30"]) for n in (2, 12, 20, 60)]
    assert heights == sorted(heights, reverse=True) and heights[1] > heights[2]
    assert heights[0] == round(MAP_MM[1] * MAP_W / PAGE_MM[0])
    assert heights[-1] == round(MAP_MM[0] * MAP_W / PAGE_MM[0])
    # a row whose place and duty wrap takes more of the page than a one-line row
    place, duty = "龙岗大道 / 如意路 (centre of G1-05-05) 附近", "巡逻热点（第2次）：纠纷"
    long = (*row[:5], place * 2, duty * 4)
    assert group_map_height([long] * 12, 4, []) < group_map_height([row] * 12, 4, [])


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_group_sheet_is_one_a4_page(demo: District, demo_plan: DayPlan, lang: str) -> None:
    from weasyprint import HTML

    window = demo_plan.windows[-1].window.label()
    groups = [
        r.group.id for wp in demo_plan.windows if wp.window.label() == window for r in wp.routes
    ]
    stops = max(len(r.stops) for wp in demo_plan.windows for r in wp.routes)
    assert len(groups) >= 4 and stops >= 12
    text = sheets_html(demo_plan, demo, window=window, group_ids=groups, phones=True, lang=lang)
    pages = HTML(string=text).render().pages
    assert len(pages) == len(groups)


@pytest.mark.slow
def test_cell_overview_draws_short_routes_over_long_ones(
    demo: District, demo_plan: DayPlan
) -> None:
    wp = max(demo_plan.windows, key=lambda wp: len(wp.routes))
    assert len({r.distance_m for r in wp.routes}) >= 2
    styles = group_styles(demo_plan, CellIndex.from_district(demo))
    label = wp.window.label()
    drawn = re.findall(
        r'stroke="(#[0-9a-fA-F]{6})" stroke-width="3.2"', cell_sheet(demo_plan, demo, wp)
    )
    longest_first = sorted(wp.routes, key=lambda r: -r.distance_m)
    assert drawn == [styles[(label, r.group.id)].colour for r in longest_first]
