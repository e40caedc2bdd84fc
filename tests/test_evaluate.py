"""PAI / PEI / rank correlation with known answers, intervals, and a backtest that cannot peek."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from optimizer.errors import InputError
from optimizer.evaluate import forecast as backtest_module
from optimizer.evaluate.forecast import rolling_backtest, summarize, weekly_origins
from optimizer.risk.accuracy import pai_pei, rank_correlation
from optimizer.risk.forecaster import ForecastParams
from tests.risk_data import lattice, synthetic_history


def test_pai_pei_known_answers() -> None:
    lengths = np.full(4, 10.0)
    counts = np.array([4.0, 0.0, 0.0, 0.0])
    perfect = pai_pei(np.array([9.0, 1.0, 1.0, 0.0]), lengths, counts, coverages=(0.25,))
    assert perfect["pai@25%"] == pytest.approx(4.0)
    assert perfect["pei@25%"] == pytest.approx(1.0)
    wrong = pai_pei(np.array([0.0, 1.0, 1.0, 9.0]), lengths, counts, coverages=(0.25,))
    assert wrong["pai@25%"] == 0.0 and wrong["pei@25%"] == 0.0
    # half the hits of the best choice of the same length: PEI 0.5
    counts2 = np.array([2.0, 2.0, 0.0, 0.0])
    half = pai_pei(np.array([1.0, 0.0, 2.0, 0.0]), lengths, counts2, coverages=(0.5,))
    assert half["hits@50%"] == pytest.approx(2.0)
    assert half["pei@50%"] == pytest.approx(0.5)
    assert half["pai@50%"] == pytest.approx((2 / 4) / 0.5)


def test_ties_share_the_boundary_and_uniform_is_one() -> None:
    lengths = np.array([10.0, 30.0, 60.0])
    counts = np.array([1.0, 2.0, 3.0])
    flat = pai_pei(np.ones(3), lengths, counts, coverages=(0.05, 0.5))
    assert flat["pai@5%"] == pytest.approx(1.0) and flat["pai@50%"] == pytest.approx(1.0)
    # segments 0 and 1 tie on top; 20 m of their 40 m fit: half of their 3 incidents
    tied = pai_pei(np.array([2.0, 2.0, 1.0]), lengths, counts, coverages=(0.2,))
    assert tied["hits@20%"] == pytest.approx(1.5)
    assert tied["pai@20%"] == pytest.approx((1.5 / 6) / 0.2)


def test_rank_correlation_known_answers() -> None:
    lengths = np.array([1.0, 1.0, 2.0, 4.0])
    counts = np.array([4.0, 3.0, 2.0, 1.0])  # densities 4, 3, 1, 0.25
    assert rank_correlation(np.array([9.0, 5.0, 2.0, 1.0]), lengths, counts) == pytest.approx(1.0)
    assert rank_correlation(np.array([1.0, 2.0, 5.0, 9.0]), lengths, counts) == pytest.approx(-1.0)
    assert np.isnan(rank_correlation(np.ones(4), lengths, counts))
    assert pai_pei(np.array([9.0, 5.0, 2.0, 1.0]), lengths, counts)["rho"] == pytest.approx(1.0)


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


def test_summarize_gives_t_interval_across_periods() -> None:
    values = [2.0, 4.0, 6.0]
    frame = pd.DataFrame(
        {"period": ["a", "b", "c"], "method": "m", "pai@5%": values, "rho": [0.1, 0.2, 0.3]}
    )
    out = summarize(frame)
    half = stats.t.ppf(0.975, 2) * np.std(values, ddof=1) / np.sqrt(3)
    assert out.loc["m", "pai@5%"] == pytest.approx(4.0)
    assert out.loc["m", "pai@5%_lo"] == pytest.approx(4.0 - half)
    assert out.loc["m", "pai@5%_hi"] == pytest.approx(4.0 + half)
    assert out.loc["m", "rho"] == pytest.approx(0.2)


@pytest.mark.slow  # a whole plan or forecast: full run only, not the fast lane
def test_backtest_never_gives_the_forecaster_its_test_weeks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    G = lattice(6)
    inc = synthetic_history(G, weeks=14, seed=5)
    last = pd.DatetimeIndex(inc["occurred_at"]).max().date()
    weeks = weekly_origins(last - dt.timedelta(days=20), last, "UTC")
    seen: list[tuple[pd.Timestamp, pd.Timestamp | None]] = []
    real = backtest_module.fit_forecast

    def spy(G_: Any, history: pd.DataFrame, params: Any = None, **kw: Any) -> Any:
        newest = pd.DatetimeIndex(history["occurred_at"]).max() if len(history) else None
        seen.append((pd.Timestamp(kw["at"]), newest))
        return real(G_, history, params, **kw)

    monkeypatch.setattr(backtest_module, "fit_forecast", spy)
    bt = rolling_backtest(G, inc, weeks, params=ForecastParams(min_data_in_leaf=20))
    assert [s for s, _ in seen] == [s for s, _ in weeks]
    assert all(newest is not None and newest < start for start, newest in seen)
    res = bt.results
    assert len(res.groupby("period")) == len(weeks)
    assert (res.groupby("period")["n"].nunique() == 1).all()
    mean = summarize(res)
    assert mean.loc["uniform", "pai@5%"] == pytest.approx(1.0)
    # the hot streets of the synthetic history are stable: every history-based forecast
    # beats uniform guessing, and the chosen method is among them
    for method in ("model", "network_kde", "all_earlier"):
        assert mean.loc[method, "pai@10%"] > 2.0
    assert set(bt.chosen.values()) <= {"learned", "network_kde", "all_earlier", "prev_4_weeks"} | {
        "planar_kde"
    }
    assert {"signal:own_7d", "signal:kde", "signal:intersection"} <= set(res["method"])
    if not bt.importance.empty:
        shares = bt.importance.groupby("period")["share"].sum()
        assert np.allclose(shares, 1.0)
