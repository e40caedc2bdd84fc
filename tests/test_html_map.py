"""The HTML map loads nothing from the network and draws the plan in a real headless browser."""

from __future__ import annotations

import datetime as dt
import html.parser
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from optimizer.district import District
from optimizer.outputs.html_map import (
    html_map,
    html_map_data,
    leaflet_css,
    leaflet_js,
    write_html_map,
)
from optimizer.plan.day import plan_day
from optimizer.plan.types import DayPlan

MONDAY = dt.date(2026, 11, 30)
RESOURCE_ATTRIBUTES = {"src", "href", "srcset", "poster", "data", "action", "background"}


@pytest.fixture(scope="module")
def plan(demo: District) -> DayPlan:
    return plan_day(demo, day=MONDAY, windows=["07:00-11:00", "19:00-23:00"], seed=4)


@pytest.fixture(scope="module")
def page(plan: DayPlan, demo: District) -> str:
    return html_map(plan, district=demo)


class _Resources(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in RESOURCE_ATTRIBUTES and value is not None:
                self.found.append((tag, name, value))


def test_page_references_no_network_resource(page: str) -> None:
    parser = _Resources()
    parser.feed(page)
    assert parser.found == []  # no <script src>, <link href>, <img src>: everything is inline
    urls = re.findall(r"url\(\s*['\"]?([^)'\"]*)", page)
    assert urls and all(u.startswith(("data:", "#")) for u in urls), urls
    assert not re.search(r"@import", page)
    # the only http(s) text is inside Leaflet's own code (namespaces, comments), never loaded
    outside = page.replace(leaflet_js(), "").replace(leaflet_css(), "")
    assert not re.search(r"https?://|//cdn|//unpkg", outside), re.findall(r"https?://\S+", outside)
    assert not re.search(r"fetch\(|XMLHttpRequest|importScripts|new WebSocket", outside)


def test_page_carries_licence_and_data(page: str, plan: DayPlan) -> None:
    assert "BSD 2-Clause License" in page and "Volodymyr Agafonkin" in page
    blob = re.search(r'<script id="plan-data" type="application/json">(.*?)</script>', page, re.S)
    assert blob is not None
    data = json.loads(blob.group(1))
    assert data["timezone_note"] == "times in Europe/Helsinki (UTC+02:00)"
    assert sum(len(w["routes"]) for w in data["windows"]) == len(plan.routes)
    stops = {
        (r["id"], s["n"], s["arr"])
        for w in data["windows"]
        for r in w["routes"]
        for s in r["stops"]
    }
    assert stops == {
        (r.group.id, s.sequence, f"{s.arrival:%H:%M}") for r in plan.routes for s in r.stops
    }
    assert data["streets"] and data["cells"]


def test_data_names_members_without_phones(plan: DayPlan, demo: District) -> None:
    data = html_map_data(plan, district=demo)
    text = json.dumps(data, ensure_ascii=False)
    officer = demo.resources.officers[0]
    assert any(officer.name in r["people"] for w in data["windows"] for r in w["routes"]) or not [
        r for r in plan.routes if officer.id in r.group.members
    ]
    people = [*demo.resources.officers, *demo.resources.volunteers]
    assert not [p.phone for p in people if p.phone and p.phone in text]


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
@pytest.mark.skipif(_chromium() is None, reason="Debian's chromium is not installed")
def test_headless_chromium_draws_the_plan_offline(
    plan: DayPlan, demo: District, tmp_path: Path
) -> None:
    path = write_html_map(plan, tmp_path / "map.html", district=demo)
    wp = plan.windows[0]
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [
                str(_chromium()),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                # no network at all: every host unresolvable, every proxy dead
                "--host-resolver-rules=MAP * ~NOTFOUND",
                "--proxy-server=http://127.0.0.1:9",
                "--window-size=1200,800",
                "--virtual-time-budget=5000",
                "--dump-dom",
                f"{path.as_uri()}#window=0&cell={wp.grid_id}",
            ],
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
    dom = proc.stdout
    body = re.search(r"<body[^>]*>", dom)
    assert body is not None, proc.stderr[-2000:]
    attrs = dict(re.findall(r'(data-[\w-]+)="([^"]*)"', body.group(0)))
    assert attrs.get("data-ready") == "1", proc.stderr[-2000:]
    assert attrs["data-routes"] == str(len(wp.routes))
    visits = sum(1 for r in wp.routes for s in r.stops if s.kind not in ("start", "end"))
    assert attrs["data-stops"] == str(visits)
    assert attrs["data-numbered"] == "1"  # a level-2 cell is shown close enough for numbers
    assert 'class="stop' in dom and "leaflet-container" in dom
