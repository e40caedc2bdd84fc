"""A fortnight of operations on the demo: plans, tracks, field reports and an alert close the loop.

Protocol
--------
District
    The demo (real central-Helsinki streets, synthetic grids, incident history and roster),
    built for ``--start`` (its history ends the day before) in a temporary folder.
Days and windows
    ``--days`` consecutive days (default 14) from ``--start`` (default Monday 2026-11-30, so
    the fortnight spans two ISO weeks), windows ``--windows`` (default 07:00-11:00 and
    19:00-23:00), every level-3 cell, seed ``--seed`` (0), ``PlanParams(budget_s=--budget)``
    (0.2; a deterministic work budget).
Each day
    1. **Plan** with ``plan_day``: the volunteers' hours of the ISO week so far from the
       ledger (``Ledger.week_hours``: caps hold across days and weeks), the day before as
       ``previous``, and the adjustments of what happened so far: the dosage deficits of every
       earlier day (``DosageDeficit``), the clues reported so far (``ClueSignal``, weight 0.5),
       the alert while it runs (``AlertRisk``).
    2. **Tracks**: a synthetic handheld track of every route (``route_track``) with
       deviations drawn from the seed: each hotspot stop skipped with probability 0.15, a
       route set off 20 minutes late for one stop with probability 0.2, stays cut to 60 % with
       probability 0.2. Matched to the plan (``match_tracks``) → stop status, dosage, deficits.
    3. **Ledger**: the planned and the actual duties of the day (``ledger_from_plan``,
       ``ledger_from_actuals``).
    4. **Reports**: three clues a day at places of the next day's incidents (an informative
       signal) and two hazards at random street nodes, each fixed two to four days later.
    The **alert** is raised on day 6 at the place of the day's most valuable hotspot of the
    evening window, for days 6-8, radius 200 m, factor 3.
Controls
    Every day with places under-served the day before is planned again without the dosage
    deficits (everything else equal, the whole district, same seed); each alert day again
    without the alert. **Presence** at a place = minutes of planned hotspot stops (arrival +
    wait to departure) within 150 m of it in that window.
Figures
    ``deficit_presence`` (minutes at the under-served places the next day) with and without
    the deficits, and the share of places that got more; ``alert_presence`` with and without
    the alert; ``over_cap``: volunteer-weeks over ``max_hours_week`` (target 0);
    ``ledger_hours_match``: planned patrol hours in the ledger equal the plans' (window hours
    × members); ``statistics_match``: the statistics' person-times and hours equal the ledger's
    rows; stop status counts; wall time.
Command
    ``python benchmarks/fortnight.py [--days 14] [--start 2026-11-30] [--budget 0.2]``
Output
    Progress on stderr; the last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optimizer.district import District  # noqa: E402
from optimizer.operations.alerts import Alert, AlertRisk, make_alert  # noqa: E402
from optimizer.operations.ledger import Ledger, ledger_from_actuals, ledger_from_plan  # noqa: E402
from optimizer.operations.reports import ClueSignal, FieldReport, make_report  # noqa: E402
from optimizer.operations.tracks import (  # noqa: E402
    DosageDeficit,
    HotspotDosage,
    PlanActuals,
    match_tracks,
)
from optimizer.plan.build import HotspotAdjustment  # noqa: E402
from optimizer.plan.day import plan_day  # noqa: E402
from optimizer.plan.params import PlanParams  # noqa: E402
from optimizer.plan.types import DayPlan  # noqa: E402
from optimizer.staff.groups import window_hours  # noqa: E402
from optimizer.synthetic.tracks import route_track  # noqa: E402
from optimizer.timewindow import TimeWindow  # noqa: E402

PRESENCE_RADIUS_M = 150.0
CLUE_WEIGHT = 0.5
ALERT_DAY = 5
"""Index of the alert's first day (the sixth day)."""
ALERT_DAYS = 3


def log(message: str) -> None:
    """Print a progress line on stderr."""
    print(message, file=sys.stderr, flush=True)


def build_demo(start: dt.date, folder: Path) -> District:
    """Build the demo for ``start`` (its history ends the day before) in ``folder``."""
    from optimizer.synthetic.demo import build_demo_district

    return build_demo_district(folder / "demo", today=start)


