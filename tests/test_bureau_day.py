"""The bureau's day at real scale: a real extract, 91 cells, 302 officers, 690 volunteers.

Longgang from ``../shared`` (skipped where absent), imported with the public importer: auto
grids 2 / 13 / 91, a synthetic incident history and the bureau-scale synthetic roster (302
officers on three shifts at 4 stations, 690 volunteers in 15 teams, 24 school gates and their
hospital posts). One day, three windows, a small deterministic budget (quality is measured by
``benchmarks/district_day.py``; here the rules are checked).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Point

from optimizer.district import District
from optimizer.outputs.plan_io import plan_from_dict, plan_to_dict
from optimizer.plan.day import plan_day
from optimizer.plan.params import PlanParams
from optimizer.plan.types import DayPlan
from tests.conftest import once_per_session
from tests.test_plan import comparable

pytestmark = [pytest.mark.shared, pytest.mark.slow]

DAY = dt.date(2026, 11, 30)  # a Monday: the school gates are on duty
QUICK = PlanParams(budget_s=0.1)


@pytest.fixture(scope="session")
def longgang(
    shared_osm: Path, tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> District:
    from optimizer.importer import import_district
    from optimizer.storage import load_district

    def make(folder: Path) -> None:
        import_district(
            "longgang",
            shared_osm / "shenzhen_longgang.osm",
            data_dir=folder,
            auto=(2, 13, 91),
            synthetic_incidents=True,
            timezone="Asia/Shanghai",
            seed=0,
        )

    folder = once_per_session(tmp_path_factory, worker_id, "bureau-districts", make)
    return load_district(folder / "longgang")


@pytest.fixture(scope="session")
def day_plan(
    longgang: District, tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> DayPlan:
    def make(path: Path) -> None:
        plan = plan_day(longgang, day=DAY, grid_level=3, params=QUICK, workers=2)
        path.write_text(json.dumps(plan_to_dict(plan)), encoding="utf-8")

    path = once_per_session(tmp_path_factory, worker_id, "bureau-plan.json", make)
    return plan_from_dict(json.loads(path.read_text(encoding="utf-8")))


def test_the_roster_is_the_bureaus(longgang: District) -> None:
    res = longgang.resources
    assert (len(res.officers), len(res.volunteers), len(res.teams)) == (302, 690, 15)
    assert sum(1 for p in res.posts if p.purpose == "school gate") == 24
    assert (longgang.grids["level"] == 3).sum() == 91


def test_every_cell_with_demand_is_patrolled_while_officers_last(day_plan: DayPlan) -> None:
    for ws in day_plan.staffing:
        c = ws.counts
        assert c["officers_on_shift"] >= 90, ws.window  # a third of 302 on every window
        if c["officers_on_shift"] >= c["cells_with_demand"] + c["post_duties"]:
            assert c["cells_with_groups"] == c["cells_with_demand"], ws.window
        # no officer sits idle while a cell with demand has no group
        if ws.uncovered:
            assert c["officers_unused"] == 0, ws.window
        for u in ws.unassigned:
            assert u.reason, u
    uncovered = {(ws.window.label(), c) for ws in day_plan.staffing for c in ws.uncovered}
    for wp in day_plan.windows:
        if wp.hotspots and not wp.routes:
            # only a cell nobody can patrol in time, or one the staff did not stretch to
            key = (wp.window.label(), wp.grid_id)
            codes = {lo.reason.split(":")[0] for lo in wp.left_out}
            assert key in uncovered or codes <= {"no_path", "unreachable"}, (key, codes)


def test_every_reachable_post_is_staffed(day_plan: DayPlan) -> None:
    m = day_plan.metrics
    assert m["posts_required"] >= 24  # the morning school gates at least
    missed = [
        (wp.window.label(), lo.site_id, lo.reason)
        for wp in day_plan.windows
        for lo in wp.left_out
        if lo.kind == "post"
    ]
    assert m["posts_staffed"] + len(missed) == m["posts_required"]
    # a post is only left where nobody can reach it in time, and the plan says why
    assert all(re.match(r"(no_path|unreachable|no_group|post_conflict):", r) for *_, r in missed)
    assert len(missed) <= 0.05 * m["posts_required"], missed


def test_no_artefact_distances_and_groups_start_in_their_cell(
    day_plan: DayPlan, longgang: District
) -> None:
    metric = longgang.grids.to_crs(longgang.crs)
    G = longgang.graph
    nodes = list(G.nodes)
    walkable = longgang.network.connected(nodes, "foot")
    xy = shapely.points([G.nodes[n]["x"] for n in nodes], [G.nodes[n]["y"] for n in nodes])
    for wp in day_plan.windows:
        for lo in wp.left_out:
            # a reason quoting minutes quotes real ones: never more than a day
            for minutes in re.findall(r"(\d+) min", lo.reason):
                assert int(minutes) <= 24 * 60, lo
        area = metric.loc[wp.grid_id].geometry
        # in (or within 400 m of) the cell; a cell at the extract's edge whose nearest walkable
        # street lies further out starts at that street
        nearest = float(np.min(np.where(walkable, shapely.distance(xy, area), np.inf)))
        allowed_m = max(400.0, nearest + 1.0)
        for r in wp.routes:
            assert r.patrol_min <= wp.window.minutes
            start = r.stops[0]
            here = gpd.GeoSeries([Point(start.lon, start.lat)], crs="EPSG:4326")
            here = here.to_crs(longgang.crs).iloc[0]
            assert area.distance(here) <= allowed_m, (wp.grid_id, r.group.id, start.name)
            if r.group.mode == "foot":  # walked at 5 km/h at most while not at a stop
                moving_s = (r.patrol_min - r.dwell_min) * 60
                assert r.distance_m <= 1.45 * moving_s + 50, (wp.grid_id, r.group.id)


def test_the_same_seed_gives_the_same_window(longgang: District) -> None:
    kwargs = {"day": DAY, "windows": ["19:00-23:00"], "grid_level": 3, "params": QUICK}
    a = plan_day(longgang, seed=4, workers=2, **kwargs)  # type: ignore[arg-type]
    b = plan_day(longgang, seed=4, workers=1, **kwargs)  # type: ignore[arg-type]
    assert comparable(a) == comparable(b)
    assert a.metrics["time_cap_bound"] == 0
