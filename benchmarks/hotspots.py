"""Backtest of the hotspot forecaster against its signals and the baselines, and its speed.

Protocol
--------
Data: ``--incidents`` (default ``$PATROL_SHARED_DIR/data/incidents/sf_2012_q3.csv``, SF police
incidents Jul-Sep 2012, date only) on ``--osm`` (default ``SanFranciscoFiltered.osm``). The CSV
is read by ``optimizer.risk.incidents.read_incidents`` (columns ``incident_num`` -> id, ``date`` ->
time, ``category``, ``lon``, ``lat``; duplicates of an incident number dropped) and snapped to the
streets of ``optimizer.streets.graph``. The risk-terrain places are read from the same OSM file
(``optimizer.risk.terrain.read_terrain``). ``--demo`` uses the embedded demo's Helsinki streets
and its seeded synthetic incidents (2026-03-01 to 2026-08-31) instead. ``--mirror`` reverses
time (an incident on day ``d`` moves to ``first + last - d``): the forecaster then learns from
the later weeks and is tested on the earlier ones, with ``--start``/``--end`` read on the
mirrored calendar.

1. **Tuning** (never the test weeks): rolling origin over the ``--val-weeks`` 7-day periods
   before ``--start``. Each candidate of a small grid (network-KDE half-life and wide weight x
   two sizes of the boosted trees) is fitted with the learned model forced on everything before
   each period and forecasts it; each is scored by the forecaster's own rule
   (``optimizer.risk.forecaster.selection_score``: geometric mean over 1, 5 and 10 % of the
   mean PAI across the weeks). The library defaults are kept unless a candidate beats them by
   more than one standard error of its paired weekly gain (the one-standard-error rule); among
   those that do, the best score is chosen.
2. **Test**: rolling origin over the 7-day periods from ``--start`` to ``--end`` (the last may be
   shorter). For each, the forecaster (chosen parameters) is fitted on the incidents before the
   period only (``optimizer.evaluate.forecast.rolling_backtest`` cuts the frame there), chooses
   its method by its own rolling validation on the 4 weeks before the period, and forecasts
   the period. Scored side by side: ``model`` (the chosen method), ``learned``, ``network_kde``,
   the baselines (uniform; previous 4 weeks per metre; all earlier per metre; planar Gaussian KDE,
   150 m), each single signal alone, and ``model_defaults`` (library defaults). PAI and PEI at 1,
   5 and 10 % of the street length and Spearman's rho per week; mean and 95 % interval across
   weeks (Student t). Targets: model PAI@5% >= 1.05 x the best baseline's, and model PAI@1% not
   below the best baseline's. The learned model's feature importance (gain share, mean over the
   test weeks) is printed.
3. **Performance** (unless ``--no-perf``): a graph of >= 20,000 directed edges (disjoint
   copies of the SF streets and the demo's Helsinki streets), 100,000 incidents on its segments
   over 180 days: building the network kernel (once per graph and bandwidth), fitting the
   forecaster with it (KDE, features, validation, boosting), the risk of one window after
   fitting (what ``hotspots_for_window`` asks per window), and adding 100 incidents + the risk
   of the window; median of ``--repeats`` runs.

Run: ``python benchmarks/hotspots.py`` (another month of the same city:
``--incidents F.csv --start YYYY-MM-DD --end YYYY-MM-DD``; another city also ``--osm F.osm
--tz ZONE``). Last line of stdout: one JSON object of figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import itertools
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optimizer.evaluate.forecast import rolling_backtest, summarize, weekly_origins  # noqa: E402
from optimizer.risk.features import BASELINE_SIGNALS  # noqa: E402
from optimizer.risk.forecaster import (  # noqa: E402
    ForecastParams,
    fit_forecast,
    selection_score,
)
from optimizer.risk.incidents import read_incidents, street_segments  # noqa: E402
from optimizer.risk.model import NetworkKernel, RiskParams, network_kernel  # noqa: E402
from optimizer.risk.terrain import read_terrain  # noqa: E402
from optimizer.timewindow import TimeWindow  # noqa: E402

KDE_GRID: dict[str, tuple[float, ...]] = {
    "half_life_days": (60.0, 1000.0),
    "wide_weight": (2.0, 5.0),
}
MIN_EVIDENCE_SE = 1.0
"""A tuned candidate replaces the library defaults only when its mean weekly gain in validation
exceeds this many standard errors of that gain (the one-standard-error rule)."""
TREE_GRID: tuple[dict[str, Any], ...] = (
    {"num_leaves": 5, "min_data_in_leaf": 200, "rounds": 50},
    {"num_leaves": 7, "min_data_in_leaf": 100, "rounds": 100},
)
JSON_COLUMNS = ("pai@1%", "pai@5%", "pai@5%_lo", "pai@5%_hi", "pai@10%", "pei@5%", "rho")
TEST_METHODS_ORDER = ("model", "learned", "network_kde", *BASELINE_SIGNALS, "uniform")
DEMO_PERIOD = (dt.date(2026, 3, 1), dt.date(2026, 8, 31))


def shared_dir() -> Path:
    env = os.environ.get("PATROL_SHARED_DIR")
    path = Path(env) if env else ROOT.parent / "shared"
    if not path.is_dir():
        sys.exit(
            f"benchmarks/hotspots.py: shared data folder {path} is absent (set PATROL_SHARED_DIR)"
        )
    return path


def load_graph(osm: Path) -> nx.MultiDiGraph:
    from optimizer.streets.graph import graph_from_osm_file, prepare_graph

    return prepare_graph(graph_from_osm_file(osm))


def mirrored(inc: pd.DataFrame) -> pd.DataFrame:
    """Reverse time: an incident on day d moves to first + last - d (same time zone)."""
    when = pd.DatetimeIndex(inc["occurred_at"])
    days = when.normalize()
    lo, hi = days.min(), days.max()
    out = inc.copy()
    flipped = lo + (hi - days) + (when - days)
    out["occurred_at"] = flipped.tz_convert(when.tz)
    return out


def load_data(
    args: argparse.Namespace,
) -> tuple[nx.MultiDiGraph, pd.DataFrame, pd.DataFrame, str]:
    """Return the graph, snapped incidents, terrain places and a description."""
    if args.demo:
        from optimizer.synthetic.demo import build_grids, demo_graph, demo_incidents, demo_source

        G = demo_graph()
        inc = demo_incidents(G, build_grids(G), timezone=args.tz, period=DEMO_PERIOD)
        return G, inc, read_terrain(demo_source()), "demo (Helsinki streets, synthetic incidents)"
    shared = shared_dir()
    inc_path = Path(args.incidents or shared / "data" / "incidents" / "sf_2012_q3.csv")
    osm_path = Path(args.osm or shared / "data" / "osm" / "SanFranciscoFiltered.osm")
    for path in (inc_path, osm_path):
        if not path.is_file():
            sys.exit(f"benchmarks/hotspots.py: {path} is absent")
    t0 = time.perf_counter()
    G = load_graph(osm_path)
    t_graph = time.perf_counter() - t0
    columns = dict(kv.split("=", 1) for kv in args.columns.split(",")) if args.columns else None
    intake = read_incidents(inc_path, columns=columns, tz=args.tz, graph=G)
    inc = intake.incidents
    n_dup = sum(p.field == "incident_id" for p in intake.problems)
    print(
        f"graph {osm_path.name}: {G.number_of_edges()} edges, "
        f"{len(street_segments(G))} segments ({t_graph:.1f} s); incidents {len(inc)} snapped "
        f"(median {inc['snap_m'].median():.1f} m), {len(intake.problems)} problems "
        f"({n_dup} duplicate ids), date only: {bool(inc['date_only'].all())}"
    )
    return G, inc, read_terrain(osm_path), f"{inc_path.name} on {osm_path.name}"


def weekly_scores(results: pd.DataFrame, coverages: tuple[float, ...]) -> pd.Series:
    """Return the learned model's selection score of each validation week (indexed by period)."""
    learned = results[results["method"] == "learned"]
    return pd.Series(
        {
            period: float(selection_score(rows, coverages).iloc[0])
            for period, rows in learned.groupby("period")
        },
        dtype=float,
    )