def fortnight_incidents(
    district: District, *, start: dt.date, days: int, seed: int
) -> pd.DataFrame:
    """Return synthetic incidents of the simulated days (the next days' truth), local times."""
    from optimizer.synthetic.incidents import synthetic_incidents

    tz = str(district.metadata.get("timezone") or "UTC")
    end = start + dt.timedelta(days=days - 1)
    frame = synthetic_incidents(
        district.graph, district.grids, start=start, end=end, seed=seed + 101, tz=tz
    )
    return pd.DataFrame(frame.drop(columns="geometry"))


def deviated_tracks(plan: DayPlan, rng: np.random.Generator) -> list[Any]:
    """Return a synthetic track of every route of ``plan`` with deviations (see the protocol)."""
    tracks = []
    for route in plan.routes:
        hot = [s.sequence for s in route.stops if s.kind == "hotspot"]
        skip = {k for k in hot if rng.random() < 0.15}
        late = {int(rng.choice(hot)): 20.0} if hot and rng.random() < 0.2 else {}
        share = 0.6 if rng.random() < 0.2 else 1.0
        tracks.append(route_track(route, skip=skip, late=late, dwell_share=share))
    return tracks


def day_reports(
    district: District,
    incidents: pd.DataFrame,
    *,
    day: dt.date,
    rng: np.random.Generator,
    tz: Any,
) -> list[FieldReport]:
    """Three clues at places of the next day's incidents and two hazards at random nodes."""
    out: list[FieldReport] = []
    times = pd.to_datetime(incidents["occurred_at"])
    local = times.dt.tz_convert(tz).dt.tz_localize(None) if times.dt.tz is not None else times
    tomorrow = incidents[(local.dt.date == day + dt.timedelta(days=1)).to_numpy()]
    for k in range(min(3, len(tomorrow))):
        row = tomorrow.iloc[int(rng.integers(len(tomorrow)))]
        out.append(
            make_report(
                id=f"C{day:%Y%m%d}-{k}",
                kind="clue",
                category="suspicious",
                time=dt.datetime.combine(day, dt.time(12, 0)),
                lon=float(row["lon"]) + float(rng.normal(0, 2e-4)),
                lat=float(row["lat"]) + float(rng.normal(0, 1e-4)),
                text="someone trying car doors",
                timezone=tz,
            )
        )
    nodes = list(district.graph.nodes)
    for k in range(2):
        node = district.graph.nodes[nodes[int(rng.integers(len(nodes)))]]
        fixed = dt.datetime.combine(day + dt.timedelta(days=int(rng.integers(2, 5))), dt.time(10))
        out.append(
            make_report(
                id=f"H{day:%Y%m%d}-{k}",
                kind="hazard",
                category="broken_light",
                time=dt.datetime.combine(day, dt.time(15, 0)),
                lon=float(node["lon"]),
                lat=float(node["lat"]),
                text="street light out",
                status="fixed",
                fixed_at=fixed,
                timezone=tz,
            )
        )
    return out


def presence(
    plan: DayPlan, district: District, places: Sequence[tuple[str, float, float]]
) -> float:
    """Planned hotspot minutes within :data:`PRESENCE_RADIUS_M` of the places.

    ``places`` are ``(window label, x, y)`` in the district's projected coordinates.
    """
    total = 0.0
    for wp in plan.windows:
        label = wp.window.label()
        mine = [(x, y) for w, x, y in places if w == label]
        if not mine:
            continue
        for route in wp.routes:
            for s in route.stops:
                if s.kind != "hotspot":
                    continue
                sx, sy = projected(district, s.lon, s.lat)
                if any(math.hypot(sx - x, sy - y) <= PRESENCE_RADIUS_M for x, y in mine):
                    minutes = (s.departure - s.arrival).total_seconds() / 60 - s.wait_min
                    total += max(0.0, minutes)
    return total


