"""The district's time zone on every time an output writes.

Plans hold local wall-clock times (naive datetimes); ``DayPlan.settings["timezone"]`` names the
district's IANA time zone. Machine files write ISO 8601 with the UTC offset (:func:`iso_time`);
files and tables for people write ``07:35`` (:func:`clock`) under a note that names the zone
(:func:`timezone_note`).
"""

from __future__ import annotations

import datetime as dt

from optimizer.plan.types import DayPlan

UNKNOWN_TIMEZONE_NOTE = "times in the district's local time (time zone not recorded in the plan)"
"""What :func:`timezone_note` says for a plan without a known time zone."""


def aware(plan: DayPlan, moment: dt.datetime) -> dt.datetime:
    """Attach the plan's time zone to a naive local time; aware times are returned as they are."""
    tz = plan.timezone
    return moment.replace(tzinfo=tz) if tz is not None and moment.tzinfo is None else moment


def iso_time(plan: DayPlan, moment: dt.datetime) -> str:
    """Return ``moment`` as ISO 8601 with the UTC offset, e.g. ``2026-12-01T07:35+08:00``."""
    return aware(plan, minute(moment)).isoformat(timespec="minutes")


def minute(moment: dt.datetime) -> dt.datetime:
    """Return ``moment`` cut to the minute, as outputs write it (``07:35:50`` -> ``07:35``)."""
    return moment.replace(second=0, microsecond=0)


def clock(moment: dt.datetime) -> str:
    """Return the wall-clock time ``HH:MM`` for people (the zone is stated once, beside it)."""
    return f"{minute(moment):%H:%M}"


def utc_offset_text(offset: dt.timedelta) -> str:
    """Return an offset as ``UTC+08:00`` (``UTC-03:30``, ``UTC+00:00``)."""
    minutes = round(offset.total_seconds() / 60)
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def plan_offsets(plan: DayPlan) -> list[dt.timedelta]:
    """Return the distinct UTC offsets of the plan's windows (two on a day the clocks change)."""
    tz = plan.timezone
    if tz is None:
        return []
    moments = [m for wp in plan.windows for m in (wp.start, wp.end)]
    if not moments:
        moments = [dt.datetime.combine(plan.date, dt.time(12))]
    offsets: list[dt.timedelta] = []
    for m in moments:
        off = m.replace(tzinfo=tz).utcoffset()
        if off is not None and off not in offsets:
            offsets.append(off)
    return offsets


def timezone_label(plan: DayPlan) -> str:
    """Return ``Asia/Shanghai (UTC+08:00)``, or ``""`` where the plan has no known time zone."""
    tz = plan.timezone
    if tz is None:
        return ""
    offsets = " / ".join(utc_offset_text(o) for o in plan_offsets(plan))
    return f"{tz.key} ({offsets})"


def timezone_note(plan: DayPlan) -> str:
    """Return the note for files and tables people read: ``times in Asia/Shanghai (UTC+08:00)``."""
    label = timezone_label(plan)
    return f"times in {label}" if label else UNKNOWN_TIMEZONE_NOTE
