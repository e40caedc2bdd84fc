"""Incident files sent to the service (CSV, GeoJSON, XLSX): all or nothing, damaged ones 422.

On SQLite and PostgreSQL: a good file of each kind is stored; a damaged or truncated one, or
one with a row the reader rejects, is refused naming the line, and nothing is stored.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import openpyxl
import pytest

from api.schemas import XLSX_MEDIA_TYPE
from tests.api.conftest import Api, make_api

CSV = "text/csv"
GEOJSON = "application/geo+json"
ROWS = [
    ("u1", "2026-11-03 20:10", "theft", 24.9401, 60.1701),
    ("u2", "2026-11-04 21:15", "vehicle break-in", 24.9402, 60.1702),
]


def _csv(rows: list[tuple[object, ...]] = ROWS) -> bytes:
    lines = ["id,time,category,lon,lat"] + [",".join(str(v) for v in r) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def _geojson(rows: list[tuple[object, ...]] = ROWS) -> bytes:
    features = [
        {
            "type": "Feature",
            "properties": {"id": r[0], "time": r[1], "category": r[2]},
            "geometry": {"type": "Point", "coordinates": [r[3], r[4]]},
        }
        for r in rows
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def _xlsx(rows: list[tuple[object, ...]] = ROWS) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", "time", "category", "lon", "lat"])
    for r in rows:
        sheet.append(list(r))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


GOOD = {CSV: _csv(), GEOJSON: _geojson(), XLSX_MEDIA_TYPE: _xlsx()}

DAMAGED: list[tuple[str, str, bytes, str]] = [
    (
        "csv with extra field",
        CSV,
        _csv() + b"u3,2026-11-05 10:00,theft,24.9,60.1,extra\n",
        "line 4",
    ),
    ("csv with open quote", CSV, _csv() + b'u3,"2026-11-05 10:00,theft,24.9,60.1\n', "line 4"),
    ("csv not utf-8", CSV, _csv() + "u3,2026-11-05,caf\u00e9,1,1\n".encode("latin-1"), "line 4"),
    ("csv truncated mid-row", CSV, _csv()[:-9], "lat"),
    (
        "csv with a year-1600 row",
        CSV,
        _csv([*ROWS, ("u3", "1600-01-01", "theft", 24.9, 60.1)]),
        "line 4",
    ),
    (
        "csv with a NUL in an id",
        CSV,
        _csv([*ROWS, ("u\x003", "2026-11-05", "theft", 24.9, 60.1)]),
        "line 4",
    ),
    ("geojson truncated", GEOJSON, _geojson()[:-30], "line 1"),
    (
        "geojson with a NUL in an id",
        GEOJSON,
        _geojson([*ROWS, ("u\x003", "2026-11-05", "theft", 24.9, 60.1)]),
        "line 3",
    ),
    ("geojson not a collection", GEOJSON, b'{"type": "Feature"}', "FeatureCollection"),
    ("xlsx truncated", XLSX_MEDIA_TYPE, _xlsx()[:800], "xlsx"),
    ("xlsx of garbage", XLSX_MEDIA_TYPE, bytes(range(256)) * 8, "xlsx"),
    ("empty file", CSV, b"", "body"),
]


@pytest.fixture
def own(own_db_url: str, tmp_path: Path) -> Iterator[Api]:
    """An app of its own on a fresh database of each backend."""
    made = make_api(own_db_url, import_dir=tmp_path)
    with made.client:
        yield made
    made.app.state.services.close()


def _count(api: Api) -> int:
    page = api.client.get(
        "/incidents", params={"district": "demo", "limit": 1}, headers=api.headers("analyst")
    )
    return int(page.json()["count"])


def _send(api: Api, kind: str, data: bytes) -> httpx.Response:
    return api.client.post(
        "/incidents/file",
        params={"district": "demo"},
        content=data,
        headers={**api.headers("analyst"), "content-type": kind},
    )


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_good_file_is_stored(own: Api, kind: str) -> None:
    r = _send(own, kind, GOOD[kind])
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["received"], body["inserted"]) == (2, 2)
    assert _count(own) == 2
    again = _send(own, kind, GOOD[kind]).json()
    assert (again["inserted"], again["updated"]) == (0, 2)


@pytest.mark.parametrize("what,kind,data,named", DAMAGED, ids=[d[0] for d in DAMAGED])
def test_damaged_file_is_refused_and_nothing_stored(
    own: Api, what: str, kind: str, data: bytes, named: str
) -> None:
    r = _send(own, kind, data)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert named in json.dumps(error), error
    assert "Traceback" not in r.text
    assert _count(own) == 0


def test_other_content_types_are_refused(own: Api) -> None:
    r = _send(own, "application/pdf", b"%PDF-1.4")
    assert r.status_code == 422 and r.json()["error"]["field"] == "content-type"
