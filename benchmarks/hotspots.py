"""Backtest of the street-network risk model against baselines, and its speed.

Protocol
--------
Data: ``--incidents`` (default ``$PATROL_SHARED_DIR/data/incidents/sf_2012_q3.csv``, SF police
incidents Jul-Sep 2012, date only) on ``--osm`` (default ``SanFranciscoFiltered.osm``). The CSV
is read by ``optimizer.risk.incidents.read_incidents`` (columns ``incident_num`` -> id, ``date`` ->
time, ``category``, ``lon``, ``lat``; duplicates of an incident number dropped), snapped to the
streets of ``optimizer.streets.graph``.

1. **Parameter choice** (validation, never the reported weeks): rolling origin over the
   ``--val-weeks`` 7-day periods before ``--start``; each candidate of a small grid over
   bandwidths, mixing weights and half-life is fitted on everything before each period; the
   candidate with the best mean PAI@5% is chosen.
2. **Test**: rolling origin over the 7-day periods from ``--start`` to ``--end`` (the last may
   be shorter): the chosen model, the library's default parameters, and the baselines (uniform;
   counts of the previous 4 weeks per metre; all earlier counts per metre; planar Gaussian KDE,
   150 m) are each fitted on everything before the period and forecast it. PAI and PEI at 1, 5
   and 10 % of the total street length (``optimizer.evaluate.forecast``), mean over periods.
3. **Performance** (unless ``--no-perf``): a graph of >= 20,000 directed edges (disjoint
   copies of the SF streets and the embedded demo's Helsinki streets), 100,000 incidents on
   its segments over 180 days: kernel build (once per graph and bandwidth), full risk recompute
   (fit + risk of a window, kernel cached), incremental update (add 100 incidents + risk of
   the window);
   median of ``--repeats`` runs.

Run: ``python benchmarks/hotspots.py`` (same command on another city's incidents in the same
columns: ``--incidents F.csv --osm F.osm --start YYYY-MM-DD --end YYYY-MM-DD --tz ZONE``).
Last line of stdout: one JSON object of figures.
"""

from __future__ import annotations

import argparse
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

from optimizer.evaluate.forecast import (  # noqa: E402
    BASELINES,
    Forecaster,
    model_forecaster,
    rolling_backtest,
    summarize,
    weekly_origins,
)
from optimizer.risk.incidents import read_incidents, street_segments  # noqa: E402
from optimizer.risk.model import RiskParams, fit_risk, network_kernel  # noqa: E402
from optimizer.timewindow import TimeWindow  # noqa: E402

GRID: dict[str, tuple[float, ...]] = {
    "bandwidth_m": (60.0, 100.0),
    "wide_bandwidth_m": (250.0, 400.0),
    "local_weight": (0.5, 1.0, 2.0),
    "wide_weight": (2.0, 3.0, 5.0),
    "half_life_days": (60.0, 1000.0),
    "near_repeat_weight": (0.0, 0.1),
}


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


def fmt_table(summary: pd.DataFrame) -> str:
    return summary.to_string(float_format=lambda v: f"{v:7.3f}")


