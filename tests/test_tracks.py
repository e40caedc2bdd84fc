"""What was patrolled: hand-made GPX tracks with known dosage matched to the demo plan."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import Path

import gpxpy.gpx
import pytest

from optimizer.district import District
from optimizer.errors import InputError
from optimizer.operations.tracks import (
    LATE,
    MADE,
    MISSED,
    CheckIn,
    DosageDeficit,
    HotspotDosage,
    Track,
    TrackParams,
    match_tracks,
    read_checkins,
    read_gpx,
)
from optimizer.outputs.times import aware
from optimizer.plan.types import DayPlan, GroupRoute, Stop, WindowPlan
from optimizer.synthetic.tracks import route_track, write_track_gpx
from tests.conftest import DEMO_DAY

STEP = dt.timedelta(seconds=20)


def _first_route(plan: DayPlan) -> tuple[WindowPlan, GroupRoute]:
    """A route with a post and at least three hotspot stops at different sites."""
    for wp in plan.windows:
        for r in wp.routes:
            kinds = [s.kind for s in r.stops]
            sites = {s.site_id for s in r.stops if s.kind == "hotspot"}
            if "post" in kinds and len(sites) >= 3:
                return wp, r
    raise AssertionError("the demo plan has no route with a post and three hotspots")


def _stay(start: dt.datetime, minutes: float, stop: Stop) -> list[tuple[dt.datetime, float, float]]:
    """Points every 20 s for ``minutes`` jittering a few metres around ``stop``."""
    n = round(minutes * 60 / STEP.total_seconds())
    out = []
    for i in range(n + 1):
        jitter = 3e-5 * math.sin(i)  # about 3 m
        out.append((start + i * STEP, stop.lon + jitter, stop.lat - jitter))
    return out


def _gpx_file(plan: DayPlan, points: list[tuple[dt.datetime, float, float]], path: Path) -> Path:
    """Write the points as a handheld would: a GPX track, times in UTC (``Z``)."""
    gpx = gpxpy.gpx.GPX()
    trk = gpxpy.gpx.GPXTrack()
    seg = gpxpy.gpx.GPXTrackSegment()
    for t, lon, lat in points:
        utc = aware(plan, t).astimezone(dt.UTC)
        seg.points.append(gpxpy.gpx.GPXTrackPoint(lat, lon, time=utc))
    trk.segments.append(seg)
    gpx.tracks.append(trk)
    path.write_text(gpx.to_xml(), encoding="utf-8")
    return path


def test_hand_made_track_dosage_missed_and_late(
    demo: District, demo_plan: DayPlan, tmp_path: Path
) -> None:
    wp, route = _first_route(demo_plan)
    hot = [s for s in route.stops if s.kind == "hotspot"]
    a = hot[0]
    b = next(s for s in hot if s.site_id != a.site_id)
    post = next(s for s in route.stops if s.kind == "post")
    # 15 minutes at the first hotspot from its planned arrival; the post 25 minutes late
    dwell = 15.0
    points = _stay(a.arrival + dt.timedelta(minutes=a.wait_min), dwell, a)
    post_start = post.arrival + dt.timedelta(minutes=post.wait_min + 25)
    points += _stay(post_start, 20.0, post)
    # named by the file, as write_gpx names a group's file
    gpx = _gpx_file(demo_plan, points, tmp_path / f"{route.group.id}.gpx")
    track = read_gpx(gpx, plan=demo_plan)
    assert track.group_id == route.group.id
    assert track.times[0] == points[0][0]  # UTC read back as the district's local time

    checkins = [CheckIn(route.group.id, b.site_id, b.arrival + dt.timedelta(minutes=3))]
    actuals = match_tracks(demo_plan, [track], district=demo, checkins=checkins)
    stops = actuals.to_frame()
    mine = stops[stops["group"] == route.group.id].set_index("sequence")

    first = mine.loc[a.sequence]
    assert first["status"] == MADE
    assert first["dosage_min"] == pytest.approx(dwell, abs=0.5)
    assert first["late_min"] == pytest.approx(0.0, abs=0.5)

    at_post = mine.loc[post.sequence]
    assert at_post["status"] == LATE
    assert at_post["late_min"] == pytest.approx(25.0, abs=0.5)
    assert at_post["dosage_min"] == pytest.approx(20.0, abs=0.5)

    checked = mine.loc[b.sequence]
    assert checked["status"] == MADE and bool(checked["checked_in"])
    assert checked["dosage_min"] == 0.0

    made_elsewhere = {a.sequence, b.sequence, post.sequence}
    others = mine.drop(index=list(made_elsewhere))
    far = [
        s.sequence
        for s in route.stops
        if s.sequence in others.index
        and all(math.hypot(s.lon - p.lon, s.lat - p.lat) > 0.002 for p in (a, post))
    ]
    assert far, "expected stops far from the places stayed at"
    assert set(others.loc[far, "status"]) == {MISSED}

    group = actuals.groups_frame().set_index("group").loc[route.group.id]
    assert group["tracked"] and group["points"] == len(points)
    assert group["late"] >= 1 and group["missed"] >= len(far)
    assert group["on_street_share"] > 0.5
    # the first hotspot's dosage in the window counts every group's minutes there
    dosage = actuals.hotspots_frame()
    row = dosage[(dosage["window"] == wp.window.label()) & (dosage["hotspot_id"] == a.site_id)]
    assert float(row["actual_min"].iloc[0]) >= dwell - 0.5
    under = {d.hotspot_id for d in actuals.deficits() if d.window == wp.window.label()}
    assert b.site_id in under  # a check-in proves presence, not minutes
    cells = actuals.cells_frame()
    assert int(cells["stops"].sum()) == len(stops)
    assert int(actuals.day_frame()["missed"].iloc[0]) == int((stops["status"] == MISSED).sum())


def test_planned_track_makes_every_stop_and_follows_the_route(
    demo: District, demo_plan: DayPlan, tmp_path: Path
) -> None:
    _, route = _first_route(demo_plan)
    track = route_track(route)
    path = write_track_gpx(track, demo_plan, tmp_path / "device-7.gpx")
    read = read_gpx(path, plan=demo_plan)  # the track's name is the group id
    actuals = match_tracks(demo_plan, [read], district=demo)
    g = actuals.groups_frame().set_index("group").loc[route.group.id]
    assert g["missed"] == 0 and g["late"] == 0
    assert g["off_route_share"] < 0.05
    assert g["route_covered_share"] > 0.9
    assert g["actual_km"] == pytest.approx(g["planned_km"], rel=0.25)


def test_track_off_the_route(demo: District, demo_plan: DayPlan) -> None:
    _, route = _first_route(demo_plan)
    track = route_track(route)
    shifted = Track(
        track.group_id, track.times, track.lon, tuple(y + 0.03 for y in track.lat)
    )  # about 3 km north, off the district
    actuals = match_tracks(demo_plan, [shifted], district=demo)
    g = actuals.groups_frame().set_index("group").loc[route.group.id]
    assert g["off_route_share"] > 0.9
    assert g["route_covered_share"] < 0.1
    assert g["missed"] == g["stops"]


def test_bad_files_name_the_field(demo_plan: DayPlan, tmp_path: Path) -> None:
    bad = tmp_path / "x.gpx"
    bad.write_text("not a gpx", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_gpx(bad, plan=demo_plan)
    assert err.value.field == "file"
    _, route = _first_route(demo_plan)
    good = write_track_gpx(route_track(route), demo_plan, tmp_path / "g.gpx")
    with pytest.raises(InputError) as err:
        read_gpx(good, plan=demo_plan, group_id="nobody")
    assert err.value.field == "group"
    site = next(s.site_id for s in route.stops if s.kind == "hotspot")
    csv = f"group,site,time\n{route.group.id},{site},yesterday\n".encode()
    with pytest.raises(InputError) as err:
        read_checkins(csv, plan=demo_plan)
    assert err.value.field == "checkins[0].time"
    csv = f"group,site,time\n{route.group.id},nowhere,2026-11-30T08:00\n".encode()
    with pytest.raises(InputError) as err:
        read_checkins(csv, plan=demo_plan)
    assert err.value.field == "checkins[0].site"
    ok = f"group,site,time\n{route.group.id},{site},2026-11-30T08:00+02:00\n".encode()
    (check,) = read_checkins(ok, plan=demo_plan)
    assert check.time == dt.datetime(2026, 11, 30, 8, 0)
    with pytest.raises(InputError) as err:
        TrackParams(radius_m=-1)
    assert err.value.field == "radius_m"


def _deficit(day: dt.date, served: float) -> HotspotDosage:
    return HotspotDosage(day, "19:00-23:00", "G", "H", 0.0, 0.0, 0.0, 0.0, 1.0, 10.0, 10 * served)


def test_deficit_weight_decays() -> None:
    adj = DosageDeficit((_deficit(DEMO_DAY, 0.0),), half_life_days=1.0, max_raise=1.0)
    assert adj.weight(adj.deficits[0], DEMO_DAY) == 0.0  # not on its own day
    assert adj.weight(adj.deficits[0], DEMO_DAY + dt.timedelta(days=1)) == 1.0
    assert adj.weight(adj.deficits[0], DEMO_DAY + dt.timedelta(days=2)) == 0.5
    half = DosageDeficit((_deficit(DEMO_DAY, 0.5),))
    assert half.weight(half.deficits[0], DEMO_DAY + dt.timedelta(days=1)) == 0.5
    with pytest.raises(InputError):
        DosageDeficit((), half_life_days=0.0)


@pytest.mark.slow
def test_deficit_raises_the_under_served_hotspot_next_day(
    demo: District, demo_plan: DayPlan
) -> None:
    from optimizer.plan.day import plan_day
    from optimizer.plan.params import PlanParams

    wp, route = _first_route(demo_plan)
    target = next(s for s in route.stops if s.kind == "hotspot")
    skip = {s.sequence for s in route.stops if s.site_id == target.site_id}
    tracks = [route_track(r, skip=skip if r is route else ()) for r in demo_plan.routes]
    actuals = match_tracks(demo_plan, tracks, district=demo)
    deficits = [d for d in actuals.deficits() if d.hotspot_id == target.site_id]
    assert deficits and deficits[0].window == wp.window.label()
    adjustment = DosageDeficit(actuals.deficits())

    next_day = DEMO_DAY + dt.timedelta(days=1)
    common = {
        "day": next_day,
        "windows": [wp.window],
        "grid_ids": [wp.grid_id],
        "seed": 3,
        "params": PlanParams(budget_s=0.2),
    }
    base = plan_day(demo, **common)  # type: ignore[arg-type]
    raised = plan_day(demo, adjustments=[adjustment], **common)  # type: ignore[arg-type]
    before = {h.id: h for w in base.windows for h in w.hotspots}
    after = {h.id: h for w in raised.windows for h in w.hotspots}
    d = deficits[0]
    near = [
        hid for hid, h in before.items() if math.hypot(h.x - d.x, h.y - d.y) <= adjustment.radius_m
    ]
    assert near, "the under-served place has no hotspot the next day"
    for hid in near:
        assert after[hid].value == pytest.approx(
            before[hid].value * adjustment.factor(before[hid], day=next_day, window=wp.window)
        )
        assert after[hid].value > 1.5 * before[hid].value
    untouched = [hid for hid in before if hid not in near]
    assert all(after[h].value == before[h].value for h in untouched)
    notes = raised.settings["notes"]
    assert any("dosage deficit" in n and near[0] in n for n in notes), notes
    assert not any("dosage deficit" in n for n in base.settings["notes"])


def test_tracks_of_unknown_groups_are_refused(demo: District, demo_plan: DayPlan) -> None:
    _, route = _first_route(demo_plan)
    track = dataclasses.replace(route_track(route), group_id="G-unknown")
    with pytest.raises(InputError) as err:
        match_tracks(demo_plan, [track], district=demo)
    assert err.value.field == "group"
