"""The dispatcher's page in a real browser against a real server, with no network but loopback:
it loads, draws the grids and routes of a demo plan, a plan request shows its progress and
appears, an edit followed by a re-solve keeps the locked route, the print view renders a
group's sheet, and the page speaks Chinese."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Site, shot

pytestmark = pytest.mark.slow  # plans whole days: full run only, not the fast lane

DAY = "2026-11-30"
WINDOW = "19:00-23:00"


def _wait_job(site: Site, job_id: str, timeout: float = 1200.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    with site.api("viewer") as client:
        while time.monotonic() < deadline:
            job: dict[str, Any] = client.get(f"/jobs/{job_id}").json()
            if job["status"] in ("done", "failed"):
                return job
            time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


@pytest.fixture(scope="session")
def demo_plan(site: Site) -> str:
    """The demo's evening planned over HTTP (deterministic: seed 3, budget 0.5 s per cell)."""
    body = {"district": "demo", "date": DAY, "windows": [WINDOW], "seed": 3, "time_limit_s": 0.5}
    with site.api("planner") as client:
        r = client.post("/plans", json=body)
        assert r.status_code == 202, r.text
    job = _wait_job(site, r.json()["id"])
    assert job["status"] == "done", job
    plan_id: str = job["result"]["plan_id"]
    return plan_id


def _sign_in(page: Any, site: Site, role: str) -> None:
    page.goto(site.server.base + "/")
    page.wait_for_selector("#signin-key")
    page.fill("#signin-key", site.tokens[role])
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#signin", state="hidden")


def _open_plan(page: Any, plan_id: str) -> None:
    page.fill("#date", DAY)
    page.dispatch_event("#date", "change")
    page.wait_for_function(
        "id => [...document.querySelectorAll('#plan option')].some(o => o.value === id)",
        arg=plan_id,
    )
    page.select_option("#plan", plan_id)
    page.wait_for_function("id => document.getElementById('map').dataset.plan === id", arg=plan_id)
    page.wait_for_selector(".card")


def test_page_draws_grids_streets_and_routes(page: Any, site: Site, demo_plan: str) -> None:
    _sign_in(page, site, "viewer")
    _open_plan(page, demo_plan)
    box = page.locator("#map")
    assert int(box.get_attribute("data-cells")) == 13  # 1 + 3 + 9 cells of the demo
    page.wait_for_function("() => (document.getElementById('map').dataset.streets || '').length")
    assert int(box.get_attribute("data-streets").split(":")[1]) > 50
    with site.api("viewer") as client:
        view = client.get(f"/plans/{demo_plan}/view").json()
    routes = view["windows"][0]["routes"]
    assert int(box.get_attribute("data-routes")) == len(routes)
    assert page.locator(".card").count() == len(routes)
    # numbered stops on the map: every hotspot and post stop of every route
    stops = sum(1 for r in routes for s in r["stops"] if s["kind"] in ("hotspot", "post"))
    assert page.locator(".leaflet-marker-pane [data-stop]").count() == stops
    # one timeline row per group, with its duty blocks
    assert page.locator("#timeline-svg .tl-row").count() == len(routes)
    # a viewer sees no phone number and cannot adjust
    assert "☎" not in page.locator("#panel-groups").inner_text()
    assert page.locator("[data-action=lock]").count() == 0
    shot(page, site, "demo-plan")
    # filter to one level-2 cell
    cell = routes[0]["grid"]
    page.select_option("#f2", cell)
    page.wait_for_function(
        "n => document.getElementById('map').dataset.routes === String(n)",
        arg=sum(1 for r in routes if cell in r["cells"]),
    )
    assert page.locator(".card").count() == sum(1 for r in routes if cell in r["cells"])
    shot(page, site, "demo-cell-filter")
    # the cell's level-3 cells are named on the map, and no two names overlap
    shown = page.evaluate(
        """() => [...document.querySelectorAll('.leaflet-marker-pane .celllabel')]
        .filter(e => e.parentElement.style.visibility !== 'hidden')
        .map(e => { const r = e.getBoundingClientRect();
                    return [e.textContent, r.left, r.top, r.right, r.bottom]; })"""
    )
    assert any(name.startswith(cell + "-") for name, *_ in shown), shown
    for i, (_, *a) in enumerate(shown):
        for _, *b in shown[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)


