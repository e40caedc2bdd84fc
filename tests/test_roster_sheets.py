"""Roster sheets in: Chinese and English headers, every error reported, atomic storing, template."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from optimizer.coords import wgs84_to_gcj02
from optimizer.errors import InputError
from optimizer.staff.roster import resources_to_json
from optimizer.staff.roster_sheets import build
from optimizer.staff.roster_sheets.build import (
    RosterRejectedError,
    import_roster,
    read_roster,
)
from optimizer.staff.roster_sheets.template import write_roster_sheets, write_template
from optimizer.storage import load_district
from optimizer.synthetic.people import china_id_check
from optimizer.synthetic.roster import RosterScale, synthetic_roster
from tests.roster_fixtures import save_tiny_district, tiny_grids

ID17 = "99000019900101001"
GOOD_ID = ID17 + china_id_check(ID17)


def _csv(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def _chinese_csvs(folder: Path) -> list[Path]:
    gx, gy = wgs84_to_gcj02(114.205, 22.685)
    return [
        _csv(
            folder,
            "派出所.csv",
            "编号,名称,经度,纬度,坐标系\n"
            f"S1,中心派出所,{float(gx):.7f},{float(gy):.7f},高德\n"
            "S2,新城派出所,114.215,22.695,wgs84\n",
        ),
        _csv(
            folder,
            "民警.csv",
            "警号,姓名*,手机,派出所,班次,交通方式\n"
            "O1,张伟,13800138000,中心派出所,周一至周五 06:30-14:30,步行\n"
            "O2,王芳,13900139000,S2,每天 18:30-02:30,电动车\n",
        ),
        _csv(
            folder,
            "队伍.csv",
            "队伍编号,队伍名称,类型,网格,派出所\nT1,和平保安队,保安,西南社区,\n",
        ),
        _csv(
            folder,
            "义警名单.csv",
            "编号,姓名,手机,身份证号,队伍,网格,可用时段,每周时长上限\n"
            f"V1,李娜,13700137000,{GOOD_ID},和平保安队,B-2,Mon-Fri 07:00-11:00;Sat 09:00-12:00,10\n"
            "V2,刘洋,,,T1,,周末 19:00-23:00,\n",
        ),
        _csv(
            folder,
            "岗位.csv",
            "编号,名称,类型,坐标,时段,停留分钟\n"
            'P1,和平小学校门,校门,"114.204,22.684","周一至周五 07:20-08:00,16:30-17:30",40\n',
        ),
    ]


def test_chinese_headers_in_csv_files(tmp_path: Path) -> None:
    report = read_roster(_chinese_csvs(tmp_path), tiny_grids())
    assert report.ok, report.summary()
    res = report.resources
    s1 = res.station("S1")
    # Declared GCJ-02 (高德), stored WGS-84.
    assert abs(s1.lon - 114.205) < 1e-6 and abs(s1.lat - 22.685) < 1e-6
    o1, o2 = res.officers
    assert o1.station_id == "S1" and o1.mode == "foot" and o1.shifts[0].weekdays == (0, 1, 2, 3, 4)
    assert o2.mode == "bicycle" and o2.shifts[0].window.label() == "18:30-02:30"
    (team,) = res.teams
    assert team.kind == "security guards" and team.home_grid == "A-1"
    assert team.base_station_id == "S1"  # empty: the nearest station to its home cell
    v1, v2 = team.members
    assert v1.home_grid == "B-2" and v1.id_number == GOOD_ID and v1.max_hours_week == 10
    assert [(s.window.label(), s.weekdays) for s in v1.availability] == [
        ("07:00-11:00", (0, 1, 2, 3, 4)),
        ("09:00-12:00", (5,)),
    ]
    assert v2.home_grid is None and res.home_grid(v2) == "A-1" and v2.role == "security guards"
    (post,) = res.posts
    assert post.grid_id == "A-1" and post.purpose == "school gate" and post.dwell_min == 40
    assert [w.label() for w in post.windows] == ["07:20-08:00", "16:30-17:30"]


def test_english_headers_in_one_workbook_with_a_title_row(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Stations"
    ws.append(["Police stations of the district"])  # a title row above the headers
    ws.append(["ID", "Name", "Longitude", "Latitude"])
    ws.append(["S1", "Central", 114.205, 22.685])
    officers = book.create_sheet("Officers")
    officers.append(["Officer ID", "Full name", "Mobile", "Station", "Shift", "Travel mode"])
    officers.append(["O1", "Li Wei", 13800138000, "Central", "Mon-Fri 06:30-14:30", "Car"])
    posts = book.create_sheet("list")  # no telling name: recognised by its headers
    posts.append(["Post ID", "Name", "Purpose", "Location", "Windows", "Days", "Dwell"])
    posts.append(["P1", "Gate", "school", "114.214, 22.694", "07:20-08:00", "weekdays", "30 min"])
    path = tmp_path / "roster.xlsx"
    book.save(path)
    report = read_roster([path], tiny_grids())
    assert report.ok, report.summary()
    (officer,) = report.resources.officers
    assert officer.phone == "13800138000" and officer.mode == "car" and officer.station_id == "S1"
    (post,) = report.resources.posts
    assert post.grid_id == "B-2" and post.weekdays == (0, 1, 2, 3, 4) and post.dwell_min == 30


def test_gb18030_csv_from_chinese_excel(tmp_path: Path) -> None:
    path = _csv(
        tmp_path, "派出所.csv", "编号,名称,经度,纬度\nS1,中心派出所,114.205,22.685\n", "gb18030"
    )
    report = read_roster([path], tiny_grids())
    assert report.ok and report.resources.stations[0].name == "中心派出所"


def _bad_workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "派出所"
    ws.append(["编号", "名称", "经度", "纬度", "备注"])
    ws.append(["S1", "中心派出所", 114.205, 22.685, "x"])  # row 2: good
    ws.append(["S1", "重复", 114.206, 22.686, ""])  # row 3: duplicate id
    ws.append(["S3", "太远", 116.397, 39.909, ""])  # row 4: another city
    off = book.create_sheet("民警")
    off.append(["警号", "姓名", "手机", "派出所", "班次", "交通方式"])
    off.append(["O1", "张伟", "13800138000", "S1", "07:00-11:00", "步行"])  # row 2: good
    off.append(["O2", "王芳", "13800138000", "S1", "周八 07:00-11:00", "步行"])  # row 3
    off.append(["O3", "李强", "13800138000", "S1", "07:00-11:00", "飞机"])  # row 4
    off.append(
        ["O4", "赵敏", "13800138000", "S3", "07:00-11:00", "步行"]
    )  # row 5: rejected station
    off.append(["O5", "", "13800138000", "S1", "07:00-11:00", "步行"])  # row 6: no name
    team = book.create_sheet("队伍")
    team.append(["队伍编号", "队伍名称", "类型", "网格", "派出所"])
    team.append(["T1", "保安队", "保安", "A-1", "S1"])  # good
    team.append(["T2", "网格队", "网格员", "不存在的网格", "S1"])  # row 3: bad grid
    vol = book.create_sheet("队员")
    vol.append(["编号", "姓名", "身份证号", "队伍", "可用时段"])
    vol.append(["V1", "李娜", GOOD_ID, "T1", "07:00-11:00"])  # good
    vol.append(["V2", "刘洋", 4.40301199001011e17, "T1", "07:00-11:00"])  # row 3: Excel float
    vol.append(["V3", "陈静", "", "T2", "07:00-11:00"])  # row 4: team left out
    vol.append(
        ["V4", "杨光", ID17 + "0" if GOOD_ID[-1] != "0" else ID17 + "1", "T1", "07:00-11:00"]
    )
    avail = book.create_sheet("排班表")
    avail.append(["人员编号", "可用时段"])
    avail.append(["O1", "周末 19:00-23:00"])  # good: added to O1
    avail.append(["X9", "周末 19:00-23:00"])  # row 3: nobody
    posts = book.create_sheet("岗位")
    posts.append(["编号", "名称", "经度", "纬度"])  # no 时段 column: the sheet is refused
    posts.append(["P1", "校门", 114.204, 22.684])
    book.create_sheet("杂项").append(["甲", "乙"])  # an unknown sheet
    book.save(path)
    return path


def test_every_bad_row_is_reported_by_sheet_row_and_field(tmp_path: Path) -> None:
    report = read_roster([_bad_workbook(tmp_path / "bad.xlsx")], tiny_grids())
    found = {(p.sheet, p.row, p.field, p.severity) for p in report.problems}
    expected = {
        ("派出所", None, "备注", "warning"),  # unknown column
        ("派出所", 3, "编号", "error"),  # duplicate id
        ("派出所", 4, "经度", "error"),  # outside the district
        ("民警", 3, "班次", "error"),
        ("民警", 4, "交通方式", "error"),
        ("民警", 5, "派出所", "error"),
        ("民警", 6, "姓名", "error"),
        ("队伍", 3, "网格", "error"),
        ("队员", 3, "身份证号", "error"),
        ("队员", 4, "队伍", "error"),
        ("队员", 5, "身份证号", "warning"),
        ("排班表", 3, "人员编号", "error"),
        ("岗位", None, "时段 / windows", "error"),
        ("杂项", None, "sheet", "error"),
    }
    assert expected <= found, sorted(found - expected, key=str)
    by_key = {(p.sheet, p.row, p.field): p for p in report.problems}
    assert by_key[("民警", 4, "交通方式")].value == "飞机"
    assert "步行" in by_key[("民警", 4, "交通方式")].accepted
    assert "left out" in by_key[("民警", 5, "派出所")].accepted  # S3's own row was rejected
    assert "format the column as text" in by_key[("队员", 3, "身份证号")].accepted
    assert "bad.xlsx [民警] row 3, 班次" in str(by_key[("民警", 3, "班次")])
    # Good rows are kept.
    res = report.resources
    assert [s.id for s in res.stations] == ["S1"]
    assert [o.id for o in res.officers] == ["O1"]
    assert len(res.officers[0].shifts) == 2  # its own shift and the availability sheet's
    assert [t.id for t in res.teams] == ["T1"]
    assert sorted(v.id for v in res.volunteers) == ["V1", "V4"]
    assert report.rows["officers"] == (5, 1)
    frame = report.to_frame()
    assert list(frame.columns) == [
        "severity",
        "source",
        "sheet",
        "row",
        "field",
        "value",
        "accepted",
    ]


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    """The tiny district with a small synthetic roster stored."""
    folder = save_tiny_district(tmp_path / "data")
    district = load_district(folder)
    res = synthetic_roster(
        district.grids,
        district.graph,
        scale=RosterScale(officers=9, volunteers=20, teams=3, posts=3, stations=2),
        seed=0,
        timezone="Asia/Shanghai",
    )
    return save_tiny_district(tmp_path / "data", res)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_failed_imports_leave_the_stored_roster_unchanged(
    stored: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _snapshot(stored)
    bad = _bad_workbook(tmp_path / "bad.xlsx")
    with pytest.raises(RosterRejectedError) as err:
        import_roster(stored, [bad], strict=True)
    assert len(err.value.report.errors) >= 10
    assert _snapshot(stored) == before
    # A roster that would leave no officer is refused whatever the mode.
    nobody = _csv(tmp_path, "officers.csv", "id,name,station,shift\nO1,Li,S404,07:00-11:00\n")
    with pytest.raises(RosterRejectedError, match="no station or no officer"):
        import_roster(stored, [nobody])
    assert _snapshot(stored) == before
    with pytest.raises(InputError) as missing:
        import_roster(stored, [tmp_path / "nope.xlsx"])
    assert missing.value.field == "file"
    # A failure between the two renames puts the old roster back.
    good = _chinese_csvs(tmp_path)
    real_replace = build.os.replace

    def failing(src: object, dst: object) -> None:
        if str(dst).endswith("metadata.json"):
            raise OSError("disk full")
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(build.os, "replace", failing)
    with pytest.raises(OSError, match="disk full"):
        import_roster(stored, good)
    monkeypatch.undo()
    assert _snapshot(stored) == before
    # A dry run stores nothing; a real one stores and says where.
    assert import_roster(stored, good, dry_run=True).path is None
    assert _snapshot(stored) == before
    result = import_roster(stored, good)
    assert result.path == stored and result.ok
    loaded = load_district(stored)
    assert resources_to_json(loaded.resources) == resources_to_json(result.resources)
    meta = json.loads((stored / "metadata.json").read_text(encoding="utf-8"))
    assert meta["resources_synthetic"] is False and meta["roster_source"]["errors"] == 0


def test_kinds_not_in_the_files_are_kept_from_the_stored_roster(
    stored: Path, tmp_path: Path
) -> None:
    before = load_district(stored).resources
    posts = _csv(
        tmp_path,
        "posts.csv",
        "id,name,purpose,lon,lat,windows,days\n"
        "P9,Gate,school gate,114.216,22.696,07:20-08:00,Mon-Fri\n",
    )
    result = import_roster(stored, [posts])
    after = load_district(stored).resources
    assert [p.id for p in after.posts] == ["P9"] and after.posts[0].grid_id == "B-2"
    assert resources_to_json(after)["officers"] == resources_to_json(before)["officers"]
    assert resources_to_json(after)["teams"] == resources_to_json(before)["teams"]
    assert "officers" in result.kept_from_stored and result.replaced == ("posts",)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_template_fill_import_round_trip(stored: Path, tmp_path: Path, lang: str) -> None:
    path = write_template(tmp_path / f"template_{lang}.xlsx", lang=lang)
    book = openpyxl.load_workbook(path)
    zh = lang == "zh"
    assert book.sheetnames[0] == ("说明" if zh else "notes")
    titles = {"stations": "派出所" if zh else "stations", "officers": "民警" if zh else "officers"}
    titles |= {"teams": "队伍" if zh else "teams", "volunteers": "队员" if zh else "volunteers"}
    titles |= {"posts": "岗位" if zh else "posts"}
    stations = book[titles["stations"]]
    assert stations.max_row == 2  # headers and the example row
    assert any(dv.sqref for dv in book[titles["officers"]].data_validations.dataValidation)
    stations.append(["S1", "Central", 114.205, 22.685, None, "wgs84"])
    walk = "步行" if zh else "foot"
    book[titles["officers"]].append(["O1", "Li Wei", "13800138000", "S1", "06:30-14:30", walk])
    book[titles["teams"]].append(["T1", "Guards", "保安" if zh else "security guards", "A-1", "S1"])
    book[titles["volunteers"]].append(
        ["V1", "Liu Yang", "13700137000", GOOD_ID, "T1", None, "东北社区", "周末 19:00-23:00", 8]
    )
    book[titles["posts"]].append(
        [
            "P1",
            "Gate",
            "校门" if zh else "school gate",
            114.204,
            22.684,
            None,
            None,
            None,
            "07:20-08:00,16:30-17:30",
            "周一至周五" if zh else "Mon-Fri",
            40,
        ]
    )
    book.save(path)
    result = import_roster(stored, [path])
    assert result.ok, result.summary()
    res = load_district(stored).resources
    assert [o.id for o in res.officers] == ["O1"] and res.officers[0].mode == "foot"
    assert res.volunteers[0].home_grid == "B-2" and res.volunteers[0].id_number == GOOD_ID
    assert res.teams[0].kind == "security guards"
    assert res.posts[0].grid_id == "A-1" and res.posts[0].weekdays == (0, 1, 2, 3, 4)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_exported_roster_reads_back_the_same(stored: Path, tmp_path: Path, lang: str) -> None:
    district = load_district(stored)
    path = write_roster_sheets(district.resources, tmp_path / "roster.xlsx", lang=lang)
    report = read_roster([path], district.grids)
    assert report.ok, report.summary()
    assert resources_to_json(report.resources) == resources_to_json(district.resources)
