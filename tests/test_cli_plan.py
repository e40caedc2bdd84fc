"""``patrol plan`` end to end: options, plan folder, summary table, one-line errors with exit 2."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer.cli import main
from optimizer.cli.plan_cmd import parse_date
from optimizer.errors import InputError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> Path:
    """A private districts folder holding (a link to) the session's demo district."""
    folder = tmp_path_factory.mktemp("districts")
    (folder / "demo").symlink_to(demo_dir, target_is_directory=True)
    return folder


@pytest.fixture(autouse=True)
def _data_dir_env(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATROL_DATA_DIR", str(data_dir))


@pytest.mark.slow  # a whole plan or forecast: full run only, not the fast lane
def test_plan_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plan"
    code = main(
        [
            "plan",
            "--date",
            "2026-12-01",
            "--window",
            "19:00-23:00",
            "--budget",
            "0.3",
            "--out",
            str(out),
            "--seed",
            "4",
            "--details",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "19:00-23:00" in printed and "coverage" in printed and str(out) in printed
    assert "return to muster point" in printed and "Officer" in printed  # --details: stops, names
    for name in (
        "routes.geojson",
        "schedule.csv",
        "schedule.xlsx",
        "plan.json",
        "map-1900-2300.png",
    ):
        assert (out / name).is_file(), name
    assert list((out / "gpx").glob("*.gpx"))
    routes = [
        f
        for f in json.loads((out / "routes.geojson").read_text())["features"]
        if f["geometry"]["type"] == "LineString"
    ]
    assert routes and all(len(f["geometry"]["coordinates"]) >= 2 for f in routes)
    with (out / "schedule.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["window"] for r in rows} == {"19:00-23:00"}
    assert {r["date"] for r in rows} == {"2026-12-01"}
    summary = json.loads((out / "plan.json").read_text())
    assert summary["seed"] == 4 and summary["settings"]["budget_s"] == 0.3


@pytest.mark.slow  # a whole plan or forecast: full run only, not the fast lane
def test_plan_two_windows_and_a_grid(tmp_path: Path) -> None:
    out = tmp_path / "p"
    code = main(
        [
            "plan",
            "--date",
            "2026-12-01",
            "--window",
            "07:00-11:00",
            "--window",
            "22:00-02:00",
            "--grid",
            "D-1",
            "--time-limit",
            "1",
            "--out",
            str(out),
            "--no-maps",
            "--quiet",
            "--vary",
        ]
    )
    assert code == 0
    summary = json.loads((out / "plan.json").read_text())
    assert {w["window"] for w in summary["windows"]} == {"07:00-11:00", "22:00-02:00"}
    assert {w["grid"] for w in summary["windows"]} == {"D-1"}
    assert summary["settings"]["variation"]["max_value_loss"] == pytest.approx(0.03)


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (["--window", "19:00"], "--window"),
        (["--window", "25:00-26:00"], "--window"),
        (["--date", "next friday"], "--date"),
        (["--district", "atlantis"], "--district"),
        (["--budget", "0"], "--budget"),
        (["--time-cap", "-3"], "--time-cap"),
        (["--seed", "-1"], "--seed"),
        (["--workers", "0"], "--workers"),
        (["--engine", "gurobi"], "--engine"),
        (["--grid", "Z-9"], "--grid"),
    ],
)
def test_bad_options_exit_2_with_one_line(
    argv: list[str], option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["plan", "--out", str(tmp_path / "x"), "--budget", "0.2", *argv])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert option in err and "expected" in err
    assert not (tmp_path / "x").exists()


def test_parse_date() -> None:
    today = dt.date(2026, 2, 28)
    assert parse_date("tomorrow", today=today) == dt.date(2026, 3, 1)
    assert parse_date("today", today=today) == today
    assert parse_date("2026-12-24") == dt.date(2026, 12, 24)
    with pytest.raises(InputError):
        parse_date("24.12.2026")


@pytest.mark.slow  # a whole plan or forecast: full run only, not the fast lane
def test_console_script_runs_as_a_process(tmp_path: Path, data_dir: Path) -> None:
    """The ``patrol`` entry point (``api.cli:main``) in its own process; date defaults."""
    env = {**os.environ, "PATROL_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from api.cli import main; sys.exit(main())",
            "plan",
            "--window",
            "14:00-18:00",
            "--grid",
            "D-2",
            "--time-limit",
            "1",
            "--no-maps",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    assert (tmp_path / "out" / f"plan-{tomorrow.isoformat()}" / "routes.geojson").is_file()
