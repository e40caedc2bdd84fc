"""Roster validation in resources_from_json, and CLI smoke tests (roster, district time zone)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from optimizer.cli import main as patrol
from optimizer.errors import InputError
from optimizer.staff.roster import resources_from_json
from optimizer.storage import load_district
from tests.roster_fixtures import save_tiny_district

BASE: dict[str, Any] = {
    "stations": [
        {"id": "S1", "lon": 114.2, "lat": 22.69},
        {"id": "S2", "lon": 114.21, "lat": 22.69},
    ],
    "officers": [{"id": "O1", "station_id": "S1", "shifts": [{"window": "07:00-11:00"}]}],
    "teams": [
        {"id": "T1", "home_grid": "A-1", "base_station_id": "S1", "members": [{"id": "V1"}]},
        {"id": "T2", "home_grid": "A-2", "base_station_id": "S2", "members": [{"id": "V2"}]},
    ],
    "posts": [
        {"id": "P1", "lon": 114.2, "lat": 22.69, "grid_id": "A-1", "windows": ["07:20-08:00"]}
    ],
    "muster_points": [{"id": "M1", "lon": 114.2, "lat": 22.69}],
}


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("stations", 1, "id"), "S1", "stations[1].id"),
        (("teams", 1, "id"), "T1", "teams[1].id"),
        (("teams", 1, "members", 0, "id"), "V1", "teams[1].members[0].id"),
        (("stations", 0, "lon"), float("nan"), "stations[0].lon"),
        (("posts", 0, "lat"), float("inf"), "posts[0].lat"),
        (("posts", 0, "weekdays"), [0, 7], "posts[0].weekdays"),
        (("teams", 0, "members", 0, "max_hours_week"), -1, "teams[0].members[0].max_hours_week"),
    ],
)
def test_resources_from_json_rejects_duplicates_and_bad_numbers(
    path: tuple[Any, ...], value: Any, field: str
) -> None:
    data = copy.deepcopy(BASE)
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(InputError) as err:
        resources_from_json(data)
    assert err.value.field == field
    if field.endswith(".id"):
        assert "already used by" in err.value.accepted


def test_duplicate_posts_officers_and_muster_points_are_rejected() -> None:
    for kind in ("posts", "officers", "muster_points"):
        data = copy.deepcopy(BASE)
        data[kind].append(copy.deepcopy(data[kind][0]))
        with pytest.raises(InputError) as err:
            resources_from_json(data)
        assert err.value.field == f"{kind}[1].id"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    save_tiny_district(tmp_path / "data")
    return tmp_path / "data"


def test_cli_generate_template_import_export(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = ["--data-dir", str(data_dir)]
    code = patrol(["roster", "generate", "tiny", "--officers", "12", "--volunteers", "30", *d])
    assert code == 0
    assert "12 officers" in capsys.readouterr().out
    res = load_district("tiny", data_dir=data_dir).resources
    assert len(res.officers) == 12 and len(res.volunteers) == 30
    assert all("\u4e00" <= o.name[0] <= "\u9fff" for o in res.officers)  # Asia/Shanghai
    assert patrol(["roster", "export", "tiny", str(tmp_path / "out.xlsx"), *d]) == 0
    assert patrol(["roster", "import", "tiny", str(tmp_path / "out.xlsx"), *d]) == 0
    assert "officers: 12 of 12 rows imported" in capsys.readouterr().out
    template = tmp_path / "t.xlsx"
    assert patrol(["roster", "template", "--lang", "en", str(template)]) == 0
    assert openpyxl.load_workbook(template).sheetnames[0] == "notes"
    # Rows left out: exit 1 and a CSV report; --strict: exit 2 and nothing stored.
    bad = tmp_path / "officers.csv"
    bad.write_text(
        "id,name,station,shift,mode\nO1,Li,S1,07:00-11:00,foot\nO2,Wang,S1,whenever,foot\n",
        encoding="utf-8",
    )
    before = (data_dir / "tiny" / "resources.json").read_bytes()
    report = tmp_path / "problems.csv"
    assert (
        patrol(["roster", "import", "tiny", str(bad), "--strict", "--report", str(report), *d]) == 2
    )
    assert (data_dir / "tiny" / "resources.json").read_bytes() == before
    assert "row 3" in capsys.readouterr().err
    assert patrol(["roster", "import", "tiny", str(bad), *d]) == 1
    assert len(load_district("tiny", data_dir=data_dir).resources.officers) == 1
    assert patrol(["roster", "import", "tiny", str(tmp_path / "missing.csv"), *d]) == 2
    assert "file" in capsys.readouterr().err


def test_district_import_time_zone_is_given_or_derived_and_printed(
    shared_osm: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    osm = str(shared_osm / "shanghai_fengxian.osm")
    common = ["--osm", osm, "--auto-grids", "1,2,2", "--data-dir", str(tmp_path)]
    assert patrol(["district", "import", "bad", *common, "--timezone", "Asia/Shangai"]) == 2
    err = capsys.readouterr().err
    assert "timezone" in err and "Asia/Shanghai" in err  # the did-you-mean
    assert not (tmp_path / "bad").exists()
    assert patrol(["district", "import", "fx", *common, "--quiet", "--posts", "3"]) == 0
    assert "time zone Asia/Shanghai (derived from the location)" in capsys.readouterr().err
    meta = json.loads((tmp_path / "fx" / "metadata.json").read_text(encoding="utf-8"))
    assert (
        meta["timezone"] == "Asia/Shanghai"
        and meta["timezone_source"] == "derived from the location"
    )
    assert meta["roster_scale"]["posts"] == 3
    assert (
        patrol(["district", "import", "fx2", *common, "--quiet", "--timezone", "Asia/Urumqi"]) == 0
    )
    meta = json.loads((tmp_path / "fx2" / "metadata.json").read_text(encoding="utf-8"))
    assert meta["timezone"] == "Asia/Urumqi" and meta["timezone_source"] == "given"
