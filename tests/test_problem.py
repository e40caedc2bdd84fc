"""PatrolProblem validation: bad input names the field, the value and what is accepted."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.errors import InputError
from optimizer.problem import PatrolProblem, Site, Vehicle


def matrix(n: int) -> np.ndarray:
    return np.arange(n * n, dtype=np.int64).reshape(n, n)


def make(**overrides: object) -> PatrolProblem:
    args: dict[str, object] = {
        "n_depots": 1,
        "sites": (Site("a", 1, 1.0, 60), Site("b", 2, 2.0, 60, earliest_s=10, latest_s=20)),
        "vehicles": (Vehicle("v", 0, 0, "foot"),),
        "durations": {"foot": matrix(3)},
        "horizon_s": 3600,
    }
    args.update(overrides)
    return PatrolProblem(**args)  # type: ignore[arg-type]


def test_valid_problem() -> None:
    p = make()
    assert p.n_locations == 3
    assert p.meta == {}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"durations": {"foot": matrix(3), "car": matrix(4)}}, "durations[car]"),
        ({"vehicles": (Vehicle("v", 0, 0, "bike"),)}, "vehicles.v.mode"),
        (
            {"vehicles": (Vehicle("v", 0, 0, "foot", shift_start_s=100, shift_end_s=100),)},
            "vehicles.v.shift_end_s",
        ),
        ({"sites": (Site("d", 0, 1.0, 0),)}, "sites.d.location"),
        ({"sites": (Site("far", 3, 1.0, 0),)}, "sites.far.location"),
        ({"sites": (Site("w", 1, 1.0, 0, earliest_s=50, latest_s=40),)}, "sites.w.latest_s"),
    ],
)
def test_bad_input_names_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as info:
        make(**overrides)
    assert info.value.field == field
    assert info.value.accepted
