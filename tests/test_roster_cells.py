"""Reading one roster cell: availability, days, modes, coordinates systems, phones, ID numbers."""

from __future__ import annotations

import pytest

from optimizer.errors import InputError
from optimizer.staff.roster_sheets.cells import (
    format_availability,
    parse_availability,
    parse_crs,
    parse_days,
    parse_id_number,
    parse_location,
    parse_mode,
    parse_number,
    parse_phone,
    parse_post_times,
)
from optimizer.synthetic.people import china_id_check

WEEK = (0, 1, 2, 3, 4, 5, 6)
WORK = (0, 1, 2, 3, 4)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("07:00-11:00", [("07:00-11:00", WEEK)]),
        ("周一至周五 07:00-11:00", [("07:00-11:00", WORK)]),
        ("Mon-Fri 07:00-11:00;Sat 09:00-12:00", [("07:00-11:00", WORK), ("09:00-12:00", (5,))]),
        ("工作日 07:00-11:00，14:00-18:00", [("07:00-11:00", WORK), ("14:00-18:00", WORK)]),
        ("周末 19:00-23:00", [("19:00-23:00", (5, 6))]),
        ("周一、周三 7:00~11:00", [("07:00-11:00", (0, 2))]),
        ("07:00-11:00（周一至周五）", [("07:00-11:00", WORK)]),
        ("星期六到星期日 22:00-02:00", [("22:00-02:00", (5, 6))]),
        ("周五至周一 08:00-12:00", [("08:00-12:00", (0, 4, 5, 6))]),
        ("周一至五 08：00－12：00", [("08:00-12:00", WORK)]),
        (
            "Mon,Wed,Fri 07:00-11:00\nSun 10:00-12:00",
            [("07:00-11:00", (0, 2, 4)), ("10:00-12:00", (6,))],
        ),
        ("daily 18:30-23:30", [("18:30-23:30", WEEK)]),
    ],
)
def test_availability_in_chinese_and_english(
    text: str, expected: list[tuple[str, tuple[int, ...]]]
) -> None:
    got = [(s.window.label(), s.weekdays) for s in parse_availability(text, "可用时段")]
    assert got == expected


@pytest.mark.parametrize(
    "text", ["", "7-11", "周八 07:00-11:00", "25:00-26:00", "Mon- 07:00-11:00", "maybe"]
)
def test_bad_availability_names_field_value_and_accepted(text: str) -> None:
    with pytest.raises(InputError) as err:
        parse_availability(text, "可用时段")
    assert err.value.field == "可用时段"
    assert "周一至周五 07:00-11:00" in err.value.accepted


def test_availability_written_back_reads_the_same() -> None:
    shifts = parse_availability("Mon-Fri 07:00-11:00,14:00-18:00; Sat,Sun 09:00-12:00; 19:00-23:00")
    for lang in ("zh", "en"):
        assert parse_availability(format_availability(shifts, lang)) == shifts


def test_days_and_post_times() -> None:
    assert parse_days("工作日") == WORK
    assert parse_days("Mon-Wed, Fri") == (0, 1, 2, 4)
    windows, days = parse_post_times("周一至周五 07:20-08:00,16:30-17:30")
    assert [w.label() for w in windows] == ["07:20-08:00", "16:30-17:30"] and days == WORK
    assert parse_post_times("07:20-08:00")[1] is None
    with pytest.raises(InputError, match="one set of days"):
        parse_post_times("Mon 07:20-08:00; Tue 16:30-17:30")


def test_words_for_modes_and_coordinate_systems() -> None:
    assert [parse_mode(t) for t in ("步行", "电动车", "警车", "Bike", "foot")] == [
        "foot",
        "bicycle",
        "car",
        "bicycle",
        "foot",
    ]
    assert [parse_crs(t) for t in ("高德", "百度", "GPS", "GCJ-02")] == [
        "gcj02",
        "bd09",
        "wgs84",
        "gcj02",
    ]
    with pytest.raises(InputError) as err:
        parse_mode("飞机", "交通方式")
    assert err.value.field == "交通方式" and "步行" in err.value.accepted


def test_numbers_locations_phones() -> None:
    assert parse_number("30分钟", "停留分钟", 1, 1440) == 30
    with pytest.raises(InputError):
        parse_number("nan", "x", 0, 10)
    with pytest.raises(InputError):
        parse_number("200", "x", 0, 168)
    assert parse_location("114.2063，22.6885") == (114.2063, 22.6885)
    assert parse_phone("138 0013 8000") == "138 0013 8000"
    with pytest.raises(InputError):
        parse_phone("call me")


def test_id_numbers_checked_and_excel_rounding_caught() -> None:
    first17 = "11010519491231002"
    good = first17 + china_id_check(first17)
    assert parse_id_number(good) == (good, None)
    wrong = first17 + ("0" if good[-1] != "0" else "1")
    assert parse_id_number(wrong)[1] is not None  # kept with a warning
    with pytest.raises(InputError, match="format the column as text"):
        parse_id_number("4.40301199001011e+17")
    with pytest.raises(InputError):
        parse_id_number("12345")
    assert parse_id_number("010190-123X") == ("010190-123X", None)  # foreign shapes kept