def test_plan_request_shows_progress_and_appears(page: Any, site: Site, demo_plan: str) -> None:
    _sign_in(page, site, "planner")
    _open_plan(page, demo_plan)
    page.click("#new-plan")
    page.fill("#np-date", "2026-12-02")
    for box in page.locator('input[name="np-window"]').all():
        if box.get_attribute("value") != "07:00-11:00":
            box.uncheck()
    page.fill("#np-budget", "2")
    bar = page.locator("#top").bounding_box()
    # progress as the page shows it, every time it changes
    page.evaluate(
        """() => { window.seenProgress = [];
        const text = document.getElementById('job-text');
        new MutationObserver(() => window.seenProgress.push(text.textContent)).observe(
            text, {childList: true, characterData: true, subtree: true}); }"""
    )
    page.click("#newplan-form button[type=submit]")
    page.wait_for_selector("#job:not([hidden])")
    page.wait_for_function(
        "() => document.getElementById('job-text').textContent === 'done'", timeout=600_000
    )
    # the progress floats over the map: the top bar keeps its height (it wrapped a line before)
    assert page.locator("#top").bounding_box() == bar
    seen = page.evaluate("() => window.seenProgress")
    assert any("%" in text for text in seen), seen
    page.wait_for_function("() => document.getElementById('date').value === '2026-12-02'")
    page.wait_for_function("() => document.getElementById('window').value === '07:00-11:00'")
    page.wait_for_selector(".card")
    new_id = page.locator("#plan").input_value()
    with site.api("viewer") as client:
        info = client.get(f"/plans/{new_id}").json()
    assert info["date"] == "2026-12-02" and new_id != demo_plan
    shot(page, site, "plan-requested")


def test_lock_then_resolve_keeps_the_locked_route(page: Any, site: Site, demo_plan: str) -> None:
    with site.api("viewer") as client:
        before = client.get(f"/plans/{demo_plan}/view").json()["windows"][0]["routes"]
    by_cell: dict[str, list[dict[str, Any]]] = {}
    for r in before:
        by_cell.setdefault(r["grid"], []).append(r)
    cell = max(by_cell, key=lambda c: (len(by_cell[c]), c))
    locked, other = by_cell[cell][0], by_cell[cell][1]
    _sign_in(page, site, "planner")
    _open_plan(page, demo_plan)
    page.click(f'.card[data-group="{locked["id"]}"] [data-action=lock]')
    page.click(f'.card[data-group="{other["id"]}"] [data-action=unavailable]')
    page.click("[data-tab=adjust]")
    assert page.locator("#decisions li").count() == 2
    shot(page, site, "adjust-decisions")
    page.click("#adj-resolve")
    page.wait_for_selector("#changes", timeout=600_000)
    new_id = page.locator("#map").get_attribute("data-plan")
    assert new_id and new_id != demo_plan
    statuses = {
        row.get_attribute("data-change"): row.locator("td").nth(1).inner_text()
        for row in page.locator("#changes tr[data-change]").all()
    }
    assert statuses[locked["id"]] == "locked" and statuses[other["id"]] == "unavailable"
    with site.api("viewer") as client:
        after = client.get(f"/plans/{new_id}/view").json()["windows"][0]["routes"]
        versions = client.get(f"/plans/{new_id}/versions").json()
    kept = next(r for r in after if r["id"] == locked["id"])
    assert kept["stops"] == locked["stops"] and kept["path"] == locked["path"]
    assert other["id"] not in {r["id"] for r in after}
    assert [v["version"] for v in versions["items"]] == [0, 1]
    assert versions["items"][1]["created_by"].endswith(":planner")
    page.click("[data-tab=history]")
    page.wait_for_selector("#history-table")
    assert page.locator("#history-table tr").count() == 3
    shot(page, site, "adjust-resolved")
    # the new version against the plan it came from
    page.click("[data-tab=compare]")
    page.select_option("#compare-with", demo_plan)
    page.click("#compare-go")
    page.wait_for_selector("#compare-table")
    day = page.locator("#compare-table tr").last.locator("td")
    assert day.first.inner_text() == "day"
    assert day.last.inner_text().endswith("%") and day.last.inner_text() != "100%"


def _uncovered_stop(page: Any, group: str) -> int:
    """Index of a numbered stop of ``group`` on the map that no other marker covers."""
    index: int = page.evaluate(
        """g => [...document.querySelectorAll('.leaflet-marker-pane [data-stop]')]
        .filter(e => e.dataset.stop === g)
        .findIndex(e => { const r = e.getBoundingClientRect();
            return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === e; })""",
        group,
    )
    assert index >= 0, f"every stop of {group} is covered"
    return index