def paired_gains(weekly: list[pd.Series]) -> pd.DataFrame:
    """Return each candidate's paired weekly gain over the first (the defaults).

    Columns ``gain`` (mean over the weeks both were scored) and ``gain_se`` (its standard
    error; NaN with fewer than two weeks).
    """
    gains = [(w - weekly[0]).dropna() for w in weekly]
    return pd.DataFrame(
        {
            "gain": [float(g.mean()) if len(g) else float("nan") for g in gains],
            "gain_se": [
                float(g.std(ddof=1) / np.sqrt(len(g))) if len(g) > 1 else float("nan")
                for g in gains
            ],
        }
    )


def one_standard_error_choice(grid: pd.DataFrame) -> int:
    """Return the row chosen: the best ``score`` among the rows whose ``gain`` exceeds
    :data:`MIN_EVIDENCE_SE` times ``gain_se``, else row 0 (the defaults)."""
    clear = (grid["gain"] > MIN_EVIDENCE_SE * grid["gain_se"]).to_numpy(dtype=bool)
    if not clear.any():
        return 0
    return int(np.nanargmax(np.where(clear, grid["score"].to_numpy(dtype=float), np.nan)))


def tune(
    G: nx.MultiDiGraph,
    inc: pd.DataFrame,
    terrain: pd.DataFrame,
    val: list[tuple[pd.Timestamp, float]],
    kernels: dict[float, NetworkKernel],
) -> tuple[ForecastParams, pd.DataFrame]:
    """Choose the forecaster's parameters on the validation weeks (learned model forced).

    The library defaults are kept unless a candidate beats them by more than one standard
    error of the weekly paired difference of the score (:data:`MIN_EVIDENCE_SE`): with a few
    weeks of validation the best of a grid is mostly noise, and the defaults are the prior.
    """
    defaults = ForecastParams(validation_weeks=0)
    candidates = [defaults]
    for kde_values, trees in itertools.product(itertools.product(*KDE_GRID.values()), TREE_GRID):
        kde = RiskParams(**dict(zip(KDE_GRID, kde_values, strict=True)))
        p = ForecastParams(kde=kde, validation_weeks=0, **trees)
        if p != defaults:
            candidates.append(p)
    rows = []
    weekly: list[pd.Series] = []
    for p in candidates:
        K = kernel_of(G, p, kernels)
        bt = rolling_backtest(G, inc, val, params=p, terrain=terrain, signals=False, kernel=K)
        res = bt.results[bt.results["method"] == "learned"]
        weekly.append(weekly_scores(res, p.select_coverages))
        score = (
            float(selection_score(res, p.select_coverages).iloc[0]) if len(res) else float("nan")
        )
        row: dict[str, Any] = {
            "half_life_days": p.kde.half_life_days,
            "wide_weight": p.kde.wide_weight,
            "num_leaves": p.num_leaves,
            "min_data_in_leaf": p.min_data_in_leaf,
            "rounds": p.rounds,
        }
        for c in ("pai@1%", "pai@5%", "pai@10%"):
            row[c] = float(res[c].mean()) if len(res) else float("nan")
        rows.append({**row, "score": score})
    grid = pd.concat([pd.DataFrame(rows), paired_gains(weekly)], axis=1)
    grid["defaults"] = [i == 0 for i in range(len(candidates))]
    chosen = candidates[one_standard_error_choice(grid)]
    grid["chosen"] = [p is chosen for p in candidates]
    return dataclasses.replace(chosen, validation_weeks=ForecastParams().validation_weeks), grid


