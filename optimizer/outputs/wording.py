"""Wording shared by the printed and drawn outputs (English counts)."""

from __future__ import annotations


def plural(n: int, word: str) -> str:
    """Return ``1 group`` / ``2 groups`` (a regular English plural)."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