def alert_for(plan: DayPlan, *, start: dt.date, tz: Any) -> Alert | None:
    """The protocol's alert: at the evening's most valuable hotspot, for three days."""
    evening = [w for w in plan.windows if w.window.start.hour >= 17 and w.hotspots]
    if not evening:
        return None
    top = max(evening[0].hotspots, key=lambda h: h.value)
    first = dt.datetime.combine(start, evening[0].window.start)
    return make_alert(
        id="A-fortnight",
        text="pickpocket seen near the station",
        lon=top.lon,
        lat=top.lat,
        start=first,
        end=first + dt.timedelta(days=ALERT_DAYS - 1, hours=4),
        radius_m=200.0,
        factor=3.0,
        timezone=tz,
    )


@dataclass
class Fortnight:
    """The simulation's state: what happened so far, and the figures gathered."""

    district: District
    truth: pd.DataFrame
    windows: tuple[TimeWindow, ...]
    params: PlanParams
    seed: int
    rng: np.random.Generator
    ledger_frames: list[pd.DataFrame] = field(default_factory=list)
    deficits: list[HotspotDosage] = field(default_factory=list)
    reports: list[FieldReport] = field(default_factory=list)
    alert: Alert | None = None
    alert_until: dt.date | None = None
    plans: list[DayPlan] = field(default_factory=list)
    actuals: list[PlanActuals] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=lambda: dict.fromkeys(FIGURES, 0.0))

    def ledger(self) -> Ledger:
        """The ledger of the days simulated so far."""
        return Ledger(pd.concat(self.ledger_frames, ignore_index=True))

    def adjustments(
        self, day: dt.date, *, with_deficit: bool = True, with_alert: bool = True
    ) -> list[HotspotAdjustment]:
        """What happened so far, as the adjustments of ``day``'s plan."""
        out: list[HotspotAdjustment] = []
        if with_deficit and self.deficits:
            out.append(DosageDeficit(tuple(self.deficits)))
        clues = tuple(r for r in self.reports if r.kind == "clue")
        if clues:
            out.append(ClueSignal(clues, weight=CLUE_WEIGHT))
        running = self.alert_until is not None and day <= self.alert_until
        if with_alert and self.alert is not None and running:
            out.append(AlertRisk((self.alert,)))
        return out

    def plan(self, day: dt.date, **which: bool) -> DayPlan:
        """Plan ``day`` with the week's hours, the day before and the adjustments ``which``."""
        hours = self.ledger().week_hours(day) if self.ledger_frames else {}
        return plan_day(
            self.district,
            day=day,
            windows=self.windows,
            params=self.params,
            seed=self.seed,
            previous=self.plans[-1] if self.plans else None,
            volunteer_hours=hours,
            adjustments=self.adjustments(day, **which),
        )

    def step(self, i: int, day: dt.date) -> None:
        """Simulate one day: plan (and its controls), tracks, ledger, reports."""
        plan = self.plan(day)
        if i == ALERT_DAY and self.alert is None:
            self.alert = alert_for(plan, start=day, tz=self.district.timezone)
            self.alert_until = day + dt.timedelta(days=ALERT_DAYS - 1)
            plan = self.plan(day)
        self.deficit_controls(day, plan)
        self.alert_controls(day, plan)
        matched = match_tracks(plan, deviated_tracks(plan, self.rng), district=self.district)
        self.deficits.extend(matched.deficits())
        resources = self.district.resources
        self.ledger_frames.append(ledger_from_plan(plan, resources=resources))
        self.ledger_frames.append(ledger_from_actuals(matched, plan=plan, resources=resources))
        self.reports.extend(
            day_reports(self.district, self.truth, day=day, rng=self.rng, tz=self.district.timezone)
        )
        self.plans.append(plan)
        self.actuals.append(matched)
        log(f"{day}: {len(plan.routes)} routes, {len(matched.deficits())} hotspots under-served")

    def deficit_controls(self, day: dt.date, plan: DayPlan) -> None:
        """Presence at yesterday's under-served places with and without the deficits."""
        yesterday = [
            (d.window, d.x, d.y) for d in self.deficits if d.day == day - dt.timedelta(days=1)
        ]
        if not yesterday:
            return
        control = self.plan(day, with_deficit=False)
        self.figures["deficit_with_min"] += presence(plan, self.district, yesterday)
        self.figures["deficit_without_min"] += presence(control, self.district, yesterday)
        for place in yesterday:
            more = presence(plan, self.district, [place]) > presence(
                control, self.district, [place]
            )
            less = presence(plan, self.district, [place]) < presence(
                control, self.district, [place]
            )
            self.figures["deficit_places_more"] += int(more)
            self.figures["deficit_places_less"] += int(less)
            self.figures["deficit_places"] += 1

    def alert_controls(self, day: dt.date, plan: DayPlan) -> None:
        """Presence at the alerted place with and without the alert, while it runs."""
        if self.alert is None or self.alert_until is None or day > self.alert_until:
            return
        control = self.plan(day, with_alert=False)
        x, y = projected(self.district, self.alert.lon, self.alert.lat)
        spots = [(w.label(), x, y) for w in self.windows if self.alert_overlaps(day, w)]
        self.figures["alert_with_min"] += presence(plan, self.district, spots)
        self.figures["alert_without_min"] += presence(control, self.district, spots)

    def alert_overlaps(self, day: dt.date, window: TimeWindow) -> bool:
        """Whether the alert runs during ``window`` of ``day``."""
        assert self.alert is not None
        start, end = window.on(day)
        return bool(self.alert.start < end and start < self.alert.end)


