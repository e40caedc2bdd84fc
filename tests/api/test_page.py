"""The dispatcher page's routes: open static files, data behind the key, plan view, adjust and
versions, print sheets (HTML and PDF), comparison, exports with names, import by upload."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa

from tests.api.conftest import Api
from tests.api.test_plans import wait_job

pytestmark = pytest.mark.slow  # plans whole days: full run only, not the fast lane

DAY = "2026-11-30"
WINDOW = "19:00-23:00"


@pytest.fixture(scope="module")
def plan_id(api: Api) -> Iterator[str]:
    """A plan of the demo's evening (seed 3), made by a planner over HTTP."""
    body = {"district": "demo", "date": DAY, "windows": [WINDOW], "seed": 3, "time_limit_s": 0.5}
    r = api.client.post("/plans", json=body, headers=api.headers("planner"))
    assert r.status_code == 202, r.text
    job = wait_job(api, r.json()["id"])
    assert job["status"] == "done", job
    yield job["result"]["plan_id"]


def _view(api: Api, plan_id: str, role: str = "viewer") -> dict[str, Any]:
    r = api.client.get(f"/plans/{plan_id}/view", headers=api.headers(role))
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def _local(moment: str) -> dt.datetime:
    """A view's ISO time as the plan's local wall-clock time."""
    return dt.datetime.fromisoformat(moment).replace(tzinfo=None)