def _wait_or_explain(page: Any, site: Site, step: str, condition: str) -> None:
    """Wait up to a minute for ``condition`` after ``step``; else fail with what the page shows.

    A lost step would otherwise wait out the next action's ten-minute safety net and say only
    that an element was not visible.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(condition, timeout=60_000)
    except PlaywrightTimeout as exc:
        state = page.evaluate(
            """() => ({
            popup: !!document.querySelector('.leaflet-popup'),
            panels: [...document.querySelectorAll('.panel')].filter(p => !p.hidden).map(p => p.id),
            decisions: [...document.querySelectorAll('#decisions li')].map(li => li.innerText),
            selected: [...document.querySelectorAll('.card.selected')].map(c => c.dataset.group),
            })"""
        )
        path = shot(page, site, f"lost-{step}")
        raise AssertionError(
            f"after {step}: {condition} did not hold; page: {state}; {path}"
        ) from exc


def test_drop_a_visited_hotspot_and_add_one_on_a_route(
    page: Any, site: Site, demo_plan: str
) -> None:
    with site.api("viewer") as client:
        before = client.get(f"/plans/{demo_plan}/view").json()["windows"][0]
    _sign_in(page, site, "planner")
    _open_plan(page, demo_plan)
    card = page.locator(".card").first
    group = card.get_attribute("data-group")
    card.locator("h3").click()  # selected: only its stops are numbered
    page.wait_for_selector(f".card.selected[data-group='{group}']")
    stops = page.locator(f".leaflet-marker-pane [data-stop='{group}']")
    # a visited hotspot lies under its stop's number: the number opens the hotspot's popup
    stops.nth(_uncovered_stop(page, group)).click()
    page.wait_for_selector(".leaflet-popup [data-drop]")
    dropped = page.locator(".leaflet-popup [data-drop]").get_attribute("data-drop")
    route = next(r for r in before["routes"] if r["id"] == group)
    assert dropped in {s["site_id"] for s in route["stops"]}
    page.click(".leaflet-popup [data-drop]")
    _wait_or_explain(page, site, "drop", "() => !document.getElementById('panel-adjust').hidden")
    # "add hotspot", then a click on the route (a stop lies on it) adds one there
    page.click("#adj-add")
    box = stops.nth(_uncovered_stop(page, group)).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    lines = page.locator("#decisions li").all_inner_texts()
    assert len(lines) == 2 and dropped in lines[0] and "add hotspot at" in lines[1], lines
    assert page.locator(f".card.selected[data-group='{group}']").count() == 1
    shot(page, site, "drop-and-add")
    page.click("#adj-resolve")
    page.wait_for_selector("#changes", timeout=600_000)
    new_id = page.locator("#map").get_attribute("data-plan")
    with site.api("viewer") as client:
        after = client.get(f"/plans/{new_id}/view").json()["windows"][0]
    visited = {s["site_id"] for r in after["routes"] for s in r["stops"]}
    assert dropped not in visited
    assert any(lo["site_id"] == dropped and lo["code"] == "dropped" for lo in after["left_out"])
    assert [h["id"] for h in after["hotspots"] if h["id"].startswith("added")] == ["added-1"]


def test_a_late_answer_for_another_plan_does_not_replace_the_chosen_one(
    page: Any, site: Site, demo_plan: str
) -> None:
    with site.api("planner") as client:
        chosen = client.get(f"/plans/{demo_plan}/view").json()["windows"][0]
        off = chosen["routes"][0]["id"]
        r = client.post(f"/plans/{demo_plan}/adjust", json={"window": WINDOW, "unavailable": [off]})
        assert r.status_code == 202, r.text
    job = _wait_job(site, r.json()["id"])
    assert job["status"] == "done", job
    _sign_in(page, site, "planner")
    _open_plan(page, demo_plan)

    held: list[Any] = []

    def hold(route: Any) -> None:  # every other plan's view waits until released
        if demo_plan in route.request.url:
            route.continue_()
        else:
            held.append(route)

    page.route("**/plans/*/view", hold)
    page.dispatch_event("#date", "change")  # opens the day's newest plan: its answer is held
    page.select_option("#plan", demo_plan)  # the dispatcher chooses the first one meanwhile
    page.wait_for_function(
        "n => document.querySelectorAll('.card').length === n", arg=len(chosen["routes"])
    )
    assert held, "the newest plan's view was never asked for"
    with page.expect_response(lambda res: "/view" in res.url and demo_plan not in res.url):
        for route in held:
            route.continue_()
    page.wait_for_timeout(1000)
    assert page.locator("#plan").input_value() == demo_plan
    cards = {c.get_attribute("data-group") for c in page.locator(".card").all()}
    assert cards == {r["id"] for r in chosen["routes"]} and off in cards


def test_statistics_tab_shows_the_months_figures(page: Any, site: Site, demo_plan: str) -> None:
    _sign_in(page, site, "planner")
    _open_plan(page, demo_plan)
    page.click("[data-tab=stats]")  # opening the tab shows the month of the plan in view
    page.wait_for_selector("#stats-table table")
    assert page.locator("#stats-month").input_value() == DAY[:7]
    query = {"district": "demo", "from": f"{DAY[:7]}-01", "to": f"{DAY[:7]}-30"}
    with site.api("planner") as client:
        want = client.get("/statistics", params={**query, "period": "month"}).json()
    row = want["items"][0]
    assert row["person_times"] > 0 and row["patrol_hours"] > 0
    shown = page.locator("#stats-table tr[data-figure=person_times] td").all_inner_texts()
    assert shown == [f"{row['person_times']:g}"]
    heading = page.locator("#stats-table tr[data-figure=patrol_hours] th").inner_text()
    assert heading == want["labels"]["en"]["patrol_hours"]
    # every heading is readable: on one line of its own (not a word a line)
    height = page.locator("#stats-table tr[data-figure=incidents_near_patrol]").bounding_box()
    assert height is not None and height["height"] < 40
    shot(page, site, "statistics")
    page.select_option("#stats-by", "team")
    page.click("#stats-show")
    page.wait_for_function("() => document.querySelectorAll('#stats-table thead th').length > 2")
    teams = page.locator("#stats-table thead th").all_inner_texts()[1:]
    assert "Police" in teams and len(teams) >= 2
    page.locator("#top .lang-toggle").click()  # the table follows the language
    page.wait_for_function(
        "() => document.querySelector('#stats-table thead th').textContent === '队伍 / 网格'"
    )
    shot(page, site, "statistics-zh")
    with page.expect_download() as download:
        page.click("#stats-pdf")
    path = download.value.path()
    assert path is not None and Path(path).read_bytes()[:4] == b"%PDF"


def test_print_view_renders_a_group_sheet(page: Any, site: Site, demo_plan: str) -> None:
    _sign_in(page, site, "planner")
    _open_plan(page, demo_plan)
    first = page.locator(".card").first.get_attribute("data-group")
    page.locator(".card").first.locator("[data-action=print]").click()
    page.wait_for_selector("#print:not([hidden])")
    frame = page.frame_locator("#print-frame")
    sheet = frame.locator(f"section.sheet[data-group='{first}']")
    sheet.wait_for()
    assert sheet.locator("svg.map polyline").count() > 10  # streets and the route
    assert sheet.locator("svg.map circle").count() >= 3  # numbered stops
    assert sheet.locator("table").first.locator("tr").count() >= 4
    shot(page, site, "print-group-sheet")
    with page.expect_download() as download:
        page.click("#print-pdf")
    path = download.value.path()
    assert path is not None and Path(path).read_bytes()[:4] == b"%PDF"


def test_page_speaks_chinese(page: Any, site: Site, demo_plan: str) -> None:
    _sign_in(page, site, "admin")
    _open_plan(page, demo_plan)
    page.locator("#top .lang-toggle").click()
    assert page.locator("[data-tab=groups]").inner_text() == "巡逻组"
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "带队民警" in page.locator("#panel-groups").inner_text()
    assert "时间为 Europe/Helsinki" in page.locator("#metrics").inner_text()
    shot(page, site, "demo-zh")
    page.locator("#top .lang-toggle").click()
    assert page.locator("[data-tab=groups]").inner_text() == "Groups"


@pytest.mark.shared
def test_import_a_district_from_the_page(page: Any, site: Site, shared_osm: Path) -> None:
    from optimizer.district import default_data_dir

    name = f"page_{site.backend}_fx"
    folder = default_data_dir() / name
    try:
        _sign_in(page, site, "planner")
        page.wait_for_selector("#import:not([hidden])")
        page.click("#import")
        page.fill("#imp-name", name)
        page.set_input_files("#imp-osm", str(shared_osm / "shanghai_fengxian.osm"))
        page.fill('input[name="auto_grids"]', "1,3")
        page.fill('input[name="timezone"]', "Asia/Shanghai")
        page.click("#import-form button[type=submit]")
        page.wait_for_function(
            "n => [...document.querySelectorAll('#district option')].some(o => o.value === n)",
            arg=name,
            timeout=600_000,
        )
        page.wait_for_function(
            "() => document.getElementById('map').dataset.cells === '4'", timeout=600_000
        )
        assert page.locator("#district").input_value() == name
        shot(page, site, "imported-district")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
