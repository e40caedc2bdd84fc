"""Read one roster cell: availability, days, travel mode, numbers, coordinates, phone, ID number.

Each reader takes the cell's text and the header it sits under and returns the value, or raises
:class:`~optimizer.errors.InputError` naming the header, the value and what is accepted.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping

from optimizer.coords import coord_system
from optimizer.errors import InputError
from optimizer.staff.roster import ALL_WEEKDAYS, Shift
from optimizer.staff.roster_sheets.vocabulary import (
    AVAILABILITY_ACCEPTED,
    CRS_VALUES,
    DAYS_ACCEPTED,
    MODE_VALUES,
    normalise_header,
)
from optimizer.synthetic.people import china_id_check
from optimizer.timewindow import TimeWindow

WORKDAYS: tuple[int, ...] = (0, 1, 2, 3, 4)
WEEKEND: tuple[int, ...] = (5, 6)

_TIME_RANGE = re.compile(
    r"(\d{1,2})\s*[:.]\s*(\d{2})\s*(?:-|~|至|到|—|–|－)\s*(?:次日|next day)?\s*"
    r"(\d{1,2})\s*[:.]\s*(\d{2})"
)
_DAY_WORDS: tuple[tuple[tuple[str, ...], tuple[int, ...]], ...] = (
    (("工作日", "上学日", "workdays", "weekdays", "weekday", "schooldays", "周一至周五"), WORKDAYS),
    (("周末", "双休日", "weekends", "weekend"), WEEKEND),
    (("每天", "每日", "天天", "全周", "daily", "everyday", "every day", "all week"), ALL_WEEKDAYS),
)
_ZH_DAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_EN_DAY = {
    "mon": 0,
    "tue": 1,
    "wed": 2,
    "thu": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}
_DAY_TOKEN = re.compile(
    r"(?P<zh>(?:周|星期|礼拜)?(?P<zhd>[一二三四五六日天七]))"
    r"|(?P<en>(?P<end>mon|tue|wed|thu|fri|sat|sun)[a-z]*)"
    r"|(?P<num>(?:周|星期)(?P<numd>[1-7]))"
    r"|(?P<range>-|~|至|到|—|–|－|through|thru|to)"
    r"|(?P<sep>[,、/&+]|和|及|and|\s+)"
)


def _text(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().casefold()


def parse_days(text: str, field: str = "days") -> tuple[int, ...]:
    """Parse days like ``周一至周五``, ``工作日``, ``Mon-Fri``, ``Mon,Wed``, ``daily``.

    Returns
    -------
    tuple of int
        Weekday numbers, Monday = 0, sorted.
    """
    s = _text(text)
    if not s:
        raise InputError(field, text, DAYS_ACCEPTED)
    days: set[int] = set()
    for words, numbers in _DAY_WORDS:
        for w in words:
            if w in s:
                days.update(numbers)
                s = s.replace(w, " ")
    pos, last, pending_range = 0, None, False
    s = s.strip(" ,;、()（）[]")
    while pos < len(s):
        m = _DAY_TOKEN.match(s, pos)
        if m is None or m.end() == pos:
            raise InputError(field, text, DAYS_ACCEPTED)
        pos = m.end()
        if m.group("range"):
            if last is None:
                raise InputError(field, text, DAYS_ACCEPTED)
            pending_range = True
            continue
        if m.group("sep"):
            continue
        if m.group("zhd"):
            day = _ZH_DAY[m.group("zhd")]
        elif m.group("end"):
            day = _EN_DAY[m.group("end")]
        else:
            day = int(m.group("numd")) - 1
        if pending_range and last is not None:
            span = (day - last) % 7
            days.update((last + i) % 7 for i in range(span + 1))
            pending_range = False
        else:
            days.add(day)
        last = day
    if pending_range or not days:
        raise InputError(field, text, DAYS_ACCEPTED)
    return tuple(sorted(days))


def _windows(part: str, field: str, accepted: str) -> tuple[list[TimeWindow], str]:
    """The time ranges of one part, and the rest of its text (the days)."""
    windows = []
    for m in _TIME_RANGE.finditer(part):
        h1, m1, h2, m2 = m.groups()
        label = f"{int(h1):02d}:{m1}-{int(h2):02d}:{m2}"
        try:
            windows.append(TimeWindow.parse(label, field=field))
        except InputError:
            raise InputError(field, part.strip(), accepted) from None
    return windows, _TIME_RANGE.sub(" ", part)


def parse_availability(text: str, field: str = "availability") -> tuple[Shift, ...]:
    """Parse availability like ``周一至周五 07:00-11:00;周六 09:00-12:00`` into shifts.

    Parts are separated by ``;`` (or a new line); each holds one or more times
    ``HH:MM-HH:MM`` (``22:00-02:00`` ends the next day) and, before or after them, optional
    days (default every day).
    """
    s = unicodedata.normalize("NFKC", str(text)).strip()
    if not s:
        raise InputError(field, text, AVAILABILITY_ACCEPTED)
    shifts: list[Shift] = []
    for part in re.split(r"[;\n|]+", s):
        if not part.strip():
            continue
        windows, rest = _windows(part, field, AVAILABILITY_ACCEPTED)
        if not windows:
            raise InputError(field, part.strip(), AVAILABILITY_ACCEPTED)
        rest = rest.strip(" ,、:()（）[]")
        try:
            days = parse_days(rest, field) if rest else ALL_WEEKDAYS
        except InputError:
            raise InputError(field, part.strip(), AVAILABILITY_ACCEPTED) from None
        shifts.extend(Shift(w, days) for w in windows)
    return tuple(shifts)


def parse_post_times(
    text: str, field: str = "windows"
) -> tuple[tuple[TimeWindow, ...], tuple[int, ...] | None]:
    """Parse a post's duty times: windows and, where written, their days (one set per post)."""
    shifts = parse_availability(text, field)
    day_sets = {s.weekdays for s in shifts}
    if len(day_sets) > 1:
        raise InputError(field, text, "one set of days for all of a post's times")
    written = _TIME_RANGE.sub(" ", unicodedata.normalize("NFKC", str(text)))
    has_days = bool(written.strip(" ,;、:()（）[]\n|"))
    windows = tuple(dict.fromkeys(s.window for s in shifts))
    return windows, (next(iter(day_sets)) if has_days else None)


