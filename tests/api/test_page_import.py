"""A real district import over HTTP: uploaded OSM file and grids (or automatic grids), CRS and
time zone, through ``optimizer.importer.import_district``, as a job with progress."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import Api, make_api
from tests.api.test_plans import wait_job

OSM = "shanghai_fengxian.osm"
"""A small real extract of ../shared (57 kB)."""


@pytest.fixture
def own(own_db_url: str, tmp_path: Path) -> Iterator[Api]:
    """A service with its own import and data folders."""
    made = make_api(own_db_url, import_dir=tmp_path / "imports", data_dir=tmp_path / "grids")
    with made.client:
        yield made


def _upload(api: Api, role: str, files: dict[str, tuple[str, bytes]], **form: str):  # type: ignore[no-untyped-def]
    return api.client.post(
        "/districts/import/upload",
        data=form,
        files={k: (name, body, "application/octet-stream") for k, (name, body) in files.items()},
        headers=api.headers(role),
    )


@pytest.mark.shared
def test_upload_imports_a_real_district_with_auto_grids(own: Api, shared_osm: Path) -> None:
    body = (shared_osm / OSM).read_bytes()
    r = _upload(
        own,
        "planner",
        {"osm": (OSM, body)},
        name="fengxian",
        auto_grids="1,3",
        timezone="Asia/Shanghai",
    )
    assert r.status_code == 202, r.text
    job = wait_job(own, r.json()["id"])
    assert job["status"] == "done", job
    assert job["result"]["levels"] == [1, 2] and job["result"]["grids"] == 4
    assert job["result"]["timezone"] == "Asia/Shanghai"
    assert job["_seen"] == sorted(job["_seen"]) and len(set(job["_seen"])) > 2
    h = own.headers("viewer")
    assert "fengxian" in own.client.get("/districts", headers=h).json()["items"]
    meta = own.client.get("/districts/fengxian", headers=h).json()
    assert meta["levels"] == [1, 2] and meta["metadata"]["timezone"] == "Asia/Shanghai"
    grids = own.client.get("/districts/fengxian/map", headers=h).json()
    assert len(grids["cells"]) == 4
    audit = own.client.get("/audit", headers=own.headers("admin")).json()["items"]
    assert any(e["action"] == "district.import" for e in audit)


@pytest.mark.shared
def test_upload_with_the_bureaus_grids(own: Api, shared_osm: Path, tmp_path: Path) -> None:
    body = (shared_osm / OSM).read_bytes()
    r = _upload(own, "planner", {"osm": (OSM, body)}, name="fx1", auto_grids="1,2")
    job = wait_job(own, r.json()["id"])
    assert job["status"] == "done", job
    grids = own.client.get("/districts/fx1/grids", headers=own.headers("viewer")).json()
    r = _upload(
        own,
        "planner",
        {"osm": (OSM, body), "grids": ("bureau.geojson", json.dumps(grids).encode())},
        name="fx2",
        grids_crs="wgs84",
        timezone="Asia/Shanghai",
    )
    assert r.status_code == 202, r.text
    job = wait_job(own, r.json()["id"])
    assert job["status"] == "done", job
    assert job["result"]["grids"] == len(grids["features"])


@pytest.mark.parametrize(
    ("files", "form", "field"),
    [
        ({"osm": ("streets.txt", b"<osm></osm>")}, {"name": "x"}, "osm_file"),
        ({"osm": ("streets.osm", b"PK\x03\x04 not osm")}, {"name": "x"}, "osm_file"),
        ({"osm": ("streets.osm", b"")}, {"name": "x"}, "osm_file"),
        ({"osm": ("s.osm", b"<osm/>")}, {"name": "../etc"}, "name"),
        ({"osm": ("s.osm", b"<osm/>")}, {"name": "x", "auto_grids": "2;13"}, "auto_grids"),
        ({"osm": ("s.osm", b"<osm/>")}, {"name": "x", "timezone": "Asia/Shanghia"}, "timezone"),
        ({"osm": ("s.osm", b"<osm/>")}, {"name": "x", "grids_crs": "utm"}, "grids_crs"),
        (
            {"osm": ("s.osm", b"<osm/>"), "grids": ("g.geojson", b'{"type": "Feature')},
            {"name": "x"},
            "grids_file",
        ),
        (
            {
                "osm": ("s.osm", b"<osm/>"),
                "grids": ("g.geojson", b'{"features": [{"properties": {}}]}'),
            },
            {"name": "x"},
            "grids_file.features[0]",
        ),
        ({}, {"name": "x"}, "osm"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(
    own: Api, tmp_path: Path, files: dict[str, tuple[str, bytes]], form: dict[str, str], field: str
) -> None:
    r = _upload(own, "planner", files, **form)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field
    uploads = tmp_path / "imports" / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())
    jobs = own.client.get("/jobs", headers=own.headers("viewer")).json()
    assert jobs["count"] == 0


def test_a_damaged_osm_file_fails_the_job_naming_the_file(own: Api) -> None:
    body = b'<?xml version="1.0"?>\n<osm version="0.6"><node id="1" lat="31.0" lon="121.'
    r = _upload(own, "planner", {"osm": ("cut.osm", body)}, name="cut", auto_grids="1,2")
    assert r.status_code == 202, r.text
    job = wait_job(own, r.json()["id"])
    assert job["status"] == "failed"
    assert job["error"]["field"] == "osm_file"
    assert "cut" not in own.client.get("/districts", headers=own.headers("viewer")).json()["items"]


def test_upload_needs_a_role_that_imports(own: Api) -> None:
    r = _upload(own, "viewer", {"osm": ("s.osm", b"<osm/>")}, name="x")
    assert r.status_code == 403


def test_upload_is_refused_before_its_body_without_a_key_and_over_the_limit(
    own_db_url: str, tmp_path: Path
) -> None:
    made = make_api(own_db_url, import_dir=tmp_path / "imports", max_request_bytes=4096)
    with made.client:
        files = {"osm": ("s.osm", b"<osm/>" + b" " * 10_000, "application/octet-stream")}
        r = made.client.post("/districts/import/upload", data={"name": "x"}, files=files)
        assert r.status_code == 401
        r = made.client.post(
            "/districts/import/upload",
            data={"name": "x"},
            files=files,
            headers=made.headers("admin"),
        )
        assert r.status_code == 413
    assert not (tmp_path / "imports" / "uploads").exists()


def test_a_broken_multipart_body_is_422_naming_the_body(own: Api, tmp_path: Path) -> None:
    boundary = "c9da3e65b8241e15781047eeaca13fe0"
    r = own.client.post(
        "/districts/import/upload",
        content=f"--{boundary}\r\n-157226938--{boundary}--\r\n".encode(),
        headers={
            **own.headers("planner"),
            "content-type": f"multipart/form-data; boundary={boundary}",
        },
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "body"
    assert not (tmp_path / "imports" / "uploads").exists()
