"""``patrol stats`` end to end on the demo plan of DEMO_DAY, and the demo's figures adding up."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from optimizer.cli import main
from optimizer.district import District
from optimizer.operations.ledger import ledger_from_plan
from optimizer.outputs.plan_io import plan_to_dict
from optimizer.outputs.statistics import bureau_statistics, statistics_events
from optimizer.plan.types import DayPlan


def test_demo_statistics_add_up_to_the_ledger(demo: District, demo_plan: DayPlan) -> None:
    frame = ledger_from_plan(demo_plan, resources=demo.resources)
    events = statistics_events(demo, [demo_plan])
    team = bureau_statistics(frame, period="day", by="team")
    cell = bureau_statistics(frame, period="day", by="cell", **events)
    district = bureau_statistics(frame, period="day", by="district", **events)
    patrol = frame[frame["duty"] == "patrol"]
    assert len(patrol) > 0
    for col in ("person_times", "patrol_hours", "officer_times", "volunteer_times"):
        assert team[col].sum() == pytest.approx(cell[col].sum())
        assert cell[col].sum() == pytest.approx(district[col].sum())
    assert district["person_times"].sum() == len(patrol)
    assert district["patrol_hours"].sum() == pytest.approx(patrol["hours"].sum())
    posts = frame[frame["duty"] == "post"][["date", "window", "site_id"]].drop_duplicates()
    assert district["posts_staffed"].sum() == len(posts) == district["posts_planned"].sum()
    assert cell["incidents"].sum() <= district["incidents"].sum()
    row = district.iloc[0]
    assert 0 <= row["incidents_near_patrol"] <= row["incidents"]


def test_stats_cli_month_report(
    demo_dir: Path, demo_plan: DayPlan, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_file = tmp_path / "dayplan.json"
    plan_file.write_text(json.dumps(plan_to_dict(demo_plan)), encoding="utf-8")
    out = tmp_path / "stats"
    code = main(["stats", str(demo_dir), "--month", "2026-11", "--plans", str(plan_file),
                 "--by", "team", "--lang", "zh", "--out", str(out)])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "联合巡逻（人次）" in printed
    table = pd.read_csv(out / "statistics.csv")
    assert table["person_times"].sum() > 0
    wb = load_workbook(out / "report-2026-11-zh.xlsx")
    assert wb.sheetnames == ["汇总", "按队伍", "按网格", "按日"]
    assert (out / "report-2026-11-zh.pdf").read_bytes().startswith(b"%PDF")
    assert (out / "team-person-times.png").read_bytes().startswith(b"\x89PNG")


def test_stats_cli_bad_month(demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    code = main(["stats", str(demo_dir), "--month", "2026-13", "--plans", str(tmp_path),
                 "--out", str(tmp_path / "o")])  # fmt: skip
    assert code == 2
    assert "month" in capsys.readouterr().err
