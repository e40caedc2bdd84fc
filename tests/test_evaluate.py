"""PAI / PEI with known answers, weekly origins, and a rolling backtest on a synthetic history."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from optimizer.district import District
from optimizer.errors import InputError
from optimizer.evaluate.forecast import (
    BASELINES,
    model_forecaster,
    pai_pei,
    rolling_backtest,
    summarize,
    weekly_origins,
)
from optimizer.risk.model import RiskParams


def test_pai_pei_known_answers() -> None:
    lengths = np.full(4, 10.0)
    counts = np.array([4.0, 0.0, 0.0, 0.0])
    perfect = pai_pei(np.array([9.0, 1.0, 1.0, 0.0]), lengths, counts, coverages=(0.25,))
    assert perfect["pai@25%"] == pytest.approx(4.0)
    assert perfect["pei@25%"] == pytest.approx(1.0)
    wrong = pai_pei(np.array([0.0, 1.0, 1.0, 9.0]), lengths, counts, coverages=(0.25,))
    assert wrong["pai@25%"] == 0.0 and wrong["pei@25%"] == 0.0


def test_ties_share_the_boundary_and_uniform_is_one() -> None:
    lengths = np.array([10.0, 30.0, 60.0])
    counts = np.array([1.0, 2.0, 3.0])
    flat = pai_pei(np.ones(3), lengths, counts, coverages=(0.05, 0.5))
    assert flat["pai@5%"] == pytest.approx(1.0) and flat["pai@50%"] == pytest.approx(1.0)
    # segments 0 and 1 tie on top; 20 m of their 40 m fit: half of their 3 incidents
    tied = pai_pei(np.array([2.0, 2.0, 1.0]), lengths, counts, coverages=(0.2,))
    assert tied["hits@20%"] == pytest.approx(1.5)
    assert tied["pai@20%"] == pytest.approx((1.5 / 6) / 0.2)


def test_pai_pei_validates() -> None:
    with pytest.raises(InputError, match="scores"):
        pai_pei(np.ones(2), np.ones(3), np.ones(3))
    with pytest.raises(InputError, match="coverages"):
        pai_pei(np.ones(3), np.ones(3), np.ones(3), coverages=(1.5,))
    assert np.isnan(pai_pei(np.ones(3), np.ones(3), np.zeros(3))["pai@5%"])


def test_weekly_origins_cover_the_month() -> None:
    weeks = weekly_origins(dt.date(2012, 9, 1), dt.date(2012, 9, 30), "America/Los_Angeles")
    assert [d for _, d in weeks] == [7, 7, 7, 7, 2]
    assert weeks[0][0] == pd.Timestamp("2012-09-01", tz="America/Los_Angeles")
    with pytest.raises(InputError):
        weekly_origins(dt.date(2012, 9, 30), dt.date(2012, 9, 1), "UTC")


# A fixed period: the stored demo's history ends "yesterday", so a test on it would change daily.
FIXED_PERIOD = (dt.date(2026, 3, 1), dt.date(2026, 8, 31))


@pytest.fixture(scope="module")
def demo() -> District:
    from optimizer.staff.roster import Resources
    from optimizer.synthetic.demo import build_grids, demo_graph, demo_incidents

    G = demo_graph()
    grids = build_grids(G)
    incidents = demo_incidents(G, grids, timezone="Europe/Helsinki", period=FIXED_PERIOD)
    return District("demo-fixed", grids, G, Resources(), incidents)


def test_backtest_on_synthetic_history_beats_uniform(demo: District) -> None:
    inc = demo.incidents
    assert inc is not None
    last = inc["occurred_at"].max().date()
    weeks = weekly_origins(last - dt.timedelta(days=13), last, "Europe/Helsinki")
    fc = dict(BASELINES)
    fc["model"] = model_forecaster(RiskParams())
    res = rolling_backtest(demo.graph, inc, weeks, fc)
    assert len(res) == len(weeks) * len(fc)
    assert (res.groupby("period")["n"].nunique() == 1).all()
    mean = summarize(res)
    assert mean.loc["uniform", "pai@5%"] == pytest.approx(1.0)
    assert mean.loc["model", "pai@5%"] > 2.0
    assert mean.loc["model", "pai@5%"] > mean.loc["prev_4_weeks", "pai@5%"]
    assert 0 < mean.loc["model", "pei@10%"] <= 1
