"""``patrol week`` and ``patrol ledger`` end to end on the demo (small budget, one cell)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from optimizer.cli import main
from optimizer.operations.ledger import Ledger
from optimizer.outputs.plan_io import plan_from_dict
from optimizer.synthetic.tracks import route_track, write_track_gpx

SMALL = ["--window", "19:00-23:00", "--grid-level", "1", "--budget", "0.05", "--no-maps"]


@pytest.mark.slow
def test_week_then_next_days_then_ledger(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = tmp_path / "week1"
    code = main(["week", str(demo_dir), "--start", "2026-11-30", "--days", "2", "--out",
                 str(first), "--quiet", *SMALL])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "people over their weekly cap: 0" in printed and "duties per volunteer" in printed
    for day in ("2026-11-30", "2026-12-01"):
        assert (first / day / "plan.json").is_file() and (first / day / "schedule.csv").is_file()
    people = pd.read_csv(first / "people.csv")
    assert {"hours 2026-11-30", "hours 2026-W49", "rest_days", "cap"} <= set(people.columns)
    assert (first / "people.xlsx").is_file()
    ledger = Ledger.read_csv(first / "ledger.csv")
    assert len(ledger.days()) == 2

    # the next day of the ISO week, with the first call's ledger
    second = tmp_path / "week2"
    code = main(["week", str(demo_dir), "--start", "2026-12-02", "--days", "1", "--ledger",
                 str(first / "ledger.csv"), "--out", str(second), "--quiet", *SMALL])  # fmt: skip
    assert code == 0, capsys.readouterr().out
    both = Ledger.read_csv(second / "ledger.csv")
    assert len(both.days()) == 3
    caps = {v: c for v, c in zip(people["person_id"], people["cap"], strict=True) if c == c}
    week = both.week_table()
    week = week[(week["role"] == "volunteer") & (week["week"] == "2026-W49")]
    assert all(h <= caps[p] + 1e-9 for p, h in zip(week["person_id"], week["hours"], strict=True))

    # the ledger from the stored plan folders and a track: planned and actual duties
    plan = plan_from_dict(json.loads((first / "2026-11-30" / "dayplan.json").read_text("utf-8")))
    route = plan.routes[0]
    gpx = write_track_gpx(route_track(route), plan, tmp_path / f"{route.group.id}.gpx")
    out = tmp_path / "ledger" / "ledger.csv"
    code = main(["ledger", str(demo_dir), "--plans", str(first), str(second), "--tracks",
                 str(gpx), "--out", str(out)])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0, printed
    built = Ledger.read_csv(out)
    assert len(built.days()) == 3
    actual = built.hours_by_person(source="actual")
    assert sorted(actual["person_id"]) == sorted(route.group.members)
    assert "actual duties on 1 days" in printed
    assert (out.parent / "people.csv").is_file()


def test_week_and_ledger_bad_input(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for args, field in (
        (["week", str(demo_dir), "--start", "2026-11-30", "--days", "0"], "--days"),
        (["week", str(demo_dir), "--start", "30.11.2026"], "--date"),
        (["week", str(demo_dir), "--start", "2026-11-30", "--ledger", "nope.csv"], "--ledger"),
        (["week", str(demo_dir), "--start", "2026-11-30", "--budget", "-1"], "--budget"),
        (["ledger", str(demo_dir), "--plans", str(tmp_path)], "--plans[0]"),
    ):
        assert main(args) == 2
        assert f"error: {field}" in capsys.readouterr().err, args
