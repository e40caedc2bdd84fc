"""Time windows of a patrol day (``HH:MM-HH:MM``, possibly crossing midnight) and the dates
the library computes with.

A window whose end is before its start ends the next day. Up to
:data:`MAX_IMPLICIT_OVERNIGHT_H` hours that is taken as meant (``22:00-02:00``, a night
shift ``20:00-08:00``); a longer one must say so with ``+1`` (``19:00-18:00+1``), since
``19:00-18:00`` is far more often two times typed in the wrong order than a 23-hour window.

Dates are limited to :data:`FIRST_DATE` .. :data:`LAST_DATE`: incident histories and plans are
computed with pandas timestamps, whose range ends in 1677 and 2262.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from optimizer.errors import InputError

_WINDOW_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*(\+\s*1)?\s*$")

MAX_IMPLICIT_OVERNIGHT_H = 12
"""Longest window (hours) that may cross midnight without an explicit ``+1``."""

FIRST_DATE = dt.date(1900, 1, 1)
"""Earliest date of an incident, a plan or a query."""
LAST_DATE = dt.date(2200, 12, 31)
"""Latest date of an incident, a plan or a query."""
DATE_RANGE = f"a date from {FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()}"
"""The accepted dates in words (for error messages)."""


def check_date(value: dt.date, *, field: str = "date") -> dt.date:
    """Return ``value`` if it lies in :data:`FIRST_DATE` .. :data:`LAST_DATE`.

    Parameters
    ----------
    value
        A date, or a datetime (its own date is checked; an aware one is taken in UTC).
    field
        Name used in the error message.

    Returns
    -------
    datetime.date
        ``value`` unchanged.

    Raises
    ------
    InputError
        Outside the range (or an aware datetime that cannot be expressed in UTC).
    """
    day = value
    if isinstance(value, dt.datetime):
        try:
            day = value.astimezone(dt.UTC).date() if value.tzinfo is not None else value.date()
        except (OverflowError, ValueError):
            raise InputError(field, value.isoformat(), DATE_RANGE) from None
    if not FIRST_DATE <= day <= LAST_DATE:
        raise InputError(field, value.isoformat(), DATE_RANGE)
    return value


@dataclass(frozen=True, order=True)
class TimeWindow:
    """A daily window from ``start`` to ``end``; ``end <= start`` means it ends the next day."""

    start: dt.time
    end: dt.time

    @classmethod
    def parse(cls, text: str, *, field: str = "window") -> TimeWindow:
        """Parse ``"HH:MM-HH:MM"`` (``"HH:MM-HH:MM+1"`` for a long window ending the next day).

        Parameters
        ----------
        text
            The window, e.g. ``"19:00-23:00"``, ``"22:00-02:00"`` (crosses midnight) or
            ``"19:00-18:00+1"`` (23 hours, explicitly ending the next day).
        field
            Name used in the error message.

        Returns
        -------
        TimeWindow

        Raises
        ------
        InputError
            Not a window; hours or minutes out of range; start equal to end without ``+1``;
            a window ending before it starts and lasting more than
            :data:`MAX_IMPLICIT_OVERNIGHT_H` hours without ``+1``; ``+1`` on a window that
            ends the same day.
        """
        match = _WINDOW_RE.match(str(text))
        if not match:
            raise InputError(field, text, "a window 'HH:MM-HH:MM', e.g. '19:00-23:00'")
        h1, m1, h2, m2 = (int(g) for g in match.groups()[:4])
        next_day = match.group(5) is not None
        if not (0 <= h1 <= 24 and 0 <= h2 <= 24 and m1 < 60 and m2 < 60):
            raise InputError(field, text, "hours 00-24 and minutes 00-59")
        window = cls(dt.time(h1 % 24, m1), dt.time(h2 % 24, m2))
        if next_day and not window.crosses_midnight:
            raise InputError(
                field, text, "'+1' only on a window whose end is on the next day (end <= start)"
            )
        if window.start == window.end and not next_day:
            raise InputError(
                field, text, "a window whose end differs from its start (24 hours: 'HH:MM-HH:MM+1')"
            )
        long_overnight = window.minutes > MAX_IMPLICIT_OVERNIGHT_H * 60
        if window.crosses_midnight and long_overnight and not next_day:
            raise InputError(
                field,
                text,
                f"a window whose end is after its start; this one would end the next day "
                f"after {window.minutes / 60:g} h (more than {MAX_IMPLICIT_OVERNIGHT_H} h): "
                f"write '{window.label()}' if that is meant",
            )
        return window

    @property
    def minutes(self) -> int:
        """Length of the window in minutes."""
        s = self.start.hour * 60 + self.start.minute
        e = self.end.hour * 60 + self.end.minute
        return (e - s) % (24 * 60) or 24 * 60

    @property
    def crosses_midnight(self) -> bool:
        """Whether the window ends on the next day."""
        return self.end <= self.start

    def on(self, day: dt.date, tz: dt.tzinfo | None = None) -> tuple[dt.datetime, dt.datetime]:
        """Return the window's start and end as datetimes on ``day``."""
        start = dt.datetime.combine(day, self.start, tzinfo=tz)
        return start, start + dt.timedelta(minutes=self.minutes)

    def contains(self, moment: dt.time) -> bool:
        """Whether a time of day falls inside the window (start inclusive, end exclusive)."""
        if self.crosses_midnight:
            return moment >= self.start or moment < self.end
        return self.start <= moment < self.end

    def label(self) -> str:
        """Return ``"HH:MM-HH:MM"`` (with ``+1`` where :meth:`parse` needs it back)."""
        text = f"{self.start:%H:%M}-{self.end:%H:%M}"
        long_overnight = self.crosses_midnight and self.minutes > MAX_IMPLICIT_OVERNIGHT_H * 60
        return f"{text}+1" if long_overnight else text

    def __str__(self) -> str:
        return self.label()


DEFAULT_WINDOWS: tuple[TimeWindow, ...] = (
    TimeWindow.parse("07:00-11:00"),
    TimeWindow.parse("14:00-18:00"),
    TimeWindow.parse("19:00-23:00"),
)
"""Windows planned when the user names none: school-gate morning, day, evening."""
