"""The command line's incident reader: damaged files give an error naming file and line.

``patrol hotspots --incidents FILE`` reads through ``optimizer.risk.incidents.read_incidents``;
run in-process here (``optimizer.cli.main``) so that a traceback would fail the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.cli import main
from optimizer.risk.incidents import read_incidents

HEADER = "id,time,category,lon,lat\n"
GOOD = "1,2026-11-03 20:10,theft,24.94,60.17\n"

DAMAGED: dict[str, tuple[bytes, str]] = {
    "extra.csv": (
        (HEADER + GOOD + "2,2026-11-04 20:10,theft,24.94,60.17,extra\n").encode(),
        "line 3",
    ),
    "quote.csv": ((HEADER + GOOD + '2,"2026-11-04 20:10,theft,24.94,60.17\n').encode(), "line 3"),
    "latin1.csv": (
        (HEADER + GOOD).encode() + "3,2026-11-05,caf\u00e9,1,1\n".encode("latin-1"),
        "line 3",
    ),
    "truncated.geojson": (
        b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"time":'
        b'"2026-11-03"},"geometry":{"type":"Point","coordinates":[24.9,60.1',
        "line 1",
    ),
}


@pytest.mark.parametrize("name", sorted(DAMAGED))
def test_damaged_file_is_a_clear_error(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, where = DAMAGED[name]
    path = tmp_path / name
    path.write_bytes(data)
    code = main(["hotspots", "--incidents", str(path), "--window", "19:00-23:00"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("patrol: error: source:") and "Traceback" not in err
    assert f"{name} {where}" in err, err


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        ("2,1600-01-01 10:00,theft,24.94,60.17", "occurred_at", "1900-01-01"),
        ("2\x00x,2026-11-04 10:00,theft,24.94,60.17", "incident_id", "NUL"),
    ],
    ids=["year-1600", "nul-in-id"],
)
def test_a_bad_row_is_a_problem_not_a_crash_or_a_stored_row(
    tmp_path: Path, row: str, field: str, reason: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + GOOD + row + "\n", encoding="utf-8")
    result = read_incidents(path)
    assert list(result.incidents["incident_id"]) == ["1"]
    problem = next(p for p in result.problems if p.field == field)
    assert problem.line == 3 and reason in problem.reason and not problem.kept
