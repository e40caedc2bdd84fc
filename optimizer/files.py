"""File names made from people's text (group ids, place names)."""

from __future__ import annotations


def safe_file_name(text: str) -> str:
    """Return ``text`` with every character but letters, digits, ``-`` and ``_`` made ``_``.

    Used for the plan's per-group files (GPX for handhelds) and to recognise them when the
    handhelds' tracks come back.
    """
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)