def _busy_cell(view: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    routes = view["windows"][0]["routes"]
    by_cell: dict[str, list[dict[str, Any]]] = {}
    for r in routes:
        by_cell.setdefault(r["grid"], []).append(r)
    cell = max(by_cell, key=lambda c: (len(by_cell[c]), c))
    assert len(by_cell[cell]) >= 2
    return cell, by_cell[cell]


def test_page_and_its_files_are_open_and_hold_no_data(api: Api) -> None:
    page = api.client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "/page/app.js" in page.text and "X-API-Key" not in page.text
    for path in ("/page/", "/page/app.js", "/page/i18n.js", "/page/app.css", "/page/LICENSES.txt"):
        assert api.client.get(path).status_code == 200, path
    for path in ("/page/leaflet/leaflet.js", "/page/leaflet/leaflet.css"):
        assert api.client.get(path).status_code == 200, path
    # every script and style the page loads is its own (no other host)
    for ref in ("http://", "https://", "//cdn"):
        assert f'src="{ref}' not in page.text and f'href="{ref}' not in page.text
    # data is never open
    for path in ("/me", "/districts/demo/map", "/districts/demo/streets", "/plans/x/view"):
        assert api.client.get(path).status_code == 401, path
    assert api.client.get("/page/%2e%2e/openapi.json").status_code in (401, 404)


def test_me_tells_role_and_permissions(api: Api) -> None:
    viewer = api.client.get("/me", headers=api.headers("viewer")).json()
    assert viewer["role"] == "viewer" and "plans:write" not in viewer["permissions"]
    planner = api.client.get("/me", headers=api.headers("planner")).json()
    assert "plans:write" in planner["permissions"] and "personal:read" in planner["permissions"]


def test_district_map_and_streets_by_detail(api: Api) -> None:
    h = api.headers("viewer")
    m = api.client.get("/districts/demo/map", headers=h).json()
    assert m["levels"] == [1, 2, 3] and m["timezone"]
    assert {c["level"] for c in m["cells"]} == {1, 2, 3}
    assert all(c["rings"] and len(c["rings"][0]) >= 8 for c in m["cells"])
    sizes = {}
    for detail in ("low", "medium", "high"):
        s = api.client.get("/districts/demo/streets", params={"detail": detail}, headers=h).json()
        sizes[detail] = sum(len(line) for layer in s["layers"] for line in layer)
    assert 0 < sizes["low"] < sizes["medium"] < sizes["high"]
    r = api.client.get("/districts/demo/streets", params={"detail": "huge"}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["field"] == "detail"
    assert api.client.get("/districts/atlantis/map", headers=h).status_code == 404


def test_plan_view_has_routes_stops_heat_cards_and_staffing(api: Api, plan_id: str) -> None:
    view = _view(api, plan_id, "viewer")
    w = view["windows"][0]
    assert w["label"] == WINDOW and w["routes"] and w["hotspots"]
    for r in w["routes"]:
        assert r["colour"].startswith("#") and r["cells"][-1] == r["grid"]
        assert r["leader"]["role"] == "officer" and r["members"][0] == r["leader"]
        numbers = [s["n"] for s in r["stops"]]
        assert numbers == list(range(len(numbers)))
        assert r["stops"][0]["kind"] == "start" and r["stops"][-1]["kind"] == "end"
        assert all(s["dwell"] > 0 for s in r["stops"] if s["kind"] == "hotspot")
        # a viewer never sees a phone number
        assert all(p["phone"] is None for p in r["members"])
    assert w["staffing"]["counts"]["groups"] == len(w["routes"])
    assert any(row["window"] == WINDOW and row["level"] == 0 for row in view["summary"])
    planner = _view(api, plan_id, "planner")
    phones = [p["phone"] for r in planner["windows"][0]["routes"] for p in r["members"]]
    assert any(phones), "the demo's volunteers have (fake) phone numbers"


def test_adjust_keeps_the_locked_route_and_records_the_version(api: Api, plan_id: str) -> None:
    before = _view(api, plan_id)
    cell, routes = _busy_cell(before)
    locked = routes[0]
    dropped = next(
        s["site_id"]
        for s in routes[1]["stops"]
        if s["kind"] == "hotspot" and s["site_id"] not in {x["site_id"] for x in locked["stops"]}
    )
    body = {"window": WINDOW, "lock": [locked["id"]], "drop": [dropped], "note": "road works"}
    r = api.client.post(f"/plans/{plan_id}/adjust", json=body, headers=api.headers("planner"))
    assert r.status_code == 202, r.text
    job = wait_job(api, r.json()["id"])
    assert job["status"] == "done", job
    new_id = job["result"]["plan_id"]
    assert job["result"]["version"] == 1 and job["result"]["cells"] == [cell]
    after = _view(api, new_id)
    kept = next(x for x in after["windows"][0]["routes"] if x["id"] == locked["id"])
    assert kept["stops"] == locked["stops"] and kept["path"] == locked["path"]
    visited = {s["site_id"] for x in after["windows"][0]["routes"] for s in x["stops"]}
    assert dropped not in visited
    left = {lo["site_id"]: lo for lo in after["windows"][0]["left_out"]}
    assert left[dropped]["code"] == "dropped"
    # the history: version 0 (the plan), version 1 (who, what, what changed)
    versions = api.client.get(f"/plans/{new_id}/versions", headers=api.headers("viewer")).json()
    assert [v["version"] for v in versions["items"]] == [0, 1]
    assert versions["root_id"] == plan_id
    edit = versions["items"][1]
    assert edit["parent_id"] == plan_id and edit["created_by"].endswith(":planner")
    assert edit["edits"]["lock"] == [locked["id"]] and edit["edits"]["note"] == "road works"
    statuses = {g["group"]: g["status"] for g in edit["changes"]["groups"]}
    assert statuses[locked["id"]] == "locked"
    # the previous version is kept as it was
    assert _view(api, plan_id) == before
    # audited, with the caller
    audit = api.client.get("/audit", params={"limit": 50}, headers=api.headers("admin")).json()
    actions = [(e["action"], e["role"]) for e in audit["items"]]
    assert ("plan.adjust", "planner") in actions and ("plan.adjust.submit", "planner") in actions


def test_same_adjustment_gives_the_same_plan(api: Api, plan_id: str) -> None:
    _, routes = _busy_cell(_view(api, plan_id))
    body = {"window": WINDOW, "unavailable": [routes[-1]["id"]]}
    made = []
    for _ in range(2):
        r = api.client.post(f"/plans/{plan_id}/adjust", json=body, headers=api.headers("planner"))
        job = wait_job(api, r.json()["id"])
        assert job["status"] == "done", job
        view = _view(api, job["result"]["plan_id"])
        made.append([(x["id"], x["stops"]) for x in view["windows"][0]["routes"]])
        assert routes[-1]["id"] not in [x["id"] for x in view["windows"][0]["routes"]]
    assert made[0] == made[1]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"window": "07:00-11:00"}, "window"),
        ({"window": WINDOW, "lock": ["nope"]}, "lock[0]"),
        ({"window": WINDOW, "drop": ["nope"]}, "drop[0]"),
        (
            {"window": WINDOW, "moves": [{"person_id": "nobody", "to_group": "x"}]},
            "moves[0].to_group",
        ),
        ({"window": WINDOW, "add": [{"lon": 0.0, "lat": 0.0}]}, "add[0]"),
        ({"window": WINDOW, "add": [{"lon": 24.9, "lat": 60.1, "value": -1}]}, "add[0].value"),
        ({"window": WINDOW, "lokc": []}, "lokc"),
    ],
)
def test_bad_adjustments_are_refused_naming_the_field(
    api: Api, plan_id: str, body: dict[str, Any], field: str
) -> None:
    r = api.client.post(f"/plans/{plan_id}/adjust", json=body, headers=api.headers("planner"))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field


