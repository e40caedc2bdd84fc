"""Shared fixtures: where ``../shared`` is, and skips where it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_ENV = "PATROL_SHARED_DIR"


def shared_dir() -> Path | None:
    """Return the shared evaluation data folder (``$PATROL_SHARED_DIR`` or ``../shared``)."""
    env = os.environ.get(SHARED_ENV)
    path = Path(env) if env else Path(__file__).resolve().parent.parent.parent / "shared"
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def shared() -> Path:
    """The ``../shared`` folder; skips the test where it is absent."""
    path = shared_dir()
    if path is None:
        pytest.skip("../shared is absent (set PATROL_SHARED_DIR to point at it)")
    return path


@pytest.fixture(scope="session")
def shared_osm(shared: Path) -> Path:
    """The folder of real OSM extracts in ``../shared``."""
    return shared / "data" / "osm"
