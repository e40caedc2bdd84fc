"""Incident ingest (idempotent by external id) and queries by grid, time and category."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Api, make_api

# points inside the demo's grid cells (central Helsinki)
INSIDE = (24.94, 60.17)


def _batch(prefix: str, n: int, *, category: str = "theft", hour: int = 21) -> dict[str, Any]:
    return {
        "district": "demo",
        "incidents": [
            {
                "external_id": f"{prefix}-{i}",
                "time": f"2026-11-{1 + i % 28:02d}T{hour:02d}:15:00",
                "category": category,
                "lon": INSIDE[0] + 0.0004 * (i % 10),
                "lat": INSIDE[1] + 0.0002 * (i % 7),
                "description": f"case {i}",
            }
            for i in range(n)
        ],
    }


def test_ingest_is_idempotent_by_external_id(api: Api) -> None:
    prefix = uuid.uuid4().hex[:8]
    h = api.headers("analyst")
    r = api.client.post("/incidents", json=_batch(prefix, 50), headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["received"], body["inserted"], body["updated"]) == (50, 50, 0)
    assert body["outside_grids"] == 0
    again = _batch(prefix, 60, category="robbery")
    r = api.client.post("/incidents", json=again, headers=h)
    assert (r.json()["inserted"], r.json()["updated"]) == (10, 50)
    page = api.client.get(
        "/incidents", params={"district": "demo", "category": "robbery", "limit": 5000}, headers=h
    ).json()
    mine = [i for i in page["items"] if i["external_id"].startswith(prefix)]
    assert len(mine) == 60
    assert all(i["grid_id"] for i in mine)
    page = api.client.get(
        "/incidents", params={"district": "demo", "category": "theft", "limit": 5000}, headers=h
    ).json()
    assert not [i for i in page["items"] if i["external_id"].startswith(prefix)]


def test_repeated_id_in_one_batch_keeps_the_last(api: Api) -> None:
    eid = uuid.uuid4().hex
    inc = {
        "external_id": eid,
        "time": "2026-10-01T10:00:00",
        "category": "first",
        "lon": INSIDE[0],
        "lat": INSIDE[1],
    }
    body = {"district": "demo", "incidents": [inc, {**inc, "category": "second"}]}
    r = api.client.post("/incidents", json=body, headers=api.headers("planner"))
    assert r.status_code == 200 and r.json()["inserted"] == 1
    page = api.client.get(
        "/incidents",
        params={"district": "demo", "category": "second"},
        headers=api.headers("analyst"),
    ).json()
    assert eid in [i["external_id"] for i in page["items"]]


def test_query_by_grid_and_time_range(api: Api) -> None:
    prefix = uuid.uuid4().hex[:8]
    h = api.headers("admin")
    batch = _batch(prefix, 20, category=f"cat-{prefix}")
    batch["incidents"].append(
        {
            "external_id": f"{prefix}-far",
            "time": "2026-11-05T03:00:00",
            "category": f"cat-{prefix}",
            "lon": 10.0,
            "lat": 10.0,
        }
    )
    r = api.client.post("/incidents", json=batch, headers=h)
    assert r.json()["outside_grids"] == 1
    cat = f"cat-{prefix}"
    every = api.client.get(
        "/incidents", params={"district": "demo", "category": cat}, headers=h
    ).json()
    assert every["count"] == 21
    grid = next(i["grid_id"] for i in every["items"] if i["grid_id"])
    by_grid = api.client.get(
        "/incidents", params={"district": "demo", "category": cat, "grid_id": grid}, headers=h
    ).json()
    assert 0 < by_grid["count"] < 21
    assert {i["grid_id"] for i in by_grid["items"]} == {grid}
    parent = grid.rsplit("-", 1)[0]  # the demo's level-2 cell holding this level-3 cell
    by_parent = api.client.get(
        "/incidents", params={"district": "demo", "category": cat, "grid_id": parent}, headers=h
    ).json()
    assert by_grid["count"] <= by_parent["count"] <= 20
    assert all(i["grid_id"].startswith(parent + "-") for i in by_parent["items"])
    r = api.client.get("/incidents", params={"district": "demo", "grid_id": "nowhere"}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["field"] == "grid_id[0]"
    window = api.client.get(
        "/incidents",
        params={
            "district": "demo",
            "category": cat,
            "start": "2026-11-01T00:00:00",
            "end": "2026-11-05T00:00:00",
        },
        headers=h,
    ).json()
    assert window["count"] == 4  # days 1..4 of the 20 cases
    page = api.client.get(
        "/incidents",
        params={"district": "demo", "category": cat, "limit": 5, "offset": 5},
        headers=h,
    ).json()
    assert page["count"] == 21 and len(page["items"]) == 5


def test_ingest_failures_name_the_field(api: Api) -> None:
    h = api.headers("analyst")
    bad = _batch("bad", 2)
    bad["incidents"][1]["lat"] = 123
    r = api.client.post("/incidents", json=bad, headers=h)
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "incidents[1].lat"
    r = api.client.post("/incidents", json={"district": "demo", "incidents": []}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["field"] == "incidents"
    r = api.client.post("/incidents", json={**_batch("x", 1), "district": "atlantis"}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["field"] == "district"
    bad = _batch("t", 1)
    bad["incidents"][0]["time"] = "yesterday"
    r = api.client.post("/incidents", json=bad, headers=h)
    assert r.status_code == 422 and r.json()["error"]["field"] == "incidents[0].time"
    r = api.client.get("/incidents", params={"district": "demo", "limit": 0}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["field"] == "limit"
    r = api.client.post(
        "/incidents", content=b"{not json", headers={**h, "content-type": "application/json"}
    )
    assert r.status_code == 422


def test_viewer_cannot_read_incidents(api: Api) -> None:
    r = api.client.get("/incidents", params={"district": "demo"}, headers=api.headers("viewer"))
    assert r.status_code == 403


def test_request_size_limit(tmp_path: object) -> None:
    small = make_api(f"sqlite:///{tmp_path}/small.sqlite", max_request_bytes=2000)
    with small.client:
        big = _batch("big", 40)
        r = small.client.post("/incidents", json=big, headers=small.headers("admin"))
        assert r.status_code == 413
        assert r.json()["error"]["field"] == "body"
        r = small.client.post("/incidents", json=_batch("ok", 1), headers=small.headers("admin"))
        assert r.status_code == 200


def test_ingest_is_audited(api: Api) -> None:
    prefix = uuid.uuid4().hex[:8]
    api.client.post("/incidents", json=_batch(prefix, 3), headers=api.headers("planner"))
    entries = api.client.get(
        "/audit", params={"action": "incidents.ingest"}, headers=api.headers("admin")
    ).json()["items"]
    mine = [e for e in entries if e["inputs"].get("first_external_id") == f"{prefix}-0"]
    assert mine and mine[0]["key_name"] == "test-planner" and mine[0]["status"] == 200
    assert mine[0]["result"]["inserted"] == 3


@pytest.mark.slow  # a whole forecast: full run only, not the fast lane
def test_ingested_incidents_drive_hotspots(tmp_path: Path) -> None:
    """A burst of evening incidents at one corner makes a hotspot there (own database)."""
    own = make_api(f"sqlite:///{tmp_path}/hot.sqlite")
    with own.client:
        h = own.headers("admin")
        params = {"date": "2026-12-01", "window": "19:00-23:00"}
        before = own.client.get("/districts/demo/hotspots", params=params, headers=h).json()
        lon, lat = 24.9445, 60.1690
        burst = {
            "district": "demo",
            "incidents": [
                {
                    "external_id": f"burst-{d}-{k}",
                    "time": f"2026-11-{d:02d}T20:{10 + k:02d}:00",
                    "category": "vehicle break-in",
                    "lon": lon,
                    "lat": lat,
                }
                for d in range(1, 31)
                for k in range(8)
            ],
        }
        r = own.client.post("/incidents", json=burst, headers=h)
        assert r.status_code == 200 and r.json()["inserted"] == 240
        stored = own.client.get(
            "/incidents", params={"district": "demo", "limit": 1}, headers=h
        ).json()["items"][0]
        assert stored["category"] == "vehicle_break_in"  # vocabulary key
        after = own.client.get("/districts/demo/hotspots", params=params, headers=h).json()

        def near(spots: list[dict[str, Any]]) -> float:
            close = [
                s["value"]
                for s in spots
                if abs(s["lon"] - lon) < 0.0025 and abs(s["lat"] - lat) < 0.0012
            ]
            return max(close, default=0.0)

        assert near(after["items"]) > near(before["items"])
