"""A district's time zone: check an IANA name, or derive one from a location.

Every time a plan shows is local time in the district's zone, so a district never gets one by
silent default: it is given at import, or derived from where the streets are (offline, with
``timezonefinder``) and said so.
"""

from __future__ import annotations

import difflib
import functools
import zoneinfo
from typing import Any

from optimizer.errors import InputError

ACCEPTED = "an IANA time zone name, e.g. 'Asia/Shanghai' or 'Europe/Helsinki'"

CHINA_TIMEZONES: frozenset[str] = frozenset(
    {
        "Asia/Shanghai",
        "Asia/Chongqing",
        "Asia/Chungking",
        "Asia/Harbin",
        "Asia/Urumqi",
        "Asia/Kashgar",
        "PRC",
    }
)
"""IANA names of mainland China's time zones (one official time, several historic names)."""


def known_zone(name: Any) -> zoneinfo.ZoneInfo | None:
    """Return the time zone an IANA name (as stored in metadata or settings) names, or None.

    None for an empty or unknown name: the caller says "local time, zone not recorded".
    """
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(str(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def in_china(timezone: str | None) -> bool:
    """Whether a district with this IANA time zone lies in mainland China."""
    return timezone in CHINA_TIMEZONES


@functools.cache
def _names() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def check_timezone(name: Any, field: str = "timezone") -> str:
    """Return ``name`` if it is a time zone the system knows, else raise a clear error.

    Parameters
    ----------
    name
        An IANA name such as ``"Asia/Shanghai"``.
    field
        Field named in the error.

    Raises
    ------
    InputError
        Naming the value and, where one is close, the names it may have meant.
    """
    text = str(name).strip() if isinstance(name, str) else None
    if text:
        try:
            zoneinfo.ZoneInfo(text)
            return text
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            pass
    close = difflib.get_close_matches(str(name), _names(), n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise InputError(field, name, ACCEPTED + hint)


def timezone_at(lon: float, lat: float) -> str | None:
    """Return the IANA time zone at a WGS-84 point, or ``None`` at sea / where none is known.

    Uses the offline boundary data of ``timezonefinder``; the open-sea ``Etc/GMT±N`` zones
    count as unknown (a district is on land).
    """
    from timezonefinder import TimezoneFinder

    found = TimezoneFinder().timezone_at(lng=float(lon), lat=float(lat))
    if not found or found.startswith("Etc/"):
        return None
    return str(found)
