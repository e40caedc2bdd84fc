"""App wiring: settings from the environment, CORS closed by default, OpenAPI with examples."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.settings import Settings
from tests.api.conftest import make_api


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATROL_DATABASE_URL", f"sqlite:///{tmp_path}/x.sqlite")
    monkeypatch.setenv("PATROL_PORT", "9123")
    monkeypatch.setenv("PATROL_MAX_REQUEST_BYTES", "1234")
    monkeypatch.setenv("PATROL_CORS_ORIGINS", '["https://dispatch.example"]')
    s = Settings()
    assert s.database_url.endswith("x.sqlite") and s.port == 9123
    assert s.max_request_bytes == 1234 and s.cors_origins == ["https://dispatch.example"]
    monkeypatch.delenv("PATROL_DATABASE_URL")
    monkeypatch.delenv("PATROL_CORS_ORIGINS")
    default = Settings()
    assert default.database_url.startswith("sqlite:///") and default.cors_origins == []
    assert default.host == "127.0.0.1"
    with pytest.raises(ValueError):
        Settings(port=70000)


def test_cors_closed_by_default_and_open_when_configured(tmp_path: Path) -> None:
    origin = "https://dispatch.example"
    preflight = {"Origin": origin, "Access-Control-Request-Method": "GET"}
    closed = make_api(f"sqlite:///{tmp_path}/closed.sqlite")
    with closed.client:
        r = closed.client.get("/health", headers={"Origin": origin})
        assert "access-control-allow-origin" not in r.headers
        r = closed.client.options("/districts", headers=preflight)
        assert "access-control-allow-origin" not in r.headers
    opened = make_api(f"sqlite:///{tmp_path}/open.sqlite", cors_origins=[origin])
    with opened.client:
        r = opened.client.options("/districts", headers=preflight)
        assert r.headers["access-control-allow-origin"] == origin
        r = opened.client.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers


def test_openapi_documents_routes_examples_and_errors(tmp_path: Path) -> None:
    made = make_api(f"sqlite:///{tmp_path}/doc.sqlite")
    with made.client:
        spec = made.client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/districts",
        "/districts/{name}/grids",
        "/incidents",
        "/districts/{name}/resources",
        "/districts/{name}/hotspots",
        "/plans",
        "/jobs/{job_id}",
        "/plans/{plan_id}/routes.geojson",
        "/plans/{plan_id}/gpx/{group_id}",
        "/plans/{plan_id}/schedule.xlsx",
        "/plans/{plan_id}/replan",
        "/keys",
        "/audit",
    ):
        assert path in paths, path
    schemas = spec["components"]["schemas"]
    assert schemas["PlanRequest"]["examples"][0]["district"] == "demo"
    assert schemas["IncidentIn"]["properties"]["external_id"]["examples"]
    post = paths["/plans"]["post"]
    assert {"401", "403", "422"} <= set(post["responses"])
    err = post["responses"]["422"]["content"]["application/json"]["example"]["error"]
    assert {"field", "value", "accepted"} <= set(err)
    assert "APIKeyHeader" in spec["components"]["securitySchemes"]
