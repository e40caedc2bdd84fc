"""Time windows of a patrol day (``HH:MM-HH:MM``, possibly crossing midnight)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from optimizer.errors import InputError

_WINDOW_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True, order=True)
class TimeWindow:
    """A daily window from ``start`` to ``end``; ``end <= start`` means it ends the next day."""

    start: dt.time
    end: dt.time

    @classmethod
    def parse(cls, text: str, *, field: str = "window") -> TimeWindow:
        """Parse ``"HH:MM-HH:MM"``.

        Parameters
        ----------
        text
            The window, e.g. ``"19:00-23:00"`` or ``"22:00-02:00"`` (crosses midnight).
        field
            Name used in the error message.

        Returns
        -------
        TimeWindow
        """
        match = _WINDOW_RE.match(str(text))
        if not match:
            raise InputError(field, text, "a window 'HH:MM-HH:MM', e.g. '19:00-23:00'")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if not (0 <= h1 <= 24 and 0 <= h2 <= 24 and m1 < 60 and m2 < 60):
            raise InputError(field, text, "hours 00-24 and minutes 00-59")
        start = dt.time(h1 % 24, m1)
        end = dt.time(h2 % 24, m2)
        if start == end:
            raise InputError(field, text, "a window whose end differs from its start")
        return cls(start, end)

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
        """Return ``"HH:MM-HH:MM"``."""
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def __str__(self) -> str:
        return self.label()


DEFAULT_WINDOWS: tuple[TimeWindow, ...] = (
    TimeWindow.parse("07:00-11:00"),
    TimeWindow.parse("14:00-18:00"),
    TimeWindow.parse("19:00-23:00"),
)
"""Windows planned when the user names none: school-gate morning, day, evening."""