def choose(
    text: str, values: Mapping[str, tuple[str, ...]], field: str, *, free: bool = False
) -> str:
    """Map a word to its canonical value (``步行`` -> ``foot``); ``free``: keep unknown text."""
    key = normalise_header(text)
    for canonical, words in values.items():
        if key in {normalise_header(w) for w in words}:
            return canonical
    if free and str(text).strip():
        return str(text).strip()
    shown = "; ".join(f"{c}: {', '.join(_sample(w))}" for c, w in values.items())
    raise InputError(field, text, f"one of {shown}")


def _sample(words: tuple[str, ...]) -> list[str]:
    """A few English and a few Chinese words of a list, for an error message."""
    latin = [w for w in words if w.isascii()][:3]
    other = [w for w in words if not w.isascii()][:3]
    return latin + other


def parse_mode(text: str, field: str = "mode") -> str:
    """Travel mode: ``foot``, ``bicycle`` or ``car`` (Chinese and English words accepted)."""
    return choose(text, MODE_VALUES, field)


def parse_crs(text: str, field: str = "crs") -> str:
    """Coordinate system: ``wgs84``, ``gcj02`` or ``bd09`` (also 高德, 百度, GPS ...)."""
    return coord_system(choose(text, CRS_VALUES, field), field)


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def parse_number(text: str, field: str, lo: float, hi: float, unit: str = "") -> float:
    """A finite number in ``[lo, hi]``; a trailing unit word (``30分钟``, ``12 h``) is ignored."""
    s = unicodedata.normalize("NFKC", str(text)).strip()
    m = _NUMBER.match(s)
    accepted = f"a number from {lo:g} to {hi:g}{' ' + unit if unit else ''}"
    if not m or not re.fullmatch(r"\s*[^\d.,;]*", s[m.end() :]):
        raise InputError(field, text, accepted)
    value = float(m.group(0))
    if not math.isfinite(value) or not lo <= value <= hi:
        raise InputError(field, text, accepted)
    return value


