"""``patrol tracks import``, ``patrol alert`` and ``patrol plan --deficits/--alert`` inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from optimizer.cli import main
from optimizer.cli.plan_cmd import read_adjustments
from optimizer.cli.reports_cmd import load_reports
from optimizer.operations.alerts import AlertRisk
from optimizer.operations.tracks import DosageDeficit
from optimizer.outputs.plan_io import plan_to_dict
from optimizer.plan.types import DayPlan
from optimizer.synthetic.tracks import route_track, write_track_gpx


@pytest.fixture
def plan_file(tmp_path: Path, demo_plan: DayPlan) -> Path:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan_to_dict(demo_plan)), encoding="utf-8")
    return path


def test_tracks_import_prints_plan_vs_actual(
    demo_dir: Path,
    demo_plan: DayPlan,
    plan_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    route = demo_plan.routes[0]
    skipped = next(s for s in route.stops if s.kind == "hotspot")
    skip = {s.sequence for s in route.stops if s.site_id == skipped.site_id}
    gpx = write_track_gpx(route_track(route, skip=skip), demo_plan, tmp_path / "a.gpx")
    other = demo_plan.routes[1]
    site = next(s for s in other.stops if s.kind == "hotspot")
    checkins = tmp_path / "checkins.csv"
    checkins.write_text(
        f"group,site,time\n{other.group.id},{site.site_id},{site.arrival.isoformat()}\n",
        encoding="utf-8",
    )
    out = tmp_path / "actuals"
    code = main(
        [
            "tracks",
            "import",
            str(demo_dir),
            demo_plan.date.isoformat(),
            str(gpx),
            str(checkins),
            "--plan",
            str(plan_file),
            "--out",
            str(out),
            "--no-maps",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "Plan vs actual" in printed and route.group.id in printed
    assert skipped.site_id in printed  # listed as under-served
    deficits = json.loads((out / "deficits.json").read_text(encoding="utf-8"))
    assert skipped.site_id in {d["hotspot_id"] for d in deficits}
    (adj,) = read_adjustments(deficits=[str(out / "deficits.json")])
    assert isinstance(adj, DosageDeficit) and adj.deficits
    for name in ("stops.csv", "groups.csv", "cells.csv", "hotspots.csv"):
        assert (out / name).is_file()


def test_tracks_import_bad_input_names_the_field(
    demo_dir: Path,
    demo_plan: DayPlan,
    plan_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    day = demo_plan.date.isoformat()
    text = tmp_path / "notes.txt"
    text.write_text("x", encoding="utf-8")
    args = ["tracks", "import", str(demo_dir), day, str(text), "--plan", str(plan_file)]
    assert main(args) == 2
    assert "FILE[0]" in capsys.readouterr().err
    assert (
        main(["tracks", "import", str(demo_dir), "2026-12-24", str(text), "--plan", str(plan_file)])
        == 2
    )
    assert "--plan" in capsys.readouterr().err


@pytest.mark.slow
def test_alert_command_replans_and_lists(
    demo_dir: Path,
    demo_plan: DayPlan,
    plan_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    wp = next(w for w in demo_plan.windows if w.window.label() == "19:00-23:00" and w.routes)
    h = wp.hotspots[0]
    out = tmp_path / "alert"
    code = main(
        [
            "alert",
            str(demo_dir),
            "--at",
            f"{h.lon},{h.lat}",
            "--from",
            f"{demo_plan.date}T19:30",
            "--to",
            f"{demo_plan.date}T21:00",
            "--text",
            "pickpocket",
            "--id",
            "A7",
            "--radius",
            "150",
            "--plan",
            str(plan_file),
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "alert A7" in printed and "Watch for: pickpocket" in printed
    assert "re-planned 1 windows" in printed
    saved = json.loads((out / f"plan-{demo_plan.date}.json").read_text(encoding="utf-8"))
    assert any("alert A7" in n for n in saved["settings"]["notes"])
    (adj,) = read_adjustments(alerts=[str(out / "alert.json")])
    assert isinstance(adj, AlertRisk) and adj.alerts[0].id == "A7"
    assert main(["alert", str(demo_dir), "--at", "x", "--from", "a", "--to", "b"]) == 2
    assert "--at" in capsys.readouterr().err


def test_reports_import_lists_bad_rows_and_writes_json(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = tmp_path / "reports.csv"
    sheet.write_text(
        "编号,类型,类别,时间,经度,纬度\n"
        "C1,线索,可疑人员,2026-11-29T18:00,24.9508,60.1676\n"
        "C2,线索,可疑人员,2026-11-29T18:30,abc,60.1676\n",
        encoding="utf-8",
    )
    out = tmp_path / "reports.json"
    assert main(["reports", "import", str(demo_dir), str(sheet), "--out", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "经度" in printed and "1 rows left out" in printed
    (clue,) = load_reports(str(out), option="--clues")
    assert clue.id == "C1" and clue.kind == "clue"