def test_adjust_needs_a_planner_and_a_plan(api: Api, plan_id: str) -> None:
    body = {"window": WINDOW}
    r = api.client.post(f"/plans/{plan_id}/adjust", json=body, headers=api.headers("viewer"))
    assert r.status_code == 403
    r = api.client.post("/plans/nope/adjust", json=body, headers=api.headers("planner"))
    assert r.status_code == 404 and r.json()["error"]["field"] == "plan"


def test_compare_plans(api: Api, plan_id: str) -> None:
    h = api.headers("viewer")
    same = api.client.get(f"/plans/{plan_id}/compare", params={"with": plan_id}, headers=h).json()
    day = same["rows"][-1]
    assert day["window"] == "day" and day["overlap"]["overlap"] == 1.0
    assert day["a"] == day["b"]
    r = api.client.get(f"/plans/{plan_id}/compare", params={"with": "nope"}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["field"] == "with"


def test_group_sheet_html_and_pdf(api: Api, plan_id: str) -> None:
    view = _view(api, plan_id)
    route = view["windows"][0]["routes"][0]
    q = {"window": WINDOW, "group": route["id"], "lang": "zh"}
    viewer = api.client.get(f"/plans/{plan_id}/sheets", params=q, headers=api.headers("viewer"))
    assert viewer.status_code == 200 and "text/html" in viewer.headers["content-type"]
    assert route["id"] in viewer.text and "<svg" in viewer.text and "巡逻点" in viewer.text
    assert "@page" in viewer.text and "A4" in viewer.text
    planner_view = _view(api, plan_id, "planner")
    phones = [p["phone"] for r in planner_view["windows"][0]["routes"] for p in r["members"]]
    planner = api.client.get(f"/plans/{plan_id}/sheets", params=q, headers=api.headers("planner"))
    shown = [p for p in phones if p and p in planner.text]
    assert shown, "planners get the phone numbers"
    assert not any(p in viewer.text for p in shown), "viewers do not"
    cell = {"window": WINDOW, "cell": route["grid"]}
    overview = api.client.get(
        f"/plans/{plan_id}/sheets", params=cell, headers=api.headers("viewer")
    )
    assert overview.status_code == 200 and f"data-cell='{route['grid']}'" in overview.text
    pdf = api.client.get(f"/plans/{plan_id}/sheets.pdf", params=q, headers=api.headers("viewer"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    bad = api.client.get(
        f"/plans/{plan_id}/sheets",
        params={"window": WINDOW, "group": "nope"},
        headers=api.headers("viewer"),
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "group[0]"
    none = api.client.get(
        f"/plans/{plan_id}/sheets", params={"window": WINDOW}, headers=api.headers("viewer")
    )
    assert none.status_code == 422 and none.json()["error"]["field"] == "group"


def test_schedule_exports_carry_member_names(api: Api, plan_id: str) -> None:
    view = _view(api, plan_id)
    names = {p["name"] for r in view["windows"][0]["routes"] for p in r["members"]}
    r = api.client.get(f"/plans/{plan_id}/schedule.csv", headers=api.headers("viewer"))
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows and all(row["member_names"] for row in rows)
    assert any(n in rows[0]["member_names"] for n in names)
    planner = _view(api, plan_id, "planner")["windows"][0]["routes"]
    phones = [p["phone"] for route in planner for p in route["members"]]
    assert not any(p and p in r.text for p in phones)
    x = api.client.get(f"/plans/{plan_id}/schedule.xlsx", headers=api.headers("viewer"))
    sheet = openpyxl.load_workbook(io.BytesIO(x.content))["all stops"]
    table = list(sheet.iter_rows(values_only=True))
    header = next(row for row in table if row and "member_names" in row)
    column = header.index("member_names")
    filled = [row[column] for row in table[table.index(header) + 1 :] if row[column]]
    assert filled and any(n in filled[0] for n in names)


def test_versions_of_an_unknown_plan(api: Api) -> None:
    r = api.client.get("/plans/nope/versions", headers=api.headers("viewer"))
    assert r.status_code == 404


def test_plan_edits_table_is_migrated(api: Api) -> None:
    engine = sa.create_engine(api.url)
    try:
        assert "plan_edits" in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_resources_have_typed_public_and_private_views(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert {"ResourcesPublic", "ResourcesPrivate", "OfficerPublic", "VolunteerPrivate"} <= set(
        schemas
    )
    assert schemas["VolunteerPublic"]["properties"]["id_number"]["type"] == "null"
    viewer = api.client.get("/districts/demo/resources", headers=api.headers("viewer")).json()
    planner = api.client.get("/districts/demo/resources", headers=api.headers("planner")).json()
    members = [m for t in viewer["teams"] for m in t["members"]]
    assert members and all(m["phone"] is None and m["id_number"] is None for m in members)
    private = [m for t in planner["teams"] for m in t["members"]]
    assert any(m["phone"] for m in private) and any(m["id_number"] for m in private)
    kind = api.client.get("/districts/demo/resources/teams", headers=api.headers("analyst"))
    assert kind.status_code == 200
    assert all(m["phone"] is None for t in kind.json()["items"] for m in t["members"])


def test_pin_move_and_add_through_the_api(api: Api, plan_id: str) -> None:
    view = _view(api, plan_id)
    cell, routes = _busy_cell(view)
    first, second = routes[0], routes[1]
    stop = next(s for s in second["stops"] if s["kind"] == "hotspot")
    # the pin keeps the stop's own start: feasible whatever plan the shared database gave
    at = _local(stop["arrival"]) + dt.timedelta(minutes=stop["wait"])
    person = next(m["id"] for m in first["members"] if m["role"] == "volunteer")
    body = {
        "window": WINDOW,
        "pins": [{"group_id": second["id"], "site_id": stop["site_id"], "at": at.isoformat()}],
        "moves": [{"person_id": person, "to_group": second["id"]}],
        "add": [{"lon": stop["lon"], "lat": stop["lat"], "value": 5.0, "id": "new-spot"}],
    }
    r = api.client.post(f"/plans/{plan_id}/adjust", json=body, headers=api.headers("planner"))
    assert r.status_code == 202, r.text
    job = wait_job(api, r.json()["id"])
    assert job["status"] == "done", job
    after = {x["id"]: x for x in _view(api, job["result"]["plan_id"])["windows"][0]["routes"]}
    pinned = after[second["id"]]
    assert person in [m["id"] for m in pinned["members"]]
    assert person not in [m["id"] for m in after[first["id"]]["members"]]
    held = [
        s
        for s in pinned["stops"]
        if s["site_id"] == stop["site_id"] and _local(s["arrival"]) <= at < _local(s["departure"])
    ]
    assert held, (at, pinned["stops"])
    visited = {s["site_id"] for x in after.values() for s in x["stops"]}
    assert "new-spot" in visited
    versions = api.client.get(
        f"/plans/{job['result']['plan_id']}/versions", headers=api.headers("viewer")
    ).json()
    statuses = {g["group"]: g["status"] for g in versions["items"][-1]["changes"]["groups"]}
    assert statuses[second["id"]] == "pinned" and cell in versions["items"][-1]["changes"]["cells"]