def kernel_of(
    G: nx.MultiDiGraph, p: ForecastParams, kernels: dict[float, NetworkKernel]
) -> NetworkKernel:
    """Return the graph's kernel at the KDE bandwidth of ``p`` (built once per bandwidth)."""
    bw = float(p.kde.bandwidth_m)
    if bw not in kernels:
        kernels[bw] = network_kernel(G, bw)
    return kernels[bw]


def backtest(args: argparse.Namespace) -> tuple[dict[str, Any], nx.MultiDiGraph]:
    G, inc, terrain, described = load_data(args)
    if args.mirror:
        inc = mirrored(inc)
    start = dt.date.fromisoformat(args.start)
    end = dt.date.fromisoformat(args.end)
    val_start = start - dt.timedelta(days=7 * args.val_weeks)
    val = weekly_origins(val_start, start - dt.timedelta(days=1), args.tz)
    test = weekly_origins(start, end, args.tz)
    print(f"data: {described}{' (mirrored)' if args.mirror else ''}; terrain {len(terrain)} places")

    # 1. tuning on the weeks before --start
    t0 = time.perf_counter()
    kernels: dict[float, NetworkKernel] = {}
    chosen, grid = tune(G, inc, terrain, val, kernels)
    t_val = time.perf_counter() - t0
    print(f"\ntuning ({len(val)} weeks from {val_start}, learned model forced, {t_val:.0f} s):")
    print(grid.to_string(float_format=lambda v: f"{v:7.3f}"))

    # 2. test weeks
    t0 = time.perf_counter()
    K = kernel_of(G, chosen, kernels)
    bt = rolling_backtest(G, inc, test, params=chosen, terrain=terrain, kernel=K)
    Kd = kernel_of(G, ForecastParams(), kernels)
    defaults = rolling_backtest(G, inc, test, terrain=terrain, signals=False, kernel=Kd)
    t_test = time.perf_counter() - t0
    d = defaults.results[defaults.results["method"] == "model"].assign(method="model_defaults")
    res = pd.concat([bt.results, d], ignore_index=True)
    summary = summarize(res)
    per_week = res.pivot(index="period", columns="method", values="pai@5%")
    shown = [m for m in (*TEST_METHODS_ORDER, "model_defaults") if m in per_week.columns]
    print(f"\nPAI@5% per test week ({t_test:.0f} s):")
    print(per_week[shown].to_string(float_format=lambda v: f"{v:6.2f}"))
    print("method chosen per week:", bt.chosen)
    notes = sorted({n for ns in bt.notes.values() for n in ns})
    for n in notes:
        print("note:", n)
    print(f"\nmean over {len(test)} weeks from {start} to {end} (95 % interval across weeks):")
    cols = ["pai@1%", "pai@5%", "pai@5%_lo", "pai@5%_hi", "pai@10%", "pei@5%", "rho"]
    print(summary[cols].to_string(float_format=lambda v: f"{v:7.3f}"))
    importance = pd.DataFrame()
    if not bt.importance.empty:
        importance = bt.importance.groupby("feature")["share"].mean().sort_values(ascending=False)
        print("\nfeature importance (gain share, mean over test weeks):")
        print(importance.to_string(float_format=lambda v: f"{v:6.3f}"))
    best5 = float(summary.loc[list(BASELINE_SIGNALS), "pai@5%"].max())
    best1 = float(summary.loc[list(BASELINE_SIGNALS), "pai@1%"].max())
    m5 = float(summary.loc["model", "pai@5%"])
    m1 = float(summary.loc["model", "pai@1%"])
    figures: dict[str, Any] = {
        "data": described + (" mirrored" if args.mirror else ""),
        "incidents": len(inc),
        "test": [start.isoformat(), end.isoformat()],
        "test_weeks": len(test),
        "test_incidents": int(res.groupby("period")["n"].first().sum()),
        "tuned": {
            "half_life_days": chosen.kde.half_life_days,
            "wide_weight": chosen.kde.wide_weight,
            "num_leaves": chosen.num_leaves,
            "rounds": chosen.rounds,
        },
        "chosen_methods": bt.chosen,
        "mean": {
            str(m): {c: round(float(row[c]), 4) for c in JSON_COLUMNS if np.isfinite(row[c])}
            for m, row in summary.iterrows()
        },
        "importance": {str(k): round(float(v), 4) for k, v in importance.items()},
        "pai5_ratio_to_best_baseline": round(m5 / best5, 4),
        "pai1_ratio_to_best_baseline": round(m1 / best1, 4),
        "target_pai5_met": bool(m5 >= 1.05 * best5),
        "target_pai1_met": bool(m1 >= best1),
    }
    print(
        f"\nmodel PAI@5% {m5:.3f} = {m5 / best5:.4f} x best baseline ({best5:.3f}; target 1.05); "
        f"PAI@1% {m1:.3f} = {m1 / best1:.4f} x best baseline ({best1:.3f}; target 1.00)"
    )
    return figures, G