def parse_location(text: str, field: str = "location") -> tuple[float, float]:
    """``"lon,lat"`` (also ``，`` or spaces between) into two numbers."""
    parts = [p for p in re.split(r"[,\s;]+", unicodedata.normalize("NFKC", str(text)).strip()) if p]
    if len(parts) != 2:
        raise InputError(field, text, "'lon,lat', e.g. '114.2063,22.6885'")
    return (
        parse_number(parts[0], field, -180, 180),
        parse_number(parts[1], field, -90, 90),
    )


_PHONE_CLEAN = re.compile(r"[\s\-()（）]")


def parse_phone(text: str, field: str = "phone") -> str:
    """A phone number: digits with an optional leading ``+`` (spaces, dashes, brackets allowed)."""
    s = unicodedata.normalize("NFKC", str(text)).strip()
    digits = _PHONE_CLEAN.sub("", s)
    if not re.fullmatch(r"\+?\d{5,15}", digits):
        raise InputError(field, text, "a phone number of 5-15 digits, e.g. 13800138000")
    return s


def parse_id_number(text: str, field: str = "id number") -> tuple[str, str | None]:
    """An ID number as text, and a warning where its check character does not match.

    Digit-only numbers must have the 15 or 18 characters of a Chinese resident ID number; other
    shapes (foreign documents) are kept as written. A number Excel stored as a float (``4.4e+17``)
    is refused: its last digits are lost.
    """
    s = unicodedata.normalize("NFKC", str(text)).strip().upper()
    if re.fullmatch(r"\d+(\.\d+)?E\+?\d+|\d+\.0+", s):
        raise InputError(
            field,
            text,
            "the ID number as text: Excel stored it as a number and lost its last digits; "
            "format the column as text and enter it again",
        )
    if re.fullmatch(r"\d+X?", s):
        if len(s) == 18 and re.fullmatch(r"\d{17}[\dX]", s):
            if china_id_check(s[:17]) != s[17]:
                return s, "the check character does not match (a typo?); kept"
            return s, None
        if len(s) == 15 and s.isdigit():
            return s, None
        raise InputError(field, text, "18 characters (17 digits and a digit or X) or 15 digits")
    return s, None


_ZH_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_EN_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def format_days(days: tuple[int, ...], lang: str = "zh") -> str:
    """Write weekdays as :func:`parse_days` reads them: ``周一至周五``, ``Mon,Wed``, all: ``""``."""
    names = _ZH_NAMES if lang == "zh" else _EN_NAMES
    wanted = sorted(set(days))
    if wanted == list(ALL_WEEKDAYS):
        return ""
    runs: list[list[int]] = []
    for d in wanted:
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    to, sep = ("至", "、") if lang == "zh" else ("-", ",")
    return sep.join(
        names[r[0]] if len(r) == 1 else f"{names[r[0]]}{to}{names[r[-1]]}" for r in runs
    )


def format_availability(shifts: tuple[Shift, ...], lang: str = "zh") -> str:
    """Write shifts as :func:`parse_availability` reads them, times grouped by their days."""
    groups: dict[tuple[int, ...], list[str]] = {}
    for s in shifts:
        groups.setdefault(tuple(sorted(s.weekdays)), []).append(s.window.label())
    parts = []
    for days, windows in groups.items():
        written = format_days(days, lang)
        parts.append((written + " " if written else "") + ",".join(windows))
    return "; ".join(parts)