def backtest(args: argparse.Namespace, shared: Path) -> tuple[dict[str, Any], nx.MultiDiGraph]:
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
    start = dt.date.fromisoformat(args.start)
    end = dt.date.fromisoformat(args.end)
    val_start = start - dt.timedelta(days=7 * args.val_weeks)
    val = weekly_origins(val_start, start - dt.timedelta(days=1), args.tz)
    test = weekly_origins(start, end, args.tz)

    # 1. choose parameters on the validation weeks
    t0 = time.perf_counter()
    candidates: dict[str, Forecaster] = {}
    params_of: dict[str, RiskParams] = {}
    keys = list(GRID)
    for values in itertools.product(*GRID.values()):
        p = RiskParams(**dict(zip(keys, values, strict=True)))
        name = "|".join(f"{v:g}" for v in values)
        candidates[name] = model_forecaster(p)
        params_of[name] = p
    val_sum = summarize(rolling_backtest(G, inc, val, candidates))
    best = str(val_sum["pai@5%"].idxmax())
    chosen = params_of[best]
    t_val = time.perf_counter() - t0
    print(
        f"validation ({len(val)} weeks from {val_start}): {len(candidates)} candidates, "
        f"best PAI@5% {val_sum['pai@5%'].max():.3f} with "
        + ", ".join(f"{k}={getattr(chosen, k):g}" for k in keys)
        + f" ({t_val:.0f} s)"
    )

    # 2. test weeks
    forecasters: dict[str, Forecaster] = dict(BASELINES)
    forecasters["model"] = model_forecaster(chosen)
    forecasters["model_defaults"] = model_forecaster(RiskParams())
    res = rolling_backtest(G, inc, test, forecasters)
    summary = summarize(res)
    per_week = res.pivot(index="period", columns="method", values="pai@5%")
    print("\nPAI@5% per test week:")
    print(per_week.to_string(float_format=lambda v: f"{v:6.2f}"))
    print(f"\nmean over {len(test)} weeks from {start} to {end}:")
    print(fmt_table(summary))
    baselines = [b for b in BASELINES]
    margin = float(summary.loc["model", "pai@5%"] - summary.loc[baselines, "pai@5%"].max())
    figures: dict[str, Any] = {
        "incidents": len(inc),
        "test_weeks": len(test),
        "test_incidents": int(res.groupby("period")["n"].first().sum()),
        "chosen_params": {k: getattr(chosen, k) for k in keys},
        "mean": {
            m: {c: round(float(v), 4) for c, v in row.items()} for m, row in summary.iterrows()
        },
        "model_beats_all_baselines_pai5": bool(margin > 0),
        "pai5_margin_over_best_baseline": round(margin, 4),
    }
    return figures, G


def perf(G_sf: nx.MultiDiGraph, repeats: int) -> dict[str, Any]:
    from optimizer.synthetic.demo import demo_graph

    H = demo_graph()
    G = nx.MultiDiGraph(crs=G_sf.graph["crs"])
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
    params = RiskParams()
    t0 = time.perf_counter()
    network_kernel(G, params.bandwidth_m)
    t_kernel = time.perf_counter() - t0
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
    full: list[float] = []
    incr: list[float] = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model = fit_risk(G, base, params)
        model.risk(at, window=window)
        full.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        model.add(new)
        model.risk(at, window=window)
        incr.append(time.perf_counter() - t0)
    return {
        "graph": f"{copies} disjoint copies of the SF and demo (Helsinki) streets",
        "graph_edges": G.number_of_edges(),
        "segments": len(segs),
        "incidents": len(base),
        "kernel_build_s": round(t_kernel, 3),
        "kernel_nnz": int(network_kernel(G, params.bandwidth_m).weights.nnz),
        "full_recompute_s_median": round(statistics.median(full), 3),
        "incremental_100_s_median": round(statistics.median(incr), 3),
        "repeats": repeats,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--incidents", help="incident CSV (default: SF 2012 Q3 in shared/)")
    ap.add_argument("--osm", help="OSM XML of the city (default: SanFranciscoFiltered.osm)")
    ap.add_argument("--start", default="2012-09-01", help="first forecast day")
    ap.add_argument("--end", default="2012-09-30", help="last forecast day")
    ap.add_argument("--tz", default="America/Los_Angeles", help="time zone of the dates")
    ap.add_argument(
        "--columns",
        default="incident_id=incident_num,occurred_at=date",
        help="field=column pairs, comma separated",
    )
    ap.add_argument("--val-weeks", type=int, default=6, help="validation weeks before --start")
    ap.add_argument("--repeats", type=int, default=3, help="repeats of the timings")
    ap.add_argument("--no-perf", action="store_true", help="skip the performance part")
    args = ap.parse_args()
    shared = shared_dir()
    figures, G = backtest(args, shared)
    if not args.no_perf:
        figures["perf"] = perf(G, args.repeats)
        print("\nperformance:", figures["perf"])
    figures["load_avg_1min"] = os.getloadavg()[0]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