FIGURES = (
    "deficit_with_min",
    "deficit_without_min",
    "deficit_places_more",
    "deficit_places_less",
    "deficit_places",
    "alert_with_min",
    "alert_without_min",
)


def run(
    *, start: dt.date, days: int, windows: Sequence[str], budget: float, seed: int
) -> dict[str, Any]:
    """Simulate the fortnight; return the figures (see the protocol)."""
    t0 = time.perf_counter()
    district = build_demo(start, Path(tempfile.mkdtemp(prefix="fortnight-")))
    sim = Fortnight(
        district=district,
        truth=fortnight_incidents(district, start=start, days=days, seed=seed),
        windows=tuple(TimeWindow.parse(w) for w in windows),
        params=PlanParams(budget_s=budget),
        seed=seed,
        rng=np.random.default_rng(seed),
    )
    for i in range(days):
        sim.step(i, start + dt.timedelta(days=i))
    ledger = sim.ledger()
    f = sim.figures
    return {
        "days": days,
        "windows": list(windows),
        "wall_s": round(time.perf_counter() - t0, 1),
        "deficit_presence_min": {
            "with": round(f["deficit_with_min"], 1),
            "without": round(f["deficit_without_min"], 1),
        },
        "deficit_places": {
            "more": int(f["deficit_places_more"]),
            "less": int(f["deficit_places_less"]),
            "all": int(f["deficit_places"]),
        },
        "alert_presence_min": {
            "with": round(f["alert_with_min"], 1),
            "without": round(f["alert_without_min"], 1),
        },
        "over_cap": len(ledger.caps_exceeded(district.resources)),
        "ledger_hours": ledger_hours(ledger),
        "plan_hours": round(sum(planned_hours(p) for p in sim.plans), 2),
        "ledger_rows": len(ledger.to_frame()),
    }


def planned_hours(plan: DayPlan) -> float:
    """Person-hours of patrol the plan gives (window hours x members of every route)."""
    return sum(window_hours(r.group.window) * len(r.group.members) for r in plan.routes)


def ledger_hours(ledger: Ledger) -> dict[str, float]:
    """Patrol hours in the ledger, planned and actual."""
    frame = ledger.to_frame()
    patrol = frame[frame["duty"] == "patrol"]
    return {k: round(float(v), 2) for k, v in patrol.groupby("source")["hours"].sum().items()}


def projected(district: District, lon: float, lat: float) -> tuple[float, float]:
    """Return the place in the district's projected coordinates."""
    from pyproj import Transformer

    to_xy = Transformer.from_crs("EPSG:4326", district.crs, always_xy=True)
    x, y = to_xy.transform(lon, lat)
    return float(x), float(y)


def main(argv: list[str] | None = None) -> int:
    """Run the fortnight and print its figures (the last line is one JSON object)."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2026, 11, 30))
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--windows", nargs="+", default=["07:00-11:00", "19:00-23:00"])
    ap.add_argument("--budget", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    out = run(
        start=args.start, days=args.days, windows=args.windows, budget=args.budget, seed=args.seed
    )
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
