"""Round trip of a real demo plan through plain JSON (optimizer.outputs.plan_io)."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
from typing import Any

import pytest

from optimizer.errors import InputError
from optimizer.outputs.plan_io import FORMAT_VERSION, plan_from_dict, plan_to_dict
from optimizer.plan.types import DayPlan


@pytest.fixture(scope="module")
def plan(demo_plan: DayPlan) -> DayPlan:
    return demo_plan


def _assert_same(a: Any, b: Any, where: str) -> None:
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), where
        for f in dataclasses.fields(a):
            _assert_same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, tuple | list):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{where}[{i}]")
    elif hasattr(a, "geom_type"):
        assert a.geom_type == b.geom_type and list(a.coords) == list(b.coords), where
    else:
        assert type(a) is type(b) and a == b, where
        if isinstance(a, dt.datetime):
            assert a.utcoffset() == b.utcoffset(), where


def test_round_trip_field_by_field(plan: DayPlan) -> None:
    assert plan.routes, "the demo plan should have routes"
    data = json.loads(json.dumps(plan_to_dict(plan)))
    assert data["format_version"] == FORMAT_VERSION
    back = plan_from_dict(data)
    _assert_same(plan, back, "plan")
    assert back.to_frame().equals(plan.to_frame())


def test_json_shapes(plan: DayPlan) -> None:
    data = plan_to_dict(plan)
    w = data["windows"][0]
    assert w["window"] == "07:00-11:00"
    assert data["date"] == "2026-11-30"
    assert data["format_version"] == FORMAT_VERSION
    assert {s["window"] for s in data["staffing"]} == {"07:00-11:00", "14:00-18:00", "19:00-23:00"}
    group = next(r for x in data["windows"] for r in x["routes"])["group"]
    assert group["muster_id"]
    route = next(r for x in data["windows"] for r in x["routes"])
    assert all(len(p) == 2 for p in route["path"])
    assert (
        dt.datetime.fromisoformat(route["stops"][0]["arrival"])
        == next(r for x in plan.windows for r in x.routes).stops[0].arrival
    )


def test_version_1_plans_still_read(plan: DayPlan) -> None:
    data = plan_to_dict(plan)
    data["format_version"] = 1
    del data["staffing"]
    for w in data["windows"]:
        for r in w["routes"]:
            del r["group"]["muster_id"]
    old = plan_from_dict(data)
    assert old.staffing == () and all(r.group.muster_id == "" for r in old.routes)
    assert old.to_frame().equals(plan.to_frame())


def test_aware_datetimes_keep_offset(plan: DayPlan) -> None:
    tz = dt.timezone(dt.timedelta(hours=8))
    wp = plan.windows[0]
    aware = dataclasses.replace(
        plan,
        windows=(
            dataclasses.replace(
                wp, start=wp.start.replace(tzinfo=tz), end=wp.end.replace(tzinfo=tz)
            ),
        ),
    )
    data = plan_to_dict(aware)
    assert data["windows"][0]["start"].endswith("+08:00")
    assert plan_from_dict(data).windows[0].start.utcoffset() == dt.timedelta(hours=8)


def test_unknown_version(plan: DayPlan) -> None:
    data = plan_to_dict(plan)
    data["format_version"] = 99
    with pytest.raises(InputError) as err:
        plan_from_dict(data)
    assert err.value.field == "format_version" and err.value.value == 99
    del data["format_version"]
    with pytest.raises(InputError, match="format_version"):
        plan_from_dict(data)


def test_missing_and_bad_fields_are_named(plan: DayPlan) -> None:
    data = plan_to_dict(plan)
    bad = copy.deepcopy(data)
    del bad["windows"][0]["grid_id"]
    with pytest.raises(InputError) as err:
        plan_from_dict(bad)
    assert err.value.field == "windows[0].grid_id"
    wi = next(i for i, w in enumerate(data["windows"]) if w["routes"])
    bad = copy.deepcopy(data)
    bad["windows"][wi]["routes"][0]["stops"][0]["arrival"] = "yesterday"
    with pytest.raises(InputError) as err:
        plan_from_dict(bad)
    assert err.value.field == f"windows[{wi}].routes[0].stops[0].arrival"
    with pytest.raises(InputError):
        plan_from_dict([])  # type: ignore[arg-type]
