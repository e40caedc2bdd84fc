"""Incident category vocabulary: keys, Chinese and English labels, severity, time profiles.

A category key (``"pickpocketing"``) is what the rest of the library stores. Source labels in
Chinese or English (and the aliases below, e.g. SF police categories) are mapped to keys by
:func:`resolve_category`. The default hour-of-day and day-of-week profiles are priors: the risk
model (``optimizer.risk.model``) re-estimates both from timed incidents and falls back to these
where a category has few timed incidents or the source is date-only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from optimizer.errors import InputError


def _hours(peaks: Mapping[int, float], base: float = 0.2) -> tuple[float, ...]:
    """Return a 24-hour profile, mean 1, from relative weights of some hours."""
    raw = np.full(24, base)
    for h, w in peaks.items():
        raw[h % 24] += w
    return tuple(float(v) for v in raw / raw.mean())


def _days(weights: tuple[float, ...]) -> tuple[float, ...]:
    raw = np.asarray(weights, dtype=float)
    return tuple(float(v) for v in raw / raw.mean())


_NIGHT = _hours({22: 0.6, 23: 0.9, 0: 1.0, 1: 1.0, 2: 1.0, 3: 0.9, 4: 0.7, 5: 0.4, 21: 0.3})
_DAY = _hours(
    {9: 0.3, 10: 0.5, 11: 0.7, 12: 0.9, 13: 0.9, 14: 0.8, 15: 0.9, 16: 1.0, 17: 1.0, 18: 0.8}
)
_EVENING = _hours({18: 0.3, 19: 0.5, 20: 0.7, 21: 0.9, 22: 1.0, 23: 1.0, 0: 0.8, 1: 0.6, 2: 0.3})
_OFFICE = _hours({8: 0.3, 9: 0.6, 10: 0.9, 11: 0.9, 12: 0.8, 13: 0.8, 14: 0.9, 15: 0.9, 16: 0.7})
_FLAT = tuple(1.0 for _ in range(24))
_WEEK_FLAT = tuple(1.0 for _ in range(7))
_WEEKEND = _days((0.8, 0.8, 0.85, 0.9, 1.2, 1.45, 1.2))
_WEEKDAY = _days((1.15, 1.15, 1.15, 1.15, 1.1, 0.65, 0.65))


@dataclass(frozen=True)
class Category:
    """One incident category of the vocabulary.

    ``hourly`` has 24 values (local hour 0..23) and ``weekly`` 7 values (Monday..Sunday), each
    with mean 1: a value of 2 means twice the average rate in that hour or on that day.
    """

    key: str
    zh: str
    en: str
    severity: float
    hourly: tuple[float, ...] = _FLAT
    weekly: tuple[float, ...] = _WEEK_FLAT
    aliases: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if len(self.hourly) != 24:
            raise InputError(f"categories.{self.key}.hourly", self.hourly, "24 values")
        if len(self.weekly) != 7:
            raise InputError(f"categories.{self.key}.weekly", self.weekly, "7 values")
        if not self.severity > 0:
            raise InputError(f"categories.{self.key}.severity", self.severity, "a number > 0")


VOCABULARY: dict[str, Category] = {
    c.key: c
    for c in (
        Category(
            "vehicle_break_in",
            "车内财物被盗",
            "vehicle break-in",
            1.0,
            _NIGHT,
            _WEEK_FLAT,
            (
                "砸车窗",
                "撬车盗窃",
                "车内盗窃",
                "car break-in",
                "theft from vehicle",
                "larceny from vehicle",
                "burglary of vehicle",
            ),
        ),
        Category(
            "vehicle_theft",
            "盗窃机动车",
            "vehicle theft",
            1.5,
            _NIGHT,
            _WEEK_FLAT,
            ("盗车", "偷车", "盗窃车辆", "stolen vehicle", "auto theft", "car theft"),
        ),
        Category(
            "pickpocketing",
            "扒窃",
            "pickpocketing",
            1.0,
            _DAY,
            _WEEKEND,
            ("扒手", "掏包", "pickpocket", "pocket-picking", "pocket picking"),
        ),
        Category(
            "theft",
            "盗窃",
            "theft",
            1.0,
            _DAY,
            _WEEK_FLAT,
            ("偷窃", "larceny", "larceny/theft", "larceny theft", "stolen property"),
        ),
        Category(
            "burglary",
            "入室盗窃",
            "burglary",
            2.0,
            _OFFICE,
            _WEEKDAY,
            ("入户盗窃", "break and enter", "breaking and entering", "housebreaking"),
        ),
        Category(
            "robbery",
            "抢劫",
            "robbery",
            3.0,
            _EVENING,
            _WEEKEND,
            ("抢夺", "mugging", "street robbery"),
        ),
        Category(
            "assault",
            "殴打他人",
            "assault",
            3.0,
            _EVENING,
            _WEEKEND,
            ("打架斗殴", "斗殴", "伤害", "battery", "fight"),
        ),
        Category(
            "dispute",
            "纠纷",
            "dispute",
            1.5,
            _EVENING,
            _WEEKEND,
            (
                "矛盾纠纷",
                "治安纠纷",
                "口角",
                "disorderly conduct",
                "disturbance",
                "quarrel",
                "drunkenness",
                "醉酒滋事",
            ),
        ),
        Category(
            "vandalism",
            "故意毁坏财物",
            "vandalism",
            1.0,
            _NIGHT,
            _WEEKEND,
            ("毁坏财物", "涂鸦", "criminal damage", "graffiti"),
        ),
        Category(
            "drugs",
            "涉毒",
            "drugs",
            2.0,
            _EVENING,
            _WEEK_FLAT,
            ("吸毒", "贩毒", "毒品", "drug/narcotic", "narcotics", "drug offense"),
        ),
        Category(
            "fraud",
            "诈骗",
            "fraud",
            1.5,
            _OFFICE,
            _WEEKDAY,
            ("电信诈骗", "scam", "forgery/counterfeiting", "forgery"),
        ),
        Category("other", "其他", "other", 0.5, _FLAT, _WEEK_FLAT, ("其它", "other offenses")),
    )
}
"""The default vocabulary, keyed by category key."""


def _norm(text: str) -> str:
    return " ".join(str(text).strip().casefold().replace("_", " ").split())


def build_lookup(vocabulary: Mapping[str, Category] = VOCABULARY) -> dict[str, str]:
    """Return a map from every normalised label, alias and key to its category key."""
    lookup: dict[str, str] = {}
    for key, cat in vocabulary.items():
        for label in (key, cat.zh, cat.en, *cat.aliases):
            lookup.setdefault(_norm(label), key)
    return lookup


def resolve_category(
    label: object,
    *,
    vocabulary: Mapping[str, Category] = VOCABULARY,
    mapping: Mapping[str, str] | None = None,
) -> str | None:
    """Map a source label (Chinese, English, alias or key) to a category key.

    Parameters
    ----------
    label
        The label found in the source.
    vocabulary
        Categories by key.
    mapping
        Extra source label -> category key pairs, tried first (case-insensitive).

    Returns
    -------
    str or None
        The category key, or None when the label is unknown.
    """
    if label is None or (isinstance(label, float) and np.isnan(label)):
        return None
    text = _norm(str(label))
    if not text:
        return None
    if mapping:
        extra = {_norm(k): v for k, v in mapping.items()}
        if text in extra and extra[text] in vocabulary:
            return extra[text]
    return build_lookup(vocabulary).get(text)


def with_severity(
    overrides: Mapping[str, float], vocabulary: Mapping[str, Category] = VOCABULARY
) -> dict[str, Category]:
    """Return a copy of ``vocabulary`` with some severities replaced.

    Parameters
    ----------
    overrides
        Category key -> severity (> 0).
    vocabulary
        The vocabulary to start from.

    Returns
    -------
    dict
        The new vocabulary.
    """
    out = dict(vocabulary)
    for key, sev in overrides.items():
        if key not in out:
            raise InputError(f"severity.{key}", key, f"one of {sorted(out)}")
        old = out[key]
        out[key] = Category(
            old.key, old.zh, old.en, float(sev), old.hourly, old.weekly, old.aliases
        )
    return out


def label_of(key: str, *, lang: str = "en", vocabulary: Mapping[str, Category] = VOCABULARY) -> str:
    """Return the English (``lang="en"``) or Chinese (``"zh"``) label of a category key."""
    cat = vocabulary.get(key)
    if cat is None:
        return key
    return cat.zh if lang == "zh" else cat.en
