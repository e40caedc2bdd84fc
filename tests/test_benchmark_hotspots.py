"""The hotspot benchmark's tuning keeps the library defaults without clear evidence."""

from __future__ import annotations

import pandas as pd
import pytest

from benchmarks.hotspots import one_standard_error_choice, paired_gains


def weeks(*values: float) -> pd.Series:
    return pd.Series(values, index=[f"2012-08-{d:02d}" for d in range(1, 1 + len(values))])


def test_paired_gains_are_weekly_differences_to_the_defaults() -> None:
    g = paired_gains([weeks(10, 11, 12), weeks(11, 12, 13), weeks(12, 10, 14)])
    assert g["gain"].tolist() == pytest.approx([0.0, 1.0, 1.0])
    assert g.loc[1, "gain_se"] == pytest.approx(0.0)
    # differences 2, -1, 2: standard deviation sqrt(3), standard error 1
    assert g.loc[2, "gain_se"] == pytest.approx(1.0)
    # a week one candidate was not scored is left out of its pair
    short = paired_gains([weeks(10, 11, 12), weeks(11, float("nan"), 14)])
    assert short.loc[1, "gain"] == pytest.approx(1.5)


def test_a_candidate_replaces_the_defaults_only_beyond_one_standard_error() -> None:
    grid = pd.DataFrame(
        {
            "score": [10.0, 10.5, 11.0],
            "gain": [0.0, 0.5, 1.0],
            "gain_se": [0.0, 0.1, 1.2],  # the best score is inside its noise
        }
    )
    assert one_standard_error_choice(grid) == 1
    grid.loc[2, "gain_se"] = 0.5
    assert one_standard_error_choice(grid) == 2
    grid["gain_se"] = [0.0, 0.6, 1.5]
    assert one_standard_error_choice(grid) == 0
    # no validation weeks: nothing is known, the defaults stay
    nothing = pd.DataFrame({"score": [float("nan")] * 2, "gain": [float("nan")] * 2})
    nothing["gain_se"] = float("nan")
    assert one_standard_error_choice(nothing) == 0
