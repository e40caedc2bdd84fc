"""Fake personal data for synthetic rosters: names, phone numbers, ID numbers, by locale.

Nothing here is a real person's data. Chinese ID numbers are shaped like the 18-character
resident identity number (GB 11643: region, birth date, sequence, check character) with a
correct check character, but carry the province code ``99``, which no province has, so a fake
can never collide with a real number. Chinese mobile numbers use the ``170`` / ``171`` virtual
operator blocks. The ``fi`` locale keeps the embedded demo's Finnish-looking data; ``en``
uses the ``555-01xx`` block reserved for fiction.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, cast, get_args

import numpy as np

from optimizer.errors import InputError
from optimizer.timezones import CHINA_TIMEZONES

Locale = Literal["zh", "fi", "en"]
LOCALES: tuple[str, ...] = get_args(Locale)


FAKE_PROVINCE_CODE = "99"
"""Province part of fake Chinese ID numbers: no province has it."""

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

# fi: the embedded demo's names (order matters: the demo's draws index these tuples).
_FI_FIRST = (
    "Aino",
    "Eero",
    "Helmi",
    "Ilmari",
    "Kaisa",
    "Lauri",
    "Mikko",
    "Noora",
    "Oskari",
    "Pia",
    "Riikka",
    "Sami",
    "Tuomas",
    "Ulla",
    "Veera",
    "Wilma",
    "Aleksi",
    "Emilia",
    "Juho",
    "Saara",
)
_FI_LAST = (
    "Virtanen",
    "Korhonen",
    "Nieminen",
    "Mäkinen",
    "Hämäläinen",
    "Laine",
    "Heikkinen",
    "Koskinen",
    "Järvinen",
    "Lehtonen",
    "Salminen",
    "Heinonen",
    "Niemi",
    "Lindholm",
)
_EN_FIRST = (
    "Alex",
    "Casey",
    "Dana",
    "Drew",
    "Jamie",
    "Jordan",
    "Kim",
    "Lee",
    "Morgan",
    "Pat",
    "Quinn",
    "Riley",
    "Robin",
    "Sam",
    "Taylor",
    "Terry",
)
_EN_LAST = (
    "Adams",
    "Baker",
    "Clark",
    "Davis",
    "Evans",
    "Garcia",
    "Hall",
    "Lopez",
    "Martin",
    "Nguyen",
    "Patel",
    "Reed",
    "Smith",
    "Turner",
    "Walker",
    "Young",
)
# Common Chinese surnames (姓), roughly by frequency, and given-name characters (名).
_ZH_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
)
_ZH_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚辉玲桂华建国红梅文斌宇浩鹏飞鑫波俊峰亮婷雪琳晨欣"
    "颖佳怡子涵嘉诚志宏海燕春晓东丹凯荣新利清秀英兰凤云龙德鸿"
)


def locale_for(timezone: str | None) -> Locale:
    """Return the locale of fake personal data for a district's IANA time zone.

    ``zh`` for mainland China (:data:`CHINA_TIMEZONES`), ``fi`` for ``Europe/Helsinki`` (the
    demo), ``en`` elsewhere or when the time zone is unknown.
    """
    if timezone in CHINA_TIMEZONES:
        return "zh"
    if timezone == "Europe/Helsinki":
        return "fi"
    return "en"


def check_locale(locale: str) -> Locale:
    """Validate a locale name (one of :data:`LOCALES`)."""
    if locale not in LOCALES:
        raise InputError("locale", locale, f"one of {list(LOCALES)}")
    return cast(Locale, locale)


def _pick(rng: np.random.Generator, items: tuple[str, ...] | str) -> str:
    return items[int(rng.integers(0, len(items)))]


def fake_name(rng: np.random.Generator, locale: Locale = "fi") -> str:
    """Return a fake full name: ``姓名`` (one or two given characters) or ``First Last``."""
    if locale == "zh":
        surname = _pick(rng, _ZH_SURNAMES)
        given = _pick(rng, _ZH_GIVEN)
        if rng.random() < 0.7:
            given += _pick(rng, _ZH_GIVEN)
        return surname + given
    first, last = (_FI_FIRST, _FI_LAST) if locale == "fi" else (_EN_FIRST, _EN_LAST)
    return f"{_pick(rng, first)} {_pick(rng, last)}"


def fake_phone(rng: np.random.Generator, locale: Locale = "fi") -> str:
    """Return a fake mobile number in the locale's usual writing."""
    if locale == "zh":
        return f"17{int(rng.integers(0, 2))}{int(rng.integers(0, 100_000_000)):08d}"
    if locale == "en":
        return f"+1 555-01{int(rng.integers(0, 100)):02d}"
    return (
        "+358 40 "
        + " ".join(f"{int(rng.integers(0, 1000)):03d}" for _ in range(2))
        + f"{int(rng.integers(0, 10))}"
    )


def china_id_check(first17: str) -> str:
    """Return the check character (GB 11643, ISO 7064 MOD 11-2) of 17 digits."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def fake_id_number(rng: np.random.Generator, locale: Locale = "fi") -> str:
    """Return a fake identity number shaped like the locale's.

    ``zh``: 18 characters, province ``99`` (none has it), a birth date 20-60 years before
    2026, a correct check character. ``fi``: a Finnish personal identity code with the check
    character ``X`` (never valid). ``en``: ``FAKE-`` and six digits.
    """
    if locale == "zh":
        region = FAKE_PROVINCE_CODE + f"{int(rng.integers(0, 10_000)):04d}"
        born = dt.date(1966, 1, 1) + dt.timedelta(days=int(rng.integers(0, 40 * 365)))
        first17 = f"{region}{born:%Y%m%d}{int(rng.integers(0, 1000)):03d}"
        return first17 + china_id_check(first17)
    if locale == "en":
        return f"FAKE-{int(rng.integers(0, 1_000_000)):06d}"
    # Shaped like a Finnish personal identity code; never a real one (checksum set to 'X').
    day = int(rng.integers(1, 29))
    month = int(rng.integers(1, 13))
    year = int(rng.integers(50, 100))
    return f"{day:02d}{month:02d}{year:02d}-9{int(rng.integers(0, 100)):02d}X"