def perf(G_sf: nx.MultiDiGraph, repeats: int) -> dict[str, Any]:
    from optimizer.synthetic.demo import demo_graph

    H = demo_graph()
    G = nx.MultiDiGraph(crs=H.graph["crs"])
    offset = 0
    copies = 0
    # Disjoint copies of real street networks until the graph has 20,000 directed edges.
    while G.number_of_edges() < 20_000:
        for part in (G_sf, H):
            for n, d in part.nodes(data=True):
                G.add_node(int(n) + offset, **d)
            for u, v, k, d in part.edges(keys=True, data=True):
                dd = {key: val for key, val in d.items() if key != "geometry"}
                G.add_edge(int(u) + offset, int(v) + offset, k, **dd)
            offset = max(int(n) for n in G.nodes) + 1
            copies += 1
    segs = street_segments(G)
    rng = np.random.default_rng(7)
    n = 100_100
    L = segs["length"].to_numpy()
    pick = rng.choice(len(segs), size=n, p=L / L.sum())
    cats = np.array(["vehicle_break_in", "pickpocketing", "dispute", "burglary"])
    when = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(
        np.sort(rng.uniform(0, 180, size=n)), unit="D"
    )
    frame = pd.DataFrame(
        {
            "incident_id": [f"P{i}" for i in range(n)],
            "category": cats[rng.integers(0, 4, size=n)],
            "occurred_at": when,
            "date_only": False,
            "u": segs["u"].to_numpy()[pick],
            "v": segs["v"].to_numpy()[pick],
            "key": segs["key"].to_numpy()[pick],
        }
    )
    base, new = frame.iloc[:100_000], frame.iloc[100_000:]
    at = pd.Timestamp("2024-06-30 19:00", tz="UTC")
    window = TimeWindow.parse("19:00-23:00")
    params = ForecastParams()
    t0 = time.perf_counter()
    K = network_kernel(G, params.kde.bandwidth_m)
    t_kernel = time.perf_counter() - t0
    fit: list[float] = []
    per_window: list[float] = []
    incr: list[float] = []
    method = ""
    for _ in range(repeats):
        t0 = time.perf_counter()
        fc = fit_forecast(G, base, params, kernel=K)
        fit.append(time.perf_counter() - t0)
        method = fc.method
        t0 = time.perf_counter()
        fc.risk(at, window=window, by_category=True)
        per_window.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        fc.add(new)
        fc.risk(at, window=window, by_category=True)
        incr.append(time.perf_counter() - t0)
    return {
        "graph": f"{copies} disjoint copies of the SF and demo (Helsinki) streets",
        "graph_edges": G.number_of_edges(),
        "segments": len(segs),
        "incidents": len(base),
        "method_chosen": method,
        "kernel_build_s": round(t_kernel, 3),
        "fit_s_median": round(statistics.median(fit), 3),
        "risk_per_window_s_median": round(statistics.median(per_window), 3),
        "add_100_and_risk_s_median": round(statistics.median(incr), 3),
        "repeats": repeats,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--incidents", help="incident CSV (default: SF 2012 Q3 in shared/)")
    ap.add_argument("--osm", help="OSM XML of the city (default: SanFranciscoFiltered.osm)")
    ap.add_argument("--start", default=None, help="first forecast day (default 2012-09-01)")
    ap.add_argument("--end", default=None, help="last forecast day (default 2012-09-30)")
    ap.add_argument("--tz", default=None, help="time zone of the dates")
    ap.add_argument(
        "--columns",
        default="incident_id=incident_num,occurred_at=date",
        help="field=column pairs, comma separated",
    )
    ap.add_argument("--val-weeks", type=int, default=6, help="tuning weeks before --start")
    ap.add_argument("--mirror", action="store_true", help="reverse time (test earlier weeks)")
    ap.add_argument("--demo", action="store_true", help="demo streets, synthetic incidents")
    ap.add_argument("--repeats", type=int, default=3, help="repeats of the timings")
    ap.add_argument("--no-perf", action="store_true", help="skip the performance part")
    args = ap.parse_args()
    if args.demo:
        args.tz = args.tz or "Europe/Helsinki"
        args.start = args.start or "2026-08-01"
        args.end = args.end or "2026-08-31"
    args.tz = args.tz or "America/Los_Angeles"
    args.start = args.start or "2012-09-01"
    args.end = args.end or "2012-09-30"
    figures, G = backtest(args)
    if not args.no_perf:
        if args.demo:
            G = load_graph(shared_dir() / "data" / "osm" / "SanFranciscoFiltered.osm")
        figures["perf"] = perf(G, args.repeats)
        print("\nperformance:", figures["perf"])
    figures["load_avg_1min"] = os.getloadavg()[0]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
